import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Message types the custom-robot webhook accepts (doc https://open.dingtalk.com/document/development/robot-message-type). */
export const DINGTALK_MSGTYPES = ['text', 'link', 'markdown', 'actionCard', 'feedCard'] as const;
export type DingtalkMsgtype = (typeof DINGTALK_MSGTYPES)[number];

/**
 * Custom-robot signature: base64(HmacSHA256(key=secret, data=timestamp + "\n" + secret)), UTF-8.
 * The URL `sign` parameter is `encodeURIComponent` of this value
 * (doc https://open.dingtalk.com/document/dingstart/customize-robot-security-settings).
 * Written independently of server/ so a product bug is not mirrored here.
 */
export function dingtalkSign(timestamp: number | string, secret: string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${timestamp}\n${secret}`, 'utf8').digest('base64');
}

export interface DingtalkRobotConfig {
  /** Up to 10 keywords; a message must contain at least one. */
  keywords?: string[];
  /** 加签 secret (`SEC…`); when set, `timestamp` and `sign` are required on the URL. */
  secret?: string;
}

export interface FakeDingtalkRobotOptions {
  /** Code for an unknown access_token: 300001 (observed) or 400101 (current doc). */
  tokenErrcode?: 300001 | 400101;
  /** Code for the rate limit: 130101 (observed) or 410100 (current doc). */
  rateLimitErrcode?: 130101 | 410100;
  /** Messages per token within `windowMs` (doc: 20/min), then blocked for `blockMs` (doc: 10 min). */
  rateLimit?: number;
  windowMs?: number;
  blockMs?: number;
  /** Require `Content-Type: application/json` (charset suffix allowed), else 43004. Default true. */
  requireJsonContentType?: boolean;
  /** Injectable clock (ms): signature timestamp window, rate limiting and `receivedAt`. */
  now?: () => number;
}

export interface DingtalkAt {
  atMobiles: string[];
  atUserIds: string[];
  isAtAll: boolean;
}

/** One accepted message. */
export interface DingtalkReceived {
  token: string;
  msgtype: DingtalkMsgtype;
  body: Record<string, unknown>;
  receivedAt: number;
  /** Parsed `at` for text/markdown; empty for link/feedCard/actionCard, which do not support `at`. */
  at: DingtalkAt;
  /** Per @ target: whether the message text contains `@<mobile>` / `@<userId>` (needed for a real highlighted @). */
  mentionsInText: { mobiles: Record<string, boolean>; userIds: Record<string, boolean> };
}

export interface DingtalkRejected {
  token: string;
  errcode: number;
  errmsg: string;
  rawBody: string;
  receivedAt: number;
}

interface DingtalkError {
  errcode: number;
  errmsg: string;
}

const HOUR_MS = 3_600_000;
const FORCED_ERRMSG: Record<number, string> = {
  [-1]: '系统繁忙',
  130101: 'send too fast, exceed 20 times per minute',
  410100: '发送速度太快而限流',
  300001: 'token is not exist',
  400101: 'access_token不存在',
  400102: '机器人已停用',
  400106: '机器人不存在于群中',
  400013: '群已被解散',
  310000: 'sign not match',
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** Max number of timestamps inside any half-open span of `windowMs`. */
function maxInSpan(times: number[], windowMs: number): number {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let lo = 0, hi = 0; hi < t.length; hi++) {
    while (t[hi] - t[lo] >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

/** Required fields per msgtype, and the text that keywords / @mentions are searched in. */
function inspect(msgtype: DingtalkMsgtype, p: Record<string, unknown>): { missing?: string; text: string; mentionText: string } {
  switch (msgtype) {
    case 'text':
      return { missing: str(p.content) ? undefined : 'text.content', text: str(p.content), mentionText: str(p.content) };
    case 'markdown': {
      const missing = !str(p.title) ? 'markdown.title' : !str(p.text) ? 'markdown.text' : undefined;
      return { missing, text: `${str(p.title)}\n${str(p.text)}`, mentionText: str(p.text) };
    }
    case 'link': {
      const missing = ['title', 'text', 'messageUrl'].find((f) => !str(p[f]));
      return { missing: missing && `link.${missing}`, text: `${str(p.title)}\n${str(p.text)}`, mentionText: '' };
    }
    case 'actionCard': {
      const btns = Array.isArray(p.btns) ? p.btns.filter(isObject) : [];
      const jump = (str(p.singleTitle) && str(p.singleURL)) || btns.length > 0;
      const missing = !str(p.title) ? 'actionCard.title' : !str(p.text) ? 'actionCard.text' : !jump ? 'actionCard.btns' : undefined;
      return { missing, text: `${str(p.title)}\n${str(p.text)}`, mentionText: '' };
    }
    case 'feedCard': {
      const links = Array.isArray(p.links) ? p.links.filter(isObject) : [];
      const ok = links.length > 0 && links.every((l) => str(l.title) && str(l.messageURL));
      return { missing: ok ? undefined : 'feedCard.links', text: links.map((l) => str(l.title)).join('\n'), mentionText: '' };
    }
  }
}

/**
 * Local fake of the DingTalk custom-robot webhook `POST /robot/send?access_token=TOKEN[&timestamp&sign]`
 * (doc https://open.dingtalk.com/document/development/custom-robots-send-group-messages,
 * security https://open.dingtalk.com/document/dingstart/customize-robot-security-settings),
 * following protocols.md §3.1/§3.5. Always HTTP 200; the outcome is `errcode` in the JSON body.
 */
export class FakeDingtalkRobot {
  readonly received: DingtalkReceived[] = [];
  readonly rejected: DingtalkRejected[] = [];
  private readonly robots = new Map<string, DingtalkRobotConfig>();
  private readonly windows = new Map<string, number[]>();
  private readonly blockedUntil = new Map<string, number>();
  private readonly forced = new Map<string, number[]>();
  private readonly opts: Required<FakeDingtalkRobotOptions>;
  private server?: http.Server;
  private base = '';

  constructor(options: FakeDingtalkRobotOptions = {}) {
    this.opts = {
      tokenErrcode: 300001, rateLimitErrcode: 130101, rateLimit: 20, windowMs: 60_000, blockMs: 600_000,
      requireJsonContentType: true, now: Date.now, ...options,
    };
  }

  /** Listens on 127.0.0.1:0 and resolves to the base URL `http://127.0.0.1:PORT`. */
  async start(): Promise<string> {
    if (this.server) return this.base;
    const server = http.createServer((req, res) => this.onRequest(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.base;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Registers a robot; unknown tokens get 300001 (or 400101). */
  addRobot(accessToken: string, config: DingtalkRobotConfig = {}): void {
    this.robots.set(accessToken, { keywords: config.keywords ?? [], secret: config.secret });
  }

  /** Webhook URL without signature; append `&timestamp=…&sign=…` for signed robots. */
  webhookUrl(token: string): string {
    return `${this.base}/robot/send?access_token=${token}`;
  }

  /** Forces the next `count` requests for `token` to fail with `errcode` (e.g. -1, 130101, 410100, 400102). */
  failNext(token: string, errcode: number, count = 1): void {
    const queue = this.forced.get(token) ?? [];
    for (let i = 0; i < count; i++) queue.push(errcode);
    this.forced.set(token, queue);
  }

  /** Maximum number of accepted messages for `token` within any `windowMs` span. */
  maxInAnyWindow(token: string, windowMs: number): number {
    return maxInSpan(this.received.filter((m) => m.token === token).map((m) => m.receivedAt), windowMs);
  }

  /** Clears recordings, rate-limit state and forced failures (robots stay registered). */
  reset(): void {
    this.received.length = 0;
    this.rejected.length = 0;
    this.windows.clear();
    this.blockedUntil.clear();
    this.forced.clear();
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', this.base);
      if (url.pathname !== '/robot/send') {
        res.writeHead(404).end();
        return;
      }
      const token = url.searchParams.get('access_token') ?? '';
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const now = this.opts.now();
      const outcome = this.handle(token, url.searchParams, req.headers['content-type'], rawBody, now);
      let payload: DingtalkError;
      if ('errcode' in outcome) {
        payload = outcome;
        this.rejected.push({ token, ...outcome, rawBody, receivedAt: now });
      } else {
        payload = { errcode: 0, errmsg: 'ok' };
        this.received.push(outcome);
      }
      res.writeHead(200, { 'Content-Type': 'application/json;charset=utf-8' }).end(JSON.stringify(payload));
    });
  }

  /** Check order: forced, token, signature, rate limit, content type, JSON, msgtype, fields, keywords. */
  private handle(token: string, q: URLSearchParams, contentType: string | undefined, raw: string, now: number): DingtalkError | DingtalkReceived {
    const forced = this.forced.get(token)?.shift();
    if (forced !== undefined) return { errcode: forced, errmsg: FORCED_ERRMSG[forced] ?? 'forced error' };
    const robot = this.robots.get(token);
    if (!robot) {
      return { errcode: this.opts.tokenErrcode, errmsg: this.opts.tokenErrcode === 300001 ? 'token is not exist' : 'access_token不存在' };
    }

    if (robot.secret !== undefined) {
      // URLSearchParams percent-decodes exactly once (and turns a raw '+' into a space, as a servlet would).
      const timestamp = q.get('timestamp');
      const sign = q.get('sign');
      if (!timestamp) return { errcode: 310000, errmsg: 'invalid timestamp' };
      if (!sign) return { errcode: 310000, errmsg: 'sign not match' };
      if (!/^\d+$/.test(timestamp) || Math.abs(now - Number(timestamp)) > HOUR_MS) {
        return { errcode: 310000, errmsg: 'invalid timestamp' };
      }
      if (sign !== dingtalkSign(timestamp, robot.secret)) return { errcode: 310000, errmsg: 'sign not match' };
    }

    const window = (this.windows.get(token) ?? []).filter((t) => now - t < this.opts.windowMs);
    this.windows.set(token, window);
    const blocked = now < (this.blockedUntil.get(token) ?? -Infinity);
    if (blocked || window.length >= this.opts.rateLimit) {
      if (!blocked) this.blockedUntil.set(token, now + this.opts.blockMs);
      const code = this.opts.rateLimitErrcode;
      return { errcode: code, errmsg: code === 130101 ? `send too fast, exceed ${this.opts.rateLimit} times per minute` : '发送速度太快而限流' };
    }

    const mediaType = (contentType ?? '').split(';')[0].trim().toLowerCase();
    if (this.opts.requireJsonContentType && mediaType !== 'application/json') {
      return { errcode: 43004, errmsg: 'invalid Content-Type' };
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      body = undefined;
    }
    if (!isObject(body)) return { errcode: 40035, errmsg: 'missing json' };
    const msgtype = body.msgtype;
    if (typeof msgtype !== 'string' || !(DINGTALK_MSGTYPES as readonly string[]).includes(msgtype)) {
      return { errcode: 400105, errmsg: '不支持的消息类型' };
    }
    const part = body[msgtype];
    const info = inspect(msgtype as DingtalkMsgtype, isObject(part) ? part : {});
    if (info.missing) return { errcode: 40035, errmsg: `missing param ${info.missing}` };
    const keywords = robot.keywords ?? [];
    if (keywords.length > 0 && !keywords.some((k) => info.text.includes(k))) {
      return { errcode: 310000, errmsg: 'keywords not in content' };
    }

    const rawAt = msgtype === 'text' || msgtype === 'markdown' ? body.at : undefined;
    const at: DingtalkAt = isObject(rawAt)
      ? { atMobiles: strings(rawAt.atMobiles), atUserIds: strings(rawAt.atUserIds), isAtAll: rawAt.isAtAll === true }
      : { atMobiles: [], atUserIds: [], isAtAll: false };
    const inText = (ids: string[]): Record<string, boolean> =>
      Object.fromEntries(ids.map((id) => [id, info.mentionText.includes(`@${id}`)]));
    window.push(now);
    return {
      token, msgtype: msgtype as DingtalkMsgtype, body, receivedAt: now, at,
      mentionsInText: { mobiles: inText(at.atMobiles), userIds: inText(at.atUserIds) },
    };
  }
}
