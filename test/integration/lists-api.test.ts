/**
 * The three lists (三清单) API over HTTP on the demo plant (real MariaDB + Redis): listing with
 * filters and computed risk, CRUD of every level, the value rules with Chinese messages (bad
 * classify2, min > max, an hourly window on a daily task, taskNum out of range…), enterprise
 * isolation (another plant's ids are 404 / invalid references), 409 in_use while something
 * depends on a row, a check task with history disabled instead of deleted, a new 包保责任人 taking
 * over the role's tasks, and a schedule change re-laying only the FUTURE instances of a task.
 *
 * Demo facts used: MHS1 液氯储罐区 (p01 / p02 / p05) with B1 (操作, p05), B2 (技术, p02), B3 (主要,
 * p01); RU1 under RO1 with CM1 (储罐压力 0.2–0.8 MPa) → T1 (TANK_OP, every 2 小时 00:00–24:00);
 * RU1-E1 L0 4 × S0 5 = 20 (red), L 2 × S 5 = 10 (yellow). p03 安全总监 may write the lists, p07
 * 罐区操作工 may only read them.
 */
import request from 'supertest';
import type { Server } from 'node:http';
import { createTestSystem, T0, type TestSystem } from '../helpers/system';
import { issueApiToken } from '../../server/services/tokens';

const HOUR = 3_600_000;
const HAN = /[\u4e00-\u9fff]/;

let sys: TestSystem;
let http: Server;
let admin: string; // p03 安全总监: lists.write
let reader: string; // p07 罐区操作工: lists.read only
let other: string; // safety officer of another enterprise
let otherEnterpriseId: number;

const api = (token: string) => ({
  get: (p: string) => request(http).get(`/api/v1${p}`).set('authorization', `Bearer ${token}`),
  post: (p: string, b: object) => request(http).post(`/api/v1${p}`).set('authorization', `Bearer ${token}`).send(b),
  patch: (p: string, b: object) => request(http).patch(`/api/v1${p}`).set('authorization', `Bearer ${token}`).send(b),
  del: (p: string) => request(http).delete(`/api/v1${p}`).set('authorization', `Bearer ${token}`),
});

const prisma = () => sys.rt.prisma;
const idOf = {
  mhs: async (code: string) => (await prisma().majorHazardSource.findFirstOrThrow({ where: { code, enterpriseId: sys.enterpriseId! } })).id,
  ro: async (code: string) => (await prisma().riskObject.findFirstOrThrow({ where: { code, enterpriseId: sys.enterpriseId! } })).id,
  ru: async (code: string) => (await prisma().riskUnit.findFirstOrThrow({ where: { code, enterpriseId: sys.enterpriseId! } })).id,
  re: async (code: string) => (await prisma().riskEvent.findFirstOrThrow({ where: { code, enterpriseId: sys.enterpriseId! } })).id,
  cm: async (code: string) => (await prisma().controlMeasure.findFirstOrThrow({ where: { code, enterpriseId: sys.enterpriseId! } })).id,
  ct: async (code: string) => (await prisma().checkTask.findFirstOrThrow({ where: { code, enterpriseId: sys.enterpriseId! } })).id,
  person: async (code: string) => (await prisma().person.findFirstOrThrow({ where: { code, enterpriseId: sys.enterpriseId! } })).id,
  post: async (code: string) => (await prisma().post.findFirstOrThrow({ where: { code, enterpriseId: sys.enterpriseId! } })).id,
  dept: async (code: string) => (await prisma().department.findFirstOrThrow({ where: { code, enterpriseId: sys.enterpriseId! } })).id,
};

/** Every list row of the demo enterprise, to prove a rejected request changed nothing. */
async function listsState() {
  const where = { where: { enterpriseId: sys.enterpriseId! }, orderBy: { id: 'asc' as const } };
  return Promise.all([
    prisma().majorHazardSource.findMany(where),
    prisma().riskObject.findMany(where),
    prisma().riskUnit.findMany(where),
    prisma().riskEvent.findMany(where),
    prisma().controlMeasure.findMany(where),
    prisma().checkTask.findMany(where),
    prisma().checkTaskInstance.count(),
  ]);
}

/** A request that must fail with `status`/`code`, a Chinese message, and no change to the lists. */
async function refused(req: () => PromiseLike<request.Response>, status: number, code: string): Promise<request.Response> {
  const before = await listsState();
  const res = await req();
  expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
  expect(res.body.message).toMatch(HAN);
  expect(res.body.message_en).toBeTruthy();
  expect(await listsState()).toEqual(before);
  return res;
}
/** the issue of a body field (details paths say where the field was: body.<field>) */
const issueAt = (res: request.Response, field: string) => (res.body.details as Array<{ path: string; message: string }>).find((d) => d.path === `body.${field}`);

