/**
 * The WeCom self-built app end to end against the fake WeCom (test/fakes/wecom-app.ts): the demo
 * plant's alerts go out as one button card per person with a WeCom userid, 胡婷 (p16) clicks 确认
 * → the alert is acknowledged as p16 with channel `wecom` and every card of the alert is updated;
 * a text command from the app applies through the chat grammar; WeCom's retries act once; unknown
 * and unauthorised clickers change nothing; the access token is refreshed once on 40014 / 42001
 * (one gettoken for many callers); credential errors are permanent; the channel's outcomes
 * (invaliduser, 81013, unique task ids, field lengths, the per-member minute limit).
 */
import { createTestSystem, T0, type TestSystem } from '../helpers/system';
import { FakeWecomApp, WecomCallbackDriver, type FakeSent } from '../fakes/wecom-app';
import { WecomApi } from '../../server/services/wecom-token';
import { WecomAppChannel, WECOM_CARD_LIMITS, type WecomAppSent } from '../../server/channels/wecom-app';
import { createRedisThrottle } from '../../server/channels/throttle';
import type { NeutralMessage } from '../../server/domain/message';
import type { ReceivedMessage } from '../../server/services/wecom-callback';

const CORP = 'wwdemo7b2c9e1f0a';
const SECRET = 'demo-app-secret-0123456789';
const AGENT = 1000002;
const TOKEN = 'DemoCallbackToken42';
const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const DEMO_USERS = ['ZhouJianGuo', 'WuHaiFeng', 'ZhengLi', 'WangLei', 'ChenZhiQiang', 'LiuYang', 'ZhaoXiaoJun', 'SunMing', 'QianWei', 'LiNa', 'ZhangWei', 'HuangTao', 'XuJing', 'MaChao', 'ZhuBin', 'HuTing', 'LinFeng'];

type Card = FakeSent & { body: { template_card: { task_id: string; main_title: { title: string }; button_list: Array<{ text: string; key?: string; url?: string; type?: number }> } } };

