/**
 * Inspections over HTTP on the demo plant (issue #3 item 2): my tasks with what the phone needs,
 * check records (photo required for 拍照 tasks, location, device, result), hazard drafts offered by
 * a finding (private to their author until reported), a record outside its window refused with a
 * clear reason (manual clock), the record list, and 停用检修: pending instances overlapping a
 * shutdown are suspended at once, their 临期/逾期 alerts end, they are never overdue, and the task
 * runs again after the shutdown.
 *
 * T0 = 2026-11-30 12:00 Asia/Shanghai (04:00Z). Demo: T1/T4 罐区巡检 (RU1, 罐区操作工 p07/p08, every
 * 2 h), T13 (RU4, p07's post), T3 安全阀 (拍照, 设备员 朱斌 p15, weekly), T8 氯化记录 (RU2, hourly).
 */
import request from 'supertest';
import { createTestSystem, T0, type TestSystem } from '../helpers/system';
import { uploadPhotos } from '../helpers/photos';

const MIN = 60_000;
const H = 3_600_000;
const at = (localHhmm: string) => new Date(`2026-11-30T${localHhmm}:00+08:00`).getTime();

function client(sys: () => TestSystem) {
  const tokens = new Map<string, string>();
  return async (who: string) => {
    if (!tokens.has(who)) tokens.set(who, await sys().token(who));
    const t = tokens.get(who)!;
    return {
      get: (path: string) => request(sys().app.callback()).get(path).set('authorization', `Bearer ${t}`),
      post: (path: string, body: object = {}) => request(sys().app.callback()).post(path).set('authorization', `Bearer ${t}`).send(body),
      delete: (path: string) => request(sys().app.callback()).delete(path).set('authorization', `Bearer ${t}`),
    };
  };
}
interface TaskItem {
  instanceId: number;
  task: { id: number; code: string };
  photoRequired: boolean;
  checkMeans: string;
  parameter: { name: string; unit: string; min: number; max: number; rangeText: string } | null;
  measure: { code: string } | null;
  window: { startAt: string; endAt: string };
}
function expectError(res: request.Response, status: number, code: string) {
  expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
  expect(res.body.message).toMatch(/[\u4e00-\u9fff]/);
  expect(res.body.message_en).toBeTruthy();
}

