/**
 * The scheduler tick (design.md "The alert engine"): three set-based phases over indexed columns,
 * each claiming a bounded batch with `FOR UPDATE SKIP LOCKED` inside one transaction, so any
 * number of scheduler processes can tick at once without double-firing, and the cost grows with
 * the number of *due* rows, not with table size.
 *
 * 1. instances: CheckTaskInstance.nextCheckAt <= now → due soon (临期未排查), missed (逾期未排查), suspended
 * 2. hazards:   Hazard.nextCheckAt <= now → due soon / overdue (临期/超期未整改), 重大隐患, late entry
 * 3. alerts:    Alert.nextFireAt <= now → planFiring() → Notification rows (the outbox) in the same
 *               transaction as the alert's new state.
 *
 * Prisma has no SKIP LOCKED in its query API, so rows are claimed with $queryRaw; deadlocks (1213)
 * and lock-wait timeouts (1205) are retried.
 */
import { Prisma, type PrismaClient } from '../db';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import { hazardDueSoonAt, isLateEntry, parsePolicy, planFiring, type AlertKind, type EscalationPolicyData } from '../domain/escalation';
import type { RoleHolders } from '../domain/recipients';
import { renderAlertMessage, type AlertDetail } from '../domain/render';
import { isLiveDestination, routeRecipients, type PersonalChannel, type RoutableDestination } from '../domain/routing';
import { RECIPIENT_ROLE_NAMES, type RecipientRole } from '../domain/roles';
import type { MessageRecipient } from '../domain/message';
import { clearAlertsFor, loadPolicy, openAlert, type AlertRecipients } from '../services/alerts';
import { loadHazardSubject, loadRoleHolders, loadTaskSubject } from '../services/subjects';
import { OPEN_HAZARD_STATES } from '../domain/hazard-state';
import { isSuspendedBy } from '../domain/shutdown';

type Tx = Prisma.TransactionClient;

export interface TickDeps {
  prisma: PrismaClient;
  clock: Clock;
  log: Logger;
  /** rows claimed per transaction */
  batch: number;
  /** destination codes that have a robot configured (config ROBOTS) */
  activeRobots: Set<string>;
  /**
   * destination channels served whatever the code: `wechat_group` while the wechaty bot is
   * configured (WECHATY_PUPPET). A `wechat_group` destination is live only through this.
   */
  activeChannels?: Set<string>;
  /**
   * the per-person channel(s) configured, in order of preference (domain/routing.ts): `wecom_app`
   * (recipients with a WeCom userid get a card of their own; only alerts of the enterprise with
   * `companyCode`, all when unset), then `wechat_subscribe` (recipients with a subscribe consent
   * left for `subscribeTemplateId`, spent one per message by the channel)
   */
  personal?: TickPersonal | TickPersonal[];
}

/** One per-person channel for the tick: whom it reaches is decided per firing from the database. */
export interface TickPersonal {
  channel: string;
  companyCode?: string;
  /** set: reaches people with SubscribeConsent.remaining > 0 for this template (and an openid); unset: people with a WeCom userid */
  subscribeTemplateId?: string;
}

export interface TickResult {
  instances: number;
  hazards: number;
  fired: number;
  notifications: number;
  ms: number;
}

const NO_CODES: ReadonlySet<string> = new Set();

/** At most this many batches per phase in one tick; the rest waits for the next tick. */
const MAX_BATCHES = 20;

/** Runs one tick. Safe to call concurrently from several processes. */
export async function tick(d: TickDeps): Promise<TickResult> {
  const t0 = performance.now();
  const now = d.clock.now();
  const instances = await repeatBatches(() => scanInstances(d, now));
  const hazards = await repeatBatches(() => scanHazards(d, now));
  let fired = 0;
  let notifications = 0;
  for (let i = 0; i < MAX_BATCHES; i++) {
    const r = await withRetry(() => fireDueAlerts(d, now));
    fired += r.claimed;
    notifications += r.notifications;
    if (r.claimed < d.batch) break;
  }
  return { instances, hazards, fired, notifications, ms: performance.now() - t0 };
}

