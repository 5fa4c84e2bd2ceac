/**
 * Regulators (监管): people of a park/district authority who read the enterprises in their
 * RegulatorScope and write nothing (issue #3 item 5). A regulator is a Person with the role
 * `regulator` in the authority's own organisation (an Enterprise row standing for the authority);
 * RegulatorScope rows list the enterprises they may read. The API resolves `?enterpriseId=` among
 * them (server/routes/api/registry.ts); the permission table grants them read permissions only.
 *
 * Used by `npm run regulator` (scripts/regulator.ts) and GET /api/v1/me.
 */
import type { PrismaClient } from '../db';
import { AppError, badRequest, notFound } from '../errors';
import type { Actor } from './alert-actions';

const rolesOf = (json: unknown): string[] => (Array.isArray(json) ? json.filter((r): r is string => typeof r === 'string') : []);

/** The person a CLI argument names: a person code (unique across enterprises) or a mobile number. */
export async function findPersonByCodeOrMobile(prisma: PrismaClient, who: string) {
  const select = { id: true, code: true, name: true, mobile: true, roles: true, enterpriseId: true, enterprise: { select: { companyCode: true, name: true } } } as const;
  let people = await prisma.person.findMany({ where: { code: who }, select });
  if (people.length === 0) people = await prisma.person.findMany({ where: { mobile: who }, select });
  if (people.length === 0) throw notFound(`person "${who}"`, `人员「${who}」`);
  if (people.length > 1)
    throw badRequest(
      'ambiguous_person',
      `「${who}」对应多个人员，请改用其他标识`,
      `"${who}" names several people (${people.map((p) => `${p.code} of ${p.enterprise.companyCode}`).join(', ')}); use another identifier`,
    );
  return people[0];
}

export interface RegulatorView {
  personId: number;
  code: string;
  name: string;
  /** the authority the regulator belongs to */
  organisation: { companyCode: string; name: string };
  /** the enterprises they may read */
  scope: Array<{ id: number; companyCode: string; name: string }>;
}

async function regulatorView(prisma: PrismaClient, personId: number): Promise<RegulatorView> {
  const p = await prisma.person.findUniqueOrThrow({
    where: { id: personId },
    select: {
      id: true,
      code: true,
      name: true,
      enterprise: { select: { companyCode: true, name: true } },
      regulatorScopes: { select: { enterprise: { select: { id: true, companyCode: true, name: true } } }, orderBy: { enterpriseId: 'asc' } },
    },
  });
  return { personId: p.id, code: p.code, name: p.name, organisation: p.enterprise, scope: p.regulatorScopes.map((s) => s.enterprise) };
}

/**
 * Makes a person a regulator of the enterprises with these 危化品登记 codes: adds the role
 * `regulator` (their other roles are kept, but grant no writes any more: permissions.ts `can`)
 * and the RegulatorScope rows. Idempotent; all or nothing.
 * @throws AppError 404 unknown person or company code, 400 ambiguous_person / own_enterprise /
 *         no_enterprises
 */