describe('WeCom app: alert → card → 确认 button → acknowledged as the clicker → cards updated', () => {
  let sys: TestSystem;
  let fake: FakeWecomApp;
  let driver: WecomCallbackDriver;
  const seen: ReceivedMessage[] = [];

  beforeAll(async () => {
    fake = new FakeWecomApp({ corpId: CORP, secret: SECRET, agentId: AGENT, users: [...DEMO_USERS, 'Stranger'], now: () => sys?.clock.now().getTime() ?? Date.now() });
    await fake.start();
    sys = await createTestSystem({
      now: T0,
      env: {
        WECOM_CORP_ID: CORP,
        WECOM_AGENT_ID: String(AGENT),
        WECOM_SECRET: SECRET,
        WECOM_CALLBACK_TOKEN: TOKEN,
        WECOM_ENCODING_AES_KEY: AES_KEY,
        WECOM_API_BASE: fake.base,
        WECOM_ENTERPRISE_CODE: '320411901',
      },
    });
    driver = new WecomCallbackDriver({ token: TOKEN, encodingAesKey: AES_KEY, corpId: CORP, agentId: AGENT }, { now: () => sys.clock.now().getTime() });
    sys.rt.wecom!.onMessage((m) => seen.push(m));
    await sys.cycle();
  });
  afterAll(async () => {
    await sys?.close();
    await fake.stop();
  });

  const v101b = () => sys.rt.prisma.alert.findFirstOrThrow({ where: { kind: 'hazard_overdue' } });
  const gd203 = async () => (await sys.rt.prisma.alert.findMany({ where: { kind: 'hazard_due_soon' } })).find((a) => a.title.includes('GD-203'))!;
  const cardsOf = (alertId: number) => fake.sent.filter((s): s is Card => s.msgtype === 'template_card' && (s as Card).body.template_card.button_list[0].key === `ack:${alertId}`);
  const click = async (from: string, card: Card, times = 1) => {
    const rc = fake.issueEventResponseCode(card.taskId!);
    const req = driver.postRequest(driver.cardEventXml(from, `ack:${card.body.template_card.button_list[0].key!.slice(4)}`, card.taskId!, rc));
    const answers = await driver.deliver(sys.app.callback(), req, times);
    await sys.rt.wecom!.idle();
    return { rc, req, answers };
  };

  it('sends each recipient with a WeCom userid a card of their own (no outbox entry for them)', async () => {
    const a = await v101b();
    const notes = await sys.rt.prisma.notification.findMany({ where: { alertId: a.id }, orderBy: { id: 'asc' } });
    const ids = await Promise.all(['p16', 'p06', 'p05', 'p03', 'p01'].map((c) => sys.person(c)));
    expect(notes.map((n) => n.channel)).toEqual(Array(5).fill('wecom_app'));
    expect(new Set(notes.map((n) => (n.recipients as number[]).join()))).toEqual(new Set(ids.map(String)));
    expect(notes.every((n) => n.state === 'sent')).toBe(true);
    const cards = cardsOf(a.id);
    expect(cards.map((c) => c.touser[0]).sort()).toEqual(['ChenZhiQiang', 'HuTing', 'LiuYang', 'ZhengLi', 'ZhouJianGuo']);
    expect(cards.every((c) => c.delivered.length === 1 && c.dropped.length === 0 && c.warnings.length === 0)).toBe(true);
  });

  it('the card: title, 确认 callback key, 处置… opening the recipient’s own signed link, unique task id, response_code kept', async () => {
    const a = await v101b();
    const card = cardsOf(a.id).find((c) => c.touser[0] === 'HuTing')!;
    const tc = card.body.template_card;
    expect(card.body).toMatchObject({ msgtype: 'template_card', agentid: AGENT, touser: 'HuTing', enable_duplicate_check: 0 });
    expect(tc.main_title.title).toContain('V-101B');
    expect([...tc.main_title.title].length).toBeLessThanOrEqual(WECOM_CARD_LIMITS.mainTitle);
    expect(tc.task_id).toMatch(new RegExp(`^dp_a${a.id}_l3_[0-9a-z]+_[0-9a-f]+$`));
    expect(tc.button_list.map((b) => b.text)).toEqual(['确认', '处置…']);
    expect(tc.button_list[1]).toMatchObject({ type: 1, url: expect.stringMatching(/^http:\/\/dualprev\.test\/l\//) });
    const p16 = await sys.person('p16');
    const n = (await sys.rt.prisma.notification.findMany({ where: { alertId: a.id } })).find((x) => (x.recipients as number[])[0] === p16)!;
    const delivered = (n.payload as unknown as { delivered: WecomAppSent }).delivered;
    expect(delivered.taskId).toBe(tc.task_id);
    expect(delivered.responseCode).toBe(card.responseCode);
    expect(Date.parse(delivered.responseCodeExpiresAt!) - T0.getTime()).toBe(72 * 3600_000);
    expect(n.providerMessageId).toBe(card.msgid);
    // the link in the button is p16's own page
    const page = await (await import('supertest')).default(sys.app.callback()).get(new URL(tc.button_list[1].url!).pathname).expect(200);
    expect(page.text).toContain('胡婷');
    expect(new Set(cardsOf(a.id).map((c) => c.taskId)).size).toBe(5);
  });

  it('HuTing clicks 确认: acknowledged as p16 via wecom, her card updated with the event code, the others with theirs', async () => {
    const a = await v101b();
    const card = cardsOf(a.id).find((c) => c.touser[0] === 'HuTing')!;
    const updatesBefore = fake.updates.length;
    const { rc, answers } = await click('HuTing', card);
    expect(answers).toEqual([expect.objectContaining({ status: 200, text: '' })]);
    expect(answers[0].ms).toBeLessThan(5000);

    const p16 = await sys.person('p16');
    const acked = await v101b();
    expect(acked.state).toBe('acknowledged');
    expect(acked.ackedById).toBe(p16);
    const ev = await sys.rt.prisma.alertEvent.findFirstOrThrow({ where: { alertId: a.id, type: 'acknowledged' } });
    expect(ev).toMatchObject({ channel: 'wecom', actorId: p16 });
    const n = (await sys.rt.prisma.notification.findMany({ where: { alertId: a.id } })).find((x) => (x.recipients as number[])[0] === p16)!;
    expect((ev.data as { notificationId: number }).notificationId).toBe(n.id);

    const updates = fake.updates.slice(updatesBefore);
    expect(updates.find((u) => u.responseCode === rc)).toMatchObject({ userids: ['HuTing'], replaceName: '已确认 · 胡婷', taskId: card.taskId });
    // the four other recipients' cards, each with the response_code message/send gave it
    const others = cardsOf(a.id).filter((c) => c !== card);
    expect(updates.filter((u) => u.responseCode !== rc).map((u) => u.responseCode).sort()).toEqual(others.map((c) => c.responseCode).sort());
    expect(updates.every((u) => u.replaceName === '已确认 · 胡婷')).toBe(true);
    // and she is told how to 处置 (her card's buttons are gone)
    const reply = fake.sent.filter((s) => s.msgtype === 'text' && s.touser[0] === 'HuTing').at(-1)!;
    expect(reply.text).toContain(`已确认 A${a.id}`);
    expect(reply.text).toContain(`处置 A${a.id}`);
    expect(seen.at(-1)!.outcome).toMatchObject({ kind: 'card_ack', applied: true, alertId: a.id, personId: p16 });
  });

  it('WeCom retrying the click (3 deliveries of one request, or a new nonce for the same click) acts once', async () => {
    const a = await v101b();
    const card = cardsOf(a.id).find((c) => c.touser[0] === 'LiuYang')!;
    const events = () => sys.rt.prisma.alertEvent.count({ where: { alertId: a.id, type: 'acknowledged' } });
    const before = { events: await events(), updates: fake.updates.length, sent: fake.sent.length };
    const rc = fake.issueEventResponseCode(card.taskId!);
    const xml = driver.cardEventXml('LiuYang', `ack:${a.id}`, card.taskId!, rc);
    const answers = await driver.deliver(sys.app.callback(), driver.postRequest(xml), 3);
    await driver.deliver(sys.app.callback(), driver.postRequest(xml));
    await sys.rt.wecom!.idle();
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(await events()).toBe(before.events + 1); // 刘洋's own 确认, once
    expect(fake.updates.length - before.updates).toBe(1); // his card, with the event's code; the others' codes are spent
    expect(fake.sent.length - before.sent).toBe(1); // one reply
  });

  it('a click from a userid nobody is bound to changes nothing and answers how to bind', async () => {
    const a = await v101b();
    const card = cardsOf(a.id)[0];
    const before = { events: await sys.rt.prisma.alertEvent.count(), updates: fake.updates.length };
    await click('Stranger', card);
    expect(await sys.rt.prisma.alertEvent.count()).toBe(before.events);
    expect(fake.updates.length).toBe(before.updates);
    expect(fake.sent.at(-1)).toMatchObject({ msgtype: 'text', touser: ['Stranger'] });
    expect(fake.sent.at(-1)!.text).toContain('绑定');
  });

  it('a click by someone the alert was not addressed to (林峰, 电工) is refused: nothing stored, card untouched', async () => {
    const a = await v101b();
    const card = cardsOf(a.id)[0];
    const before = { events: await sys.rt.prisma.alertEvent.count(), updates: fake.updates.length };
    await click('LinFeng', card);
    expect(await sys.rt.prisma.alertEvent.count()).toBe(before.events);
    expect(fake.updates.length).toBe(before.updates);
    expect(fake.sent.at(-1)!.text).toContain('未发给您');
  });

  it('a text command in the app (处置 A… 说明) applies as the sender via wecom and updates that alert’s card', async () => {
    const a = await gd203();
    const p16 = await sys.person('p16');
    const before = fake.updates.length;
    const [r] = await driver.deliver(sys.app.callback(), driver.postRequest(driver.textXml('HuTing', `处置 A${a.id} 已安排更换法兰垫片`)));
    expect(r.status).toBe(200);
    await sys.rt.wecom!.idle();
    const ev = await sys.rt.prisma.alertEvent.findFirstOrThrow({ where: { alertId: a.id, type: 'handled' } });
    expect(ev).toMatchObject({ channel: 'wecom', actorId: p16, note: '已安排更换法兰垫片' });
    expect(fake.updates.slice(before)).toEqual([expect.objectContaining({ replaceName: '已处置 · 胡婷', userids: ['HuTing'], responseCode: cardsOf(a.id)[0].responseCode })]);
    expect(fake.sent.at(-1)).toMatchObject({ msgtype: 'text', touser: ['HuTing'] });
    expect(fake.sent.at(-1)!.text).toContain(`A${a.id}`);
  });

  it('an ack on the link page (not in WeCom) relabels that alert’s cards at the next card sync, once; a later 销警 finds the codes spent', async () => {
    const { acknowledgeAlert, clearAlertByHand, loadActor } = await import('../../server/services/alert-actions');
    const a = await sys.rt.prisma.alert.findFirstOrThrow({ where: { kind: 'hazard_late_entry' } });
    const cards = cardsOf(a.id);
    expect(cards.length).toBeGreaterThan(0);
    const n = await sys.rt.prisma.notification.findFirstOrThrow({ where: { alertId: a.id, channel: 'wecom_app' }, orderBy: { id: 'asc' } });
    const personId = (n.recipients as number[])[0];
    const person = await sys.rt.prisma.person.findUniqueOrThrow({ where: { id: personId } });
    const before = fake.updates.length;
    await acknowledgeAlert(sys.rt.prisma, sys.clock, await loadActor(sys.rt.prisma, personId), a.id, { channel: 'link', notificationId: n.id });
    expect(fake.updates.length).toBe(before); // nothing in WeCom knows yet

    expect(await sys.rt.cardSyncOnce()).toBe(cards.length);
    const updates = fake.updates.slice(before);
    expect(updates.map((u) => u.responseCode).sort()).toEqual(cards.map((c) => c.responseCode).sort());
    expect(updates.every((u) => u.replaceName === `已确认 · ${person.name}`)).toBe(true);
    // the next pass has nothing new; nor has one that lost its cursor (Redis flushed)
    expect(await sys.rt.cardSyncOnce()).toBe(0);
    await sys.rt.redis.del(`${sys.rt.config.redisPrefix}:wecom:cardsync:cursor`);
    expect(await sys.rt.cardSyncOnce()).toBe(0);

    // 销警 later: each response_code works once (WeCom doc 94888), so the cards keep 「已确认」
    await clearAlertByHand(sys.rt.prisma, sys.clock, await loadActor(sys.rt.prisma, await sys.person('p03')), a.id, { channel: 'api' }, '已补录，情况属实');
    expect(await sys.rt.cardSyncOnce()).toBe(0);
    expect(fake.updates.length).toBe(before + cards.length);
  });

  it('an unbound user binds with 绑定 <code> (the one-time code of their link page); after that the app knows them', async () => {
    const { issueBindingCode } = await import('../../server/services/identity');
    const p07 = await sys.person('p07');
    const { code } = await issueBindingCode(sys.rt.prisma, sys.clock, p07);
    fake.addUser('zhaoxj_mobile');
    await driver.deliver(sys.app.callback(), driver.postRequest(driver.textXml('zhaoxj_mobile', `绑定 ${code}`)));
    await sys.rt.wecom!.idle();
    expect(fake.sent.at(-1)!.text).toContain('绑定成功');
    const bound = await sys.rt.prisma.chatIdentity.findFirstOrThrow({ where: { platform: 'wecom', externalId: 'zhaoxj_mobile' } });
    expect(bound.personId).toBe(p07);
    await driver.deliver(sys.app.callback(), driver.postRequest(driver.textXml('zhaoxj_mobile', '查询')));
    await sys.rt.wecom!.idle();
    expect(seen.at(-1)!.outcome).toMatchObject({ kind: 'text', personId: p07 });
    expect(fake.sent.at(-1)!.text).not.toContain('尚未与系统人员关联');
  });
});

describe('WeCom access token', () => {
  let sys: TestSystem;
  let fake: FakeWecomApp;
  const text = (content: string) => ({ touser: 'HuTing', msgtype: 'text', agentid: AGENT, text: { content } });

  beforeAll(async () => {
    fake = new FakeWecomApp({ corpId: CORP, secret: SECRET, agentId: AGENT, users: ['HuTing', 'LiuYang'] });
    await fake.start();
    sys = await createTestSystem({ seed: false, env: { WECOM_CORP_ID: CORP, WECOM_AGENT_ID: String(AGENT), WECOM_SECRET: SECRET, WECOM_API_BASE: fake.base } });
  });
  afterAll(async () => {
    await sys?.close();
    await fake.stop();
  });

  it('is fetched once and shared through Redis (a second client of the same app does not call gettoken)', async () => {
    const api = sys.rt.wecomApi!;
    expect((await api.post('message/send', text('一'))).ok).toBe(true);
    expect((await api.post('message/send', text('二'))).ok).toBe(true);
    const other = new WecomApi({ corpId: CORP, secret: SECRET, apiBase: fake.base, redis: sys.rt.redis, prefix: sys.prefix });
    expect((await other.post('message/send', text('三'))).ok).toBe(true);
    expect(fake.gettokenCalls).toBe(1);
  });

  it('40014 (what WeCom answers for an early-expired token): refreshed, the call retried once, and it arrives', async () => {
    const calls = fake.gettokenCalls;
    fake.expireTokenNow(40014);
    const r = await sys.rt.wecomApi!.post('message/send', text('四'));
    expect(r.ok).toBe(true);
    expect(fake.gettokenCalls).toBe(calls + 1);
    expect(fake.rejected.at(-1)).toMatchObject({ path: 'message/send', errcode: 40014 });
    expect(fake.sent.at(-1)!.text).toBe('四');
  });

  it('42001 with five calls at once: one gettoken for all of them, each retried once and delivered', async () => {
    const calls = fake.gettokenCalls;
    const rejected = fake.rejected.length;
    fake.expireTokenNow(42001);
    const rs = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((c) => sys.rt.wecomApi!.post('message/send', text(c))));
    expect(rs.every((r) => r.ok)).toBe(true);
    expect(fake.gettokenCalls).toBe(calls + 1);
    expect(fake.rejected.slice(rejected).map((x) => x.errcode)).toEqual([42001, 42001, 42001, 42001, 42001]);
    expect(fake.sent.slice(-5).map((s) => s.text).sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('a token refused twice in a row is a transient failure (one retry only, no loop)', async () => {
    fake.failNext('message/send', 40014, 2);
    const calls = fake.gettokenCalls;
    const r = await sys.rt.wecomApi!.post('message/send', text('五'));
    expect(r).toMatchObject({ ok: false, errcode: 40014 });
    expect((r as { permanent?: boolean }).permanent).toBeFalsy();
    expect(fake.gettokenCalls).toBeLessThanOrEqual(calls + 1);
  });

  it('40001 wrong secret, 40013 wrong corp id, 60020 untrusted IP: permanent, saying what to fix', async () => {
    const mk = (corpId: string, secret: string) => new WecomApi({ corpId, secret, apiBase: fake.base, redis: sys.rt.redis, prefix: `${sys.prefix}:cred` });
    expect(await mk(CORP, 'wrong').post('message/send', text('x'))).toMatchObject({ ok: false, permanent: true, errcode: 40001, error: expect.stringContaining('WECOM_SECRET') });
    expect(await mk('wwnosuchcorp', SECRET).post('message/send', text('x'))).toMatchObject({ ok: false, permanent: true, errcode: 40013, error: expect.stringContaining('WECOM_CORP_ID') });
    fake.ipBlocked = true;
    try {
      expect(await mk(CORP, `${SECRET}`).post('message/send', text('x'))).toMatchObject({ ok: false, permanent: true, errcode: 60020, error: expect.stringContaining('企业可信IP') });
    } finally {
      fake.ipBlocked = false;
    }
  });
});

describe('WecomAppChannel outcomes against the fake', () => {
  let sys: TestSystem;
  let fake: FakeWecomApp;
  let channel: WecomAppChannel;
  const dest = { id: null, code: 'wecom_app', channel: 'wecom_app' };
  const msg = (over: Partial<NeutralMessage> = {}): NeutralMessage => ({
    alertCode: 'A77',
    title: '【超期未整改·三级】V-101B 远传液位与现场液位计偏差超过5%，需更换液位变送器并重新标定（长标题测试）',
    lines: ['风险单元：液氯储罐 V-101A/B', '排查时段：2026-11-30 08:00 ～ 2026-11-30 12:00', '整改期限：2026-11-25（已超期 5 天）', '整改责任人：胡婷', '验收人：刘洋', '隐患编号：YH-2026-0001', '预警编号：A77（2026-11-30 12:00）', '注意：未找到以下角色的人员：技术负责人'],
    level: 3,
    reason: 'escalate',
    firedAt: '2026-11-30T04:00:00.000Z',
    recipients: [{ personId: 16, name: '胡婷', wecomUserId: 'HuTing' }],
    links: [{ personId: 16, name: '胡婷', url: 'http://dualprev.test/l/abc' }],
    ...over,
  });

  beforeAll(async () => {
    fake = new FakeWecomApp({ corpId: CORP, secret: SECRET, agentId: AGENT, users: ['HuTing', 'LiuYang'] });
    await fake.start();
    sys = await createTestSystem({ seed: false, env: { WECOM_CORP_ID: CORP, WECOM_AGENT_ID: String(AGENT), WECOM_SECRET: SECRET, WECOM_API_BASE: fake.base } });
    channel = new WecomAppChannel({ api: sys.rt.wecomApi!, agentId: AGENT, now: () => sys.clock.now() });
  });
  afterAll(async () => {
    await sys?.close();
    await fake.stop();
  });
  beforeEach(() => fake.reset());

  it('fields stay within the documented lengths (cut on characters); key lines become label/value pairs', async () => {
    const r = await channel.send(dest, msg());
    expect(r.ok).toBe(true);
    const card = fake.sent[0] as Card & { body: { template_card: { horizontal_content_list: Array<{ keyname: string; value: string }>; sub_title_text: string } } };
    expect(card.warnings).toEqual([]);
    const tc = card.body.template_card;
    expect(tc.main_title.title.endsWith('…')).toBe(true);
    expect(tc.horizontal_content_list.length).toBeLessThanOrEqual(6);
    expect(tc.horizontal_content_list[0]).toEqual({ keyname: '风险单元', value: '液氯储罐 V-101A/B' });
    // lines that do not fit a 5-character label / 26-character value are kept as text
    expect(tc.horizontal_content_list.map((h) => h.keyname)).toEqual(['风险单元', '整改期限', '整改责任人', '验收人', '隐患编号', '预警编号']);
    expect(tc.sub_title_text).toContain('排查时段：2026-11-30 08:00 ～ 2026-11-30 12:00');
    // a 7th label/value line does not fit the list of 6
    expect(tc.sub_title_text).toContain('注意：未找到以下角色的人员：技术负责人');
    expect([...tc.sub_title_text].length).toBeLessThanOrEqual(WECOM_CARD_LIMITS.subTitleText);
  });

  it('the same firing sent twice gets two task ids (WeCom refuses a duplicate task_id; its duplicate check never swallows a repeat)', async () => {
    const a = await channel.send(dest, msg());
    const b = await channel.send(dest, msg());
    expect(a.ok && b.ok).toBe(true);
    expect(fake.sent.map((s) => s.taskId)[0]).not.toBe(fake.sent[1].taskId);
    expect(fake.sent.every((s) => s.delivered.length === 1)).toBe(true);
  });

  it('some recipients unknown: still sent, the invalid ones recorded lower-cased; a card to several has no 处置 link', async () => {
    const r = await channel.send(dest, msg({ recipients: [{ personId: 16, name: '胡婷', wecomUserId: 'HuTing' }, { personId: 99, name: '某人', wecomUserId: 'Ghost.User' }] }));
    expect(r).toMatchObject({ ok: true, sent: { invalidUsers: ['ghost.user'] } });
    expect((fake.sent[0] as Card).body.template_card.button_list.map((b) => b.text)).toEqual(['确认']);
  });

  it('every recipient unknown: 81013, permanent; nobody with a userid: permanent without a call', async () => {
    expect(await channel.send(dest, msg({ recipients: [{ personId: 99, name: '某人', wecomUserId: 'Ghost' }] }))).toMatchObject({ ok: false, permanent: true, error: expect.stringContaining('81013') });
    const calls = fake.sent.length + fake.rejected.length;
    expect(await channel.send(dest, msg({ recipients: [{ personId: 9, name: '无账号', wecomUserId: null }] }))).toMatchObject({ ok: false, permanent: true });
    expect(fake.sent.length + fake.rejected.length).toBe(calls);
  });

  it('a member who already got 30 cards this minute: the 31st waits (WeCom would drop it silently)', async () => {
    const limited = new WecomAppChannel({
      api: sys.rt.wecomApi!,
      agentId: AGENT,
      memberThrottle: createRedisThrottle(sys.rt.redis, { prefix: `${sys.prefix}:member-test`, limit: 30, windowMs: 61_000 }),
    });
    const results = [];
    for (let i = 0; i < 31; i++) results.push(await limited.send(dest, msg({ recipients: [{ personId: 6, name: '刘洋', wecomUserId: 'LiuYang' }], links: [] })));
    expect(results.slice(0, 30).every((r) => r.ok)).toBe(true);
    expect(results[30]).toMatchObject({ ok: false, retryAfterMs: expect.any(Number) });
    expect((results[30] as { permanent?: boolean }).permanent).toBeFalsy();
    expect(fake.sent).toHaveLength(30);
    expect(fake.sent.every((s) => s.dropped.length === 0)).toBe(true);
  });
});
