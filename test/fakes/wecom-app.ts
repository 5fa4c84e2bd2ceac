/**
 * Local fake of the WeCom self-built app API and a driver that calls our callback URL exactly like
 * WeCom does (protocols.md §2.10; docs 91039 gettoken, 90236 message/send and template cards,
 * 94888 update_template_card, 90930/90968 callbacks). Always HTTP 200; the outcome is `errcode`.
 *
 * FakeWecomApp:
 * - GET  /cgi-bin/gettoken — wrong corpid 40013, wrong secret 40001, `ipBlocked` 60020; the same
 *   token while valid (7200 s); `expireTokenNow(code)` makes calls with the current token answer
 *   40014 (default, what WeCom does today) or 42001 until a new one is fetched.
 * - POST /cgi-bin/message/send — token (41001 missing, 40014/42001), `agentid` must be the app's
 *   integer id (40056), touser/toparty/totag not all empty (82001), `touser` split on `|`:
 *   unknown users → `invaliduser` lower-cased, all unknown → 81013; text > 2048 bytes is truncated
 *   in the record; template_card `button_interaction` checked (task_id required, charset, ≤ 128
 *   bytes and unique per app → 40058; title; 1..6 buttons with keys/urls; ≤ 6 horizontal items) and
 *   answered with a fresh `response_code`; per member > 30/min or > 1000/h → accepted but
 *   `dropped: 'rate'` (WeCom drops silently); `enable_duplicate_check` → the same JSON within the
 *   interval is accepted but `dropped: 'duplicate'`.
 * - POST /cgi-bin/message/update_template_card — response_code single use, 72 h (40058 otherwise;
 *   the exact code is unverified), `invaliduser` as an array.
 *
 * WecomCallbackDriver: builds the GET (URL verification) and POST (message/event) requests from
 * (token, EncodingAESKey, corpid, plaintext, random16?) — query built with encodeURIComponent, the
 * XML envelope with ToUserName/Encrypt/AgentID — sends them to an app, checks the 200 within 5 s
 * and can retry up to 3 times as WeCom does. It reproduces the official vectors A1/A2/B1/B2.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { encrypt as wecomEncrypt, getSignature } from '@wecom/crypto';

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const HOUR = 3600_000;

export const TEXT_MAX_BYTES = 2048;
export const RESPONSE_CODE_TTL_MS = 72 * HOUR;

export interface FakeWecomAppOptions {
  corpId: string;
  secret: string;
  agentId: number;
  /** userids of the corp (case-insensitive, as WeCom treats them) */
  users?: string[];
  /** injectable clock (ms) for token expiry, rate windows, duplicate check, response_code TTL */
  now?: () => number;
  /** expires_in of issued tokens, s (default 7200) */
  tokenExpiresIn?: number;
}

/** One accepted message/send. */
export interface FakeSent {
  at: number;
  body: Record<string, unknown>;
  msgtype: string;
  /** touser as split on `|` */
  touser: string[];
  /** users who were shown it */
  delivered: string[];
  /** unknown users (lower-cased) */
  invalid: string[];
  /** users WeCom accepted it for but did not show it to */
  dropped: Array<{ user: string; reason: 'rate' | 'duplicate' }>;
  /** text as the user sees it (truncated to 2048 bytes) */
  text?: string;
  truncated: boolean;
  taskId?: string;
  responseCode?: string;
  msgid: string;
  /** fields over WeCom's recommended lengths (shown cut by the client) */
  warnings: string[];
}

export interface FakeUpdate {
  at: number;
  responseCode: string;
  /** the card (task id) the code belonged to */
  taskId?: string;
  userids: string[];
  replaceName?: string;
  templateCard?: Record<string, unknown>;
}

interface CodeInfo {
  taskId?: string;
  issuedAt: number;
  used: boolean;
  source: 'send' | 'event';
}

type Outcome = { errcode: number; errmsg: string; [k: string]: unknown };

const err = (errcode: number, reason: string): Outcome => ({
  errcode,
  errmsg: `${reason}, hint: [fake], from ip: 127.0.0.1, more info at https://open.work.weixin.qq.com/devtool/query?e=${errcode}`,
});

