/**
 * What people do with alerts: 确认 (acknowledge), 处置 (handle, with a note), 销警 (clear, with a
 * reason), and reading an alert with its history. Every step is an AlertEvent with who, when and
 * the channel it came through (link, api, wecom, dingtalk, wechat, miniprogram).
 *
 * Acknowledging or handling pauses repeats and escalation for the policy's ack timeout; the
 * fencing token is bumped so notifications still waiting in the outbox are cancelled, not sent.
 */
import { Prisma, type PrismaClient } from '../db';
import type { Clock } from '../clock';
import { AppError, conflict, notFound, badRequest } from '../errors';
import { alertActionDenied, OVERSIGHT_ROLES, type AlertAction } from '../domain/alert-permissions';
import { endOfLocalDay, localMidnight } from '../domain/time';
import { parsePolicy } from '../domain/escalation';
import { alertCode } from '../domain/render';
import { clearAlert, type AlertRecipients } from './alerts';
import { isSuperiorOf, loadOrg } from './org';
import { clipChars } from '../../miniprogram/shared/contract';

export interface Actor {
  personId: number;
  /** the enterprise this action is about (for a regulator's reads: one of `scope`) */
  enterpriseId: number;
  roles: string[];
  /** regulators: the enterprises they may read (RegulatorScope) */
  scope?: number[];
  /** set when the request came with a mini-program session token (not an API token) */
  via?: 'miniprogram';
  /** the WeChat openid of that session */
  openid?: string;
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
  const cleared = () => conflict('alert_cleared', `预警 ${alertCode(a.id)} 已销警`, `alert ${alertCode(a.id)} is already cleared`);
  if (a.state === 'cleared') throw cleared();
  const now = clock.now();
  const policy = parsePolicy(a.policySnapshot);
  const ackUntil = new Date(now.getTime() + policy.ackTimeoutMs);
  return prisma.$transaction(async (tx) => {
    // the row lock serialises two taps of the same button (two phones, a double click, a chat
    // retry): the second sees the first's ack and writes no second 'acknowledged' event
    const [cur] = await tx.$queryRaw<Array<{ state: string; ackedAt: Date | null; ackedById: number | null; ackUntil: Date | null }>>(
      Prisma.sql`SELECT state, ackedAt, ackedById, ackUntil FROM Alert WHERE id = ${a.id} FOR UPDATE`,
    );
    if (!cur || cur.state === 'cleared') throw cleared();
    if (action === 'acknowledge' && cur.ackedById === actor.personId && cur.ackUntil && cur.ackUntil > now) {
      return { alertId: a.id, state: cur.state, ackUntil: cur.ackUntil, alreadyAcknowledged: true };
    }
    await tx.alert.update({
      where: { id: a.id },
      data: {
        state: 'acknowledged',
        ackedAt: cur.ackedAt ?? now,
        ackedById: cur.ackedById ?? actor.personId,
        ackUntil,
        nextFireAt: ackUntil,
        escalationToken: { increment: 1 },
        ...(action === 'handle' ? { handledAt: now, handledById: actor.personId, handleNote: clipChars(note!, 1024) } : {}),
      },
    });
    await tx.alertEvent.create({
      data: {
        alertId: a.id,
        type: action === 'handle' ? 'handled' : 'acknowledged',
        actorId: actor.personId,
        channel: ctx.channel,
        note: note ? clipChars(note, 1024) : null,
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

/** Filters of an alert list (GET /alerts). Dates are local dates of the enterprise's zone, inclusive. */
export interface AlertListQuery {
  /**
   * open: not cleared yet (open or acknowledged; the default); unacknowledged: nobody has confirmed
   * it; acknowledged: confirmed, not cleared; cleared; all
   */
  state?: 'open' | 'unacknowledged' | 'acknowledged' | 'cleared' | 'all';
  kind?: string;
  /** the escalation level reached (0 = not notified yet) */
  level?: number;
  /** at least this level reached */
  minLevel?: number;
  /** raised (createdAt) on or after this local date 'YYYY-MM-DD' */
  from?: string;
  /** raised on or before this local date */
  to?: string;
  subjectType?: string;
  subjectId?: number;
  limit: number;
  offset: number;
}

/** Roles that see every alert of their enterprise (alert-permissions.ts OVERSIGHT_ROLES) plus regulators, who read them all. */
const SEE_ALL_ROLES: readonly string[] = [...OVERSIGHT_ROLES, 'regulator'];

/**
 * Alerts addressed to a person or their subordinates (or all, for oversight roles and regulators),
 * newest first, one page: `{ total, items }`. "Addressed" is the same rule as acting on an alert
 * (`addressedTo`: the people of levels 1..level, level 1 before the first firing); it is evaluated
 * in SQL over Alert.recipients (JSON_TABLE; MySQL 8 / MariaDB ≥ 10.6), so paging and `total` are
 * right however many alerts the enterprise has.
 * @throws AppError 400 invalid_date_range when `from` is after `to`
 */
export async function listAlertsFor(prisma: PrismaClient, actor: Actor, q: AlertListQuery) {
  const tz = (await prisma.enterprise.findUniqueOrThrow({ where: { id: actor.enterpriseId }, select: { timezone: true } })).timezone;
  if (q.from && q.to && q.from > q.to) throw badRequest('invalid_date_range', '开始日期不能晚于结束日期', '`from` is after `to`');
  const conds: Prisma.Sql[] = [Prisma.sql`a.enterpriseId = ${actor.enterpriseId}`];
  const state = q.state ?? 'open';
  if (state === 'open') conds.push(Prisma.sql`a.state <> 'cleared'`);
  else if (state === 'unacknowledged') conds.push(Prisma.sql`a.state = 'open'`);
  else if (state !== 'all') conds.push(Prisma.sql`a.state = ${state}`);
  if (q.kind) conds.push(Prisma.sql`a.kind = ${q.kind}`);
  if (q.level !== undefined) conds.push(Prisma.sql`a.level = ${q.level}`);
  if (q.minLevel !== undefined) conds.push(Prisma.sql`a.level >= ${q.minLevel}`);
  if (q.from) conds.push(Prisma.sql`a.createdAt >= ${localMidnight(q.from, tz)}`);
  if (q.to) conds.push(Prisma.sql`a.createdAt < ${endOfLocalDay(q.to, tz)}`);
  if (q.subjectType) conds.push(Prisma.sql`a.subjectType = ${q.subjectType}`);
  if (q.subjectId !== undefined) conds.push(Prisma.sql`a.subjectId = ${q.subjectId}`);
  if (!actor.roles.some((r) => SEE_ALL_ROLES.includes(r))) {
    // me and everyone I lead (post-leader chain, department head): small sets, computed from the org
    const org = await loadOrg(prisma, actor.enterpriseId);
    const people = [actor.personId, ...[...org.personPost.keys()].filter((p) => isSuperiorOf(org, actor.personId, p))];
    conds.push(Prisma.sql`EXISTS (
      SELECT 1 FROM JSON_TABLE(a.recipients, '$.levels[*]' COLUMNS (lvl FOR ORDINALITY, NESTED PATH '$[*]' COLUMNS (pid INT PATH '$'))) r
      WHERE r.lvl <= GREATEST(a.level, 1) AND r.pid IN (${Prisma.join(people)}))`);
  }
  const where = Prisma.join(conds, ' AND ');
  const [page, counted] = await Promise.all([
    prisma.$queryRaw<Array<{ id: number | bigint }>>(Prisma.sql`SELECT a.id FROM Alert a WHERE ${where} ORDER BY a.id DESC LIMIT ${q.limit} OFFSET ${q.offset}`),
    prisma.$queryRaw<Array<{ n: number | bigint }>>(Prisma.sql`SELECT COUNT(*) AS n FROM Alert a WHERE ${where}`),
  ]);
  const ids = page.map((r) => Number(r.id));
  const rows = ids.length ? await prisma.alert.findMany({ where: { id: { in: ids } }, orderBy: { id: 'desc' } }) : [];
  return { items: rows, total: Number(counted[0]?.n ?? 0) };
}
