/**
 * Alerts as WeChat one-time subscribe messages (issue #5 item 4; channels/wechat-subscribe.ts)
 * against the fake WeChat server, which validates every keyword like WeChat (47003) and counts
 * consents per (openid, template) (43101):
 * - values are fitted to their keyword types: a 35-character place name and a 6-character phrase
 *   are shortened, not rejected;
 * - one consent is spent per message (never twice), given back when WeChat did not use it;
 * - routing: only people with a consent left are routed to `wechat_subscribe`; the others get
 *   their other channel (group robot / outbox) at once;
 * - delivery fallback (jobs/delivery.ts): a consent gone by delivery time (spent meanwhile, or
 *   43101) re-routes the message to the person's other route — the outbox, or nothing new when a
 *   group robot already @mentioned them in this firing.
 */
import { createTestSystem, T0, type TestSystem } from '../helpers/system';
import { insertDueAlerts, quietDemoPlant } from '../helpers/alert-fixtures';
import { FakeWechat, wechatAcceptsValue } from '../fakes/wechat';
import { FakeWecomRobot } from '../fakes/wecom-robot';
import { renderAlertMessage } from '../../server/domain/render';
import { WECHAT_SUBSCRIBE_CHANNEL, WechatSubscribeChannel } from '../../server/channels/wechat-subscribe';
import { OUTBOX_CHANNEL } from '../../server/domain/routing';

const APPID = 'wx00112233445566ff';
const SECRET = 'fake-secret-subscribe';
const TEMPLATE = 'TMPL_alert_subscribe';
const KEYWORDS = ['thing1', 'time2', 'thing3', 'phrase4', 'character_string5'];
const PLACE_35 = '一号罐区液氯储罐V-101A及V-101B区域东侧装卸栈台紧急切断阀组';

let sys: TestSystem;
let fake: FakeWechat;
const robot = new FakeWecomRobot();
let p07: number;
let p16: number;

const consent = async (personId: number) => (await sys.rt.prisma.subscribeConsent.findUnique({ where: { personId_templateId: { personId, templateId: TEMPLATE } } }))?.remaining ?? 0;
const setConsent = (personId: number, remaining: number) =>
  sys.rt.prisma.subscribeConsent.upsert({ where: { personId_templateId: { personId, templateId: TEMPLATE } }, create: { personId, templateId: TEMPLATE, remaining }, update: { remaining } });
const message = (personId: number, unitName: string | null = '液氯储罐 V-101A/B') =>
  renderAlertMessage({
    alertId: 41,
    kind: 'hazard_overdue',
    detail: { type: 'hazard', tz: 'Asia/Shanghai', hazardCode: 'YH202611200001', hazardName: 'V-101B 远传液位与现场液位计偏差超过5%', unitName, dangerLevel: 0, deadlineDate: '2026-11-25' },
    level: 2,
    reason: 'escalate',
    now: sys.clock.now(),
    recipients: [{ personId, name: '测试' }],
  });
const dest = { id: null, code: WECHAT_SUBSCRIBE_CHANNEL, channel: WECHAT_SUBSCRIBE_CHANNEL };

beforeAll(async () => {
  fake = new FakeWechat({ appId: APPID, secret: SECRET, now: () => sys?.clock.now().getTime() ?? T0.getTime() });
  await fake.start();
  fake.addTemplate(TEMPLATE, KEYWORDS);
  fake.pages = ['pages/index/index'];
  await robot.start();
  robot.addKey('k-g1');
  sys = await createTestSystem({
    now: T0,
    env: {
      WECHAT_APPID: APPID,
      WECHAT_SECRET: SECRET,
      WECHAT_API_BASE: fake.base,
      WECHAT_SUBSCRIBE_TEMPLATE_ALERT: TEMPLATE,
      // 罐区安全群 (p04 p05 p06 p07 p08) has a robot; 胡婷 (p16) is in no live group
      ROBOTS: JSON.stringify({ g1: { webhook: robot.webhookUrl('k-g1') } }),
    },
  });
  await quietDemoPlant(sys.rt.prisma);
  [p07, p16] = await Promise.all([sys.person('p07'), sys.person('p16')]);
  const eid = sys.enterpriseId!;
  for (const [personId, openid] of [[p07, 'o-p07'], [p16, 'o-p16']] as const) {
    await sys.rt.prisma.chatIdentity.create({ data: { enterpriseId: eid, personId, platform: 'miniprogram', externalId: openid, via: 'phone', boundAt: T0 } });
    fake.addUser(openid);
  }
}, 120_000);
afterAll(async () => {
  await sys?.close();
  await fake?.stop();
  await robot.stop();
});
afterEach(async () => {
  await sys.rt.prisma.notification.updateMany({ where: { state: { in: ['pending', 'queued', 'sending'] } }, data: { state: 'cancelled' } });
  await sys.rt.prisma.alert.updateMany({ data: { nextFireAt: null } });
  await sys.rt.prisma.subscribeConsent.deleteMany({});
  fake.clearConsents();
});

