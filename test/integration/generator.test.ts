/**
 * generateInstances (server/services/instances.ts) against a real MariaDB/MySQL: the demo plant and
 * tasks created directly, a manual clock, one throw-away database per describe.
 *
 * Expected local times are read back with Intl ('sv-SE' prints 'YYYY-MM-DD HH:mm'), independently
 * of server/domain/time.ts, and the stored DATETIME(3) values are read as text with
 * CAST(… AS CHAR) so an instant shifted on the way in AND on the way out (the Prisma + MySQL 8 h
 * pitfall, design.md) cannot hide behind a symmetric round trip.
 *
 * Holiday dates come from chinese-days' data (node_modules/chinese-days/dist/chinese-days.json):
 * 2026 国庆 is 10-01..10-07 with make-up working days 2026-09-20 (Sunday) and 2026-10-10
 * (Saturday); 中秋 is 09-25..09-27.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { createTestDb, type TestDb } from '../helpers/db';
import type { PrismaClient } from '../../server/db';
import { ManualClock } from '../../server/clock';
import { createLogger } from '../../server/logger';
import { loadConfig } from '../../server/config';
import { generateInstances } from '../../server/services/instances';
import { DEFAULT_POLICIES, taskDueSoonAt } from '../../server/domain/escalation';
import { loadDemoPlant } from '../../prisma/seed';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');

const MIN = 60_000;
const H = 3_600_000;
const DAY = 24 * H;
/** the configured default look-ahead (LOOKAHEAD_HOURS = 48) */
const LOOKAHEAD = loadConfig({ DATABASE_URL: 'mysql://root@127.0.0.1:3306/x' }).lookaheadMs;
/** 2026-11-30 12:00 Asia/Shanghai, a Monday (same instant as test/helpers/system.ts T0) */
const T0 = new Date('2026-11-30T04:00:00.000Z');
const SH = 'Asia/Shanghai';
const BERLIN = 'Europe/Berlin';
const log = createLogger('silent');

const fmt = new Map<string, Intl.DateTimeFormat>();
/** 'YYYY-MM-DD HH:mm' of an instant in `tz` (oracle independent of the code under test). */
function local(d: Date, tz: string): string {
  let f = fmt.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('sv-SE', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    fmt.set(tz, f);
  }
  return f.format(d);
}

/** Instances in a stable order, without database-assigned ids and timestamps. */
async function instanceRows(prisma: PrismaClient, where: { checkTaskId?: number } = {}) {
  const rows = await prisma.checkTaskInstance.findMany({ where, orderBy: [{ checkTaskId: 'asc' }, { startAt: 'asc' }] });
  return rows.map((r) => ({
    enterpriseId: r.enterpriseId,
    checkTaskId: r.checkTaskId,
    startAt: r.startAt.toISOString(),
    endAt: r.endAt.toISOString(),
    state: r.state,
    nextCheckAt: r.nextCheckAt?.toISOString() ?? null,
  }));
}

/** The stored DATETIME text of a task's windows ('YYYY-MM-DD HH:MM:SS.mmm', UTC by design). */
async function storedWindows(prisma: PrismaClient, checkTaskId: number): Promise<Array<[string, string]>> {
  const rows = await prisma.$queryRaw<Array<{ s: string; e: string }>>`
    SELECT CAST(startAt AS CHAR) AS s, CAST(endAt AS CHAR) AS e FROM CheckTaskInstance WHERE checkTaskId = ${checkTaskId} ORDER BY startAt`;
  return rows.map((r) => [r.s, r.e]);
}

const taskId = async (prisma: PrismaClient, code: string, enterpriseId?: number) =>
  (await prisma.checkTask.findFirstOrThrow({ where: { code, ...(enterpriseId ? { enterpriseId } : {}) }, select: { id: true } })).id;

/** A local-midnight instant, computed with a fixed offset (Asia/Shanghai has no DST). */
const shanghaiMidnight = (date: string) => new Date(`${date}T00:00:00+08:00`);