async function repeatBatches(phase: () => Promise<{ claimed: number; full: boolean }>): Promise<number> {
  let total = 0;
  for (let i = 0; i < MAX_BATCHES; i++) {
    const n = await withRetry(phase);
    total += n.claimed;
    if (n.claimed === 0 || !n.full) break;
  }
  return total;
}

/** Retries a transaction on deadlock / lock wait timeout / write conflict (up to 5 times). */
export async function withRetry<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (attempt >= 5 || !isRetryableDbError(e)) throw e;
      await new Promise((r) => setTimeout(r, 20 * attempt + Math.random() * 30));
    }
  }
}

export function isRetryableDbError(e: unknown): boolean {
  const err = e as { code?: string; message?: string; meta?: { code?: string | number } };
  const msg = String(err?.message ?? '');
  return err?.code === 'P2034' || /\b(1213|1205)\b|Deadlock found|Lock wait timeout|deadlock/i.test(msg) || ['1213', '1205', 1213, 1205].includes(err?.meta?.code as never);
}

const TX = { timeout: 60_000, maxWait: 10_000 } as const;

/** Per-transaction caches: one lookup per enterprise/kind/task, not per row. */
class BatchCache {
  private policies = new Map<string, EscalationPolicyData>();
  private holders = new Map<number, RoleHolders>();
  private zones = new Map<number, string>();
  constructor(private tx: Tx) {}
  async timezone(enterpriseId: number) {
    if (!this.zones.has(enterpriseId)) this.zones.set(enterpriseId, (await this.tx.enterprise.findUniqueOrThrow({ where: { id: enterpriseId }, select: { timezone: true } })).timezone);
    return this.zones.get(enterpriseId)!;
  }
  async policy(enterpriseId: number, kind: AlertKind) {
    const k = `${enterpriseId}:${kind}`;
    if (!this.policies.has(k)) this.policies.set(k, await loadPolicy(this.tx, enterpriseId, kind));
    return this.policies.get(k)!;
  }
  async roleHolders(enterpriseId: number) {
    if (!this.holders.has(enterpriseId)) this.holders.set(enterpriseId, await loadRoleHolders(this.tx, enterpriseId));
    return this.holders.get(enterpriseId)!;
  }
}

async function claim(tx: Tx, table: 'CheckTaskInstance' | 'Hazard', now: Date, batch: number): Promise<number[]> {
  const rows = await tx.$queryRaw<Array<{ id: number | bigint }>>(
    Prisma.sql`SELECT id FROM ${Prisma.raw('`' + table + '`')} WHERE nextCheckAt <= ${now} ORDER BY nextCheckAt LIMIT ${batch} FOR UPDATE SKIP LOCKED`,
  );
  return rows.map((r) => Number(r.id));
}

// ───────────────────────────── phase 1: task instances ─────────────────────────────