beforeAll(async () => {
  sys = await createTestSystem({ now: T0 });
  http = sys.app.listen(0, '127.0.0.1');
  admin = await sys.token('p03');
  reader = await sys.token('p07');
  const ent = await prisma().enterprise.create({ data: { companyCode: '320411999', name: '另一家化工（测试）有限公司' } });
  otherEnterpriseId = ent.id;
  const dept = await prisma().department.create({ data: { enterpriseId: ent.id, code: 'SAFE', name: '安全部' } });
  const officer = await prisma().person.create({ data: { enterpriseId: ent.id, code: 'x01', name: '外厂安全员', departmentId: dept.id, roles: ['safety_dept'] } });
  other = await issueApiToken(prisma(), officer.id, 'test');
});
afterAll(async () => {
  await new Promise((r) => http?.close(r));
  await sys?.close();
});

describe('reading the lists', () => {
  it('重大危险源 with their three 包保责任人, filtered by person', async () => {
    const all = await api(reader).get('/lists/major-hazard-sources').expect(200);
    expect(all.body.total).toBe(2);
    const mhs1 = all.body.items.find((i: { code: string }) => i.code === 'MHS1');
    expect(mhs1).toMatchObject({ name: '液氯储罐区', level: 2, levelName: '二级', rValue: 86.4 });
    expect([mhs1.principal.code, mhs1.technical.code, mhs1.operational.code]).toEqual(['p01', 'p02', 'p05']);
    expect(mhs1.principal.name).toBe('周建国');
    const ofP05 = await api(reader).get(`/lists/major-hazard-sources?personId=${await idOf.person('p05')}`).expect(200);
    expect(ofP05.body.total).toBe(2);
    const ofP07 = await api(reader).get(`/lists/major-hazard-sources?personId=${await idOf.person('p07')}`).expect(200);
    expect(ofP07.body.total).toBe(0);
  });

  it('risk events carry R = L × S and the level of domain.md, and filter by level', async () => {
    const one = await api(reader).get(`/lists/risk-events/${await idOf.re('RU1-E1')}`).expect(200);
    expect(one.body).toMatchObject({ l0: 4, s0: 5, r0: 20, level0: 'red', level0Name: '重大风险', l: 2, s: 5, r: 10, level: 'yellow', levelName: '一般风险' });
    const yellow = await api(reader).get('/lists/risk-events?level=yellow&limit=200').expect(200);
    expect(yellow.body.items.map((e: { code: string }) => e.code)).toContain('RU1-E1');
    expect(yellow.body.items.every((e: { r: number; level: string }) => e.level === 'yellow' && e.r >= 9 && e.r <= 14)).toBe(true);
    const red0 = await api(reader).get('/lists/risk-events?level0=red&limit=200').expect(200);
    expect(red0.body.items.length).toBeGreaterThan(0);
    expect(red0.body.items.every((e: { r0: number }) => e.r0 >= 20)).toBe(true);
    const red = await api(reader).get('/lists/risk-events?level=red').expect(200);
    expect(red.body.items.map((e: { code: string }) => e.code)).not.toContain('RU1-E1');
  });

  it('measures and tasks with their national codes, paged and filtered', async () => {
    const cm1 = await api(reader).get(`/lists/control-measures/${await idOf.cm('CM1')}`).expect(200);
    expect(cm1.body).toMatchObject({ dataSrc: 2, dataSrcName: '隐患排查', classify1: 1, classify1Name: '工程技术', classify2: '1-1', classify2Name: '工艺控制', paramName: '储罐压力', paramUnit: 'MPa', paramMin: 0.2, paramMax: 0.8 });
    const baobao = await api(reader).get('/lists/check-tasks?workType=2&limit=200').expect(200);
    expect(baobao.body.items.map((t: { code: string }) => t.code).sort()).toEqual(['B2', 'B5']);
    expect(baobao.body.items[0]).toMatchObject({ workTypeName: '技术负责人', taskNum: 1, controlMeasure: null, person: { code: 'p02' } });
    const page = await api(reader).get('/lists/check-tasks?limit=5&offset=5').expect(200);
    expect(page.body.total).toBe(19);
    expect(page.body.items).toHaveLength(5);
    const hourly = await api(reader).get(`/lists/check-tasks?checkCycleUnit=${encodeURIComponent('小时')}&riskUnitId=${await idOf.ru('RU1')}&limit=200`).expect(200);
    expect(hourly.body.items.map((t: { code: string }) => t.code).sort()).toEqual(['T1', 'T2', 'T4', 'T5']);
    const t1 = hourly.body.items.find((t: { code: string }) => t.code === 'T1');
    expect(t1).toMatchObject({ checkCycle: 2, checkCycleUnit: '小时', workStartTime: '00:00', workEndTime: '24:00', post: { code: 'TANK_OP' }, checkMeans: '现场确认', taskStartTimeLocal: '2026-11-30 00:00' });
    const search = await api(reader).get(`/lists/risk-units?q=${encodeURIComponent('液氯')}`).expect(200);
    expect(search.body.items.map((u: { code: string }) => u.code)).toEqual(['RU1']);
  });

  it('risk bands are data: the Setting risk_level_thresholds changes the levels shown and filtered', async () => {
    await prisma().setting.create({ data: { key: 'risk_level_thresholds', value: JSON.stringify({ red: 16, orange: 10, yellow: 5 }) } });
    try {
      const e = await api(reader).get(`/lists/risk-events/${await idOf.re('RU1-E1')}`).expect(200);
      expect(e.body).toMatchObject({ r: 10, level: 'orange', levelName: '较大风险' });
      const orange = await api(reader).get('/lists/risk-events?level=orange&limit=200').expect(200);
      expect(orange.body.items.map((x: { code: string }) => x.code)).toContain('RU1-E1');
    } finally {
      await prisma().setting.delete({ where: { key: 'risk_level_thresholds' } });
    }
    expect((await api(reader).get(`/lists/risk-events/${await idOf.re('RU1-E1')}`)).body.level).toBe('yellow');
  });

  it('a frontline worker may read but not write (403)', async () => {
    await refused(() => api(reader).post('/lists/risk-objects', { code: 'RO9', name: 'x', type: '设施', departmentId: 1 }), 403, 'forbidden');
    await refused(() => api(reader).del(`/lists/check-tasks/${1}`), 403, 'forbidden');
  });
});

