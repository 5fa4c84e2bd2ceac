/**
 * `npm run permissions-table`: prints the README's roles-and-permissions table, generated from the
 * permission table (server/domain/permissions.ts) and the API routes that need each permission
 * (server/routes/api/index.ts). test/unit/permissions-readme.test.ts fails when README.md's copy
 * (between the `permissions:start` / `permissions:end` markers) differs: paste the output there.
 */
import { buildApiRegistry } from '../server/routes/api/index';
import { PERMISSIONS, can, isWritePermission, type Permission } from '../server/domain/permissions';
import { PERSON_ROLES, type PersonRole } from '../server/domain/roles';

/** 中文 names of the person roles, for the table's header. */
export const PERSON_ROLE_NAMES: Record<PersonRole, string> = {
  frontline: '一线员工',
  post_leader: '班组长',
  department_head: '部门负责人',
  safety_dept: '安全管理部门',
  safety_director: '安全总监',
  principal: '主要负责人',
  technical_head: '技术负责人',
  operational_head: '操作负责人',
  enterprise_admin: '企业管理员',
  regulator: '监管',
};

/** The markdown table: one row per permission, ✓ per role holding it, and the routes needing it. */
export function permissionsMarkdown(): string {
  const routes = buildApiRegistry().routes;
  const header = `| permission | ${PERSON_ROLES.map((r) => `${PERSON_ROLE_NAMES[r]}<br>\`${r}\``).join(' | ')} | API routes |`;
  const rule = `|---|${PERSON_ROLES.map(() => ':-:').join('|')}|---|`;
  const rows = (Object.keys(PERMISSIONS) as Permission[]).map((p) => {
    const used = routes.filter((r) => r.permission === p).map((r) => `\`${r.method.toUpperCase()} ${r.path}\``);
    const name = `\`${p}\`${isWritePermission(p) ? ' (write)' : ''}`;
    return `| ${name} | ${PERSON_ROLES.map((r) => (can([r], p) ? '✓' : '')).join(' | ')} | ${used.join(', ') || '—'} |`;
  });
  return [header, rule, ...rows].join('\n');
}

if (require.main === module) process.stdout.write(`${permissionsMarkdown()}\n`);
