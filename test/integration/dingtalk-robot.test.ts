/**
 * DingTalk enterprise-internal app robot (issue #4, item 2), end to end against the fake DingTalk
 * (test/fakes/dingtalk-app.ts) on the demo plant: an alert goes to group d1 as an ActionCard through
 * the app robot, `@robot 确认 A<id>` comes back through the real Koa route POST /dingtalk/callback,
 * the alert is acknowledged as that person with channel 'dingtalk', the reply arrives through the
 * session webhook — and, attempted 2 hours later, through the OpenAPI.
 */
import request from 'supertest';
import type Koa from 'koa';
import { createTestSystem, type TestSystem } from '../helpers/system';
import { FakeDingtalkApp } from '../fakes/dingtalk-app';
import { createApp } from '../../server/app';
import { createLogger } from '../../server/logger';
import { loadDemoPlant, readDemoData } from '../../prisma/seed';
import { addressedTo } from '../../server/services/alert-actions';
import { issueBindingCode } from '../../server/services/identity';
import { alertCode } from '../../server/domain/render';
import {
  CALLBACK_WINDOW_MS,
  DingtalkRobot,
  dingtalkCallbackSign,
  parseDingtalkRobotMessage,
  replyContextOf,
  verifyDingtalkCallback,
} from '../../server/services/dingtalk-robot';

const APP_KEY = 'dingappkey0001';
const APP_SECRET = 'app-secret-for-tests-0001';
const GROUP = 'cid-group-d1';
const HOUR = 3_600_000;

interface Ctx {
  sys: TestSystem;
  fake: FakeDingtalkApp;
  app: Koa;
}

async function setup(extraEnv: Record<string, string> = {}): Promise<Ctx> {
  let now: () => number = Date.now;
  const fake = new FakeDingtalkApp({ appKey: APP_KEY, appSecret: APP_SECRET, now: () => now() });
  const base = await fake.start();
  fake.addGroup(GROUP);
  const sys = await createTestSystem({
    env: {
      DINGTALK_APP_KEY: APP_KEY,
      DINGTALK_APP_SECRET: APP_SECRET,
      DINGTALK_API_BASE: base,
      DINGTALK_OAPI_BASE: base,
      DINGTALK_GROUPS: JSON.stringify({ d1: GROUP }),
      ...extraEnv,
    },
  });
  now = () => sys.clock.now().getTime();
  // the test system's app is built without the robot; this one has it (same deps otherwise)
  const app = createApp({
    prisma: sys.rt.prisma,
    redis: sys.rt.redis,
    clock: sys.clock,
    log: createLogger('silent'),
    metrics: sys.rt.metrics,
    links: sys.rt.links,
    outboxToken: sys.rt.outboxToken,
    publicUrl: sys.config.publicUrl,
    files: sys.rt.files,
    dingtalk: sys.rt.dingtalk,
    migrationsCurrent: async () => ({ current: true, pending: [] }),
  });
  return { sys, fake, app };
}

async function teardown(c: Ctx | undefined) {
  if (!c) return;
  await c.sys.close();
  await c.fake.stop();
}

function post(c: Ctx, cb: { headers: Record<string, string>; body: unknown }) {
  let req = request(c.app.callback()).post('/dingtalk/callback');
  for (const [k, v] of Object.entries(cb.headers)) req = req.set(k, v);
  return req.send(cb.body as object);
}

/** The 重大隐患 alert of the demo plant, addressed (among others) to p12 黄涛 (dt0012). */
async function majorHazardAlert(c: Ctx) {
  const p12 = await c.sys.person('p12');
  const alerts = await c.sys.rt.prisma.alert.findMany({ where: { state: { not: 'cleared' } }, orderBy: { id: 'asc' } });
  const a = alerts.find((x) => x.title.includes('紧急停车系统旁路') && addressedTo(x.recipients, x.level).includes(p12));
  if (!a) throw new Error(`no open alert for the 重大隐患 addressed to p12; alerts: ${alerts.map((x) => x.title).join(' | ')}`);
  return a;
}

