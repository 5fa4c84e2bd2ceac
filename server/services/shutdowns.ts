/**
 * 停用检修: shutting a risk unit down for maintenance and bringing it back (domain.md "RiskUnit":
 * while a unit is shut down its task instances are suspended, never overdue). The overlap rule is
 * server/domain/shutdown.ts, shared with the engine's instance scan (server/engine/tick.ts), which
 * suspends instances generated later.
 *
 * - Start: pending instances of the unit's tasks whose window overlaps the shutdown become
 *   `suspended` at once (nextCheckAt null), and the 临期/逾期未排查 alerts of those tasks end in the
 *   same transaction (nobody is chased for a check that cannot be made). Missed instances stay
 *   missed: a shutdown entered late does not rewrite what was already missed.
 * - End: suspended instances whose window no longer overlaps any shutdown of the unit and has not
 *   ended yet go back to pending, with nextCheckAt at their due-soon moment (the engine's usual
 *   schedule); past windows stay suspended (they could not be checked then).
 * - A unit's shutdowns do not overlap each other (409 shutdown_overlaps).
 */
import { Prisma, type PrismaClient } from '../db';
import type { Clock } from '../clock';
import { badRequest, conflict, notFound } from '../errors';
import { isSuspendedBy, shutdownsOverlap } from '../domain/shutdown';
import { taskDueSoonAt } from '../domain/escalation';
import { clearAlertsFor, loadPolicy } from './alerts';
import type { Actor } from './alert-actions';
import { loadOrg } from './org';
import { headsUnit, violation } from './hazards';
import { shutdownDenied } from '../domain/hazard-rules';
import { clipChars } from '../../miniprogram/shared/contract';

type Tx = Prisma.TransactionClient;

async function loadUnit(prisma: PrismaClient, actor: Actor, unitId: number) {
  const u = await prisma.riskUnit.findUnique({
    where: { id: unitId },
    select: { id: true, enterpriseId: true, name: true, headPersonId: true, departmentId: true, riskObject: { select: { majorHazardSource: { select: { principalId: true, technicalId: true, operationalId: true } } } } },
  });
  if (!u || u.enterpriseId !== actor.enterpriseId) throw notFound('risk unit', '风险分析单元');
  return u;
}

/** @throws 403 forbidden (rule: shutdownDenied in server/domain/hazard-rules.ts) */
async function assertMayShutDown(prisma: PrismaClient, actor: Actor, u: Awaited<ReturnType<typeof loadUnit>>) {
  const mhs = u.riskObject.majorHazardSource;
  const mhsResponsible = !!mhs && [mhs.principalId, mhs.technicalId, mhs.operationalId].includes(actor.personId);
  if (!shutdownDenied({ roles: actor.roles, headsUnit: false, mhsResponsible })) return;
  const denied = shutdownDenied({ roles: actor.roles, headsUnit: headsUnit(await loadOrg(prisma, actor.enterpriseId), actor.personId, u), mhsResponsible });
  if (denied) throw violation(denied, 403);
}

/** Locks the unit row: shutdown changes of one unit are serialised (overlap checks hold). */
async function lockUnit(tx: Tx, unitId: number) {
  await tx.$queryRaw(Prisma.sql`SELECT id FROM RiskUnit WHERE id = ${unitId} FOR UPDATE`);
}

const unitTasks = (unitId: number): Prisma.CheckTaskInstanceWhereInput => ({ checkTask: { controlMeasure: { riskEvent: { riskUnitId: unitId } } } });

/**
 * POST /risk-units/:id/shutdowns.
 * @param input.startAt, input.endAt instants (endAt optional = open-ended; after startAt)
 * @returns { shutdownId, suspendedInstances, clearedAlerts }
 * @throws 400 reason_required / invalid_period, 403, 404, 409 shutdown_overlaps
 */
