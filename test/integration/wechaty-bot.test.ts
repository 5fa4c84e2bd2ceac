/**
 * The wechaty bot (issue #4, item 3) end to end on the demo plant, with wechaty 1.20 and
 * wechaty-puppet-mock: the runtime runs the `bot` role with a PuppetMock, the scheduler's tick and
 * relay run by hand (manual clock), delivery goes through the bot's own bull queue on real Redis.
 *
 * WeChat group 加氢装置安全群 = ChatDestination `wx1` (channel wechat_group) with 黄涛 (p12) and
 * 周建国 (p01), whose contacts are bound, and 吴海峰 (p02), whose contact (路人甲) is not.
 * Facts of the mock (protocols.md §5.4): it drops the mention ids of the bot's own posts, so
 * mentions are checked through the `@Name\u2005… ` prefix wechaty writes; every room gets an explicit
 * member list. Waits are on events (the puppet's message events, the bot's `handled`), never sleeps.
 */
import { EventEmitter } from 'node:events';
import { WechatyBuilder } from 'wechaty';
import { PuppetMock, mock } from 'wechaty-puppet-mock';
import { FileBox } from 'file-box';
import { createTestSystem, type TestSystem } from '../helpers/system';
import { phoneJpeg, TEST_GPS } from '../helpers/images';
import { alertCode } from '../../server/domain/render';
import { addressedTo } from '../../server/services/alert-actions';
import { issueBindingCode } from '../../server/services/identity';
import { SEND_INTERRUPTED } from '../../server/jobs/delivery';
import type { WechatBot, WechatHandledEvent } from '../../bot/wechat-bot';

const BOT_NAME = '安全助手';
const TOPIC = '加氢装置安全群';
const MIN = 60_000;

type MockContact = ReturnType<mock.Mocker['createContact']>;
type MockRoom = ReturnType<mock.Mocker['createRoom']>;

interface Post {
  id: string;
  roomId: string | null;
  text: string;
}

interface Ctx {
  sys: TestSystem;
  mocker: mock.Mocker;
  puppet: PuppetMock;
  bot: WechatBot;
  me: MockContact;
  huang: MockContact;
  zhou: MockContact;
  stranger: MockContact;
  room: MockRoom;
  /** what the bot account posted (seen on the puppet, so also while logged out) */
  posts: Post[];
  postEvents: EventEmitter;
  handled: WechatHandledEvent[];
  p01: number;
  p02: number;
  p12: number;
}

async function setup(env: Record<string, string> = {}): Promise<Ctx> {
  const mocker = new mock.Mocker();
  const puppet = new PuppetMock({ mocker });
  const sys = await createTestSystem({ env: { ROLES: 'bot', WECHATY_PUPPET: 'wechaty-puppet-mock', ROBOT_RATE_LIMIT: '500', ...env }, wechatyPuppet: puppet });
  const prisma = sys.rt.prisma;
  const [p01, p02, p12] = [await sys.person('p01'), await sys.person('p02'), await sys.person('p12')];

  const me = mocker.createContact({ name: BOT_NAME });
  const huang = mocker.createContact({ name: '黄涛' });
  const zhou = mocker.createContact({ name: '周建国' });
  const stranger = mocker.createContact({ name: '路人甲' });
  const room = mocker.createRoom({ topic: TOPIC, memberIdList: [me.id, huang.id, zhou.id, stranger.id] });

  await prisma.chatDestination.create({
    data: { enterpriseId: sys.enterpriseId!, code: 'wx1', name: TOPIC, channel: 'wechat_group', members: { create: [{ personId: p12 }, { personId: p01 }, { personId: p02 }] } },
  });
  const now = sys.clock.now();
  await prisma.chatIdentity.createMany({
    data: [
      { enterpriseId: sys.enterpriseId!, personId: p12, platform: 'wechat', externalId: huang.id, displayName: '黄涛', via: 'binding_code', boundAt: now },
      { enterpriseId: sys.enterpriseId!, personId: p01, platform: 'wechat', externalId: zhou.id, displayName: '周建国', via: 'binding_code', boundAt: now },
    ],
  });

  const posts: Post[] = [];
  const postEvents = new EventEmitter();
  puppet.on('message', ({ messageId }) => {
    const p = mocker.messagePayload(messageId);
    if (p.talkerId !== me.id) return;
    const post = { id: messageId, roomId: 'roomId' in p && p.roomId ? p.roomId : null, text: p.text ?? '' };
    posts.push(post);
    postEvents.emit('post', post);
  });

  await sys.rt.start();
  const bot = sys.rt.wechatBot!;
  const handled: WechatHandledEvent[] = [];
  bot.events.on('handled', (h: WechatHandledEvent) => handled.push(h));
  const loggedIn = new Promise((r) => bot.events.once('login', r));
  mocker.login(me);
  await loggedIn;
  return { sys, mocker, puppet, bot, me, huang, zhou, stranger, room, posts, postEvents, handled, p01, p02, p12 };
}

