/**
 * Delivery of outbox rows (Notification) through bull (design.md "Relay").
 *
 * MySQL is the truth; bull is only the transport:
 * - relay: claims due `pending` rows (FOR UPDATE SKIP LOCKED), marks them `queued`, commits, then
 *   adds one job each with `jobId` = notification id (bull ignores a second add of a live id);
 *   a row enqueued again later gets `<id>:<enqueuedAt ms>` (see jobIdOf).
 * - worker: claims the row `queued → sending` (a duplicate or stale job finds nothing to claim and
 *   does nothing), checks the fencing token (an alert acknowledged or cleared since the row was
 *   written cancels it), takes a slot from the per-destination throttle, renders the links, sends.
 * - outcome: `sent`; throttled → back to `pending` after the wait (not an attempt); transient
 *   failure → `pending` with exponential backoff; permanent failure or too many attempts → `dead`
 *   (the dead-letter state, shown in the outbox viewer and logged on the alert's history);
 *   `fallback` (a personal channel cannot reach the person now, e.g. no subscribe consent left) →
 *   the message is written anew for their other route and this row is `cancelled` (fallBack).
 * - sweep: `queued` rows whose job Redis no longer has (Redis flushed or restarted without
 *   persistence) are re-enqueued; `sending` rows whose worker died are put back to `pending`
 *   (at least once) — except for an at-most-once channel (Channel.atMostOnce: the wechaty bot)
 *   whose platform call had begun (`sentAt` is written just before it): such a row may already be
 *   in the group, so it is dead-lettered with that reason instead of being sent twice; the alert's
 *   own repeat and escalation still reach people.
 * - queues: one bull queue per consumer. Rows of a channel listed in RelayDeps.queues (the wechaty
 *   bot's `wechat_bot`, delivered only by the process that holds the WeChat login) go to that
 *   queue; everything else to the shared one.
 *
 * Retries live in MySQL rather than in bull's `attempts` so a lost Redis loses no retry state.
 */
import Bull from 'bull';
import { Prisma, type PrismaClient } from '../db';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import type { Channel, SendResult } from '../channels/types';
import type { Throttle } from '../channels/throttle';
import type { NeutralMessage } from '../domain/message';
import type { LinkSigner } from '../services/links';
import { isLiveDestination, OUTBOX_CHANNEL, routeRecipients, type Route } from '../domain/routing';
import { withRetry } from '../engine/tick';

export interface DeliveryJob {
  notificationId: number;
}

export interface DeliveryMetrics {
  outcome(channel: string, outcome: 'sent' | 'retry' | 'throttled' | 'dead' | 'cancelled' | 'fallback'): void;
  latency(channel: string, ms: number): void;
}

export interface DeliveryDeps {
  prisma: PrismaClient;
  clock: Clock;
  log: Logger;
  channels: Map<string, Channel>;
  /** per group destination (ROBOT_RATE_LIMIT per window); not applied to personal channels */
  throttle: Throttle;
  links: LinkSigner;
  publicUrl: string;
  maxAttempts: number;
  backoffMs: number;
  metrics?: DeliveryMetrics;
  /** which group destinations are live (as the tick's): where a fallback may go besides the outbox */
  routing?: { activeRobots: ReadonlySet<string>; activeChannels?: ReadonlySet<string> };
}

/** lastError of an at-most-once row whose worker died during the platform call (see sweepOnce). */
export const SEND_INTERRUPTED = '发送过程中进程中断，消息可能已发出；为避免重复不再重发（预警仍按策略重复/升级提醒） / interrupted during the send, may have been delivered; not resent (at most once)';

/** How long a worker may hold a row in `sending` before the sweep assumes it died (ms). */
const SENDING_LEASE_MS = 5 * 60_000;
const MAX_BACKOFF_MS = 3600_000;

export type DeliveryOutcome = 'sent' | 'retry' | 'throttled' | 'dead' | 'cancelled' | 'skipped' | 'fallback';