async function createEnterprise(prisma: PrismaClient, code: string, timezone: string) {
  return prisma.enterprise.create({ data: { companyCode: code, name: `测试企业 ${code}`, timezone } });
}

async function createTask(
  prisma: PrismaClient,
  enterpriseId: number,
  code: string,
  s: { checkCycle: number; checkCycleUnit: string; taskStartTime: Date; activeFrom: Date; workStartTime?: string; workEndTime?: string; workDayType?: number },
) {
  return prisma.checkTask.create({
    data: {
      enterpriseId,
      code,
      content: `测试任务 ${code}`,
      checkMeans: '现场确认',
      workDayType: 0,
      ...s,
    },
  });
}

// ─────────────────────────────────────────────────────────────────────────────────────────────
describe('generateInstances on the demo plant', () => {
  let db: TestDb;
  let prisma: PrismaClient;
  const clock = new ManualClock(T0.getTime());
  const gen = () => generateInstances({ prisma, clock, log, lookaheadMs: LOOKAHEAD });
  let taskCount: number;
  let first: Awaited<ReturnType<typeof instanceRows>>;

  beforeAll(async () => {
    db = await createTestDb();
    prisma = db.prisma;
    await loadDemoPlant(prisma, { now: T0 });
    taskCount = await prisma.checkTask.count({ where: { enabled: true } });
  });
  afterAll(async () => db?.drop());

  test('the first run visits every task and creates their instances', async () => {
    expect(LOOKAHEAD).toBe(48 * H);
    expect(taskCount).toBe(19); // T1–T14, B1–B5
    const r = await gen();
    expect(r.tasks).toBe(taskCount);
    first = await instanceRows(prisma);
    expect(r.created).toBe(first.length);
    expect(new Set(first.map((i) => i.checkTaskId)).size).toBe(taskCount);
  });

  test('idempotent: a second run at the same instant changes nothing; a forced full re-run inserts nothing new', async () => {
    const withIds = await prisma.checkTaskInstance.findMany({ orderBy: { id: 'asc' } });
    expect(await gen()).toEqual({ tasks: 0, created: 0 });
    // forget the cursors: every task is visited again and every window already exists
    await prisma.checkTask.updateMany({ data: { generatedUntil: null } });
    expect(await gen()).toEqual({ tasks: taskCount, created: 0 });
    expect(await prisma.checkTaskInstance.findMany({ orderBy: { id: 'asc' } })).toEqual(withIds);
    expect(await instanceRows(prisma)).toEqual(first);
  });

  test('bounded: no instance starts at or after now + LOOKAHEAD, and hourly tasks reach up to it', async () => {
    const until = T0.getTime() + LOOKAHEAD;
    for (const i of first) expect(Date.parse(i.startAt)).toBeLessThan(until);
    // T8 (hourly, 00:00–24:00): 12:00 today … 11:00 the day after tomorrow = 48 slots
    const t8 = await instanceRows(prisma, { checkTaskId: await taskId(prisma, 'T8') });
    expect(t8).toHaveLength(48);
    expect(t8[0].startAt).toBe(T0.toISOString());
    expect(Date.parse(t8[t8.length - 1].startAt)).toBe(until - H);
    // cursors sit at now + LOOKAHEAD
    const cursors = await prisma.checkTask.findMany({ select: { generatedUntil: true } });
    expect(new Set(cursors.map((c) => c.generatedUntil?.toISOString()))).toEqual(new Set([new Date(until).toISOString()]));
  });

  test('cheap: a run a minute later visits 0 tasks; tasks are revisited only once half the look-ahead is used', async () => {
    clock.set(T0.getTime() + MIN);
    expect(await gen()).toEqual({ tasks: 0, created: 0 });
    clock.set(T0.getTime() + LOOKAHEAD / 2);
    expect(await gen()).toEqual({ tasks: 0, created: 0 });
    clock.set(T0.getTime() + LOOKAHEAD / 2 + 1);
    const r = await gen();
    expect(r.tasks).toBe(taskCount);
    expect(r.created).toBeGreaterThan(0);
    clock.advance(MIN);
    expect(await gen()).toEqual({ tasks: 0, created: 0 });
  });

  test('never creates an instance ending at or before activeFrom (no invented missed checks)', async () => {
    const tasks = await prisma.checkTask.findMany({ select: { id: true, activeFrom: true, taskStartTime: true } });
    const activeFrom = new Map(tasks.map((t) => [t.id, t.activeFrom.getTime()]));
    for (const t of tasks) expect(t.taskStartTime.getTime()).toBeLessThanOrEqual(T0.getTime()); // anchors lie before the load…
    for (const i of await instanceRows(prisma)) expect(Date.parse(i.endAt)).toBeGreaterThan(activeFrom.get(i.checkTaskId)!); // …yet nothing ends before it
    // T1's 2 h slots from 00:00 to 12:00 today ended before the plant was loaded at 12:00
    const t1 = await instanceRows(prisma, { checkTaskId: await taskId(prisma, 'T1') });
    expect(local(new Date(t1[0].startAt), SH)).toBe('2026-11-30 12:00');
  });

  test('a task started a year ago but activated now starts now; one activated in the future generates nothing before then', async () => {
    const ent = (await prisma.enterprise.findFirstOrThrow()).id;
    const now = clock.now();
    const old = await createTask(prisma, ent, 'OLD', { checkCycle: 1, checkCycleUnit: '小时', taskStartTime: new Date(now.getTime() - 365 * DAY), activeFrom: now });
    const later = await createTask(prisma, ent, 'LATER', { checkCycle: 1, checkCycleUnit: '天', taskStartTime: shanghaiMidnight('2026-11-01'), activeFrom: new Date(now.getTime() + 5 * DAY) });
    const r = await gen();
    expect(r.tasks).toBe(2);
    const rows = await instanceRows(prisma, { checkTaskId: old.id });
    expect(rows.length).toBeGreaterThanOrEqual(48);
    expect(rows.length).toBeLessThanOrEqual(49);
    expect(Date.parse(rows[0].startAt)).toBeLessThanOrEqual(now.getTime());
    expect(Date.parse(rows[0].endAt)).toBeGreaterThan(now.getTime());
    expect(await prisma.checkTaskInstance.count({ where: { checkTaskId: later.id } })).toBe(0);
    // once the clock gets there, its first window is the day holding activeFrom
    clock.set(now.getTime() + 5 * DAY);
    await gen();
    const l = await instanceRows(prisma, { checkTaskId: later.id });
    expect(l.length).toBeGreaterThan(0);
    for (const i of l) expect(Date.parse(i.endAt)).toBeGreaterThan(now.getTime() + 5 * DAY);
    expect(local(new Date(l[0].startAt), SH)).toBe(`${local(new Date(now.getTime() + 5 * DAY), SH).slice(0, 10)} 00:00`);
    await prisma.checkTask.updateMany({ where: { id: { in: [old.id, later.id] } }, data: { enabled: false } });
  });

  test('runs in steps leave no gaps and no overlaps (the cursor hands over exactly)', async () => {
    for (const code of ['T1', 'T8', 'T5', 'T6', 'B1']) {
      const rows = await instanceRows(prisma, { checkTaskId: await taskId(prisma, code) });
      for (let k = 1; k < rows.length; k++) {
        if (code === 'T5') expect(Date.parse(rows[k].startAt) - Date.parse(rows[k - 1].startAt)).toBe(DAY);
        else expect(rows[k].startAt).toBe(rows[k - 1].endAt);
      }
    }
  });

  test("each instance's nextCheckAt is its due-soon moment", async () => {
    for (const i of await instanceRows(prisma)) {
      expect(i.state).toBe('pending');
      expect(i.nextCheckAt).toBe(taskDueSoonAt(new Date(i.startAt), new Date(i.endAt), DEFAULT_POLICIES.task_due_soon.params).toISOString());
    }
  });

  test('tasks are read in pages: a small batch size still visits every task once and duplicates nothing', async () => {
    const before = await instanceRows(prisma);
    await prisma.checkTask.updateMany({ data: { generatedUntil: null } });
    const enabled = await prisma.checkTask.count({ where: { enabled: true } });
    expect(await generateInstances({ prisma, clock, log, lookaheadMs: LOOKAHEAD, batch: 4 })).toEqual({ tasks: enabled, created: 0 });
    expect(await instanceRows(prisma)).toEqual(before);
  });

  test('T1 (2 h grid over 00:00–24:00) is stored as UTC instants on the Shanghai clock', async () => {
    const id = await taskId(prisma, 'T1');
    const stored = await storedWindows(prisma, id);
    expect(stored.slice(0, 3)).toEqual([
      ['2026-11-30 04:00:00.000', '2026-11-30 06:00:00.000'], // 12:00–14:00 Shanghai
      ['2026-11-30 06:00:00.000', '2026-11-30 08:00:00.000'],
      ['2026-11-30 08:00:00.000', '2026-11-30 10:00:00.000'],
    ]);
    // 22:00–24:00 Shanghai straddles the UTC day: 14:00Z–16:00Z
    expect(stored).toContainEqual(['2026-11-30 14:00:00.000', '2026-11-30 16:00:00.000']);
    expect(stored).toContainEqual(['2026-11-30 16:00:00.000', '2026-11-30 18:00:00.000']); // 00:00–02:00 on 12-01
    for (const i of await instanceRows(prisma, { checkTaskId: id })) {
      const s = local(new Date(i.startAt), SH);
      expect(Number(s.slice(11, 13)) % 2).toBe(0);
      expect(s.slice(14)).toBe('00');
      expect(Date.parse(i.endAt) - Date.parse(i.startAt)).toBe(2 * H);
    }
  });

  test('T5 (12 h over 08:00–20:00) is one slot a day, 08:00–20:00 Shanghai, due soon at 17:36', async () => {
    const id = await taskId(prisma, 'T5');
    const stored = await storedWindows(prisma, id);
    expect(stored.slice(0, 3)).toEqual([
      ['2026-11-30 00:00:00.000', '2026-11-30 12:00:00.000'],
      ['2026-12-01 00:00:00.000', '2026-12-01 12:00:00.000'],
      ['2026-12-02 00:00:00.000', '2026-12-02 12:00:00.000'],
    ]);
    const rows = await instanceRows(prisma, { checkTaskId: id });
    expect(rows.slice(0, 3).map((i) => `${local(new Date(i.startAt), SH)} → ${local(new Date(i.endAt), SH)} (${local(new Date(i.nextCheckAt!), SH)})`)).toEqual([
      '2026-11-30 08:00 → 2026-11-30 20:00 (2026-11-30 17:36)',
      '2026-12-01 08:00 → 2026-12-01 20:00 (2026-12-01 17:36)',
      '2026-12-02 08:00 → 2026-12-02 20:00 (2026-12-02 17:36)',
    ]);
  });
});