describe('CRUD of every level', () => {
  it('creates a whole chain, changes each item, and deletes it again bottom-up', async () => {
    const [p01, p02, p05, p07, tank, tankOp] = [await idOf.person('p01'), await idOf.person('p02'), await idOf.person('p05'), await idOf.person('p07'), await idOf.dept('TANK'), await idOf.post('TANK_OP')];
    const mhs = await api(admin).post('/lists/major-hazard-sources', { code: 'MHS3', name: '液氨储罐区', hazardCode: '320411901-0003', level: 3, rValue: 12.5, principalId: p01, technicalId: p02, operationalId: p05 }).expect(201);
    expect(mhs.body).toMatchObject({ code: 'MHS3', levelName: '三级', rValue: 12.5, principal: { code: 'p01' } });

    const ro = await api(admin).post('/lists/risk-objects', { code: 'RO9', name: '液氨储罐区', type: '重大危险源', majorHazardSourceId: mhs.body.id, departmentId: tank }).expect(201);
    expect(ro.body.hazardCode).toBe('320411901-0003'); // taken from the 重大危险源
    const ru = await api(admin).post('/lists/risk-units', { code: 'RU9', name: '液氨储罐 V-901', riskObjectId: ro.body.id, departmentId: tank, headPersonId: p05 }).expect(201);
    expect(ru.body).toMatchObject({ riskObject: { code: 'RO9' }, head: { code: 'p05', name: '陈志强' } });
    const re = await api(admin).post('/lists/risk-events', { code: 'RU9-E1', name: '液氨泄漏中毒', riskUnitId: ru.body.id, l0: 5, s0: 5, l: 3, s: 5 }).expect(201);
    expect(re.body).toMatchObject({ r0: 25, level0: 'red', r: 15, level: 'orange', levelName: '较大风险' });
    const cm = await api(admin)
      .post('/lists/control-measures', { code: 'CM99', riskEventId: re.body.id, description: '储罐压力高报警联锁', dataSrc: 1, classify1: 1, classify2: '1-4', paramName: '储罐压力', paramUnit: 'MPa', paramMin: 0.1, paramMax: 1.2 })
      .expect(201);
    expect(cm.body).toMatchObject({ classify2Name: '安全仪表', paramMin: 0.1, paramMax: 1.2 });
    const ct = await api(admin)
      .post('/lists/check-tasks', { code: 'T99', controlMeasureId: cm.body.id, content: '巡检液氨储罐压力', checkCycle: 4, checkCycleUnit: '小时', workStartTime: '08:00', workEndTime: '20:00', postId: tankOp, checkMeans: '拍照' })
      .expect(201);
    expect(ct.body).toMatchObject({ workType: 0, workDayType: 0, enabled: true, taskStartTimeLocal: '2026-11-30 00:00', generatedUntil: null, post: { code: 'TANK_OP' } });
    expect(new Date(ct.body.activeFrom).getTime()).toBe(T0.getTime()); // nothing invented before it existed
    const bb = await api(admin).post('/lists/check-tasks', { code: 'B99', majorHazardSourceId: mhs.body.id, workType: 1, taskNum: 9, content: '督促检查液氨储罐区安全生产', checkCycle: 3, checkCycleUnit: '月', checkMeans: '现场确认' }).expect(201);
    expect(bb.body).toMatchObject({ person: { code: 'p01' }, taskNum: 9, workTypeName: '主要负责人', taskStartTimeLocal: '2026-11-01 00:00' }); // the 主要负责人 by default

    // PATCH: partial, null clears
    const ro2 = await api(admin).patch(`/lists/risk-objects/${ro.body.id}`, { name: '液氨储罐区（改）' }).expect(200);
    expect(ro2.body).toMatchObject({ name: '液氨储罐区（改）', hazardCode: '320411901-0003' });
    const cm2 = await api(admin).patch(`/lists/control-measures/${cm.body.id}`, { paramMin: null, classify3: '压力联锁' }).expect(200);
    expect(cm2.body).toMatchObject({ paramMin: null, paramMax: 1.2, classify3: '压力联锁' });
    const ct2 = await api(admin).patch(`/lists/check-tasks/${ct.body.id}`, { personId: p07, postId: null }).expect(200);
    expect(ct2.body).toMatchObject({ person: { code: 'p07' }, post: null });
    const re2 = await api(admin).patch(`/lists/risk-events/${re.body.id}`, { l: 1 }).expect(200);
    expect(re2.body).toMatchObject({ r: 5, level: 'blue' });

    // the object carries its 重大危险源's 危险源编码: changed with the source, dropped when it stops being one
    await api(admin).patch(`/lists/major-hazard-sources/${mhs.body.id}`, { hazardCode: '320411901-0009' }).expect(200);
    expect((await api(admin).get(`/lists/risk-objects/${ro.body.id}`)).body.hazardCode).toBe('320411901-0009');
    const mismatch = await refused(() => api(admin).patch(`/lists/risk-objects/${ro.body.id}`, { hazardCode: '320411901-0001' }), 400, 'invalid_input');
    expect(issueAt(mismatch, 'hazardCode')?.message).toContain('不一致');
    const notMhs = await api(admin).patch(`/lists/risk-objects/${ro.body.id}`, { majorHazardSourceId: null, type: '设施设备' }).expect(200);
    expect(notMhs.body).toMatchObject({ majorHazardSource: null, hazardCode: null });
    await api(admin).patch(`/lists/risk-objects/${ro.body.id}`, { majorHazardSourceId: mhs.body.id, type: '重大危险源' }).expect(200);

    // a PATCH that changes nothing leaves the row (updatedAt) alone
    const before = await prisma().riskUnit.findUniqueOrThrow({ where: { id: ru.body.id } });
    sys.clock.advance(1000);
    await api(admin).patch(`/lists/risk-units/${ru.body.id}`, { name: '液氨储罐 V-901' }).expect(200);
    expect((await prisma().riskUnit.findUniqueOrThrow({ where: { id: ru.body.id } })).updatedAt).toEqual(before.updatedAt);

    // parents refuse while children exist
    const busy = await refused(() => api(admin).del(`/lists/risk-objects/${ro.body.id}`), 409, 'in_use');
    expect(busy.body.message).toContain('1 个风险分析单元');

    // bottom-up: tasks without history are deleted outright
    for (const [path, id] of [
      ['check-tasks', ct.body.id],
      ['check-tasks', bb.body.id],
      ['control-measures', cm.body.id],
      ['risk-events', re.body.id],
      ['risk-units', ru.body.id],
      ['risk-objects', ro.body.id],
      ['major-hazard-sources', mhs.body.id],
    ] as const) {
      expect((await api(admin).del(`/lists/${path}/${id}`).expect(200)).body).toMatchObject({ deleted: true });
      await api(admin).get(`/lists/${path}/${id}`).expect(404);
    }
  });

  it('taskStartTime: an ISO instant in, also shown as the enterprise’s wall time', async () => {
    const res = await api(admin)
      .post('/lists/check-tasks', { code: 'T98', controlMeasureId: await idOf.cm('CM2'), content: '每周检查', checkCycle: 7, checkCycleUnit: '天', taskStartTime: '2026-12-07T00:00:00+08:00', workDayType: 1, postId: await idOf.post('EQ_ENG'), checkMeans: '拍照' })
      .expect(201);
    expect(res.body).toMatchObject({ taskStartTime: '2026-12-06T16:00:00.000Z', taskStartTimeLocal: '2026-12-07 00:00', workDayType: 1 });
    const bad = await refused(async () => api(admin).post('/lists/check-tasks', { code: 'T97', controlMeasureId: await idOf.cm('CM2'), content: 'x', checkCycle: 1, checkCycleUnit: '天', taskStartTime: '2026-12-07 00:00', postId: await idOf.post('EQ_ENG'), checkMeans: '拍照' }), 400, 'invalid_input');
    expect(bad.body.details[0].path).toBe('body.taskStartTime');
    await api(admin).del(`/lists/check-tasks/${res.body.id}`).expect(200);
  });

  it('a new 包保责任人 takes over that role’s 包保 tasks', async () => {
    const mhs1 = await idOf.mhs('MHS1');
    const [p01, p03] = [await idOf.person('p01'), await idOf.person('p03')];
    await api(admin).patch(`/lists/major-hazard-sources/${mhs1}`, { principalId: p03 }).expect(200);
    const b3 = await api(admin).get(`/lists/check-tasks/${await idOf.ct('B3')}`).expect(200);
    expect(b3.body.person.code).toBe('p03');
    // other roles' tasks and the other source are untouched
    expect((await api(admin).get(`/lists/check-tasks/${await idOf.ct('B2')}`)).body.person.code).toBe('p02');
    // a 包保 task cannot be given to someone who is not the responsible person of its role
    const res = await refused(async () => api(admin).patch(`/lists/check-tasks/${await idOf.ct('B3')}`, { personId: p01 }), 400, 'invalid_input');
    expect(issueAt(res, 'personId')?.message).toContain('主要负责人');
    await api(admin).patch(`/lists/major-hazard-sources/${mhs1}`, { principalId: p01 }).expect(200);
    expect((await api(admin).get(`/lists/check-tasks/${await idOf.ct('B3')}`)).body.person.code).toBe('p01');
  });
});

