/**
 * Tests for the local WeCom / DingTalk robot fakes (protocols.md §1.6 and §3.5), through real HTTP.
 */
import { FakeDingtalkRobot, dingtalkSign } from '../fakes/dingtalk-robot';
import { FakeWecomRobot } from '../fakes/wecom-robot';

interface ApiReply {
  errcode: number;
  errmsg: string;
}

async function post(url: string, body: unknown, contentType = 'application/json'): Promise<ApiReply & { status: number }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, ...((await res.json()) as ApiReply) };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** A string of exactly `n` UTF-8 bytes made of 3-byte CJK characters plus ASCII padding. */
const cjkBytes = (n: number): string => '中'.repeat(Math.floor(n / 3)) + 'a'.repeat(n % 3);

class Clock {
  t = 1_700_000_000_000;
  readonly now = (): number => this.t;
}

describe('FakeWecomRobot', () => {
  let fake: FakeWecomRobot;
  let url: string;
  const text = (content: string, extra: Record<string, unknown> = {}) => ({ msgtype: 'text', text: { content, ...extra } });

  beforeEach(async () => {
    fake = new FakeWecomRobot();
    await fake.start();
    fake.addKey('k1');
    url = fake.webhookUrl('k1');
  });
  afterEach(() => fake.stop());

  it('accepts a valid text message and records mentions', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/cgi-bin\/webhook\/send\?key=k1$/);
    const r = await post(url, text('隐患 <@zhangsan> 请处理 <@lisi>', { mentioned_list: ['wangqing', '@all'], mentioned_mobile_list: ['13800001111'] }));
    expect(r).toEqual({ status: 200, errcode: 0, errmsg: 'ok' });
    expect(fake.received).toHaveLength(1);
    expect(fake.received[0]).toMatchObject({
      key: 'k1', msgtype: 'text', mentionedList: ['wangqing', '@all'], mentionedMobileList: ['13800001111'],
      inlineMentions: ['zhangsan', 'lisi'], wouldTruncate: false,
    });
    expect(typeof fake.received[0].receivedAt).toBe('number');
  });

  it('markdown: inline <@userid> only; markdown_v2 has no @ syntax', async () => {
    await post(url, { msgtype: 'markdown', markdown: { content: '# 报警\n<@u1>', mentioned_list: ['ignored'] } });
    await post(url, { msgtype: 'markdown_v2', markdown_v2: { content: '# 报警\n<@u1>' } });
    expect(fake.received.map((m) => [m.msgtype, m.inlineMentions, m.mentionedList])).toEqual([
      ['markdown', ['u1'], []],
      ['markdown_v2', [], []],
    ]);
  });

  it('unknown key → 93000 with a real-looking errmsg, HTTP 200', async () => {
    const r = await post(fake.webhookUrl('nope'), text('x'));
    expect(r.status).toBe(200);
    expect(r.errcode).toBe(93000);
    expect(r.errmsg).toMatch(/^invalid webhook url, hint: \[.*\], from ip: .*, more info at https:\/\/open\.work\.weixin\.qq\.com\/devtool\/query\?e=93000$/);
    expect(fake.rejected).toEqual([expect.objectContaining({ key: 'nope', errcode: 93000 })]);
  });

  it('bad JSON → 40058 wrong json format; empty body → 93017', async () => {
    const r = await post(url, '{"msgtype":"text",');
    expect(r.errcode).toBe(40058);
    expect(r.errmsg).toContain('Warning: wrong json format.');
    expect((await post(url, '')).errcode).toBe(93017);
    expect(fake.received).toHaveLength(0);
  });

  it('Content-Type must be application/json (charset suffix allowed)', async () => {
    expect((await post(url, text('a'), 'text/plain')).errcode).toBe(40058);
    expect((await post(url, text('a'), 'application/json; charset=utf-8')).errcode).toBe(0);
    expect((await post(url, text('a'), 'Application/JSON;charset=UTF-8')).errcode).toBe(0);
  });

  it('unknown msgtype → 40008; empty text → 44004; news count → 45008', async () => {
    expect((await post(url, { msgtype: 'voice2', voice2: {} })).errcode).toBe(40008);
    expect((await post(url, { text: { content: 'no msgtype' } })).errcode).toBe(40008);
    expect((await post(url, text(''))).errcode).toBe(44004);
    expect((await post(url, { msgtype: 'text' })).errcode).toBe(44004);
    const article = { title: 't', url: 'https://example.com' };
    expect((await post(url, { msgtype: 'news', news: { articles: Array(9).fill(article) } })).errcode).toBe(45008);
    expect((await post(url, { msgtype: 'news', news: { articles: [article] } })).errcode).toBe(0);
    expect(fake.rejected.map((r) => r.errcode)).toEqual([40008, 40008, 44004, 44004, 45008]);
  });

  it('markdown / markdown_v2 limit is 4096 UTF-8 bytes (Chinese text)', async () => {
    const ok = cjkBytes(4096);
    expect(ok.length).toBe(1366);
    for (const t of ['markdown', 'markdown_v2']) {
      expect((await post(url, { msgtype: t, [t]: { content: ok } })).errcode).toBe(0);
      const r = await post(url, { msgtype: t, [t]: { content: cjkBytes(4097) } });
      expect(r.errcode).toBe(40058);
      expect(r.errmsg).toContain(`${t}.content exceed max length 4096. invalid Request Parameter`);
    }
    // 1366 CJK characters are 4098 bytes although .length is far below 4096.
    expect((await post(url, { msgtype: 'markdown', markdown: { content: '中'.repeat(1366) } })).errcode).toBe(40058);
  });

  it('text: ≤2048 bytes clean, 2049–5120 flagged wouldTruncate, >5120 → 40058', async () => {
    for (const n of [2048, 2049, 5120]) expect((await post(url, text(cjkBytes(n)))).errcode).toBe(0);
    expect(fake.received.map((m) => m.wouldTruncate)).toEqual([false, true, true]);
    const r = await post(url, text(cjkBytes(5121)));
    expect(r.errcode).toBe(40058);
    expect(r.errmsg).toContain('text.content exceed max length 5120');
    // emoji: 4 bytes each, JS length 2
    expect((await post(url, text('😀'.repeat(1280)))).errcode).toBe(0);
    expect((await post(url, text('😀'.repeat(1280) + 'a'))).errcode).toBe(40058);
  });

  it('strictText rejects text > 2048 bytes', async () => {
    const strict = new FakeWecomRobot({ strictText: true });
    await strict.start();
    strict.addKey('s');
    try {
      expect((await post(strict.webhookUrl('s'), text(cjkBytes(2048)))).errcode).toBe(0);
      const r = await post(strict.webhookUrl('s'), text(cjkBytes(2049)));
      expect(r.errcode).toBe(40058);
      expect(r.errmsg).toContain('text.content exceed max length 2048');
    } finally {
      await strict.stop();
    }
  });

  it('failNext forces 93000/93004/-1/45009 for the next N requests of that key only', async () => {
    fake.addKey('k2');
    fake.failNext('k1', -1, 2);
    fake.failNext('k1', 93004);
    fake.failNext('k1', 45009);
    fake.failNext('k1', 93000);
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) codes.push((await post(url, text(`m${i}`))).errcode);
    expect(codes).toEqual([-1, -1, 93004, 45009, 93000, 0]);
    expect((await post(fake.webhookUrl('k2'), text('other'))).errcode).toBe(0);
    expect(fake.rejected.map((r) => r.errcode)).toEqual([-1, -1, 93004, 45009, 93000]);
  });

  it('rate limit (real time): (limit+1)th in window → 45009, blocked for blockMs beyond the window', async () => {
    const rl = new FakeWecomRobot({ rateLimit: 3, windowMs: 300, blockMs: 800 });
    await rl.start();
    rl.addKey('r');
    const u = rl.webhookUrl('r');
    try {
      for (let i = 0; i < 3; i++) expect((await post(u, text(`m${i}`))).errcode).toBe(0);
      const r = await post(u, text('m3'));
      expect(r.errcode).toBe(45009);
      expect(r.errmsg).toContain('api freq out of limit');
      await sleep(400); // window has passed, block has not
      expect((await post(u, text('m4'))).errcode).toBe(45009);
      await sleep(500); // block over
      expect((await post(u, text('m5'))).errcode).toBe(0);
      expect(rl.maxInAnyWindow('r', 300)).toBe(3);
    } finally {
      await rl.stop();
    }
  });

  it('sliding window and maxInAnyWindow with an injected clock', async () => {
    const clock = new Clock();
    const rl = new FakeWecomRobot({ rateLimit: 20, windowMs: 60_000, blockMs: 60_000, now: clock.now });
    await rl.start();
    rl.addKey('r');
    const u = rl.webhookUrl('r');
    try {
      for (let i = 0; i < 10; i++) expect((await post(u, text('a'))).errcode).toBe(0); // t=0
      clock.t += 30_000;
      for (let i = 0; i < 10; i++) expect((await post(u, text('b'))).errcode).toBe(0); // t=30s
      clock.t += 29_999;
      expect((await post(u, text('c'))).errcode).toBe(45009); // 21st within 60 s
      clock.t += 59_999;
      expect((await post(u, text('d'))).errcode).toBe(45009); // still blocked
      clock.t += 1;
      expect((await post(u, text('e'))).errcode).toBe(0);
      expect(rl.maxInAnyWindow('r', 60_000)).toBe(20);
      expect(rl.maxInAnyWindow('r', 1)).toBe(10);
      expect(rl.maxInAnyWindow('other', 60_000)).toBe(0);
    } finally {
      await rl.stop();
    }
  });
});

