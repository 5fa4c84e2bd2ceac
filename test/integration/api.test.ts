/**
 * The JSON API (/api and /api/v1) over HTTP, against real MariaDB and Redis on the demo plant:
 * error shapes (401/400/404/409, `{ code, message (zh), message_en }`, nothing changed after a
 * rejected request) and who may act on which alert (issue #2 item 7: "a person may act only on
 * alerts addressed to them or their subordinates"; 销警 needs a clear role and a reason).
 *
 * One system for the file. State at the start (demo plant, clock at T0 then moved to 20 min before
 * the end of the current T1 instance, one cycle each):
 *  - V-101B hazard_overdue, level 3, addressed to p16, p06 | p05 | p03, p01
 *  - task_due_soon of T1 (罐区巡检), addressed to the 罐区操作工 p07, p08 only
 *  - task_due_soon of T8 (氯化记录), addressed to the 氯化操作工 p11 only
 *  - hazard_late_entry (防火堤), addressed to p03, p01
 * Demo org: p07/p08 罐区操作工 → leader post 罐区班长 p06 → 罐区主管 p05 (head of 罐区, roles
 * department_head + operational_head); 氯化班长 p10 leads 氯化操作工 p11 only; p14 加氢操作工 and
 * p16 仪表工 are frontline; p03 安全总监 (safety_director, safety_dept); p01 主要负责人.
 */
import request from 'supertest';
import type { Server } from 'node:http';
import { createTestSystem, T0, type TestSystem } from '../helpers/system';
import { issueApiToken } from '../../server/services/tokens';

const MIN = 60_000;
const HAN = /[\u4e00-\u9fff]/;

let sys: TestSystem;
let http: Server;
const tokens = new Map<string, string>();
/** an API token for a demo person (one per person, cached) */
async function tok(code: string): Promise<string> {
  if (!tokens.has(code)) tokens.set(code, await sys.token(code));
  return tokens.get(code)!;
}
const as = (token: string | null) => ({
  get: (path: string) => withAuth(request(http).get(path), token),
  post: (path: string, body?: unknown) => {
    const r = withAuth(request(http).post(path), token);
    return body === undefined ? r : r.send(body as object);
  },
});
function withAuth(r: request.Test, token: string | null): request.Test {
  return token ? r.set('authorization', `Bearer ${token}`) : r;
}

/** Every row an alert action may touch, for "nothing changed" checks. */
async function dbState() {
  const p = sys.rt.prisma;
  const [alerts, events, notifications, records, hazards] = await Promise.all([
    p.alert.findMany({ orderBy: { id: 'asc' } }),
    p.alertEvent.findMany({ orderBy: { id: 'asc' } }),
    p.notification.count(),
    p.checkRecord.count(),
    p.hazard.findMany({ orderBy: { id: 'asc' } }),
  ]);
  return { alerts, events, notifications, records, hazards };
}

/** Runs a request that must be rejected; asserts the error shape and that nothing changed. */
async function rejected(req: () => request.Test, status: number, code: string): Promise<request.Response> {
  const before = await dbState();
  const res = await req();
  expect({ status: res.status, body: res.body }).toMatchObject({ status, body: { code } });
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(typeof res.body.message).toBe('string');
  expect(res.body.message).toMatch(HAN); // for people: Chinese
  expect(typeof res.body.message_en).toBe('string');
  expect(res.body.message_en).not.toMatch(HAN);
  expect(res.body.message_en.length).toBeGreaterThan(0);
  expect(await dbState()).toEqual(before);
  return res;
}

const alertOf = async (kind: string, taskCode?: string) => {
  const subjectId = taskCode ? (await sys.rt.prisma.checkTask.findFirstOrThrow({ where: { code: taskCode } })).id : undefined;
  return sys.rt.prisma.alert.findFirstOrThrow({ where: { kind, ...(subjectId ? { subjectType: 'check_task', subjectId } : {}) }, orderBy: { id: 'desc' } });
};
const ids = (...codes: string[]) => Promise.all(codes.map((c) => sys.person(c)));