describe('value rules: 400 invalid_input naming the field, in Chinese, nothing stored', () => {
  const measure = async (over: object) => ({ code: 'CMX', riskEventId: await idOf.re('RU1-E1'), description: '测试措施', dataSrc: 2, classify1: 1, classify2: '1-1', ...over });
  const task = async (over: object) => ({ code: 'TX', controlMeasureId: await idOf.cm('CM1'), content: '测试任务', checkCycle: 1, checkCycleUnit: '天', postId: await idOf.post('TANK_OP'), checkMeans: '现场确认', ...over });

  it('classify2 must be a sub-code of its classify1', async () => {
    const wrongParent = await refused(async () => api(admin).post('/lists/control-measures', await measure({ classify1: 1, classify2: '2-1' })), 400, 'invalid_input');
    expect(issueAt(wrongParent, 'classify2')?.message).toBe('措施分类2必须是措施分类1「1 工程技术」下的子类 1-1、1-2、1-3、1-4 或 1-5，实际为 “2-1”');
    const unknown = await refused(async () => api(admin).post('/lists/control-measures', await measure({ classify2: '1-9' })), 400, 'invalid_input');
    expect(issueAt(unknown, 'classify2')?.message).toContain('实际为 “1-9”');
    const dataSrc = await refused(async () => api(admin).post('/lists/control-measures', await measure({ dataSrc: 3 })), 400, 'invalid_input');
    expect(issueAt(dataSrc, 'dataSrc')?.message).toBe('管控方式必须是 1 或 2，实际为 3');
    // a PATCH is checked against the merged row
    await refused(async () => api(admin).patch(`/lists/control-measures/${await idOf.cm('CM1')}`, { classify1: 3 }), 400, 'invalid_input');
  });

  it('the safe range: min ≤ max, and a range needs the parameter’s name', async () => {
    const res = await refused(async () => api(admin).post('/lists/control-measures', await measure({ paramName: '储罐压力', paramUnit: 'MPa', paramMin: 0.9, paramMax: 0.8 })), 400, 'invalid_input');
    expect(issueAt(res, 'paramMax')?.message).toBe('安全上限不能小于安全下限 0.9，实际为 0.8');
    const patch = await refused(async () => api(admin).patch(`/lists/control-measures/${await idOf.cm('CM1')}`, { paramMin: 1 }), 400, 'invalid_input');
    expect(issueAt(patch, 'paramMax')).toBeDefined(); // 1 > the stored max 0.8
    const noName = await refused(async () => api(admin).post('/lists/control-measures', await measure({ paramMax: 5 })), 400, 'invalid_input');
    expect(issueAt(noName, 'paramName')).toBeDefined();
  });

  it('a work window only on hourly tasks; schedules as cycles.ts validates them', async () => {
    const daily = await refused(async () => api(admin).post('/lists/check-tasks', await task({ workStartTime: '08:00', workEndTime: '20:00' })), 400, 'invalid_input');
    expect(issueAt(daily, 'workStartTime')?.message).toContain('作业开始时间只适用于按小时排查的任务');
    // turning an hourly task daily without removing its window is refused too
    await refused(async () => api(admin).patch(`/lists/check-tasks/${await idOf.ct('T5')}`, { checkCycleUnit: '天', checkCycle: 1 }), 400, 'invalid_input');
    const tooLong = await refused(async () => api(admin).post('/lists/check-tasks', await task({ checkCycle: 36, checkCycleUnit: '小时' })), 400, 'invalid_input');
    expect(issueAt(tooLong, 'checkCycle')?.message).toContain('排查周期过大');
    const week = await refused(async () => api(admin).post('/lists/check-tasks', await task({ checkCycleUnit: '周' })), 400, 'invalid_input');
    expect(issueAt(week, 'checkCycleUnit')?.message).toBe('周期单位必须是 小时、天、月 或 年，实际为 “周”');
    const badTime = await refused(async () => api(admin).post('/lists/check-tasks', await task({ checkCycleUnit: '小时', checkCycle: 2, workStartTime: '25:00' })), 400, 'invalid_input');
    expect(issueAt(badTime, 'workStartTime')).toBeDefined();
    const means = await refused(async () => api(admin).post('/lists/check-tasks', await task({ checkMeans: '电话' })), 400, 'invalid_input');
    expect(issueAt(means, 'checkMeans')?.message).toBe('排查方式必须是 拍照 或 现场确认，实际为 “电话”');
  });

  it('taskNum: 1–9 / 1–9 / 1–10 for 主要 / 技术 / 操作负责人, none on a daily task', async () => {
    const mhs1 = await idOf.mhs('MHS1');
    const bb = (workType: number, taskNum: number | null) => ({ code: 'BX', majorHazardSourceId: mhs1, workType, taskNum, content: '包保排查', checkCycle: 7, checkCycleUnit: '天', checkMeans: '现场确认' });
    const op11 = await refused(() => api(admin).post('/lists/check-tasks', bb(3, 11)), 400, 'invalid_input');
    expect(issueAt(op11, 'taskNum')?.message).toBe('任务序号必须是 1–10 的整数（操作负责人包保清单的序号），实际为 11');
    const pr10 = await refused(() => api(admin).post('/lists/check-tasks', bb(1, 10)), 400, 'invalid_input');
    expect(issueAt(pr10, 'taskNum')?.message).toContain('1–9');
    await refused(() => api(admin).post('/lists/check-tasks', bb(2, 0)), 400, 'invalid_input');
    await refused(() => api(admin).post('/lists/check-tasks', bb(2, null)), 400, 'invalid_input');
    const daily = await refused(async () => api(admin).post('/lists/check-tasks', await task({ taskNum: 1 })), 400, 'invalid_input');
    expect(issueAt(daily, 'taskNum')).toBeDefined();
    const noHome = await refused(async () => api(admin).post('/lists/check-tasks', await task({ workType: 2, taskNum: 1, controlMeasureId: null })), 400, 'invalid_input');
    expect(issueAt(noHome, 'majorHazardSourceId')).toBeDefined();
    // 10 is a valid item for the 操作负责人
    const ok = await api(admin).post('/lists/check-tasks', bb(3, 10)).expect(201);
    expect(ok.body.person.code).toBe('p05');
    await api(admin).del(`/lists/check-tasks/${ok.body.id}`).expect(200);
  });

  it('every problem at once; L/S 1–5; required references; unknown fields', async () => {
    const res = await refused(async () => api(admin).post('/lists/risk-events', { code: 'EX', name: ' ', riskUnitId: await idOf.ru('RU1'), l0: 6, s0: 0, l: 2, s: 5 }), 400, 'invalid_input');
    expect(res.body.details.map((d: { path: string }) => d.path).sort()).toEqual(['body.l0', 'body.name', 'body.s0']);
    expect(issueAt(res, 'l0')?.message).toBe('初始可能性 L0必须是 1–5 的整数，实际为 6');
    await refused(() => api(admin).post('/lists/risk-objects', { code: 'ROX', name: 'x', type: '设施', departmentId: 1, oops: true }), 400, 'invalid_input');
    await refused(() => api(admin).post('/lists/major-hazard-sources', { code: 'MX', name: 'x', hazardCode: 'h', level: 5, principalId: 1, technicalId: 1, operationalId: 1 }), 400, 'invalid_input');
  });

  it('a code is unique in the enterprise (409 duplicate_code)', async () => {
    const res = await refused(async () => api(admin).post('/lists/risk-units', { code: 'RU2', name: '重复', riskObjectId: await idOf.ro('RO1'), departmentId: await idOf.dept('TANK'), headPersonId: await idOf.person('p05') }), 409, 'duplicate_code');
    expect(res.body.message).toContain('RU2');
    await refused(async () => api(admin).patch(`/lists/control-measures/${await idOf.cm('CM2')}`, { code: 'CM1' }), 409, 'duplicate_code');
  });
});

