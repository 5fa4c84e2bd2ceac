/**
 * Loads the people around an alert subject (check task, hazard, check record) and the holders of
 * enterprise-wide duties, for server/domain/recipients.ts to resolve policy roles.
 */
import type { Prisma } from '../db';
import type { RoleHolders, SubjectPeople } from '../domain/recipients';

type Tx = Prisma.TransactionClient;

const ids = (rows: Array<{ id: number }>) => rows.map((r) => r.id);
const nn = (x: number | null | undefined): number[] => (x == null ? [] : [x]);

function rolesOf(json: unknown): string[] {
  return Array.isArray(json) ? json.filter((r): r is string => typeof r === 'string') : [];
}

/** People holding 主要负责人 / 技术负责人 / 安全管理部门 / 安全总监 duties in an enterprise. */
export async function loadRoleHolders(tx: Tx, enterpriseId: number): Promise<RoleHolders> {
  const people = await tx.person.findMany({ where: { enterpriseId, active: true }, select: { id: true, roles: true }, orderBy: { id: 'asc' } });
  const having = (role: string) => people.filter((p) => rolesOf(p.roles).includes(role)).map((p) => p.id);
  return {
    principal: having('principal'),
    technicalHead: having('technical_head'),
    safetyDept: having('safety_dept'),
    safetyDirector: having('safety_director'),
  };
}

/** Head of a department, walking up to the parent when a department has none. */
async function departmentHead(tx: Tx, departmentId: number | null | undefined): Promise<number[]> {
  let id = departmentId ?? null;
  for (let depth = 0; id !== null && depth < 10; depth++) {
    const d = await tx.department.findUnique({ where: { id }, select: { headPersonId: true, parentId: true } });
    if (!d) return [];
    if (d.headPersonId !== null) return [d.headPersonId];
    id = d.parentId;
  }
  return [];
}

const unitSelect = {
  id: true,
  name: true,
  headPersonId: true,
  departmentId: true,
  riskObject: { select: { majorHazardSource: { select: { principalId: true, technicalId: true, operationalId: true } } } },
} as const;

/** Everything needed to address and describe a check task's alerts. */
export async function loadTaskSubject(tx: Tx, checkTaskId: number) {
  const task = await tx.checkTask.findUniqueOrThrow({
    where: { id: checkTaskId },
    include: {
      post: { select: { id: true, name: true, departmentId: true, leaderPostId: true } },
      person: { select: { id: true, name: true } },
      majorHazardSource: { select: { name: true, principalId: true, technicalId: true, operationalId: true } },
      controlMeasure: { select: { description: true, riskEvent: { select: { riskUnit: { select: unitSelect } } } } },
    },
  });
  const unit = task.controlMeasure?.riskEvent.riskUnit ?? null;
  const assignee = task.personId !== null ? [task.personId] : task.postId !== null ? ids(await tx.person.findMany({ where: { postId: task.postId, active: true }, select: { id: true }, orderBy: { id: 'asc' } })) : [];
  const postLeader =
    task.post?.leaderPostId != null ? ids(await tx.person.findMany({ where: { postId: task.post.leaderPostId, active: true }, select: { id: true }, orderBy: { id: 'asc' } })) : [];
  const departmentHeadIds = unit?.headPersonId != null ? [unit.headPersonId] : await departmentHead(tx, unit?.departmentId ?? task.post?.departmentId);
  const mhs = task.majorHazardSource ?? unit?.riskObject.majorHazardSource ?? null;
  const people: SubjectPeople = {
    assignee,
    postLeader,
    departmentHead: departmentHeadIds,
    rectifier: [],
    acceptor: [],
    reporter: [],
    mhs: mhs ? { principal: mhs.principalId, technical: mhs.technicalId, operational: mhs.operationalId } : null,
    baobao: task.workType >= 1 && task.workType <= 3,
  };
  return {
    task,
    unitName: unit?.name ?? task.majorHazardSource?.name ?? null,
    people,
  };
}

/** Everything needed to address and describe a hazard's alerts. */
export async function loadHazardSubject(tx: Tx, hazardId: number) {
  const hazard = await tx.hazard.findUniqueOrThrow({
    where: { id: hazardId },
    include: {
      riskUnit: { select: unitSelect },
      rectifier: { select: { name: true } },
      acceptor: { select: { name: true } },
    },
  });
  const unit = hazard.riskUnit;
  const mhs = unit?.riskObject.majorHazardSource ?? null;
  const people: SubjectPeople = {
    assignee: nn(hazard.rectifierId),
    postLeader: [],
    departmentHead: unit?.headPersonId != null ? [unit.headPersonId] : await departmentHead(tx, unit?.departmentId),
    rectifier: nn(hazard.rectifierId),
    acceptor: nn(hazard.acceptorId),
    reporter: [hazard.reporterId],
    mhs: mhs ? { principal: mhs.principalId, technical: mhs.technicalId, operational: mhs.operationalId } : null,
    baobao: false,
  };
  return { hazard, unitName: unit?.name ?? null, people };
}