async function snapshot(c: Ctx, alertId: number) {
  const a = await c.sys.rt.prisma.alert.findUniqueOrThrow({ where: { id: alertId } });
  const events = await c.sys.rt.prisma.alertEvent.count({ where: { alertId } });
  return { state: a.state, ackedById: a.ackedById, events, token: a.escalationToken };
}

describe('callback signature (protocols.md §3.2)', () => {
  test('derived vector: ts 1577262236757, secret "this is a secret"', () => {
    expect(dingtalkCallbackSign(1577262236757, 'this is a secret')).toBe('DJrE6qdyVGCQz9z5r2MDuNcNAhwYnuAkyj13cx169CA=');
    expect(verifyDingtalkCallback('1577262236757', 'DJrE6qdyVGCQz9z5r2MDuNcNAhwYnuAkyj13cx169CA=', 'this is a secret', 1577262236757 + 1000)).toEqual({ ok: true, timestamp: 1577262236757 });
  });

  test('window is 1 h either way, by the given clock; sign compared exactly', () => {
    const ts = 1_800_000_000_000;
    const sign = dingtalkCallbackSign(ts, 's');
    expect(verifyDingtalkCallback(String(ts), sign, 's', ts + CALLBACK_WINDOW_MS).ok).toBe(true);
    expect(verifyDingtalkCallback(String(ts), sign, 's', ts - CALLBACK_WINDOW_MS).ok).toBe(true);
    expect(verifyDingtalkCallback(String(ts), sign, 's', ts + CALLBACK_WINDOW_MS + 1)).toEqual({ ok: false, reason: 'stale_timestamp' });
    expect(verifyDingtalkCallback(String(ts), sign, 's', ts - CALLBACK_WINDOW_MS - 1)).toEqual({ ok: false, reason: 'stale_timestamp' });
    expect(verifyDingtalkCallback(String(ts), sign, 'other', ts)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyDingtalkCallback(String(ts), sign.slice(0, -2), 's', ts)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyDingtalkCallback(`0${ts}`, sign, 's', ts)).toEqual({ ok: false, reason: 'stale_timestamp' });
    expect(verifyDingtalkCallback(undefined, sign, 's', ts)).toEqual({ ok: false, reason: 'missing_signature' });
    expect(verifyDingtalkCallback(String(ts), undefined, 's', ts)).toEqual({ ok: false, reason: 'missing_signature' });
  });

  test('the message body: leading space trimmed, group/single, external sender', () => {
    const fake = new FakeDingtalkApp({ appKey: 'k', appSecret: 's' });
    const g = parseDingtalkRobotMessage(fake.callback({ text: '确认 A12', senderStaffId: 'dt0012', senderNick: '黄涛' }).body)!;
    expect(g.text).toBe('确认 A12');
    expect(g.conversationType).toBe('group');
    expect(g.senderStaffId).toBe('dt0012');
    expect(g.sessionWebhookExpiredTime - g.createAt!).toBe(90 * 60_000);
    const d = parseDingtalkRobotMessage(fake.callback({ text: ' 查询 ', senderStaffId: 'dt0012', conversationType: 'single' }).body)!;
    expect(d.text).toBe('查询');
    expect(d.conversationType).toBe('single');
    const ext = parseDingtalkRobotMessage(fake.callback({ text: '确认', senderStaffId: 'dt0012', senderCorpId: 'dingother' }).body)!;
    // a staffId from another corp is not one of ours
    expect(replyContextOf(ext).senderStaffId).toBe('');
    expect(parseDingtalkRobotMessage({ msgtype: 'text' })).toBeNull();
    expect(parseDingtalkRobotMessage('x')).toBeNull();
  });
});