describe('enterprise isolation', () => {
  it('another enterprise sees none of the plant’s lists: 404 by id, empty pages, references refused', async () => {
    for (const [path, id] of [
      ['major-hazard-sources', await idOf.mhs('MHS1')],
      ['risk-objects', await idOf.ro('RO1')],
      ['risk-units', await idOf.ru('RU1')],
      ['risk-events', await idOf.re('RU1-E1')],
      ['control-measures', await idOf.cm('CM1')],
      ['check-tasks', await idOf.ct('T1')],
    ] as const) {
      await refused(() => api(other).get(`/lists/${path}/${id}`), 404, 'not_found');
      await refused(() => api(other).patch(`/lists/${path}/${id}`, { code: 'STOLEN' }), 404, 'not_found');
      await refused(() => api(other).del(`/lists/${path}/${id}`), 404, 'not_found');
      expect((await api(other).get(`/lists/${path}`).expect(200)).body).toEqual({ total: 0, items: [] });
    }
    const otherDept = (await prisma().department.findFirstOrThrow({ where: { enterpriseId: otherEnterpriseId } })).id;
    const res = await refused(async () => api(other).post('/lists/risk-objects', { code: 'RO1', name: '借用', type: '设施', majorHazardSourceId: await idOf.mhs('MHS1'), departmentId: otherDept }), 400, 'invalid_input');
    expect(issueAt(res, 'majorHazardSourceId')?.message).toContain('不存在');
    // and the plant cannot point at the other enterprise's department
    await refused(async () => api(admin).patch(`/lists/risk-objects/${await idOf.ro('RO2')}`, { departmentId: otherDept }), 400, 'invalid_input');
    // the same code may exist in both enterprises
    const own = await api(other).post('/lists/risk-objects', { code: 'RO1', name: '自有对象', type: '设施', departmentId: otherDept }).expect(201);
    expect(own.body.code).toBe('RO1');
    await api(other).del(`/lists/risk-objects/${own.body.id}`).expect(200);
  });
});

