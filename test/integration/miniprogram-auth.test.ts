/**
 * The mini-program's login and binding (issue #5 item 2) against the fake WeChat server
 * (test/fakes/wechat.ts): POST /mp/login, POST /mp/bind by phone and by binding code, session
 * tokens accepted like API tokens on /me and /me/tasks, expired sessions → 401 session_expired,
 * reused / expired codes → clear 400s and a retry that works, session_key never in any answer,
 * consents recorded by POST /mp/subscriptions, GET /mp/config; and the stable access token shared
 * by two runtimes (one stable_token call).
 */
import request from 'supertest';
import { createTestSystem, T0, type TestSystem } from '../helpers/system';
import { FakeWechat } from '../fakes/wechat';
import { issueBindingCode } from '../../server/services/identity';
import { createRuntime } from '../../server/runtime';
import { createLogger } from '../../server/logger';

const APPID = 'wx0123456789abcdef';
const SECRET = 'fake-app-secret-0123456789abcdef';
const TEMPLATE = 'TMPL_alert_0001';
const HOUR = 3600_000;

let sys: TestSystem;
let fake: FakeWechat;
/** every response body of this file, as text (session_key must appear in none) */
const answers: string[] = [];

const api = () => request(sys.app.callback());
const remember = <T extends { text: string }>(res: T): T => {
  answers.push(res.text);
  return res;
};
const login = async (code: string) => remember(await api().post('/api/v1/mp/login').send({ code }));
const bind = async (body: Record<string, unknown>) => remember(await api().post('/api/v1/mp/bind').send(body));
const get = async (path: string, token: string) => remember(await api().get(path).set('authorization', `Bearer ${token}`));

beforeAll(async () => {
  fake = new FakeWechat({ appId: APPID, secret: SECRET, now: () => sys?.clock.now().getTime() ?? T0.getTime() });
  await fake.start();
  fake.addTemplate(TEMPLATE, ['thing1', 'time2', 'thing3', 'phrase4', 'character_string5']);
  sys = await createTestSystem({
    now: T0,
    env: { WECHAT_APPID: APPID, WECHAT_SECRET: SECRET, WECHAT_API_BASE: fake.base, WECHAT_SUBSCRIBE_TEMPLATE_ALERT: TEMPLATE },
  });
  await sys.rt.generateOnce();
}, 120_000);
afterAll(async () => {
  await sys?.close();
  await fake?.stop();
});

