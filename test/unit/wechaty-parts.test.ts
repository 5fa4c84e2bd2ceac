/**
 * The pure parts of the wechaty bot (issue #4, item 3): the `隐患 <描述>` line, the bounded photo
 * buffer, the alert text for a WeChat group, routing of wechat_group destinations, and the
 * WECHATY_* configuration.
 */
import { HAZARD_NAME_MAX_CHARS, parseHazardText } from '../../bot/hazard-text';
import { MAX_PHOTOS_PER_SENDER, MAX_SENDERS, PendingPhotos, PHOTO_TTL_MS } from '../../bot/pending-photos';
import { formatWechatAlertText, WECHAT_TEXT_MAX_BYTES } from '../../server/channels/wechat-bot';
import { deliveryChannelOf, routeRecipients, WECHAT_BOT_CHANNEL, WECHAT_GROUP_DESTINATION } from '../../server/domain/routing';
import { utf8Length } from '../../server/domain/text-bytes';
import { ConfigError, loadConfig } from '../../server/config';
import type { NeutralMessage } from '../../server/domain/message';

describe('隐患 <描述>', () => {
  test.each([
    ['隐患 法兰渗漏', '法兰渗漏'],
    ['隐患：法兰渗漏', '法兰渗漏'],
    ['隐患:法兰渗漏', '法兰渗漏'],
    ['隐患，法兰渗漏', '法兰渗漏'],
    ['隐患\u3000法兰渗漏', '法兰渗漏'],
    ['@安全助手\u2005隐患 法兰渗漏', '法兰渗漏'],
    ['＠安全助手 隐患 法兰渗漏', '法兰渗漏'],
    ['@Safety Bot 隐患 法兰渗漏', '法兰渗漏'],
    ['上报隐患：V-101A 出口法兰渗漏', 'V-101A 出口法兰渗漏'],
    ['  隐患   法兰   渗漏  ', '法兰 渗漏'],
  ])('%j → %j', (text, name) => {
    expect(parseHazardText(text, ['安全助手', 'Safety Bot'])).toEqual({ name, description: null });
  });

  test.each([['隐患排查今天都做完了'], ['隐患'], ['隐患 '], ['隐患：'], ['这个隐患 法兰渗漏'], ['确认 A12'], [''], ['@安全助手']])('%j is not a report', (text) => {
    expect(parseHazardText(text, ['安全助手'])).toBeNull();
  });

  test('several lines: the first names the hazard, all of it is the description; long names are cut', () => {
    expect(parseHazardText('隐患：罐区法兰渗漏\n位置：V-101A 出口\n\n已设警戒')).toEqual({ name: '罐区法兰渗漏', description: '罐区法兰渗漏\n位置：V-101A 出口\n已设警戒' });
    const long = '漏'.repeat(100);
    const r = parseHazardText(`隐患 ${long}`)!;
    expect([...r.name]).toHaveLength(HAZARD_NAME_MAX_CHARS);
    expect(r.name.endsWith('…')).toBe(true);
    expect(r.description).toBe(long);
    expect(parseHazardText(42 as unknown as string)).toBeNull();
    expect(parseHazardText(`隐患 ${'x'.repeat(30_000)}`)).toBeNull();
  });
});

describe('photos waiting for their 隐患 text', () => {
  test('kept per sender for the TTL, at most the last three, taken once', () => {
    let now = 1_000_000;
    const p = new PendingPhotos<string>(() => now);
    const k = PendingPhotos.key('room1', 'alice');
    expect(p.has(k)).toBe(false);
    for (const x of ['a', 'b', 'c', 'd']) p.add(k, x);
    expect(p.has(PendingPhotos.key('room1', 'bob'))).toBe(false);
    expect(p.has(PendingPhotos.key('room2', 'alice'))).toBe(false);
    now += PHOTO_TTL_MS;
    expect(p.take(k)).toEqual(['b', 'c', 'd'].slice(-MAX_PHOTOS_PER_SENDER));
    expect(p.take(k)).toEqual([]);
    p.add(k, 'e');
    now += PHOTO_TTL_MS + 1;
    p.add(k, 'f');
    // e expired, f is fresh
    expect(p.take(k)).toEqual(['f']);
    p.add(k, 'g');
    now += PHOTO_TTL_MS + 1;
    expect(p.has(k)).toBe(false);
    expect(p.take(k)).toEqual([]);
  });

  test('bounded: the least recently used sender is dropped beyond MAX_SENDERS', () => {
    const p = new PendingPhotos<number>(() => 0);
    for (let i = 0; i < MAX_SENDERS + 50; i++) p.add(PendingPhotos.key('r', `s${i}`), i);
    expect(p.size).toBe(MAX_SENDERS);
    expect(p.has(PendingPhotos.key('r', 's0'))).toBe(false);
    expect(p.take(PendingPhotos.key('r', `s${MAX_SENDERS + 49}`))).toEqual([MAX_SENDERS + 49]);
  });
});