describe('DingTalk app robot on the demo plant', () => {
  let c: Ctx | undefined;
  afterEach(async () => {
    await teardown(c);
    c = undefined;
  });

  test('full loop: ActionCard to d1 → @robot 确认 A<id> as dt0012 → acknowledged as p12 (channel dingtalk) → reply via session; 2 h later via the OpenAPI', async () => {
    c = await setup();
    await c.sys.cycle();
    const alert = await majorHazardAlert(c);
    const code = alertCode(alert.id);
    const p12 = await c.sys.person('p12');

    // outbound: an ActionCard through the app robot into d1, with a button for 黄涛 opening his link
    const cards = c.fake.openApiPosts.filter((p) => p.path === '/v1.0/robot/groupMessages/send' && p.msgKey.startsWith('sampleActionCard'));
    const card = cards.find((p) => String(p.msgParam.text).includes(code));
    expect(card).toBeDefined();
    expect(card!.openConversationId).toBe(GROUP);
    const buttons = Object.entries(card!.msgParam).filter(([k]) => /^actionTitle\d$|^singleTitle$/.test(k)).map(([, v]) => String(v));
    expect(buttons).toContain('确认/处置·黄涛');
    const n = await c.sys.rt.prisma.notification.findFirstOrThrow({ where: { alertId: alert.id, channel: 'dingtalk_robot' } });
    expect(n.state).toBe('sent');
    expect(n.providerMessageId).toMatch(/^pqk-/);

    // inbound: 黄涛 @s the robot in d1
    const cb = c.fake.callback({ text: `确认 ${code}`, senderStaffId: 'dt0012', senderNick: '黄涛' });
    const res = await post(c, cb);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ msgtype: 'empty' });

    const after = await c.sys.rt.prisma.alert.findUniqueOrThrow({ where: { id: alert.id } });
    expect(after.state).toBe('acknowledged');
    expect(after.ackedById).toBe(p12);
    const ev = await c.sys.rt.prisma.alertEvent.findFirstOrThrow({ where: { alertId: alert.id, type: 'acknowledged' } });
    expect(ev.channel).toBe('dingtalk');
    expect(ev.actorId).toBe(p12);

    // the reply: through the session webhook, @-mentioning him (at.atUserIds and @dt0012 in the text)
    expect(c.fake.sessionPosts).toHaveLength(1);
    const sp = c.fake.sessionPosts[0];
    expect(sp.at.atUserIds).toEqual(['dt0012']);
    expect(sp.mentionedInText).toEqual({ dt0012: true });
    expect(JSON.stringify(sp.body)).toContain(`已确认 ${code}`);
    const textPostsBefore = c.fake.openApiPosts.filter((p) => p.msgKey === 'sampleText').length;
    expect(textPostsBefore).toBe(0);

    // the same reply attempted 2 h after the message: the session has expired → OpenAPI, arrives
    const ctx = replyContextOf(parseDingtalkRobotMessage(cb.body)!);
    c.sys.clock.advance(2 * HOUR);
    const later = await c.sys.rt.dingtalk!.reply(ctx, `已确认 ${code}（补发）`);
    expect(later).toMatchObject({ ok: true, via: 'openapi' });
    const sent = c.fake.openApiPosts.filter((p) => p.msgKey === 'sampleText');
    expect(sent).toHaveLength(1);
    expect(sent[0].openConversationId).toBe(GROUP);
    expect(sent[0].msgParam.content).toBe(`黄涛：已确认 ${code}（补发）`);
    // the session webhook was not even tried after its expiry
    expect(c.fake.sessionPosts).toHaveLength(1);
  });

  test('a session webhook that fails is followed by the OpenAPI at once; a direct chat falls back to batchSend to the staffId', async () => {
    c = await setup();
    const cb = c.fake.callback({ text: '帮助', senderStaffId: 'dt0012', senderNick: '黄涛' });
    const ctx = replyContextOf(parseDingtalkRobotMessage(cb.body)!);
    // DingTalk dropped the session early (the fake says 300001), though its announced expiry is ahead
    c.sys.clock.advance(91 * 60_000);
    const r = await c.sys.rt.dingtalk!.reply({ ...ctx, sessionWebhookExpiredTime: c.sys.clock.now().getTime() + HOUR }, 'x');
    expect(r).toMatchObject({ ok: true, via: 'openapi' });
    expect(c.fake.rejected.some((x) => x.path === '/robot/sendBySession' && (x.answer as { errcode: number }).errcode === 300001)).toBe(true);

    const dm = c.fake.callback({ text: '查询', senderStaffId: 'dt0012', conversationType: 'single' });
    const dctx = replyContextOf(parseDingtalkRobotMessage(dm.body)!);
    c.sys.clock.advance(2 * HOUR);
    expect(await c.sys.rt.dingtalk!.reply(dctx, '您当前没有待处理的预警')).toMatchObject({ ok: true, via: 'openapi' });
    const last = c.fake.openApiPosts[c.fake.openApiPosts.length - 1];
    expect(last.path).toBe('/v1.0/robot/oToMessages/batchSend');
    expect(last.userIds).toEqual(['dt0012']);
    expect(last.msgParam.content).toBe('您当前没有待处理的预警');

    // an external user in a direct chat after expiry cannot be reached: said so, nothing sent
    const ext = c.fake.callback({ text: '查询', senderStaffId: '', conversationType: 'single' });
    const ectx = replyContextOf(parseDingtalkRobotMessage(ext.body)!);
    c.sys.clock.advance(2 * HOUR);
    const before = c.fake.openApiPosts.length;
    expect(await c.sys.rt.dingtalk!.reply(ectx, 'x')).toMatchObject({ ok: false, via: 'none' });
    expect(c.fake.openApiPosts).toHaveLength(before);
  });

  test('an access token refused early is refreshed once and the send retried; the token is cached between sends', async () => {
    c = await setup();
    const cb = c.fake.callback({ text: '帮助', senderStaffId: 'dt0012', senderNick: '黄涛' });
    const ctx = replyContextOf(parseDingtalkRobotMessage(cb.body)!);
    c.sys.clock.advance(2 * HOUR);
    expect(await c.sys.rt.dingtalk!.reply(ctx, 'a')).toMatchObject({ ok: true, via: 'openapi' });
    expect(await c.sys.rt.dingtalk!.reply(ctx, 'b')).toMatchObject({ ok: true, via: 'openapi' });
    expect(c.fake.tokenRequests).toHaveLength(1);
    c.fake.revokeTokens();
    expect(await c.sys.rt.dingtalk!.reply(ctx, 'c')).toMatchObject({ ok: true, via: 'openapi' });
    expect(c.fake.tokenRequests).toHaveLength(2);
    expect(c.fake.rejected.filter((r) => r.status === 401)).toHaveLength(1);
    expect(c.fake.openApiPosts.map((p) => p.msgParam.content)).toEqual(['黄涛：a', '黄涛：b', '黄涛：c']);
  });

  test('bad sign, stale timestamp (> 1 h), replayed msgId, reused signed timestamp: rejected or ignored, nothing changed', async () => {
    c = await setup();
    await c.sys.cycle();
    const alert = await majorHazardAlert(c);
    const code = alertCode(alert.id);
    const before = await snapshot(c, alert.id);

    // tampered signature
    const bad = c.fake.callback({ text: `确认 ${code}`, senderStaffId: 'dt0012' });
    bad.headers.sign = dingtalkCallbackSign(Number(bad.headers.timestamp), 'not-the-secret');
    let res = await post(c, bad);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('bad_signature');

    // missing headers
    const bare = c.fake.callback({ text: `确认 ${code}`, senderStaffId: 'dt0012' });
    res = await request(c.app.callback()).post('/dingtalk/callback').send(bare.body);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('missing_signature');

    // signed 1 h + 1 s ago by the injected clock
    const stale = c.fake.callback({ text: `确认 ${code}`, senderStaffId: 'dt0012' }, c.sys.clock.now().getTime() - HOUR - 1000);
    res = await post(c, stale);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('stale_timestamp');
    expect(await snapshot(c, alert.id)).toEqual(before);
    expect(c.fake.sessionPosts).toHaveLength(0);

    // a query (changes nothing on the alert) goes through once…
    const q = c.fake.callback({ text: `查询 ${code}`, senderStaffId: 'dt0012' });
    expect((await post(c, q)).status).toBe(200);
    expect(c.fake.sessionPosts).toHaveLength(1);
    // …the very same request again is acknowledged and ignored
    res = await post(c, q);
    expect(res.status).toBe(200);
    expect(c.fake.sessionPosts).toHaveLength(1);

    // the same msgId re-signed a second later (a DingTalk retry): ignored
    c.sys.clock.advance(1000);
    const retry = c.fake.callback({ text: `确认 ${code}`, senderStaffId: 'dt0012', msgId: String(q.body.msgId) });
    expect((await post(c, retry)).status).toBe(200);
    // another body under headers already used (the signature does not cover the body): ignored
    const forged = c.fake.callback({ text: `确认 ${code}`, senderStaffId: 'dt0012' });
    expect((await post(c, { headers: q.headers, body: forged.body })).status).toBe(200);

    expect(await snapshot(c, alert.id)).toEqual(before);
    expect(c.fake.sessionPosts).toHaveLength(1);
  });

  test('an unbound sender (external user, no staffId) changes nothing and is told how to bind; 绑定 <code> binds and later commands act as that person', async () => {
    c = await setup();
    await c.sys.cycle();
    const alert = await majorHazardAlert(c);
    const code = alertCode(alert.id);
    const p12 = await c.sys.person('p12');
    const before = await snapshot(c, alert.id);

    // an external contact (no staffId) tries to acknowledge
    const ext = { senderStaffId: '', senderId: '$:LWCP_v1:$ext-visitor', senderNick: '访客', senderCorpId: 'dingother' };
    expect((await post(c, c.fake.callback({ text: `确认 ${code}`, ...ext }))).status).toBe(200);
    expect(await snapshot(c, alert.id)).toEqual(before);
    const told = JSON.stringify(c.fake.sessionPosts[0].body);
    expect(told).toContain('绑定');
    expect(c.fake.sessionPosts[0].at.atUserIds).toEqual([]);

    // 黄涛's directory id is gone (say he has a new DingTalk account): his staffId maps to nobody
    await c.sys.rt.prisma.person.update({ where: { id: p12 }, data: { dingtalkUserId: null } });
    const staff = { senderStaffId: 'newstaff12', senderNick: '黄涛' };
    await post(c, c.fake.callback({ text: `确认 ${code}`, ...staff }));
    expect(await snapshot(c, alert.id)).toEqual(before);
    expect(JSON.stringify(c.fake.sessionPosts[1].body)).toContain('绑定');

    // a wrong code binds nothing
    await post(c, c.fake.callback({ text: '绑定 000000', ...staff }));
    expect(JSON.stringify(c.fake.sessionPosts[2].body)).toContain('绑定码无效或已过期');
    expect(await c.sys.rt.prisma.chatIdentity.count()).toBe(0);

    // the code from his link page binds this DingTalk account to him
    const { code: bindCode } = await issueBindingCode(c.sys.rt.prisma, c.sys.clock, p12);
    await post(c, c.fake.callback({ text: `绑定 ${bindCode}`, ...staff }));
    expect(JSON.stringify(c.fake.sessionPosts[3].body)).toContain('绑定成功');
    const bound = await c.sys.rt.prisma.chatIdentity.findMany();
    expect(bound).toMatchObject([{ platform: 'dingtalk', externalId: 'newstaff12', personId: p12, via: 'binding_code', displayName: '黄涛' }]);

    // the code is used up: someone else sending it gets told so
    await post(c, c.fake.callback({ text: `绑定 ${bindCode}`, ...ext }));
    expect(JSON.stringify(c.fake.sessionPosts[4].body)).toContain('绑定码无效或已过期');
    expect(await c.sys.rt.prisma.chatIdentity.count()).toBe(1);

    // now his command acts as him
    await post(c, c.fake.callback({ text: `确认 ${code}`, ...staff }));
    const after = await c.sys.rt.prisma.alert.findUniqueOrThrow({ where: { id: alert.id } });
    expect(after.state).toBe('acknowledged');
    expect(after.ackedById).toBe(p12);
    expect(await c.sys.rt.prisma.alertEvent.findFirst({ where: { alertId: alert.id, type: 'acknowledged', actorId: p12, channel: 'dingtalk' } })).not.toBeNull();
  });

  test('an expired binding code is refused with a clear reply', async () => {
    c = await setup();
    const p13 = await c.sys.person('p13');
    const { code } = await issueBindingCode(c.sys.rt.prisma, c.sys.clock, p13);
    c.sys.clock.advance(31 * 60_000);
    await post(c, c.fake.callback({ text: `绑定 ${code}`, senderStaffId: 'unknown-staff' }));
    expect(JSON.stringify(c.fake.sessionPosts[0].body)).toContain('绑定码无效或已过期');
    expect(await c.sys.rt.prisma.chatIdentity.count()).toBe(0);
  });

  test('over-quota callbacks (errorCode 20001, no content), pictures, another corp’s robot; route without configuration → 404', async () => {
    c = await setup({ DINGTALK_CORP_ID: 'dingcorp0001' });
    const quota = c.fake.callback({ text: 'x', senderStaffId: 'dt0012' });
    const res = await post(c, { headers: quota.headers, body: { errorCode: 20001, errorMsg: 'over quota', msgId: 'q1' } });
    expect(res.status).toBe(200);
    expect(c.fake.sessionPosts).toHaveLength(0);

    await post(c, c.fake.callback({ text: '', senderStaffId: 'dt0012', msgtype: 'picture' }));
    expect(JSON.stringify(c.fake.sessionPosts[0].body)).toContain('请用文字发送指令');

    const other = c.fake.callback({ text: '查询', senderStaffId: 'dt0012' });
    (other.body as Record<string, unknown>).chatbotCorpId = 'dingsomeoneelse';
    expect((await post(c, other)).status).toBe(200);
    expect(c.fake.sessionPosts).toHaveLength(1);

    // the plain test system has no DingTalk app configured: the route is not there (not "try later")
    const plain = await request(c.sys.app.callback()).post('/dingtalk/callback').set(quota.headers).send({});
    expect(plain.status).toBe(404);
    expect(plain.body.code).toBe('dingtalk_not_configured');
  });

  test('a sessionWebhook on another host is never posted to (the OpenAPI answers instead)', async () => {
    c = await setup({ DINGTALK_OAPI_BASE: 'https://oapi.dingtalk.com' });
    await post(c, c.fake.callback({ text: '帮助', senderStaffId: 'dt0012', senderNick: '黄涛' }));
    expect(c.fake.sessionPosts).toHaveLength(0);
    expect(c.fake.openApiPosts).toHaveLength(1);
    expect(String(c.fake.openApiPosts[0].msgParam.content)).toContain('可用指令');
  });

  test('binding flow from the alert link page: the code is shown while DingTalk is unmapped, 绑定 <code> from DingTalk binds, then the DingTalk line goes away', async () => {
    c = await setup();
    await c.sys.cycle();
    const alert = await majorHazardAlert(c);
    const p12 = await c.sys.person('p12');
    const page = async () => {
      const url = new URL(await c!.sys.rt.links.url({ alertId: alert.id, personId: p12, notificationId: null }));
      const res = await request(c!.app.callback()).get(url.pathname);
      expect(res.status).toBe(200);
      return res.text;
    };
    // with his DingTalk directory id there is nothing to bind on DingTalk (WeChat still unbound)
    let html = await page();
    expect(html).not.toContain('在钉钉群里');
    expect(html).toContain('在微信群里发送');

    await c.sys.rt.prisma.person.update({ where: { id: p12 }, data: { dingtalkUserId: null } });
    html = await page();
    const m = /在钉钉群里[^<]*：<b class="bind-code">绑定 (\d{6})<\/b>/.exec(html);
    expect(m).not.toBeNull();
    const code = m![1];
    // reloading shows the same code
    expect(await page()).toContain(`绑定 ${code}`);

    await post(c, c.fake.callback({ text: `绑定 ${code}`, senderStaffId: 'dt9912', senderNick: '黄涛' }));
    expect(JSON.stringify(c.fake.sessionPosts[0].body)).toContain('绑定成功');
    html = await page();
    expect(html).not.toContain('在钉钉群里');
    expect(html).toContain('在微信群里发送');
    // WeChat still needs a code: a fresh one (the first is used up)
    expect(html).not.toContain(`绑定 ${code}`);
  });

  test('two enterprises: DINGTALK_ENTERPRISE_CODE decides whose staffIds these are; a code of the other enterprise binds nothing; without the setting a shared staffId maps to nobody', async () => {
    c = await setup({ DINGTALK_ENTERPRISE_CODE: '320411901' });
    const d = readDemoData();
    const e2 = (await loadDemoPlant(c.sys.rt.prisma, { now: c.sys.clock.now(), regulator: false, data: { ...d, enterprise: { ...d.enterprise, companyCode: '320411999', name: '第二示范化工（演示）' } } })).enterpriseId;
    const e1 = c.sys.enterpriseId!;
    await c.sys.cycle();
    const alert = await c.sys.rt.prisma.alert.findFirstOrThrow({ where: { enterpriseId: e1, title: { contains: '紧急停车系统旁路' }, state: 'open' } });
    const p12e1 = (await c.sys.rt.prisma.person.findFirstOrThrow({ where: { enterpriseId: e1, code: 'p12' } })).id;
    const p12e2 = (await c.sys.rt.prisma.person.findFirstOrThrow({ where: { enterpriseId: e2, code: 'p12' } })).id;

    // a binding code of the other enterprise's person, sent from this corp's robot: refused like an unknown one
    const { code: foreign } = await issueBindingCode(c.sys.rt.prisma, c.sys.clock, p12e2);
    await post(c, c.fake.callback({ text: `绑定 ${foreign}`, senderStaffId: 'stranger', senderNick: '某人' }));
    expect(JSON.stringify(c.fake.sessionPosts[0].body)).toContain('绑定码无效或已过期');
    expect(await c.sys.rt.prisma.chatIdentity.count()).toBe(0);
    expect((await c.sys.rt.prisma.bindingCode.findFirstOrThrow({ where: { code: foreign } })).usedAt).toBeNull();

    // dt0012 exists in both enterprises: the setting picks this corp's enterprise
    await post(c, c.fake.callback({ text: `确认 ${alertCode(alert.id)}`, senderStaffId: 'dt0012', senderNick: '黄涛' }));
    expect((await c.sys.rt.prisma.alert.findUniqueOrThrow({ where: { id: alert.id } })).ackedById).toBe(p12e1);

    // without the setting, two enterprises: the shared staffId is nobody (no guessing), nothing changes
    const unset = new DingtalkRobot({ ...c.sys.rt.dingtalk!.d, config: { ...c.sys.config.dingtalk!, enterpriseCode: undefined } });
    expect(await unset.enterpriseId()).toBeNull();
    const other = await c.sys.rt.prisma.alert.findFirstOrThrow({ where: { enterpriseId: e2, title: { contains: '紧急停车系统旁路' }, state: 'open' } });
    const r = await unset.handleMessage(c.fake.callback({ text: `确认 ${alertCode(other.id)}`, senderStaffId: 'dt0012', senderNick: '黄涛' }).body);
    expect(r).toMatchObject({ status: 'handled', person: null, outcome: { applied: false } });
    expect((await c.sys.rt.prisma.alert.findUniqueOrThrow({ where: { id: other.id } })).state).toBe('open');
  });
});