// ─────────────────────────────────────────────────────────────────────────────────────────────
describe('check records', () => {
  let sys: TestSystem;
  const as = client(() => sys);
  const myTasks = async (who: string): Promise<TaskItem[]> => (await (await as(who)).get('/api/v1/me/tasks').expect(200)).body.items;
  const task = async (who: string, code: string) => (await myTasks(who)).find((i) => i.task.code === code)!;
  const recordCount = () => sys.rt.prisma.checkRecord.count();

  beforeAll(async () => {
    sys = await createTestSystem({ now: T0 });
    await sys.cycle();
    sys.clock.advance(5 * MIN);
  });
  afterAll(async () => sys?.close());

  test('my tasks say what to check, the key parameter with unit and safe range, the window and whether a photo is needed', async () => {
    const t3 = await task('p15', 'T3');
    expect(t3).toMatchObject({ checkMeans: '拍照', photoRequired: true, parameter: null, measure: { code: 'CM2' } });
    const t4 = await task('p07', 'T4');
    expect(t4).toMatchObject({ checkMeans: '现场确认', photoRequired: false, parameter: { name: '储罐液位', unit: '%', min: 10, max: 80, rangeText: '10～80 %' } });
    expect(t4.window).toEqual({ startAt: '2026-11-30T04:00:00.000Z', endAt: '2026-11-30T06:00:00.000Z' });
    // someone else's post sees none of them
    expect((await myTasks('p14')).map((i) => i.task.code)).not.toContain('T4');
  });

  test('a 拍照 task without a photo: 400 photo_required, nothing stored; with one: stored with location and device', async () => {
    const t3 = await task('p15', 'T3');
    const before = await recordCount();
    expectError(await (await as('p15')).post('/api/v1/check-records', { instanceId: t3.instanceId, result: 0 }), 400, 'photo_required');
    expectError(await (await as('p15')).post('/api/v1/check-records', { instanceId: t3.instanceId, result: 0, photos: [] }), 400, 'photo_required');
    expect(await recordCount()).toBe(before);
    expect((await sys.rt.prisma.checkTaskInstance.findUniqueOrThrow({ where: { id: t3.instanceId } })).state).toBe('pending');

    const photos = await uploadPhotos(sys, await sys.token('p15'), 2);
    const res = await (await as('p15'))
      .post('/api/v1/check-records', { instanceId: t3.instanceId, result: 0, photos, location: 'V-101A 安全阀', latitude: 31.8111111, longitude: 119.9722222, deviceId: 'IMEI-860000000000015' })
      .expect(201);
    expect(res.body).toMatchObject({ result: 0, resultAdjusted: false, abnormal: false, hazardDraftId: null, abnormalAlertId: null });
    const list = (await (await as('p05')).get(`/api/v1/check-records?personId=${await sys.person('p15')}`).expect(200)).body;
    expect(list.total).toBe(1);
    expect(list.items[0]).toMatchObject({ location: 'V-101A 安全阀', latitude: 31.8111111, longitude: 119.9722222, deviceId: 'IMEI-860000000000015', result: 0, resultName: '正常', task: { code: 'T3' } });
    expect(list.items[0].photos.map((p: { id: number; url: string }) => [p.id, p.url])).toEqual(photos.map((id) => [id, `http://dualprev.test/api/v1/files/${id}`]));
  });

  test('readings on a 无需排查 record are refused; a photo id that does not exist is refused', async () => {
    const t4 = await task('p07', 'T4');
    expectError(await (await as('p07')).post('/api/v1/check-records', { instanceId: t4.instanceId, result: 2, readings: [{ value: 50 }] }), 400, 'readings_not_applicable');
    expectError(await (await as('p07')).post('/api/v1/check-records', { instanceId: t4.instanceId, result: 0, photos: [999999] }), 404, 'file_not_found');
    expect((await sys.rt.prisma.checkTaskInstance.findUniqueOrThrow({ where: { id: t4.instanceId } })).state).toBe('pending');
  });

  let draftId: number;
  test('存在隐患 without readings also offers a draft, named from the note; a normal reading offers none', async () => {
    const t4 = await task('p07', 'T4');
    const res = await (await as('p07')).post('/api/v1/check-records', { instanceId: t4.instanceId, result: 1, note: 'V-101B 现场液位计玻璃板模糊，无法读数' }).expect(201);
    expect(res.body).toMatchObject({ result: 1, abnormal: false, abnormalAlertId: null });
    draftId = res.body.hazardDraftId;
    expect(draftId).toEqual(expect.any(Number));
    const d = await sys.rt.prisma.hazard.findUniqueOrThrow({ where: { id: draftId } });
    expect(d).toMatchObject({ state: 'draft', name: 'V-101B 现场液位计玻璃板模糊，无法读数', checkRecordId: res.body.checkRecordId, reporterId: await sys.person('p07'), nextCheckAt: null, dangerSrc: 1, hazardDangerType: 7 });

    const t1 = await task('p07', 'T1');
    const ok = await (await as('p07')).post('/api/v1/check-records', { instanceId: t1.instanceId, result: 0, readings: [{ value: 0.5 }] }).expect(201);
    expect(ok.body).toMatchObject({ abnormal: false, hazardDraftId: null, abnormalAlertId: null });
  });

  test('a draft is its author\'s until reported: listed with state=draft for them only, not in the default list', async () => {
    const mine = (await (await as('p07')).get('/api/v1/hazards?state=draft').expect(200)).body;
    expect(mine.items.map((i: { id: number }) => i.id)).toEqual([draftId]);
    expect((await (await as('p07')).get('/api/v1/hazards?limit=200').expect(200)).body.items.map((i: { id: number }) => i.id)).not.toContain(draftId);
    expect((await (await as('p08')).get('/api/v1/hazards?state=draft').expect(200)).body.total).toBe(0);
    await (await as('p05')).get(`/api/v1/hazards/${draftId}`).expect(404);
    // someone else may not report it: for them it does not exist, as in GET and DELETE
    expectError(await (await as('p08')).post(`/api/v1/hazards/${draftId}/report`, {}), 404, 'not_found');
    await sys.cycle();
    expect(await sys.rt.prisma.alert.count({ where: { subjectType: 'hazard', subjectId: draftId } })).toBe(0);

    const rep = await (await as('p07')).post(`/api/v1/hazards/${draftId}/report`, { hazardDangerType: 4, location: 'V-101B 液位计' }).expect(200);
    expect(rep.body.state).toBe('reported');
    const h = (await (await as('p05')).get(`/api/v1/hazards/${draftId}`).expect(200)).body;
    expect(h).toMatchObject({ state: 'reported', hazardDangerType: 4, location: 'V-101B 液位计', riskUnit: { name: '液氯储罐 V-101A/B' }, controlMeasure: { code: 'CM3' } });
    expect(h.transitions.map((t: { action: string }) => t.action)).toEqual(['draft', 'report']);
    expect(Date.parse(h.reportedAt)).toBe(sys.clock.now().getTime());
    expectError(await (await as('p07')).post(`/api/v1/hazards/${draftId}/report`, {}), 409, 'invalid_transition');
  });

  test('the record list filters by result and local dates', async () => {
    const p05 = await as('p05');
    const found = (await p05.get('/api/v1/check-records?result=1').expect(200)).body;
    expect(found.items.map((i: { note: string }) => i.note)).toEqual(['V-101B 现场液位计玻璃板模糊，无法读数']);
    expect(found.items[0].hazards).toEqual([{ id: draftId, code: expect.any(String), state: 'reported' }]);
    expect((await p05.get('/api/v1/check-records?from=2026-11-30&to=2026-11-30').expect(200)).body.total).toBe(3);
    expect((await p05.get('/api/v1/check-records?to=2026-11-29').expect(200)).body.total).toBe(0);
    expect((await p05.get('/api/v1/check-records?abnormal=true').expect(200)).body.total).toBe(0);
    const page = (await p05.get('/api/v1/check-records?limit=1&offset=1').expect(200)).body;
    expect([page.total, page.items.length]).toEqual([3, 1]);
  });

  test('a record outside its instance\'s window is refused with the reason (before it opens, after it ends)', async () => {
    const t1 = await sys.rt.prisma.checkTask.findFirstOrThrow({ where: { code: 'T1' } });
    const next = await sys.rt.prisma.checkTaskInstance.findFirstOrThrow({ where: { checkTaskId: t1.id, startAt: new Date('2026-11-30T06:00:00.000Z') } });
    const early = await (await as('p08')).post('/api/v1/check-records', { instanceId: next.id, result: 0 });
    expectError(early, 409, 'outside_window');
    expect(early.body.message).toContain('尚未开始');

    const t13 = await task('p08', 'T13');
    sys.clock.set(Date.parse(t13.window.endAt)); // the end is exclusive; no tick has marked it missed yet
    const late = await (await as('p08')).post('/api/v1/check-records', { instanceId: t13.instanceId, result: 0 });
    expectError(late, 409, 'outside_window');
    expect(late.body.message).toContain('已结束');
    expect(late.body.message_en).toContain('2026-11-30T06:00:00.000Z');
    await sys.cycle();
    expectError(await (await as('p08')).post('/api/v1/check-records', { instanceId: t13.instanceId, result: 0 }), 409, 'instance_closed');
  });
});

