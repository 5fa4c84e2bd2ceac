/**
 * prisma/seed.ts against a real MariaDB/MySQL (one throw-away database per describe).
 * `now` is fixed at 2026-03-11T20:00:00Z = 2026-03-12 04:00 (a Thursday) in Asia/Shanghai, so the
 * UTC date and the local date differ: a loader computing local dates in UTC fails here.
 */
import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import path from 'path';
import { createTestDb, type TestDb } from '../helpers/db';
import type { PrismaClient } from '../../server/db';
import { ALERT_KINDS, DEFAULT_POLICIES, parsePolicy } from '../../server/domain/escalation';
import {
  DemoDataError,
  isDatabaseEmpty,
  loadDemoPlant,
  readDemoData,
  taskStartAnchor,
  type DemoData,
  type LoadResult,
} from '../../prisma/seed';

const DAY = 86_400_000;
const NOW = new Date('2026-03-11T20:00:00.000Z');
const TZ = 'Asia/Shanghai';
const at = (iso: string) => new Date(iso);
const demo = (): DemoData => structuredClone(readDemoData());

/** Every row the loader writes, in a stable order (full rows, timestamps included). */
async function snapshot(prisma: PrismaClient) {
  const byId = { orderBy: { id: 'asc' as const } };
  return {
    enterprises: await prisma.enterprise.findMany(byId),
    departments: await prisma.department.findMany(byId),
    posts: await prisma.post.findMany(byId),
    people: await prisma.person.findMany(byId),
    majorHazardSources: await prisma.majorHazardSource.findMany(byId),
    riskObjects: await prisma.riskObject.findMany(byId),
    riskUnits: await prisma.riskUnit.findMany(byId),
    riskEvents: await prisma.riskEvent.findMany(byId),
    controlMeasures: await prisma.controlMeasure.findMany(byId),
    checkTasks: await prisma.checkTask.findMany(byId),
    hazards: await prisma.hazard.findMany(byId),
    hazardTransitions: await prisma.hazardTransition.findMany(byId),
    chatDestinations: await prisma.chatDestination.findMany(byId),
    chatDestinationMembers: await prisma.chatDestinationMember.findMany({ orderBy: [{ destinationId: 'asc' }, { personId: 'asc' }] }),
    escalationPolicies: await prisma.escalationPolicy.findMany(byId),
    regulatorScopes: await prisma.regulatorScope.findMany({ orderBy: [{ personId: 'asc' }, { enterpriseId: 'asc' }] }),
  };
}

async function rowCounts(prisma: PrismaClient): Promise<Record<string, number>> {
  const s = await snapshot(prisma);
  return Object.fromEntries(Object.entries(s).map(([k, rows]) => [k, rows.length]));
}

