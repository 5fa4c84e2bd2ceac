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
import { parsePolicy, planFiring, type AlertKind } from '../domain/escalation';
import { renderAlertMessage, type AlertDetail } from '../domain/render';
import { isLiveDestination, routeRecipients, type PersonalChannel, type RoutableDestination } from '../domain/routing';
import { RECIPIENT_ROLE_NAMES, type RecipientRole } from '../domain/roles';
import type { MessageRecipient } from '../domain/message';
import { decideHazard, decideInstance, missedCountAfter, netAlertChange, type AlertStep, type OpenIntent } from '../domain/scan';
import { isSuspendedBy } from '../domain/shutdown';
import { clearAlertsOf, insertAlertEvents, loadPolicies, openAlerts, type AlertRecipients, type ClearTarget } from '../services/alerts';
import { loadHazardSubjects, loadRoleHoldersOf, loadTaskSubjects, type HazardSubject } from '../services/subjects';

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

/** How the engine clears: the condition ended, seen by the scheduler. */
const engineClear = (now: Date) => ({ now, clearKind: 'condition_ended' as const, channel: 'engine' });

async function claim(tx: Tx, table: 'CheckTaskInstance' | 'Hazard', now: Date, batch: number): Promise<number[]> {
  const rows = await tx.$queryRaw<Array<{ id: number | bigint }>>(
    Prisma.sql`SELECT id FROM ${Prisma.raw('`' + table + '`')} WHERE nextCheckAt <= ${now} ORDER BY nextCheckAt LIMIT ${batch} FOR UPDATE SKIP LOCKED`,
  );
  return rows.map((r) => Number(r.id));
}

/*
 * The scan phases work a claimed batch as a set: load the rows and what they need in a few
 * queries, decide per row with the pure rules of server/domain/scan.ts, then write for the whole
 * batch — state updates as one UPDATE … JOIN, the alerts to clear and to open through
 * clearAlertsOf / openAlerts (a few multi-row statements). A batch costs about the same number of
 * round trips whether it holds 1 row or 500.
 */

// ───────────────────────────── phase 1: task instances ─────────────────────────────

const instanceInclude = {
  checkTask: { select: { enterpriseId: true, enabled: true, enterprise: { select: { timezone: true } }, controlMeasure: { select: { riskEvent: { select: { riskUnitId: true } } } } } },
} as const;
type ScannedInstance = Prisma.CheckTaskInstanceGetPayload<{ include: typeof instanceInclude }>;

