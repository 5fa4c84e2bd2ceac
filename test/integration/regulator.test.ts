/**
 * Regulators (监管, issue #3 item 5): managing their scope (services/regulators.ts, the code behind
 * `npm run regulator`), choosing the enterprise (`?enterpriseId=`, GET /me), reading scoped to it,
 * and writing nothing through any door — the API, the message link page, chat commands.
 * The demo seed's 园区监管员 r01 (PARK-320411) reads the demo plant.
 */
import request from 'supertest';
import type { Server } from 'node:http';
import { createTestSystem, T0, type TestSystem } from '../helpers/system';
import { AppError } from '../../server/errors';
import { addRegulatorScope, listRegulators, removeRegulatorScope } from '../../server/services/regulators';
import { issueApiToken } from '../../server/services/tokens';
import { handleChatText } from '../../server/services/chat-commands';
import { alertCode } from '../../server/domain/render';

let sys: TestSystem;
let http: Server;
let demoId: number;
let secondId: number;
let parkId: number;
let r01: number;

const get = (token: string, path: string) => request(http).get(path).set('authorization', `Bearer ${token}`);
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => (e instanceof AppError ? { status: e.status, code: e.code } : { thrown: String(e) }),
  );

beforeAll(async () => {
  sys = await createTestSystem({ now: T0 });
  http = sys.app.listen(0, '127.0.0.1');
  demoId = sys.enterpriseId!;
  await sys.cycle();
  const p = sys.rt.prisma;
  secondId = (await p.enterprise.create({ data: { companyCode: '320411902', name: '第二化工（演示）有限公司' } })).id;
  const park = await p.enterprise.findUniqueOrThrow({ where: { companyCode: 'PARK-320411' } });
  parkId = park.id;
  r01 = (await p.person.findFirstOrThrow({ where: { code: 'r01', enterpriseId: parkId } })).id;
});
afterAll(async () => {
  await new Promise((r) => http?.close(r));
  await sys?.close();
});

describe('managing the scope (npm run regulator)', () => {
  test('the seed made r01 a regulator of the demo plant', async () => {
    expect(await listRegulators(sys.rt.prisma)).toEqual([
      expect.objectContaining({ code: 'r01', name: '园区监管员', organisation: { companyCode: 'PARK-320411', name: expect.any(String) }, scope: [{ id: demoId, companyCode: '320411901', name: '示范化工（演示）有限公司' }] }),
    ]);
  });

  test('add by person code or mobile: idempotent, all or nothing', async () => {
    const p = sys.rt.prisma;
    const added = await addRegulatorScope(p, 'r01', ['320411902', '320411901']);
    expect(added.added).toEqual(['320411902']);
    expect(added.scope.map((s) => s.companyCode)).toEqual(['320411901', '320411902']);
    expect((await addRegulatorScope(p, '13800000099', ['320411902'])).added).toEqual([]); // by mobile, again
    // one unknown code: nothing added
    expect(await refusal(addRegulatorScope(p, 'r01', ['320411903', 'NOPE']))).toEqual({ status: 404, code: 'not_found' });
    expect(await p.regulatorScope.count({ where: { personId: r01 } })).toBe(2);
    const removed = await removeRegulatorScope(p, 'r01', ['320411902', 'NOPE']);
    expect(removed.removed).toEqual(['320411902']);
    expect(removed.scope.map((s) => s.companyCode)).toEqual(['320411901']);
  });

  test('refusals: unknown person, a code shared by two enterprises, the regulator’s own organisation, no enterprise', async () => {
    const p = sys.rt.prisma;
    expect(await refusal(addRegulatorScope(p, 'nobody', ['320411901']))).toEqual({ status: 404, code: 'not_found' });
    // p07 exists in the demo plant; give the second enterprise a p07 too
    await p.person.create({ data: { enterpriseId: secondId, code: 'p07', name: '同码人员', roles: ['frontline'] } });
    expect(await refusal(addRegulatorScope(p, 'p07', ['320411902']))).toEqual({ status: 400, code: 'ambiguous_person' });
    expect(await refusal(addRegulatorScope(p, 'r01', ['PARK-320411']))).toEqual({ status: 400, code: 'own_enterprise' });
    expect(await refusal(addRegulatorScope(p, 'r01', []))).toEqual({ status: 400, code: 'no_enterprises' });
  });

  test('a plant person made a regulator keeps their roles but writes nothing any more', async () => {
    const p = sys.rt.prisma;
    const p04 = await p.person.findFirstOrThrow({ where: { code: 'p04', enterpriseId: demoId } });
    // p04 (安全员, safety_dept) made regulator of the second enterprise
    const view = await addRegulatorScope(p, '13800000004', ['320411902']);
    expect(view.scope.map((s) => s.companyCode)).toEqual(['320411902']);
    expect((await p.person.findUniqueOrThrow({ where: { id: p04.id } })).roles).toEqual(['safety_dept', 'regulator']);
    const t = await issueApiToken(p, p04.id, 'test');
    const alert = await p.alert.findFirstOrThrow({ where: { enterpriseId: demoId, state: { not: 'cleared' } } });
    const ack = await request(http).post(`/api/v1/alerts/${alert.id}/ack`).set('authorization', `Bearer ${t}`).send({});
    expect(ack.status).toBe(403);
    expect(ack.body.details).toEqual({ permission: 'alerts.act' });
    // undo for the other tests
    await p.person.update({ where: { id: p04.id }, data: { roles: ['safety_dept'] } });
    await p.regulatorScope.deleteMany({ where: { personId: p04.id } });
  });
});

