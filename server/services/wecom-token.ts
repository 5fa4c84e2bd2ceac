/**
 * WeCom self-built app API client: the access token, cached and refreshed, and JSON calls that
 * retry once on a token error (protocols.md §2.1;
 * https://developer.work.weixin.qq.com/document/path/91039, error codes
 * https://developer.work.weixin.qq.com/document/path/90313).
 *
 * - One token per app (corp id + secret), kept in Redis under `<REDIS_PREFIX>:wecom:token:<hash>`
 *   so every instance shares it (gettoken is rate-limited; the hash keeps the secret out of key
 *   names). It expires from Redis a little before WeCom's `expires_in` (7200 s → cached 6900 s).
 * - WeCom may invalidate a token early: a call answered 40014 / 42001 / 41001 drops the token,
 *   refreshes it and is retried ONCE. Concurrent refreshes collapse into one gettoken call (in one
 *   process and across processes): the cache, single flight and lock are ./shared-token.ts.
 * - 40001 (wrong secret), 40013 (wrong corp id), 60020 (server IP not in the app's 企业可信IP) are
 *   permanent: retrying cannot help and repeated wrong secrets can get the IP blocked (doc 90313).
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger';
import { postRobotJson } from '../channels/wecom-robot';
import { readTokenAnswer, SharedToken } from './shared-token';

/** Token errors after which the token is refreshed and the call retried once (protocols.md §2.1). */
export const WECOM_TOKEN_ERRCODES: readonly number[] = [40014, 42001, 41001];

/** gettoken errcodes that mean the configuration is wrong, with what to fix. */
export const WECOM_CREDENTIAL_ERRORS: Readonly<Record<number, string>> = {
  40001: 'WECOM_SECRET is wrong (errcode 40001 invalid credential)',
  40013: 'WECOM_CORP_ID is wrong (errcode 40013 invalid corpid)',
  60020: "this server's egress IP is not in the app's 企业可信IP list (errcode 60020)",
};

/** 45009 / 45033 minute-level blocks are lifted after 60 s (ms, https://developer.work.weixin.qq.com/document/path/90312). */
export const WECOM_API_FREQ_BLOCK_MS = 60_000;
/** Per-request HTTP timeout (ms). */
export const WECOM_API_TIMEOUT_MS = 10_000;

export interface WecomApiOptions {
  corpId: string;
  secret: string;
  /** e.g. https://qyapi.weixin.qq.com (no trailing slash) */
  apiBase: string;
  redis: Redis;
  /** REDIS_PREFIX */
  prefix: string;
  fetch?: typeof fetch;
  /** ms; default {@link WECOM_API_TIMEOUT_MS} */
  timeoutMs?: number;
  log?: Logger;
}

/** Outcome of one API call. Failures are classified like the channels' (types.ts). */
export type WecomCallResult =
  | { ok: true; json: Record<string, unknown> }
  | { ok: false; error: string; errcode?: number; permanent?: boolean; retryAfterMs?: number };