async function scanInstances(d: TickDeps, now: Date): Promise<{ claimed: number; full: boolean }> {
  return d.prisma.$transaction(async (tx) => {
    const ids = await claim(tx, 'CheckTaskInstance', now, d.batch);
    if (ids.length === 0) return { claimed: 0, full: false };
    // window order within a task: the steps on a task's alerts are taken in the order of its windows
    const instances = await tx.checkTaskInstance.findMany({ where: { id: { in: ids } }, orderBy: [{ checkTaskId: 'asc' }, { endAt: 'asc' }], include: instanceInclude });
    const unitIds = [...new Set(instances.map((i) => i.checkTask.controlMeasure?.riskEvent.riskUnitId).filter((x): x is number => x != null))];
    const shutdowns = unitIds.length ? await tx.riskUnitShutdown.findMany({ where: { riskUnitId: { in: unitIds } } }) : [];

    const updates: Array<{ id: number; state: string | null; nextCheckAt: Date | null }> = [];
    /** per (kind, task): the steps its instances take on that alert, in window order */
    const onAlert = new Map<string, { kind: AlertKind; taskId: number; steps: Array<AlertStep<{ inst: ScannedInstance; conditionStartAt: Date }>> }>();
    const stepsOn = (kind: AlertKind, taskId: number) => {
      const k = `${kind}:${taskId}`;
      if (!onAlert.has(k)) onAlert.set(k, { kind, taskId, steps: [] });
      return onAlert.get(k)!.steps;
    };
    for (const inst of instances) {
      const unitId = inst.checkTask.controlMeasure?.riskEvent.riskUnitId;
      const suspended = unitId != null && isSuspendedBy(inst, shutdowns.filter((s) => s.riskUnitId === unitId));
      const decision = decideInstance({ state: inst.state, taskEnabled: inst.checkTask.enabled, suspended, endAt: inst.endAt, nextCheckAt: inst.nextCheckAt }, now);
      updates.push({ id: inst.id, state: decision.state ?? null, nextCheckAt: decision.nextCheckAt });
      for (const kind of decision.clear?.kinds ?? []) stepsOn(kind, inst.checkTaskId).push({ op: 'clear', reason: decision.clear!.reason });
      if (decision.open) stepsOn(decision.open.kind, inst.checkTaskId).push({ op: 'open', payload: { inst, conditionStartAt: decision.open.conditionStartAt } });
    }
    const changes = [...onAlert.values()].map((a) => ({ ...a, net: netAlertChange(a.steps) }));

    await updateInstances(tx, updates);
    await clearAlertsOf(
      tx,
      changes.flatMap((c) => (c.net.clearReason === null ? [] : [{ subjectType: 'check_task' as const, subjectId: c.taskId, kinds: [c.kind], reason: c.net.clearReason }])),
      engineClear(now),
    );
    const toOpen = changes.flatMap((c) => (c.net.open ? [{ kind: c.kind, taskId: c.taskId, opens: c.net.opens, ...c.net.open }] : []));
    if (toOpen.length) {
      const enterpriseIds = toOpen.map((o) => o.inst.checkTask.enterpriseId);
      const subjects = await loadTaskSubjects(tx, toOpen.map((o) => o.taskId));
      const holders = await loadRoleHoldersOf(tx, enterpriseIds);
      const policy = await loadPolicies(tx, enterpriseIds);
      const opened = await openAlerts(
        tx,
        toOpen.map(({ kind, taskId, opens, inst, conditionStartAt }) => {
          const subject = subjects.get(taskId);
          if (!subject) throw new Error(`CheckTask ${taskId} not found`);
          const enterpriseId = inst.checkTask.enterpriseId;
          const detail: AlertDetail = {
            type: 'task',
            tz: inst.checkTask.enterprise.timezone,
            taskCode: subject.task.code,
            taskContent: subject.task.content,
            unitName: subject.unitName,
            postName: subject.task.post?.name ?? null,
            assigneeName: subject.task.person?.name ?? null,
            windowStart: inst.startAt.toISOString(),
            windowEnd: inst.endAt.toISOString(),
            instanceId: inst.id,
            // task_overdue: every window of the batch missed since it opened
            missedCount: kind === 'task_overdue' ? opens : 1,
          };
          return { enterpriseId, kind, subjectType: 'check_task' as const, subjectId: taskId, detail, conditionStartAt, people: subject.people, holders: holders.get(enterpriseId)!, policy: policy(enterpriseId, kind), now };
        }),
      );
      // the task was already overdue: count the further misses on the open alert
      await updateAlertDetails(
        tx,
        toOpen.flatMap((o, i) => {
          if (o.kind !== 'task_overdue' || opened[i].created) return [];
          const prev = opened[i].detail;
          return [{ id: opened[i].id, detail: { ...prev, missedCount: missedCountAfter(prev.type === 'task' ? prev.missedCount : undefined, o.opens) } as AlertDetail }];
        }),
      );
    }
    return { claimed: ids.length, full: ids.length >= d.batch };
  }, TX);
}

/** The instances' new state (null = unchanged) and nextCheckAt, one UPDATE … JOIN per 500 rows. */
async function updateInstances(tx: Tx, rows: Array<{ id: number; state: string | null; nextCheckAt: Date | null }>): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) {
    const v = rows
      .slice(i, i + 500)
      .map((r, j) => (j === 0 ? Prisma.sql`SELECT ${r.id} AS id, ${r.state} AS state, ${r.nextCheckAt} AS nextCheckAt` : Prisma.sql`SELECT ${r.id}, ${r.state}, ${r.nextCheckAt}`));
    await tx.$executeRaw(Prisma.sql`
      UPDATE CheckTaskInstance t JOIN (${Prisma.join(v, ' UNION ALL ')}) v ON t.id = v.id
      SET t.state = COALESCE(v.state, t.state), t.nextCheckAt = v.nextCheckAt`);
  }
}

/** Alert.detail rewritten (the missed count of an open task_overdue), one UPDATE … JOIN per 500 rows. */
async function updateAlertDetails(tx: Tx, rows: Array<{ id: number; detail: AlertDetail }>): Promise<void> {
  const stamp = new Date();
  for (let i = 0; i < rows.length; i += 500) {
    const v = rows
      .slice(i, i + 500)
      .map((r, j) => (j === 0 ? Prisma.sql`SELECT ${r.id} AS id, ${JSON.stringify(r.detail)} AS detail` : Prisma.sql`SELECT ${r.id}, ${JSON.stringify(r.detail)}`));
    await tx.$executeRaw(Prisma.sql`UPDATE Alert a JOIN (${Prisma.join(v, ' UNION ALL ')}) v ON a.id = v.id SET a.detail = v.detail, a.updatedAt = ${stamp}`);
  }
}

// ───────────────────────────── phase 2: hazards ─────────────────────────────