/** Delivers one notification. Idempotent: safe to call for a row another worker already took. Returns 'skipped' (changes nothing) for a row not `queued` and for an id that is not a positive integer. */
export async function deliverNotification(d: DeliveryDeps, notificationId: number): Promise<DeliveryOutcome> {
  // a job whose hash Redis lost comes back from bull with data {} (moveToActive re-creates the hash
  // with processedOn only): without this guard `id: undefined` drops out of the where clause below
  // and one bad job claimed every queued row (found when the Redis-loss test failed in CI)
  if (!Number.isSafeInteger(notificationId) || notificationId <= 0) {
    d.log.warn({ notificationId }, 'delivery job without a valid notification id: ignored (the sweep re-enqueues lost rows)');
    return 'skipped';
  }
  const now = d.clock.now();
  // withRetry on every row update here: InnoDB can pick these one-row statements as the deadlock
  // victim next to the relay's and sweep's locking range scans (seen in delivery-robustness.test.ts);
  // a lost `sent` would leave the row `sending` and send it again after the lease
  const claimed = await withRetry(() =>
    d.prisma.notification.updateMany({
      where: { id: notificationId, state: 'queued' },
      data: { state: 'sending', nextAttemptAt: new Date(now.getTime() + SENDING_LEASE_MS) },
    }),
  );
  if (claimed.count === 0) return 'skipped';

  const n = await d.prisma.notification.findUniqueOrThrow({
    where: { id: notificationId },
    include: { alert: { select: { state: true, escalationToken: true } }, destination: { select: { id: true, code: true, channel: true } } },
  });
  const finish = async (data: Prisma.NotificationUpdateInput, outcome: DeliveryOutcome) => {
    await withRetry(() => d.prisma.notification.update({ where: { id: n.id }, data }));
    d.metrics?.outcome(n.channel, outcome as 'sent');
    return outcome;
  };

  if (n.alert.state === 'cleared' || n.alert.escalationToken !== n.escalationToken) {
    return finish({ state: 'cancelled', lastError: n.alert.state === 'cleared' ? '预警已销警，不再发送' : '预警已被确认/处置，此条提醒作废' }, 'cancelled');
  }
  const channel = d.channels.get(n.channel);
  if (!channel) return finish({ state: 'dead', lastError: `no channel "${n.channel}" in this process` }, 'dead');

  // the 20-per-minute limit is a group robot's (per destination); personal channels (WeCom app
  // cards, subscribe messages) have no destination and their own per-person limits in the channel —
  // under one shared ':none' key every card of the plant once queued behind 20 a minute
  if (n.channel !== OUTBOX_CHANNEL && n.destination) {
    const slot = await d.throttle.reserve(`${n.channel}:${n.destination.code}`);
    if (!slot.ok) {
      return finish({ state: 'pending', nextAttemptAt: new Date(now.getTime() + slot.waitMs), lastError: `throttled locally for ${slot.waitMs} ms` }, 'throttled');
    }
  }

  // an at-most-once channel: the start of the platform call is on the row before the call (see sweepOnce)
  const unmark = channel.atMostOnce ? { sentAt: null } : {};
  if (channel.atMostOnce) await withRetry(() => d.prisma.notification.update({ where: { id: n.id }, data: { sentAt: d.clock.now() } }));

  const message = n.payload as unknown as NeutralMessage;
  message.links = await Promise.all(
    message.recipients.map(async (r) => ({ personId: r.personId, name: r.name, url: await d.links.url({ alertId: n.alertId, personId: r.personId, notificationId: n.id, shared: channel.sharedAudience === true }) })),
  );
  message.alertUrl = `${d.publicUrl}/alerts/${n.alertId}`;

  let result: SendResult;
  try {
    result = await channel.send({ id: n.destination?.id ?? null, code: n.destination?.code ?? OUTBOX_CHANNEL, channel: n.channel }, message);
  } catch (e) {
    result = { ok: false, error: `channel threw: ${(e as Error).message}` };
  }
  const at = d.clock.now();
  const delivered = { ...message, delivered: result.sent ?? null } as unknown as Prisma.InputJsonValue;

  if (result.ok) {
    d.metrics?.latency(n.channel, at.getTime() - n.createdAt.getTime());
    return finish({ state: 'sent', sentAt: at, attempts: { increment: 1 }, providerMessageId: result.providerMessageId ?? null, payload: delivered, lastError: null }, 'sent');
  }
  const error = result.error.slice(0, 1000);
  if (result.fallback) {
    const outcome = await fallBack(d, n, error);
    d.metrics?.outcome(n.channel, 'fallback');
    return outcome;
  }
  if (result.retryAfterMs !== undefined && !result.permanent) {
    return finish({ state: 'pending', nextAttemptAt: new Date(at.getTime() + result.retryAfterMs), lastError: error, ...unmark }, 'throttled');
  }
  const attempts = n.attempts + 1;
  if (result.permanent || attempts >= d.maxAttempts) {
    await d.prisma.alertEvent.create({
      data: { alertId: n.alertId, type: 'delivery_failed', channel: n.channel, at, note: `${n.destination?.code ?? n.channel}: ${error}`.slice(0, 1024), data: { notificationId: n.id, attempts } },
    });
    d.log.warn({ notificationId: n.id, channel: n.channel, error, attempts }, 'notification dead-lettered');
    return finish({ state: 'dead', attempts, lastError: error, payload: delivered, ...unmark }, 'dead');
  }
  const backoff = Math.min(MAX_BACKOFF_MS, d.backoffMs * 2 ** (attempts - 1)) * (0.8 + Math.random() * 0.4);
  return finish({ state: 'pending', attempts, nextAttemptAt: new Date(at.getTime() + backoff), lastError: error, ...unmark }, 'retry');
}

