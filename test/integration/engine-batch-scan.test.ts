/**
 * The scan phases work a claimed batch as a set (server/engine/tick.ts, server/domain/scan.ts):
 * several missed windows of one task in one batch, an overdue task missing more windows later, and
 * batches where some alerts are new and some were open already. And the set-based batch must come
 * to exactly what the same rows come to one at a time: the same scenario runs on two plants, one
 * ticking with TICK_BATCH=500 and one with TICK_BATCH=1 (every row its own transaction, the rule
 * taken row by row), and their alerts, alert events, instances and hazards are compared.
 *
 * Real MariaDB + Redis, the demo plant, a manual clock (T0 = 2026-11-30 12:00 Asia/Shanghai).
 */
import type { Prisma, PrismaClient } from '../../server/db';
import { createTestSystem, T0, type TestSystem } from '../helpers/system';

const MIN = 60_000;
const H = 60 * MIN;
const DAY = 24 * H;

/** ticks until a tick finds nothing due (scans and firing), at the clock's current now */
async function tickUntilIdle(sys: TestSystem): Promise<number> {
  for (let n = 1; n <= 500; n++) {
    const r = await sys.rt.tickOnce();
    if (r.instances === 0 && r.hazards === 0 && r.fired === 0) return n;
  }
  throw new Error('the engine did not go idle in 500 ticks');
}

const taskId = async (sys: TestSystem, code: string) => (await sys.rt.prisma.checkTask.findFirstOrThrow({ where: { code } })).id;

describe('several windows of a task in one batch', () => {
  let sys: TestSystem;
  let t8: number;
  beforeAll(async () => {
    sys = await createTestSystem({ now: T0 });
    await sys.rt.generateOnce();
    await tickUntilIdle(sys);
    t8 = await taskId(sys, 'T8'); // hourly, 00:00–24:00
  });
  afterAll(async () => sys?.close());

  const overdueOf = (task: number) => sys.rt.prisma.alert.findMany({ where: { kind: 'task_overdue', subjectType: 'check_task', subjectId: task }, include: { events: { orderBy: { id: 'asc' } } }, orderBy: { id: 'asc' } });

  test('five hourly windows missed at once: one task_overdue alert from the first window, counting five misses, opened once', async () => {
    sys.clock.advance(5 * H);
    await tickUntilIdle(sys);
    const missed = await sys.rt.prisma.checkTaskInstance.findMany({ where: { checkTaskId: t8, state: 'missed' }, orderBy: { endAt: 'asc' } });
    expect(missed).toHaveLength(5);
    const [a, ...more] = await overdueOf(t8);
    expect(more).toEqual([]);
    expect(a.state).toBe('open');
    expect(a.conditionStartAt).toEqual(missed[0].endAt);
    expect(a.detail).toMatchObject({ type: 'task', instanceId: missed[0].id, windowEnd: missed[0].endAt.toISOString(), missedCount: 5 });
    expect(a.events.filter((e) => e.type === 'opened')).toHaveLength(1);
    expect(a.events.map((e) => e.type)).toEqual(['opened', 'notified']);
    expect(a.level).toBe(1);
    // no reminder left open for a window that ended (17:00 local: the current window is not due soon yet)
    const dueSoon = await sys.rt.prisma.alert.findMany({ where: { kind: 'task_due_soon', subjectId: t8 }, orderBy: { id: 'asc' } });
    expect(dueSoon.filter((x) => x.state !== 'cleared')).toEqual([]);
    for (const x of dueSoon) expect(x.clearReason).toBe('排查时段已结束，转为逾期未排查');
  });

  test('a day later, more windows missed: the same alert counts them (no new alert, no second "opened"), while other tasks\' first overdue alerts open in the same batch', async () => {
    const overdueBefore = new Set((await sys.rt.prisma.alert.findMany({ where: { kind: 'task_overdue' }, select: { subjectId: true } })).map((a) => a.subjectId));
    sys.clock.advance(DAY);
    await sys.rt.generateOnce();
    await tickUntilIdle(sys);
    const missed = await sys.rt.prisma.checkTaskInstance.count({ where: { checkTaskId: t8, state: 'missed' } });
    expect(missed).toBeGreaterThanOrEqual(5 + 24);
    const [a, ...more] = await overdueOf(t8);
    expect(more).toEqual([]);
    expect((a.detail as { missedCount: number }).missedCount).toBe(missed);
    expect(a.events.filter((e) => e.type === 'opened')).toHaveLength(1);
    const fresh = await sys.rt.prisma.alert.findMany({ where: { kind: 'task_overdue', subjectId: { notIn: [...overdueBefore] } }, include: { events: { where: { type: 'opened' } } } });
    expect(fresh.length).toBeGreaterThan(0);
    for (const f of fresh) expect(f.events).toHaveLength(1);
  });

  test('every open alert has exactly one "opened" event and a committed fencing token (≥ 0)', async () => {
    const alerts = await sys.rt.prisma.alert.findMany({ include: { events: { where: { type: 'opened' } } } });
    expect(alerts.length).toBeGreaterThan(10);
    for (const a of alerts) {
      expect(a.events).toHaveLength(1);
      expect(a.escalationToken).toBeGreaterThanOrEqual(0);
    }
  });
});