export async function startShutdown(prisma: PrismaClient, clock: Clock, actor: Actor, unitId: number, input: { startAt: Date; endAt?: Date | null; reason: string }) {
  const u = await loadUnit(prisma, actor, unitId);
  await assertMayShutDown(prisma, actor, u);
  const reason = input.reason?.trim();
  if (!reason) throw badRequest('reason_required', '请填写停用检修原因', 'a reason is required');
  const endAt = input.endAt ?? null;
  if (endAt && endAt <= input.startAt) throw badRequest('invalid_period', '结束时间须晚于开始时间', 'endAt must be after startAt');
  const now = clock.now();
  return prisma.$transaction(async (tx) => {
    await lockUnit(tx, u.id);
    const existing = await tx.riskUnitShutdown.findMany({ where: { riskUnitId: u.id } });
    const clash = existing.find((s) => shutdownsOverlap(s, { startAt: input.startAt, endAt }));
    if (clash) throw conflict('shutdown_overlaps', '该时段与已有的停用检修记录重叠', `overlaps shutdown #${clash.id} of this unit`);
    const s = await tx.riskUnitShutdown.create({ data: { riskUnitId: u.id, startAt: input.startAt, endAt, reason: clipChars(reason, 255) } });
    const candidates = await tx.checkTaskInstance.findMany({
      where: { ...unitTasks(u.id), state: 'pending', endAt: { gt: input.startAt }, ...(endAt ? { startAt: { lt: endAt } } : {}) },
      select: { id: true, checkTaskId: true, startAt: true, endAt: true },
    });
    const hit = candidates.filter((i) => isSuspendedBy(i, [s]));
    if (hit.length) await tx.checkTaskInstance.updateMany({ where: { id: { in: hit.map((i) => i.id) }, state: 'pending' }, data: { state: 'suspended', nextCheckAt: null } });
    const cleared: number[] = [];
    for (const taskId of new Set(hit.map((i) => i.checkTaskId))) {
      cleared.push(
        ...(await clearAlertsFor(tx, {
          subjectType: 'check_task',
          subjectId: taskId,
          kinds: ['task_due_soon', 'task_overdue'],
          now,
          clearKind: 'condition_ended',
          reason: `风险单元「${u.name}」停用检修（${reason}），排查任务暂停`,
          actorId: actor.personId,
          channel: 'api',
        })),
      );
    }
    return { shutdownId: s.id, suspendedInstances: hit.length, clearedAlerts: cleared };
  });
}

/**
 * POST /risk-units/:id/shutdowns/:sid/end: the unit runs again from `endAt` (default now).
 * @returns { shutdownId, endAt, resumedInstances }
 * @throws 400 invalid_period, 403, 404, 409 shutdown_ended / shutdown_overlaps
 */
export async function endShutdown(prisma: PrismaClient, clock: Clock, actor: Actor, unitId: number, shutdownId: number, input: { endAt?: Date }) {
  const u = await loadUnit(prisma, actor, unitId);
  await assertMayShutDown(prisma, actor, u);
  const now = clock.now();
  const endAt = input.endAt ?? now;
  return prisma.$transaction(async (tx) => {
    await lockUnit(tx, u.id);
    const s = await tx.riskUnitShutdown.findUnique({ where: { id: shutdownId } });
    if (!s || s.riskUnitId !== u.id) throw notFound('shutdown', '停用检修记录');
    if (s.endAt && s.endAt <= now) throw conflict('shutdown_ended', '该停用检修已结束', 'this shutdown has already ended');
    if (endAt <= s.startAt) throw badRequest('invalid_period', '结束时间须晚于开始时间', 'endAt must be after startAt');
    const others = await tx.riskUnitShutdown.findMany({ where: { riskUnitId: u.id, id: { not: s.id } } });
    if (others.some((o) => shutdownsOverlap(o, { startAt: s.startAt, endAt }))) throw conflict('shutdown_overlaps', '该时段与已有的停用检修记录重叠', 'the new end makes this shutdown overlap another one');
    await tx.riskUnitShutdown.update({ where: { id: s.id }, data: { endAt } });
    const periods = [...others, { ...s, endAt }];
    const suspended = await tx.checkTaskInstance.findMany({
      where: { ...unitTasks(u.id), state: 'suspended', endAt: { gt: now } },
      select: { id: true, startAt: true, endAt: true },
    });
    const resume = suspended.filter((i) => !isSuspendedBy(i, periods));
    if (resume.length) {
      const params = (await loadPolicy(tx, u.enterpriseId, 'task_due_soon')).params;
      for (const i of resume) {
        await tx.checkTaskInstance.updateMany({ where: { id: i.id, state: 'suspended' }, data: { state: 'pending', nextCheckAt: taskDueSoonAt(i.startAt, i.endAt, params) } });
      }
    }
    return { shutdownId: s.id, endAt, resumedInstances: resume.length };
  });
}

/** GET /risk-units/:id/shutdowns: the unit's shutdowns, latest first, with whether each is in force now. */
export async function listShutdowns(prisma: PrismaClient, clock: Clock, actor: Actor, unitId: number) {
  const u = await loadUnit(prisma, actor, unitId);
  const now = clock.now();
  const rows = await prisma.riskUnitShutdown.findMany({ where: { riskUnitId: u.id }, orderBy: { startAt: 'desc' } });
  return { items: rows.map((s) => ({ id: s.id, startAt: s.startAt, endAt: s.endAt, reason: s.reason, active: s.startAt <= now && (s.endAt === null || s.endAt > now), createdAt: s.createdAt })) };
}
