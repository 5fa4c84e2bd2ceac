/**
 * What people do with alerts: 确认 (acknowledge), 处置 (handle, with a note), 销警 (clear, with a
 * reason), and reading an alert with its history. Every step is an AlertEvent with who, when and
 * the channel it came through (link, api, wecom, dingtalk, wechat, miniprogram).
 *
 * Acknowledging or handling pauses repeats and escalation for the policy's ack timeout; the
 * fencing token is bumped so notifications still waiting in the outbox are cancelled, not sent.
 */
import type { PrismaClient } from '../db';
import type { Clock } from '../clock';
import { AppError, conflict, notFound, badRequest } from '../errors';
import { alertActionDenied, type AlertAction } from '../domain/alert-permissions';
import { parsePolicy } from '../domain/escalation';
import { alertCode } from '../domain/render';
import { clearAlert, type AlertRecipients } from './alerts';
import { isSuperiorOf, loadOrg } from './org';

export interface Actor {
  personId: number;
  /** the enterprise this action is about (for a regulator's reads: one of `scope`) */
  enterpriseId: number;
  roles: string[];
  /** regulators: the enterprises they may read (RegulatorScope) */
  scope?: number[];
}

export interface ActionContext {
  channel: string;
  /** the notification whose link was used, when the action came from a message link */
  notificationId?: number | null;
}

function rolesOf(json: unknown): string[] {
  return Array.isArray(json) ? json.filter((r): r is string => typeof r === 'string') : [];
}

/** Loads a person as an Actor. @throws AppError 404 when unknown or inactive. */
export async function loadActor(prisma: PrismaClient, personId: number): Promise<Actor> {
  const p = await prisma.person.findUnique({ where: { id: personId }, select: { id: true, enterpriseId: true, roles: true, active: true } });
  if (!p || !p.active) throw notFound('person', '人员');
  return { personId: p.id, enterpriseId: p.enterpriseId, roles: rolesOf(p.roles) };
}

/** People an alert has been addressed to so far (levels 1..current; level 1 before the first firing). */
export function addressedTo(recipients: unknown, level: number): number[] {
  const r = recipients as AlertRecipients;
  return [...new Set((r?.levels ?? []).slice(0, Math.max(1, level)).flat())];
}

/** @throws AppError 403 forbidden with the reason, 404 when the alert is not visible to the actor */
export async function authorize(prisma: PrismaClient, actor: Actor, alert: { enterpriseId: number; recipients: unknown; level: number }, action: AlertAction): Promise<void> {
  // other enterprises' alerts do not exist for the actor (regulators get scopes with issue #3)
  if (alert.enterpriseId !== actor.enterpriseId) throw notFound('alert', '预警');
  const addressed = addressedTo(alert.recipients, alert.level);
  let toSubordinate = false;
  if (!addressed.includes(actor.personId)) {
    const org = await loadOrg(prisma, alert.enterpriseId);
    toSubordinate = addressed.some((p) => isSuperiorOf(org, actor.personId, p));
  }
  const denied = alertActionDenied(action, {
    roles: actor.roles,
    addressed: addressed.includes(actor.personId),
    addressedToSubordinate: toSubordinate,
    sameEnterprise: alert.enterpriseId === actor.enterpriseId,
  });
  if (denied) throw new AppError(403, 'forbidden', denied.zh, denied.en, { reason: denied.reason });
}

async function loadOpen(prisma: PrismaClient, alertId: number) {
  const a = await prisma.alert.findUnique({ where: { id: alertId } });
  if (!a) throw notFound('alert', '预警');
  return a;
}

/**
 * 确认: "I have seen it". Pauses repeats for the ack timeout. Idempotent for the same person while
 * the pause runs. @throws 404 not_found, 403 forbidden, 409 alert_cleared
 */
export async function acknowledgeAlert(prisma: PrismaClient, clock: Clock, actor: Actor, alertId: number, ctx: ActionContext, note?: string) {
  return pauseAlert(prisma, clock, actor, alertId, ctx, 'acknowledge', note);
}

/** 处置: "this is being done" (note required). Pauses like 确认. @throws 400 note_required, 404, 403, 409 alert_cleared */
export async function handleAlert(prisma: PrismaClient, clock: Clock, actor: Actor, alertId: number, ctx: ActionContext, note: string) {
  if (!note || !note.trim()) throw badRequest('note_required', '请填写处置说明', 'a note saying what is being done is required');
  return pauseAlert(prisma, clock, actor, alertId, ctx, 'handle', note.trim());
}