describe('a risk unit shut down for maintenance (停用检修)', () => {
  let db: TestDb;
  let prisma: PrismaClient;
  const clock = new ManualClock(T0.getTime());
  beforeAll(async () => {
    db = await createTestDb();
    prisma = db.prisma;
    await loadDemoPlant(prisma, { now: T0 });
  });
  afterAll(async () => db?.drop());

  test('instances generated inside a planned shutdown are born suspended, never due; the others stay pending', async () => {
    // RU2 (氯化反应釜 R-201) is down tomorrow 08:00–16:00 Shanghai; T8 (hourly, CL_OP) runs on it
    const unit = await prisma.riskUnit.findFirstOrThrow({ where: { code: 'RU2' } });
    const start = new Date('2026-12-01T00:00:00.000Z');
    const end = new Date('2026-12-01T08:00:00.000Z');
    await prisma.riskUnitShutdown.create({ data: { riskUnitId: unit.id, startAt: start, endAt: end, reason: '检修' } });
    await generateInstances({ prisma, clock, log, lookaheadMs: LOOKAHEAD });
    const t8 = await instanceRows(prisma, { checkTaskId: await taskId(prisma, 'T8') });
    const inside = t8.filter((i) => new Date(i.startAt) < end && new Date(i.endAt) > start);
    expect(inside).toHaveLength(8);
    expect(inside.every((i) => i.state === 'suspended' && i.nextCheckAt === null)).toBe(true);
    const outside = t8.filter((i) => !inside.includes(i));
    expect(outside.length).toBeGreaterThan(20);
    expect(outside.every((i) => i.state === 'pending' && i.nextCheckAt !== null)).toBe(true);
    // a task on another unit is untouched
    const t10 = await instanceRows(prisma, { checkTaskId: await taskId(prisma, 'T10') });
    expect(t10.every((i) => i.state === 'pending')).toBe(true);
  });
});

