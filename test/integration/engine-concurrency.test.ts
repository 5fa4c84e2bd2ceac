/**
 * Several schedulers at once (design.md "The alert engine" §3: "Several scheduler processes may run
 * at once without double-firing"): two runtimes — two Prisma pools, as two processes would have —
 * tick the same database concurrently over hundreds of due alerts, round after round.
 */
import { createLogger } from '../../server/logger';
import { createRuntime, type Runtime } from '../../server/runtime';
import type { TickResult } from '../../server/engine/tick';
import { createTestSystem, T0, type TestSystem } from '../helpers/system';
import { DAY, HOUR, insertDueAlerts, quietDemoPlant } from '../helpers/alert-fixtures';

const ALERTS = 300;
const ROUNDS = 4;

interface Route {
  channel: string;
  destinationId: number | null;
  recipients: number[];
}

describe('two schedulers ticking the same database at once', () => {
  let sys: TestSystem;
  let other: Runtime;
  let alertIds: number[];
  const results: TickResult[][] = [];

  beforeAll(async () => {
    // g1, g2 (WeCom) and d1 (DingTalk) are active; nothing is delivered here, so the URLs are never called
    const robots = Object.fromEntries(['g1', 'g2', 'd1'].map((c) => [c, { webhook: `http://127.0.0.1:9/${c}` }]));
    // a small batch, so every tick claims many batches and the schedulers interleave
    sys = await createTestSystem({ now: T0, env: { ROBOTS: JSON.stringify(robots), TICK_BATCH: '20' } });
    other = await createRuntime(sys.config, createLogger('silent'), { clock: sys.clock, queueName: 'delivery-other' });
    await quietDemoPlant(sys.rt.prisma);

    const p = Object.fromEntries(await Promise.all(['p01', 'p02', 'p03', 'p05', 'p06', 'p16'].map(async (k) => [k, await sys.person(k)] as const)));
    const now = sys.clock.now();
    alertIds = await insertDueAlerts(sys.rt.prisma, {
      enterpriseId: sys.enterpriseId!,
      now,
      kind: 'hazard_overdue',
      // overdue by 0 min … ~4 days: the first firing lands on level 1, 2 or 3 (and later rounds escalate or repeat)
      specs: Array.from({ length: ALERTS }, (_, i) => ({
        conditionStartAt: new Date(now.getTime() - (i % 5) * DAY - (i % 7) * HOUR),
        // level 1: 胡婷 (in no group → outbox) + 刘洋 (g1); level 2: 陈志强 (g1, g2); level 3: 郑丽, 周建国 (g2), 吴海峰 (g2, d1)
        levels: [[p.p16, p.p06], [p.p05], [p.p03, p.p01, p.p02]],
      })),
    });

    for (let round = 0; round < ROUNDS; round++) {
      if (round > 0) sys.clock.advance(DAY); // every alert is due again: a repeat or an escalation
      // Promise.all rejects if any tick throws: a deadlock (1213) or lock wait timeout (1205) that
      // withRetry did not absorb fails the suite here
      results.push(await Promise.all([sys.rt.tickOnce(), other.tickOnce(), sys.rt.tickOnce(), other.tickOnce()]));
    }
  }, 180_000);

  afterAll(async () => {
    await other?.stop();
    await sys?.close();
  });

  it('claims every due alert exactly once per round across all ticks', () => {
    for (const round of results) {
      expect(round.reduce((n, r) => n + r.fired, 0)).toBe(ALERTS);
    }
    // both processes did part of the work (otherwise this test proves nothing about concurrency)
    expect(results.flat().filter((r) => r.fired > 0).length).toBeGreaterThan(1);
  });

  it('logs one firing event per alert per round, the first one "notified"', async () => {
    const events = await sys.rt.prisma.alertEvent.findMany({
      where: { alertId: { in: alertIds }, type: { in: ['notified', 'escalated', 'repeated'] } },
      orderBy: [{ alertId: 'asc' }, { at: 'asc' }],
    });
    const roundTimes = Array.from({ length: ROUNDS }, (_, r) => T0.getTime() + r * DAY);
    const byAlert = new Map<number, typeof events>();
    for (const e of events) byAlert.set(e.alertId, [...(byAlert.get(e.alertId) ?? []), e]);
    expect(byAlert.size).toBe(ALERTS);
    for (const id of alertIds) {
      const list = byAlert.get(id)!;
      expect(list.map((e) => e.at.getTime())).toEqual(roundTimes);
      expect(list.filter((e) => e.type === 'notified')).toHaveLength(1);
      expect(list[0].type).toBe('notified');
    }
  });

  it('writes exactly one notification per destination for every firing, and nothing else', async () => {
    const [events, notifications] = await Promise.all([
      sys.rt.prisma.alertEvent.findMany({ where: { alertId: { in: alertIds }, type: { in: ['notified', 'escalated', 'repeated'] } } }),
      sys.rt.prisma.notification.findMany({ where: { alertId: { in: alertIds } } }),
    ]);
    // a firing = (alert, time); a notification carries its firing time in payload.firedAt
    const actual = new Map<string, string[]>();
    for (const n of notifications) {
      const key = `${n.alertId}@${(n.payload as { firedAt: string }).firedAt}`;
      actual.set(key, [...(actual.get(key) ?? []), `${n.channel}:${n.destinationId ?? '-'}:${JSON.stringify(n.recipients)}`]);
    }
    let expectedTotal = 0;
    const destinationsSeen = new Set<string>();
    for (const e of events) {
      const routes = (e.data as unknown as { routes: Route[] }).routes;
      const expected = routes.map((r) => `${r.channel}:${r.destinationId ?? '-'}:${JSON.stringify(r.recipients)}`);
      const got = actual.get(`${e.alertId}@${e.at.toISOString()}`) ?? [];
      expect(got.sort()).toEqual(expected.sort());
      // one per destination: no destination twice in one firing
      expect(new Set(routes.map((r) => `${r.channel}:${r.destinationId}`)).size).toBe(routes.length);
      routes.forEach((r) => destinationsSeen.add(r.channel));
      expectedTotal += routes.length;
    }
    expect(notifications).toHaveLength(expectedTotal);
    expect(actual.size).toBe(events.length);
    // the scenario really reaches every kind of destination
    expect([...destinationsSeen].sort()).toEqual(['dingtalk_robot', 'outbox', 'wecom_robot']);
  });

  it('leaves every alert at the level and schedule one scheduler would have', async () => {
    const alerts = await sys.rt.prisma.alert.findMany({ where: { id: { in: alertIds } } });
    const last = T0.getTime() + (ROUNDS - 1) * DAY;
    for (const a of alerts) {
      expect(a.lastNotifiedAt?.getTime()).toBe(last);
      expect(a.nextFireAt!.getTime()).toBeGreaterThan(last);
      // overdue by ≥ 3 days by the last round: level 3 (hazard_overdue policy)
      expect(a.level).toBe(3);
    }
  });
});