describe('deleting what history depends on', () => {
  it('409 in_use naming the dependents (units with hazards, measures with tasks, sources with objects and 包保 tasks)', async () => {
    const ru1 = await refused(async () => api(admin).del(`/lists/risk-units/${await idOf.ru('RU1')}`), 409, 'in_use');
    expect(ru1.body.message).toMatch(/风险分析单元「液氯储罐 V-101A\/B」仍有 3 个风险事件、1 条隐患记录，不能删除/);
    expect(ru1.body.details.dependents).toEqual({ risk_events: 3, hazards: 1 });
    const cm1 = await refused(async () => api(admin).del(`/lists/control-measures/${await idOf.cm('CM1')}`), 409, 'in_use');
    expect(cm1.body.message).toContain('2 个排查任务');
    const mhs1 = await refused(async () => api(admin).del(`/lists/major-hazard-sources/${await idOf.mhs('MHS1')}`), 409, 'in_use');
    expect(mhs1.body.message).toContain('1 个风险分析对象、3 个包保排查任务');
    await refused(async () => api(admin).del(`/lists/risk-events/${await idOf.re('RU1-E1')}`), 409, 'in_use');
  });

  it('a measure with a hazard on record cannot go even when its tasks are gone', async () => {
    // CM3 (储罐液位) of RU1 has a hazard; its only task T4 has no instances yet → deleted outright
    const t4 = await idOf.ct('T4');
    expect((await api(admin).del(`/lists/check-tasks/${t4}`).expect(200)).body).toMatchObject({ deleted: true });
    const res = await refused(async () => api(admin).del(`/lists/control-measures/${await idOf.cm('CM3')}`), 409, 'in_use');
    expect(res.body.message).toContain('1 条隐患记录');
    expect(res.body.message).toContain('已有排查历史');
  });
});

