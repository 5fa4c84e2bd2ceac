/**
 * Delivery through the real bull worker on real Redis (design.md "The alert engine" §4 and "Known
 * pitfalls"): MySQL is the truth, so losing Redis mid-run loses nothing and duplicates nothing; the
 * per-robot throttle keeps a robot under its 20-per-window limit without losing a message; and a
 * graceful stop lets the delivery in progress finish.
 *
 * The bull worker is started the production way (ROLES=worker, rt.start()); relay and sweep — the
 * scheduler role's loops — are driven from the test so that each step is visible.
 */
import type { Channel, Destination, SendResult } from '../../server/channels/types';
import { OutboxChannel } from '../../server/channels/outbox';
import { WecomRobotChannel } from '../../server/channels/wecom-robot';
import { createPrisma } from '../../server/db';
import { deliverNotification } from '../../server/jobs/delivery';
import type { NeutralMessage } from '../../server/domain/message';
import { FakeWecomRobot } from '../fakes/wecom-robot';
import { createTestSystem, type TestSystem } from '../helpers/system';
import { alertCodesIn, deleteRedisKeys, followRealTime, insertDueAlerts, quietDemoPlant, waitFor } from '../helpers/alert-fixtures';

const contentOf = (body: Record<string, unknown>): string => {
  const part = body[body.msgtype as string] as { content: string };
  return part.content;
};

/** Number of times each alert code was received by the fake for `key`. */
function receivedCodes(fake: FakeWecomRobot, key: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of fake.received.filter((r) => r.key === key)) {
    const codes = alertCodesIn(contentOf(m.body));
    expect(codes).toHaveLength(1);
    counts.set(codes[0], (counts.get(codes[0]) ?? 0) + 1);
  }
  return counts;
}

/** Inserts `count` alerts addressed to 赵小军 (p07, member of g1 only) and ticks: one wecom_robot row each. */
async function fireToG1(sys: TestSystem, count: number): Promise<number[]> {
  await quietDemoPlant(sys.rt.prisma);
  const p07 = await sys.person('p07');
  const ids = await insertDueAlerts(sys.rt.prisma, {
    enterpriseId: sys.enterpriseId!,
    now: sys.clock.now(),
    specs: Array.from({ length: count }, () => ({ conditionStartAt: sys.clock.now(), levels: [[p07]] })),
  });
  await sys.rt.tickOnce();
  const rows = await sys.rt.prisma.notification.findMany({ where: { alertId: { in: ids } } });
  expect(rows).toHaveLength(count);
  expect(new Set(rows.map((r) => r.channel))).toEqual(new Set(['wecom_robot']));
  return ids;
}