/** The next post (or one already made) matching `pred`. */
function postMatching(c: Ctx, pred: (p: Post) => boolean): Promise<Post> {
  const found = c.posts.find(pred);
  if (found) return Promise.resolve(found);
  return new Promise((resolve) => {
    const on = (p: Post) => {
      if (!pred(p)) return;
      c.postEvents.off('post', on);
      resolve(p);
    };
    c.postEvents.on('post', on);
  });
}

/** Resolves with the bot's handling of the next message from `talker` (registered before the message is sent). */
function nextHandled(c: Ctx, talker: MockContact): Promise<WechatHandledEvent> {
  return new Promise((resolve) => {
    const on = (h: WechatHandledEvent) => {
      if (h.talkerId !== talker.id) return;
      c.bot.events.off('handled', on);
      resolve(h);
    };
    c.bot.events.on('handled', on);
  });
}

/** `talker` says `text` (or a file) in the room (mentioning `mentions`); resolves once the bot handled it. */
async function say(c: Ctx, talker: MockContact, what: string | FileBox, mentions: MockContact[] = [], to: MockRoom | MockContact = c.room): Promise<WechatHandledEvent> {
  const done = nextHandled(c, talker);
  talker.say(what as never, mentions).to(to);
  return done;
}

/** The 重大隐患 alert (加氢装置紧急停车系统旁路未恢复投用), addressed to p12 and p01. */
async function majorAlert(c: Ctx) {
  const alerts = await c.sys.rt.prisma.alert.findMany({ where: { kind: 'major_hazard' }, orderBy: { id: 'asc' } });
  const a = alerts.find((x) => x.title.includes('紧急停车系统旁路'));
  if (!a) throw new Error('no major-hazard alert');
  expect(addressedTo(a.recipients, a.level)).toEqual(expect.arrayContaining([c.p12, c.p01]));
  return a;
}

/** Fires what is due and hands the wechat notifications to the bot's queue. */
async function fire(c: Ctx): Promise<void> {
  await c.sys.rt.generateOnce();
  await c.sys.rt.tickOnce();
  await c.sys.rt.relayOnce();
}

type Row = Awaited<ReturnType<TestSystem['rt']['prisma']['notification']['findMany']>>[number];

/**
 * Resolves with the wechat_bot rows once `pred` holds for all of them, checking now and after each
 * job the bot's worker completes (bull 'completed' events of its queue — no polling, no sleeps).
 */
function untilRows(c: Ctx, pred: (rows: Row[]) => boolean, where: { id?: { in: number[] }; alertId?: number } = {}): Promise<Row[]> {
  const q = c.sys.rt.wechatQueue!;
  return new Promise((resolve, reject) => {
    let checking = false;
    let again = false;
    const check = async () => {
      if (checking) return void (again = true);
      checking = true;
      try {
        do {
          again = false;
          const rows = await c.sys.rt.prisma.notification.findMany({ where: { channel: 'wechat_bot', ...where }, orderBy: { id: 'asc' } });
          if (rows.length && pred(rows)) {
            q.off('completed', onDone);
            return resolve(rows);
          }
        } while (again);
      } catch (e) {
        q.off('completed', onDone);
        reject(e);
      } finally {
        checking = false;
      }
    };
    const onDone = () => void check();
    q.on('completed', onDone);
    void check();
  });
}

const FINAL = ['sent', 'dead', 'cancelled'];