// ─────────────────────────────────────────────────────────────────────────────────────────────
describe('an enterprise in Europe/Berlin', () => {
  let db: TestDb;
  let prisma: PrismaClient;
  // Saturday 2026-10-24 12:00 CEST; the night of 10-25 turns the clocks back (03:00 CEST → 02:00 CET)
  const NOW = new Date('2026-10-24T10:00:00.000Z');
  const clock = new ManualClock(NOW.getTime());
  let daily: number;
  let hourly: number;

  beforeAll(async () => {
    db = await createTestDb();
    prisma = db.prisma;
    const ent = await createEnterprise(prisma, '900000001', BERLIN);
    // taskStartTime in the afternoon: the daily grid still starts at local midnight
    daily = (await createTask(prisma, ent.id, 'BD', { checkCycle: 1, checkCycleUnit: '天', taskStartTime: new Date('2026-10-20T13:30:00.000Z'), activeFrom: NOW })).id;
    hourly = (await createTask(prisma, ent.id, 'BH', { checkCycle: 4, checkCycleUnit: '小时', workStartTime: '08:00', workEndTime: '20:00', taskStartTime: new Date('2026-10-20T13:30:00.000Z'), activeFrom: NOW })).id;
    await generateInstances({ prisma, clock, log, lookaheadMs: LOOKAHEAD });
  });
  afterAll(async () => db?.drop());

  test('daily windows are anchored on Berlin midnight (the 25 h day included), not on UTC or Shanghai midnight', async () => {
    const rows = await instanceRows(prisma, { checkTaskId: daily });
    expect(rows.map((i) => [i.startAt, i.endAt])).toEqual([
      ['2026-10-23T22:00:00.000Z', '2026-10-24T22:00:00.000Z'], // 10-24 00:00 CEST → 10-25 00:00 CEST
      ['2026-10-24T22:00:00.000Z', '2026-10-25T23:00:00.000Z'], // 10-25: 25 h long
      ['2026-10-25T23:00:00.000Z', '2026-10-26T23:00:00.000Z'], // 10-26 00:00 CET → 10-27 00:00 CET
    ]);
    for (const i of rows) {
      expect(local(new Date(i.startAt), BERLIN).slice(11)).toBe('00:00');
      expect(local(new Date(i.endAt), BERLIN).slice(11)).toBe('00:00');
    }
    expect(await storedWindows(prisma, daily)).toContainEqual(['2026-10-24 22:00:00.000', '2026-10-25 23:00:00.000']);
  });

  test('hourly slots follow the Berlin wall clock across the change (08/12/16:00 local)', async () => {
    const rows = await instanceRows(prisma, { checkTaskId: hourly });
    expect(rows.map((i) => `${local(new Date(i.startAt), BERLIN)} → ${local(new Date(i.endAt), BERLIN)}`)).toEqual([
      // 08:00–12:00 on the 24th ended when the task became active (12:00)
      '2026-10-24 12:00 → 2026-10-24 16:00',
      '2026-10-24 16:00 → 2026-10-24 20:00',
      '2026-10-25 08:00 → 2026-10-25 12:00',
      '2026-10-25 12:00 → 2026-10-25 16:00',
      '2026-10-25 16:00 → 2026-10-25 20:00',
      '2026-10-26 08:00 → 2026-10-26 12:00',
    ]);
    expect(rows.map((i) => i.startAt)).toEqual([
      '2026-10-24T10:00:00.000Z',
      '2026-10-24T14:00:00.000Z',
      '2026-10-25T07:00:00.000Z',
      '2026-10-25T11:00:00.000Z',
      '2026-10-25T15:00:00.000Z',
      '2026-10-26T07:00:00.000Z',
    ]);
  });
});