describe('check task schedule changes: only FUTURE instances are re-laid', () => {
  /** T1's instances, oldest first */
  const instancesOf = async (code: string) => prisma().checkTaskInstance.findMany({ where: { checkTaskId: await idOf.ct(code) }, orderBy: { startAt: 'asc' } });
  const hours = (i: { startAt: Date; endAt: Date }) => (i.endAt.getTime() - i.startAt.getTime()) / HOUR;

  it('a new cycle: running and past instances (and records) stay; the future follows the new rule; the generator regenerates', async () => {
    sys.clock.set(T0.getTime());
    await sys.rt.generateOnce();
    sys.clock.advance(3 * HOUR); // 15:00 local: 12–14 past, 14–16 running
    const now = sys.clock.now();
    const t1 = await idOf.ct('T1');
    const before = await instancesOf('T1');
    expect(before.length).toBeGreaterThan(20);
    expect(before.every((i) => hours(i) === 2)).toBe(true);
    const kept = before.filter((i) => i.startAt <= now);
    expect(kept).toHaveLength(2);
    // the running one has a record (done by p07 on site)
    const p07 = await sys.token('p07');
    const running = kept[1];
    await request(http).post('/api/v1/check-records').set('authorization', `Bearer ${p07}`).send({ instanceId: running.id, result: 0, readings: [{ value: 0.5 }] }).expect(201);

    // a change that is not about the schedule leaves the instances alone
    await api(admin).patch(`/lists/check-tasks/${t1}`, { content: '巡检液氯储罐压力、温度、液位及现场有无泄漏（含洗眼器）' }).expect(200);
    expect((await instancesOf('T1')).map((i) => i.id)).toEqual(before.map((i) => i.id));

    const res = await api(admin).patch(`/lists/check-tasks/${t1}`, { checkCycle: 4 }).expect(200);
    expect(new Date(res.body.generatedUntil).getTime()).toBe(now.getTime());
    const afterChange = await instancesOf('T1');
    expect(afterChange.map((i) => ({ id: i.id, startAt: i.startAt, endAt: i.endAt, state: i.state }))).toEqual(
      kept.map((i) => ({ id: i.id, startAt: i.startAt, endAt: i.endAt, state: i.id === running.id ? 'done' : i.state })),
    );
    expect(await prisma().checkRecord.count({ where: { instanceId: running.id } })).toBe(1);

    const gen = await sys.rt.generateOnce();
    expect(gen.created).toBeGreaterThan(0);
    const regenerated = (await instancesOf('T1')).filter((i) => i.startAt > now);
    expect(regenerated.length).toBeGreaterThanOrEqual(11); // ~48 h of 4-hour slots
    expect(regenerated.every((i) => hours(i) === 4)).toBe(true);
    // 4-hour slots on the local clock from 00:00 (Asia/Shanghai = UTC+8): 16:00, 20:00, 00:00 …
    expect(regenerated.every((i) => ((i.startAt.getUTCHours() + 8) % 24) % 4 === 0)).toBe(true);
    expect(regenerated[0].startAt.getTime()).toBe(T0.getTime() + 4 * HOUR); // 16:00 local
    // nothing back-dated
    const all = await instancesOf('T1');
    expect(all.filter((i) => i.startAt <= now).map((i) => i.id)).toEqual(kept.map((i) => i.id));
  });

  it('disabling removes the future, keeps the running one, clears the task’s alerts; re-enabling never back-dates', async () => {
    const t1 = await idOf.ct('T1');
    sys.clock.advance(4.5 * HOUR); // 19:30 local: the 16–20 instance is due soon
    await sys.cycle();
    const soon = await prisma().alert.findFirstOrThrow({ where: { kind: 'task_due_soon', subjectType: 'check_task', subjectId: t1, state: { not: 'cleared' } } });
    const now = sys.clock.now();
    await api(admin).patch(`/lists/check-tasks/${t1}`, { enabled: false }).expect(200);
    const cleared = await prisma().alert.findUniqueOrThrow({ where: { id: soon.id } });
    expect(cleared).toMatchObject({ state: 'cleared', clearKind: 'condition_ended', clearReason: '排查任务已停用', clearedById: await idOf.person('p03') });
    const left = await instancesOf('T1');
    expect(left).toHaveLength(3); // 12–14 (missed), 14–16 (done), 16–20 (running)
    expect(left.every((i) => i.startAt <= now)).toBe(true);
    await sys.cycle();
    expect(await instancesOf('T1')).toHaveLength(3); // a disabled task gets no instances
    expect(await prisma().alert.count({ where: { subjectType: 'check_task', subjectId: t1, state: { not: 'cleared' } } })).toBe(0);

    sys.clock.advance(5 * HOUR); // 00:30 the next day, 5 hours off
    const back = sys.clock.now();
    await api(admin).patch(`/lists/check-tasks/${t1}`, { enabled: true }).expect(200);
    await sys.rt.generateOnce();
    const fresh = (await instancesOf('T1')).filter((i) => !left.some((l) => l.id === i.id));
    expect(fresh.length).toBeGreaterThan(0);
    // the first new one is the slot running at re-enabling (00:00–04:00); none for the hours it was off
    expect(fresh[0].startAt.getTime()).toBeLessThanOrEqual(back.getTime());
    expect(fresh[0].endAt.getTime()).toBeGreaterThan(back.getTime());
    expect(fresh.every((i) => i.endAt > back)).toBe(true);
  });

  it('changing the work window re-lays the future too', async () => {
    const t5 = await idOf.ct('T5'); // 12 h, 08:00–20:00, 仪表工
    await sys.rt.generateOnce();
    const now = sys.clock.now();
    await api(admin).patch(`/lists/check-tasks/${t5}`, { workStartTime: '06:00', workEndTime: '18:00' }).expect(200);
    await sys.rt.generateOnce();
    const future = (await instancesOf('T5')).filter((i) => i.startAt > now);
    expect(future.length).toBeGreaterThan(0);
    expect(future.every((i) => (i.startAt.getUTCHours() + 8) % 24 === 6 && hours(i) === 12)).toBe(true);
  });

  // 8 h → 12 h at 00:30: the new rule's running window (00–12) starts where the kept 00–08 starts;
  // the kept one held the slot, and 08–12 was watched by no instance at all
  it('a longer cycle whose running window starts where a kept one starts: the kept one is stretched, no hour left uncovered', async () => {
    const t2 = await idOf.ct('T2'); // every 8 h, 00:00–24:00
    sys.clock.set(new Date('2026-12-02T00:30:00+08:00').getTime());
    await sys.rt.generateOnce();
    const now = sys.clock.now();
    const kept = (await instancesOf('T2')).find((i) => i.startAt <= now && i.endAt > now)!;
    expect([kept.startAt.toISOString(), hours(kept)]).toEqual(['2026-12-01T16:00:00.000Z', 8]); // 00:00–08:00 local

    await api(admin).patch(`/lists/check-tasks/${t2}`, { checkCycle: 12 }).expect(200);
    await sys.rt.generateOnce();
    const stretched = await prisma().checkTaskInstance.findUniqueOrThrow({ where: { id: kept.id } });
    expect(stretched.endAt.toISOString()).toBe('2026-12-02T04:00:00.000Z'); // 12:00 local, the new window's end
    expect(stretched.state).toBe('pending');
    // from the running window on, every moment is inside an instance
    const from = (await instancesOf('T2')).filter((i) => i.endAt > now);
    for (let k = 1; k < from.length; k++) expect(from[k].startAt.getTime()).toBeLessThanOrEqual(from[k - 1].endAt.getTime());
    expect(from[1].startAt.toISOString()).toBe('2026-12-02T04:00:00.000Z');
  });

  it('DELETE of a task with history disables it instead (its instances and records stay)', async () => {
    const t1 = await idOf.ct('T1');
    const count = (await instancesOf('T1')).filter((i) => i.startAt <= sys.clock.now()).length;
    const res = await api(admin).del(`/lists/check-tasks/${t1}`).expect(200);
    expect(res.body).toMatchObject({ deleted: false, disabled: true });
    expect(res.body.reason).toContain('已停用而未删除');
    const row = await prisma().checkTask.findUniqueOrThrow({ where: { id: t1 } });
    expect(row.enabled).toBe(false);
    const left = await instancesOf('T1');
    expect(left).toHaveLength(count);
    expect(left.every((i) => i.startAt <= sys.clock.now())).toBe(true);
    expect(await prisma().checkRecord.count({ where: { instance: { checkTaskId: t1 } } })).toBe(1);
  });
});