/** A failure to obtain a token. */
export class WecomTokenError extends Error {
  constructor(
    message: string,
    public readonly errcode: number | undefined,
    public readonly permanent: boolean,
    public readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export class WecomApi {
  readonly corpId: string;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;
  private readonly shared: SharedToken;
  /** gettoken calls made by this process (observability, tests) */
  gettokenCalls = 0;

  constructor(private readonly o: WecomApiOptions) {
    this.corpId = o.corpId;
    this.fetchImpl = o.fetch ?? fetch;
    this.timeoutMs = o.timeoutMs ?? WECOM_API_TIMEOUT_MS;
    const app = createHash('sha256').update(`${o.corpId}\n${o.secret}`).digest('hex').slice(0, 24);
    this.shared = new SharedToken({
      redis: o.redis,
      key: `${o.prefix}:wecom:token:${app}`,
      fetch: async () => {
        const { token, expiresIn } = await this.gettoken();
        return { token, lifetimeMs: expiresIn * 1000 };
      },
    });
  }

  /**
   * The cached token, or a fresh one.
   * @throws WecomTokenError (permanent for 40001 / 40013 / 60020)
   */
  token(): Promise<string> {
    return this.shared.get();
  }

  /**
   * A token other than `stale` (the one WeCom just refused, dropped from the cache): the one
   * another caller already got, else a new one from gettoken. Concurrent calls share one gettoken.
   * @throws WecomTokenError
   */
  refresh(stale: string | null): Promise<string> {
    return this.shared.refresh(stale);
  }

  private async gettoken(): Promise<{ token: string; expiresIn: number }> {
    this.gettokenCalls++;
    const url = `${this.o.apiBase}/cgi-bin/gettoken?corpid=${encodeURIComponent(this.o.corpId)}&corpsecret=${encodeURIComponent(this.o.secret)}`;
    let status: number;
    let raw: string;
    try {
      const res = await this.fetchImpl(url, { signal: AbortSignal.timeout(this.timeoutMs) });
      status = res.status;
      raw = await res.text();
    } catch (e) {
      throw new WecomTokenError(`gettoken: network error: ${(e as Error).message}`, undefined, false);
    }
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      throw new WecomTokenError(`gettoken: HTTP ${status}, not JSON: ${raw.slice(0, 200)}`, undefined, false);
    }
    return readTokenAnswer(json, {
      endpoint: 'gettoken',
      credentialErrors: WECOM_CREDENTIAL_ERRORS,
      throttled: [45009, 45033],
      blockMs: WECOM_API_FREQ_BLOCK_MS,
      fail: (...a) => new WecomTokenError(...a),
      onCredentialError: (errcode, known) => this.o.log?.error({ errcode, corpId: this.o.corpId }, `WeCom gettoken refused: ${known}`),
    });
  }

  /**
   * POSTs JSON to `/cgi-bin/<path>?access_token=…`. Success = `errcode` 0 (HTTP 200 with another
   * errcode is a failure). A token error refreshes the token and retries once; a second token
   * error is returned as a transient failure.
   * @returns never throws for platform or network answers
   */
  async post(path: string, body: unknown): Promise<WecomCallResult> {
    return this.shared.call<WecomCallResult>({
      attempt: async (token, retry) => {
        const res = await this.postOnce(path, token, body);
        // refused again right after a refresh: transient, never permanent
        return retry && isWecomTokenError(res) ? { ...res, permanent: false } : res;
      },
      refused: isWecomTokenError,
      onRefused: (r) => this.o.log?.info({ errcode: r.ok ? undefined : r.errcode, path }, 'WeCom refused the access token; refreshing and retrying once'),
      tokenFailed: tokenFailure,
    });
  }

  private async postOnce(path: string, token: string, body: unknown): Promise<WecomCallResult> {
    const url = `${this.o.apiBase}/cgi-bin/${path}?access_token=${encodeURIComponent(token)}`;
    const r = await postRobotJson(this.fetchImpl, url, body, this.timeoutMs);
    if (!r.ok) {
      // the error text must not carry the token (it is in the URL, never in postRobotJson's errors)
      return { ok: false, error: r.error, ...(r.permanent ? { permanent: true } : {}), ...(r.retryAfterMs !== undefined ? { retryAfterMs: r.retryAfterMs } : {}) };
    }
    const { errcode, errmsg } = r.json;
    if (typeof errcode !== 'number') return { ok: false, error: `unexpected response without numeric errcode: ${JSON.stringify(r.json).slice(0, 200)}` };
    if (errcode === 0) return { ok: true, json: r.json };
    return { ok: false, errcode, error: `errcode ${errcode}: ${String(errmsg ?? '')}`.slice(0, 500), ...classifyWecomAppErrcode(errcode) };
  }
}

const isWecomTokenError = (r: WecomCallResult): boolean => !r.ok && r.errcode !== undefined && WECOM_TOKEN_ERRCODES.includes(r.errcode);

function tokenFailure(e: unknown): WecomCallResult {
  if (e instanceof WecomTokenError) {
    return { ok: false, error: e.message, ...(e.errcode !== undefined ? { errcode: e.errcode } : {}), ...(e.permanent ? { permanent: true } : {}), ...(e.retryAfterMs !== undefined ? { retryAfterMs: e.retryAfterMs } : {}) };
  }
  return { ok: false, error: `access token: ${(e as Error).message}` };
}

/**
 * Classifies a non-zero errcode of an app API call (doc 90313, protocols.md §2.1–2.2):
 * 45009 / 45033 → throttled for {@link WECOM_API_FREQ_BLOCK_MS}; -1 (busy) and token errors →
 * transient; credential errors, 81013 (every recipient invalid), 82001 (no recipient), 40056
 * (invalid agentid), 60011 / 60020 / 48002 (no privilege / IP not trusted / API forbidden), 40058
 * (invalid parameter), 40008 (invalid message type), 44004 (empty content) → permanent; anything
 * else → transient (the delivery attempt limit dead-letters it eventually).
 */
export function classifyWecomAppErrcode(errcode: number): { permanent?: true; retryAfterMs?: number } {
  if (errcode === 45009 || errcode === 45033) return { retryAfterMs: WECOM_API_FREQ_BLOCK_MS };
  if (errcode === -1 || WECOM_TOKEN_ERRCODES.includes(errcode)) return {};
  if (WECOM_CREDENTIAL_ERRORS[errcode] || [81013, 82001, 40056, 60011, 48002, 40058, 40008, 44004].includes(errcode)) return { permanent: true };
  return {};
}