describe('the channel', () => {
  test('a 35-character place name and a 6-character phrase are shortened, not rejected by WeChat; one consent is spent', async () => {
    const channel = new WechatSubscribeChannel({
      prisma: sys.rt.prisma,
      api: sys.rt.wechatApi!,
      templateId: TEMPLATE,
      fields: { thing1: 'headline', time2: 'firedAt', thing3: 'place', phrase4: 'const:整改超期提醒', character_string5: 'alertCode' },
      page: 'pages/index/index',
      state: 'formal',
    });
    // as they are, WeChat refuses both values
    fake.grant('o-p16', TEMPLATE, 2);
    const raw = await sys.rt.wechatApi!.post('cgi-bin/message/subscribe/send', {
      touser: 'o-p16',
      template_id: TEMPLATE,
      data: { thing1: { value: '超期未整改' }, time2: { value: '2026年11月30日 12:00' }, thing3: { value: PLACE_35 }, phrase4: { value: '三级' }, character_string5: { value: 'A41' } },
    });
    expect(raw).toMatchObject({ ok: false, errcode: 47003, error: expect.stringContaining('argument invalid! data.thing3.value invalid') });
    expect(wechatAcceptsValue('phrase4', '整改超期提醒')).toBe(false);

    await setConsent(p16, 1);
    const sent = fake.subscribeSent.length;
    const r = await channel.send(dest, message(p16, PLACE_35));
    expect(r).toMatchObject({ ok: true });
    expect(fake.subscribeSent.length).toBe(sent + 1);
    const m = fake.subscribeSent[sent];
    expect(m).toMatchObject({ touser: 'o-p16', templateId: TEMPLATE, page: 'pages/index/index?alertId=41', state: 'formal' });
    expect(m.data).toEqual({
      thing1: { value: '超期未整改：V-101B 远传液位与现…' },
      time2: { value: '2026年11月30日 12:00' },
      thing3: { value: '一号罐区液氯储罐V-101A及V-10…' },
      phrase4: { value: '整改超期提' },
      character_string5: { value: 'A41' },
    });
    expect([...m.data.thing3.value].length).toBe(20);
    expect(await consent(p16)).toBe(0);
    // the answer recorded on the row names no openid
    expect(JSON.stringify((r as { sent: unknown }).sent)).not.toContain('o-p16');
  });

  test('no consent left → fallback without calling WeChat; 43101 → consent set to 0 and fallback', async () => {
    const channel = sys.rt.delivery.channels.get(WECHAT_SUBSCRIBE_CHANNEL)!;
    const calls = fake.calls['cgi-bin/message/subscribe/send'] ?? 0;
    expect(await channel.send(dest, message(p16))).toMatchObject({ ok: false, fallback: true, error: expect.stringContaining('no subscribe consent left') });
    expect(fake.calls['cgi-bin/message/subscribe/send'] ?? 0).toBe(calls);

    await setConsent(p16, 3); // we believe 3; WeChat knows none
    expect(fake.consentsLeft('o-p16', TEMPLATE)).toBe(0);
    expect(await channel.send(dest, message(p16))).toMatchObject({ ok: false, fallback: true, error: expect.stringContaining('43101') });
    expect(await consent(p16)).toBe(0);
  });

  test('a failure WeChat did not count gives the consent back: transient → retry later; 47003 → fallback', async () => {
    const channel = sys.rt.delivery.channels.get(WECHAT_SUBSCRIBE_CHANNEL)!;
    await setConsent(p16, 1);
    fake.failNext('cgi-bin/message/subscribe/send', -1);
    const busy = await channel.send(dest, message(p16));
    expect(busy).toMatchObject({ ok: false });
    expect((busy as { fallback?: boolean }).fallback).toBeUndefined();
    expect(await consent(p16)).toBe(1);
    fake.failNext('cgi-bin/message/subscribe/send', 47003);
    expect(await channel.send(dest, message(p16))).toMatchObject({ ok: false, fallback: true });
    expect(await consent(p16)).toBe(1);
  });

  test('two sends racing for the last consent: one message, one fallback', async () => {
    const channel = sys.rt.delivery.channels.get(WECHAT_SUBSCRIBE_CHANNEL)!;
    await setConsent(p16, 1);
    fake.grant('o-p16', TEMPLATE, 5);
    const sent = fake.subscribeSent.length;
    const rs = await Promise.all([channel.send(dest, message(p16)), channel.send(dest, message(p16))]);
    expect(rs.map((r) => (r.ok ? 'sent' : (r as { fallback?: boolean }).fallback ? 'fallback' : 'other')).sort()).toEqual(['fallback', 'sent']);
    expect(fake.subscribeSent.length).toBe(sent + 1);
    expect(await consent(p16)).toBe(0);
  });
});