/** People an alert has been addressed to so far (levels 1..level), re-derived here from the row. */
function addressed(a: { recipients: unknown; level: number }): number[] {
  const levels = (a.recipients as { levels: number[][] }).levels;
  return levels.slice(0, Math.max(1, a.level)).flat();
}

let v101b: Awaited<ReturnType<typeof alertOf>>;
let t1Soon: Awaited<ReturnType<typeof alertOf>>;
let t8Soon: Awaited<ReturnType<typeof alertOf>>;
let lateEntry: Awaited<ReturnType<typeof alertOf>>;

beforeAll(async () => {
  sys = await createTestSystem({ now: T0 });
  await sys.cycle();
  const t1 = await sys.rt.prisma.checkTask.findFirstOrThrow({ where: { code: 'T1' } });
  const inst = await sys.rt.prisma.checkTaskInstance.findFirstOrThrow({ where: { checkTaskId: t1.id, startAt: { lte: T0 }, endAt: { gt: T0 } } });
  sys.clock.set(inst.endAt.getTime() - 20 * MIN);
  await sys.cycle();
  http = sys.app.listen(0, '127.0.0.1');
  v101b = await alertOf('hazard_overdue');
  t1Soon = await alertOf('task_due_soon', 'T1');
  t8Soon = await alertOf('task_due_soon', 'T8');
  lateEntry = await alertOf('hazard_late_entry');
});
afterAll(async () => {
  await new Promise((r) => http?.close(r));
  await sys?.close();
});

describe('the fixture is what the tests assume', () => {
  it('has the alerts addressed as described', async () => {
    expect(v101b.title).toContain('V-101B');
    expect(v101b.level).toBe(3);
    expect(new Set(addressed(v101b))).toEqual(new Set(await ids('p16', 'p06', 'p05', 'p03', 'p01')));
    expect(new Set(addressed(t1Soon))).toEqual(new Set(await ids('p07', 'p08')));
    expect(addressed(t8Soon)).toEqual(await ids('p11'));
    expect(new Set(addressed(lateEntry))).toEqual(new Set(await ids('p03', 'p01')));
  });
});

describe('401: no or a bad token', () => {
  it.each([
    ['no Authorization header', null],
    ['an unknown dp_ token', 'dp_' + 'x'.repeat(32)],
    ['something that is not a token', 'hello'],
    ['an overlong token', 'dp_' + 'y'.repeat(200)],
  ])('%s', async (_what, token) => {
    for (const path of ['/api/alerts', '/api/v1/alerts', `/api/alerts/${v101b.id}`, '/api/me/tasks']) {
      const res = await rejected(() => as(token).get(path), 401, 'unauthorized');
      expect(res.body.message).toContain('令牌');
    }
    await rejected(() => as(token).post(`/api/alerts/${v101b.id}/ack`, {}), 401, 'unauthorized');
    await rejected(() => as(token).post(`/api/v1/alerts/${v101b.id}/clear`, { reason: '测试' }), 401, 'unauthorized');
  });

  it('a token sent in a Basic header is not accepted', async () => {
    const t = await tok('p03');
    await rejected(() => request(http).get('/api/alerts').set('authorization', `Basic ${Buffer.from(`x:${t}`).toString('base64')}`), 401, 'unauthorized');
  });

  it('a revoked token and the token of an inactive person', async () => {
    const pid = await sys.person('p16');
    const revoked = await issueApiToken(sys.rt.prisma, pid, 'to revoke');
    await as(revoked).get('/api/alerts').expect(200);
    await sys.rt.prisma.apiToken.updateMany({ where: { personId: pid, label: 'to revoke' }, data: { revokedAt: sys.clock.now() } });
    await rejected(() => as(revoked).post(`/api/alerts/${v101b.id}/ack`, {}), 401, 'unauthorized');

    const p17 = await sys.person('p17');
    const t17 = await issueApiToken(sys.rt.prisma, p17);
    await sys.rt.prisma.person.update({ where: { id: p17 }, data: { active: false } });
    try {
      await rejected(() => as(t17).get('/api/alerts'), 401, 'unauthorized');
    } finally {
      await sys.rt.prisma.person.update({ where: { id: p17 }, data: { active: true } });
    }
  });
});