describe('choosing the enterprise', () => {
  test('GET /me lists what the regulator may read; one scope → it is the default', async () => {
    const t = await issueApiToken(sys.rt.prisma, r01, 'test');
    const me = await get(t, '/api/v1/me');
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({
      person: { code: 'r01', roles: ['regulator'] },
      enterprise: { id: parkId, companyCode: 'PARK-320411' },
      readable: [{ id: parkId }, { id: demoId, companyCode: '320411901' }],
    });
    const hazards = await get(t, '/api/v1/hazards?limit=200');
    expect(hazards.status).toBe(200);
    expect(hazards.body.total).toBe(await sys.rt.prisma.hazard.count({ where: { enterpriseId: demoId, state: { not: 'draft' } } }));
  });

  test('several scopes and no ?enterpriseId= → 400 enterprise_required naming them; each one by id; none → 403', async () => {
    const p = sys.rt.prisma;
    const park = await p.person.create({ data: { enterpriseId: parkId, code: 'r09', name: '区监管员', roles: ['regulator'] } });
    await p.regulatorScope.createMany({ data: [{ personId: park.id, enterpriseId: demoId }, { personId: park.id, enterpriseId: secondId }] });
    const t = await issueApiToken(p, park.id, 'test');
    const none = await get(t, '/api/v1/alerts');
    expect(none.status).toBe(400);
    expect(none.body).toMatchObject({ code: 'enterprise_required', details: { enterprises: [demoId, secondId] } });
    const demo = await get(t, `/api/v1/alerts?state=all&enterpriseId=${demoId}`);
    expect(demo.status).toBe(200);
    expect(demo.body.total).toBe(await p.alert.count({ where: { enterpriseId: demoId } }));
    const second = await get(t, `/api/v1/alerts?state=all&enterpriseId=${secondId}`);
    expect(second.body).toEqual({ total: 0, items: [] });
    // a demo hazard asked for as the second enterprise's: not there
    const h = await p.hazard.findFirstOrThrow({ where: { enterpriseId: demoId } });
    expect((await get(t, `/api/v1/hazards/${h.id}?enterpriseId=${secondId}`)).status).toBe(404);
    expect((await get(t, `/api/v1/hazards/${h.id}?enterpriseId=${demoId}`)).status).toBe(200);
    // /me needs no choice
    expect((await get(t, '/api/v1/me')).status).toBe(200);

    await p.regulatorScope.deleteMany({ where: { personId: park.id } });
    const empty = await get(t, '/api/v1/alerts');
    expect(empty.status).toBe(403);
    expect(empty.body).toMatchObject({ code: 'forbidden', details: { reason: 'no_scope' } });
    expect((await get(t, `/api/v1/alerts?enterpriseId=${demoId}`)).status).toBe(404);
  });
});

describe('no write through another door', () => {
  test('chat commands: the park regulator finds no plant alert; a regulator in the plant is refused', async () => {
    const p = sys.rt.prisma;
    const alert = await p.alert.findFirstOrThrow({ where: { enterpriseId: demoId, subjectType: 'hazard', state: { not: 'cleared' } } });
    const deps = { prisma: p, clock: sys.clock };
    const before = await p.alertEvent.count();
    const fromPark = await handleChatText(deps, { personId: r01, channel: 'wecom', text: `确认 ${alertCode(alert.id)}` });
    expect(fromPark.applied).toBe(false);
    expect(fromPark.reply).toContain('未找到');
    const inPlant = await p.person.create({ data: { enterpriseId: demoId, code: 'r-in', name: '驻厂监管', roles: ['regulator'] } });
    for (const text of [`确认 ${alertCode(alert.id)}`, `处置 ${alertCode(alert.id)} 已安排`, `销警 ${alertCode(alert.id)} 误报`, `延期申请 ${alertCode(alert.id)} 2026-12-31 等备件`]) {
      const out = await handleChatText(deps, { personId: inPlant.id, channel: 'wecom', text });
      expect({ text, applied: out.applied }).toEqual({ text, applied: false });
    }
    expect(await p.alertEvent.count()).toBe(before);
    expect(await p.hazardExtension.count({ where: { requestedById: inPlant.id } })).toBe(0);
  });

  test('the message link page: a regulator’s link cannot acknowledge', async () => {
    const p = sys.rt.prisma;
    const inPlant = await p.person.findFirstOrThrow({ where: { code: 'r-in' } });
    const alert = await p.alert.findFirstOrThrow({ where: { enterpriseId: demoId, state: { not: 'cleared' } } });
    const link = await sys.rt.links.sign({ alertId: alert.id, personId: inPlant.id, notificationId: null });
    const res = await request(http).post(`/l/${link}/ack`);
    expect(res.status).toBe(303);
    expect(res.headers.location).toContain('error=read_only');
    expect((await p.alert.findUniqueOrThrow({ where: { id: alert.id } })).ackedAt).toEqual(alert.ackedAt);
  });
});
