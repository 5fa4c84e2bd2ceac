import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Message types a WeCom group robot accepts (doc https://developer.work.weixin.qq.com/document/path/99110). */
export const WECOM_MSGTYPES = ['text', 'markdown', 'markdown_v2', 'image', 'news', 'file', 'voice', 'template_card'] as const;
export type WecomMsgtype = (typeof WECOM_MSGTYPES)[number];

export interface FakeWecomRobotOptions {
  /** Messages accepted per key within `windowMs` (doc 99110: 20/min per robot). */
  rateLimit?: number;
  windowMs?: number;
  /** How long a key stays blocked after exceeding the limit (doc 90312: minute blocks last 60 s). */
  blockMs?: number;
  /** Reject text > 2048 bytes (documented limit) instead of only flagging `wouldTruncate`. */
  strictText?: boolean;
  /** Require `Content-Type: application/json` (charset suffix allowed). Default true. */
  requireJsonContentType?: boolean;
  /** Injectable clock (ms) used for rate limiting and `receivedAt`. */
  now?: () => number;
}

/** One accepted message, as the group would see it. */
export interface WecomReceived {
  key: string;
  msgtype: WecomMsgtype;
  body: Record<string, unknown>;
  receivedAt: number;
  /** `text.mentioned_list` (markdown has no such field: always [] there). */
  mentionedList: string[];
  /** `text.mentioned_mobile_list` (text only). */
  mentionedMobileList: string[];
  /** userids from inline `<@userid>` in text/markdown content (markdown_v2 has no @ syntax: []). */
  inlineMentions: string[];
  /** text content of 2049–5120 bytes: accepted, but beyond the documented 2048-byte limit. */
  wouldTruncate: boolean;
}

export interface WecomRejected {
  key: string;
  errcode: number;
  errmsg: string;
  rawBody: string;
  receivedAt: number;
}

interface WecomError {
  errcode: number;
  reason: string;
}

const TEXT_DOC_LIMIT = 2048;
const TEXT_HARD_LIMIT = 5120;
const MARKDOWN_LIMIT = 4096;
const FORCED_REASONS: Record<number, string> = {
  93000: 'invalid webhook url',
  93004: 'webhook is disabled',
  [-1]: 'system busy',
  45009: 'api freq out of limit',
};

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** Errors are HTTP 200 with an errmsg shaped like the real one (doc 99110, obs BiliBiliTool#569). */
function errmsg(e: WecomError): string {
  return `${e.reason}, hint: [fake], from ip: 127.0.0.1, more info at https://open.work.weixin.qq.com/devtool/query?e=${e.errcode}`;
}

/** Max number of timestamps inside any half-open span of `windowMs` (two pointers over sorted times). */
function maxInSpan(times: number[], windowMs: number): number {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let lo = 0, hi = 0; hi < t.length; hi++) {
    while (t[hi] - t[lo] >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

/**
 * Local fake of the WeCom group-robot webhook `POST /cgi-bin/webhook/send?key=KEY`
 * (doc https://developer.work.weixin.qq.com/document/path/99110, error codes
 * https://developer.work.weixin.qq.com/document/path/90313), following protocols.md §1.6.
 * Always answers HTTP 200; the outcome is `errcode` in the JSON body.
 */
export class FakeWecomRobot {
  readonly received: WecomReceived[] = [];
  readonly rejected: WecomRejected[] = [];
  private readonly keys = new Set<string>();
  private readonly windows = new Map<string, number[]>();
  private readonly blockedUntil = new Map<string, number>();
  private readonly forced = new Map<string, number[]>();
  private readonly opts: Required<FakeWecomRobotOptions>;
  private server?: http.Server;
  private base = '';

  constructor(options: FakeWecomRobotOptions = {}) {
    this.opts = {
      rateLimit: 20, windowMs: 60_000, blockMs: 60_000, strictText: false,
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

  /** Registers a valid robot key; any other key gets 93000. */
  addKey(key: string): void {
    this.keys.add(key);
  }

  webhookUrl(key: string): string {
    return `${this.base}/cgi-bin/webhook/send?key=${key}`;
  }

  /** Forces the next `count` requests for `key` to fail with `errcode` (e.g. 93000, 93004, -1, 45009). */
  failNext(key: string, errcode: number, count = 1): void {
    const queue = this.forced.get(key) ?? [];
    for (let i = 0; i < count; i++) queue.push(errcode);
    this.forced.set(key, queue);
  }

  /** Maximum number of accepted messages for `key` within any `windowMs` span. */
  maxInAnyWindow(key: string, windowMs: number): number {
    return maxInSpan(this.received.filter((m) => m.key === key).map((m) => m.receivedAt), windowMs);
  }

  /** Clears recordings, rate-limit state and forced failures (keys stay registered). */
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
      if (url.pathname !== '/cgi-bin/webhook/send') {
        res.writeHead(404).end();
        return;
      }
      const key = url.searchParams.get('key') ?? '';
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const now = this.opts.now();
      const outcome = this.handle(key, req.headers['content-type'], rawBody, now);
      let payload: { errcode: number; errmsg: string };
      if ('errcode' in outcome) {
        payload = { errcode: outcome.errcode, errmsg: errmsg(outcome) };
        this.rejected.push({ key, errcode: outcome.errcode, errmsg: payload.errmsg, rawBody, receivedAt: now });
      } else {
        payload = { errcode: 0, errmsg: 'ok' };
        this.received.push(outcome);
      }
      res.writeHead(200, { 'Content-Type': 'application/json; charset=UTF-8' }).end(JSON.stringify(payload));
    });
  }

  /** Check order: forced failure, key, rate limit, content type, JSON, msgtype, per-type content. */
  private handle(key: string, contentType: string | undefined, raw: string, now: number): WecomError | WecomReceived {
    const forced = this.forced.get(key)?.shift();
    if (forced !== undefined) return { errcode: forced, reason: FORCED_REASONS[forced] ?? 'forced error' };
    if (!this.keys.has(key)) return { errcode: 93000, reason: 'invalid webhook url' };

    const window = (this.windows.get(key) ?? []).filter((t) => now - t < this.opts.windowMs);
    this.windows.set(key, window);
    if (now < (this.blockedUntil.get(key) ?? -Infinity)) return { errcode: 45009, reason: 'api freq out of limit' };
    if (window.length >= this.opts.rateLimit) {
      this.blockedUntil.set(key, now + this.opts.blockMs);
      return { errcode: 45009, reason: 'api freq out of limit' };
    }

    const mediaType = (contentType ?? '').split(';')[0].trim().toLowerCase();
    if (this.opts.requireJsonContentType && mediaType !== 'application/json') {
      return { errcode: 40058, reason: `invalid Content-Type ${mediaType || '(none)'}, expect application/json. invalid Request Parameter` };
    }
    if (raw.trim() === '') return { errcode: 93017, reason: 'request body empty' };
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      body = undefined;
    }
    if (!isObject(body)) return { errcode: 40058, reason: 'Warning: wrong json format. invalid Request Parameter' };
    const msgtype = body.msgtype;
    if (typeof msgtype !== 'string' || !(WECOM_MSGTYPES as readonly string[]).includes(msgtype)) {
      return { errcode: 40008, reason: 'invalid message type' };
    }
    const part = body[msgtype];
    const rec: WecomReceived = {
      key, msgtype: msgtype as WecomMsgtype, body, receivedAt: now,
      mentionedList: [], mentionedMobileList: [], inlineMentions: [], wouldTruncate: false,
    };
    if (msgtype === 'text' || msgtype === 'markdown' || msgtype === 'markdown_v2') {
      const content = isObject(part) && typeof part.content === 'string' ? part.content : '';
      if (content === '') return { errcode: 44004, reason: 'empty content' };
      const size = bytes(content);
      if (msgtype === 'text') {
        if (size > TEXT_HARD_LIMIT || (this.opts.strictText && size > TEXT_DOC_LIMIT)) {
          const limit = size > TEXT_HARD_LIMIT ? TEXT_HARD_LIMIT : TEXT_DOC_LIMIT;
          return { errcode: 40058, reason: `text.content exceed max length ${limit}. Invalid input invalid Request Parameter` };
        }
        rec.wouldTruncate = size > TEXT_DOC_LIMIT;
        rec.mentionedList = strings(isObject(part) ? part.mentioned_list : undefined);
        rec.mentionedMobileList = strings(isObject(part) ? part.mentioned_mobile_list : undefined);
      } else if (size > MARKDOWN_LIMIT) {
        return { errcode: 40058, reason: `${msgtype}.content exceed max length ${MARKDOWN_LIMIT}. invalid Request Parameter` };
      }
      if (msgtype !== 'markdown_v2') rec.inlineMentions = [...content.matchAll(/<@([^<>\s]+)>/g)].map((m) => m[1]);
    } else if (!isObject(part)) {
      return { errcode: 40058, reason: `missing ${msgtype}. invalid Request Parameter` };
    } else if (msgtype === 'news') {
      const n = Array.isArray(part.articles) ? part.articles.length : 0;
      if (n < 1 || n > 8) return { errcode: 45008, reason: 'article count out of range' };
    }
    window.push(now);
    return rec;
  }
}