// ─────────────────────────────────────────────────────────────────────────────────────────────
describe('停用检修: a unit shut down for maintenance', () => {
  let sys: TestSystem;
  const as = client(() => sys);
  let RU1: number;
  let RU2: number;
  let T1: number;
  let shutdownId: number;
  let dueSoonId: number;
  const instancesOf = (taskCode: string) => sys.rt.prisma.checkTaskInstance.findMany({ where: { checkTask: { code: taskCode } }, orderBy: { startAt: 'asc' } });
  const taskAlerts = (kind: string, taskId: number) => sys.rt.prisma.alert.findMany({ where: { kind, subjectType: 'check_task', subjectId: taskId }, orderBy: { id: 'asc' } });

  beforeAll(async () => {
    sys = await createTestSystem({ now: T0 });
    const p = sys.rt.prisma;
    RU1 = (await p.riskUnit.findFirstOrThrow({ where: { code: 'RU1' } })).id;
    RU2 = (await p.riskUnit.findFirstOrThrow({ where: { code: 'RU2' } })).id;
    T1 = (await p.checkTask.findFirstOrThrow({ where: { code: 'T1' } })).id;
    await sys.cycle();
    // T1 12:00–14:00 is missed (逾期未排查), and 14:00–16:00 is due soon (临期) at 15:10
    sys.clock.set(at('14:01'));
    await sys.cycle();
    sys.clock.set(at('15:10'));
    await sys.cycle();
  });
  afterAll(async () => sys?.close());

  test('the alerts it will end exist', async () => {
    expect((await taskAlerts('task_overdue', T1)).map((a) => a.state)).toEqual(['open']);
    const open = (await taskAlerts('task_due_soon', T1)).filter((a) => a.state === 'open');
    expect(open).toHaveLength(1);
    dueSoonId = open[0].id;
  });

  test('who may shut a unit down: not an operator (permission), not another department\'s head; a reason and a valid period', async () => {
    const body = { startAt: new Date(at('15:10')).toISOString(), reason: 'V-101A 停用清罐检修' };
    expectError(await (await as('p07')).post(`/api/v1/risk-units/${RU1}/shutdowns`, body), 403, 'forbidden');
    expectError(await (await as('p09')).post(`/api/v1/risk-units/${RU1}/shutdowns`, body), 403, 'forbidden');
    expectError(await (await as('p05')).post(`/api/v1/risk-units/${RU1}/shutdowns`, { ...body, reason: '' }), 400, 'invalid_input');
    expectError(await (await as('p05')).post(`/api/v1/risk-units/${RU1}/shutdowns`, { ...body, endAt: body.startAt }), 400, 'invalid_period');
    expect(await sys.rt.prisma.riskUnitShutdown.count()).toBe(0);
  });

  test('pending instances overlapping it are suspended at once and the task\'s alerts end', async () => {
    const res = await (await as('p05')).post(`/api/v1/risk-units/${RU1}/shutdowns`, { startAt: new Date(at('15:10')).toISOString(), reason: 'V-101A 停用清罐检修' }).expect(201);
    shutdownId = res.body.shutdownId;
    const [overdue] = await taskAlerts('task_overdue', T1);
    expect(res.body.clearedAlerts).toEqual(expect.arrayContaining([overdue.id, dueSoonId]));
    expect((await sys.rt.prisma.alert.findUniqueOrThrow({ where: { id: dueSoonId } })).state).toBe('cleared');
    expect((await taskAlerts('task_overdue', T1)).map((a) => [a.state, a.clearKind])).toEqual([['cleared', 'condition_ended']]);
    const t1 = await instancesOf('T1');
    const byStart = (hhmm: string) => t1.find((i) => i.startAt.getTime() === at(hhmm))!;
    expect(byStart('12:00').state).toBe('missed'); // what was missed stays missed
    expect([byStart('14:00').state, byStart('14:00').nextCheckAt]).toEqual(['suspended', null]);
    expect(t1.filter((i) => i.startAt.getTime() >= at('14:00')).every((i) => i.state === 'suspended')).toBe(true);
    expect(res.body.suspendedInstances).toBe((await sys.rt.prisma.checkTaskInstance.count({ where: { state: 'suspended' } })));
    // other units run on
    expect((await instancesOf('T8')).some((i) => i.state === 'suspended')).toBe(false);
  });

  test('a second, overlapping shutdown is refused', async () => {
    expectError(await (await as('p03')).post(`/api/v1/risk-units/${RU1}/shutdowns`, { startAt: new Date(at('18:00')).toISOString(), reason: '重复' }), 409, 'shutdown_overlaps');
  });

  test('while it lasts: no task on the phone, no record, never overdue', async () => {
    const codes = async () => ((await (await as('p07')).get('/api/v1/me/tasks').expect(200)).body.items as TaskItem[]).map((i) => i.task.code);
    expect(await codes()).not.toContain('T1');
    expect(await codes()).toContain('T13'); // RU4 is not shut down
    const t1 = (await instancesOf('T1')).find((i) => i.startAt.getTime() === at('14:00'))!;
    expectError(await (await as('p07')).post('/api/v1/check-records', { instanceId: t1.id, result: 0 }), 409, 'instance_closed');
    sys.clock.set(at('18:05'));
    await sys.cycle();
    expect((await taskAlerts('task_overdue', T1)).map((a) => a.state)).toEqual(['cleared']);
    expect((await taskAlerts('task_due_soon', T1)).filter((a) => a.state !== 'cleared')).toHaveLength(0);
    expect((await instancesOf('T1')).filter((i) => i.startAt.getTime() >= at('14:00') && i.endAt.getTime() <= at('18:05')).map((i) => i.state)).toEqual(['suspended', 'suspended']);
    const list = (await (await as('p07')).get(`/api/v1/risk-units/${RU1}/shutdowns`).expect(200)).body.items;
    expect(list).toMatchObject([{ id: shutdownId, reason: 'V-101A 停用清罐检修', endAt: null, active: true }]);
  });

  test('ended: windows that no longer overlap it run again; the one it overlapped stays suspended', async () => {
    expectError(await (await as('p05')).post(`/api/v1/risk-units/${RU1}/shutdowns/${shutdownId}/end`, { endAt: new Date(at('15:00')).toISOString() }), 400, 'invalid_period');
    const res = await (await as('p05')).post(`/api/v1/risk-units/${RU1}/shutdowns/${shutdownId}/end`, {}).expect(200);
    expect(res.body.endAt).toBe(new Date(at('18:05')).toISOString());
    expect(res.body.resumedInstances).toBeGreaterThan(0);
    const t1 = await instancesOf('T1');
    const byStart = (hhmm: string) => t1.find((i) => i.startAt.getTime() === at(hhmm))!;
    expect(byStart('18:00').state).toBe('suspended');
    expect([byStart('20:00').state, byStart('20:00').nextCheckAt]).toEqual(['pending', new Date(at('21:00'))]);
    expectError(await (await as('p05')).post(`/api/v1/risk-units/${RU1}/shutdowns/${shutdownId}/end`, {}), 409, 'shutdown_ended');

    sys.clock.set(at('20:10'));
    await sys.cycle();
    expect(((await (await as('p07')).get('/api/v1/me/tasks').expect(200)).body.items as TaskItem[]).map((i) => i.task.code)).toContain('T1');
    // and a window missed after the shutdown is overdue again
    sys.clock.set(at('22:01'));
    await sys.cycle();
    expect((await taskAlerts('task_overdue', T1)).map((a) => a.state)).toEqual(['cleared', 'open']);
  });

  test('a planned shutdown suspends exactly the windows it overlaps, at once', async () => {
    // RU2 down 2026-12-01 08:00–12:00 local (00:00Z–04:00Z): the hourly T8 windows 00–01Z … 03–04Z
    const res = await (await as('p09')).post(`/api/v1/risk-units/${RU2}/shutdowns`, { startAt: '2026-12-01T08:00:00+08:00', endAt: '2026-12-01T12:00:00+08:00', reason: '氯化反应釜 R-201 换热器检修' }).expect(201);
    const t8 = await instancesOf('T8');
    const suspended = t8.filter((i) => i.state === 'suspended').map((i) => i.startAt.toISOString());
    expect(suspended).toEqual(['2026-12-01T00:00:00.000Z', '2026-12-01T01:00:00.000Z', '2026-12-01T02:00:00.000Z', '2026-12-01T03:00:00.000Z']);
    const after = t8.find((i) => i.startAt.toISOString() === '2026-12-01T04:00:00.000Z')!;
    expect(after.state).toBe('pending');
    expect(res.body.suspendedInstances).toBeGreaterThanOrEqual(4);
  });
});

