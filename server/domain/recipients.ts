/**
 * Who a recipient role means for one alert subject (roles.ts documents each role).
 * Pure: the caller loads the subject's people (server/services/subjects.ts).
 */
import type { RecipientRole } from './roles';

/** The people around one alert subject (a check task or a hazard), as person ids. */
export interface SubjectPeople {
  assignee: number[];
  postLeader: number[];
  departmentHead: number[];
  rectifier: number[];
  acceptor: number[];
  reporter: number[];
  /** the subject's 重大危险源, when it belongs to one */
  mhs: { principal: number | null; technical: number | null; operational: number | null } | null;
  /** a 包保 task (workType 1..3): policies may name other roles for it */
  baobao: boolean;
}

/** People holding enterprise-wide duties (Person.roles), as person ids. */
export interface RoleHolders {
  principal: number[];
  technicalHead: number[];
  safetyDept: number[];
  safetyDirector: number[];
}

const nn = (x: number | null | undefined): number[] => (x == null ? [] : [x]);

/** Person ids for one role; [] when nobody holds it (the caller reports the gap, never drops it). */
export function resolveRole(role: RecipientRole, s: SubjectPeople, h: RoleHolders): number[] {
  switch (role) {
    case 'assignee':
      return s.assignee;
    case 'post_leader':
      return s.postLeader;
    case 'department_head':
      return s.departmentHead;
    case 'rectifier':
      return s.rectifier;
    case 'acceptor':
      return s.acceptor;
    case 'reporter':
      return s.reporter;
    case 'mhs_responsible':
      return s.mhs ? [...nn(s.mhs.principal), ...nn(s.mhs.technical), ...nn(s.mhs.operational)] : [];
    case 'principal':
      return s.mhs?.principal != null ? [s.mhs.principal] : h.principal;
    case 'technical_head':
      return s.mhs?.technical != null ? [s.mhs.technical] : h.technicalHead;
    case 'safety_dept':
      return h.safetyDept;
    case 'safety_director':
      return h.safetyDirector;
  }
}

/**
 * Resolves the roles of each level into person ids.
 * @returns per level (index 0 = level 1): the ids added at that level, without people already
 *   named at a lower level, and the roles that resolved to nobody.
 */
export function resolveLevels(
  levelRoles: RecipientRole[][],
  s: SubjectPeople,
  h: RoleHolders,
): { levels: number[][]; unresolved: Array<{ level: number; role: RecipientRole }> } {
  const seen = new Set<number>();
  const unresolved: Array<{ level: number; role: RecipientRole }> = [];
  const levels = levelRoles.map((roles, i) => {
    const ids: number[] = [];
    for (const r of roles) {
      const found = resolveRole(r, s, h);
      if (found.length === 0) unresolved.push({ level: i + 1, role: r });
      for (const id of found) if (!seen.has(id)) (seen.add(id), ids.push(id));
    }
    return ids;
  });
  return { levels, unresolved };
}
