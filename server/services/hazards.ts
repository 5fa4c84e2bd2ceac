/**
 * The minimum hazard loop the demo needs (issue #2): confirm (rectifier, acceptor, deadline),
 * rectify, accept or send back. Each transition is logged (who, when, comment) and hands the
 * hazard back to the engine (nextCheckAt = now) so its alerts follow the new state. Acceptance
 * (and only acceptance, issue #2) ends the hazard's alerts, in the same transaction.
 */
import type { PrismaClient, Prisma } from '../db';
import type { Clock } from '../clock';
import { badRequest, conflict, forbidden, notFound } from '../errors';
import { HAZARD_STATE_NAMES, nextHazardState, type HazardAction, type HazardState } from '../domain/hazard-state';
import { endOfLocalDay, isLocalDate } from '../domain/time';
import { clearAlertsFor } from './alerts';
import type { Actor } from './alert-actions';
import { isSuperiorOf, loadOrg } from './org';

const OVERSIGHT = ['safety_dept', 'safety_director', 'principal', 'enterprise_admin'];

async function loadHazard(prisma: PrismaClient, actor: Actor, hazardId: number) {
  const h = await prisma.hazard.findUnique({ where: { id: hazardId }, include: { enterprise: { select: { timezone: true } } } });
  if (!h || h.enterpriseId !== actor.enterpriseId) throw notFound('hazard', '隐患');
  if (actor.roles.includes('regulator')) throw forbidden('监管账号只读', 'regulator accounts are read-only');
  return h;
}

/** The actor is `personId`, leads them, or holds an oversight role. */
async function mayActFor(prisma: PrismaClient, actor: Actor, personId: number | null): Promise<boolean> {
  if (actor.roles.some((r) => OVERSIGHT.includes(r))) return true;
  if (personId === null) return false;
  if (personId === actor.personId) return true;
  return isSuperiorOf(await loadOrg(prisma, actor.enterpriseId), actor.personId, personId);
}

async function transition(
  prisma: PrismaClient,
  clock: Clock,
  actor: Actor,
  h: { id: number; state: string },
  action: HazardAction,
  // unchecked (scalar foreign keys): updateMany cannot take relation `connect`s
  data: Prisma.HazardUncheckedUpdateManyInput,
  comment: string | undefined,
  clearKinds: Parameters<typeof clearAlertsFor>[1]['kinds'],
  clearReason: string,
) {
  const from = h.state as HazardState;
  const to = nextHazardState(from, action);
  if (!to) throw conflict('invalid_transition', `隐患当前为「${HAZARD_STATE_NAMES[from]}」，不能执行此操作`, `cannot ${action} a hazard in state ${from}`);
  const now = clock.now();
  return prisma.$transaction(async (tx) => {
    // the state in the WHERE makes a concurrent second transition fail instead of applying twice
    const { count } = await tx.hazard.updateMany({ where: { id: h.id, state: from }, data: { ...data, state: to, nextCheckAt: now } });
    if (count === 0) throw conflict('state_changed', '隐患状态已被他人更新，请刷新后重试', 'hazard state changed meanwhile; reload and retry');
    await tx.hazardTransition.create({ data: { hazardId: h.id, action, fromState: from, toState: to, actorId: actor.personId, comment: comment?.slice(0, 1024) ?? null, at: now } });
    if (clearKinds.length) await clearAlertsFor(tx, { subjectType: 'hazard', subjectId: h.id, kinds: clearKinds, now, clearKind: 'condition_ended', reason: clearReason, actorId: actor.personId, channel: 'api' });
    return { hazardId: h.id, state: to };
  });
}

export interface ConfirmInput {
  rectifierId: number;
  acceptorId: number;
  /** local date 'YYYY-MM-DD'; the deadline is the end of that day in the enterprise's zone */
  deadlineDate: string;
  dangerLevel?: 0 | 1;
  comment?: string;
}