describe('loadDemoPlant: first load and re-load', () => {
  let db: TestDb;
  let prisma: PrismaClient;
  let first: LoadResult;
  let second: LoadResult;
  let before: Awaited<ReturnType<typeof snapshot>>;
  let after: Awaited<ReturnType<typeof snapshot>>;
  let emptyBefore: boolean;
  const ids = new Map<string, number>();
  const person = (code: string) => {
    const id = ids.get(code);
    if (id === undefined) throw new Error(`no person ${code}`);
    return id;
  };

  beforeAll(async () => {
    db = await createTestDb();
    prisma = db.prisma;
    emptyBefore = await isDatabaseEmpty(prisma);
    first = await loadDemoPlant(prisma, { now: NOW });
    before = await snapshot(prisma);
    for (const p of before.people) ids.set(p.code, p.id);
    second = await loadDemoPlant(prisma, { now: new Date(NOW.getTime() + 40 * DAY) });
    after = await snapshot(prisma);
  });
  afterAll(async () => {
    await db?.drop();
  });

  test('isDatabaseEmpty before and after', async () => {
    expect(emptyBefore).toBe(true);
    expect(await isDatabaseEmpty(prisma)).toBe(false);
  });

  test('first load creates the enterprise, the second finds it', () => {
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.enterpriseId).toBe(first.enterpriseId);
    // the plant and the park authority its demo regulator belongs to (DEMO_REGULATOR)
    expect(before.enterprises).toHaveLength(2);
    expect(before.enterprises[0]).toMatchObject({ id: first.enterpriseId, companyCode: '320411901', timezone: TZ, name: '示范化工（演示）有限公司' });
    expect(before.enterprises[1]).toMatchObject({ companyCode: 'PARK-320411', timezone: TZ, park: '常州新北区化工园区（演示）' });
  });

  test('counts', () => {
    expect(before.majorHazardSources).toHaveLength(2);
    expect(before.riskObjects).toHaveLength(4);
    expect(before.riskUnits).toHaveLength(4);
    expect(before.checkTasks).toHaveLength(19);
    expect(before.checkTasks.filter((t) => t.controlMeasureId !== null)).toHaveLength(14);
    expect(before.checkTasks.filter((t) => t.majorHazardSourceId !== null && t.controlMeasureId === null)).toHaveLength(5);
    expect(before.people.filter((p) => p.enterpriseId === first.enterpriseId)).toHaveLength(17);
    expect(before.people).toHaveLength(18); // + the park's regulator
    expect(before.hazards).toHaveLength(4);
    expect(before.escalationPolicies).toHaveLength(7);
    expect(before.chatDestinations).toHaveLength(3);
    expect(before.departments).toHaveLength(7);
    expect(before.posts).toHaveLength(16);
    expect(before.riskEvents).toHaveLength(6);
    expect(before.controlMeasures).toHaveLength(13);
    expect(before.chatDestinationMembers).toHaveLength(17);
    expect(before.hazardTransitions).toHaveLength(7); // 4 reports + 3 confirmations
    expect(first.summary.checkTasks).toEqual({ created: 19, updated: 0, unchanged: 0 });
    expect(first.summary.hazards.created).toBe(4);
    expect(first.summary.regulators).toEqual({ created: 3, updated: 0, unchanged: 0 }); // authority, person, scope
  });

  test('the demo regulator: 园区监管员 r01 of the park authority, role regulator only, reads the plant', () => {
    const authority = before.enterprises.find((e) => e.companyCode === 'PARK-320411')!;
    const r01 = before.people.find((p) => p.code === 'r01')!;
    expect(r01).toMatchObject({ enterpriseId: authority.id, name: '园区监管员', roles: ['regulator'], postId: null, departmentId: null, active: true });
    expect(before.regulatorScopes).toEqual([{ personId: r01.id, enterpriseId: first.enterpriseId }]);
    // nobody of the plant is a regulator, the regulator is in no plant list
    expect(before.people.filter((p) => (p.roles as string[]).includes('regulator')).map((p) => p.code)).toEqual(['r01']);
    expect(before.chatDestinationMembers.some((m) => m.personId === r01.id)).toBe(false);
  });

  test('loading twice changes no counts and no row (times included)', () => {
    expect(after).toEqual(before);
    for (const [table, c] of Object.entries(second.summary)) {
      expect({ table, created: c.created, updated: c.updated }).toEqual({ table, created: 0, updated: 0 });
    }
    expect(second.summary.hazards.unchanged).toBe(4);
  });

  test('department heads and the department tree', () => {
    const dept = new Map(before.departments.map((d) => [d.code, d]));
    const headOf = (code: string) => before.people.find((p) => p.id === dept.get(code)?.headPersonId)?.code ?? null;
    expect(headOf('TANK')).toBe('p05');
    expect(headOf('CL')).toBe('p09');
    expect(headOf('HY')).toBe('p12');
    expect(headOf('SAFE')).toBe('p03');
    expect(headOf('PROD')).toBe('p02');
    expect(headOf('EQUIP')).toBeNull();
    expect(headOf('INST')).toBeNull();
    for (const c of ['CL', 'HY', 'TANK']) expect(dept.get(c)?.parentId).toBe(dept.get('PROD')?.id);
    expect(dept.get('SAFE')?.parentId).toBeNull();
  });

  test('people: post, department from the post, chat identities', () => {
    const p05 = before.people.find((p) => p.code === 'p05')!;
    const tankMgr = before.posts.find((p) => p.code === 'TANK_MGR')!;
    expect(p05).toMatchObject({ name: '陈志强', postId: tankMgr.id, departmentId: tankMgr.departmentId, mobile: '13800000005', wecomUserId: 'ChenZhiQiang', dingtalkUserId: 'dt0005' });
    const p02 = before.people.find((p) => p.code === 'p02')!;
    expect(p02.departmentId).toBeNull(); // 生产副总经理: his post has no department
    const tankOp = before.posts.find((p) => p.code === 'TANK_OP')!;
    expect(tankOp.leaderPostId).toBe(before.posts.find((p) => p.code === 'TANK_LEAD')!.id);
  });

  test('roles', () => {
    const roles = Object.fromEntries(before.people.map((p) => [p.code, p.roles]));
    expect(roles).toEqual({
      p01: ['principal', 'enterprise_admin'],
      p02: ['technical_head'],
      p03: ['safety_director', 'safety_dept'],
      p04: ['safety_dept'],
      p05: ['department_head', 'operational_head'],
      p06: ['post_leader'],
      p07: ['frontline'],
      p08: ['frontline'],
      p09: ['department_head'],
      p10: ['post_leader'],
      p11: ['frontline'],
      p12: ['department_head'],
      p13: ['post_leader'],
      p14: ['frontline'],
      p15: ['frontline'],
      p16: ['frontline'],
      p17: ['frontline'],
      r01: ['regulator'],
    });
  });

  test('重大危险源, risk objects, units, events, measures', () => {
    const mhs1 = before.majorHazardSources.find((m) => m.code === 'MHS1')!;
    expect(mhs1).toMatchObject({ hazardCode: '320411901-0001', level: 2, principalId: person('p01'), technicalId: person('p02'), operationalId: person('p05') });
    expect(Number(mhs1.rValue)).toBe(86.4);
    const ro1 = before.riskObjects.find((o) => o.code === 'RO1')!;
    expect(ro1).toMatchObject({ type: '重大危险源', majorHazardSourceId: mhs1.id, hazardCode: '320411901-0001' });
    expect(before.riskObjects.find((o) => o.code === 'RO2')).toMatchObject({ majorHazardSourceId: null, hazardCode: null });
    const ru1 = before.riskUnits.find((u) => u.code === 'RU1')!;
    expect(ru1).toMatchObject({ riskObjectId: ro1.id, headPersonId: person('p05') });
    expect(before.riskEvents.filter((e) => e.riskUnitId === ru1.id).map((e) => e.code)).toEqual(['RU1-E1', 'RU1-E2', 'RU1-E3']);
    expect(before.riskEvents.find((e) => e.code === 'RU1-E1')).toMatchObject({ name: '储罐超压导致氯气泄漏', l0: 4, s0: 5, l: 2, s: 5 });
    const cm1 = before.controlMeasures.find((m) => m.code === 'CM1')!;
    expect(cm1).toMatchObject({ dataSrc: 2, classify1: 1, classify2: '1-1', paramName: '储罐压力', paramUnit: 'MPa' });
    expect([Number(cm1.paramMin), Number(cm1.paramMax)]).toEqual([0.2, 0.8]);
    expect(before.controlMeasures.find((m) => m.code === 'CM2')).toMatchObject({ paramName: null, paramMin: null, paramMax: null });
  });

  test('check tasks: schedule fields, anchors in the enterprise zone, activeFrom = now', () => {
    const task = (code: string) => before.checkTasks.find((t) => t.code === code)!;
    for (const t of before.checkTasks) expect(t.activeFrom).toEqual(NOW);
    // 小时 and 天 → local midnight of today (2026-03-12 in Shanghai)
    expect(task('T1')).toMatchObject({ checkCycle: 2, checkCycleUnit: '小时', workStartTime: '00:00', workEndTime: '24:00', workDayType: 0, workType: 0, checkMeans: '现场确认' });
    expect(task('T1').taskStartTime).toEqual(at('2026-03-11T16:00:00.000Z'));
    expect(task('T5')).toMatchObject({ workStartTime: '08:00', workEndTime: '20:00', checkMeans: '拍照' });
    expect(task('T6').taskStartTime).toEqual(at('2026-03-11T16:00:00.000Z'));
    // 7 天 → this week's Monday, 2026-03-09
    expect(task('T3')).toMatchObject({ checkCycle: 7, checkCycleUnit: '天', workDayType: 1, workStartTime: null, workEndTime: null });
    expect(task('T3').taskStartTime).toEqual(at('2026-03-08T16:00:00.000Z'));
    // 月 → the 1st of this month
    expect(task('T12').taskStartTime).toEqual(at('2026-02-28T16:00:00.000Z'));
    const t1Post = before.posts.find((p) => p.code === 'TANK_OP')!;
    expect(task('T1').postId).toBe(t1Post.id);
    expect(task('T1').controlMeasureId).toBe(before.controlMeasures.find((m) => m.code === 'CM1')!.id);
    // 包保 tasks
    const mhs2 = before.majorHazardSources.find((m) => m.code === 'MHS2')!;
    expect(task('B4')).toMatchObject({ majorHazardSourceId: mhs2.id, personId: person('p05'), postId: null, controlMeasureId: null, taskNum: 1, workType: 3, workDayType: 0, checkMeans: '现场确认', checkCycle: 7, checkCycleUnit: '天' });
    expect(task('B4').taskStartTime).toEqual(at('2026-03-08T16:00:00.000Z'));
    expect(task('B3')).toMatchObject({ personId: person('p01'), workType: 1, checkCycle: 3, checkCycleUnit: '月' });
    expect(task('B3').taskStartTime).toEqual(at('2026-02-28T16:00:00.000Z'));
  });

  test('hazard V-101B: overdue 5 days, deadline = end of the local day 5 days before now', () => {
    const h = before.hazards.find((x) => x.name.startsWith('V-101B'))!;
    expect(h.code).toBe('YH-DEMO-1');
    // now − 5 d = 2026-03-06T20:00Z = 2026-03-07 04:00 in Shanghai → ends at 2026-03-08 00:00 local
    expect(h.deadlineDate).toBe('2026-03-07');
    expect(h.deadlineAt).toEqual(at('2026-03-07T16:00:00.000Z'));
    expect(h.reportedAt).toEqual(new Date(NOW.getTime() - 12 * DAY));
    expect(h.foundAt).toEqual(h.reportedAt);
    expect(h).toMatchObject({
      state: 'rectifying',
      dangerLevel: 0,
      dangerSrc: 1,
      hazardDangerType: 4,
      dangerManageType: 1,
      reporterId: person('p07'),
      rectifierId: person('p16'),
      acceptorId: person('p06'),
      riskUnitId: before.riskUnits.find((u) => u.code === 'RU1')!.id,
      controlMeasureId: before.controlMeasures.find((m) => m.code === 'CM3')!.id,
    });
    expect(h.confirmedAt).toEqual(h.reportedAt);
    expect(h.nextCheckAt).toEqual(NOW);
    const tr = before.hazardTransitions.filter((t) => t.hazardId === h.id);
    expect(tr.map((t) => [t.action, t.fromState, t.toState, t.actorId, t.at])).toEqual([
      ['report', null, 'reported', person('p07'), h.reportedAt],
      ['confirm', 'reported', 'rectifying', person('p06'), h.reportedAt],
    ]);
  });

  test('防火堤 hazard: found by a government inspection 9 days before it was entered', () => {
    const h = before.hazards.find((x) => x.name.includes('防火堤'))!;
    expect(h.reportedAt).toEqual(NOW);
    expect(h.foundAt).toEqual(new Date(h.reportedAt.getTime() - 9 * DAY));
    expect(h).toMatchObject({ dangerSrc: 10, enforcementId: '演示执法-2024-017', hazardDangerType: 6, state: 'rectifying' });
    expect(h.deadlineDate).toBe('2026-03-22'); // local date of now + 10 d
  });

  test('重大隐患: reported, not confirmed', () => {
    const h = before.hazards.find((x) => x.dangerLevel === 1)!;
    expect(h).toMatchObject({ state: 'reported', majorCriterion: 4, confirmedAt: null, reporterId: person('p02'), nextCheckAt: NOW });
    const tr = before.hazardTransitions.filter((t) => t.hazardId === h.id);
    expect(tr.map((t) => t.action)).toEqual(['report']);
    expect(before.hazards.filter((x) => x.state === 'rectifying')).toHaveLength(3);
  });

  test('chat destinations and members', () => {
    const dest = Object.fromEntries(before.chatDestinations.map((d) => [d.code, d]));
    expect(dest.g1).toMatchObject({ name: '罐区安全群', channel: 'wecom_robot' });
    expect(dest.g2).toMatchObject({ channel: 'wecom_robot' });
    expect(dest.d1).toMatchObject({ name: '生产调度群', channel: 'dingtalk_robot' });
    const members = (code: string) =>
      before.chatDestinationMembers
        .filter((m) => m.destinationId === dest[code].id)
        .map((m) => before.people.find((p) => p.id === m.personId)!.code)
        .sort();
    expect(members('g1')).toEqual(['p04', 'p05', 'p06', 'p07', 'p08']);
    expect(members('d1')).toEqual(['p02', 'p09', 'p10', 'p12', 'p13']);
  });

  test('escalation policies: the defaults, one per kind', () => {
    expect(before.escalationPolicies.map((p) => p.kind).sort()).toEqual([...ALERT_KINDS].sort());
    for (const row of before.escalationPolicies) {
      const kind = row.kind as keyof typeof DEFAULT_POLICIES;
      expect(parsePolicy({ kind, name: row.name, levels: row.levels, ackTimeoutMs: row.ackTimeoutMs, params: row.params })).toEqual(DEFAULT_POLICIES[kind]);
    }
  });
});

