/**
 * Loads the people around an alert subject (check task, hazard, check record) and the holders of
 * enterprise-wide duties, for server/domain/recipients.ts to resolve policy roles.
 *
 * Everything loads for a set of subjects at once (the engine's tick works a batch of up to
 * TICK_BATCH rows in one transaction): a handful of queries per batch, whatever its size. The
 * one-subject functions used by services are the same code with a set of one.
 */
import type { Prisma } from '../db';
import type { RoleHolders, SubjectPeople } from '../domain/recipients';

type Tx = Prisma.TransactionClient;

const nn = (x: number | null | undefined): number[] => (x == null ? [] : [x]);
const unique = <T>(xs: Iterable<T>): T[] => [...new Set(xs)];

function rolesOf(json: unknown): string[] {
  return Array.isArray(json) ? json.filter((r): r is string => typeof r === 'string') : [];
}

/** People holding 主要负责人 / 技术负责人 / 安全管理部门 / 安全总监 duties in an enterprise. */
export async function loadRoleHolders(tx: Tx, enterpriseId: number): Promise<RoleHolders> {
  return (await loadRoleHoldersOf(tx, [enterpriseId])).get(enterpriseId)!;
}

/** loadRoleHolders for several enterprises in one query: enterprise id → holders (every id given has an entry). */
export async function loadRoleHoldersOf(tx: Tx, enterpriseIds: number[]): Promise<Map<number, RoleHolders>> {
  const ids = unique(enterpriseIds);
  const people = ids.length ? await tx.person.findMany({ where: { enterpriseId: { in: ids }, active: true }, select: { id: true, enterpriseId: true, roles: true }, orderBy: { id: 'asc' } }) : [];
  const out = new Map<number, RoleHolders>();
  for (const e of ids) {
    const mine = people.filter((p) => p.enterpriseId === e);
    const having = (role: string) => mine.filter((p) => rolesOf(p.roles).includes(role)).map((p) => p.id);
    out.set(e, { principal: having('principal'), technicalHead: having('technical_head'), safetyDept: having('safety_dept'), safetyDirector: having('safety_director') });
  }
  return out;
}

/** Active people of each post, by id: post id → person ids (posts without anyone are absent). */
async function peopleOfPosts(tx: Tx, postIds: number[]): Promise<Map<number, number[]>> {
  const out = new Map<number, number[]>();
  const ids = unique(postIds);
  if (!ids.length) return out;
  for (const p of await tx.person.findMany({ where: { postId: { in: ids }, active: true }, select: { id: true, postId: true }, orderBy: { id: 'asc' } })) {
    out.set(p.postId!, [...(out.get(p.postId!) ?? []), p.id]);
  }
  return out;
}

/** A department walk gives up after this many steps (a cycle in the tree must not hang the engine). */
const MAX_DEPARTMENT_DEPTH = 10;

/**
 * Head of each department, walking up to the parent when a department has none; [] when no
 * department up the tree has one. One query per level of the tree for all the departments at once.
 * @returns a lookup department id (or null / undefined: no department → []) → [head person id] or [].
 */
async function departmentHeads(tx: Tx, departmentIds: Array<number | null | undefined>): Promise<(departmentId: number | null | undefined) => number[]> {
  const known = new Map<number, { headPersonId: number | null; parentId: number | null } | null>();
  /** the head, or the next department to load */
  const walk = (start: number | null | undefined): number[] | { load: number } => {
    let id = start ?? null;
    for (let depth = 0; id !== null && depth < MAX_DEPARTMENT_DEPTH; depth++) {
      if (!known.has(id)) return { load: id };
      const d = known.get(id);
      if (!d) return [];
      if (d.headPersonId !== null) return [d.headPersonId];
      id = d.parentId;
    }
    return [];
  };
  for (let round = 0; round < MAX_DEPARTMENT_DEPTH; round++) {
    const load = unique(departmentIds.map(walk).flatMap((w) => ('load' in w ? [w.load] : [])));
    if (!load.length) break;
    const rows = await tx.department.findMany({ where: { id: { in: load } }, select: { id: true, headPersonId: true, parentId: true } });
    for (const id of load) known.set(id, null);
    for (const r of rows) known.set(r.id, { headPersonId: r.headPersonId, parentId: r.parentId });
  }
  return (id) => {
    const w = walk(id);
    return Array.isArray(w) ? w : [];
  };
}

const unitSelect = {
  id: true,
  name: true,
  headPersonId: true,
  departmentId: true,
  riskObject: { select: { majorHazardSource: { select: { principalId: true, technicalId: true, operationalId: true } } } },
} as const;

const taskInclude = {
  post: { select: { id: true, name: true, departmentId: true, leaderPostId: true } },
  person: { select: { id: true, name: true } },
  majorHazardSource: { select: { name: true, principalId: true, technicalId: true, operationalId: true } },
  controlMeasure: { select: { description: true, riskEvent: { select: { riskUnit: { select: unitSelect } } } } },
} as const;

