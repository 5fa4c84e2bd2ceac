/**
 * Local fake of the WeChat mini-program server APIs (protocols.md §4.8; §4.1–4.4). Always HTTP 200;
 * the outcome is `errcode`, as WeChat does. Injectable clock (ms).
 *
 * - GET  /sns/jscode2session — appid 40013 / secret 40125; codes from `issueCode(openid)` are
 *   single use and valid 5 minutes: first use → `{ openid, session_key }`, second → 40163 (code been
 *   used), expired or unknown → 40029 (invalid code); the 101st call for one user within a minute
 *   → 45011; `blockUser(openid)` → 40226.
 * - POST /cgi-bin/stable_token — JSON only (47001 otherwise); the same token while valid, a new one
 *   in the last 5 minutes of its life with both valid until the old one expires (so `expires_in`
 *   is always ≥ 300); `force_refresh: true` issues a new token and invalidates the previous one at
 *   once, at most 20 a day and ≥ 30 s apart (45009 / 45011 — exact codes unverified). Isolated from
 *   the classic token.
 * - GET  /cgi-bin/token — classic: each call issues a new token; the previous one stays valid for
 *   `classicOverlapMs` (default 5 min), then answers 40001 `… not latest`.
 * - token check of every downstream call: missing 41001, unknown or superseded 40001, expired
 *   42001; `expireTokenNow()` makes every issued token answer 42001.
 * - POST /cgi-bin/message/subscribe/send — touser must be an openid WeChat knows (issued a code,
 *   or `addUser`) → else 40003; template_id registered with `addTemplate(id, keywords)` → else
 *   40037; `pages` (when set) must contain the page path → else 41030; every template keyword must
 *   be present and every value valid for its type (the key's prefix, table of §4.3) → else 47003
 *   `argument invalid! data.<key>.value invalid`; then one consent of (openid, template) is spent
 *   (`grant(openid, tmpl, n)`), none left → 43101.
 * - POST /wxa/business/getuserphonenumber — a code from `issuePhoneCode(phone)` is single use and
 *   valid 5 minutes → `phone_info`; otherwise 40029.
 * `failNext(path, errcode, n)` forces errors (path without the leading slash, e.g.
 * 'cgi-bin/message/subscribe/send').
 *
 * `wechatAcceptsValue(key, value)` is this fake's own reading of the keyword value table — written
 * independently of server/domain/subscribe-fields.ts so tests of the shortening are not circular.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';

const MINUTE = 60_000;
export const CODE_TTL_MS = 5 * MINUTE;
export const TOKEN_TTL_S = 7200;

type Outcome = { errcode: number; errmsg: string; [k: string]: unknown };
const err = (errcode: number, errmsg: string): Outcome => ({ errcode, errmsg: `${errmsg} rid: fake-${randomBytes(4).toString('hex')}` });

const HAN = /\p{Script=Han}/u;
const cps = (s: string) => [...s];

/**
 * Does WeChat accept `value` for template keyword `key` (type = the key's prefix)? The rules of the
 * subscription-message value table (protocols.md §4.3), read strictly.
 */