async function pauseAlert(prisma: PrismaClient, clock: Clock, actor: Actor, alertId: number, ctx: ActionContext, action: 'acknowledge' | 'handle', note?: string) {
  const a = await loadOpen(prisma, alertId);
  await authorize(prisma, actor, a, action);
  if (a.state === 'cleared') throw conflict('alert_cleared', `预警 ${alertCode(a.id)} 已销警`, `alert ${alertCode(a.id)} is already cleared`);
  const now = clock.now();
  if (action === 'acknowledge' && a.ackedById === actor.personId && a.ackUntil && a.ackUntil > now) {
    return { alertId: a.id, state: a.state, ackUntil: a.ackUntil, alreadyAcknowledged: true };
  }
  const policy = parsePolicy(a.policySnapshot);
  const ackUntil = new Date(now.getTime() + policy.ackTimeoutMs);
  return prisma.$transaction(async (tx) => {
    const { count } = await tx.alert.updateMany({
      where: { id: a.id, state: { not: 'cleared' } },
      data: {
        state: 'acknowledged',
        ackedAt: a.ackedAt ?? now,
        ackedById: a.ackedById ?? actor.personId,
        ackUntil,
        nextFireAt: ackUntil,
        escalationToken: { increment: 1 },
        ...(action === 'handle' ? { handledAt: now, handledById: actor.personId, handleNote: note!.slice(0, 1024) } : {}),
      },
    });
    if (count === 0) throw conflict('alert_cleared', `预警 ${alertCode(a.id)} 已销警`, `alert ${alertCode(a.id)} is already cleared`);
    await tx.alertEvent.create({
      data: {
        alertId: a.id,
        type: action === 'handle' ? 'handled' : 'acknowledged',
        actorId: actor.personId,
        channel: ctx.channel,
        note: note?.slice(0, 1024) ?? null,
        at: now,
        data: { ackUntil: ackUntil.toISOString(), notificationId: ctx.notificationId ?? null },
      },
    });
    return { alertId: a.id, state: 'acknowledged', ackUntil, alreadyAcknowledged: false };
  });
}

/** 销警 by hand (reason required, role allowed to clear). @throws 400 reason_required, 404, 403, 409 alert_cleared */
export async function clearAlertByHand(prisma: PrismaClient, clock: Clock, actor: Actor, alertId: number, ctx: ActionContext, reason: string) {
  if (!reason || !reason.trim()) throw badRequest('reason_required', '请填写销警原因', 'a reason is required to clear an alert');
  const a = await loadOpen(prisma, alertId);
  await authorize(prisma, actor, a, 'clear');
  const now = clock.now();
  const done = await prisma.$transaction((tx) => clearAlert(tx, a.id, { now, clearKind: 'manual', reason: reason.trim(), actorId: actor.personId, channel: ctx.channel }));
  if (!done) throw conflict('alert_cleared', `预警 ${alertCode(a.id)} 已销警`, `alert ${alertCode(a.id)} is already cleared`);
  return { alertId: a.id, state: 'cleared', clearedAt: now };
}

/** One alert with its history (events with actor names) and its notifications, for pages and the API. */
export async function getAlertView(prisma: PrismaClient, alertId: number) {
  const a = await prisma.alert.findUnique({
    where: { id: alertId },
    include: {
      events: { orderBy: [{ at: 'asc' }, { id: 'asc' }], include: { actor: { select: { id: true, name: true } } } },
      notifications: { orderBy: { id: 'asc' }, select: { id: true, level: true, channel: true, destinationId: true, recipients: true, state: true, attempts: true, createdAt: true, sentAt: true, lastError: true } },
    },
  });
  if (!a) throw notFound('alert', '预警');
  return a;
}

/** Alerts addressed to a person or their subordinates (or all, for oversight roles), newest first. */
export async function listAlertsFor(prisma: PrismaClient, actor: Actor, q: { state?: 'open' | 'cleared' | 'all'; limit: number; offset: number }) {
  const where = {
    enterpriseId: actor.enterpriseId,
    ...(q.state === 'cleared' ? { state: 'cleared' } : q.state === 'all' ? {} : { state: { not: 'cleared' } }),
  };
  const oversight = actor.roles.some((r) => ['safety_dept', 'safety_director', 'principal', 'enterprise_admin', 'regulator'].includes(r));
  const rows = await prisma.alert.findMany({ where, orderBy: { id: 'desc' }, take: oversight ? q.limit : 2000, skip: oversight ? q.offset : 0 });
  if (oversight) return { items: rows, total: await prisma.alert.count({ where }) };
  const org = await loadOrg(prisma, actor.enterpriseId);
  const mine = rows.filter((a) => {
    const to = addressedTo(a.recipients, a.level);
    return to.includes(actor.personId) || to.some((p) => isSuperiorOf(org, actor.personId, p));
  });
  return { items: mine.slice(q.offset, q.offset + q.limit), total: mine.length };
}