describe('loadDemoPlant: re-load over an edited plant', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    await db?.drop();
  });

  test('restores list fields, keeps schedules, edited policies and hazards', async () => {
    const prisma = db.prisma;
    const { enterpriseId } = await loadDemoPlant(prisma, { now: NOW });
    const t1 = await prisma.checkTask.findUniqueOrThrow({ where: { enterpriseId_code: { enterpriseId, code: 'T1' } } });
    await prisma.checkTask.update({ where: { id: t1.id }, data: { content: '被改过的内容' } });
    await prisma.person.update({ where: { enterpriseId_code: { enterpriseId, code: 'p07' } }, data: { mobile: '10000000000' } });
    await prisma.escalationPolicy.update({ where: { enterpriseId_kind: { enterpriseId, kind: 'task_overdue' } }, data: { ackTimeoutMs: 123_456 } });
    await prisma.escalationPolicy.delete({ where: { enterpriseId_kind: { enterpriseId, kind: 'major_hazard' } } });
    await prisma.hazard.update({ where: { enterpriseId_code: { enterpriseId, code: 'YH-DEMO-2' } }, data: { state: 'awaiting_acceptance' } });
    const hazardsBefore = await prisma.hazard.findMany({ orderBy: { id: 'asc' } });

    const data = demo();
    data.hazards.push({ ...data.hazards[0], name: '新增的隐患（不应写入）' });
    data.riskObjects[3].units[0].events[0].measures[1].tasks.push({
      key: 'T15',
      content: '检查消防水池液位',
      post: 'SAFETY_OFFICER',
      cycle: 1,
      unit: '天',
      workDayType: 0,
      workType: 0,
      means: '拍照',
    });
    const later = new Date(NOW.getTime() + 40 * DAY); // 2026-04-20T20:00Z = 2026-04-21 04:00 local
    const res = await loadDemoPlant(prisma, { now: later, data });

    expect(res.created).toBe(false);
    expect(res.summary.checkTasks).toEqual({ created: 1, updated: 1, unchanged: 18 });
    expect(res.summary.people).toEqual({ created: 0, updated: 1, unchanged: 16 });
    expect(res.summary.escalationPolicies).toEqual({ created: 1, updated: 0, unchanged: 6 });
    const t1After = await prisma.checkTask.findUniqueOrThrow({ where: { id: t1.id } });
    expect(t1After.content).toBe('巡检液氯储罐压力、温度、液位及现场有无泄漏');
    expect(t1After.taskStartTime).toEqual(t1.taskStartTime);
    expect(t1After.activeFrom).toEqual(NOW);
    const t15 = await prisma.checkTask.findUniqueOrThrow({ where: { enterpriseId_code: { enterpriseId, code: 'T15' } } });
    expect(t15.taskStartTime).toEqual(at('2026-04-20T16:00:00.000Z'));
    expect(t15.activeFrom).toEqual(later);
    expect((await prisma.person.findUniqueOrThrow({ where: { enterpriseId_code: { enterpriseId, code: 'p07' } } })).mobile).toBe('13800000007');
    expect((await prisma.escalationPolicy.findUniqueOrThrow({ where: { enterpriseId_kind: { enterpriseId, kind: 'task_overdue' } } })).ackTimeoutMs).toBe(123_456);
    expect(await prisma.escalationPolicy.count()).toBe(7);
    expect(await prisma.hazard.findMany({ orderBy: { id: 'asc' } })).toEqual(hazardsBefore);
  });
});