describe('routing and the delivery fallback', () => {
  const fire = async (levels: number[][]) => {
    const [id] = await insertDueAlerts(sys.rt.prisma, { enterpriseId: sys.enterpriseId!, now: sys.clock.now(), kind: 'hazard_overdue', specs: [{ levels, conditionStartAt: new Date(sys.clock.now().getTime() - 3600_000), detail: { unitName: PLACE_35 } }] });
    await sys.rt.tickOnce();
    return id;
  };
  const rowsOf = (alertId: number) => sys.rt.prisma.notification.findMany({ where: { alertId }, orderBy: { id: 'asc' } });

  test('a person with a consent left gets the subscribe message (shortened fields), and the consent is spent', async () => {
    await setConsent(p16, 1);
    fake.grant('o-p16', TEMPLATE, 1);
    const id = await fire([[p16]]);
    expect((await rowsOf(id)).map((n) => [n.channel, n.recipients])).toEqual([[WECHAT_SUBSCRIBE_CHANNEL, [p16]]]);
    const sent = fake.subscribeSent.length;
    expect(await sys.deliverAll()).toEqual(['sent']);
    expect(fake.subscribeSent.length).toBe(sent + 1);
    expect(fake.subscribeSent[sent].data.thing3.value).toBe('一号罐区液氯储罐V-101A及V-10…');
    expect(await consent(p16)).toBe(0);
    expect((await rowsOf(id))[0].state).toBe('sent');
  });

  test('a person with no consent left is routed to their other channel at once (the outbox)', async () => {
    const id = await fire([[p16]]);
    expect((await rowsOf(id)).map((n) => [n.channel, n.recipients])).toEqual([[OUTBOX_CHANNEL, [p16]]]);
  });

  test('consent gone by delivery time (WeChat says 43101): a fallback notification reaches the person on the outbox', async () => {
    await setConsent(p16, 1); // we believe one is left; WeChat has none
    const id = await fire([[p16]]);
    const [first] = await rowsOf(id);
    expect(first.channel).toBe(WECHAT_SUBSCRIBE_CHANNEL);
    expect(await sys.deliverAll()).toEqual(['fallback']);
    const rows = await rowsOf(id);
    expect(rows.map((n) => [n.channel, n.state, n.recipients])).toEqual([
      [WECHAT_SUBSCRIBE_CHANNEL, 'cancelled', [p16]],
      [OUTBOX_CHANNEL, 'pending', [p16]],
    ]);
    expect(rows[0].lastError).toContain('43101');
    expect(rows[1].createdAt).toEqual(first.createdAt);
    expect(rows[1].escalationToken).toBe(first.escalationToken);
    expect(rows[1].payload).toMatchObject({ alertCode: `A${id}`, fallbackFrom: { notificationId: first.id, channel: WECHAT_SUBSCRIBE_CHANNEL }, recipients: [{ personId: p16 }] });
    expect(await consent(p16)).toBe(0);
    const event = await sys.rt.prisma.alertEvent.findFirstOrThrow({ where: { alertId: id, type: 'delivery_fallback' } });
    expect(event).toMatchObject({ channel: WECHAT_SUBSCRIBE_CHANNEL, data: { notificationId: first.id, fallbackIds: [rows[1].id], recipients: [p16] } });
    // the fallback is delivered there
    expect(await sys.deliverAll()).toEqual(['sent']);
    const delivered = await sys.rt.prisma.notification.findUniqueOrThrow({ where: { id: rows[1].id } });
    expect(delivered.state).toBe('sent');
    expect(JSON.stringify(delivered.payload)).toContain('确认/处置');
  });

  test('consent spent meanwhile by another message: the fallback goes out the same way', async () => {
    await setConsent(p16, 1);
    fake.grant('o-p16', TEMPLATE, 1);
    const id = await fire([[p16]]);
    await setConsent(p16, 0); // another alert's message took it
    expect(await sys.deliverAll()).toEqual(['fallback']);
    expect((await rowsOf(id)).map((n) => n.channel)).toEqual([WECHAT_SUBSCRIBE_CHANNEL, OUTBOX_CHANNEL]);
    expect(fake.consentsLeft('o-p16', TEMPLATE)).toBe(1);
  });

  test('a person a group robot already @mentioned in this firing: no second message in the group', async () => {
    await setConsent(p07, 1); // WeChat has none → 43101
    const id = await fire([[p07]]);
    expect((await rowsOf(id)).map((n) => n.channel)).toEqual(['wecom_robot', WECHAT_SUBSCRIBE_CHANNEL]);
    const outcomes = await sys.deliverAll();
    expect(outcomes.sort()).toEqual(['fallback', 'sent']);
    const rows = await rowsOf(id);
    expect(rows.map((n) => [n.channel, n.state])).toEqual([
      ['wecom_robot', 'sent'],
      [WECHAT_SUBSCRIBE_CHANNEL, 'cancelled'],
    ]);
    expect(rows[1].lastError).toContain('已在其所在群中发出');
    expect(robot.received.filter((m) => JSON.stringify(m).includes(`A${id}`))).toHaveLength(1);
  });
});