const message = (over: Partial<NeutralMessage> = {}): NeutralMessage => ({
  alertCode: 'A12',
  title: '【重大隐患】加氢装置紧急停车系统旁路未恢复投用',
  lines: ['风险单元：加氢反应单元', '整改期限：2026-12-03'],
  level: 1,
  reason: 'open',
  firedAt: '2026-11-30T04:00:00.000Z',
  recipients: [
    { personId: 12, name: '黄涛' },
    { personId: 1, name: '周建国' },
  ],
  links: [
    { personId: 12, name: '黄涛', url: 'http://dp.test/a/12' },
    { personId: 1, name: '周建国', url: 'http://dp.test/a/1' },
  ],
  alertUrl: 'http://dp.test/alerts/12',
  ...over,
});

describe('alert text for a WeChat group', () => {
  test('title, lines, code line, whom and how to answer, each person’s link', () => {
    expect(formatWechatAlertText(message(), '安全助手').split('\n')).toEqual([
      '【重大隐患】加氢装置紧急停车系统旁路未恢复投用',
      '风险单元：加氢反应单元',
      '整改期限：2026-12-03',
      '告警 A12 · 第1级 · 新告警',
      '请 黄涛、周建国 确认或处置：在群里回复「@安全助手 确认 A12」，或打开本人链接：',
      '黄涛：http://dp.test/a/12',
      '周建国：http://dp.test/a/1',
    ]);
  });

  test('never longer than WECHAT_TEXT_MAX_BYTES with the @-prefix; too long → links dropped first, full alert link last', () => {
    const many = Array.from({ length: 80 }, (_, i) => ({ personId: i, name: `人员${i}`, url: `http://dp.test/a/${i}?t=${'x'.repeat(60)}` }));
    const text = formatWechatAlertText(message({ recipients: many, links: many }), '安全助手', 300);
    expect(utf8Length(text) + 300).toBeLessThanOrEqual(WECHAT_TEXT_MAX_BYTES);
    expect(text).toContain('告警 A12 · 第1级 · 新告警');
    expect(text.endsWith('完整告警：http://dp.test/alerts/12')).toBe(true);
  });
});

describe('routing to WeChat groups', () => {
  test('a wechat_group destination is delivered by wechat_bot; other kinds keep their channel', () => {
    expect(deliveryChannelOf(WECHAT_GROUP_DESTINATION)).toBe(WECHAT_BOT_CHANNEL);
    expect(deliveryChannelOf('wecom_robot')).toBe('wecom_robot');
    const routes = routeRecipients([1, 2, 3], [{ id: 7, code: 'wx1', channel: WECHAT_GROUP_DESTINATION, memberIds: [1, 2] }], new Set(['wx1']));
    expect(routes).toEqual([
      { channel: WECHAT_BOT_CHANNEL, destinationId: 7, recipientIds: [1, 2] },
      { channel: 'outbox', destinationId: null, recipientIds: [3] },
    ]);
  });
});

describe('WECHATY_* configuration', () => {
  const problems = (env: Record<string, string>): string[] => {
    try {
      loadConfig(env);
      return [];
    } catch (e) {
      if (e instanceof ConfigError) return e.problems;
      throw e;
    }
  };

  test('unset: no bot', () => {
    expect(loadConfig({}).wechaty).toBeUndefined();
  });

  test('puppet-service for WeCom via WorkPro: token, authority, no TLS; session name', () => {
    const c = loadConfig({
      ROLES: 'bot',
      WECHATY_PUPPET: 'wechaty-puppet-service',
      WECHATY_PUPPET_SERVICE_TOKEN: 'puppet_workpro_0123',
      WECHATY_PUPPET_SERVICE_AUTHORITY: 'token-service-discovery-test.juzibot.com',
      WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_CLIENT: 'true',
      WECHATY_SESSION_NAME: 'dualprev-bot',
    });
    expect(c.roles).toEqual(['bot']);
    expect(c.wechaty).toEqual({
      puppet: 'wechaty-puppet-service',
      puppetOptions: { token: 'puppet_workpro_0123', authority: 'token-service-discovery-test.juzibot.com', tls: { disable: true } },
      sessionName: 'dualprev-bot',
    });
    expect(loadConfig({ WECHATY_PUPPET: '@juzi/wechaty-puppet-service', WECHATY_PUPPET_SERVICE_ENDPOINT: '10.0.0.5:8788' }).wechaty?.puppetOptions).toEqual({ endpoint: '10.0.0.5:8788' });
  });

  test('refused: the bot role without a puppet, puppet settings without a puppet, a puppet that is no package name', () => {
    expect(problems({ ROLES: 'api,bot' })).toEqual(['WECHATY_PUPPET: required when ROLES includes bot']);
    expect(problems({ WECHATY_PUPPET_SERVICE_TOKEN: 't' })).toEqual(['WECHATY_PUPPET_SERVICE_TOKEN: needs WECHATY_PUPPET']);
    expect(problems({ WECHATY_PUPPET: '../evil' })).toHaveLength(1);
    expect(problems({ WECHATY_PUPPET: 'wechaty-puppet-service', WECHATY_SESSION_NAME: '../x' })).toHaveLength(1);
  });
});
