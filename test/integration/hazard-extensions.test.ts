/**
 * 延期 over HTTP on the demo plant (issue #3 done-when "Extension"): an approved extension moves the
 * deadline and the overdue alert clears; a rejected one leaves both as they were. Also: one pending
 * request at a time, the requested date's rules, and who may decide (一般隐患: the unit's head or the
 * safety roles; 重大隐患: the 主要负责人 only; never one's own request).
 *
 * Demo hazards used (T0 = 2026-11-30 12:00 Asia/Shanghai):
 *  - V-101B 远传液位偏差 (RU1, head 陈志强 p05): rectifying, deadline 2026-11-25 — 5 days overdue;
 *    rectifier 胡婷 p16, acceptor 刘洋 p06
 *  - GD-203 检定过期 (RU2, head 钱伟 p09): rectifying, deadline tomorrow — due soon; rectifier p16
 *  - 加氢 紧急停车旁路 (RU3, head 黄涛 p12): a 重大隐患 (criterion 4), reported
 */
import request from 'supertest';
import { createTestSystem, T0, type TestSystem } from '../helpers/system';

let sys: TestSystem;
const tokens = new Map<string, string>();
async function as(who: string) {
  if (!tokens.has(who)) tokens.set(who, await sys.token(who));
  const t = tokens.get(who)!;
  return {
    get: (path: string) => request(sys.app.callback()).get(path).set('authorization', `Bearer ${t}`),
    post: (path: string, body: object = {}) => request(sys.app.callback()).post(path).set('authorization', `Bearer ${t}`).send(body),
    put: (path: string, body: object = {}) => request(sys.app.callback()).put(path).set('authorization', `Bearer ${t}`).send(body),
  };
}
const hazardNamed = (part: string) => sys.rt.prisma.hazard.findFirstOrThrow({ where: { name: { contains: part } } });
const alertsOf = (hazardId: number, kind: string) => sys.rt.prisma.alert.findMany({ where: { subjectType: 'hazard', subjectId: hazardId, kind }, orderBy: { id: 'asc' } });
function expectError(res: request.Response, status: number, code: string) {
  expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
  expect(res.body.message).toMatch(/[\u4e00-\u9fff]/);
}

beforeAll(async () => {
  sys = await createTestSystem({ now: T0 });
  await sys.cycle();
});
afterAll(async () => sys?.close());