describe('400: bad input', () => {
  const id = () => v101b.id;
  it('handle without a note, or with an empty one', async () => {
    const t = await tok('p16');
    const missing = await rejected(() => as(t).post(`/api/alerts/${id()}/handle`, {}), 400, 'invalid_input');
    expect(missing.body.details).toEqual([expect.objectContaining({ path: 'body.note' })]);
    expect(missing.body.message).toContain('note');
    const empty = await rejected(() => as(t).post(`/api/alerts/${id()}/handle`, { note: '   ' }), 400, 'note_required');
    expect(empty.body.message).toBe('请填写处置说明');
    // no body at all (no content-type): same as {}
    await rejected(() => as(t).post(`/api/alerts/${id()}/handle`), 400, 'invalid_input');
  });

  it('wrong types', async () => {
    const t = await tok('p03');
    await rejected(() => as(t).post(`/api/alerts/${id()}/ack`, { note: 123 }), 400, 'invalid_input');
    await rejected(() => as(t).post(`/api/alerts/${id()}/handle`, { note: ['已安排'] }), 400, 'invalid_input');
    await rejected(() => as(t).post(`/api/alerts/${id()}/clear`, { reason: { zh: '误报' } }), 400, 'invalid_input');
    await rejected(() => as(t).post(`/api/alerts/${id()}/handle`, { note: 'x'.repeat(1001) }), 400, 'invalid_input');
    await rejected(() => as(t).post('/api/check-records', { instanceId: '1', result: 0 }), 400, 'invalid_input');
    await rejected(() => as(t).post('/api/check-records', { instanceId: 1, result: 3 }), 400, 'invalid_input');
    await rejected(() => as(t).post('/api/check-records', { instanceId: 1, result: 0, readings: [{ value: 'high' }] }), 400, 'invalid_input');
    await rejected(() => as(t).post('/api/hazards/1/confirm', { rectifierId: 1, acceptorId: 1, deadlineDate: '2026/12/31' }), 400, 'invalid_input');
  });

  it('a JSON body that is not an object', async () => {
    const t = await tok('p16');
    await rejected(() => as(t).post(`/api/alerts/${id()}/ack`).set('content-type', 'application/json').send('[1,2]'), 400, 'invalid_input');
    await rejected(() => as(t).post(`/api/alerts/${id()}/ack`).set('content-type', 'application/json').send('"确认"'), 400, 'bad_request');
    await rejected(() => as(t).post(`/api/alerts/${id()}/ack`).set('content-type', 'application/json').send('null'), 400, 'bad_request');
  });

  it('malformed JSON is a 400, not a 500', async () => {
    const t = await tok('p16');
    for (const raw of ['{bad', '{"note": "未闭合', '{"note": 1,}']) {
      const res = await rejected(() => as(t).post(`/api/alerts/${id()}/ack`).set('content-type', 'application/json').send(raw), 400, 'bad_request');
      expect(res.body.message).toBe('请求格式有误');
    }
  });

  it('a body over 100 kB is 413', async () => {
    const t = await tok('p16');
    const res = await rejected(() => as(t).post(`/api/alerts/${id()}/handle`).set('content-type', 'application/json').send(JSON.stringify({ note: '字'.repeat(60_000) })), 413, 'payload_too_large');
    expect(res.body.message).toBe('请求内容过大');
  });

  it('bad ids and query parameters', async () => {
    const t = await tok('p16');
    await rejected(() => as(t).post('/api/alerts/abc/ack', {}), 400, 'invalid_input');
    await rejected(() => as(t).post('/api/alerts/-3/ack', {}), 400, 'invalid_input');
    await rejected(() => as(t).get('/api/alerts/1.5'), 400, 'invalid_input');
    await rejected(() => as(t).get('/api/alerts?state=closed'), 400, 'invalid_input');
    await rejected(() => as(t).get('/api/alerts?limit=0'), 400, 'invalid_input');
    await rejected(() => as(t).get('/api/alerts?limit=201'), 400, 'invalid_input');
  });

  it('a reason is required to clear (400 reason_required), checked before anything is written', async () => {
    const t = await tok('p03');
    await rejected(() => as(t).post(`/api/alerts/${id()}/clear`, {}), 400, 'invalid_input');
    const res = await rejected(() => as(t).post(`/api/alerts/${id()}/clear`, { reason: ' ' }), 400, 'reason_required');
    expect(res.body.message).toBe('请填写销警原因');
  });
});