describe('loadDemoPlant: the demo regulator', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    await db?.drop();
  });

  test('regulator: false loads the plant alone; a later load adds the regulator; a second plant joins its scope; edits are kept in step', async () => {
    const prisma = db.prisma;
    const plain = await loadDemoPlant(prisma, { now: NOW, regulator: false });
    expect(plain.summary.regulators).toEqual({ created: 0, updated: 0, unchanged: 0 });
    expect(await prisma.enterprise.count()).toBe(1);
    expect(await prisma.regulatorScope.count()).toBe(0);

    const withReg = await loadDemoPlant(prisma, { now: NOW });
    expect(withReg.summary.regulators).toEqual({ created: 3, updated: 0, unchanged: 0 });
    const r01 = await prisma.person.findFirstOrThrow({ where: { code: 'r01' } });

    // a second plant of the park: the same regulator now reads both
    const other = demo();
    other.enterprise.companyCode = '320411902';
    other.enterprise.name = '第二示范化工（演示）有限公司';
    const second = await loadDemoPlant(prisma, { now: NOW, data: other });
    expect(second.created).toBe(true);
    expect(second.summary.regulators).toEqual({ created: 1, updated: 0, unchanged: 2 });
    expect((await prisma.regulatorScope.findMany({ where: { personId: r01.id }, orderBy: { enterpriseId: 'asc' } })).map((s) => s.enterpriseId)).toEqual([
      withReg.enterpriseId,
      second.enterpriseId,
    ]);

    // an admin renamed the person and gave an extra role; a re-load restores the name, keeps the role
    await prisma.person.update({ where: { id: r01.id }, data: { name: '改过的名字', roles: ['regulator', 'frontline'] } });
    const again = await loadDemoPlant(prisma, { now: NOW });
    expect(again.summary.regulators).toEqual({ created: 0, updated: 1, unchanged: 2 });
    expect(await prisma.person.findUniqueOrThrow({ where: { id: r01.id } })).toMatchObject({ name: '园区监管员', roles: ['regulator', 'frontline'] });
    expect(await prisma.enterprise.count()).toBe(3);
    expect(await prisma.person.count({ where: { code: 'r01' } })).toBe(1);
  });
});