export class FakeWecomApp {
  readonly sent: FakeSent[] = [];
  readonly rejected: Array<{ path: string; errcode: number; errmsg: string; body: string }> = [];
  readonly updates: FakeUpdate[] = [];
  gettokenCalls = 0;
  /** 60020 on gettoken while true (server IP not in 企业可信IP) */
  ipBlocked = false;
  private readonly users = new Map<string, string>();
  private readonly tokens = new Map<string, { expiresAt: number; revoked?: number }>();
  private current: string | null = null;
  private readonly taskIds = new Set<string>();
  private readonly codes = new Map<string, CodeInfo>();
  private readonly perMember = new Map<string, number[]>();
  private readonly dupes = new Map<string, number>();
  private readonly forced = new Map<string, number[]>();
  private readonly now: () => number;
  private server?: http.Server;
  base = '';

  constructor(private readonly o: FakeWecomAppOptions) {
    this.now = o.now ?? Date.now;
    for (const u of o.users ?? []) this.addUser(u);
  }

  async start(): Promise<string> {
    if (this.server) return this.base;
    const server = http.createServer((req, res) => this.onRequest(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.base;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  addUser(userId: string): void {
    this.users.set(userId.toLowerCase(), userId);
  }

  /** Calls with the current token now fail with `code` (40014 as WeCom does today, or 42001) until gettoken is called again. */
  expireTokenNow(code: 40014 | 42001 = 40014): void {
    for (const t of this.tokens.values()) t.revoked ??= code;
    this.current = null;
  }

  /** The next `count` calls to `path` ('message/send', 'message/update_template_card', 'gettoken') answer `errcode`. */
  failNext(path: string, errcode: number, count = 1): void {
    const q = this.forced.get(path) ?? [];
    for (let i = 0; i < count; i++) q.push(errcode);
    this.forced.set(path, q);
  }

  /** A ResponseCode for a click on the card `taskId` (what WeCom puts into the template_card_event). */
  issueEventResponseCode(taskId: string): string {
    const code = `evt_${randomBytes(12).toString('hex')}`;
    this.codes.set(code, { taskId, issuedAt: this.now(), used: false, source: 'event' });
    return code;
  }

  /** Accepted messages shown to `user` (case-insensitive). */
  deliveredTo(user: string): FakeSent[] {
    const u = user.toLowerCase();
    return this.sent.filter((s) => s.delivered.some((d) => d.toLowerCase() === u));
  }

  reset(): void {
    this.sent.length = 0;
    this.rejected.length = 0;
    this.updates.length = 0;
    this.forced.clear();
    this.perMember.clear();
    this.dupes.clear();
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', this.base);
      const raw = Buffer.concat(chunks).toString('utf8');
      const path = url.pathname.replace(/^\/cgi-bin\//, '');
      let out: Outcome;
      const forced = this.forced.get(path)?.shift();
      if (forced !== undefined) out = err(forced, 'forced error');
      else if (path === 'gettoken' && req.method === 'GET') out = this.gettoken(url);
      else if (path === 'message/send' && req.method === 'POST') out = this.withToken(url, () => this.send(raw));
      else if (path === 'message/update_template_card' && req.method === 'POST') out = this.withToken(url, () => this.update(raw));
      else {
        res.writeHead(404).end();
        return;
      }
      if (out.errcode !== 0) this.rejected.push({ path, errcode: out.errcode, errmsg: out.errmsg, body: raw });
      res.writeHead(200, { 'Content-Type': 'application/json; charset=UTF-8' }).end(JSON.stringify(out));
    });
  }

  private gettoken(url: URL): Outcome {
    this.gettokenCalls++;
    if (this.ipBlocked) return err(60020, 'not allow to access from your ip');
    if (url.searchParams.get('corpid') !== this.o.corpId) return err(40013, 'invalid corpid');
    if (url.searchParams.get('corpsecret') !== this.o.secret) return err(40001, 'invalid credential');
    const now = this.now();
    const expiresIn = this.o.tokenExpiresIn ?? 7200;
    const live = this.current ? this.tokens.get(this.current) : undefined;
    if (!this.current || !live || live.revoked || live.expiresAt <= now) {
      this.current = `tok_${randomBytes(24).toString('hex')}`;
      this.tokens.set(this.current, { expiresAt: now + expiresIn * 1000 });
    }
    const t = this.tokens.get(this.current)!;
    return { errcode: 0, errmsg: 'ok', access_token: this.current, expires_in: Math.round((t.expiresAt - now) / 1000) };
  }

  private withToken(url: URL, fn: () => Outcome): Outcome {
    const token = url.searchParams.get('access_token');
    if (!token) return err(41001, 'access_token missing');
    const t = this.tokens.get(token);
    if (!t) return err(40014, 'invalid access_token');
    if (t.revoked) return err(t.revoked, t.revoked === 42001 ? 'access_token expired' : 'invalid access_token');
    if (t.expiresAt <= this.now()) return err(42001, 'access_token expired');
    return fn();
  }

  private send(raw: string): Outcome {
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return err(40058, 'Warning: wrong json format. invalid Request Parameter');
    }
    if (!isObject(body)) return err(40058, 'Warning: wrong json format. invalid Request Parameter');
    if (typeof body.agentid !== 'number' || !Number.isInteger(body.agentid) || body.agentid !== this.o.agentId) return err(40056, 'invalid agentid');
    const touser = typeof body.touser === 'string' ? body.touser.split('|').map((s) => s.trim()).filter(Boolean) : [];
    if (touser.length === 0 && !body.toparty && !body.totag) return err(82001, 'All touser & toparty & totag invalid');
    if (touser.length > 1000) return err(40058, 'touser exceed max count 1000');
    const msgtype = body.msgtype;
    const warnings: string[] = [];
    const rec: Partial<FakeSent> = { warnings, truncated: false };
    if (msgtype === 'text') {
      const content = isObject(body.text) && typeof body.text.content === 'string' ? body.text.content : '';
      if (!content) return err(44004, 'empty content');
      rec.truncated = bytes(content) > TEXT_MAX_BYTES;
      rec.text = rec.truncated ? Buffer.from(content, 'utf8').subarray(0, TEXT_MAX_BYTES).toString('utf8').replace(/\uFFFD+$/, '') : content;
    } else if (msgtype === 'template_card') {
      const problem = this.checkCard(body.template_card, warnings);
      if (problem) return err(40058, `${problem}. invalid Request Parameter`);
      rec.taskId = (body.template_card as { task_id?: string }).task_id;
    } else if (!['markdown', 'textcard', 'news', 'image', 'file'].includes(String(msgtype))) {
      return err(40008, 'invalid message type');
    }

    const invalid = touser.filter((u) => !this.users.has(u.toLowerCase())).map((u) => u.toLowerCase());
    const valid = touser.filter((u) => this.users.has(u.toLowerCase()));
    if (valid.length === 0 && touser.length > 0) return err(81013, 'user & party & tag all invalid');

    const now = this.now();
    if (rec.taskId) this.taskIds.add(rec.taskId);
    const dropped: FakeSent['dropped'] = [];
    // duplicate check: the same JSON within the interval is accepted and not shown again
    if (body.enable_duplicate_check === 1) {
      const interval = (typeof body.duplicate_check_interval === 'number' ? body.duplicate_check_interval : 1800) * 1000;
      const seen = this.dupes.get(raw);
      if (seen !== undefined && now - seen < interval) valid.forEach((u) => dropped.push({ user: u, reason: 'duplicate' }));
      else this.dupes.set(raw, now);
    }
    for (const u of valid) {
      if (dropped.some((d) => d.user === u)) continue;
      const key = u.toLowerCase();
      const times = (this.perMember.get(key) ?? []).filter((t) => now - t < HOUR);
      const lastMinute = times.filter((t) => now - t < 60_000).length;
      if (lastMinute >= 30 || times.length >= 1000) dropped.push({ user: u, reason: 'rate' });
      else times.push(now);
      this.perMember.set(key, times);
    }
    const interactive = msgtype === 'template_card' && ['button_interaction', 'vote_interaction', 'multiple_interaction'].includes(String((body.template_card as { card_type?: string }).card_type));
    const msgid = `msg_${randomBytes(8).toString('hex')}`;
    const responseCode = interactive ? `rc_${randomBytes(12).toString('hex')}` : undefined;
    if (responseCode) this.codes.set(responseCode, { taskId: rec.taskId, issuedAt: now, used: false, source: 'send' });
    this.sent.push({
      ...(rec as FakeSent),
      at: now,
      body,
      msgtype: String(msgtype),
      touser,
      delivered: valid.filter((u) => !dropped.some((d) => d.user === u)),
      invalid,
      dropped,
      msgid,
      responseCode,
    });
    return {
      errcode: 0,
      errmsg: 'ok',
      invaliduser: invalid.join('|'),
      invalidparty: '',
      invalidtag: '',
      unlicenseduser: '',
      msgid,
      ...(responseCode ? { response_code: responseCode } : {}),
    };
  }

  /** template_card checks (doc 90236): a problem string, or null; recommended lengths → warnings. */
  private checkCard(card: unknown, warnings: string[]): string | null {
    if (!isObject(card)) return 'missing template_card';
    const type = card.card_type;
    if (!['text_notice', 'news_notice', 'button_interaction', 'vote_interaction', 'multiple_interaction'].includes(String(type))) return 'invalid card_type';
    const len = (v: unknown) => (typeof v === 'string' ? [...v].length : 0);
    const warn = (field: string, v: unknown, max: number) => {
      if (len(v) > max) warnings.push(`${field} ${len(v)} > ${max} characters`);
    };
    const taskId = card.task_id;
    if (type !== 'text_notice' && type !== 'news_notice') {
      if (typeof taskId !== 'string' || !taskId) return 'task_id required';
      if (!/^[0-9a-zA-Z_\-@]+$/.test(taskId) || bytes(taskId) > 128) return 'invalid task_id';
      if (this.taskIds.has(taskId)) return 'duplicate task_id';
    }
    const main = card.main_title;
    if (!isObject(main) || typeof main.title !== 'string' || !main.title) return 'main_title.title required';
    warn('main_title.title', main.title, 36);
    warn('main_title.desc', main.desc, 44);
    warn('sub_title_text', card.sub_title_text, 160);
    if (isObject(card.source)) warn('source.desc', card.source.desc, 13);
    const hz = card.horizontal_content_list;
    if (hz !== undefined) {
      if (!Array.isArray(hz) || hz.length > 6) return 'horizontal_content_list exceed max count 6';
      for (const h of hz) {
        if (!isObject(h) || typeof h.keyname !== 'string' || !h.keyname) return 'horizontal_content_list.keyname required';
        warn('horizontal_content_list.keyname', h.keyname, 5);
        warn('horizontal_content_list.value', h.value, 26);
      }
    }
    if (type === 'button_interaction') {
      const buttons = card.button_list;
      if (!Array.isArray(buttons) || buttons.length < 1 || buttons.length > 6) return 'button_list must have 1..6 buttons';
      const keys = new Set<string>();
      for (const b of buttons) {
        if (!isObject(b) || typeof b.text !== 'string' || !b.text) return 'button.text required';
        warn('button.text', b.text, 10);
        if (b.type === 1) {
          if (typeof b.url !== 'string' || !/^https?:\/\//.test(b.url)) return 'button.url required for type 1';
        } else {
          if (typeof b.key !== 'string' || !b.key || bytes(b.key) > 1024) return 'button.key required (≤ 1024 bytes)';
          if (keys.has(b.key)) return 'duplicate button.key';
          keys.add(b.key);
        }
      }
    }
    return null;
  }

  private update(raw: string): Outcome {
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return err(40058, 'Warning: wrong json format. invalid Request Parameter');
    }
    if (!isObject(body)) return err(40058, 'invalid Request Parameter');
    if (body.agentid !== this.o.agentId) return err(40056, 'invalid agentid');
    const code = typeof body.response_code === 'string' ? body.response_code : '';
    const info = this.codes.get(code);
    const now = this.now();
    if (!info || info.used || now - info.issuedAt > RESPONSE_CODE_TTL_MS) return err(40058, 'invalid response_code');
    const button = isObject(body.button) ? body.button : undefined;
    const replaceName = button && typeof button.replace_name === 'string' ? button.replace_name : undefined;
    if (!replaceName && !isObject(body.template_card)) return err(40058, 'button.replace_name or template_card required');
    const userids = Array.isArray(body.userids) ? body.userids.filter((u): u is string => typeof u === 'string') : [];
    if (userids.length === 0 && body.atall !== 1 && !body.partyids && !body.tagids) return err(82001, 'All touser & toparty & totag invalid');
    info.used = true;
    this.updates.push({ at: now, responseCode: code, taskId: info.taskId, userids, replaceName, templateCard: isObject(body.template_card) ? body.template_card : undefined });
    return { errcode: 0, errmsg: 'ok', invaliduser: userids.filter((u) => !this.users.has(u.toLowerCase())).map((u) => u.toLowerCase()) };
  }
}

// ───────────────────────────── callback driver ─────────────────────────────

export interface CallbackParams {
  token: string;
  encodingAesKey: string;
  corpId: string;
  agentId?: string | number;
}

/** A request exactly as WeCom sends it. */
export interface CallbackRequest {
  method: 'GET' | 'POST';
  /** path with the query string (built with encodeURIComponent) */
  url: string;
  /** POST: the XML envelope */
  body?: string;
}

export interface BuildOptions {
  timestamp?: string | number;
  nonce?: string | number;
  /** the 16 random bytes of the frame (fixed in fixtures) */
  random?: Buffer;
}

/** The official public test vectors (protocols.md §2.8) as WeCom sent them. */
export const WECOM_VECTORS = {
  A: { token: 'QDG6eK', encodingAesKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C', corpId: 'wx5823bf96d3bd56c7' },
  B: { token: 'hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo', encodingAesKey: '6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt', corpId: 'ww1436e0e65a779aee' },
  A1: {
    query: 'msg_signature=5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3&timestamp=1409659589&nonce=263014780&echostr=P9nAzCzyDtyTWESHep1vC5X9xho%2FqYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp%2B4RPcs8TgAE7OaBO%2BFZXvnaqQ%3D%3D',
    timestamp: 1409659589,
    nonce: '263014780',
    random: Buffer.from('c41b64491c2468d0'),
    plaintext: '1616140317555161061',
  },
  A2: {
    query: 'msg_signature=477715d11cdb4164915debcba66cb864d751f3e6&timestamp=1409659813&nonce=1372623149',
    timestamp: 1409659813,
    nonce: '1372623149',
    agentId: '218',
    random: Buffer.from('0960688932c47ef1'),
    encrypt:
      'RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==',
    plaintext:
      '<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>\n<FromUserName><![CDATA[mycreate]]></FromUserName>\n<CreateTime>1409659813</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[hello]]></Content>\n<MsgId>4561255354251345929</MsgId>\n<AgentID>218</AgentID>\n</xml>',
  },
  B1: {
    msgSignature: '012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb',
    timestamp: 1476416373,
    nonce: '47744683',
    echostr: 'fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA==',
    random: Buffer.from('8908d0ff052afda0'),
    plaintext: '1288432023552776189',
  },
  B2: {
    msgSignature: '0c3914025cb4b4d68103f6bfc8db550f79dcf48e',
    timestamp: 1476422779,
    nonce: '1597212914',
    agentId: '1000002',
    random: Buffer.from('694ce5a83ae07fe3'),
    encrypt:
      'Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzBhzTtRLNshw2AEew+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3JWcoD4Z5jaU0y9GSh010wsHF8KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQHE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcwocugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYuPDGOCI8jmnKiypE+',
    plaintext:
      '<xml><ToUserName>ww1436e0e65a779aee</ToUserName><FromUserName>ChenJiaShun</FromUserName><CreateTime>1476422779</CreateTime><MsgType>text</MsgType><Content>你好</Content><MsgId>1456453720</MsgId><AgentID>1000002</AgentID></xml>',
  },
} as const;

/** Anything supertest can send to: a Koa app's callback() or a server. */
type Target = Parameters<typeof request>[0];

export class WecomCallbackDriver {
  constructor(
    private readonly p: CallbackParams,
    private readonly opts: { path?: string; now?: () => number } = {},
  ) {}

  private get path(): string {
    return this.opts.path ?? '/wecom/callback';
  }

  private stamp(o: BuildOptions) {
    const timestamp = String(o.timestamp ?? Math.floor((this.opts.now ?? Date.now)() / 1000));
    const nonce = String(o.nonce ?? Math.floor(Math.random() * 1e10));
    return { timestamp, nonce };
  }

  /** GET URL verification for an echo string. */
  verifyRequest(echo: string, o: BuildOptions = {}): CallbackRequest & { echostr: string; msgSignature: string } {
    const { timestamp, nonce } = this.stamp(o);
    const echostr = wecomEncrypt(this.p.encodingAesKey, echo, this.p.corpId, o.random);
    const msgSignature = getSignature(this.p.token, timestamp, nonce, echostr);
    const query = `msg_signature=${encodeURIComponent(msgSignature)}&timestamp=${encodeURIComponent(timestamp)}&nonce=${encodeURIComponent(nonce)}&echostr=${encodeURIComponent(echostr)}`;
    return { method: 'GET', url: `${this.path}?${query}`, echostr, msgSignature };
  }

  /** POST of a plaintext message/event XML, encrypted and signed. */
  postRequest(plaintext: string, o: BuildOptions = {}): CallbackRequest & { encrypt: string; msgSignature: string } {
    const { timestamp, nonce } = this.stamp(o);
    const encrypt = wecomEncrypt(this.p.encodingAesKey, plaintext, this.p.corpId, o.random);
    const msgSignature = getSignature(this.p.token, timestamp, nonce, encrypt);
    const query = `msg_signature=${encodeURIComponent(msgSignature)}&timestamp=${encodeURIComponent(timestamp)}&nonce=${encodeURIComponent(nonce)}`;
    return { method: 'POST', url: `${this.path}?${query}`, body: envelope(this.p.corpId, encrypt, this.p.agentId ?? '1000002'), encrypt, msgSignature };
  }

  /** A `text` message from `from`. */
  textXml(from: string, content: string, o: { createTime?: number; msgId?: string } = {}): string {
    const t = o.createTime ?? Math.floor((this.opts.now ?? Date.now)() / 1000);
    return `<xml><ToUserName><![CDATA[${this.p.corpId}]]></ToUserName><FromUserName><![CDATA[${from}]]></FromUserName><CreateTime>${t}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${content}]]></Content><MsgId>${o.msgId ?? String(BigInt(t) * 1000000n + BigInt(Math.floor(Math.random() * 1e6)))}</MsgId><AgentID>${this.p.agentId ?? '1000002'}</AgentID></xml>`;
  }

  /** A template_card_event: `from` clicked the button `eventKey` on the card `taskId` (doc 90240). */
  cardEventXml(from: string, eventKey: string, taskId: string, responseCode: string, o: { createTime?: number; cardType?: string } = {}): string {
    const t = o.createTime ?? Math.floor((this.opts.now ?? Date.now)() / 1000);
    return `<xml><ToUserName><![CDATA[${this.p.corpId}]]></ToUserName><FromUserName><![CDATA[${from}]]></FromUserName><CreateTime>${t}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[template_card_event]]></Event><EventKey><![CDATA[${eventKey}]]></EventKey><TaskId><![CDATA[${taskId}]]></TaskId><CardType><![CDATA[${o.cardType ?? 'button_interaction'}]]></CardType><ResponseCode><![CDATA[${responseCode}]]></ResponseCode><AgentID>${this.p.agentId ?? '1000002'}</AgentID></xml>`;
  }

  /**
   * Sends `req` to `target` up to `times` times (WeCom retries a request it got no 200 for, 3 times
   * in all; tests use `times` to replay) and records each answer with its time.
   * @throws when an answer takes 5 s or more (WeCom would drop the connection and retry)
   */
  async deliver(target: Target, req: CallbackRequest, times = 1): Promise<Array<{ status: number; text: string; contentType: string; ms: number }>> {
    if (times < 1 || times > 3) throw new RangeError('WeCom sends a callback at most 3 times');
    const out: Array<{ status: number; text: string; contentType: string; ms: number }> = [];
    for (let i = 0; i < times; i++) {
      const t0 = performance.now();
      const r = req.method === 'GET' ? await request(target).get(req.url) : await request(target).post(req.url).set('Content-Type', 'text/xml').send(req.body ?? '');
      const ms = performance.now() - t0;
      if (ms >= 5000) throw new Error(`callback answered after ${Math.round(ms)} ms; WeCom gives up at 5 s`);
      out.push({ status: r.status, text: r.text, contentType: String(r.headers['content-type'] ?? ''), ms });
    }
    return out;
  }
}

/** The POST envelope WeCom sends (doc 90930). */
export function envelope(corpId: string, encrypt: string, agentId: string | number): string {
  return `<xml><ToUserName><![CDATA[${corpId}]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt><AgentID><![CDATA[${agentId}]]></AgentID></xml>`;
}

/** The official vectors as requests to `path` (the query strings are the published ones, byte for byte). */
export function vectorRequests(path = '/wecom/callback'): Record<'A1' | 'A2' | 'B1' | 'B2', CallbackRequest> {
  const V = WECOM_VECTORS;
  return {
    A1: { method: 'GET', url: `${path}?${V.A1.query}` },
    A2: { method: 'POST', url: `${path}?${V.A2.query}`, body: envelope(V.A.corpId, V.A2.encrypt, V.A2.agentId) },
    B1: {
      method: 'GET',
      url: `${path}?msg_signature=${V.B1.msgSignature}&timestamp=${V.B1.timestamp}&nonce=${V.B1.nonce}&echostr=${encodeURIComponent(V.B1.echostr)}`,
    },
    B2: {
      method: 'POST',
      url: `${path}?msg_signature=${V.B2.msgSignature}&timestamp=${V.B2.timestamp}&nonce=${V.B2.nonce}`,
      body: envelope(V.B.corpId, V.B2.encrypt, V.B2.agentId),
    },
  };
}