describe('Redis loses every key mid-run', () => {
  const fake = new FakeWecomRobot({ rateLimit: 1000 });
  let sys: TestSystem;
  let stopClock = () => undefined as void;

  beforeAll(async () => {
    await fake.start();
    fake.addKey('k-g1');
    const robots = { g1: { webhook: fake.webhookUrl('k-g1') } };
    // every webhook call takes ≥ 40 ms, so the run is still going when Redis is wiped
    const slowFetch: typeof fetch = async (input, init) => {
      await new Promise((r) => setTimeout(r, 40));
      return fetch(input, init);
    };
    sys = await createTestSystem({
      now: new Date(),
      env: { ROLES: 'worker', ROBOTS: JSON.stringify(robots), WORKER_CONCURRENCY: '2', RELAY_STALE_MS: '1000', ROBOT_RATE_LIMIT: '1000' },
      channels: [new OutboxChannel(), new WecomRobotChannel({ robots, fetch: slowFetch })],
    });
    stopClock = followRealTime(sys.clock);
  });
  afterAll(async () => {
    stopClock();
    await sys?.close();
    await fake.stop();
  });

  it('re-enqueues from MySQL: every notification arrives exactly once and ends sent', async () => {
    const ids = await fireToG1(sys, 40);
    await sys.rt.start();
    expect(await sys.rt.relayOnce()).toBe(40);

    await waitFor(() => fake.received.length >= 8, 'the first deliveries');
    // "FLUSHALL" for this system only: other test files share this Redis (see deleteRedisKeys)
    expect(await deleteRedisKeys(sys.config.redisUrl, sys.prefix)).toBeGreaterThan(0);
    const undelivered = await sys.rt.prisma.notification.count({ where: { alertId: { in: ids }, state: { not: 'sent' } } });
    expect(undelivered).toBeGreaterThan(10); // the loss really hit waiting jobs

    // the scheduler's relay and sweep loops, as they would run (RELAY_STALE_MS = 1 s)
    let rearmed = 0;
    await waitFor(
      async () => {
        await sys.rt.relayOnce();
        rearmed += await sys.rt.sweepOnce();
        return (await sys.rt.prisma.notification.count({ where: { alertId: { in: ids }, state: 'sent' } })) === 40;
      },
      'all 40 rows sent',
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    expect(rearmed).toBeGreaterThan(0);

    const codes = receivedCodes(fake, 'k-g1');
    const expected = ids.map((id) => `A${id}`).sort();
    expect([...codes.keys()].sort()).toEqual(expected);
    expect([...codes.values()].every((n) => n === 1)).toBe(true);
    expect(fake.rejected).toEqual([]);

    const rows = await sys.rt.prisma.notification.findMany({ where: { alertId: { in: ids } } });
    expect(rows.every((r) => r.state === 'sent' && r.attempts === 1 && r.sentAt !== null)).toBe(true);
    // and nothing arrives late: no job left behind delivers a second copy
    await sys.rt.sweepOnce();
    await new Promise((r) => setTimeout(r, 300));
    expect(fake.received).toHaveLength(40);
  }, 90_000);
});

describe('50 alerts to one robot', () => {
  const WINDOW = 3000;
  const fake = new FakeWecomRobot({ rateLimit: 20, windowMs: WINDOW, blockMs: WINDOW });
  let sys: TestSystem;
  let stopClock = () => undefined as void;

  beforeAll(async () => {
    await fake.start();
    fake.addKey('k-g1');
    sys = await createTestSystem({
      now: new Date(),
      env: {
        ROLES: 'worker',
        ROBOTS: JSON.stringify({ g1: { webhook: fake.webhookUrl('k-g1') } }),
        WORKER_CONCURRENCY: '4',
        RELAY_STALE_MS: '1000',
        ROBOT_RATE_LIMIT: '20',
        ROBOT_RATE_WINDOW_MS: String(WINDOW),
        ROBOT_RATE_MARGIN_MS: '300',
      },
    });
    stopClock = followRealTime(sys.clock);
  });
  afterAll(async () => {
    stopClock();
    await sys?.close();
    await fake.stop();
  });

  it('are all delivered, never more than 20 in any window, none lost, the robot never trips', async () => {
    const ids = await fireToG1(sys, 50);
    await sys.rt.start();
    await waitFor(
      async () => {
        await sys.rt.relayOnce();
        await sys.rt.sweepOnce();
        return (await sys.rt.prisma.notification.count({ where: { alertId: { in: ids }, state: 'sent' } })) === 50;
      },
      'all 50 rows sent',
      { timeoutMs: 60_000, intervalMs: 50 },
    );

    expect(fake.rejected).toEqual([]); // we never hit the platform's limit (no 45009)
    expect(fake.maxInAnyWindow('k-g1', WINDOW)).toBeLessThanOrEqual(20);
    expect(fake.received).toHaveLength(50);
    const codes = receivedCodes(fake, 'k-g1');
    expect([...codes.keys()].sort()).toEqual(ids.map((id) => `A${id}`).sort());
    // 50 > 2 × 20: the throttle must have spread them over at least three windows
    const times = fake.received.map((m) => m.receivedAt);
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThanOrEqual(2 * WINDOW);
    const rows = await sys.rt.prisma.notification.findMany({ where: { alertId: { in: ids } } });
    // being throttled locally is not a failed attempt
    expect(rows.every((r) => r.state === 'sent' && r.attempts === 1)).toBe(true);
  }, 90_000);
});

/** wecom_robot stand-in whose send() takes `ms`; records when sends start and end. */
class SlowChannel implements Channel {
  readonly name = 'wecom_robot';
  started = 0;
  finished = 0;
  constructor(private readonly ms: number) {}
  async send(_d: Destination, m: NeutralMessage): Promise<SendResult> {
    this.started++;
    await new Promise((r) => setTimeout(r, this.ms));
    this.finished++;
    return { ok: true, sent: { text: m.title } };
  }
}

describe('graceful stop', () => {
  const slow = new SlowChannel(1000);
  let sys: TestSystem;

  beforeAll(async () => {
    sys = await createTestSystem({
      env: { ROLES: 'worker', ROBOTS: JSON.stringify({ g1: { webhook: 'http://127.0.0.1:9/unused' } }) },
      channels: [new OutboxChannel(), slow],
    });
  });
  afterAll(async () => sys?.close());

  it('rt.stop() during a delivery lets it finish (row sent) and resolves well under 10 s', async () => {
    const [id] = await fireToG1(sys, 1);
    await sys.rt.start();
    await sys.rt.relayOnce();
    await waitFor(() => slow.started === 1, 'the delivery to start');
    expect(slow.finished).toBe(0);

    const t0 = Date.now();
    await sys.rt.stop();
    const ms = Date.now() - t0;
    expect(slow.finished).toBe(1);
    expect(ms).toBeLessThan(5000);

    // the runtime's pool is closed now: read with a fresh client
    const prisma = createPrisma({ databaseUrl: sys.dbUrl, databasePoolSize: 1 });
    try {
      const row = await prisma.notification.findFirstOrThrow({ where: { alertId: id } });
      expect(row.state).toBe('sent');
      expect(row.attempts).toBe(1);
    } finally {
      await prisma.$disconnect();
    }
  }, 30_000);
});

describe('a row relayed again while its previous job is still finishing', () => {
  const fake = new FakeWecomRobot();
  let sys: TestSystem;

  beforeAll(async () => {
    await fake.start();
    fake.addKey('k-g1');
    sys = await createTestSystem({ env: { ROLES: 'worker', ROBOTS: JSON.stringify({ g1: { webhook: fake.webhookUrl('k-g1') } }) } });
  });
  afterAll(async () => {
    await sys?.close();
    await fake.stop();
  });

  it('is still delivered without waiting for the sweep', async () => {
    const [id] = await fireToG1(sys, 1);
    fake.failNext('k-g1', 45009); // the robot throttles us: the row goes back to pending for 60 s
    let interleaved = false;
    // the production processor, plus the relay loop (another process) running in the few ms
    // between the worker's write of `pending` and bull's completion of the job
    void sys.rt.queue.process(1, async (job) => {
      const outcome = await deliverNotification(sys.rt.delivery, job.data.notificationId);
      if (outcome === 'throttled' && !interleaved) {
        interleaved = true;
        sys.clock.advance(60_000);
        expect(await sys.rt.relayOnce()).toBe(1);
      }
      return { outcome };
    });
    await sys.rt.relayOnce();
    await waitFor(async () => (await sys.rt.prisma.notification.findFirstOrThrow({ where: { alertId: id } })).state === 'sent', 'the row to be sent', { timeoutMs: 10_000 });
    expect(interleaved).toBe(true);
    expect(fake.received).toHaveLength(1);
  }, 30_000);
});

describe('a job that comes back from Redis without its data', () => {
  const fake = new FakeWecomRobot();
  let sys: TestSystem;

  beforeAll(async () => {
    await fake.start();
    fake.addKey('k-g1');
    sys = await createTestSystem({ env: { ROLES: 'worker', WORKER_CONCURRENCY: '1', ROBOTS: JSON.stringify({ g1: { webhook: fake.webhookUrl('k-g1') } }) } });
  });
  afterAll(async () => {
    await sys?.close();
    await fake.stop();
  });

  // bull re-creates a deleted job hash with processedOn only, so the worker sees data {}; an
  // undefined id once dropped out of the claim's where clause and took every queued row
  it('changes no other row: a direct call and a job with data {} are both skipped, and every row is still delivered', async () => {
    const ids = await fireToG1(sys, 3);
    // queued as the relay leaves them, but with no job yet
    await sys.rt.prisma.notification.updateMany({ where: { alertId: { in: ids } }, data: { state: 'queued', enqueuedAt: sys.clock.now() } });
    expect(await deliverNotification(sys.rt.delivery, undefined as unknown as number)).toBe('skipped');
    expect(await deliverNotification(sys.rt.delivery, Number.NaN)).toBe('skipped');
    const queued = await sys.rt.prisma.notification.count({ where: { alertId: { in: ids }, state: 'queued' } });
    expect(queued).toBe(3);

    // the empty job is first in line (FIFO, one at a time): the rows' own jobs come after it
    await sys.rt.queue.add({} as never, { jobId: 'lost-data', removeOnComplete: true });
    await sys.rt.prisma.notification.updateMany({ where: { alertId: { in: ids } }, data: { state: 'pending', enqueuedAt: null } });
    expect(await sys.rt.relayOnce()).toBe(3);
    await sys.rt.start();
    await waitFor(async () => (await sys.rt.prisma.notification.count({ where: { alertId: { in: ids }, state: 'sent' } })) === 3, 'all 3 rows sent', { timeoutMs: 10_000 });
    expect(fake.received).toHaveLength(3);
  }, 30_000);
});

/** A personal channel (no destination: one message per person), as the WeCom app's cards are. */
class PersonalChannel implements Channel {
  readonly name = 'wecom_app';
  sent = 0;
  async send(d: Destination, m: NeutralMessage): Promise<SendResult> {
    expect(d.id).toBeNull();
    this.sent++;
    return { ok: true, sent: { text: m.title } };
  }
}

describe('personal channels and the group robots’ 20 per minute', () => {
  const personal = new PersonalChannel();
  let sys: TestSystem;

  beforeAll(async () => {
    sys = await createTestSystem({
      env: { ROLES: 'worker', ROBOTS: JSON.stringify({ g1: { webhook: 'http://127.0.0.1:9/unused' } }), ROBOT_RATE_LIMIT: '20' },
      channels: [new OutboxChannel(), personal],
    });
  });
  afterAll(async () => sys?.close());

  // the robot limit is per group destination; cards to 30 people are 30 different conversations
  // (WeCom's own per-member limit lives in the channel) — they once all shared one ':none' window
  it('30 personal messages go out at once, none held back as throttled', async () => {
    const ids = await fireToG1(sys, 30);
    await sys.rt.prisma.notification.updateMany({ where: { alertId: { in: ids } }, data: { channel: 'wecom_app', destinationId: null, state: 'queued', enqueuedAt: sys.clock.now() } });
    const rows = await sys.rt.prisma.notification.findMany({ where: { alertId: { in: ids } }, select: { id: true } });
    const outcomes = [];
    for (const r of rows) outcomes.push(await deliverNotification(sys.rt.delivery, r.id));
    expect(outcomes).toEqual(Array(30).fill('sent'));
    expect(personal.sent).toBe(30);
  });
});