describe('POST /mp/login and /mp/bind by phone number', () => {
  let bindToken: string;

  test('an openid bound to nobody gets a bind token (no session, no session_key)', async () => {
    const res = await login(fake.issueCode('o-p07'));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'unbound', bindToken: expect.any(String), expiresAt: new Date(T0.getTime() + 10 * 60_000).toISOString() });
    bindToken = res.body.bindToken;
    // a bind token is not a session
    expect((await get('/api/v1/me', bindToken)).status).toBe(401);
  });

  test('a phone number in no directory → 404 person_not_found; a reused phone code → 400 phone_code_invalid', async () => {
    const stranger = await bind({ bindToken, phoneCode: fake.issuePhoneCode('13999999999') });
    expect(stranger.status).toBe(404);
    expect(stranger.body).toMatchObject({ code: 'person_not_found', message: expect.stringContaining('绑定码') });
    const code = fake.issuePhoneCode('13999999999');
    await bind({ bindToken, phoneCode: code });
    const again = await bind({ bindToken, phoneCode: code });
    expect(again.status).toBe(400);
    expect(again.body).toMatchObject({ code: 'phone_code_invalid', message: '手机号授权已失效，请重新点击授权' });
    expect(await sys.rt.prisma.chatIdentity.count({ where: { platform: 'miniprogram' } })).toBe(0);
  });

  test('exactly one of phoneCode / bindingCode', async () => {
    const both = await bind({ bindToken, phoneCode: fake.issuePhoneCode('13800000007'), bindingCode: '123456' });
    expect(both.status).toBe(400);
    expect(both.body.code).toBe('invalid_input');
    expect((await bind({ bindToken })).status).toBe(400);
  });

  test("the person's phone number binds the openid and answers a session token", async () => {
    const res = await bind({ bindToken, phoneCode: fake.issuePhoneCode('13800000007') });
    expect(res.status).toBe(200);
    const p07 = await sys.person('p07');
    const p = await sys.rt.prisma.person.findUniqueOrThrow({ where: { id: p07 }, include: { enterprise: true } });
    expect(res.body).toEqual({
      token: expect.any(String),
      expiresAt: new Date(T0.getTime() + 24 * HOUR).toISOString(),
      person: { id: p07, name: p.name, roles: p.roles, enterpriseId: p.enterpriseId, enterpriseName: p.enterprise.name },
    });
    expect(await sys.rt.prisma.chatIdentity.findMany({ where: { platform: 'miniprogram' }, select: { personId: true, externalId: true, via: true } })).toEqual([{ personId: p07, externalId: 'o-p07', via: 'phone' }]);
  });

  test('the session token works like an API token: GET /me, GET /me/tasks', async () => {
    const res = await login(fake.issueCode('o-p07'));
    expect(res.body.status).toBe('ok');
    const me = await get('/api/v1/me', res.body.token);
    expect(me.status).toBe(200);
    expect(me.body.person.id).toBe(await sys.person('p07'));
    const tasks = await get('/api/v1/me/tasks', res.body.token);
    expect(tasks.status).toBe(200);
    expect(tasks.body.items.length).toBeGreaterThan(0);
    const viaApiToken = await get('/api/v1/me/tasks', await sys.token('p07'));
    // (items due at the same time come in no fixed order)
    const byId = (b: { items: Array<{ instanceId: number }> }) => [...b.items].sort((x, y) => x.instanceId - y.instanceId);
    expect(byId(tasks.body)).toEqual(byId(viaApiToken.body));
  });

  test('a reused login code → 400 login_code_invalid (登录已失效，请重试); a new code works', async () => {
    const code = fake.issueCode('o-p07');
    expect((await login(code)).body.status).toBe('ok');
    const again = await login(code);
    expect(again.status).toBe(400);
    expect(again.body).toEqual({ code: 'login_code_invalid', message: '登录已失效，请重试', message_en: expect.stringContaining('40163') });
    const retry = await login(fake.issueCode('o-p07'));
    expect(retry.status).toBe(200);
    expect(retry.body.status).toBe('ok');
  });

  test('an expired (older than 5 minutes) or unknown login code → 400 login_code_invalid', async () => {
    const code = fake.issueCode('o-p07');
    sys.clock.advance(5 * 60_000 + 1000);
    const expired = await login(code);
    expect(expired.status).toBe(400);
    expect(expired.body.code).toBe('login_code_invalid');
    expect((await login('0123456789abcdef0123456789abcdef')).body.code).toBe('login_code_invalid');
  });

  test('a session token expires after SESSION_TTL_HOURS → 401 session_expired; logging in again gives a new one', async () => {
    const { body } = await login(fake.issueCode('o-p07'));
    expect((await get('/api/v1/me', body.token)).status).toBe(200);
    sys.clock.advance(24 * HOUR + 1000);
    const expired = await get('/api/v1/me', body.token);
    expect(expired.status).toBe(401);
    expect(expired.body.code).toBe('session_expired');
    const fresh = await login(fake.issueCode('o-p07'));
    expect((await get('/api/v1/me', fresh.body.token)).status).toBe(200);
    // a forged or foreign token is just unauthorised
    const forged = `${fresh.body.token.slice(0, -4)}AAAA`;
    expect((await get('/api/v1/me', forged)).body.code).toBe('unauthorized');
  });

  test('unbinding the openid logs that phone out (its session stops working)', async () => {
    const { body } = await login(fake.issueCode('o-p07'));
    const id = await sys.rt.prisma.chatIdentity.findFirstOrThrow({ where: { externalId: 'o-p07' } });
    await sys.rt.prisma.chatIdentity.delete({ where: { id: id.id } });
    expect((await get('/api/v1/me', body.token)).status).toBe(401);
    await sys.rt.prisma.chatIdentity.create({ data: { ...id, id: undefined } });
    expect((await get('/api/v1/me', body.token)).status).toBe(200);
  });
});