describe('404: unknown alerts and routes', () => {
  it('unknown alert id on every endpoint', async () => {
    const t = await tok('p03');
    const res = await rejected(() => as(t).get('/api/alerts/99999999'), 404, 'not_found');
    expect(res.body.message).toBe('预警不存在');
    expect(res.body.message_en).toBe('alert not found');
    await rejected(() => as(t).post('/api/alerts/99999999/ack', {}), 404, 'not_found');
    await rejected(() => as(t).post('/api/v1/alerts/99999999/handle', { note: '已安排' }), 404, 'not_found');
    await rejected(() => as(t).post('/api/alerts/99999999/clear', { reason: '误报' }), 404, 'not_found');
  });

  it('an unknown route under /api answers in the same JSON shape', async () => {
    const t = await tok('p03');
    await rejected(() => as(t).get('/api/no-such-thing'), 404, 'not_found');
    await rejected(() => as(null).get('/api/v1/no-such-thing'), 404, 'not_found');
    const res = await rejected(() => as(t).get(`/api/alerts/${v101b.id}/ack`), 405, 'method_not_allowed');
    expect(res.headers.allow).toContain('POST');
  });
});

describe('who may act on an alert', () => {
  it('an unrelated frontline person (p14 加氢操作工) gets 403 on ack, handle and clear', async () => {
    const t = await tok('p14');
    for (const [action, body] of [['ack', {}], ['handle', { note: '已安排' }], ['clear', { reason: '误报' }]] as const) {
      const res = await rejected(() => as(t).post(`/api/alerts/${v101b.id}/${action}`, body), 403, 'forbidden');
      expect(res.body.message).toBe('该预警未发给您或您的下属');
      expect(res.body.message_en).toBe('alert is not addressed to you or your subordinates');
    }
  });

  it('reading one alert follows the same rule: addressed, a superior of an addressee, or oversight', async () => {
    // p14 (unrelated) may not read the V-101B alert's history and messages; p16 (addressed),
    // p06 (addressed, 罐区班长) and p03 (安全总监, oversight) may
    const p14 = await tok('p14');
    const res = await rejected(() => as(p14).get(`/api/alerts/${v101b.id}`), 403, 'forbidden');
    expect(res.body.details).toEqual({ reason: 'not_addressed' });
    for (const code of ['p16', 'p06', 'p03']) {
      const ok = await as(await tok(code)).get(`/api/alerts/${v101b.id}`).expect(200);
      expect(ok.body.id).toBe(v101b.id);
    }
    // p06 leads p07/p08 (罐区操作工): the T1 reminder addressed only to them is readable by p06, not by p14
    await as(await tok('p06')).get(`/api/alerts/${t1Soon.id}`).expect(200);
    await rejected(() => as(p14).get(`/api/alerts/${t1Soon.id}`), 403, 'forbidden');
  });

  it('a 班长 of another unit (p10, superior of p11 only) gets 403 on the V-101B and the 罐区 task alert', async () => {
    const t = await tok('p10');
    await rejected(() => as(t).post(`/api/alerts/${v101b.id}/ack`, {}), 403, 'forbidden');
    await rejected(() => as(t).post(`/api/alerts/${v101b.id}/handle`, { note: '已安排' }), 403, 'forbidden');
    await rejected(() => as(t).post(`/api/alerts/${t1Soon.id}/ack`, {}), 403, 'forbidden');
    // …and the 罐区 operators may not act on the 氯化 alert either
    const [t07, t16] = [await tok('p07'), await tok('p16')];
    await rejected(() => as(t07).post(`/api/alerts/${t8Soon.id}/ack`, {}), 403, 'forbidden');
    await rejected(() => as(t16).post(`/api/alerts/${t1Soon.id}/ack`, {}), 403, 'forbidden');
  });

  it('…but p10 may act on an alert addressed only to p11, their subordinate', async () => {
    const res = await as(await tok('p10')).post(`/api/alerts/${t8Soon.id}/ack`, { note: '已通知张伟' }).expect(200);
    expect(res.body).toMatchObject({ alertId: t8Soon.id, state: 'acknowledged', alreadyAcknowledged: false });
    const ev = await sys.rt.prisma.alertEvent.findFirstOrThrow({ where: { alertId: t8Soon.id, type: 'acknowledged' } });
    expect(ev).toMatchObject({ actorId: await sys.person('p10'), channel: 'api', note: '已通知张伟' });
  });

  it('a recipient (p16, rectifier of V-101B) may ack; acking again is idempotent, even five taps at once', async () => {
    const t = await tok('p16');
    // five concurrent taps (two phones, a double click, a chat retry): one ack, one event
    const all = await Promise.all(Array.from({ length: 5 }, () => as(t).post(`/api/alerts/${v101b.id}/ack`, {}).expect(200)));
    const firsts = all.filter((r) => r.body.alreadyAcknowledged === false);
    expect(firsts).toHaveLength(1);
    const res = firsts[0];
    expect(res.body).toMatchObject({ alertId: v101b.id, state: 'acknowledged', alreadyAcknowledged: false });
    expect(await sys.rt.prisma.alertEvent.count({ where: { alertId: v101b.id, type: 'acknowledged' } })).toBe(1);
    const a = await sys.rt.prisma.alert.findUniqueOrThrow({ where: { id: v101b.id } });
    expect(a.state).toBe('acknowledged');
    expect(a.ackedById).toBe(await sys.person('p16'));
    expect(a.ackUntil!.getTime()).toBe(sys.clock.now().getTime() + 24 * 3600_000);
    const before = await dbState();
    const again = await as(t).post(`/api/v1/alerts/${v101b.id}/ack`, {}).expect(200);
    expect(again.body.alreadyAcknowledged).toBe(true);
    expect(await dbState()).toEqual(before);
  });

  it('a recipient may handle with a note', async () => {
    const res = await as(await tok('p16')).post(`/api/alerts/${v101b.id}/handle`, { note: '  已安排仪表工更换液位计  ' }).expect(200);
    expect(res.body.state).toBe('acknowledged');
    const a = await sys.rt.prisma.alert.findUniqueOrThrow({ where: { id: v101b.id } });
    expect(a.handleNote).toBe('已安排仪表工更换液位计');
    expect(a.handledById).toBe(await sys.person('p16'));
  });

  it('superiors of the addressed 罐区操作工 may act: p06 罐区班长 (leader post) and p05 罐区主管 (department head)', async () => {
    const [p07, p06, p05] = await ids('p07', 'p06', 'p05');
    await as(await tok('p07')).post(`/api/alerts/${t1Soon.id}/ack`, {}).expect(200);
    await as(await tok('p06')).post(`/api/alerts/${t1Soon.id}/ack`, { note: '班长已知悉' }).expect(200);
    await as(await tok('p05')).post(`/api/alerts/${t1Soon.id}/handle`, { note: '已安排孙明补巡检' }).expect(200);
    const events = await sys.rt.prisma.alertEvent.findMany({ where: { alertId: t1Soon.id, type: { in: ['acknowledged', 'handled'] } }, orderBy: { id: 'asc' } });
    expect(events.map((e) => [e.type, e.actorId, e.channel])).toEqual([
      ['acknowledged', p07, 'api'],
      ['acknowledged', p06, 'api'],
      ['handled', p05, 'api'],
    ]);
  });

  it('销警 needs a clear role: p06 (post leader, superior) and p16 (frontline, addressed) get 403', async () => {
    for (const [who, alert] of [['p06', t1Soon], ['p07', t1Soon], ['p16', v101b], ['p06', v101b]] as const) {
      const t = await tok(who);
      const res = await rejected(() => as(t).post(`/api/alerts/${alert.id}/clear`, { reason: '已处理' }), 403, 'forbidden');
      expect(res.body.message).toBe('您的角色不能手动销警');
    }
  });

  it('a department head superior (p05) may clear the 罐区 task alert with a reason', async () => {
    const res = await as(await tok('p05')).post(`/api/alerts/${t1Soon.id}/clear`, { reason: '已补巡检' }).expect(200);
    expect(res.body).toMatchObject({ alertId: t1Soon.id, state: 'cleared' });
    const a = await sys.rt.prisma.alert.findUniqueOrThrow({ where: { id: t1Soon.id } });
    expect(a).toMatchObject({ state: 'cleared', clearKind: 'manual', clearReason: '已补巡检', clearedById: await sys.person('p05'), nextFireAt: null, openKey: null });
  });

  it('the 安全总监 (p03) may clear the V-101B alert with a reason', async () => {
    const res = await as(await tok('p03')).post(`/api/v1/alerts/${v101b.id}/clear`, { reason: '液位计已更换，经现场核对偏差<1%' }).expect(200);
    expect(res.body.state).toBe('cleared');
    const view = await as(await tok('p03')).get(`/api/alerts/${v101b.id}`).expect(200);
    expect(view.body).toMatchObject({ id: v101b.id, code: expect.stringMatching(/^A\d+$/), state: 'cleared', clearKind: 'manual' });
    expect(view.body.policySnapshot).toBeUndefined();
    expect(view.body.openKey).toBeUndefined();
    const last = view.body.events[view.body.events.length - 1];
    expect(last).toMatchObject({ type: 'cleared', channel: 'api', actor: { name: '郑丽' } });
    expect(view.body.events.map((e: { type: string }) => e.type)).toEqual(['opened', 'notified', 'acknowledged', 'handled', 'cleared']);
  });
});