describe('an overdue 一般隐患 (V-101B)', () => {
  let id: number;
  let overdueAlertId: number;
  beforeAll(async () => {
    id = (await hazardNamed('V-101B')).id;
    const [a] = await alertsOf(id, 'hazard_overdue');
    overdueAlertId = a.id;
    expect(a.state).toBe('open');
  });

  test('the requested date must be after the current deadline and not in the past', async () => {
    const p16 = await as('p16');
    expectError(await p16.post(`/api/v1/hazards/${id}/extensions`, { requestedDate: '2026-11-25', reason: '备件未到' }), 400, 'extension_not_later');
    expectError(await p16.post(`/api/v1/hazards/${id}/extensions`, { requestedDate: '2026-11-28', reason: '备件未到' }), 400, 'extension_in_past');
    expectError(await p16.post(`/api/v1/hazards/${id}/extensions`, { requestedDate: '2026-12-10', reason: '  ' }), 400, 'reason_required');
    // someone who is neither the rectifier nor above them
    expectError(await (await as('p14')).post(`/api/v1/hazards/${id}/extensions`, { requestedDate: '2026-12-10', reason: '备件未到' }), 403, 'forbidden');
    expect(await sys.rt.prisma.hazardExtension.count({ where: { hazardId: id } })).toBe(0);
  });

  let firstId: number;
  test('one pending request at a time', async () => {
    const p16 = await as('p16');
    const res = await p16.post(`/api/v1/hazards/${id}/extensions`, { requestedDate: '2026-12-10', reason: '变送器备件到货需 10 天' }).expect(201);
    expect(res.body).toMatchObject({ state: 'pending', fromDeadlineDate: '2026-11-25', requestedDate: '2026-12-10' });
    firstId = res.body.extensionId;
    expectError(await p16.post(`/api/v1/hazards/${id}/extensions`, { requestedDate: '2026-12-12', reason: '再延两天' }), 409, 'extension_pending');
    expect(await sys.rt.prisma.hazardExtension.count({ where: { hazardId: id } })).toBe(1);
  });

  test('who may decide: not the 班长 (no permission), not another department\'s head', async () => {
    expectError(await (await as('p06')).post(`/api/v1/hazards/${id}/extensions/${firstId}/approve`), 403, 'forbidden');
    expectError(await (await as('p09')).post(`/api/v1/hazards/${id}/extensions/${firstId}/approve`), 403, 'not_decider');
    expect((await sys.rt.prisma.hazardExtension.findUniqueOrThrow({ where: { id: firstId } })).state).toBe('pending');
  });

  test('a rejected extension leaves the deadline and the overdue alert as they were', async () => {
    const before = await sys.rt.prisma.hazard.findUniqueOrThrow({ where: { id } });
    const alertBefore = await sys.rt.prisma.alert.findUniqueOrThrow({ where: { id: overdueAlertId } });
    expectError(await (await as('p05')).post(`/api/v1/hazards/${id}/extensions/${firstId}/reject`, { comment: '' }), 400, 'comment_required');
    const res = await (await as('p05')).post(`/api/v1/hazards/${id}/extensions/${firstId}/reject`, { comment: '先用临时液位计，不予延期' }).expect(200);
    expect(res.body).toMatchObject({ state: 'rejected', deadlineDate: '2026-11-25' });
    expectError(await (await as('p05')).post(`/api/v1/hazards/${id}/extensions/${firstId}/approve`), 409, 'extension_decided');

    sys.clock.advance(60_000);
    await sys.cycle();
    const after = await sys.rt.prisma.hazard.findUniqueOrThrow({ where: { id } });
    expect([after.deadlineDate, after.deadlineAt]).toEqual([before.deadlineDate, before.deadlineAt]);
    const alertAfter = await sys.rt.prisma.alert.findUniqueOrThrow({ where: { id: overdueAlertId } });
    expect([alertAfter.state, alertAfter.level, alertAfter.clearedAt]).toEqual([alertBefore.state, alertBefore.level, null]);
    expect((await alertsOf(id, 'hazard_overdue')).map((a) => a.id)).toEqual([overdueAlertId]);
  });

  test('an approved extension moves the deadline and the overdue alert clears at once', async () => {
    const req = await (await as('p16')).post(`/api/v1/hazards/${id}/extensions`, { requestedDate: '2026-12-12', reason: '变送器备件到货需 12 天，已安排临时监护' }).expect(201);
    const res = await (await as('p05')).post(`/api/v1/hazards/${id}/extensions/${req.body.extensionId}/approve`, { comment: '同意，每班加测现场液位' }).expect(200);
    expect(res.body).toMatchObject({ state: 'approved', deadlineDate: '2026-12-12', deadlineAt: '2026-12-12T16:00:00.000Z' });
    expect(res.body.clearedAlerts).toEqual([overdueAlertId]);
    const a = await sys.rt.prisma.alert.findUniqueOrThrow({ where: { id: overdueAlertId } });
    expect([a.state, a.clearKind]).toEqual(['cleared', 'condition_ended']);
    expect(await sys.rt.prisma.notification.count({ where: { alertId: overdueAlertId, state: { in: ['pending', 'queued'] } } })).toBe(0);

    // the engine agrees: nothing reopens; the hazard is next looked at 3 days before the new deadline
    sys.clock.advance(60_000);
    await sys.cycle();
    expect((await alertsOf(id, 'hazard_overdue')).map((x) => x.state)).toEqual(['cleared']);
    expect(await alertsOf(id, 'hazard_due_soon')).toHaveLength(0);
    const h = await sys.rt.prisma.hazard.findUniqueOrThrow({ where: { id } });
    expect(h.nextCheckAt).toEqual(new Date('2026-12-09T16:00:00.000Z'));
  });

  test('the log shows request, rejection, request, approval with who and why', async () => {
    const res = await (await as('p05')).get(`/api/v1/hazards/${id}`).expect(200);
    const steps = res.body.transitions.filter((t: { action: string }) => t.action.startsWith('ext')).map((t: { action: string; actor: { name: string }; comment: string }) => [t.action, t.actor.name, t.comment]);
    expect(steps).toEqual([
      ['extension_request', '胡婷', '变送器备件到货需 10 天'],
      ['extension_reject', '陈志强', '先用临时液位计，不予延期'],
      ['extension_request', '胡婷', '变送器备件到货需 12 天，已安排临时监护'],
      ['extend', '陈志强', '同意，每班加测现场液位'],
    ]);
    expect(res.body.extensions.map((e: { state: string; decidedBy: { name: string } }) => [e.state, e.decidedBy.name])).toEqual([
      ['rejected', '陈志强'],
      ['approved', '陈志强'],
    ]);
    expect(res.body.deadlineDate).toBe('2026-12-12');
    const listed = await (await as('p05')).get('/api/v1/hazards?overdue=true').expect(200);
    expect(listed.body.items.map((i: { id: number }) => i.id)).not.toContain(id);
  });
});