async function scanInstances(d: TickDeps, now: Date): Promise<{ claimed: number; full: boolean }> {
  return d.prisma.$transaction(async (tx) => {
    const ids = await claim(tx, 'CheckTaskInstance', now, d.batch);
    if (ids.length === 0) return { claimed: 0, full: false };
    const cache = new BatchCache(tx);
    const instances = await tx.checkTaskInstance.findMany({
      where: { id: { in: ids } },
      orderBy: [{ checkTaskId: 'asc' }, { endAt: 'asc' }],
      include: {
        checkTask: { select: { enterpriseId: true, enabled: true, enterprise: { select: { timezone: true } }, controlMeasure: { select: { riskEvent: { select: { riskUnitId: true } } } } } },
      },
    });
    const unitIds = [...new Set(instances.map((i) => i.checkTask.controlMeasure?.riskEvent.riskUnitId).filter((x): x is number => x != null))];
    const shutdowns = unitIds.length ? await tx.riskUnitShutdown.findMany({ where: { riskUnitId: { in: unitIds } } }) : [];
    const subjects = new Map<number, Awaited<ReturnType<typeof loadTaskSubject>>>();
    const subjectOf = async (taskId: number) => {
      if (!subjects.has(taskId)) subjects.set(taskId, await loadTaskSubject(tx, taskId));
      return subjects.get(taskId)!;
    };

    for (const inst of instances) {
      const task = inst.checkTask;
      const unitId = task.controlMeasure?.riskEvent.riskUnitId;
      const suspended = unitId != null && isSuspendedBy(inst, shutdowns.filter((s) => s.riskUnitId === unitId));
      if (inst.state !== 'pending' || !task.enabled || suspended) {
        await tx.checkTaskInstance.updateMany({ where: { id: inst.id }, data: { nextCheckAt: null, ...(inst.state === 'pending' && suspended ? { state: 'suspended' } : {}) } });
        // A reminder already sent for this window ends with it (unit shut down / task disabled after
        // the due-soon moment). Left open, it also swallowed the next window's reminder: openAlert
        // found the stale open alert and sent nothing.
        if (inst.state === 'pending') {
          await clearAlertsFor(tx, { subjectType: 'check_task', subjectId: inst.checkTaskId, kinds: ['task_due_soon'], now, clearKind: 'condition_ended', reason: suspended ? '风险单元停用检修，排查任务暂停' : '排查任务已停用', channel: 'engine' });
        }
        continue;
      }
      const subject = await subjectOf(inst.checkTaskId);
      const holders = await cache.roleHolders(task.enterpriseId);
      const tz = task.enterprise.timezone;
      const detail: AlertDetail = {
        type: 'task',
        tz,
        taskCode: subject.task.code,
        taskContent: subject.task.content,
        unitName: subject.unitName,
        postName: subject.task.post?.name ?? null,
        assigneeName: subject.task.person?.name ?? null,
        windowStart: inst.startAt.toISOString(),
        windowEnd: inst.endAt.toISOString(),
        instanceId: inst.id,
        missedCount: 1,
      };
      const base = { enterpriseId: task.enterpriseId, subjectType: 'check_task' as const, subjectId: inst.checkTaskId, people: subject.people, holders, now };
      if (now < inst.endAt) {
        await openAlert(tx, { ...base, kind: 'task_due_soon', detail, conditionStartAt: inst.nextCheckAt ?? now, policy: await cache.policy(task.enterpriseId, 'task_due_soon') });
        await tx.checkTaskInstance.updateMany({ where: { id: inst.id }, data: { nextCheckAt: inst.endAt } });
      } else {
        await tx.checkTaskInstance.updateMany({ where: { id: inst.id }, data: { state: 'missed', nextCheckAt: null } });
        await clearAlertsFor(tx, { subjectType: 'check_task', subjectId: inst.checkTaskId, kinds: ['task_due_soon'], now, clearKind: 'condition_ended', reason: '排查时段已结束，转为逾期未排查', channel: 'engine' });
        const opened = await openAlert(tx, { ...base, kind: 'task_overdue', detail, conditionStartAt: inst.endAt, policy: await cache.policy(task.enterpriseId, 'task_overdue') });
        if (!opened.created) {
          // the task was already overdue: count the further miss on the open alert
          const a = await tx.alert.findUniqueOrThrow({ where: { id: opened.id }, select: { detail: true } });
          const prev = a.detail as unknown as AlertDetail;
          const missed = (prev.type === 'task' ? prev.missedCount ?? 1 : 1) + 1;
          await tx.alert.update({ where: { id: opened.id }, data: { detail: { ...(prev as object), missedCount: missed } as Prisma.InputJsonValue } });
        }
      }
    }
    return { claimed: ids.length, full: ids.length >= d.batch };
  }, TX);
}

