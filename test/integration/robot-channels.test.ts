/**
 * WeCom group robot and DingTalk custom robot channels against the local fakes over real HTTP
 * (protocols.md §1, §3.1, §6). The fakes implement the platforms' documented checks (byte limits,
 * signature with its own code and a ±1 h window, keywords, errcodes as HTTP 200 bodies).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DingtalkRobotChannel,
  dingtalkSignature,
  formatDingtalkRobotMessage,
  signDingtalkWebhook,
} from '../../server/channels/dingtalk-robot';
import type { Destination, SendResult } from '../../server/channels/types';
import { WecomRobotChannel, formatWecomRobotMessage } from '../../server/channels/wecom-robot';
import type { MessageRecipient, NeutralMessage } from '../../server/domain/message';
import { FakeDingtalkRobot } from '../fakes/dingtalk-robot';
import { FakeWecomRobot } from '../fakes/wecom-robot';

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');
const validUtf8 = (s: string): boolean => Buffer.from(s, 'utf8').toString('utf8') === s && !s.includes('\uFFFD');
const HOUR = 3_600_000;
const ALERT_URL = 'https://dp.example.com/alerts/A123';

const ZHANG: MessageRecipient = { personId: 1, name: '张三', mobile: '13800001111', wecomUserId: 'zhangsan', dingtalkUserId: 'dt_zhang' };
const LI: MessageRecipient = { personId: 2, name: '李四', mobile: '13900002222', wecomUserId: 'lisi', dingtalkUserId: null };
const WANG: MessageRecipient = { personId: 3, name: '王五', mobile: '13700003333', wecomUserId: null, dingtalkUserId: 'dt_wang' };
const ZHAO: MessageRecipient = { personId: 4, name: '赵六', mobile: null, wecomUserId: null, dingtalkUserId: 'dt_zhao' };

function message(over: Partial<NeutralMessage> = {}): NeutralMessage {
  const recipients = over.recipients ?? [ZHANG, LI];
  return {
    alertCode: 'A123',
    title: '【超期未整改·三级】V-101B 远传液位与现场液位计偏差超过5%',
    lines: ['风险单元：液氯储罐 V-101A/B', '整改期限：2026-11-25（已超期 5 天）', '责任人：张三（仪表班）'],
    level: 3,
    reason: 'escalate',
    firedAt: '2026-11-30T04:00:00.000Z',
    links: recipients.map((r) => ({ personId: r.personId, name: r.name, url: `https://dp.example.com/ack/${r.personId}?t=ab+c/d=` })),
    alertUrl: ALERT_URL,
    ...over,
    recipients,
  };
}

/** ~6,000 bytes of Chinese, with emoji, spread over lines, plus one long unbroken line. */
function hugeMessage(over: Partial<NeutralMessage> = {}): NeutralMessage {
  const lines = Array.from({ length: 20 }, (_, i) => `检查记录${i + 1}：${'储罐区域液位计读数偏差😀'.repeat(8)}`);
  const m = message({ lines, ...over });
  expect(bytes(m.lines.join('\n'))).toBeGreaterThan(6000);
  return m;
}

const failure = (r: SendResult) => {
  expect(r.ok).toBe(false);
  return r as Extract<SendResult, { ok: false }>;
};