// ─────────────────────────────────────────────────────────────────────────────────────────────
describe('calendars in Asia/Shanghai: statutory working days and month ends', () => {
  let db: TestDb;
  let prisma: PrismaClient;
  let enterpriseId: number;
  const clock = new ManualClock(0);
  const gen = () => generateInstances({ prisma, clock, log, lookaheadMs: LOOKAHEAD });
  /** Runs the generator every 12 h over [from, to), like the scheduler would (every minute, but cheaper). */
  async function runThrough(from: Date, to: Date) {
    for (let t = from.getTime(); t < to.getTime(); t += 12 * H) {
      clock.set(t);
      await gen();
    }
  }

  beforeAll(async () => {
    db = await createTestDb();
    prisma = db.prisma;
    enterpriseId = (await createEnterprise(prisma, '900000002', SH)).id;
  });
  afterAll(async () => db?.drop());

  test('a daily task on statutory working days (workDayType 1) skips 中秋/国庆 2026 and works the 调休 weekend days', async () => {
    const start = shanghaiMidnight('2026-09-14');
    const t = await createTask(prisma, enterpriseId, 'WD', { checkCycle: 1, checkCycleUnit: '天', workDayType: 1, taskStartTime: start, activeFrom: start });
    await runThrough(start, shanghaiMidnight('2026-10-12'));
    const rows = await instanceRows(prisma, { checkTaskId: t.id });
    for (const i of rows) expect(Date.parse(i.endAt) - Date.parse(i.startAt)).toBe(DAY); // whole local days
    const days = rows.map((i) => local(new Date(i.startAt), SH)).filter((d) => d.slice(0, 10) <= '2026-10-12');
    expect(days.every((d) => d.endsWith(' 00:00'))).toBe(true);
    expect(days.map((d) => d.slice(0, 10))).toEqual([
      '2026-09-14', '2026-09-15', '2026-09-16', '2026-09-17', '2026-09-18',
      // 09-19 Saturday off; 09-20 Sunday is a 国庆 make-up working day
      '2026-09-20',
      '2026-09-21', '2026-09-22', '2026-09-23', '2026-09-24',
      // 09-25..09-27 中秋 (Fri–Sun)
      '2026-09-28', '2026-09-29', '2026-09-30',
      // 10-01..10-07 国庆
      '2026-10-08', '2026-10-09',
      '2026-10-10', // Saturday make-up working day
      // 10-11 Sunday off
      '2026-10-12',
    ]);
  });

  test('a monthly task started on the 31st gets Jan 31, Feb 28, Mar 31, Apr 30 (each from the anchor, clamped)', async () => {
    const start = shanghaiMidnight('2026-01-31');
    const t = await createTask(prisma, enterpriseId, 'M31', { checkCycle: 1, checkCycleUnit: '月', taskStartTime: start, activeFrom: start });
    await runThrough(start, shanghaiMidnight('2026-05-01'));
    const rows = await instanceRows(prisma, { checkTaskId: t.id });
    expect(rows.slice(0, 4).map((i) => `${local(new Date(i.startAt), SH)} → ${local(new Date(i.endAt), SH)}`)).toEqual([
      '2026-01-31 00:00 → 2026-02-28 00:00',
      '2026-02-28 00:00 → 2026-03-31 00:00',
      '2026-03-31 00:00 → 2026-04-30 00:00',
      '2026-04-30 00:00 → 2026-05-31 00:00',
    ]);
    expect(await storedWindows(prisma, t.id)).toContainEqual(['2026-02-27 16:00:00.000', '2026-03-30 16:00:00.000']);
  });
});