// ───────────────────────────── phase 2: hazards ─────────────────────────────

async function scanHazards(d: TickDeps, now: Date): Promise<{ claimed: number; full: boolean }> {
  return d.prisma.$transaction(async (tx) => {
    const ids = await claim(tx, 'Hazard', now, d.batch);
    if (ids.length === 0) return { claimed: 0, full: false };
    const cache = new BatchCache(tx);
    // event conditions are raised once per hazard: which of these hazards already had them
    const raised = new Set(
      (await tx.alert.findMany({ where: { subjectType: 'hazard', subjectId: { in: ids }, kind: { in: ['major_hazard', 'hazard_late_entry'] } }, select: { kind: true, subjectId: true } })).map(
        (a) => `${a.kind}:${a.subjectId}`,
      ),
    );
    for (const id of ids) {
      const { hazard: h, unitName, people } = await loadHazardSubject(tx, id);
      // a draft is not in the loop yet (server/domain/hazard-state.ts): nothing to watch until reported
      if (h.state === 'draft') {
        await tx.hazard.updateMany({ where: { id: h.id }, data: { nextCheckAt: null } });
        continue;
      }
      const tz = await cache.timezone(h.enterpriseId);
      const holders = await cache.roleHolders(h.enterpriseId);
      const detail: AlertDetail = {
        type: 'hazard',
        tz,
        hazardCode: h.code,
        hazardName: h.name,
        unitName,
        dangerLevel: h.dangerLevel,
        deadlineDate: h.deadlineDate,
        rectifierName: h.rectifier?.name ?? null,
        acceptorName: h.acceptor?.name ?? null,
        foundAt: h.foundAt.toISOString(),
        reportedAt: h.reportedAt.toISOString(),
        enforcementId: h.enforcementId,
        majorCriterion: h.majorCriterion,
      };
      const base = { enterpriseId: h.enterpriseId, subjectType: 'hazard' as const, subjectId: h.id, detail, people, holders, now };
      const closed = h.state === 'accepted' || h.state === 'rejected';

      // event conditions: raised once per hazard (a manual 销警 is not undone by a later scan)
      const once = async (kind: AlertKind, applies: boolean) => {
        if (!applies || closed || raised.has(`${kind}:${h.id}`)) return;
        await openAlert(tx, { ...base, kind, conditionStartAt: h.reportedAt, policy: await cache.policy(h.enterpriseId, kind) });
      };
      await once('major_hazard', h.dangerLevel === 1);
      const lateParams = (await cache.policy(h.enterpriseId, 'hazard_late_entry')).params;
      await once('hazard_late_entry', isLateEntry(h.dangerSrc, h.foundAt, h.reportedAt, lateParams, tz));

      let nextCheckAt: Date | null = null;
      if ((OPEN_HAZARD_STATES as readonly string[]).includes(h.state) && h.deadlineAt) {
        const dueSoonPolicy = await cache.policy(h.enterpriseId, 'hazard_due_soon');
        const dueSoonAt = hazardDueSoonAt(h.deadlineAt, h.dangerLevel, dueSoonPolicy.params);
        if (now >= h.deadlineAt) {
          await clearAlertsFor(tx, { subjectType: 'hazard', subjectId: h.id, kinds: ['hazard_due_soon'], now, clearKind: 'condition_ended', reason: '已超过整改期限，转为超期未整改', channel: 'engine' });
          await openAlert(tx, { ...base, kind: 'hazard_overdue', conditionStartAt: h.deadlineAt, policy: await cache.policy(h.enterpriseId, 'hazard_overdue') });
        } else if (now >= dueSoonAt) {
          // not (or no longer, after an approved extension) overdue
          await clearAlertsFor(tx, { subjectType: 'hazard', subjectId: h.id, kinds: ['hazard_overdue'], now, clearKind: 'condition_ended', reason: '整改期限已延后，不再超期', channel: 'engine' });
          await openAlert(tx, { ...base, kind: 'hazard_due_soon', conditionStartAt: dueSoonAt, policy: dueSoonPolicy });
          nextCheckAt = h.deadlineAt;
        } else {
          await clearAlertsFor(tx, { subjectType: 'hazard', subjectId: h.id, kinds: ['hazard_overdue', 'hazard_due_soon'], now, clearKind: 'condition_ended', reason: '整改期限已延后', channel: 'engine' });
          nextCheckAt = dueSoonAt;
        }
      } else {
        await clearAlertsFor(tx, {
          subjectType: 'hazard',
          subjectId: h.id,
          kinds: closed ? ['hazard_due_soon', 'hazard_overdue', 'major_hazard', 'hazard_late_entry'] : ['hazard_due_soon', 'hazard_overdue'],
          now,
          clearKind: 'condition_ended',
          reason: closed ? (h.state === 'accepted' ? '隐患已验收销号' : '已判定不属于隐患') : '隐患已无整改期限',
          channel: 'engine',
        });
      }
      await tx.hazard.updateMany({ where: { id: h.id }, data: { nextCheckAt } });
    }
    return { claimed: ids.length, full: ids.length >= d.batch };
  }, TX);
}

