/**
 * WeChat mini-program server API client (protocols.md §4): code2Session, the access token from
 * `stable_token`, and token-authenticated JSON calls (subscribeMessage.send,
 * getuserphonenumber). Success is decided by `errcode`, never by the HTTP status.
 *
 * Access token (protocols.md §4.2, https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-access-token/getStableAccessToken.html):
 * - `POST /cgi-bin/stable_token` with JSON `{grant_type, appid, secret, force_refresh: false}`.
 *   Unlike the classic `/cgi-bin/token` (each fetch replaces the previous token, so instances
 *   fetching independently knock each other out with 40001), stable_token answers the same token
 *   while it is valid — and we still fetch it ONCE for all instances: it is kept in Redis under
 *   `<REDIS_PREFIX>:wechat:token:<hash of appid+secret>` and expires there before WeChat's
 *   `expires_in` (5 min early; 10 % for short ones), so a new one is fetched in the handover window
 *   where WeChat keeps both valid.
 * - Concurrent refreshes collapse into one call, in one process and across processes: the cache,
 *   single flight and lock are ./shared-token.ts.
 * - A call answered 40001 / 42001 / 40014 (token invalid, expired, or not the latest) drops the
 *   token, refreshes and is retried ONCE. When stable_token then still answers the token WeChat
 *   just refused, one `force_refresh: true` is made — at most one per 30 s across instances
 *   (WeChat allows 20 a day, ≥ 30 s apart).
 * - 40013 (invalid appid), 40125 (invalid appsecret), 40164 (server IP not on the 白名单) are
 *   permanent: retrying cannot help.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger';
import { postRobotJson } from '../channels/wecom-robot';
import { readTokenAnswer, SharedToken } from './shared-token';

/** Errcodes after which the token is refreshed and the call retried once. */
export const WECHAT_TOKEN_ERRCODES: readonly number[] = [40001, 42001, 40014];

/** Errcodes that mean the configuration is wrong, with what to fix. */
export const WECHAT_CREDENTIAL_ERRORS: Readonly<Record<number, string>> = {
  40013: 'WECHAT_APPID is wrong (errcode 40013 invalid appid)',
  40125: 'WECHAT_SECRET is wrong (errcode 40125 invalid appsecret)',
  40164: "this server's egress IP is not on the mini-program's IP 白名单 (errcode 40164)",
  41002: 'WECHAT_APPID is missing (errcode 41002)',
  41004: 'WECHAT_SECRET is missing (errcode 41004)',
};

/** 45009 / 45011 frequency limits: wait a minute (ms). */
export const WECHAT_FREQ_BLOCK_MS = 60_000;
/** Per-request HTTP timeout (ms). */
export const WECHAT_API_TIMEOUT_MS = 10_000;
/** Minimum spacing of force_refresh calls across instances (ms; WeChat: ≥ 30 s apart, ≤ 20 a day). */
const FORCE_REFRESH_SPACING_MS = 30_000;

export interface WechatApiOptions {
  appId: string;
  secret: string;
  /** e.g. https://api.weixin.qq.com (no trailing slash) */
  apiBase: string;
  redis: Redis;
  /** REDIS_PREFIX */
  prefix: string;
  fetch?: typeof fetch;
  /** ms; default {@link WECHAT_API_TIMEOUT_MS} */
  timeoutMs?: number;
  log?: Logger;
}

/** Outcome of one call. Failures are classified like the channels' (channels/types.ts). */
export type WechatCallResult =
  | { ok: true; json: Record<string, unknown> }
  | { ok: false; error: string; errcode?: number; permanent?: boolean; retryAfterMs?: number };

/** code2Session's answer: the user's openid (session_key is dropped here and never leaves this module). */
export type Code2SessionResult = { ok: true; openid: string; unionid?: string } | { ok: false; errcode?: number; error: string };