/** Waits until every wechat_bot notification has been delivered or given up. */
function allPosted(c: Ctx): Promise<Row[]> {
  return untilRows(c, (rows) => rows.every((n) => FINAL.includes(n.state)));
}

let c: Ctx | undefined;
afterEach(async () => {
  if (!c) return;
  await c.sys.close();
  c = undefined;
});

describe('wechaty bot on the demo plant (PuppetMock)', () => {
  test('full loop: alert posted into 加氢装置安全群 with real @mentions → @安全助手 确认 A<id> → acknowledged as 黄涛 via wechat → confirmed in the room; a quote reply 处置 applies to the quoted alert', async () => {
    c = await setup();
    await fire(c);
    const alert = await majorAlert(c);
    const code = alertCode(alert.id);

    // outbound: the bound recipients are @-mentioned (wechaty's prefix: @name, U+2005 between, a space)
    const post = await postMatching(c, (p) => p.roomId === c!.room.id && p.text.includes(`告警 ${code}`));
    const [n] = await untilRows(c, (rs) => rs[0].state === 'sent', { alertId: alert.id });
    const recipients = n.recipients as number[];
    expect(recipients).toEqual(expect.arrayContaining([c.p12, c.p01]));
    const bound = new Map([
      [c.p12, '黄涛'],
      [c.p01, '周建国'],
    ]);
    const mentioned = recipients.filter((r) => bound.has(r)).map((r) => `@${bound.get(r)}`);
    expect(post.text.startsWith(`${mentioned.join('\u2005')} `)).toBe(true);
    // 吴海峰 (p02, not bound) is named when he is a recipient, never @-mentioned
    expect(post.text).not.toContain('@吴海峰');
    expect(post.text).toContain(`在群里回复「@${BOT_NAME} 确认 ${code}」`);
    // each recipient's signed link is in the text
    expect(post.text).toMatch(/黄涛：http:\/\/dualprev\.test\/\S+/);
    const delivered = (n.payload as { delivered: { roomTopic: string; mentions: Array<{ personId: number; contactId: string }> } }).delivered;
    expect(delivered.roomTopic).toBe(TOPIC);
    expect(delivered.mentions.map((m) => m.contactId).sort()).toEqual([c.huang.id, c.zhou.id].sort());
    // one post per notification
    expect(c.posts.filter((p) => p.text.includes(`告警 ${code} · 第${n.level}级`))).toHaveLength(1);

    // inbound: 黄涛 answers in the group
    const h = await say(c, c.huang, `@${BOT_NAME}\u2005确认 ${code}`, [c.me]);
    expect(h).toMatchObject({ status: 'replied', kind: 'command', applied: true, alertId: alert.id });
    const after = await c.sys.rt.prisma.alert.findUniqueOrThrow({ where: { id: alert.id } });
    expect(after.state).toBe('acknowledged');
    expect(after.ackedById).toBe(c.p12);
    const ev = await c.sys.rt.prisma.alertEvent.findFirstOrThrow({ where: { alertId: alert.id, type: 'acknowledged' } });
    expect(ev.channel).toBe('wechat');
    expect(ev.actorId).toBe(c.p12);
    // the bot confirms in the room, @-mentioning him
    const confirm = await postMatching(c, (p) => p.roomId === c!.room.id && p.text.includes(`已确认 ${code}`));
    expect(confirm.text.startsWith('@黄涛 ')).toBe(true);

    // 周建国 quotes the alert message (WeChat's quote format) without @: 处置 applies to the quoted code
    const quote = `「${BOT_NAME}：【重大隐患】加氢装置紧急停车系统旁路未恢复投用 … 告警 ${code} · 第1级」\n- - - - - - - - - - - - - - -\n处置 已安排仪表班恢复联锁`;
    const q = await say(c, c.zhou, quote);
    expect(q).toMatchObject({ status: 'replied', kind: 'command', applied: true, alertId: alert.id });
    const handledEv = await c.sys.rt.prisma.alertEvent.findFirstOrThrow({ where: { alertId: alert.id, type: 'handled' } });
    expect(handledEv).toMatchObject({ channel: 'wechat', actorId: c.p01 });
    expect((await c.sys.rt.prisma.alert.findUniqueOrThrow({ where: { id: alert.id } })).handleNote).toBe('已安排仪表班恢复联锁');
  });

  test('photo + 隐患 法兰渗漏 from a bound person → a hazard reported by them with that photo (StoredFile with thumbnail, EXIF position); from an unbound contact nothing, the reply says how to bind; 绑定 <code> binds them', async () => {
    c = await setup();
    const prisma = c.sys.rt.prisma;
    const jpeg = await phoneJpeg();

    // 黄涛: a photo, then the text (no @ needed while his photo waits)
    expect(await say(c, c.huang, FileBox.fromBase64(jpeg.toString('base64'), 'leak.jpg'))).toMatchObject({ status: 'photo_kept' });
    const r = await say(c, c.huang, '隐患 法兰渗漏');
    expect(r).toMatchObject({ status: 'replied', kind: 'hazard', applied: true });
    const hz = await prisma.hazard.findUniqueOrThrow({ where: { id: (r as { hazardId: number }).hazardId } });
    expect(hz).toMatchObject({ name: '法兰渗漏', reporterId: c.p12, state: 'reported', riskUnitId: null, dangerSrc: 1, hazardDangerType: 8 });
    expect(Number(hz.latitude)).toBeCloseTo(TEST_GPS.latitude, 5);
    expect(Number(hz.longitude)).toBeCloseTo(TEST_GPS.longitude, 5);
    const photoIds = hz.photos as number[];
    expect(photoIds).toHaveLength(1);
    const file = await prisma.storedFile.findUniqueOrThrow({ where: { id: photoIds[0] } });
    expect(file).toMatchObject({ enterpriseId: c.sys.enterpriseId, uploadedById: c.p12, mime: 'image/jpeg', originalName: 'leak.jpg' });
    expect(file.thumbKey).toBeTruthy();
    expect(await prisma.hazardTransition.count({ where: { hazardId: hz.id, action: 'report', actorId: c.p12 } })).toBe(1);
    const reply = await postMatching(c, (p) => p.text.includes(`已上报隐患 ${hz.code}`));
    expect(reply.text.startsWith('@黄涛 ')).toBe(true);
    // the photo was used: the same text again is not a second report
    const again = await say(c, c.huang, '隐患 法兰渗漏');
    expect(again).toMatchObject({ status: 'ignored', reason: 'not_addressed' });

    // 路人甲, not bound: a photo and the same text → nothing stored, told how to bind
    const hazards = await prisma.hazard.count();
    const files = await prisma.storedFile.count();
    expect(await say(c, c.stranger, FileBox.fromBase64(jpeg.toString('base64'), 'leak2.jpg'))).toMatchObject({ status: 'photo_kept' });
    const s = await say(c, c.stranger, '隐患 法兰渗漏');
    expect(s).toMatchObject({ status: 'replied', kind: 'not_bound', applied: false, person: null });
    expect((s as { reply: string }).reply).toContain('绑定 123456');
    await postMatching(c, (p) => p.text.startsWith('@路人甲 ') && p.text.includes('尚未绑定'));
    expect(await prisma.hazard.count()).toBe(hazards);
    expect(await prisma.storedFile.count()).toBe(files);

    // commands from him change nothing either; the reply is the same hint
    await fire(c);
    await allPosted(c);
    const alert = await majorAlert(c);
    const before = await prisma.alertEvent.count({ where: { alertId: alert.id } });
    expect(await say(c, c.stranger, `@${BOT_NAME} 确认 ${alertCode(alert.id)}`, [c.me])).toMatchObject({ kind: 'not_bound', applied: false });
    expect(await prisma.alertEvent.count({ where: { alertId: alert.id } })).toBe(before);
    expect((await prisma.alert.findUniqueOrThrow({ where: { id: alert.id } })).state).toBe('open');

    // 绑定 with 吴海峰's code (shown on his link page) binds the contact to him
    const { code } = await issueBindingCode(prisma, c.sys.clock, c.p02);
    const b = await say(c, c.stranger, `@${BOT_NAME} 绑定 ${code}`, [c.me]);
    expect(b).toMatchObject({ status: 'replied', kind: 'bind', applied: true });
    expect((b as { reply: string }).reply).toContain('吴海峰');
    expect(await prisma.chatIdentity.findUniqueOrThrow({ where: { platform_externalId: { platform: 'wechat', externalId: c.stranger.id } } })).toMatchObject({ personId: c.p02, via: 'binding_code' });
    // now his photo report goes through, as 吴海峰
    await say(c, c.stranger, FileBox.fromBase64(jpeg.toString('base64'), 'leak3.jpg'));
    const ok = await say(c, c.stranger, '隐患：罐区法兰渗漏\n位置：V-101A 出口');
    expect(ok).toMatchObject({ kind: 'hazard', applied: true });
    const h2 = await prisma.hazard.findUniqueOrThrow({ where: { id: (ok as { hazardId: number }).hazardId } });
    expect(h2).toMatchObject({ name: '罐区法兰渗漏', description: '罐区法兰渗漏\n位置：V-101A 出口', reporterId: c.p02 });
  });

  test('a photo waits 2 minutes for its 隐患 text; later, or from someone else, it files nothing; @bot 隐患 without a photo asks for one; direct messages work', async () => {
    c = await setup();
    const prisma = c.sys.rt.prisma;
    const jpeg = await phoneJpeg({ gps: false });
    const hazards = await prisma.hazard.count();

    await say(c, c.huang, FileBox.fromBase64(jpeg.toString('base64'), 'a.jpg'));
    // someone else's text does not take 黄涛's photo
    expect(await say(c, c.zhou, '隐患 法兰渗漏')).toMatchObject({ status: 'ignored', reason: 'not_addressed' });
    c.sys.clock.advance(2 * MIN + 1000);
    expect(await say(c, c.huang, '隐患 法兰渗漏')).toMatchObject({ status: 'ignored', reason: 'not_addressed' });
    const ask = await say(c, c.huang, `@${BOT_NAME} 隐患 法兰渗漏`, [c.me]);
    expect(ask).toMatchObject({ kind: 'hazard', applied: false });
    expect((ask as { reply: string }).reply).toContain('请先发送现场照片');
    expect(await prisma.hazard.count()).toBe(hazards);

    // talk about 隐患 in the group after a photo is not a report (no separator after the word)
    await say(c, c.huang, FileBox.fromBase64(jpeg.toString('base64'), 'b.jpg'));
    expect(await say(c, c.huang, '隐患排查今天都做完了')).toMatchObject({ status: 'ignored', reason: 'not_addressed' });

    // a direct message to the bot: photo + 隐患, reply to him directly
    await say(c, c.huang, FileBox.fromBase64(jpeg.toString('base64'), 'c.jpg'), [], c.me);
    const dm = await say(c, c.huang, '隐患 泵房地面油污', [], c.me);
    expect(dm).toMatchObject({ kind: 'hazard', applied: true, roomId: null });
    const h = await prisma.hazard.findUniqueOrThrow({ where: { id: (dm as { hazardId: number }).hazardId } });
    expect(h).toMatchObject({ name: '泵房地面油污', reporterId: c.p12, latitude: null });
    // 查询 in a direct message needs no @
    expect(await say(c, c.huang, '查询', [], c.me)).toMatchObject({ status: 'replied', kind: 'command' });
    expect(await prisma.hazard.count()).toBe(hazards + 1);
  });

  test('a photo over UPLOAD_MAX_BYTES: no report, nothing stored, the reply says why', async () => {
    c = await setup({ UPLOAD_MAX_BYTES: '4096' });
    const prisma = c.sys.rt.prisma;
    const big = await phoneJpeg({ width: 1600, height: 1200 });
    expect(big.length).toBeGreaterThan(4096);
    const [hazards, files] = [await prisma.hazard.count(), await prisma.storedFile.count()];
    await say(c, c.huang, FileBox.fromBase64(big.toString('base64'), 'big.jpg'));
    const r = await say(c, c.huang, '隐患 法兰渗漏');
    expect(r).toMatchObject({ kind: 'hazard', applied: false });
    expect((r as { reply: string }).reply).toMatch(/^隐患未上报：文件「big\.jpg」过大/);
    expect([await prisma.hazard.count(), await prisma.storedFile.count()]).toEqual([hazards, files]);
  });

  test('never acts outside its groups or on chatter: another room, messages not for the bot, its own posts', async () => {
    c = await setup();
    const prisma = c.sys.rt.prisma;
    const selfSeen = nextHandled(c, c.me);
    await fire(c);
    await allPosted(c);
    // the bot sees its own posts come back as messages, and ignores them
    expect(await selfSeen).toMatchObject({ status: 'ignored', reason: 'self' });
    const alert = await majorAlert(c);
    const code = alertCode(alert.id);
    const other = c.mocker.createRoom({ topic: '家人群', memberIdList: [c.me.id, c.huang.id] });
    expect(await say(c, c.huang, `@${BOT_NAME} 确认 ${code}`, [c.me], other)).toMatchObject({ status: 'ignored', reason: 'unknown_room' });
    expect(await say(c, c.huang, `确认 ${code}`)).toMatchObject({ status: 'ignored', reason: 'not_addressed' });
    expect(await say(c, c.huang, '收到')).toMatchObject({ status: 'ignored', reason: 'not_addressed' });
    expect((await prisma.alert.findUniqueOrThrow({ where: { id: alert.id } })).state).toBe('open');
    expect(c.handled.filter((h) => h.talkerId === c!.me.id).every((h) => h.status === 'ignored' && h.reason === 'self')).toBe(true);
  });

  test('logout → alerts wait in the queue (nothing posted) → login → each posted once, nothing posted earlier is posted again', async () => {
    c = await setup();
    const prisma = c.sys.rt.prisma;
    await fire(c);
    const first = await allPosted(c);
    expect(first.length).toBeGreaterThan(0);
    expect(first.every((n) => n.state === 'sent')).toBe(true);
    const postsBefore = c.posts.length;

    const loggedOut = new Promise((r) => c!.bot.events.once('logout', r));
    await c.puppet.logout('test: account kicked out');
    await loggedOut;
    expect(c.bot.isLoggedIn).toBe(false);

    // a day later the 重大隐患 alert repeats (and others escalate) while the bot is logged out
    c.sys.clock.advance(24 * 3600_000 + MIN);
    await fire(c);
    const waiting = await prisma.notification.findMany({ where: { channel: 'wechat_bot', id: { gt: first[first.length - 1].id } } });
    expect(waiting.length).toBeGreaterThan(0);
    expect(waiting.every((n) => n.state === 'queued')).toBe(true);
    expect(await c.sys.rt.wechatQueue!.getWaitingCount()).toBe(waiting.length);
    expect(c.posts.length).toBe(postsBefore);

    const loggedIn = new Promise((r) => c!.bot.events.once('login', r));
    c.mocker.login(c.me);
    await loggedIn;
    const all = await allPosted(c);
    expect(all.every((n) => n.state === 'sent')).toBe(true);
    // exactly one post per notification: the texts posted are the texts recorded, each once
    const texts = c.posts.filter((p) => p.text.includes('告警 A')).map((p) => p.text).sort();
    const recorded = all.map((n) => (n.payload as { delivered: { text: string } }).delivered.text).sort();
    expect(texts).toEqual(recorded);
    // the sweep finds nothing to resend either
    c.sys.clock.advance(10 * MIN);
    expect(await c.sys.rt.sweepOnce()).toBe(0);
    expect(c.posts.filter((p) => p.text.includes('告警 A')).length).toBe(all.length);
  });

  test('a bot that died during a post: the sweep dead-letters the row (maybe posted) instead of posting it again; one that died before posting is posted once', async () => {
    c = await setup();
    const prisma = c.sys.rt.prisma;
    await fire(c);
    const sent = await allPosted(c);
    expect(sent.length).toBeGreaterThanOrEqual(2);
    const [a, b] = sent;
    const now = c.sys.clock.now();
    const staleLease = new Date(now.getTime() - 1000);
    // a: the worker had written the start of the post (sentAt) and died; b: it died right after claiming
    await prisma.notification.update({ where: { id: a.id }, data: { state: 'sending', sentAt: new Date(now.getTime() - 6 * MIN), nextAttemptAt: staleLease } });
    await prisma.notification.update({ where: { id: b.id }, data: { state: 'sending', sentAt: null, nextAttemptAt: staleLease } });
    const postsBefore = c.posts.length;

    expect(await c.sys.rt.sweepOnce()).toBe(2);
    const ra = await prisma.notification.findUniqueOrThrow({ where: { id: a.id } });
    expect(ra).toMatchObject({ state: 'dead', lastError: SEND_INTERRUPTED });
    // …and the alert's history says so, naming the message: nothing left untraced
    const ev = await prisma.alertEvent.findFirstOrThrow({ where: { alertId: a.alertId, type: 'delivery_failed' } });
    expect(ev).toMatchObject({ channel: a.channel });
    expect(ev.note).toContain(SEND_INTERRUPTED);
    expect((ev.data as { notificationId: number }).notificationId).toBe(a.id);
    expect(await prisma.alertEvent.count({ where: { alertId: b.alertId, type: 'delivery_failed' } })).toBe(a.alertId === b.alertId ? 1 : 0);
    expect((await prisma.notification.findUniqueOrThrow({ where: { id: b.id } })).state).toBe('pending');

    await c.sys.rt.relayOnce();
    const textB = (b.payload as { delivered: { text: string } }).delivered.text;
    await untilRows(c, (rs) => rs[0].state === 'sent', { id: { in: [b.id] } });
    const newPosts = c.posts.slice(postsBefore).filter((p) => p.text.includes('告警 A'));
    expect(newPosts).toHaveLength(1);
    expect(newPosts[0].text.replace(/http:\/\/\S+/g, '')).toBe(textB.replace(/http:\/\/\S+/g, ''));
    // a stays dead: nothing relays it
    expect(await c.sys.rt.relayOnce()).toBe(0);
    expect((await prisma.notification.findUniqueOrThrow({ where: { id: a.id } })).state).toBe('dead');
  });

  test('the room is found by topic: a group renamed in WeChat (no room with the destination name) → retried with backoff, posted once the name matches again', async () => {
    c = await setup();
    const prisma = c.sys.rt.prisma;
    // the topic changed in WeChat: the destination's name no longer matches any room
    await prisma.chatDestination.updateMany({ where: { code: 'wx1' }, data: { name: '加氢装置安全群（旧）' } });
    await fire(c);
    const rows = await prisma.notification.findMany({ where: { channel: 'wechat_bot' } });
    expect(rows.length).toBeGreaterThan(0);
    const failed = await untilRows(c, (rs) => rs.every((n) => n.state === 'pending' && n.attempts === 1));
    expect(failed[0].lastError).toContain('no room with topic "加氢装置安全群（旧）"');
    expect(c.posts.filter((p) => p.text.includes('告警 A'))).toHaveLength(0);

    // fixed: the name is the topic again; the retries are posted
    await prisma.chatDestination.updateMany({ where: { code: 'wx1' }, data: { name: TOPIC } });
    c.sys.clock.advance(MIN);
    await c.sys.rt.relayOnce();
    const done = await untilRows(c, (rs) => rs.every((n) => n.state === 'sent'));
    expect(done).toHaveLength(rows.length);
    expect(done.every((n) => n.attempts === 2)).toBe(true);
  });
});