// ─────────────────────────────────────────────────────────────────────────────────────────────

/** What the engine left in a plant, keyed by natural keys (codes, window starts), without row timestamps. */
async function snapshot(prisma: PrismaClient) {
  const tasks = new Map((await prisma.checkTask.findMany({ select: { id: true, code: true } })).map((t) => [t.id, t.code]));
  const hazards = await prisma.hazard.findMany({ select: { id: true, code: true, state: true, nextCheckAt: true }, orderBy: { code: 'asc' } });
  const hazardCode = new Map(hazards.map((h) => [h.id, h.code]));
  const instances = await prisma.checkTaskInstance.findMany({ select: { id: true, checkTaskId: true, startAt: true, state: true, nextCheckAt: true } });
  const window = new Map(instances.map((i) => [i.id, `${tasks.get(i.checkTaskId)}@${i.startAt.toISOString()}`]));
  const subject = (type: string, id: number) => (type === 'check_task' ? tasks.get(id) : type === 'hazard' ? hazardCode.get(id) : `${type}:${id}`);
  const alerts = await prisma.alert.findMany({ include: { events: true, notifications: { select: { level: true, channel: true, recipients: true, state: true } } }, orderBy: { id: 'asc' } });
  return {
    instances: instances.map((i) => ({ window: window.get(i.id), state: i.state, nextCheckAt: i.nextCheckAt })).sort((x, y) => x.window!.localeCompare(y.window!)),
    hazards: hazards.map(({ code, state, nextCheckAt }) => ({ code, state, nextCheckAt })),
    alerts: alerts
      .map((a) => {
        const detail = { ...(a.detail as Record<string, unknown>) };
        if (typeof detail.instanceId === 'number') detail.instanceId = window.get(detail.instanceId);
        return {
          key: `${a.kind} ${subject(a.subjectType, a.subjectId)} ${a.conditionStartAt.toISOString()}`,
          openKey: a.openKey === null ? null : a.openKey.split(':').slice(0, 2).join(':'),
          state: a.state,
          level: a.level,
          title: a.title,
          detail,
          policySnapshot: a.policySnapshot,
          recipients: a.recipients,
          nextFireAt: a.nextFireAt,
          lastNotifiedAt: a.lastNotifiedAt,
          escalationToken: a.escalationToken,
          clearedAt: a.clearedAt,
          clearKind: a.clearKind,
          clearReason: a.clearReason,
          events: a.events
            .map((e) => ({ type: e.type, level: e.level, channel: e.channel, actorId: e.actorId, note: e.note, at: e.at, data: e.data }))
            .sort((x, y) => x.at.getTime() - y.at.getTime() || x.type.localeCompare(y.type)),
          notifications: a.notifications.map((n) => `${n.level} ${n.channel} ${JSON.stringify(n.recipients)} ${n.state}`).sort(),
        };
      })
      .sort((x, y) => x.key.localeCompare(y.key)),
  };
}

