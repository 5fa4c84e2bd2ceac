/**
 * Outbound through the DingTalk app robot (channels/dingtalk-app.ts): ActionCard formatting within
 * the template limits, the group channel's choice between the custom robot and the app robot, and
 * the DingTalk configuration rules.
 */
import type { NeutralMessage } from '../../server/domain/message';
import type { Channel, Destination, SendResult } from '../../server/channels/types';
import { ACTION_CARD_TEXT_MAX_BYTES, ACTION_TITLE_MAX_CHARS, DingtalkGroupChannel, formatDingtalkActionCard } from '../../server/channels/dingtalk-app';
import { ConfigError, loadConfig } from '../../server/config';
import { utf8Length } from '../../server/domain/text-bytes';

function message(n: number, extra: Partial<NeutralMessage> = {}): NeutralMessage {
  const recipients = Array.from({ length: n }, (_, i) => ({ personId: i + 1, name: i === 0 ? '黄涛' : `人员${i + 1}号（非常长的名字测试）`, dingtalkUserId: `dt${i}` }));
  return {
    alertCode: 'A42',
    title: '【重大隐患·一级】加氢装置紧急停车系统旁路未恢复投用',
    lines: ['风险单元：加氢装置', '整改期限：2026-12-03'],
    level: 1,
    reason: 'open',
    firedAt: '2026-11-30T04:00:00.000Z',
    recipients,
    links: recipients.map((r) => ({ personId: r.personId, name: r.name, url: `http://dualprev.test/l/tok${r.personId}` })),
    alertUrl: 'http://dualprev.test/alerts/42',
    ...extra,
  };
}

describe('formatDingtalkActionCard', () => {
  test('one recipient: sampleActionCard with his link as the single button; text names him and the alert code', () => {
    const c = formatDingtalkActionCard(message(1));
    expect(c.msgKey).toBe('sampleActionCard');
    expect(c.msgParam).toMatchObject({ singleTitle: '确认/处置·黄涛', singleURL: 'http://dualprev.test/l/tok1' });
    expect(c.msgParam.title).toBe('【重大隐患·一级】加氢装置紧急停车系统旁路未恢复投用');
    expect(c.msgParam.text).toContain('A42');
    expect(c.msgParam.text).toContain('请 黄涛 确认或处置');
    expect(c.msgParam.text).toContain('确认 A42');
  });

  test('three recipients: sampleActionCard3, one button each, titles ≤ 20 characters', () => {
    const c = formatDingtalkActionCard(message(3));
    expect(c.msgKey).toBe('sampleActionCard3');
    for (const i of [1, 2, 3]) {
      expect(c.msgParam[`actionURL${i}`]).toBe(`http://dualprev.test/l/tok${i}`);
      expect([...c.msgParam[`actionTitle${i}`]].length).toBeLessThanOrEqual(ACTION_TITLE_MAX_CHARS);
    }
    expect(c.msgParam.actionTitle4).toBeUndefined();
  });

  test('seven recipients: five buttons (sampleActionCard5), the other two links in the markdown text', () => {
    const c = formatDingtalkActionCard(message(7));
    expect(c.msgKey).toBe('sampleActionCard5');
    expect(c.msgParam.actionURL5).toBe('http://dualprev.test/l/tok5');
    expect(c.msgParam.text).toContain('(http://dualprev.test/l/tok6)');
    expect(c.msgParam.text).toContain('(http://dualprev.test/l/tok7)');
    expect(c.msgParam.text).not.toContain('(http://dualprev.test/l/tok1)');
  });

  test('a very long alert is shortened within the text cap, never rejected', () => {
    const c = formatDingtalkActionCard(message(2, { lines: Array.from({ length: 200 }, (_, i) => `第${i}行：${'储罐液位偏差'.repeat(10)}`) }));
    expect(utf8Length(c.msgParam.text)).toBeLessThanOrEqual(ACTION_CARD_TEXT_MAX_BYTES);
    expect(c.msgParam.text).toContain('A42');
    expect(c.msgParam.text).toContain('查看完整告警');
    expect(c.msgKey).toBe('sampleActionCard2');
  });
});

describe('DingtalkGroupChannel', () => {
  const stub = (name: string) => {
    const calls: string[] = [];
    const ch: Channel & { calls: string[] } = { name, calls, send: async (d: Destination): Promise<SendResult> => (calls.push(d.code), { ok: true, sent: name }) };
    return ch;
  };
  test('a group with a ROBOTS webhook keeps the custom robot; one without goes through the app robot', async () => {
    const custom = stub('custom');
    const app = stub('app');
    const ch = new DingtalkGroupChannel(custom, app, { d1: { webhook: 'https://oapi.dingtalk.com/robot/send?access_token=x' } });
    expect(ch.name).toBe('dingtalk_robot');
    await ch.send({ id: 1, code: 'd1', channel: 'dingtalk_robot' }, message(1));
    await ch.send({ id: 2, code: 'd2', channel: 'dingtalk_robot' }, message(1));
    await ch.send({ id: 3, code: 'toString', channel: 'dingtalk_robot' }, message(1));
    expect(custom.calls).toEqual(['d1']);
    expect(app.calls).toEqual(['d2', 'toString']);
  });
});

describe('DingTalk configuration', () => {
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (e) {
      if (e instanceof ConfigError) return e.problems.join('\n');
      throw e;
    }
    return '';
  };
  test('off by default; key and secret go together; Stream and groups need them; robotCode defaults to the key', () => {
    expect(loadConfig({}).dingtalk).toBeUndefined();
    expect(problems({ DINGTALK_APP_KEY: 'k' })).toContain('DINGTALK_APP_SECRET');
    expect(problems({ DINGTALK_APP_SECRET: 's' })).toContain('DINGTALK_APP_KEY');
    expect(problems({ DINGTALK_STREAM: 'true' })).toContain('DINGTALK_STREAM');
    expect(problems({ DINGTALK_GROUPS: '{"d1":"cid1"}' })).toContain('DINGTALK_GROUPS');
    expect(problems({ DINGTALK_APP_KEY: 'k', DINGTALK_APP_SECRET: 's', DINGTALK_GROUPS: 'not json' })).toContain('DINGTALK_GROUPS');
    expect(problems({ DINGTALK_APP_KEY: 'k', DINGTALK_APP_SECRET: 's', DINGTALK_API_BASE: 'nope' })).toContain('DINGTALK_API_BASE');
    const c = loadConfig({ DINGTALK_APP_KEY: 'k', DINGTALK_APP_SECRET: 's', DINGTALK_API_BASE: 'http://127.0.0.1:9/', DINGTALK_GROUPS: '{"d1":"cid1"}' }).dingtalk!;
    expect(c).toEqual({
      appKey: 'k',
      appSecret: 's',
      robotCode: 'k',
      corpId: undefined,
      apiBase: 'http://127.0.0.1:9',
      oapiBase: 'https://oapi.dingtalk.com',
      enterpriseCode: undefined,
      stream: false,
      groups: { d1: 'cid1' },
    });
  });
});