/** A check task with what describes it, and the people its alerts address. */
export interface TaskSubject {
  task: Prisma.CheckTaskGetPayload<{ include: typeof taskInclude }>;
  unitName: string | null;
  people: SubjectPeople;
}

/** Everything needed to address and describe a check task's alerts. @throws when the task does not exist */
export async function loadTaskSubject(tx: Tx, checkTaskId: number): Promise<TaskSubject> {
  const s = (await loadTaskSubjects(tx, [checkTaskId])).get(checkTaskId);
  if (!s) throw new Error(`CheckTask ${checkTaskId} not found`);
  return s;
}

/**
 * loadTaskSubject for several tasks: check task id → subject (tasks that do not exist are absent).
 * Assignee = the task's person, else the active people of its post; post leader = the active people
 * of the post's leader post; department head = the risk unit's head, else the head of the unit's
 * (or the post's) department up the tree; 重大危险源 = the task's (包保), else its unit's.
 */
export async function loadTaskSubjects(tx: Tx, checkTaskIds: number[]): Promise<Map<number, TaskSubject>> {
  const out = new Map<number, TaskSubject>();
  const ids = unique(checkTaskIds);
  if (!ids.length) return out;
  const tasks = await tx.checkTask.findMany({ where: { id: { in: ids } }, include: taskInclude });
  const unitOf = (t: (typeof tasks)[number]) => t.controlMeasure?.riskEvent.riskUnit ?? null;
  const posts = await peopleOfPosts(tx, [
    ...tasks.filter((t) => t.personId === null && t.postId !== null).map((t) => t.postId!),
    ...tasks.flatMap((t) => nn(t.post?.leaderPostId)),
  ]);
  const deptOf = (t: (typeof tasks)[number]) => unitOf(t)?.departmentId ?? t.post?.departmentId;
  const heads = await departmentHeads(tx, tasks.filter((t) => unitOf(t)?.headPersonId == null).map(deptOf));
  for (const task of tasks) {
    const unit = unitOf(task);
    const mhs = task.majorHazardSource ?? unit?.riskObject.majorHazardSource ?? null;
    const people: SubjectPeople = {
      assignee: task.personId !== null ? [task.personId] : task.postId !== null ? (posts.get(task.postId) ?? []) : [],
      postLeader: task.post?.leaderPostId != null ? (posts.get(task.post.leaderPostId) ?? []) : [],
      departmentHead: unit?.headPersonId != null ? [unit.headPersonId] : heads(deptOf(task)),
      rectifier: [],
      acceptor: [],
      reporter: [],
      mhs: mhs ? { principal: mhs.principalId, technical: mhs.technicalId, operational: mhs.operationalId } : null,
      baobao: task.workType >= 1 && task.workType <= 3,
    };
    out.set(task.id, { task, unitName: unit?.name ?? task.majorHazardSource?.name ?? null, people });
  }
  return out;
}

const hazardInclude = {
  riskUnit: { select: unitSelect },
  rectifier: { select: { name: true } },
  acceptor: { select: { name: true } },
} as const;

/** A hazard with what describes it, and the people its alerts address. */
export interface HazardSubject {
  hazard: Prisma.HazardGetPayload<{ include: typeof hazardInclude }>;
  unitName: string | null;
  people: SubjectPeople;
}

/** Everything needed to address and describe a hazard's alerts. @throws when the hazard does not exist */
export async function loadHazardSubject(tx: Tx, hazardId: number): Promise<HazardSubject> {
  const s = (await loadHazardSubjects(tx, [hazardId])).get(hazardId);
  if (!s) throw new Error(`Hazard ${hazardId} not found`);
  return s;
}

/**
 * loadHazardSubject for several hazards: hazard id → subject (hazards that do not exist are absent).
 * Assignee and rectifier = the rectifier; department head = the risk unit's head, else the head of
 * its department up the tree; 重大危险源 = the unit's.
 */
export async function loadHazardSubjects(tx: Tx, hazardIds: number[]): Promise<Map<number, HazardSubject>> {
  const out = new Map<number, HazardSubject>();
  const ids = unique(hazardIds);
  if (!ids.length) return out;
  const hazards = await tx.hazard.findMany({ where: { id: { in: ids } }, include: hazardInclude });
  const heads = await departmentHeads(tx, hazards.filter((h) => h.riskUnit?.headPersonId == null).map((h) => h.riskUnit?.departmentId));
  for (const hazard of hazards) {
    const unit = hazard.riskUnit;
    const mhs = unit?.riskObject.majorHazardSource ?? null;
    const people: SubjectPeople = {
      assignee: nn(hazard.rectifierId),
      postLeader: [],
      departmentHead: unit?.headPersonId != null ? [unit.headPersonId] : heads(unit?.departmentId),
      rectifier: nn(hazard.rectifierId),
      acceptor: nn(hazard.acceptorId),
      reporter: [hazard.reporterId],
      mhs: mhs ? { principal: mhs.principalId, technical: mhs.technicalId, operational: mhs.operationalId } : null,
      baobao: false,
    };
    out.set(hazard.id, { hazard, unitName: unit?.name ?? null, people });
  }
  return out;
}