describe('a batch comes to what its rows come to one at a time (TICK_BATCH 500 vs 1)', () => {
  let batched: TestSystem;
  let single: TestSystem;
  const both = () => [batched, single];

  beforeAll(async () => {
    batched = await createTestSystem({ now: T0, env: { TICK_BATCH: '500' } });
    single = await createTestSystem({ now: T0, env: { TICK_BATCH: '1' } });
  }, 120_000);
  afterAll(async () => {
    await batched?.close();
    await single?.close();
  });

  /** the same steps on both plants */
  async function onBoth(step: (sys: TestSystem) => Promise<void>) {
    for (const sys of both()) await step(sys);
  }

  /** hazards of every kind the hazard scan tells apart, due now */
  async function reportHazards(sys: TestSystem, prefix: string) {
    const now = sys.clock.now();
    const p = sys.rt.prisma;
    const units = await p.riskUnit.findMany({ orderBy: { id: 'asc' } });
    const reporterId = await sys.person('p10');
    const rectifierId = await sys.person('p16');
    const acceptorId = await sys.person('p06');
    const base = { enterpriseId: sys.enterpriseId!, dangerSrc: 1, hazardDangerType: 4, dangerManageType: 1, foundAt: now, reportedAt: now, reporterId, nextCheckAt: now };
    const kinds: Array<[string, { state: string } & Partial<Prisma.HazardUncheckedCreateInput>]> = [
      ['overdue', { state: 'rectifying', rectifierId, acceptorId, deadlineAt: new Date(now.getTime() - H), deadlineDate: '2026-11-29' }],
      ['due soon', { state: 'rectifying', rectifierId, acceptorId, deadlineAt: new Date(now.getTime() + 2 * DAY), deadlineDate: '2026-12-02' }],
      ['not yet due', { state: 'rectifying', rectifierId, deadlineAt: new Date(now.getTime() + 20 * DAY), deadlineDate: '2026-12-20' }],
      ['重大, due soon', { state: 'reported', dangerLevel: 1, majorCriterion: 3, deadlineAt: new Date(now.getTime() + 5 * DAY), deadlineDate: '2026-12-05' }],
      ['government finding entered late', { state: 'reported', dangerSrc: 10, enforcementId: 'ZF-2026-001', foundAt: new Date(now.getTime() - 12 * DAY) }],
      ['awaiting acceptance, overdue', { state: 'awaiting_acceptance', rectifierId, acceptorId, deadlineAt: new Date(now.getTime() - DAY), deadlineDate: '2026-11-28' }],
      ['no deadline', { state: 'reported' }],
      ['draft', { state: 'draft', dangerLevel: 1 }],
      ['accepted', { state: 'accepted', rectifierId, acceptorId, deadlineAt: new Date(now.getTime() - DAY) }],
    ];
    let n = 0;
    for (let copy = 0; copy < 3; copy++) {
      for (const [name, data] of kinds) {
        n++;
        await p.hazard.create({ data: { ...base, code: `${prefix}${String(n).padStart(3, '0')}`, name: `${name} #${copy}`, riskUnitId: units[n % units.length].id, ...data } });
      }
    }
  }

  test('the demo plant at T0, then 9 kinds of hazards, then a day later with hazards closed and extended: the same alerts, events, instances, hazards', async () => {
    await onBoth(async (sys) => {
      await sys.rt.generateOnce();
      await tickUntilIdle(sys);
      await reportHazards(sys, 'YHBATCH');
      await tickUntilIdle(sys);
    });
    expect(await snapshot(batched.rt.prisma)).toEqual(await snapshot(single.rt.prisma));

    await onBoth(async (sys) => {
      const p = sys.rt.prisma;
      const now = sys.clock.now();
      // some close, one gets an extension (its overdue alert ends), one loses its deadline
      const hs = await p.hazard.findMany({ where: { code: { startsWith: 'YHBATCH' } }, orderBy: { code: 'asc' } });
      await p.hazard.update({ where: { id: hs[0].id }, data: { state: 'accepted', nextCheckAt: now } });
      await p.hazard.update({ where: { id: hs[3].id }, data: { state: 'rejected', nextCheckAt: now } });
      await p.hazard.update({ where: { id: hs[9].id }, data: { deadlineAt: new Date(now.getTime() + 30 * DAY), deadlineDate: '2026-12-30', nextCheckAt: now } });
      await p.hazard.update({ where: { id: hs[10].id }, data: { deadlineAt: null, deadlineDate: null, nextCheckAt: now } });
      await reportHazards(sys, 'YHLATER');
      // alerts open so far fire after the jump, not at it: with TICK_BATCH=1 a tick scans 20 rows per
      // phase and then fires, so a repeat could go out before a later row of the same tick clears
      // its alert — an interleaving of phases, not of rows, that the comparison must not see
      await p.alert.updateMany({ where: { nextFireAt: { not: null } }, data: { nextFireAt: new Date(now.getTime() + 3 * DAY) } });
      // a day and a half later: many windows of every task missed in one go
      sys.clock.advance(DAY + 12 * H);
      await sys.rt.generateOnce();
      await tickUntilIdle(sys);
    });
    const a = await snapshot(batched.rt.prisma);
    expect(a.alerts.filter((x) => x.state === 'cleared').length).toBeGreaterThan(5);
    expect(a.alerts.some((x) => (x.detail as { missedCount?: number }).missedCount! > 10)).toBe(true);
    expect(a).toEqual(await snapshot(single.rt.prisma));
  }, 240_000);
});