/**
 * The one place a message is re-routed when its channel cannot reach the recipients now
 * (SendResult.fallback): they get it on their other route — a live group robot they are in, else
 * the local outbox (domain/routing.ts, without personal channels) — as new pending rows of the same
 * firing (same alert, level, escalation token and createdAt: an ack meanwhile still cancels them).
 * A group that already carried this firing @mentioning them is not posted to twice. In one
 * transaction: the new rows, this row `cancelled` with the reason, and an AlertEvent
 * `delivery_fallback` on the alert's history.
 */
async function fallBack(d: DeliveryDeps, n: { id: number; alertId: number; enterpriseId: number; level: number; channel: string; recipients: Prisma.JsonValue; payload: Prisma.JsonValue; escalationToken: number; createdAt: Date }, reason: string): Promise<DeliveryOutcome> {
  const recipientIds = (Array.isArray(n.recipients) ? n.recipients : []).filter((x): x is number => typeof x === 'number');
  // the payload object had links added in memory for the send: the stored form has none
  const { links: _links, alertUrl: _url, ...base } = n.payload as unknown as NeutralMessage;
  const dests = recipientIds.length
    ? await d.prisma.chatDestination.findMany({ where: { enterpriseId: n.enterpriseId, members: { some: { personId: { in: recipientIds } } } }, include: { members: { select: { personId: true } } }, orderBy: { id: 'asc' } })
    : [];
  const live = dests.filter((x) => isLiveDestination(x, d.routing?.activeRobots ?? new Set(), d.routing?.activeChannels));
  const planned = routeRecipients(recipientIds, live.map((x) => ({ id: x.id, code: x.code, channel: x.channel, memberIds: x.members.map((m) => m.personId) })), new Set(live.map((x) => x.code)));
  const siblings = await d.prisma.notification.findMany({ where: { alertId: n.alertId, createdAt: n.createdAt, id: { not: n.id }, destinationId: { not: null } }, select: { destinationId: true, recipients: true } });
  const alreadyThere = (r: Route) => r.destinationId !== null && siblings.some((x) => x.destinationId === r.destinationId && r.recipientIds.every((p) => (x.recipients as number[]).includes(p)));
  const routes = planned.filter((r) => !alreadyThere(r));
  const now = d.clock.now();
  const note = routes.length
    ? `${n.channel} 无法送达（${reason}），改由 ${routes.map((r) => r.channel).join('、')} 发送`
    : `${n.channel} 无法送达（${reason}）；本次提醒已在其所在群中发出，不再重复`;
  const created: number[] = [];
  await withRetry(() =>
    d.prisma.$transaction(async (tx) => {
      created.length = 0;
      for (const r of routes) {
        const payload: NeutralMessage = { ...base, recipients: base.recipients.filter((p) => r.recipientIds.includes(p.personId)), fallbackFrom: { notificationId: n.id, channel: n.channel, reason } };
        const row = await tx.notification.create({
          data: {
            enterpriseId: n.enterpriseId,
            alertId: n.alertId,
            level: n.level,
            channel: r.channel,
            destinationId: r.destinationId,
            recipients: r.recipientIds,
            payload: payload as unknown as Prisma.InputJsonValue,
            escalationToken: n.escalationToken,
            state: 'pending',
            nextAttemptAt: now,
            createdAt: n.createdAt,
          },
        });
        created.push(row.id);
      }
      await tx.notification.update({ where: { id: n.id }, data: { state: 'cancelled', lastError: `fallback: ${note}`.slice(0, 1024) } });
      await tx.alertEvent.create({ data: { alertId: n.alertId, type: 'delivery_fallback', channel: n.channel, at: now, note: note.slice(0, 1024), data: { notificationId: n.id, fallbackIds: created, recipients: recipientIds } } });
    }),
  );
  d.log.info({ notificationId: n.id, channel: n.channel, reason, fallbackIds: created }, 'notification re-routed to the recipients\' other channel');
  return 'fallback';
}