export class WechatTokenError extends Error {
  constructor(
    message: string,
    public readonly errcode: number | undefined,
    public readonly permanent: boolean,
    public readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export class WechatApi {
  readonly appId: string;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;
  private readonly shared: SharedToken;
  /** stable_token calls made by this process (observability, tests) */
  stableTokenCalls = 0;

  constructor(private readonly o: WechatApiOptions) {
    this.appId = o.appId;
    this.fetchImpl = o.fetch ?? fetch;
    this.timeoutMs = o.timeoutMs ?? WECHAT_API_TIMEOUT_MS;
    const app = createHash('sha256').update(`${o.appId}\n${o.secret}`).digest('hex').slice(0, 24);
    const key = `${o.prefix}:wechat:token:${app}`;
    this.shared = new SharedToken({
      redis: o.redis,
      key,
      fetch: async (stale) => {
        let got = await this.stableToken(false);
        // WeChat refused this very token, yet stable_token still hands it out: force a new one (spaced)
        if (stale && got.token === stale && (await o.redis.set(`${key}:force`, '1', 'PX', FORCE_REFRESH_SPACING_MS, 'NX')) === 'OK') {
          this.o.log?.warn('WeChat refused the stable access token it still hands out; force_refresh');
          got = await this.stableToken(true);
        }
        return { token: got.token, lifetimeMs: got.expiresIn * 1000 };
      },
    });
  }

  /**
   * code2Session (GET /sns/jscode2session): the openid behind a `wx.login` code. The code is
   * single use and valid ~5 minutes. session_key is not kept: nothing here needs it (phone numbers
   * come from getuserphonenumber with its own code).
   * @returns never throws for platform or network answers
   */
  async code2Session(jsCode: string): Promise<Code2SessionResult> {
    const q = new URLSearchParams({ appid: this.o.appId, secret: this.o.secret, js_code: jsCode, grant_type: 'authorization_code' });
    const r = await this.getJson(`${this.o.apiBase}/sns/jscode2session?${q}`);
    if (!r.ok) return r;
    const errcode = typeof r.json.errcode === 'number' ? r.json.errcode : 0;
    if (errcode === 0 && typeof r.json.openid === 'string' && r.json.openid) {
      return { ok: true, openid: r.json.openid, ...(typeof r.json.unionid === 'string' ? { unionid: r.json.unionid } : {}) };
    }
    const known = WECHAT_CREDENTIAL_ERRORS[errcode];
    if (known) this.o.log?.error({ errcode }, `WeChat code2Session refused: ${known}`);
    return { ok: false, errcode, error: `errcode ${errcode}: ${String(r.json.errmsg ?? '')}`.slice(0, 300) };
  }

  /** The cached token, or a fresh one. @throws WechatTokenError */
  token(): Promise<string> {
    return this.shared.get();
  }

  /**
   * A token other than `stale` (one WeChat just refused, dropped from the cache): another
   * caller's, else a fresh one.
   * @throws WechatTokenError
   */
  refresh(stale: string | null): Promise<string> {
    return this.shared.refresh(stale);
  }

  private async stableToken(forceRefresh: boolean): Promise<{ token: string; expiresIn: number }> {
    this.stableTokenCalls++;
    const r = await postRobotJson(
      this.fetchImpl,
      `${this.o.apiBase}/cgi-bin/stable_token`,
      { grant_type: 'client_credential', appid: this.o.appId, secret: this.o.secret, force_refresh: forceRefresh },
      this.timeoutMs,
    );
    if (!r.ok) throw new WechatTokenError(`stable_token: ${r.error}`, undefined, false, r.retryAfterMs);
    return readTokenAnswer(r.json, {
      endpoint: 'stable_token',
      credentialErrors: WECHAT_CREDENTIAL_ERRORS,
      throttled: [45009, 45011],
      blockMs: WECHAT_FREQ_BLOCK_MS,
      fail: (...a) => new WechatTokenError(...a),
      onCredentialError: (errcode, known) => this.o.log?.error({ errcode, appId: this.o.appId }, `WeChat stable_token refused: ${known}`),
    });
  }

  /**
   * POSTs JSON to `<apiBase>/<path>?access_token=…` (path e.g. `cgi-bin/message/subscribe/send`).
   * A token error refreshes the token and retries once.
   * @returns never throws for platform or network answers
   */
  async post(path: string, body: unknown): Promise<WechatCallResult> {
    return this.shared.call<WechatCallResult>({
      attempt: async (token, retry) => {
        const res = await this.postOnce(path, token, body);
        // refused again right after a refresh: transient, never permanent
        return retry && isWechatTokenError(res) ? { ...res, permanent: false } : res;
      },
      refused: isWechatTokenError,
      onRefused: (r) => this.o.log?.info({ errcode: r.ok ? undefined : r.errcode, path }, 'WeChat refused the access token; refreshing and retrying once'),
      tokenFailed: tokenFailure,
    });
  }

  private async postOnce(path: string, token: string, body: unknown): Promise<WechatCallResult> {
    const r = await postRobotJson(this.fetchImpl, `${this.o.apiBase}/${path}?access_token=${encodeURIComponent(token)}`, body, this.timeoutMs);
    if (!r.ok) return { ok: false, error: r.error, ...(r.permanent ? { permanent: true } : {}), ...(r.retryAfterMs !== undefined ? { retryAfterMs: r.retryAfterMs } : {}) };
    const { errcode, errmsg } = r.json;
    // getuserphonenumber and subscribe/send both answer errcode 0 on success
    if (errcode === undefined || errcode === 0) return { ok: true, json: r.json };
    if (typeof errcode !== 'number') return { ok: false, error: `unexpected response: ${JSON.stringify(r.json).slice(0, 200)}` };
    const permanent = !!WECHAT_CREDENTIAL_ERRORS[errcode];
    const throttled = errcode === 45009 || errcode === 45011;
    return { ok: false, errcode, error: `errcode ${errcode}: ${String(errmsg ?? '')}`.slice(0, 500), ...(permanent ? { permanent: true } : {}), ...(throttled ? { retryAfterMs: WECHAT_FREQ_BLOCK_MS } : {}) };
  }

  private async getJson(url: string): Promise<{ ok: true; json: Record<string, unknown> } | { ok: false; error: string }> {
    let status: number;
    let raw: string;
    try {
      const res = await this.fetchImpl(url, { signal: AbortSignal.timeout(this.timeoutMs) });
      status = res.status;
      raw = await res.text();
    } catch (e) {
      // the URL carries the secret: never put it into the error
      return { ok: false, error: `network error: ${(e as Error).name === 'TimeoutError' ? `timeout after ${this.timeoutMs} ms` : (e as Error).message}` };
    }
    try {
      const json = JSON.parse(raw) as unknown;
      if (typeof json === 'object' && json !== null && !Array.isArray(json)) return { ok: true, json: json as Record<string, unknown> };
    } catch {
      /* fall through */
    }
    return { ok: false, error: `HTTP ${status}, not a JSON object: ${raw.slice(0, 200)}` };
  }
}

const isWechatTokenError = (r: WechatCallResult): boolean => !r.ok && r.errcode !== undefined && WECHAT_TOKEN_ERRCODES.includes(r.errcode);

function tokenFailure(e: unknown): WechatCallResult {
  if (e instanceof WechatTokenError) {
    return { ok: false, error: e.message, ...(e.errcode !== undefined ? { errcode: e.errcode } : {}), ...(e.permanent ? { permanent: true } : {}), ...(e.retryAfterMs !== undefined ? { retryAfterMs: e.retryAfterMs } : {}) };
  }
  return { ok: false, error: `access token: ${(e as Error).message}` };
}