// ───────────────────────────── phase 3: alerts → outbox ─────────────────────────────

interface AlertUpdate {
  id: number;
  level: number;
  nextFireAt: Date | null;
  lastNotifiedAt: Date | null;
  clearAck: boolean;
}

async function fireDueAlerts(d: TickDeps, now: Date): Promise<{ claimed: number; notifications: number }> {
  return d.prisma.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<Array<{ id: number | bigint }>>(
      Prisma.sql`SELECT id FROM Alert WHERE nextFireAt <= ${now} ORDER BY nextFireAt LIMIT ${d.batch} FOR UPDATE SKIP LOCKED`,
    );
    if (rows.length === 0) return { claimed: 0, notifications: 0 };
    const alerts = await tx.alert.findMany({ where: { id: { in: rows.map((r) => Number(r.id)) } } });

    const plans = alerts.map((a) => {
      const policy = parsePolicy(a.policySnapshot);
      const plan = planFiring(policy, { state: a.state as 'open', level: a.level, conditionStartAt: a.conditionStartAt, lastNotifiedAt: a.lastNotifiedAt, ackUntil: a.ackUntil }, now);
      const rec = a.recipients as unknown as AlertRecipients;
      const recipientIds = plan.notifyUpTo ? [...new Set(rec.levels.slice(0, plan.notifyUpTo).flat())] : [];
      const unresolved = plan.notifyUpTo ? rec.unresolved.filter((u) => u.level <= plan.notifyUpTo!).map((u) => RECIPIENT_ROLE_NAMES[u.role as RecipientRole] ?? u.role) : [];
      return { a, plan, recipientIds, unresolved };
    });

    const personIds = [...new Set(plans.flatMap((p) => p.recipientIds))];
    const people = new Map<number, MessageRecipient>();
    if (personIds.length) {
      for (const p of await tx.person.findMany({ where: { id: { in: personIds } }, select: { id: true, name: true, mobile: true, wecomUserId: true, dingtalkUserId: true } })) {
        people.set(p.id, { personId: p.id, name: p.name, mobile: p.mobile, wecomUserId: p.wecomUserId, dingtalkUserId: p.dingtalkUserId });
      }
    }
    const enterpriseIds = [...new Set(plans.filter((p) => p.plan.notifyUpTo).map((p) => p.a.enterpriseId))];
    // the WeCom app reaches the people of its corp's enterprise who have a userid; subscribe
    // messages reach the people with a consent left (in the order of preference of d.personal)
    const personals: Array<PersonalChannel & { enterpriseId: number | null }> = [];
    for (const p of d.personal === undefined ? [] : Array.isArray(d.personal) ? d.personal : [d.personal]) {
      const enterpriseId = p.companyCode && enterpriseIds.length ? ((await tx.enterprise.findUnique({ where: { companyCode: p.companyCode }, select: { id: true } }))?.id ?? -1) : null;
      const consented = p.subscribeTemplateId && personIds.length ? await subscribedPeople(tx, personIds, p.subscribeTemplateId) : null;
      personals.push({ channel: p.channel, enterpriseId, reaches: consented ? (id) => consented.has(id) : (id) => !!people.get(id)?.wecomUserId });
    }
    const personalFor = (enterpriseId: number) => personals.filter((p) => p.enterpriseId === null || p.enterpriseId === enterpriseId);
    const destinations = new Map<number, RoutableDestination[]>();
    /** per enterprise: codes of its live destinations (a robot configured, or a served channel) */
    const liveCodes = new Map<number, Set<string>>();
    if (enterpriseIds.length && (d.activeRobots.size || d.activeChannels?.size)) {
      const all = await tx.chatDestination.findMany({ where: { enterpriseId: { in: enterpriseIds } }, include: { members: { select: { personId: true } } }, orderBy: { id: 'asc' } });
      for (const dest of all) {
        if (!isLiveDestination(dest, d.activeRobots, d.activeChannels)) continue;
        const list = destinations.get(dest.enterpriseId) ?? [];
        list.push({ id: dest.id, code: dest.code, channel: dest.channel, memberIds: dest.members.map((m) => m.personId) });
        destinations.set(dest.enterpriseId, list);
        liveCodes.set(dest.enterpriseId, (liveCodes.get(dest.enterpriseId) ?? new Set()).add(dest.code));
      }
    }

    const notifications: Prisma.NotificationCreateManyInput[] = [];
    const events: Prisma.AlertEventCreateManyInput[] = [];
    const updates: AlertUpdate[] = [];
    for (const { a, plan, recipientIds, unresolved } of plans) {
      if (plan.ackExpired) events.push({ alertId: a.id, type: 'resumed', channel: 'engine', at: now, note: '确认/处置暂停期已过，条件仍存在，恢复提醒' });
      if (plan.notifyUpTo) {
        const routes = routeRecipients(recipientIds, destinations.get(a.enterpriseId) ?? [], liveCodes.get(a.enterpriseId) ?? NO_CODES, personalFor(a.enterpriseId));
        for (const r of routes) {
          const msg = renderAlertMessage({
            alertId: a.id,
            kind: a.kind as AlertKind,
            detail: a.detail as unknown as AlertDetail,
            level: plan.notifyUpTo,
            reason: plan.reason!,
            now,
            recipients: r.recipientIds.map((id) => people.get(id)).filter((p): p is MessageRecipient => !!p),
            unresolvedRoles: unresolved,
          });
          notifications.push({
            enterpriseId: a.enterpriseId,
            alertId: a.id,
            level: plan.notifyUpTo,
            channel: r.channel,
            destinationId: r.destinationId,
            recipients: r.recipientIds,
            payload: msg as unknown as Prisma.InputJsonValue,
            escalationToken: a.escalationToken,
            state: 'pending',
            nextAttemptAt: now,
          });
        }
        events.push({
          alertId: a.id,
          type: plan.reason === 'repeat' ? 'repeated' : plan.reason === 'escalate' ? 'escalated' : 'notified',
          level: plan.notifyUpTo,
          channel: 'engine',
          at: now,
          data: { recipients: recipientIds, routes: routes.map((r) => ({ channel: r.channel, destinationId: r.destinationId, recipients: r.recipientIds })), unresolved } as Prisma.InputJsonValue,
        });
      }
      updates.push({ id: a.id, level: plan.level, nextFireAt: plan.nextFireAt, lastNotifiedAt: plan.notifyUpTo ? now : a.lastNotifiedAt, clearAck: plan.ackExpired });
    }
    await insertNotifications(tx, notifications, now);
    await insertAlertEvents(tx, events);
    await applyAlertUpdates(tx, updates);
    return { claimed: alerts.length, notifications: notifications.length };
  }, TX);
}