describe('dingtalkSign', () => {
  it('matches the derived vectors of protocols.md §3.1', () => {
    expect(dingtalkSign(1577262236757, 'this is secret')).toBe('hmPWwU+7lVdm3ZZz0r9tSfx0L4Q26jWOZr9+Gs6EZQM=');
    expect(encodeURIComponent(dingtalkSign('1577262236757', 'this is secret'))).toBe('hmPWwU%2B7lVdm3ZZz0r9tSfx0L4Q26jWOZr9%2BGs6EZQM%3D');
    expect(dingtalkSign(1577262236757, 'SEC000000000000000000000')).toBe('xOJIB8eNoYWeLy26EMZOlc2RjOJbtPv9HYjm+E3uALU=');
  });
});

describe('FakeDingtalkRobot', () => {
  const TS = 1577262236757;
  const SECRET = 'this is secret';
  const clock = new Clock();
  let fake: FakeDingtalkRobot;
  const text = (content: string, at?: Record<string, unknown>) => ({ msgtype: 'text', text: { content }, ...(at ? { at } : {}) });
  const signed = (ts: number | string, sign: string): string => `${fake.webhookUrl('signed')}&timestamp=${ts}&sign=${sign}`;

  beforeEach(async () => {
    clock.t = TS;
    fake = new FakeDingtalkRobot({ now: clock.now });
    await fake.start();
    fake.addRobot('open');
    fake.addRobot('signed', { secret: SECRET });
    fake.addRobot('kw', { keywords: ['隐患', '风险'] });
  });
  afterEach(() => fake.stop());

  it('accepts a valid text message and records at + mentionsInText', async () => {
    expect(fake.webhookUrl('open')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/robot\/send\?access_token=open$/);
    const r = await post(fake.webhookUrl('open'), text('请 @13800001111 处理', { atMobiles: ['13800001111', '13900002222'], atUserIds: ['u1'], isAtAll: false }));
    expect(r).toEqual({ status: 200, errcode: 0, errmsg: 'ok' });
    expect(fake.received[0]).toMatchObject({
      token: 'open', msgtype: 'text', receivedAt: TS,
      at: { atMobiles: ['13800001111', '13900002222'], atUserIds: ['u1'], isAtAll: false },
      mentionsInText: { mobiles: { '13800001111': true, '13900002222': false }, userIds: { u1: false } },
    });
  });

  it('markdown honours at; link/actionCard/feedCard ignore it', async () => {
    const u = fake.webhookUrl('open');
    const at = { atUserIds: ['u1'], isAtAll: true };
    expect((await post(u, { msgtype: 'markdown', markdown: { title: 't', text: '### x @u1' }, at })).errcode).toBe(0);
    expect((await post(u, { msgtype: 'link', link: { title: 't', text: 'x', messageUrl: 'https://e.com' }, at })).errcode).toBe(0);
    expect((await post(u, { msgtype: 'actionCard', actionCard: { title: 't', text: 'x', singleTitle: 'go', singleURL: 'https://e.com' }, at })).errcode).toBe(0);
    expect((await post(u, { msgtype: 'feedCard', feedCard: { links: [{ title: 't', messageURL: 'https://e.com', picURL: 'https://e.com/p.png' }] } })).errcode).toBe(0);
    expect(fake.received[0].at).toEqual({ atMobiles: [], atUserIds: ['u1'], isAtAll: true });
    expect(fake.received[0].mentionsInText.userIds).toEqual({ u1: true });
    expect(fake.received.slice(1).map((m) => m.at.isAtAll)).toEqual([false, false, false]);
  });

  it('unknown token → 300001, or 400101 when configured', async () => {
    const r = await post(fake.webhookUrl('nope'), text('x'));
    expect(r).toMatchObject({ status: 200, errcode: 300001, errmsg: 'token is not exist' });
    const alt = new FakeDingtalkRobot({ tokenErrcode: 400101 });
    await alt.start();
    try {
      expect((await post(alt.webhookUrl('nope'), text('x'))).errcode).toBe(400101);
    } finally {
      await alt.stop();
    }
  });

  it('unsupported msgtype → 400105; bad JSON → 40035; wrong Content-Type → 43004; missing field → 40035', async () => {
    const u = fake.webhookUrl('open');
    expect((await post(u, { msgtype: 'image', image: {} })).errcode).toBe(400105);
    expect((await post(u, '{not json')).errcode).toBe(40035);
    expect((await post(u, text('x'), 'text/plain')).errcode).toBe(43004);
    expect((await post(u, text('x'), 'application/json; charset=utf-8')).errcode).toBe(0);
    expect((await post(u, { msgtype: 'markdown', markdown: { text: 'no title' } })).errcode).toBe(40035);
    expect(fake.rejected.map((r) => r.errcode)).toEqual([400105, 40035, 43004, 40035]);
  });

  it('signature: valid sign within ±1 h accepted', async () => {
    const sign = encodeURIComponent(dingtalkSign(TS, SECRET));
    expect((await post(signed(TS, sign), text('x'))).errcode).toBe(0);
    clock.t = TS + 3_600_000; // exactly 1 h later still valid
    expect((await post(signed(TS, sign), text('x'))).errcode).toBe(0);
    clock.t = TS - 3_600_000;
    expect((await post(signed(TS, sign), text('x'))).errcode).toBe(0);
  });

  it('signature: missing params, stale timestamp, wrong / double-encoded / unencoded sign → 310000', async () => {
    const good = dingtalkSign(TS, SECRET);
    const cases: Array<[string, string]> = [
      [fake.webhookUrl('signed'), 'invalid timestamp'],
      [`${fake.webhookUrl('signed')}&timestamp=${TS}`, 'sign not match'],
      [`${fake.webhookUrl('signed')}&sign=${encodeURIComponent(good)}`, 'invalid timestamp'],
      [signed(TS + 1, encodeURIComponent(good)), 'sign not match'],
      [signed(TS, encodeURIComponent(encodeURIComponent(good))), 'sign not match'], // %252B
      [signed(TS, good), 'sign not match'], // raw '+' decodes to a space
      [signed(TS, encodeURIComponent(dingtalkSign(TS, 'SEC000000000000000000000'))), 'sign not match'],
      [signed('abc', encodeURIComponent(good)), 'invalid timestamp'],
    ];
    expect(encodeURIComponent(encodeURIComponent(good))).toContain('%252B');
    for (const [u, msg] of cases) expect(await post(u, text('x'))).toMatchObject({ errcode: 310000, errmsg: msg });
    clock.t = TS + 3_600_001;
    expect(await post(signed(TS, encodeURIComponent(good)), text('x'))).toMatchObject({ errcode: 310000, errmsg: 'invalid timestamp' });
    clock.t = TS - 3_600_001;
    expect((await post(signed(TS, encodeURIComponent(good)), text('x'))).errcode).toBe(310000);
    expect(fake.received).toHaveLength(0);
  });

  it('keywords: at least one must appear in the message text of every msgtype', async () => {
    const u = fake.webhookUrl('kw');
    const r = await post(u, text('普通通知'));
    expect(r).toMatchObject({ errcode: 310000, errmsg: 'keywords not in content' });
    expect((await post(u, text('发现隐患'))).errcode).toBe(0);
    expect((await post(u, { msgtype: 'markdown', markdown: { title: '风险提醒', text: '详情' } })).errcode).toBe(0);
    expect((await post(u, { msgtype: 'markdown', markdown: { title: 't', text: '有隐患' } })).errcode).toBe(0);
    expect((await post(u, { msgtype: 'link', link: { title: '隐患', text: 'x', messageUrl: 'https://e.com' } })).errcode).toBe(0);
    expect((await post(u, { msgtype: 'actionCard', actionCard: { title: 't', text: '风险', btns: [{ title: 'a', actionURL: 'https://e.com' }] } })).errcode).toBe(0);
    expect((await post(u, { msgtype: 'actionCard', actionCard: { title: 't', text: 'x', btns: [{ title: '隐患', actionURL: 'https://e.com' }] } })).errcode).toBe(310000);
    expect((await post(u, { msgtype: 'feedCard', feedCard: { links: [{ title: '风险', messageURL: 'https://e.com' }] } })).errcode).toBe(0);
  });

  it('failNext forces errors for the next N requests', async () => {
    const u = fake.webhookUrl('open');
    fake.failNext('open', -1, 2);
    fake.failNext('open', 410100);
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push((await post(u, text('x'))).errcode);
    expect(codes).toEqual([-1, -1, 410100, 0]);
  });

  it('rate limit (real time): 21st → 130101, then blocked for blockMs', async () => {
    const rl = new FakeDingtalkRobot({ windowMs: 500, blockMs: 1000 });
    await rl.start();
    rl.addRobot('t');
    const u = rl.webhookUrl('t');
    try {
      for (let i = 0; i < 20; i++) expect((await post(u, text(`m${i}`))).errcode).toBe(0);
      expect(await post(u, text('21'))).toMatchObject({ errcode: 130101, errmsg: 'send too fast, exceed 20 times per minute' });
      await sleep(600); // window passed, still blocked
      expect((await post(u, text('22'))).errcode).toBe(130101);
      await sleep(500);
      expect((await post(u, text('23'))).errcode).toBe(0);
      expect(rl.maxInAnyWindow('t', 500)).toBe(20);
    } finally {
      await rl.stop();
    }
  });

  it('rate limit with injected clock: 10-minute block by default, 410100 when configured', async () => {
    const c = new Clock();
    const rl = new FakeDingtalkRobot({ rateLimit: 2, rateLimitErrcode: 410100, now: c.now });
    await rl.start();
    rl.addRobot('t');
    const u = rl.webhookUrl('t');
    try {
      expect((await post(u, text('a'))).errcode).toBe(0);
      c.t += 59_000;
      expect((await post(u, text('b'))).errcode).toBe(0);
      c.t += 999;
      expect((await post(u, text('c'))).errcode).toBe(410100);
      c.t += 599_999;
      expect((await post(u, text('d'))).errcode).toBe(410100);
      c.t += 1;
      expect((await post(u, text('e'))).errcode).toBe(0);
      expect(rl.maxInAnyWindow('t', 60_000)).toBe(2);
      expect(rl.maxInAnyWindow('t', 59_000)).toBe(1);
    } finally {
      await rl.stop();
    }
  });
});