describe('binding by a one-time binding code', () => {
  test('a wrong code → 400 binding_code_invalid; the right one binds; the used code binds nobody else', async () => {
    const unbound = await login(fake.issueCode('o-p08'));
    expect(unbound.body.status).toBe('unbound');
    const wrong = await bind({ bindToken: unbound.body.bindToken, bindingCode: '000000' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.code).toBe('binding_code_invalid');
    const p08 = await sys.person('p08');
    const { code } = await issueBindingCode(sys.rt.prisma, sys.clock, p08);
    const ok = await bind({ bindToken: unbound.body.bindToken, bindingCode: code });
    expect(ok.status).toBe(200);
    expect(ok.body.person.id).toBe(p08);
    expect((await get('/api/v1/me', ok.body.token)).body.person.id).toBe(p08);
    // binding again with the same bind token is idempotent: same person
    expect((await bind({ bindToken: unbound.body.bindToken, bindingCode: code })).body.person.id).toBe(p08);
    const other = await login(fake.issueCode('o-someone-else'));
    const reused = await bind({ bindToken: other.body.bindToken, bindingCode: code });
    expect(reused.status).toBe(400);
    expect(reused.body.code).toBe('binding_code_invalid');
  });

  test('a bind token older than 10 minutes → 400 bind_token_invalid (log in again)', async () => {
    const unbound = await login(fake.issueCode('o-late'));
    sys.clock.advance(10 * 60_000 + 1000);
    const res = await bind({ bindToken: unbound.body.bindToken, phoneCode: fake.issuePhoneCode('13800000009') });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'bind_token_invalid', message: '绑定已超时，请重新进入小程序' });
    expect((await bind({ bindToken: 'not-a-token', bindingCode: '123456' })).body.code).toBe('bind_token_invalid');
  });
});

describe('config and subscribe consents', () => {
  test('GET /mp/config names the alert template and the photo limits', async () => {
    const { body } = await login(fake.issueCode('o-p07'));
    const res = await get('/api/v1/mp/config', body.token);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ templateIds: { alert: TEMPLATE }, maxPhotos: 9, uploadMaxBytes: sys.config.uploadMaxBytes, deviceIdHint: expect.any(String) });
  });

  test('each accept adds one consent; reject keeps them; ban sets 0; unknown templates are ignored; an API token cannot record', async () => {
    const { body } = await login(fake.issueCode('o-p07'));
    const post = (results: Record<string, string>, token = body.token) => api().post('/api/v1/mp/subscriptions').set('authorization', `Bearer ${token}`).send({ results });
    expect((await post({ [TEMPLATE]: 'accept' })).body).toEqual({ remaining: { [TEMPLATE]: 1 }, ignored: [] });
    expect((await post({ [TEMPLATE]: 'accept', OTHER: 'accept' })).body).toEqual({ remaining: { [TEMPLATE]: 2 }, ignored: ['OTHER'] });
    expect((await post({ [TEMPLATE]: 'reject' })).body).toEqual({ remaining: { [TEMPLATE]: 2 }, ignored: [] });
    expect((await post({ [TEMPLATE]: 'ban' })).body).toEqual({ remaining: { [TEMPLATE]: 0 }, ignored: [] });
    const viaApi = await post({ [TEMPLATE]: 'accept' }, await sys.token('p07'));
    expect(viaApi.status).toBe(400);
    expect(viaApi.body.code).toBe('miniprogram_session_required');
    expect((await post({ [TEMPLATE]: 'yes' })).status).toBe(400);
  });
});