/**
 * Of `personIds`, those a one-time subscribe message of `templateId` can reach now: a consent left
 * (SubscribeConsent.remaining > 0) and an openid (directory Person.wechatOpenId or a mini-program
 * binding). The channel spends the consent when it sends (channels/wechat-subscribe.ts).
 */
async function subscribedPeople(tx: Tx, personIds: number[], templateId: string): Promise<Set<number>> {
  const rows = await tx.subscribeConsent.findMany({
    where: {
      personId: { in: personIds },
      templateId,
      remaining: { gt: 0 },
      person: { active: true, OR: [{ wechatOpenId: { not: null } }, { chatIdentities: { some: { platform: 'miniprogram' } } }] },
    },
    select: { personId: true },
  });
  return new Set(rows.map((r) => r.personId));
}

/**
 * The outbox rows of a batch as multi-row INSERTs. Prisma's createMany spends most of a firing's
 * CPU validating and serialising the JSON payloads (bench/README.md); the rows are plain, so they go
 * as parameters of one statement per chunk (well under MySQL's 65,535 placeholders).
 */
async function insertNotifications(tx: Tx, rows: Prisma.NotificationCreateManyInput[], now: Date): Promise<void> {
  for (let i = 0; i < rows.length; i += 1000) {
    const values = rows.slice(i, i + 1000).map(
      (n) =>
        Prisma.sql`(${n.enterpriseId}, ${n.alertId}, ${n.level}, ${n.channel}, ${n.destinationId ?? null}, ${JSON.stringify(n.recipients)}, ${JSON.stringify(n.payload)}, ${n.escalationToken}, 'pending', 0, ${n.nextAttemptAt}, ${now})`,
    );
    await tx.$executeRaw(
      Prisma.sql`INSERT INTO Notification (enterpriseId, alertId, level, channel, destinationId, recipients, payload, escalationToken, state, attempts, nextAttemptAt, createdAt) VALUES ${Prisma.join(values)}`,
    );
  }
}