describe('409: acting on a cleared alert', () => {
  it('ack, handle and clear of a cleared alert are refused by someone who may act on it', async () => {
    // the V-101B alert was cleared above; p16 (addressed) and p03 (oversight) may act on it
    for (const [who, action, body] of [
      ['p16', 'ack', {}],
      ['p16', 'handle', { note: '已安排' }],
      ['p03', 'ack', {}],
      ['p03', 'clear', { reason: '重复销警' }],
    ] as const) {
      const t = await tok(who);
      const res = await rejected(() => as(t).post(`/api/alerts/${v101b.id}/${action}`, body), 409, 'alert_cleared');
      expect(res.body.message).toMatch(/^预警 A\d+ 已销警$/);
      expect(res.body.message_en).toMatch(/already cleared/);
    }
  });

  it('the late-entry alert: cleared once by p03, then 409', async () => {
    const t = await tok('p03');
    await as(t).post(`/api/alerts/${lateEntry.id}/clear`, { reason: '已补录' }).expect(200);
    await rejected(() => as(t).post(`/api/alerts/${lateEntry.id}/clear`, { reason: '已补录' }), 409, 'alert_cleared');
    await rejected(() => as(t).post(`/api/alerts/${lateEntry.id}/handle`, { note: '已补录' }), 409, 'alert_cleared');
  });

  it('someone who may not act gets 403, not 409 (no hint about the alert state)', async () => {
    const t = await tok('p14');
    await rejected(() => as(t).post(`/api/alerts/${v101b.id}/ack`, {}), 403, 'forbidden');
  });
});

