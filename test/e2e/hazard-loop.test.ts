/**
 * Issue #3, first done-when, through HTTP only, on the demo plant (real MariaDB + Redis, manual
 * clock): a patrol reading of 0.95 MPa on the 液氯 tank (T1, measure CM1, safe 0.2～0.8 MPa) by the
 * 罐区操作工 赵小军 (p07) raises an abnormal alert within one tick → the hazard draft it offered is
 * reported → confirmed with a deadline by the 罐区主管 陈志强 (p05) → rectified with an after-photo
 * by the 仪表工 胡婷 (p16) → sent back once by the 罐区班长 刘洋 (p06) → rectified again → accepted;
 * the abnormal alert clears, and the hazard's log shows all seven steps in order.
 *
 * Photos are uploaded through POST /api/v1/files (the real upload path).
 */
import request from 'supertest';
import { createTestSystem, T0, type TestSystem } from '../helpers/system';
import { uploadPhotos } from '../helpers/photos';

const MIN = 60_000;
const H = 3_600_000;

describe('the closed loop from an abnormal patrol reading', () => {
  let sys: TestSystem;
  const tokens: Record<string, string> = {};
  const as = (who: string) => ({
    get: (path: string) => request(sys.app.callback()).get(path).set('authorization', `Bearer ${tokens[who]}`),
    post: (path: string, body: object = {}) => request(sys.app.callback()).post(path).set('authorization', `Bearer ${tokens[who]}`).send(body),
  });
  let hazardId: number;
  let alertId: number;
  let recordId: number;
  let taskId: number;

  beforeAll(async () => {
    sys = await createTestSystem({ now: T0 });
    for (const p of ['p01', 'p05', 'p06', 'p07', 'p16']) tokens[p] = await sys.token(p);
    await sys.cycle();
  });
  afterAll(async () => sys?.close());

  const alert = async () => (await as('p01').get(`/api/v1/alerts/${alertId}`).expect(200)).body;
  const hazard = async (who = 'p07') => (await as(who).get(`/api/v1/hazards/${hazardId}`).expect(200)).body;

  test('the patrol task shows the key parameter and its safe range; 0.95 MPa is abnormal and offers a draft', async () => {
    const mine = await as('p07').get('/api/v1/me/tasks').expect(200);
    const t1 = mine.body.items.find((i: { task: { code: string } }) => i.task.code === 'T1');
    taskId = t1.task.id;
    expect(t1).toMatchObject({
      checkMeans: '现场确认',
      photoRequired: false,
      parameter: { name: '储罐压力', unit: 'MPa', min: 0.2, max: 0.8 },
      riskUnit: { name: '液氯储罐 V-101A/B' },
      measure: { code: 'CM1' },
    });
    expect(new Date(t1.window.startAt).getTime()).toBeLessThanOrEqual(T0.getTime());
    expect(new Date(t1.window.endAt).getTime()).toBeGreaterThan(T0.getTime());

    sys.clock.advance(10 * MIN);
    const res = await as('p07')
      .post('/api/v1/check-records', { instanceId: t1.instanceId, result: 0, readings: [{ value: 0.95 }], deviceId: 'IMEI-860000000000007', location: 'V-101A 罐顶平台', latitude: 31.8123456, longitude: 119.9765432 })
      .expect(201);
    expect(res.body).toMatchObject({ abnormal: true, result: 1, resultAdjusted: true });
    expect(res.body.hazardDraftId).toEqual(expect.any(Number));
    hazardId = res.body.hazardDraftId;
    alertId = res.body.abnormalAlertId;
    recordId = res.body.checkRecordId;

    const draft = await hazard();
    expect(draft).toMatchObject({
      state: 'draft',
      name: '储罐压力 0.95 MPa 超出安全范围（0.2～0.8 MPa）',
      riskUnit: { name: '液氯储罐 V-101A/B' },
      controlMeasure: { code: 'CM1' },
      checkRecordId: recordId,
      reporter: { name: '赵小军' },
      location: 'V-101A 罐顶平台',
      latitude: 31.8123456,
      dangerLevel: 0,
    });
    // a draft is nobody else's business yet
    await as('p06').get(`/api/v1/hazards/${hazardId}`).expect(404);
  });

  test('the abnormal alert goes out within one tick: to the person who saw it, the unit head and the 主要负责人', async () => {
    await sys.cycle();
    const a = await alert();
    expect(a.kind).toBe('abnormal_reading');
    expect(a.state).toBe('open');
    expect(a.notifications).toHaveLength(1);
    const ids = await Promise.all(['p07', 'p05', 'p01'].map((p) => sys.person(p)));
    expect(new Set(a.notifications[0].recipients)).toEqual(new Set(ids));
    // the draft is invisible to the engine: no hazard alert for it
    const forHazard = await as('p01').get(`/api/v1/alerts?state=all&subjectType=hazard&subjectId=${hazardId}`).expect(200);
    expect(forHazard.body.total).toBe(0);
  });

  test('reported, then confirmed with a deadline by the 罐区主管', async () => {
    sys.clock.advance(5 * MIN);
    const rep = await as('p07').post(`/api/v1/hazards/${hazardId}/report`, { hazardDangerType: 2, description: '压力持续上升，现场压力表与远传一致' }).expect(200);
    expect(rep.body).toMatchObject({ hazardId, state: 'reported' });
    sys.clock.advance(30 * MIN);
    const conf = await as('p05')
      .post(`/api/v1/hazards/${hazardId}/confirm`, { rectifierId: await sys.person('p16'), acceptorId: await sys.person('p06'), deadlineDate: '2026-12-03', hazardDangerType: 2, comment: '立即排查压力控制回路' })
      .expect(200);
    expect(conf.body).toMatchObject({ state: 'rectifying', deadlineDate: '2026-12-03', deadlineAt: '2026-12-03T16:00:00.000Z' });
    await sys.cycle();
    expect((await alert()).state).toBe('open'); // the reading's alert ends with acceptance, not before
  });

  test('rectified with an after-photo, sent back once, rectified again, accepted', async () => {
    sys.clock.advance(2 * H);
    const [first] = await uploadPhotos(sys, tokens.p16);
    await as('p16').post(`/api/v1/hazards/${hazardId}/rectify`, { measures: '更换进料调节阀定位器，压力回落至 0.55 MPa', afterPhotos: [first] }).expect(200);
    sys.clock.advance(H);
    await as('p06').post(`/api/v1/hazards/${hazardId}/send-back`, { comment: '高高联锁未做回路测试，退回' }).expect(200);
    await sys.cycle();
    expect((await alert()).state).toBe('open');
    sys.clock.advance(3 * H);
    const [second] = await uploadPhotos(sys, tokens.p16);
    await as('p16').post(`/api/v1/hazards/${hazardId}/rectify`, { measures: '完成高高联锁回路测试，联锁动作正常', cost: 1200, afterPhotos: [second] }).expect(200);
    sys.clock.advance(H);
    const acc = await as('p06').post(`/api/v1/hazards/${hazardId}/accept`, { comment: '现场复核压力正常，联锁测试记录齐全' }).expect(200);
    expect(acc.body).toMatchObject({ hazardId, state: 'accepted' });
    expect(acc.body.clearedAlerts).toContain(alertId);
  });

  test('the abnormal alert has cleared (condition ended, by the acceptor) and stays quiet', async () => {
    const a = await alert();
    expect(a.state).toBe('cleared');
    expect(a.clearKind).toBe('condition_ended');
    expect(a.events[a.events.length - 1]).toMatchObject({ type: 'cleared', actor: { name: '刘洋' }, channel: 'api' });
    const sent = a.notifications.length;
    sys.clock.advance(8 * H);
    await sys.cycle();
    expect((await alert()).notifications).toHaveLength(sent);
  });

  test('the hazard\'s log shows all seven steps in order, with who, photos and the national state', async () => {
    const h = await hazard('p06');
    expect(h.state).toBe('accepted');
    expect(h.nationalState).toBe(9);
    const steps = h.transitions.map((t: { action: string; actor: { name: string }; fromState: string | null; toState: string }) => [t.action, t.actor.name, t.fromState, t.toState]);
    expect(steps).toEqual([
      ['draft', '赵小军', null, 'draft'],
      ['report', '赵小军', 'draft', 'reported'],
      ['confirm', '陈志强', 'reported', 'rectifying'],
      ['rectify', '胡婷', 'rectifying', 'awaiting_acceptance'],
      ['send_back', '刘洋', 'awaiting_acceptance', 'rectifying'],
      ['rectify', '胡婷', 'rectifying', 'awaiting_acceptance'],
      ['accept', '刘洋', 'awaiting_acceptance', 'accepted'],
    ]);
    const times = h.transitions.map((t: { at: string }) => Date.parse(t.at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(h.transitions[4].comment).toBe('高高联锁未做回路测试，退回');
    // each rectification carries its own after-photo; the hazard shows the latest
    const rectPhotos = h.transitions.filter((t: { action: string }) => t.action === 'rectify').map((t: { photos: Array<{ id: number }> }) => t.photos.map((p) => p.id));
    expect(rectPhotos).toHaveLength(2);
    expect(rectPhotos[0]).not.toEqual(rectPhotos[1]);
    expect(h.afterPhotos.map((p: { id: number }) => p.id)).toEqual(rectPhotos[1]);
    const photo = h.afterPhotos[0];
    expect(photo.url).toBe(`http://dualprev.test/api/v1/files/${photo.id}`);
    expect(photo.thumbUrl).toBe(`${photo.url}/thumb`);
    const img = await as('p06').get(new URL(photo.url).pathname).expect(200);
    expect(img.headers['content-type']).toBe('image/jpeg');
    await as('p06').get(new URL(photo.thumbUrl).pathname).expect(200);
  });

  test('the record and the hazard find each other in the lists', async () => {
    const recs = await as('p05').get(`/api/v1/check-records?abnormal=true&taskId=${taskId}`).expect(200);
    expect(recs.body.total).toBe(1);
    expect(recs.body.items[0]).toMatchObject({
      id: recordId,
      result: 1,
      resultName: '存在隐患',
      deviceId: 'IMEI-860000000000007',
      readings: [{ paramName: '储罐压力', unit: 'MPa', value: 0.95, safeMin: 0.2, safeMax: 0.8, abnormal: true }],
      hazards: [{ id: hazardId, state: 'accepted' }],
    });
    const list = await as('p05').get(`/api/v1/hazards?state=accepted&personId=${await sys.person('p16')}`).expect(200);
    expect(list.body.items.map((i: { id: number }) => i.id)).toEqual([hazardId]);
  });
});