describe('loadDemoPlant: failures and characters', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    await db?.drop();
  });

  test('a row failing late in the load leaves the database empty', async () => {
    const data = demo();
    // chat groups are written after everything else but the policies; the name column holds 128 characters
    data.chat.dingtalkGroups[0].name = '群'.repeat(200);
    const err = await loadDemoPlant(db.prisma, { now: NOW, data }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(DemoDataError); // the database refused it, mid-load
    expect(String((err as Error).message)).toMatch(/too long/i);
    expect(await isDatabaseEmpty(db.prisma)).toBe(true);
    const counts = await rowCounts(db.prisma);
    expect(Object.values(counts).every((n) => n === 0)).toBe(true);
  });

  test('invalid data is refused before anything is written, with every problem listed', async () => {
    const data = demo();
    data.posts[0].leader = 'NO_SUCH_POST';
    data.hazards[0].measure = 'CM7'; // belongs to RU2, not RU1
    data.baobaoTasks[0].person = 'p09'; // not MHS1's 操作负责人
    let err: unknown;
    try {
      await loadDemoPlant(db.prisma, { now: NOW, data });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DemoDataError);
    const issues = (err as DemoDataError).issues;
    expect(issues).toEqual(
      expect.arrayContaining([
        "posts[0].leader: unknown post 'NO_SUCH_POST'",
        "hazards[0].measure: control measure 'CM7' does not belong to risk unit 'RU1'",
        expect.stringContaining('baobaoTasks[0].person'),
      ]),
    );
    expect(await isDatabaseEmpty(db.prisma)).toBe(true);
  });

  test('readDemoData: a file that is not JSON or has the wrong shape gives a clear error', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dualprev-seed-'));
    const notJson = path.join(dir, 'a.json');
    writeFileSync(notJson, '{ not json');
    expect(() => readDemoData(notJson)).toThrow(DemoDataError);
    expect(() => readDemoData(notJson)).toThrow(notJson);
    const wrong = path.join(dir, 'b.json');
    const raw = structuredClone(readDemoData()) as unknown as { enterprise: { companyCode: string; timezone: string }; people: Array<Record<string, unknown>> };
    raw.enterprise.companyCode = 'ABC';
    raw.enterprise.timezone = 'Mars/Olympus';
    raw.people[2].mobil = '1';
    writeFileSync(wrong, JSON.stringify(raw));
    let err: DemoDataError | undefined;
    try {
      readDemoData(wrong);
    } catch (e) {
      err = e as DemoDataError;
    }
    expect(err?.issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^enterprise\.companyCode: /),
        'enterprise.timezone: unknown IANA time zone',
        expect.stringMatching(/^people\[2\]: .*mobil/),
      ]),
    );
  });

  test('emoji and rare characters round-trip', async () => {
    const data = demo();
    data.enterprise.name = '示范化工🧪有限公司';
    data.people[6].name = '赵小军😀';
    data.hazards[0].name = 'V-101B 液位偏差 🧯 𠮷';
    data.chat.wecomGroups[0].name = '罐区安全群🔥';
    const { enterpriseId, created } = await loadDemoPlant(db.prisma, { now: NOW, data });
    expect(created).toBe(true);
    const p = db.prisma;
    expect((await p.enterprise.findUniqueOrThrow({ where: { id: enterpriseId } })).name).toBe('示范化工🧪有限公司');
    expect((await p.person.findUniqueOrThrow({ where: { enterpriseId_code: { enterpriseId, code: 'p07' } } })).name).toBe('赵小军😀');
    expect((await p.hazard.findUniqueOrThrow({ where: { enterpriseId_code: { enterpriseId, code: 'YH-DEMO-1' } } })).name).toBe('V-101B 液位偏差 🧯 𠮷');
    expect((await p.chatDestination.findUniqueOrThrow({ where: { enterpriseId_code: { enterpriseId, code: 'g1' } } })).name).toBe('罐区安全群🔥');
    // and a re-load with the same data sees no difference
    const again = await loadDemoPlant(db.prisma, { now: NOW, data });
    expect(again.summary.people.updated + again.summary.chatDestinations.updated).toBe(0);
  });
});