describe('another enterprise', () => {
  let outsider: string;
  beforeAll(async () => {
    const e = await sys.rt.prisma.enterprise.create({ data: { companyCode: '320411999', name: '另一家化工有限公司' } });
    // even the other plant's 主要负责人 (an oversight role there) sees nothing of this plant
    const p = await sys.rt.prisma.person.create({ data: { enterpriseId: e.id, code: 'x01', name: '外企负责人', roles: ['principal', 'enterprise_admin'] } });
    outsider = await issueApiToken(sys.rt.prisma, p.id, 'outsider');
  });

  it('gets 404 for our alerts (not 403: their existence is not revealed)', async () => {
    for (const a of [t8Soon, await alertOf('major_hazard')]) {
      await rejected(() => as(outsider).get(`/api/alerts/${a.id}`), 404, 'not_found');
      await rejected(() => as(outsider).post(`/api/alerts/${a.id}/ack`, {}), 404, 'not_found');
      await rejected(() => as(outsider).post(`/api/alerts/${a.id}/handle`, { note: '已安排' }), 404, 'not_found');
      await rejected(() => as(outsider).post(`/api/alerts/${a.id}/clear`, { reason: '误报' }), 404, 'not_found');
    }
  });

  it('lists nothing', async () => {
    for (const state of ['open', 'cleared', 'all']) {
      const res = await as(outsider).get(`/api/alerts?state=${state}`).expect(200);
      expect(res.body).toEqual({ total: 0, items: [] });
    }
  });
});

