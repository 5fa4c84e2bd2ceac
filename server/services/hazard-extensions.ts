/**
 * 延期 (extension of a hazard's rectification deadline): request → approve or reject.
 *
 * - Requested by the rectifier (or a superior / oversight role) while the hazard is being rectified,
 *   for a date after the current deadline and not in the past; one pending request per hazard (409).
 * - Decided by the right role (server/domain/hazard-rules.ts extensionDecisionDenied: 一般隐患 — the
 *   unit's department head, safety department/director, 主要负责人; 重大隐患 — the 主要负责人 only;
 *   never the requester).
 * - Approval moves deadlineDate/deadlineAt (end of the local day), logs `extend`, hands the hazard to
 *   the engine (nextCheckAt = now) and, in the same transaction, clears the overdue alert when the
 *   new deadline is in the future and the due-soon alert when the new deadline is not near any more
 *   (the engine re-opens whatever still holds at its next tick). Rejection logs
 *   `extension_reject` and leaves the deadline and the alerts as they were.
 */
import { Prisma, type PrismaClient } from '../db';
import type { Clock } from '../clock';
import { badRequest, conflict, forbidden, notFound } from '../errors';
import { nextHazardState, type HazardState } from '../domain/hazard-state';
import { extensionDateProblem, extensionDecisionDenied } from '../domain/hazard-rules';
import { hazardDueSoonAt } from '../domain/escalation';
import { endOfLocalDay, localDateOf } from '../domain/time';
import { clearAlertsFor, loadPolicy } from './alerts';
import type { Actor } from './alert-actions';
import { loadOrg, isSuperiorOf } from './org';
import { headsUnit, logStep, OVERSIGHT, violation } from './hazards';
import { clipChars } from '../../miniprogram/shared/contract';

type Tx = Prisma.TransactionClient;

async function loadForExtension(prisma: PrismaClient, actor: Actor, hazardId: number) {
  const h = await prisma.hazard.findUnique({
    where: { id: hazardId },
    include: { enterprise: { select: { timezone: true } }, riskUnit: { select: { headPersonId: true, departmentId: true } } },
  });
  if (!h || h.enterpriseId !== actor.enterpriseId) throw notFound('hazard', '隐患');
  if (actor.roles.includes('regulator')) throw forbidden('监管账号只读', 'regulator accounts are read-only');
  return h;
}

/** Locks the hazard row for the rest of the transaction (serialises requests and decisions). */
async function lockHazard(tx: Tx, hazardId: number): Promise<{ state: string; deadlineDate: string | null }> {
  const rows = await tx.$queryRaw<Array<{ state: string; deadlineDate: string | null }>>(Prisma.sql`SELECT state, deadlineDate FROM Hazard WHERE id = ${hazardId} FOR UPDATE`);
  return rows[0];
}

const stateChanged = () => conflict('state_changed', '隐患状态已被他人更新，请刷新后重试', 'hazard state changed meanwhile; reload and retry');

/**
 * 申请延期 (POST /hazards/:id/extensions). @param input.requestedDate local date YYYY-MM-DD
 * @returns { extensionId, state: 'pending', fromDeadlineDate, requestedDate }
 * @throws 400 reason_required / invalid_date / no_deadline / extension_not_later / extension_in_past,
 *         403 (not the rectifier or their superior), 404, 409 invalid_transition / extension_pending
 */
export async function requestExtension(prisma: PrismaClient, clock: Clock, actor: Actor, hazardId: number, input: { requestedDate: string; reason: string }) {
  const h = await loadForExtension(prisma, actor, hazardId);
  if (!nextHazardState(h.state as HazardState, 'extension_request'))
    throw conflict('invalid_transition', '只有整改中的隐患可以申请延期', `an extension can only be requested while rectifying (state is ${h.state})`);
  const allowed =
    h.rectifierId === actor.personId ||
    actor.roles.some((r) => OVERSIGHT.includes(r)) ||
    (h.rectifierId !== null && isSuperiorOf(await loadOrg(prisma, actor.enterpriseId), actor.personId, h.rectifierId));
  if (!allowed) throw forbidden('只有整改责任人或其上级可以申请延期', 'only the rectifier or their superior may request an extension');
  const reason = input.reason?.trim();
  if (!reason) throw badRequest('reason_required', '请填写延期理由', 'a reason is required');
  const now = clock.now();
  const today = localDateOf(now, h.enterprise.timezone);
  const p = extensionDateProblem(input.requestedDate, h.deadlineDate, today);
  if (p) throw violation(p);

  return prisma.$transaction(async (tx) => {
    const locked = await lockHazard(tx, h.id);
    if (locked.state !== h.state || locked.deadlineDate !== h.deadlineDate) throw stateChanged();
    const pending = await tx.hazardExtension.findFirst({ where: { hazardId: h.id, state: 'pending' }, select: { id: true } });
    if (pending) throw conflict('extension_pending', '已有待审批的延期申请，请等待审批结果', `extension request #${pending.id} is still waiting for a decision`);
    const ext = await tx.hazardExtension.create({
      data: { hazardId: h.id, requestedById: actor.personId, fromDeadlineDate: h.deadlineDate, requestedDate: input.requestedDate, reason: clipChars(reason, 1024), state: 'pending', createdAt: now },
    });
    await logStep(tx, h.id, 'extension_request', h.state as HazardState, h.state as HazardState, actor.personId, now, {
      comment: reason,
      data: { extensionId: ext.id, fromDeadlineDate: h.deadlineDate, requestedDate: input.requestedDate },
    });
    return { extensionId: ext.id, state: 'pending' as const, fromDeadlineDate: h.deadlineDate, requestedDate: input.requestedDate };
  });
}