describe('wechaty and the mock load under jest (CJS)', () => {
  test('room.say(text, ...contacts) writes @name joined by U+2005; mentionSelf is async', async () => {
    const mocker = new mock.Mocker();
    const bot = WechatyBuilder.build({ puppet: new PuppetMock({ mocker }) });
    await bot.start();
    try {
      const me = mocker.createContact({ name: BOT_NAME });
      const a = mocker.createContact({ name: 'Alice' });
      const b = mocker.createContact({ name: 'Bob' });
      const room = mocker.createRoom({ topic: 'T', memberIdList: [me.id, a.id, b.id] });
      const login = new Promise((r) => bot.once('login', r));
      mocker.login(me);
      await login;
      const seen = new Promise<{ text: string; self: boolean; mentionSelf: boolean }>((resolve) =>
        bot.on('message', async (m) => {
          if (m.self()) resolve({ text: m.text(), self: true, mentionSelf: await m.mentionSelf() });
        }),
      );
      const r = await bot.Room.find({ topic: 'T' });
      const [ca, cb] = await Promise.all([bot.Contact.find({ id: a.id }), bot.Contact.find({ id: b.id })]);
      await r!.say('hi', ca!, cb!);
      expect(await seen).toEqual({ text: '@Alice\u2005@Bob hi', self: true, mentionSelf: false });
      void room;
    } finally {
      await bot.stop();
    }
  });
});