async function insertAlertEvents(tx: Tx, rows: Prisma.AlertEventCreateManyInput[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 1000) {
    const values = rows
      .slice(i, i + 1000)
      .map((e) => Prisma.sql`(${e.alertId}, ${e.type}, ${e.level ?? null}, ${e.channel ?? null}, ${e.note ?? null}, ${e.data === undefined ? null : JSON.stringify(e.data)}, ${e.at})`);
    await tx.$executeRaw(Prisma.sql`INSERT INTO AlertEvent (alertId, type, level, channel, note, data, at) VALUES ${Prisma.join(values)}`);
  }
}

/** One UPDATE … JOIN for the whole batch instead of one statement per alert. */
async function applyAlertUpdates(tx: Tx, updates: AlertUpdate[]): Promise<void> {
  if (updates.length === 0) return;
  const rows = updates.map(
    (u, i) =>
      i === 0
        ? Prisma.sql`SELECT ${u.id} AS id, ${u.level} AS level, ${u.nextFireAt} AS nextFireAt, ${u.lastNotifiedAt} AS lastNotifiedAt, ${u.clearAck ? 1 : 0} AS clearAck`
        : Prisma.sql`SELECT ${u.id}, ${u.level}, ${u.nextFireAt}, ${u.lastNotifiedAt}, ${u.clearAck ? 1 : 0}`,
  );
  await tx.$executeRaw(Prisma.sql`
    UPDATE Alert a JOIN (${Prisma.join(rows, ' UNION ALL ')}) v ON a.id = v.id
    SET a.level = v.level,
        a.nextFireAt = v.nextFireAt,
        a.lastNotifiedAt = v.lastNotifiedAt,
        a.ackUntil = IF(v.clearAck = 1, NULL, a.ackUntil),
        a.updatedAt = NOW(3)`);
}