async function scanHazards(d: TickDeps, now: Date): Promise<{ claimed: number; full: boolean }> {
  return d.prisma.$transaction(async (tx) => {
    const ids = await claim(tx, 'Hazard', now, d.batch);
    if (ids.length === 0) return { claimed: 0, full: false };
    const subjects = await loadHazardSubjects(tx, ids);
    const scanned = ids.map((id) => {
      const s = subjects.get(id);
      if (!s) throw new Error(`Hazard ${id} not found`);
      return s;
    });
    const live = scanned.filter((s) => s.hazard.state !== 'draft');
    const enterpriseIds = [...new Set(live.map((s) => s.hazard.enterpriseId))];
    const zones = new Map(enterpriseIds.length ? (await tx.enterprise.findMany({ where: { id: { in: enterpriseIds } }, select: { id: true, timezone: true } })).map((e) => [e.id, e.timezone]) : []);
    const policy = await loadPolicies(tx, enterpriseIds);
    // event conditions are raised once per hazard: which of these hazards already had them
    const raised = new Map<number, Set<AlertKind>>();
    if (live.length) {
      const had = await tx.alert.findMany({ where: { subjectType: 'hazard', subjectId: { in: live.map((s) => s.hazard.id) }, kind: { in: ['major_hazard', 'hazard_late_entry'] } }, select: { kind: true, subjectId: true } });
      for (const a of had) raised.set(a.subjectId, (raised.get(a.subjectId) ?? new Set()).add(a.kind as AlertKind));
    }

    const updates: Array<{ id: number; nextCheckAt: Date | null }> = [];
    const clears: ClearTarget[] = [];
    const opens: Array<{ s: HazardSubject; detail: AlertDetail; open: OpenIntent }> = [];
    for (const s of scanned) {
      const h = s.hazard;
      // a draft is not in the loop yet: decideHazard only stops watching it
      const tz = zones.get(h.enterpriseId) ?? '';
      const decision = decideHazard(h, { tz, raised: raised.get(h.id) ?? NO_KINDS, params: (kind) => policy(h.enterpriseId, kind).params }, now);
      updates.push({ id: h.id, nextCheckAt: decision.nextCheckAt });
      if (decision.clear) clears.push({ subjectType: 'hazard', subjectId: h.id, ...decision.clear });
      if (decision.open.length) {
        const detail: AlertDetail = {
          type: 'hazard',
          tz,
          hazardCode: h.code,
          hazardName: h.name,
          unitName: s.unitName,
          dangerLevel: h.dangerLevel,
          deadlineDate: h.deadlineDate,
          rectifierName: h.rectifier?.name ?? null,
          acceptorName: h.acceptor?.name ?? null,
          foundAt: h.foundAt.toISOString(),
          reportedAt: h.reportedAt.toISOString(),
          enforcementId: h.enforcementId,
          majorCriterion: h.majorCriterion,
        };
        for (const open of decision.open) opens.push({ s, detail, open });
      }
    }

    await updateHazards(tx, updates);
    await clearAlertsOf(tx, clears, engineClear(now));
    if (opens.length) {
      const holders = await loadRoleHoldersOf(tx, opens.map((o) => o.s.hazard.enterpriseId));
      await openAlerts(
        tx,
        opens.map(({ s, detail, open }) => {
          const enterpriseId = s.hazard.enterpriseId;
          return { enterpriseId, kind: open.kind, subjectType: 'hazard' as const, subjectId: s.hazard.id, detail, conditionStartAt: open.conditionStartAt, people: s.people, holders: holders.get(enterpriseId)!, policy: policy(enterpriseId, open.kind), now };
        }),
      );
    }
    return { claimed: ids.length, full: ids.length >= d.batch };
  }, TX);
}

const NO_KINDS: ReadonlySet<AlertKind> = new Set();

/** The hazards' new nextCheckAt, one UPDATE … JOIN per 500 rows (updatedAt set, as Prisma's updateMany does). */
async function updateHazards(tx: Tx, rows: Array<{ id: number; nextCheckAt: Date | null }>): Promise<void> {
  const stamp = new Date();
  for (let i = 0; i < rows.length; i += 500) {
    const v = rows.slice(i, i + 500).map((r, j) => (j === 0 ? Prisma.sql`SELECT ${r.id} AS id, ${r.nextCheckAt} AS nextCheckAt` : Prisma.sql`SELECT ${r.id}, ${r.nextCheckAt}`));
    await tx.$executeRaw(Prisma.sql`UPDATE Hazard h JOIN (${Prisma.join(v, ' UNION ALL ')}) v ON h.id = v.id SET h.nextCheckAt = v.nextCheckAt, h.updatedAt = ${stamp}`);
  }
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