export interface RelayDeps {
  prisma: PrismaClient;
  clock: Clock;
  queue: Bull.Queue<DeliveryJob>;
  /** channel → the queue of the process that delivers it (e.g. `wechat_bot` → the bot's); others use `queue` */
  queues?: Record<string, Bull.Queue<DeliveryJob>>;
  log: Logger;
  batch: number;
  staleMs: number;
}

const queueOf = (d: RelayDeps, channel: string): Bull.Queue<DeliveryJob> =>
  d.queues && Object.prototype.hasOwnProperty.call(d.queues, channel) ? d.queues[channel] : d.queue;

/** Adds jobs, each to its channel's queue. */
async function addJobs(d: RelayDeps, jobs: Array<{ channel: string; id: number; jobId: string }>): Promise<void> {
  const byQueue = new Map<Bull.Queue<DeliveryJob>, typeof jobs>();
  for (const j of jobs) {
    const q = queueOf(d, j.channel);
    byQueue.set(q, [...(byQueue.get(q) ?? []), j]);
  }
  for (const [q, list] of byQueue) await q.addBulk(list.map((j) => ({ data: { notificationId: j.id }, opts: { ...JOB_OPTIONS, jobId: j.jobId } })));
}

export const JOB_OPTIONS: Bull.JobOptions = { removeOnComplete: true, removeOnFail: true, attempts: 1 };

/**
 * The bull job id of one enqueue of a row: the notification id the first time, `<id>:<enqueuedAt ms>`
 * when the row is enqueued again (after a throttle, a retry or a lost job). Why not always the id:
 * the worker writes `pending` before bull completes (and removes) the job, so a relay in that gap
 * re-added a still-live id, bull silently ignored it, and the row sat `queued` without a job until
 * the sweep (RELAY_STALE_MS later) — test/integration/delivery-robustness.test.ts.
 */
export function jobIdOf(id: number, reEnqueuedAt: Date | null): string {
  return reEnqueuedAt ? `${id}:${reEnqueuedAt.getTime()}` : String(id);
}

/**
 * Moves due `pending` rows to bull. @returns how many rows were enqueued.
 * Rows are marked `queued` and committed first: if the add to Redis then fails, the sweep
 * re-enqueues them; a job whose row is not `queued` is a no-op in the worker.
 */
export async function relayOnce(d: RelayDeps): Promise<number> {
  let total = 0;
  for (let i = 0; i < 20; i++) {
    const now = d.clock.now();
    const claimed = await withRetry(() =>
      d.prisma.$transaction(async (tx) => {
        const rows = await tx.$queryRaw<Array<{ id: number | bigint; enqueuedAt: Date | null; channel: string }>>(
          Prisma.sql`SELECT id, enqueuedAt, channel FROM Notification WHERE state = 'pending' AND nextAttemptAt <= ${now} ORDER BY nextAttemptAt LIMIT ${d.batch} FOR UPDATE SKIP LOCKED`,
        );
        const ids = rows.map((r) => Number(r.id));
        if (ids.length) await tx.notification.updateMany({ where: { id: { in: ids } }, data: { state: 'queued', enqueuedAt: now } });
        return rows.map((r) => ({ id: Number(r.id), again: r.enqueuedAt !== null, channel: r.channel }));
      }),
    );
    if (claimed.length === 0) break;
    await addJobs(d, claimed.map(({ id, again, channel }) => ({ channel, id, jobId: jobIdOf(id, again ? now : null) })));
    total += claimed.length;
    if (claimed.length < d.batch) break;
  }
  return total;
}