describe('a due-soon 一般隐患 (GD-203): approval also ends the due-soon reminder when the new deadline is far', () => {
  test('the safety officer approves; due-soon clears', async () => {
    const h = await hazardNamed('GD-203');
    const [due] = await alertsOf(h.id, 'hazard_due_soon');
    expect(due.state).not.toBe('cleared');
    const req = await (await as('p16')).post(`/api/v1/hazards/${h.id}/extensions`, { requestedDate: '2026-12-20', reason: '送检周期 15 天' }).expect(201);
    const res = await (await as('p04')).post(`/api/v1/hazards/${h.id}/extensions/${req.body.extensionId}/approve`).expect(200);
    expect(res.body.clearedAlerts).toEqual([due.id]);
  });
});

describe('a 重大隐患: only the 主要负责人 decides its extension; nobody decides their own request', () => {
  let id: number;
  let extId: number;
  beforeAll(async () => {
    id = (await hazardNamed('紧急停车')).id;
    const p12 = await as('p12');
    await p12
      .put(`/api/v1/hazards/${id}/plan`, {
        goals: '恢复紧急停车系统全部联锁投用',
        measures: '停车检修，逐点回路测试后解除旁路',
        funds: 80000,
        people: '黄涛（组织）、徐静、胡婷',
        timeLimit: '2026-12-03',
        safetyMeasures: '旁路期间专人监护，降负荷运行',
        emergencyMeasures: '启动加氢装置泄漏应急预案，备用氮气置换',
      })
      .expect(200);
    await p12.post(`/api/v1/hazards/${id}/confirm`, { rectifierId: await sys.person('p13'), acceptorId: await sys.person('p03'), deadlineDate: '2026-12-03' }).expect(200);
    const req = await (await as('p03')).post(`/api/v1/hazards/${id}/extensions`, { requestedDate: '2026-12-08', reason: 'SIS 厂家工程师 12-06 到场' }).expect(201);
    extId = req.body.extensionId;
  });

  test('the unit head and the safety director are refused; the requester is refused; the 主要负责人 approves', async () => {
    expectError(await (await as('p12')).post(`/api/v1/hazards/${id}/extensions/${extId}/approve`), 403, 'principal_only');
    expectError(await (await as('p04')).post(`/api/v1/hazards/${id}/extensions/${extId}/approve`), 403, 'principal_only');
    expectError(await (await as('p03')).post(`/api/v1/hazards/${id}/extensions/${extId}/approve`), 403, 'own_request');
    const res = await (await as('p01')).post(`/api/v1/hazards/${id}/extensions/${extId}/approve`, { comment: '同意，12-08 前必须恢复' }).expect(200);
    expect(res.body).toMatchObject({ state: 'approved', deadlineDate: '2026-12-08' });
  });

  test('an extension cannot be asked for a hazard not being rectified', async () => {
    const reported = await (await as('p07')).post('/api/v1/hazards', { name: '罐区消防通道堆放杂物', dangerSrc: 1, hazardDangerType: 5, riskUnitId: (await sys.rt.prisma.riskUnit.findFirstOrThrow({ where: { code: 'RU1' } })).id }).expect(201);
    expectError(await (await as('p04')).post(`/api/v1/hazards/${reported.body.hazardId}/extensions`, { requestedDate: '2026-12-20', reason: '—' }), 409, 'invalid_transition');
  });
});

describe('later (the clock moves on: keep this last)', () => {
  test('past the new deadline the hazard is overdue again (a new alert)', async () => {
    // the demo's patrol tasks would generate and miss 12 days of instances meanwhile: not the subject here
    await sys.rt.prisma.checkTask.updateMany({ data: { enabled: false } });
    sys.clock.set(new Date('2026-12-12T16:00:00.000Z').getTime());
    await sys.cycle();
    const id = (await hazardNamed('V-101B')).id;
    const all = await alertsOf(id, 'hazard_overdue');
    expect(all.map((a) => a.state)).toEqual(['cleared', 'open']);
    expect(all[1].conditionStartAt).toEqual(new Date('2026-12-12T16:00:00.000Z'));
  });

  test('the engine on its own also ends an overdue alert whose deadline has moved (no stale alert if a service misses it)', async () => {
    const id = (await hazardNamed('V-101B')).id;
    // a deadline moved behind the services' back (e.g. a data correction), handed to the engine
    await sys.rt.prisma.hazard.update({ where: { id }, data: { deadlineDate: '2026-12-31', deadlineAt: new Date('2026-12-31T16:00:00.000Z'), nextCheckAt: sys.clock.now() } });
    await sys.cycle();
    const all = await alertsOf(id, 'hazard_overdue');
    expect(all.map((a) => [a.state, a.clearKind])).toEqual([
      ['cleared', 'condition_ended'],
      ['cleared', 'condition_ended'],
    ]);
    const ev = await sys.rt.prisma.alertEvent.findFirstOrThrow({ where: { alertId: all[1].id, type: 'cleared' } });
    expect(ev.channel).toBe('engine');
  });
});