export function wechatAcceptsValue(key: string, value: unknown): boolean {
  if (typeof value !== 'string' || value.length === 0) return false;
  const type = /^([a-z_]+?)\d+$/.exec(key)?.[1];
  const v = value;
  const noAstral = !/[\u{10000}-\u{10FFFF}]/u.test(v) && !/\p{Cc}/u.test(v);
  const time = '(?:[01]?\\d|2[0-3]):[0-5]\\d';
  const date = '(?:\\d{4}年\\d{1,2}月\\d{1,2}日|\\d{4}-\\d{2}-\\d{2})';
  switch (type) {
    case 'thing':
      return noAstral && cps(v).length <= 20;
    case 'number':
      return /^-?\d+(\.\d+)?$/.test(v) && v.replace(/\D/g, '').length <= 32;
    case 'letter':
      return /^[A-Za-z]{1,32}$/.test(v);
    case 'symbol':
      return /^[^\p{L}\p{N}\s]{1,5}$/u.test(v);
    case 'character_string':
      return /^[\x21-\x7e]{1,32}$/.test(v);
    case 'time':
      return new RegExp(`^(?:(?:${date} )?${time})(?:~(?:${date} )?${time})?$`).test(v);
    case 'date':
      return new RegExp(`^${date}(?: ${time})?(?:~${date}(?: ${time})?)?$`).test(v);
    case 'amount':
      return /^[¥￥$€£]\d{1,10}(\.\d{1,2})?元?$/.test(v);
    case 'phone_number':
      return /^[\d+\-() ]{1,17}$/.test(v);
    case 'car_number':
      return cps(v).length <= 8 && /^[\p{Script=Han}A-Z0-9]?[A-Z0-9]*[\p{Script=Han}A-Z0-9]?$/u.test(v);
    case 'name':
      return noAstral && (HAN.test(v) ? cps(v).length <= 10 : /^[A-Za-z\s.·'-]{1,20}$/.test(v));
    case 'phrase':
      return /^\p{Script=Han}{1,5}$/u.test(v);
    case 'enum':
      return true;
    default:
      return false;
  }
}

export interface FakeWechatOptions {
  appId: string;
  secret: string;
  now?: () => number;
  /** how long a superseded classic token keeps working (ms, default 5 min) */
  classicOverlapMs?: number;
}

export interface FakeSubscribeSent {
  at: number;
  touser: string;
  templateId: string;
  page?: string;
  state?: string;
  data: Record<string, { value: string }>;
}

interface TokenInfo {
  kind: 'stable' | 'classic';
  expiresAt: number;
  /** errcode this token answers from `supersededAt` on (classic rotation, force_refresh, expireTokenNow) */
  revoked?: { code: number; from: number };
}

export class FakeWechat {
  readonly subscribeSent: FakeSubscribeSent[] = [];
  readonly rejected: Array<{ path: string; errcode: number; errmsg: string; body: string }> = [];
  /** calls per path (e.g. 'cgi-bin/stable_token') */
  readonly calls: Record<string, number> = {};
  /** every session_key handed out (tests check none leaks into our answers) */
  readonly sessionKeys: string[] = [];
  base = '';
  private server?: http.Server;
  private readonly now: () => number;
  private readonly codes = new Map<string, { openid: string; issuedAt: number; used: boolean }>();
  private readonly phoneCodes = new Map<string, { phone: string; countryCode: string; issuedAt: number; used: boolean }>();
  private readonly users = new Set<string>();
  private readonly blocked = new Set<string>();
  private readonly loginCalls = new Map<string, number[]>();
  private readonly tokens = new Map<string, TokenInfo>();
  private stableCurrent: string | null = null;
  private classicCurrent: string | null = null;
  private readonly forceRefreshes: number[] = [];
  private readonly templates = new Map<string, string[]>();
  private readonly consents = new Map<string, number>();
  private readonly forced = new Map<string, number[]>();
  /** when set, subscribe/send's page must be one of these paths (41030 otherwise) */
  pages: string[] | null = null;

  constructor(private readonly o: FakeWechatOptions) {
    this.now = o.now ?? Date.now;
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

  // ── test hooks ──

  /** A wx.login code for `openid` (what the phone gets; single use, 5 minutes). */
  issueCode(openid: string): string {
    const code = `0${randomBytes(15).toString('hex')}`.slice(0, 32);
    this.codes.set(code, { openid, issuedAt: this.now(), used: false });
    this.users.add(openid);
    return code;
  }

  /** A getPhoneNumber code for `phone` (single use, 5 minutes). */
  issuePhoneCode(phone: string, countryCode = '86'): string {
    const code = `p${randomBytes(15).toString('hex')}`.slice(0, 32);
    this.phoneCodes.set(code, { phone, countryCode, issuedAt: this.now(), used: false });
    return code;
  }

  addUser(openid: string): void {
    this.users.add(openid);
  }

  /** code2Session for this user answers 40226 (high-risk user). */
  blockUser(openid: string): void {
    this.blocked.add(openid);
  }

  /** The user accepted `n` more one-time subscriptions of `templateId`. */
  grant(openid: string, templateId: string, n = 1): void {
    this.users.add(openid);
    this.consents.set(`${openid}\n${templateId}`, this.consentsLeft(openid, templateId) + n);
  }

  /** Every user's consents are used up (between tests). */
  clearConsents(): void {
    this.consents.clear();
  }

  consentsLeft(openid: string, templateId: string): number {
    return this.consents.get(`${openid}\n${templateId}`) ?? 0;
  }

  /** A template of this mini-program with its keywords, e.g. ['thing1', 'time2', 'thing3', 'phrase4', 'character_string5']. */
  addTemplate(templateId: string, keywords: string[]): void {
    this.templates.set(templateId, keywords);
  }

  /** Every token issued so far answers 42001 (expired) from now on. */
  expireTokenNow(): void {
    for (const t of this.tokens.values()) t.revoked ??= { code: 42001, from: this.now() };
    this.stableCurrent = null;
    this.classicCurrent = null;
  }

  /** The next `count` calls to `path` (e.g. 'cgi-bin/message/subscribe/send') answer `errcode`. */
  failNext(path: string, errcode: number, count = 1): void {
    const q = this.forced.get(path) ?? [];
    for (let i = 0; i < count; i++) q.push(errcode);
    this.forced.set(path, q);
  }

  // ── HTTP ──

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', this.base);
      const raw = Buffer.concat(chunks).toString('utf8');
      const path = url.pathname.replace(/^\//, '');
      this.calls[path] = (this.calls[path] ?? 0) + 1;
      const forced = this.forced.get(path)?.shift();
      let out: Outcome;
      if (forced !== undefined) out = err(forced, 'forced error');
      else if (path === 'sns/jscode2session' && req.method === 'GET') out = this.jscode2session(url);
      else if (path === 'cgi-bin/stable_token' && req.method === 'POST') out = this.stableToken(raw, req.headers['content-type']);
      else if (path === 'cgi-bin/token' && req.method === 'GET') out = this.classicToken(url);
      else if (path === 'cgi-bin/message/subscribe/send' && req.method === 'POST') out = this.withToken(url, () => this.subscribeSend(raw));
      else if (path === 'wxa/business/getuserphonenumber' && req.method === 'POST') out = this.withToken(url, () => this.phoneNumber(raw));
      else {
        res.writeHead(404).end();
        return;
      }
      if (out.errcode !== 0) this.rejected.push({ path, errcode: out.errcode, errmsg: out.errmsg, body: raw });
      res.writeHead(200, { 'Content-Type': 'application/json; charset=UTF-8' }).end(JSON.stringify(out));
    });
  }

  private credentials(appid: unknown, secret: unknown): Outcome | null {
    if (!appid) return err(41002, 'appid missing');
    if (appid !== this.o.appId) return err(40013, 'invalid appid');
    if (!secret) return err(41004, 'appsecret missing');
    if (secret !== this.o.secret) return err(40125, 'invalid appsecret');
    return null;
  }

  private jscode2session(url: URL): Outcome {
    const bad = this.credentials(url.searchParams.get('appid'), url.searchParams.get('secret'));
    if (bad) return bad;
    const code = url.searchParams.get('js_code');
    if (!code) return err(41008, 'missing code');
    if (url.searchParams.get('grant_type') !== 'authorization_code') return err(40002, 'invalid grant_type');
    const c = this.codes.get(code);
    if (!c) return err(40029, 'invalid code');
    // 100 calls per user per minute (protocols.md §4.1)
    const now = this.now();
    const recent = (this.loginCalls.get(c.openid) ?? []).filter((t) => t > now - MINUTE);
    recent.push(now);
    this.loginCalls.set(c.openid, recent);
    if (recent.length > 100) return err(45011, 'api minute-quota reach limit  mustslower  retry next minute');
    if (now - c.issuedAt > CODE_TTL_MS) return err(40029, 'invalid code');
    if (c.used) return err(40163, 'code been used');
    c.used = true;
    if (this.blocked.has(c.openid)) return err(40226, 'code blocked');
    const sessionKey = randomBytes(16).toString('base64');
    this.sessionKeys.push(sessionKey);
    return { errcode: 0, errmsg: 'ok', openid: c.openid, session_key: sessionKey };
  }

  private issue(kind: 'stable' | 'classic'): string {
    const token = `${kind === 'stable' ? 'ST' : 'CT'}_${randomBytes(24).toString('base64url')}`;
    this.tokens.set(token, { kind, expiresAt: this.now() + TOKEN_TTL_S * 1000 });
    return token;
  }

  private stableToken(raw: string, contentType: string | undefined): Outcome {
    let body: Record<string, unknown>;
    try {
      if (!/json/i.test(contentType ?? '')) throw new Error('not json');
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return err(47001, 'data format error');
    }
    if (body.grant_type !== 'client_credential') return err(40002, 'invalid grant_type');
    const bad = this.credentials(body.appid, body.secret);
    if (bad) return bad;
    const now = this.now();
    if (body.force_refresh === true) {
      const today = this.forceRefreshes.filter((t) => t > now - 24 * 60 * MINUTE);
      if (today.length >= 20) return err(45009, 'reach max api daily quota limit');
      if (today.some((t) => t > now - 30_000)) return err(45011, 'api minute-quota reach limit, force_refresh at most once per 30s');
      this.forceRefreshes.push(now);
      const old = this.stableCurrent ? this.tokens.get(this.stableCurrent) : undefined;
      if (old) old.revoked ??= { code: 40001, from: now };
      this.stableCurrent = this.issue('stable');
    } else {
      const cur = this.stableCurrent ? this.tokens.get(this.stableCurrent) : undefined;
      // normal mode: the same token while valid; a new one in its last 5 minutes (both valid meanwhile)
      if (!cur || cur.revoked || cur.expiresAt - now < 5 * MINUTE) this.stableCurrent = this.issue('stable');
    }
    const t = this.tokens.get(this.stableCurrent!)!;
    return { errcode: 0, errmsg: 'ok', access_token: this.stableCurrent!, expires_in: Math.floor((t.expiresAt - now) / 1000) };
  }

  private classicToken(url: URL): Outcome {
    if (url.searchParams.get('grant_type') !== 'client_credential') return err(40002, 'invalid grant_type');
    const bad = this.credentials(url.searchParams.get('appid'), url.searchParams.get('secret'));
    if (bad) return bad;
    const now = this.now();
    const old = this.classicCurrent ? this.tokens.get(this.classicCurrent) : undefined;
    if (old) old.revoked ??= { code: 40001, from: now + (this.o.classicOverlapMs ?? 5 * MINUTE) };
    this.classicCurrent = this.issue('classic');
    return { errcode: 0, errmsg: 'ok', access_token: this.classicCurrent, expires_in: TOKEN_TTL_S };
  }

  private withToken(url: URL, fn: () => Outcome): Outcome {
    const token = url.searchParams.get('access_token');
    if (!token) return err(41001, 'access_token missing');
    const t = this.tokens.get(token);
    const now = this.now();
    if (!t) return err(40001, 'invalid credential, access_token is invalid or not latest');
    if (t.revoked && now >= t.revoked.from) return t.revoked.code === 42001 ? err(42001, 'access_token expired') : err(40001, 'invalid credential, access_token is invalid or not latest');
    if (now >= t.expiresAt) return err(42001, 'access_token expired');
    return fn();
  }

  private subscribeSend(raw: string): Outcome {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return err(47001, 'data format error');
    }
    const touser = typeof body.touser === 'string' ? body.touser : '';
    if (!touser || !this.users.has(touser)) return err(40003, 'invalid openid');
    const templateId = typeof body.template_id === 'string' ? body.template_id : '';
    const keywords = this.templates.get(templateId);
    if (!keywords) return err(40037, 'invalid template_id');
    const page = typeof body.page === 'string' ? body.page : undefined;
    if (page !== undefined && this.pages && !this.pages.includes(page.split('?')[0])) return err(41030, 'invalid page');
    const data = (typeof body.data === 'object' && body.data !== null ? body.data : {}) as Record<string, { value?: unknown }>;
    for (const key of keywords) {
      if (!wechatAcceptsValue(key, data[key]?.value)) return err(47003, `argument invalid! data.${key}.value invalid`);
    }
    const left = this.consentsLeft(touser, templateId);
    if (left <= 0) return err(43101, 'user refuse to accept the msg');
    this.consents.set(`${touser}\n${templateId}`, left - 1);
    this.subscribeSent.push({
      at: this.now(),
      touser,
      templateId,
      page,
      state: typeof body.miniprogram_state === 'string' ? body.miniprogram_state : undefined,
      data: Object.fromEntries(keywords.map((k) => [k, { value: String(data[k]!.value) }])),
    });
    return { errcode: 0, errmsg: 'ok', msgid: Date.now() };
  }

  private phoneNumber(raw: string): Outcome {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return err(47001, 'data format error');
    }
    const code = typeof body.code === 'string' ? body.code : '';
    const c = this.phoneCodes.get(code);
    if (!c || c.used || this.now() - c.issuedAt > CODE_TTL_MS) return err(40029, 'invalid code');
    c.used = true;
    return {
      errcode: 0,
      errmsg: 'ok',
      phone_info: { phoneNumber: c.countryCode === '86' ? c.phone : `+${c.countryCode}${c.phone}`, purePhoneNumber: c.phone, countryCode: c.countryCode, watermark: { timestamp: Math.floor(this.now() / 1000), appid: this.o.appId } },
    };
  }
}