// ─────────────────────────────────────────────────────────────────────────────────────────────
describe('the host time zone does not matter', () => {
  let db: TestDb;
  let prisma: PrismaClient;
  // 01:00 on 12-01 in Shanghai while it is still 11-30 in UTC; 7 days ahead crosses a month start
  const NOW = '2026-11-30T17:00:00.000Z';
  const LOOK = 7 * DAY;

  beforeAll(async () => {
    db = await createTestDb();
    prisma = db.prisma;
    await loadDemoPlant(prisma, { now: T0 });
    const berlin = await createEnterprise(prisma, '900000003', BERLIN);
    await createTask(prisma, berlin.id, 'BD', { checkCycle: 1, checkCycleUnit: '天', workDayType: 1, taskStartTime: new Date('2026-11-02T12:00:00Z'), activeFrom: T0 });
    await createTask(prisma, berlin.id, 'BH', { checkCycle: 3, checkCycleUnit: '小时', workStartTime: '22:00', workEndTime: '06:00', taskStartTime: new Date('2026-11-02T12:00:00Z'), activeFrom: T0 });
  });
  afterAll(async () => db?.drop());

  async function generateIn(tz: string) {
    await prisma.checkTaskInstance.deleteMany();
    await prisma.checkTask.updateMany({ data: { generatedUntil: null } });
    const { stdout } = await run(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join('test', 'helpers', 'generate-child.ts')], {
      cwd: ROOT,
      env: { ...process.env, TZ: tz, TS_NODE_PROJECT: 'tsconfig.json', DATABASE_URL: db.url, NOW, LOOKAHEAD_MS: String(LOOK) },
      timeout: 120_000,
    });
    const out = JSON.parse(stdout.trim().split('\n').pop()!) as { tasks: number; created: number; hostTz: string; hostOffsetMinutes: number };
    return { out, rows: await instanceRows(prisma), cursors: (await prisma.checkTask.findMany({ orderBy: { id: 'asc' }, select: { id: true, generatedUntil: true } })) };
  }

  test('child processes under TZ=UTC and TZ=Asia/Shanghai write identical rows', async () => {
    const utc = await generateIn('UTC');
    const sh = await generateIn('Asia/Shanghai');
    // the children really ran under different host zones
    expect(utc.out.hostOffsetMinutes).toBe(0);
    expect(sh.out.hostOffsetMinutes).toBe(-480);
    expect(utc.out.tasks).toBe(21);
    expect(utc.out.created).toBeGreaterThan(300);
    expect(sh.out).toEqual({ ...utc.out, hostTz: sh.out.hostTz, hostOffsetMinutes: -480 });
    expect(sh.rows).toEqual(utc.rows);
    expect(sh.cursors).toEqual(utc.cursors);
    // and the same as this process (whatever TZ jest runs under)
    await prisma.checkTaskInstance.deleteMany();
    await prisma.checkTask.updateMany({ data: { generatedUntil: null } });
    await generateInstances({ prisma, clock: new ManualClock(Date.parse(NOW)), log, lookaheadMs: LOOK });
    expect(await instanceRows(prisma)).toEqual(utc.rows);
  }, 240_000);
});