test('session_key never appears in any answer, nor a bind/session token carrying it', () => {
  expect(fake.sessionKeys.length).toBeGreaterThan(5);
  expect(answers.length).toBeGreaterThan(20);
  for (const key of fake.sessionKeys) {
    for (const a of answers) expect(a.includes(key)).toBe(false);
  }
  expect(answers.some((a) => /session_key/i.test(a))).toBe(false);
  // tokens are JWTs: their payloads (base64url JSON) name the openid, never a session key
  const tokens = answers.flatMap((a) => [...a.matchAll(/"(?:token|bindToken)":"([^"]+)"/g)].map((m) => m[1]));
  expect(tokens.length).toBeGreaterThan(5);
  for (const t of tokens) {
    const payload = Buffer.from(t.split('.')[1], 'base64url').toString('utf8');
    expect(Object.keys(JSON.parse(payload)).sort()).toEqual(expect.arrayContaining(['exp', 'oid', 'typ']));
    for (const key of fake.sessionKeys) expect(payload.includes(key)).toBe(false);
  }
});

test('without WECHAT_APPID the login and bind routes answer 404 mp_not_configured (not 401)', async () => {
  const bare = await createTestSystem({ seed: false });
  try {
    const res = await request(bare.app.callback()).post('/api/v1/mp/login').send({ code: 'abc' });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('mp_not_configured');
  } finally {
    await bare.close();
  }
});

test('the stable access token is fetched once and shared by two runtimes (Redis), and refreshed once when WeChat refuses it', async () => {
  // a second process of the same install: same database, same Redis prefix
  const rt2 = await createRuntime(sys.config, createLogger('silent'), { clock: sys.clock, queueName: 'second-runtime' });
  try {
    const keys = await sys.rt.redis.keys(`${sys.prefix}:wechat:token:*`);
    if (keys.length) await sys.rt.redis.del(...keys);
    const before = fake.calls['cgi-bin/stable_token'] ?? 0;
    const a = sys.rt.wechatApi!;
    const b = rt2.wechatApi!;
    const [t1, t2] = await Promise.all([a.token(), b.token()]);
    expect(t1).toBe(t2);
    expect(await b.token()).toBe(t1);
    expect((fake.calls['cgi-bin/stable_token'] ?? 0) - before).toBe(1);
    // WeChat invalidates it early: the next call gets 42001, refreshes once and succeeds
    fake.expireTokenNow();
    fake.grant('o-p07', TEMPLATE, 1);
    const r = await b.post('cgi-bin/message/subscribe/send', {
      touser: 'o-p07',
      template_id: TEMPLATE,
      data: { thing1: { value: '测试' }, time2: { value: '2026年11月30日 12:00' }, thing3: { value: '罐区' }, phrase4: { value: '三级' }, character_string5: { value: 'A1' } },
    });
    expect(r.ok).toBe(true);
    expect((fake.calls['cgi-bin/stable_token'] ?? 0) - before).toBe(2);
    // the other process takes the new token from Redis, without a call
    expect(await a.token()).not.toBe(t1);
    expect((fake.calls['cgi-bin/stable_token'] ?? 0) - before).toBe(2);
  } finally {
    await rt2.stop();
  }
});

test('an alert acknowledged with a session token is recorded as done through the mini-program', async () => {
  const p16 = await sys.person('p16');
  const unbound = await login(fake.issueCode('o-p16'));
  const { code } = await issueBindingCode(sys.rt.prisma, sys.clock, p16);
  const { body } = await bind({ bindToken: unbound.body.bindToken, bindingCode: code });
  await sys.cycle();
  const alerts = await sys.rt.prisma.alert.findMany({ where: { state: 'open' }, orderBy: { id: 'asc' } });
  const mine = alerts.find((a) => ((a.recipients as { levels: number[][] }).levels[0] ?? []).includes(p16));
  expect(mine).toBeDefined();
  const res = await api().post(`/api/v1/alerts/${mine!.id}/ack`).set('authorization', `Bearer ${body.token}`).send({ note: '收到，马上去现场' });
  expect(res.status).toBe(200);
  const event = await sys.rt.prisma.alertEvent.findFirstOrThrow({ where: { alertId: mine!.id, type: 'acknowledged' } });
  expect(event).toMatchObject({ actorId: p16, channel: 'miniprogram' });
});