test('the local-time helper reads Asia/Shanghai', () => {
  expect(new Date(at('12:00'))).toEqual(T0);
  expect(at('13:00') - at('12:00')).toBe(H);
});

// ─────────────────────────────────────────────────────────────────────────────────────────────
describe('hazard drafts from a misread', () => {
  let sys: TestSystem;
  const as = client(() => sys);
  const task = async (who: string, code: string) =>
    ((await (await as(who)).get('/api/v1/me/tasks').expect(200)).body.items as TaskItem[]).find((i) => i.task.code === code)!;
  beforeAll(async () => {
    sys = await createTestSystem({ now: T0 });
    await sys.cycle();
    sys.clock.advance(5 * MIN);
  });
  afterAll(async () => sys?.close());

  test('a misread: the drafter may discard the draft (others may not); the abnormal-reading alert stays', async () => {
    const t13 = await task('p07', 'T13');
    const res = await (await as('p07')).post('/api/v1/check-records', { instanceId: t13.instanceId, result: 1, readings: [{ value: 92 }] }).expect(201);
    expect(res.body.abnormal).toBe(true);
    const id = res.body.hazardDraftId as number;
    expectError(await (await as('p08')).delete(`/api/v1/hazards/${id}`), 404, 'not_found');
    expect((await (await as('p07')).delete(`/api/v1/hazards/${id}`).expect(200)).body).toEqual({ hazardId: id, deleted: true });
    expect(await sys.rt.prisma.hazard.count({ where: { id } })).toBe(0);
    const alert = await sys.rt.prisma.alert.findUniqueOrThrow({ where: { id: res.body.abnormalAlertId } });
    expect(alert.state).not.toBe('cleared');
    // a reported hazard is not a draft
    const reported = (await (await as('p07')).post('/api/v1/hazards', { name: '甲醇罐区呼吸阀结霜', dangerSrc: 1, hazardDangerType: 7 }).expect(201)).body.hazardId;
    expectError(await (await as('p07')).delete(`/api/v1/hazards/${reported}`), 409, 'not_a_draft');
    // …for anyone of the plant, who can see it (it was 404 for them while GET answered 200)
    await (await as('p08')).get(`/api/v1/hazards/${reported}`).expect(200);
    expectError(await (await as('p08')).delete(`/api/v1/hazards/${reported}`), 409, 'not_a_draft');
  });

});