/**
 * Re-arms what Redis lost or a dead worker left behind. @returns rows re-enqueued or reset.
 */
export async function sweepOnce(d: RelayDeps): Promise<number> {
  const now = d.clock.now();
  const stale = new Date(now.getTime() - d.staleMs);
  let fixed = 0;
  const queued = await d.prisma.notification.findMany({ where: { state: 'queued', enqueuedAt: { lt: stale } }, select: { id: true, enqueuedAt: true, channel: true }, take: 1000, orderBy: { enqueuedAt: 'asc' } });
  const lost: Array<{ id: number; channel: string }> = [];
  for (const { id, enqueuedAt, channel } of queued) {
    const q = queueOf(d, channel);
    const job = (await q.getJob(jobIdOf(id, enqueuedAt))) ?? (await q.getJob(jobIdOf(id, null)));
    if (!job || (await job.isFailed()) || (await job.isCompleted())) {
      if (job) await job.remove().catch(() => undefined);
      lost.push({ id, channel });
    }
  }
  if (lost.length) {
    await withRetry(() => d.prisma.notification.updateMany({ where: { id: { in: lost.map((l) => l.id) }, state: 'queued' }, data: { enqueuedAt: now } }));
    await addJobs(d, lost.map(({ id, channel }) => ({ channel, id, jobId: jobIdOf(id, now) })));
    d.log.warn({ count: lost.length }, 're-enqueued notifications whose jobs Redis no longer had');
    fixed += lost.length;
  }
  // at-most-once channels: the platform call had begun (sentAt) — maybe posted, so never posted
  // again; the alert's history says so (delivery_failed), like any other dead letter
  const interrupted = await d.prisma.notification.findMany({
    where: { state: 'sending', nextAttemptAt: { lt: now }, sentAt: { not: null } },
    select: { id: true, alertId: true, channel: true, attempts: true, destination: { select: { code: true } } },
    take: 1000,
  });
  let unknown = 0;
  for (const n of interrupted) {
    const done = await withRetry(() =>
      d.prisma.$transaction(async (tx) => {
        // guarded by state: another sweep, or the worker finishing late, may have moved it already
        const { count } = await tx.notification.updateMany({ where: { id: n.id, state: 'sending' }, data: { state: 'dead', lastError: SEND_INTERRUPTED } });
        if (count === 1) {
          await tx.alertEvent.create({
            data: { alertId: n.alertId, type: 'delivery_failed', channel: n.channel, at: now, note: `${n.destination?.code ?? n.channel}: ${SEND_INTERRUPTED}`.slice(0, 1024), data: { notificationId: n.id, attempts: n.attempts, interrupted: true } },
          });
        }
        return count;
      }),
    );
    unknown += done;
  }
  if (unknown) d.log.warn({ count: unknown }, 'at-most-once notifications interrupted while sending: dead-lettered, not sent again');
  const dead = await withRetry(() =>
    d.prisma.notification.updateMany({
      where: { state: 'sending', nextAttemptAt: { lt: now }, sentAt: null },
      data: { state: 'pending', nextAttemptAt: now, lastError: 'worker stopped while sending; retrying (may duplicate)' },
    }),
  );
  return fixed + unknown + dead.count;
}

/** The bull queue every role shares (prefix keeps installs sharing one Redis apart). */
export function createDeliveryQueue(redisUrl: string, prefix: string, name = 'delivery'): Bull.Queue<DeliveryJob> {
  return new Bull<DeliveryJob>(name, redisUrl, { prefix, settings: { stalledInterval: 30_000, maxStalledCount: 1 } });
}

/** Starts processing jobs with `concurrency` parallel deliveries. */
export function startWorker(queue: Bull.Queue<DeliveryJob>, d: DeliveryDeps, concurrency: number): void {
  void queue.process(concurrency, async (job) => {
    const outcome = await deliverNotification(d, (job.data as Partial<DeliveryJob> | undefined)?.notificationId as number);
    return { outcome };
  });
}