describe('GET /api/alerts', () => {
  /** alert ids (state filter as the API's) addressed to one of `people` */
  async function expected(state: 'open' | 'all', people: number[]): Promise<number[]> {
    const rows = await sys.rt.prisma.alert.findMany({ where: { enterpriseId: sys.enterpriseId!, ...(state === 'open' ? { state: { not: 'cleared' } } : {}) }, orderBy: { id: 'desc' } });
    return rows.filter((a) => addressed(a).some((p) => people.includes(p))).map((a) => a.id);
  }
  const list = async (who: string, query = '') => (await as(await tok(who)).get(`/api/alerts${query}`).expect(200)).body as { total: number; items: Array<{ id: number; code: string; state: string }> };

  it('a frontline person sees only alerts addressed to them', async () => {
    const [p07, p14] = await ids('p07', 'p14');
    const mine = await list('p07');
    expect(mine.items.map((a) => a.id)).toEqual(await expected('open', [p07]));
    expect(mine.items.length).toBeGreaterThan(0); // the T4/T13 due-soon alerts are still open
    expect(mine.total).toBe(mine.items.length);
    expect(mine.items.map((a) => a.id)).not.toContain(v101b.id);
    const all = await list('p07', '?state=all');
    expect(all.items.map((a) => a.id)).toEqual(await expected('all', [p07]));
    expect(all.items.map((a) => a.id)).toContain(t1Soon.id); // cleared above

    const p14s = await list('p14');
    expect(p14s.items.map((a) => a.id)).toEqual(await expected('open', [p14]));
    expect(p14s.items.every((a) => a.id !== v101b.id && a.id !== t1Soon.id)).toBe(true);
  });

  it('a post leader sees alerts addressed to them and to the people of the posts they lead', async () => {
    const [p06, p07, p08] = await ids('p06', 'p07', 'p08');
    const res = await list('p06', '?state=all');
    expect(res.items.map((a) => a.id)).toEqual(await expected('all', [p06, p07, p08]));
    expect(res.items.map((a) => a.id)).toEqual(expect.arrayContaining([v101b.id, t1Soon.id]));
    expect(res.items.map((a) => a.id)).not.toContain(t8Soon.id);
    const p10 = await list('p10', '?state=all');
    expect(p10.items.map((a) => a.id)).toContain(t8Soon.id);
    expect(p10.items.map((a) => a.id)).not.toContain(v101b.id);
  });

  it('an oversight role (p03 安全总监) sees every alert of the enterprise, with paging', async () => {
    const open = await sys.rt.prisma.alert.count({ where: { enterpriseId: sys.enterpriseId!, state: { not: 'cleared' } } });
    const all = await sys.rt.prisma.alert.count({ where: { enterpriseId: sys.enterpriseId! } });
    const res = await list('p03');
    expect(res.total).toBe(open);
    expect(res.items).toHaveLength(open);
    expect(res.items.every((a) => a.state !== 'cleared')).toBe(true);
    const cleared = await list('p03', '?state=cleared');
    expect(cleared.items.map((a) => a.id)).toEqual(expect.arrayContaining([v101b.id, t1Soon.id, lateEntry.id]));
    expect((await list('p03', '?state=all')).total).toBe(all);
    const page1 = await list('p03', '?state=all&limit=2&offset=0');
    const page2 = await list('p03', '?state=all&limit=2&offset=2');
    expect(page1.items).toHaveLength(2);
    expect(page1.total).toBe(all);
    expect(page2.items[0].id).toBeLessThan(page1.items[1].id); // newest first
    expect(page1.items[0].code).toBe(`A${page1.items[0].id}`);
  });
});