// ─────────────────────────────────────────────────────────────────────────────────────────────
describe('a person with many tasks open at once', () => {
  let sys: TestSystem;
  const as = client(() => sys);
  beforeAll(async () => {
    sys = await createTestSystem({ now: T0 });
    await sys.cycle();
  });
  afterAll(async () => sys?.close());

  // the list was cut at 200 rows without a word: the 201st check simply was not on the phone
  test('250 extra tasks of 朱斌 (p15): all of them are listed, soonest due first, not truncated', async () => {
    const { id: _id, code: _code, createdAt: _c, updatedAt: _u, ...t3 } = await sys.rt.prisma.checkTask.findFirstOrThrow({ where: { code: 'T3' } });
    await sys.rt.prisma.checkTask.createMany({ data: Array.from({ length: 250 }, (_, i) => ({ ...t3, code: `TX${i + 1}` }) as never) });
    const extra = await sys.rt.prisma.checkTask.findMany({ where: { code: { startsWith: 'TX' } }, select: { id: true } });
    expect(extra).toHaveLength(250);
    await sys.rt.prisma.checkTaskInstance.createMany({
      data: extra.map((t, i) => ({ enterpriseId: t3.enterpriseId, checkTaskId: t.id, startAt: new Date(T0.getTime() - H), endAt: new Date(T0.getTime() + H + i * MIN) })),
    });
    const res = await (await as('p15')).get('/api/v1/me/tasks').expect(200);
    const codes = (res.body.items as TaskItem[]).map((i) => i.task.code);
    expect(codes).toHaveLength(251); // T3 and the 250
    expect(codes).toContain('T3');
    expect(codes).toContain('TX250');
    expect(res.body.truncated).toBe(false);
    const ends = (res.body.items as TaskItem[]).map((i) => Date.parse(i.window.endAt));
    expect(ends).toEqual([...ends].sort((a, b) => a - b));
  });
});