export async function addRegulatorScope(prisma: PrismaClient, who: string, companyCodes: string[]): Promise<RegulatorView & { added: string[] }> {
  if (companyCodes.length === 0) throw badRequest('no_enterprises', '请至少指定一家企业', 'name at least one enterprise (company code)');
  const person = await findPersonByCodeOrMobile(prisma, who);
  const codes = [...new Set(companyCodes)];
  const enterprises = await prisma.enterprise.findMany({ where: { companyCode: { in: codes } }, select: { id: true, companyCode: true } });
  const missing = codes.filter((c) => !enterprises.some((e) => e.companyCode === c));
  if (missing.length) throw new AppError(404, 'not_found', `企业不存在：${missing.join('、')}`, `no enterprise with company code ${missing.join(', ')}`);
  // a regulator of their own organisation would read it with another hat on: not what a scope is for
  if (enterprises.some((e) => e.id === person.enterpriseId))
    throw badRequest('own_enterprise', '监管范围不能包含监管员自己所在的单位', "a regulator's scope cannot include their own organisation");
  const added = await prisma.$transaction(async (tx) => {
    const roles = rolesOf(person.roles);
    if (!roles.includes('regulator')) await tx.person.update({ where: { id: person.id }, data: { roles: [...roles, 'regulator'] } });
    const have = new Set((await tx.regulatorScope.findMany({ where: { personId: person.id }, select: { enterpriseId: true } })).map((s) => s.enterpriseId));
    const fresh = enterprises.filter((e) => !have.has(e.id));
    if (fresh.length) await tx.regulatorScope.createMany({ data: fresh.map((e) => ({ personId: person.id, enterpriseId: e.id })) });
    return fresh.map((e) => e.companyCode);
  });
  return { ...(await regulatorView(prisma, person.id)), added };
}

/**
 * Removes enterprises from a regulator's scope (the role stays: a regulator with an empty scope
 * reads nothing). Idempotent. @throws AppError 404 unknown person, 400 ambiguous_person
 */
export async function removeRegulatorScope(prisma: PrismaClient, who: string, companyCodes: string[]): Promise<RegulatorView & { removed: string[] }> {
  const person = await findPersonByCodeOrMobile(prisma, who);
  const enterprises = await prisma.enterprise.findMany({ where: { companyCode: { in: companyCodes } }, select: { id: true, companyCode: true } });
  const where = { personId: person.id, enterpriseId: { in: enterprises.map((e) => e.id) } };
  const removed = await prisma.$transaction(async (tx) => {
    const had = new Set((await tx.regulatorScope.findMany({ where, select: { enterpriseId: true } })).map((s) => s.enterpriseId));
    await tx.regulatorScope.deleteMany({ where });
    return enterprises.filter((e) => had.has(e.id)).map((e) => e.companyCode);
  });
  return { ...(await regulatorView(prisma, person.id)), removed };
}

/** Every person holding the regulator role, with their scope (for `npm run regulator -- list`). */
export async function listRegulators(prisma: PrismaClient): Promise<RegulatorView[]> {
  const people = await prisma.person.findMany({ select: { id: true, roles: true }, orderBy: { id: 'asc' } });
  const ids = people.filter((p) => rolesOf(p.roles).includes('regulator')).map((p) => p.id);
  return Promise.all(ids.map((id) => regulatorView(prisma, id)));
}

export interface MeView {
  person: { id: number; code: string; name: string; roles: string[]; post: { id: number; name: string } | null; department: { id: number; name: string } | null };
  enterprise: { id: number; companyCode: string; name: string; timezone: string };
  /** the enterprises this person may read with `?enterpriseId=` (their own first; regulators: their scope) */
  readable: Array<{ id: number; companyCode: string; name: string }>;
}

/** GET /me: who the token belongs to and which enterprises they may read. */
export async function whoAmI(prisma: PrismaClient, actor: Actor): Promise<MeView> {
  const p = await prisma.person.findUniqueOrThrow({
    where: { id: actor.personId },
    select: {
      id: true,
      code: true,
      name: true,
      post: { select: { id: true, name: true } },
      department: { select: { id: true, name: true } },
      enterprise: { select: { id: true, companyCode: true, name: true, timezone: true } },
    },
  });
  const scope = actor.scope?.length
    ? await prisma.enterprise.findMany({ where: { id: { in: actor.scope } }, select: { id: true, companyCode: true, name: true }, orderBy: { id: 'asc' } })
    : [];
  const own = { id: p.enterprise.id, companyCode: p.enterprise.companyCode, name: p.enterprise.name };
  return {
    person: { id: p.id, code: p.code, name: p.name, roles: actor.roles, post: p.post, department: p.department },
    enterprise: p.enterprise,
    readable: [own, ...scope.filter((e) => e.id !== own.id)],
  };
}