describe('WecomRobotChannel against FakeWecomRobot', () => {
  const fake = new FakeWecomRobot();
  let channel: WecomRobotChannel;
  const dest: Destination = { id: 1, code: 'plant-a', channel: 'wecom_robot' };

  beforeAll(async () => {
    await fake.start();
    fake.addKey('k-plant-a');
    channel = new WecomRobotChannel({
      robots: {
        'plant-a': { webhook: fake.webhookUrl('k-plant-a') },
        'stale': { webhook: fake.webhookUrl('k-removed') },
      },
    });
  });
  afterAll(() => fake.stop());
  beforeEach(() => fake.reset());

  it('all recipients have a userid → one markdown message with inline <@userid> mentions', async () => {
    const r = await channel.send(dest, message());
    expect(r.ok).toBe(true);
    expect(fake.received).toHaveLength(1);
    const got = fake.received[0];
    expect(got.msgtype).toBe('markdown');
    expect(got.inlineMentions).toEqual(['zhangsan', 'lisi']);
    expect(got.body).toEqual(r.sent); // `sent` is exactly what was posted
    const content = (got.body.markdown as { content: string }).content;
    expect(content.split('\n')[0]).toBe('**【超期未整改·三级】V-101B 远传液位与现场液位计偏差超过5%**');
    expect(content).toContain('风险单元：液氯储罐 V-101A/B');
    expect(content).toContain('告警 A123 · 第3级 · 升级');
    expect(content).toContain('[确认/处置 · 张三](https://dp.example.com/ack/1?t=ab+c/d=)');
    expect(content).toContain('[确认/处置 · 李四](https://dp.example.com/ack/2?t=ab+c/d=)');
    expect(content).not.toContain('查看完整告警'); // nothing was shortened
  });

  it('a recipient without userid but with a mobile → text with mentioned_list and mentioned_mobile_list', async () => {
    const r = await channel.send(dest, message({ recipients: [ZHANG, WANG, ZHAO] }));
    expect(r.ok).toBe(true);
    const got = fake.received[0];
    expect(got.msgtype).toBe('text');
    expect(got.mentionedList).toEqual(['zhangsan']);
    expect(got.mentionedMobileList).toEqual(['13700003333']);
    expect(got.wouldTruncate).toBe(false);
    const content = (got.body.text as { content: string }).content;
    expect(content).toContain('王五 确认/处置：https://dp.example.com/ack/3?t=ab+c/d=');
    expect(content).toContain('赵六 确认/处置：https://dp.example.com/ack/4?t=ab+c/d=');
    expect(content).toContain('A123');
  });

  it('a 6,000-byte Chinese message is never rejected or cut inside a character (markdown ≤ 4096 bytes)', async () => {
    const r = await channel.send(dest, hugeMessage());
    expect(r.ok).toBe(true);
    expect(fake.rejected).toEqual([]);
    const got = fake.received[0];
    expect(got.msgtype).toBe('markdown');
    const content = (got.body.markdown as { content: string }).content;
    expect(validUtf8(content)).toBe(true);
    expect(bytes(content)).toBeLessThanOrEqual(4096);
    expect(bytes(content)).toBeGreaterThan(3500); // shortened, not emptied
    expect(content.endsWith(`[查看完整告警](${ALERT_URL})`)).toBe(true);
    expect(content).toContain('检查记录1：'); // the first (most important) lines stay
    expect(got.inlineMentions).toEqual(['zhangsan', 'lisi']); // mentions and links are kept
    expect(content).toContain('[确认/处置 · 李四]');
  });

  it('a 6,000-byte single line without breaks, as text (≤ 2048 bytes), is shortened and ends with the link', async () => {
    const r = await channel.send(dest, message({ recipients: [WANG], lines: ['液氯😀'.repeat(600)] }));
    expect(r.ok).toBe(true);
    const got = fake.received[0];
    expect(got.msgtype).toBe('text');
    expect(got.wouldTruncate).toBe(false);
    const content = (got.body.text as { content: string }).content;
    expect(validUtf8(content)).toBe(true);
    expect(bytes(content)).toBeLessThanOrEqual(2048);
    expect(content).toMatch(/液氯😀(液氯?)?…\n/); // cut on a character boundary, with an ellipsis
    expect(content.endsWith(`完整告警：${ALERT_URL}`)).toBe(true);
    expect(got.mentionedMobileList).toEqual(['13700003333']);
  });

  it('a 6,000-byte title still fits', async () => {
    const r = await channel.send(dest, message({ title: '标题过长😀'.repeat(400) }));
    expect(r.ok).toBe(true);
    const content = (fake.received[0].body.markdown as { content: string }).content;
    expect(bytes(content)).toBeLessThanOrEqual(4096);
    expect(validUtf8(content)).toBe(true);
    expect(content.endsWith(`[查看完整告警](${ALERT_URL})`)).toBe(true);
    expect(fake.received[0].inlineMentions).toEqual(['zhangsan', 'lisi']);
  });

  it('errcodes (HTTP 200 with errcode ≠ 0 is never success): 93000/93004 permanent, -1 transient, 45009 retry after 60 s', async () => {
    const cases: Array<[number, { permanent?: boolean; retryAfterMs?: number }]> = [
      [93000, { permanent: true }],
      [93004, { permanent: true }],
      [-1, {}],
      [45009, { retryAfterMs: 60_000 }],
    ];
    for (const [code, expected] of cases) {
      fake.failNext('k-plant-a', code);
      const f = failure(await channel.send(dest, message()));
      expect(f.error).toMatch(new RegExp(`^errcode ${code}: `));
      expect({ permanent: f.permanent, retryAfterMs: f.retryAfterMs }).toEqual({ permanent: undefined, retryAfterMs: undefined, ...expected });
      expect(f.sent).toBeDefined();
    }
    expect(fake.rejected.map((x) => x.errcode)).toEqual([93000, 93004, -1, 45009]);
    expect(fake.received).toEqual([]);
    expect((await channel.send(dest, message())).ok).toBe(true);
  });

  it('real 93000 for a removed key; no robot configured → permanent without a request', async () => {
    const f = failure(await channel.send({ id: 2, code: 'stale', channel: 'wecom_robot' }, message()));
    expect(f).toMatchObject({ permanent: true, error: expect.stringMatching(/^errcode 93000: invalid webhook url/) });
    const g = failure(await channel.send({ id: 3, code: 'nowhere', channel: 'wecom_robot' }, message()));
    expect(g).toMatchObject({ permanent: true, error: expect.stringContaining('no robot configured for destination code "nowhere"') });
    expect(fake.rejected.map((x) => x.key)).toEqual(['k-removed']);
  });

  it('rate limit of the fake: the 21st message in a minute → retryAfterMs 60000', async () => {
    const results: SendResult[] = [];
    for (let i = 0; i < 21; i++) results.push(await channel.send(dest, message({ level: i })));
    expect(results.slice(0, 20).every((r) => r.ok)).toBe(true);
    expect(failure(results[20]).retryAfterMs).toBe(60_000);
  });

  describe('transport failures (injected fetch / real sockets)', () => {
    const robots = { x: { webhook: 'http://127.0.0.1:9/cgi-bin/webhook/send?key=x' } };
    const x: Destination = { id: 9, code: 'x', channel: 'wecom_robot' };
    const replying = (body: string, status = 200, headers: Record<string, string> = {}): typeof fetch =>
      (async () => new Response(body, { status, headers })) as typeof fetch;

    it('HTTP 5xx, non-JSON, JSON without errcode and errcode as a string → transient failures', async () => {
      for (const f of [replying('bad gateway', 502), replying('<html>ok</html>'), replying('{}'), replying('{"errcode":"0"}')]) {
        const r = failure(await new WecomRobotChannel({ robots, fetch: f }).send(x, message()));
        expect(r.permanent).toBeUndefined();
        expect(r.retryAfterMs).toBeUndefined();
      }
    });

    it('HTTP 404 → permanent (wrong webhook URL); HTTP 429 with Retry-After → retryAfterMs', async () => {
      expect(failure(await new WecomRobotChannel({ robots, fetch: replying('nf', 404) }).send(x, message())).permanent).toBe(true);
      const r = failure(await new WecomRobotChannel({ robots, fetch: replying('slow down', 429, { 'Retry-After': '7' }) }).send(x, message()));
      expect(r.retryAfterMs).toBe(7000);
    });

    it('timeout → transient', async () => {
      const hang = http.createServer(() => undefined); // never answers
      await new Promise<void>((resolve) => hang.listen(0, '127.0.0.1', resolve));
      const port = (hang.address() as AddressInfo).port;
      try {
        const ch = new WecomRobotChannel({ robots: { h: { webhook: `http://127.0.0.1:${port}/cgi-bin/webhook/send?key=h` } }, timeoutMs: 200 });
        const r = failure(await ch.send({ id: 5, code: 'h', channel: 'wecom_robot' }, message()));
        expect(r.error).toBe('timeout after 200 ms');
        expect(r.permanent).toBeUndefined();
      } finally {
        hang.closeAllConnections();
        await new Promise<void>((resolve) => hang.close(() => resolve()));
      }
    });

    it('connection refused → transient', async () => {
      const probe = http.createServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
      const port = (probe.address() as AddressInfo).port;
      await new Promise<void>((resolve) => probe.close(() => resolve()));
      const ch = new WecomRobotChannel({ robots: { c: { webhook: `http://127.0.0.1:${port}/cgi-bin/webhook/send?key=c` } } });
      const r = failure(await ch.send({ id: 6, code: 'c', channel: 'wecom_robot' }, message()));
      expect(r.error).toMatch(/^network error/);
      expect(r.permanent).toBeUndefined();
    });
  });

  it('formatWecomRobotMessage: no recipients → markdown without mentions', () => {
    const body = formatWecomRobotMessage(message({ recipients: [] }));
    expect(body.msgtype).toBe('markdown');
    expect(JSON.stringify(body)).not.toContain('<@');
  });
});