async function loadDecision(prisma: PrismaClient, actor: Actor, hazardId: number, extensionId: number) {
  const h = await loadForExtension(prisma, actor, hazardId);
  const ext = await prisma.hazardExtension.findUnique({ where: { id: extensionId } });
  if (!ext || ext.hazardId !== h.id) throw notFound('extension request', '延期申请');
  if (ext.state !== 'pending') throw conflict('extension_decided', '该延期申请已处理', `extension request is already ${ext.state}`);
  const org = await loadOrg(prisma, actor.enterpriseId);
  const denied = extensionDecisionDenied({ dangerLevel: h.dangerLevel, roles: actor.roles, actorId: actor.personId, requesterId: ext.requestedById, headsUnit: headsUnit(org, actor.personId, h.riskUnit) });
  if (denied) throw violation(denied, 403);
  return { h, ext };
}

/**
 * 批准延期 (POST /hazards/:id/extensions/:extId/approve).
 * @returns { extensionId, state: 'approved', deadlineDate, deadlineAt, clearedAlerts }
 * @throws 403 own_request / principal_only / not_decider, 404, 409 extension_decided / invalid_transition / state_changed
 */
export async function approveExtension(prisma: PrismaClient, clock: Clock, actor: Actor, hazardId: number, extensionId: number, input: { comment?: string }) {
  const { h, ext } = await loadDecision(prisma, actor, hazardId, extensionId);
  if (!nextHazardState(h.state as HazardState, 'extend')) throw conflict('invalid_transition', '隐患已不在整改中，不能延期', `cannot extend a hazard in state ${h.state}`);
  const now = clock.now();
  const tz = h.enterprise.timezone;
  const deadlineAt = endOfLocalDay(ext.requestedDate, tz);
  return prisma.$transaction(async (tx) => {
    const locked = await lockHazard(tx, h.id);
    if (locked.state !== h.state || locked.deadlineDate !== h.deadlineDate) throw stateChanged();
    const { count } = await tx.hazardExtension.updateMany({
      where: { id: ext.id, state: 'pending' },
      data: { state: 'approved', decidedById: actor.personId, decidedAt: now, decisionComment: input.comment ? clipChars(input.comment, 1024) : null },
    });
    if (count === 0) throw conflict('extension_decided', '该延期申请已处理', 'extension request was decided meanwhile');
    await tx.hazard.update({ where: { id: h.id }, data: { deadlineDate: ext.requestedDate, deadlineAt, nextCheckAt: now } });
    await logStep(tx, h.id, 'extend', h.state as HazardState, h.state as HazardState, actor.personId, now, {
      comment: input.comment,
      data: { extensionId: ext.id, fromDeadlineDate: h.deadlineDate, toDeadlineDate: ext.requestedDate, requestedById: ext.requestedById },
    });
    // conditions that plainly end with the new deadline end now, not at the next tick
    const reason = `延期获批，整改期限延至 ${ext.requestedDate}`;
    const cleared: number[] = [];
    if (deadlineAt > now) {
      cleared.push(...(await clearAlertsFor(tx, { subjectType: 'hazard', subjectId: h.id, kinds: ['hazard_overdue'], now, clearKind: 'condition_ended', reason, actorId: actor.personId, channel: 'api' })));
      const dueSoonAt = hazardDueSoonAt(deadlineAt, h.dangerLevel, (await loadPolicy(tx, h.enterpriseId, 'hazard_due_soon')).params);
      if (now < dueSoonAt) {
        cleared.push(...(await clearAlertsFor(tx, { subjectType: 'hazard', subjectId: h.id, kinds: ['hazard_due_soon'], now, clearKind: 'condition_ended', reason, actorId: actor.personId, channel: 'api' })));
      }
    }
    return { extensionId: ext.id, state: 'approved' as const, deadlineDate: ext.requestedDate, deadlineAt, clearedAlerts: cleared };
  });
}

/**
 * 驳回延期 (POST /hazards/:id/extensions/:extId/reject): comment required; the deadline and the
 * alerts stay as they were.
 * @throws 400 comment_required, 403, 404, 409 extension_decided
 */
export async function rejectExtension(prisma: PrismaClient, clock: Clock, actor: Actor, hazardId: number, extensionId: number, input: { comment: string }) {
  const comment = input.comment?.trim();
  if (!comment) throw badRequest('comment_required', '请填写驳回理由', 'a comment saying why is required');
  const { h, ext } = await loadDecision(prisma, actor, hazardId, extensionId);
  const now = clock.now();
  return prisma.$transaction(async (tx) => {
    const { count } = await tx.hazardExtension.updateMany({
      where: { id: ext.id, state: 'pending' },
      data: { state: 'rejected', decidedById: actor.personId, decidedAt: now, decisionComment: clipChars(comment, 1024) },
    });
    if (count === 0) throw conflict('extension_decided', '该延期申请已处理', 'extension request was decided meanwhile');
    await logStep(tx, h.id, 'extension_reject', h.state as HazardState, h.state as HazardState, actor.personId, now, {
      comment,
      data: { extensionId: ext.id, requestedDate: ext.requestedDate, deadlineDate: h.deadlineDate },
    });
    return { extensionId: ext.id, state: 'rejected' as const, deadlineDate: h.deadlineDate };
  });
}