/** 确认隐患: assigns rectifier, acceptor and deadline. @throws 400 invalid_deadline / unknown_person, 403, 404, 409 */
export async function confirmHazard(prisma: PrismaClient, clock: Clock, actor: Actor, hazardId: number, input: ConfirmInput) {
  const h = await loadHazard(prisma, actor, hazardId);
  if (!actor.roles.some((r) => [...OVERSIGHT, 'department_head', 'technical_head', 'operational_head'].includes(r)))
    throw forbidden('只有部门负责人或安全管理人员可以确认隐患', 'only department heads or safety staff may confirm hazards');
  if (!isLocalDate(input.deadlineDate)) throw badRequest('invalid_deadline', '整改期限须为 YYYY-MM-DD 日期', 'deadlineDate must be a date YYYY-MM-DD');
  const people = await prisma.person.count({ where: { id: { in: [input.rectifierId, input.acceptorId] }, enterpriseId: actor.enterpriseId, active: true } });
  if (people !== new Set([input.rectifierId, input.acceptorId]).size) throw badRequest('unknown_person', '整改责任人或验收人不存在', 'rectifier or acceptor not found in this enterprise');
  return transition(
    prisma,
    clock,
    actor,
    h,
    'confirm',
    {
      // scalar ids, not `rectifier: { connect }`: transition() writes with updateMany, which
      // rejects relation inputs (every confirm failed with a PrismaClientValidationError → 500)
      rectifierId: input.rectifierId,
      acceptorId: input.acceptorId,
      deadlineDate: input.deadlineDate,
      deadlineAt: endOfLocalDay(input.deadlineDate, h.enterprise.timezone),
      confirmedAt: clock.now(),
      ...(input.dangerLevel !== undefined ? { dangerLevel: input.dangerLevel } : {}),
    },
    input.comment,
    [],
    '',
  );
}

/** 整改完成: the rectifier (or their superior) reports the fix; the hazard waits for acceptance. */
export async function rectifyHazard(prisma: PrismaClient, clock: Clock, actor: Actor, hazardId: number, input: { measures: string; cost?: number; comment?: string }) {
  const h = await loadHazard(prisma, actor, hazardId);
  if (!(await mayActFor(prisma, actor, h.rectifierId))) throw forbidden('只有整改责任人或其上级可以提交整改', 'only the rectifier or their superior may rectify');
  if (!input.measures?.trim()) throw badRequest('measures_required', '请填写整改措施', 'measures are required');
  // due-soon/overdue alerts stay open until acceptance: the hazard is not closed until accepted
  return transition(prisma, clock, actor, h, 'rectify', { measures: input.measures.trim(), cost: input.cost ?? undefined, rectifiedAt: clock.now() }, input.comment, [], '');
}

/** 验收: the acceptor closes the hazard; every alert on it clears. */
export async function acceptHazard(prisma: PrismaClient, clock: Clock, actor: Actor, hazardId: number, input: { comment?: string }) {
  const h = await loadHazard(prisma, actor, hazardId);
  if (!(await mayActFor(prisma, actor, h.acceptorId))) throw forbidden('只有验收人可以验收', 'only the acceptor may accept');
  return transition(
    prisma,
    clock,
    actor,
    h,
    'accept',
    { acceptedAt: clock.now(), acceptComment: input.comment?.slice(0, 512) ?? null },
    input.comment,
    ['hazard_due_soon', 'hazard_overdue', 'major_hazard', 'hazard_late_entry'],
    '隐患已验收销号',
  );
}

/** 退回: the acceptor sends the hazard back to rectifying (comment required). */
export async function sendBackHazard(prisma: PrismaClient, clock: Clock, actor: Actor, hazardId: number, input: { comment: string }) {
  const h = await loadHazard(prisma, actor, hazardId);
  if (!(await mayActFor(prisma, actor, h.acceptorId))) throw forbidden('只有验收人可以退回', 'only the acceptor may send back');
  if (!input.comment?.trim()) throw badRequest('comment_required', '请填写退回原因', 'a comment is required');
  return transition(prisma, clock, actor, h, 'send_back', {}, input.comment.trim(), [], '');
}

/** A hazard with its transition log (actor names), for the API and pages. */
export async function getHazardView(prisma: PrismaClient, actor: Actor, hazardId: number) {
  const h = await prisma.hazard.findUnique({
    where: { id: hazardId },
    include: { transitions: { orderBy: [{ at: 'asc' }, { id: 'asc' }], include: { actor: { select: { id: true, name: true } } } } },
  });
  if (!h || (h.enterpriseId !== actor.enterpriseId && !actor.roles.includes('regulator'))) throw notFound('hazard', '隐患');
  return h;
}