describe('the delivery fallback is general (any channel answering `fallback`)', () => {
  test('several recipients: the one a group already reached this firing gets nothing more, the other gets the outbox', async () => {
    const sendCalls: number[][] = [];
    sys.rt.delivery.channels.set('stub_personal', {
      name: 'stub_personal',
      send: async (_d, m) => {
        sendCalls.push(m.recipients.map((r) => r.personId));
        return { ok: false, fallback: true, error: 'stub: cannot reach them now' };
      },
    });
    try {
      const now = sys.clock.now();
      const [alertId] = await insertDueAlerts(sys.rt.prisma, { enterpriseId: sys.enterpriseId!, now: new Date(now.getTime() + 86_400_000), specs: [{ levels: [[p07, p16]], conditionStartAt: now }] });
      const alert = await sys.rt.prisma.alert.findUniqueOrThrow({ where: { id: alertId } });
      const g1 = await sys.rt.prisma.chatDestination.findFirstOrThrow({ where: { enterpriseId: sys.enterpriseId!, code: 'g1' } });
      const payload = { ...message(p07), alertCode: `A${alertId}`, recipients: [{ personId: p07, name: '赵小军' }, { personId: p16, name: '胡婷' }] };
      const base = { enterpriseId: sys.enterpriseId!, alertId, level: 1, escalationToken: alert.escalationToken, nextAttemptAt: now, createdAt: now, payload: payload as object };
      // this firing already went to 罐区安全群 @mentioning p07
      await sys.rt.prisma.notification.create({ data: { ...base, channel: 'wecom_robot', destinationId: g1.id, recipients: [p07], state: 'sent', sentAt: now } });
      const row = await sys.rt.prisma.notification.create({ data: { ...base, channel: 'stub_personal', recipients: [p07, p16], state: 'pending' } });
      expect(await sys.deliverAll()).toEqual(['fallback']);
      expect(sendCalls).toEqual([[p07, p16]]);
      const rows = await sys.rt.prisma.notification.findMany({ where: { alertId }, orderBy: { id: 'asc' } });
      expect(rows.map((n) => [n.channel, n.state, n.recipients])).toEqual([
        ['wecom_robot', 'sent', [p07]],
        ['stub_personal', 'cancelled', [p07, p16]],
        [OUTBOX_CHANNEL, 'pending', [p16]],
      ]);
      expect((rows[2].payload as { recipients: Array<{ personId: number }> }).recipients.map((r) => r.personId)).toEqual([p16]);
      expect(rows[1].lastError).toContain('stub: cannot reach them now');
      // an ack meanwhile cancels the fallback row too (same escalation token)
      await sys.rt.prisma.alert.update({ where: { id: alertId }, data: { escalationToken: { increment: 1 } } });
      expect(await sys.deliverAll()).toEqual(['cancelled']);
      expect(row.id).toBe(rows[1].id);
    } finally {
      sys.rt.delivery.channels.delete('stub_personal');
    }
  });
});