describe('loadDemoPlant: two processes at once', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    await db?.drop();
  });

  test('create one plant; the loser retries and finds it', async () => {
    const results = await Promise.all([loadDemoPlant(db.prisma, { now: NOW }), loadDemoPlant(db.prisma, { now: NOW })]);
    expect(results.map((r) => r.created).sort()).toEqual([false, true]);
    expect(results[0].enterpriseId).toBe(results[1].enterpriseId);
    const counts = await rowCounts(db.prisma);
    // the plant + the park authority; 17 people + the park's regulator, with one scope row
    expect(counts).toMatchObject({ enterprises: 2, people: 18, regulatorScopes: 1, checkTasks: 19, hazards: 4, escalationPolicies: 7, chatDestinationMembers: 17 });
  });
});

describe('taskStartAnchor', () => {
  test('periods of the enterprise zone, not of UTC', () => {
    const now = at('2026-12-31T17:00:00.000Z'); // 2027-01-01 01:00 in Shanghai, a Friday
    expect(taskStartAnchor('小时', 2, now, TZ)).toEqual(at('2026-12-31T16:00:00.000Z'));
    expect(taskStartAnchor('天', 1, now, TZ)).toEqual(at('2026-12-31T16:00:00.000Z'));
    expect(taskStartAnchor('天', 7, now, TZ)).toEqual(at('2026-12-27T16:00:00.000Z')); // Monday 2026-12-28
    expect(taskStartAnchor('月', 3, now, TZ)).toEqual(at('2026-12-31T16:00:00.000Z'));
    expect(taskStartAnchor('年', 1, now, TZ)).toEqual(at('2026-12-31T16:00:00.000Z'));
    expect(taskStartAnchor('年', 1, now, 'UTC')).toEqual(at('2026-01-01T00:00:00.000Z'));
    expect(taskStartAnchor('天', 7, at('2026-03-15T15:59:59.000Z'), TZ)).toEqual(at('2026-03-08T16:00:00.000Z')); // Sunday 23:59 local
  });
});