describe('dingtalkSignature (protocols.md §3.1 derived vectors)', () => {
  it('matches the vectors (base64, not URL-encoded)', () => {
    expect(dingtalkSignature(1577262236757, 'this is secret')).toBe('hmPWwU+7lVdm3ZZz0r9tSfx0L4Q26jWOZr9+Gs6EZQM=');
    expect(dingtalkSignature(1577262236757, 'SEC000000000000000000000')).toBe('xOJIB8eNoYWeLy26EMZOlc2RjOJbtPv9HYjm+E3uALU=');
  });

  it('is added to the webhook URL encoded exactly once', () => {
    const url = signDingtalkWebhook('https://oapi.dingtalk.com/robot/send?access_token=abc', 'this is secret', 1577262236757);
    expect(url).toBe('https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1577262236757&sign=hmPWwU%2B7lVdm3ZZz0r9tSfx0L4Q26jWOZr9%2BGs6EZQM%3D');
    // an already signed URL gets its timestamp/sign replaced, not duplicated
    const again = signDingtalkWebhook(url, 'this is secret', 1577262236758);
    expect(new URL(again).searchParams.getAll('sign')).toHaveLength(1);
    expect(new URL(again).searchParams.get('timestamp')).toBe('1577262236758');
  });
});

describe('DingtalkRobotChannel against FakeDingtalkRobot', () => {
  const SECRET = 'SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd';
  /** the fake's clock: real time unless a test pins it */
  let fakeNow: number | null = null;
  const fake = new FakeDingtalkRobot({ now: () => fakeNow ?? Date.now() });
  const urls: string[] = [];
  const recordingFetch: typeof fetch = (input, init) => {
    urls.push(String(input));
    return fetch(input, init);
  };
  const dest: Destination = { id: 10, code: 'tank-farm', channel: 'dingtalk_robot' };
  const channel = (now?: () => number, secret = SECRET): DingtalkRobotChannel =>
    new DingtalkRobotChannel({
      robots: {
        'tank-farm': { webhook: fake.webhookUrl('tok-a'), secret, keywords: ['预警', '隐患'] },
        'vector': { webhook: fake.webhookUrl('tok-v'), secret: 'this is secret' },
        'gone': { webhook: fake.webhookUrl('tok-gone'), secret },
      },
      fetch: recordingFetch,
      now,
    });

  beforeAll(async () => {
    await fake.start();
    fake.addRobot('tok-a', { secret: SECRET, keywords: ['预警', '隐患'] });
    fake.addRobot('tok-v', { secret: 'this is secret' });
  });
  afterAll(() => fake.stop());
  beforeEach(() => {
    fake.reset();
    urls.length = 0;
    fakeNow = null;
  });

  it('signature accepted by the fake, keyword added, @ in at.atMobiles/atUserIds and in the text', async () => {
    const r = await channel().send(dest, message({ recipients: [ZHANG, LI, ZHAO] }));
    expect(r.ok).toBe(true);
    expect(fake.received).toHaveLength(1);
    const got = fake.received[0];
    expect(got.body).toEqual(r.sent);
    expect(got.msgtype).toBe('markdown');
    expect(got.at).toEqual({ atMobiles: ['13800001111', '13900002222'], atUserIds: ['dt_zhao'], isAtAll: false });
    expect(got.mentionsInText).toEqual({ mobiles: { '13800001111': true, '13900002222': true }, userIds: { dt_zhao: true } });
    const md = got.body.markdown as { title: string; text: string };
    expect(md.text.startsWith('#### 【预警】【超期未整改·三级】')).toBe(true); // no keyword in the alert → tag
    expect(md.title.startsWith('【预警】')).toBe(true);
    expect(md.text).toContain('[确认/处置 · 赵六](https://dp.example.com/ack/4?t=ab+c/d=)');
    expect(md.text).toContain('告警 A123 · 第3级 · 升级');
    const q = new URL(urls[0]).searchParams;
    expect(q.get('access_token')).toBe('tok-a');
    expect(Math.abs(Number(q.get('timestamp')) - Date.now())).toBeLessThan(60_000);
  });

  it('a keyword already present is not added again', async () => {
    const r = await channel().send(dest, message({ title: '【重大隐患】储罐区可燃气体报警仪失效' }));
    expect(r.ok).toBe(true);
    const md = fake.received[0].body.markdown as { title: string; text: string };
    expect(md.text.startsWith('#### 【重大隐患】储罐区')).toBe(true);
    expect(md.text).not.toContain('【预警】');
  });

  it('a sign containing "+" goes out as %2B exactly once and is accepted (protocols.md vector)', async () => {
    const TS = 1577262236757;
    fakeNow = TS;
    const r = await channel(() => TS).send({ id: 11, code: 'vector', channel: 'dingtalk_robot' }, message());
    expect(r.ok).toBe(true);
    expect(urls[0]).toContain('&timestamp=1577262236757&sign=hmPWwU%2B7lVdm3ZZz0r9tSfx0L4Q26jWOZr9%2BGs6EZQM%3D');
  });

  it('a wrong secret → 310000 sign not match → permanent', async () => {
    const f = failure(await channel(undefined, 'SECwrong').send(dest, message()));
    expect(f).toMatchObject({ permanent: true, error: 'errcode 310000: sign not match' });
    expect(fake.received).toEqual([]);
  });

  it('a clock 2 h off → fake rejects "invalid timestamp" → transient (our clock may be off briefly)', async () => {
    for (const skew of [2 * HOUR, -2 * HOUR]) {
      const f = failure(await channel(() => Date.now() + skew).send(dest, message()));
      expect(f.error).toBe('errcode 310000: invalid timestamp');
      expect(f.permanent).toBeUndefined();
      expect(f.retryAfterMs).toBeUndefined();
    }
    expect(fake.rejected.map((x) => x.errmsg)).toEqual(['invalid timestamp', 'invalid timestamp']);
  });

  it('throttling 130101 / 410100 → retryAfterMs 10 min; -1 → transient; 400102 and unknown token → permanent', async () => {
    const cases: Array<[number, { permanent?: boolean; retryAfterMs?: number }]> = [
      [130101, { retryAfterMs: 600_000 }],
      [410100, { retryAfterMs: 600_000 }],
      [-1, {}],
      [400102, { permanent: true }],
    ];
    for (const [code, expected] of cases) {
      fake.failNext('tok-a', code);
      const f = failure(await channel().send(dest, message()));
      expect(f.error).toMatch(new RegExp(`^errcode ${code}: `));
      expect({ permanent: f.permanent, retryAfterMs: f.retryAfterMs }).toEqual({ permanent: undefined, retryAfterMs: undefined, ...expected });
    }
    const gone = failure(await channel().send({ id: 12, code: 'gone', channel: 'dingtalk_robot' }, message()));
    expect(gone).toMatchObject({ permanent: true, error: 'errcode 300001: token is not exist' });
    const none = failure(await channel().send({ id: 13, code: 'nowhere', channel: 'dingtalk_robot' }, message()));
    expect(none).toMatchObject({ permanent: true, error: expect.stringContaining('no robot configured') });
    expect(fake.received).toEqual([]);
  });

  it('real throttling by the fake after 20 messages a minute → retryAfterMs 600000', async () => {
    const ch = channel();
    for (let i = 0; i < 20; i++) expect((await ch.send(dest, message({ level: i }))).ok).toBe(true);
    expect(failure(await ch.send(dest, message())).retryAfterMs).toBe(600_000);
  });

  it('a 6,000-byte Chinese message is capped at 4096 bytes, valid, ends with the full-alert link', async () => {
    fake.reset();
    const r = await channel().send(dest, hugeMessage({ recipients: [ZHANG, WANG] }));
    expect(r.ok).toBe(true);
    const got = fake.received[0];
    const text = (got.body.markdown as { text: string }).text;
    expect(validUtf8(text)).toBe(true);
    expect(bytes(text)).toBeLessThanOrEqual(4096);
    expect(text.endsWith(`[查看完整告警](${ALERT_URL})`)).toBe(true);
    expect(got.mentionsInText.mobiles).toEqual({ '13800001111': true, '13700003333': true });
  });

  it('at most 50 @ per message', () => {
    const many = Array.from({ length: 60 }, (_, i): MessageRecipient => ({ personId: 100 + i, name: `员工${i}`, mobile: `1380000${String(i).padStart(4, '0')}` }));
    const body = formatDingtalkRobotMessage(message({ recipients: many }), ['预警']);
    expect(body.at.atMobiles).toHaveLength(50);
    expect(body.markdown.text.match(/@1380000\d{4}/g)).toHaveLength(50);
    expect(bytes(body.markdown.text)).toBeLessThanOrEqual(4096);
    expect(body.markdown.text).toContain('预警');
  });
});
