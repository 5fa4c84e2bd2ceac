/**
 * A platform access token (WeCom gettoken, WeChat stable_token, DingTalk oauth2 accessToken)
 * shared by every process of an install through Redis. The platform modules own the HTTP call and
 * the meaning of their error codes; this module owns the token's life around it:
 *
 * - Cache: the token is kept in Redis under one key (chosen by the platform module) and expires
 *   there a margin before the platform's own expiry ({@link defaultTokenMarginMs}: 5 min for the
 *   usual 7200 s, 10 % for short ones), so a new one is fetched while the old one still works.
 *   A token whose cached life would be under 1 s is not cached (it serves its callers only).
 * - Single flight in a process: concurrent refreshes share one promise, hence one fetch.
 * - Across processes: a short Redis lock ({@link TOKEN_REFRESH_LOCK_MS}); the instance that holds
 *   it fetches, the others poll Redis for the new token for up to {@link TOKEN_REFRESH_WAIT_MS} and
 *   fetch themselves only if none appears (the holder died or the platform is slow). Token
 *   endpoints are rate-limited (WeCom gettoken, WeChat stable_token: 20 force refreshes a day),
 *   so many instances starting together must not each fetch.
 * - Refusal: platforms invalidate tokens early (design.md). {@link SharedToken.call} drops the
 *   refused token from Redis (only if it is still the cached one: another instance may already
 *   have stored a fresh one), refreshes, and retries the call ONCE; a second refusal is returned
 *   to the caller, never looped.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/** How long a process may hold the cross-process refresh lock (ms). */
export const TOKEN_REFRESH_LOCK_MS = 10_000;
/** How long a process waits for another one's refresh before fetching itself (ms). */
export const TOKEN_REFRESH_WAIT_MS = 3_000;
/** Poll interval while waiting for another process's refresh (ms). */
const POLL_MS = 100;
/** Shortest life worth caching (ms). */
const MIN_CACHE_MS = 1000;

/** What a platform's token endpoint answered. */
export interface FetchedToken {
  token: string;
  /** how long the platform says the token is valid (ms); 0 / NaN when it did not say: not cached */
  lifetimeMs: number;
}

/** How one platform's token errors are told apart (WeCom gettoken, WeChat stable_token). */
export interface TokenAnswerRules<E extends Error> {
  /** e.g. 'gettoken', 'stable_token': the start of every error message */
  endpoint: string;
  /** errcodes that mean the credentials (secret, id, IP allow-list) are wrong: permanent, with what to fix */
  credentialErrors: Readonly<Record<number, string>>;
  /** errcodes that mean "too many calls": transient, retried after blockMs */
  throttled: readonly number[];
  blockMs: number;
  /** the platform's error class */
  fail: (message: string, errcode: number | undefined, permanent: boolean, retryAfterMs?: number) => E;
  /** told once per credential error (logged: an operator must fix it) */
  onCredentialError?: (errcode: number, meaning: string) => void;
}

/**
 * Reads a Tencent token answer — WeCom `gettoken` and WeChat `stable_token` share the shape
 * `{ errcode, errmsg, access_token, expires_in (s) }`: success is errcode 0 (or absent) with a
 * token; expires_in defaults to 7200 s.
 * @throws E (rules.fail): permanent for a credential error, with retryAfterMs when throttled
 */
export function readTokenAnswer<E extends Error>(json: Record<string, unknown>, rules: TokenAnswerRules<E>): { token: string; expiresIn: number } {
  const errcode = typeof json.errcode === 'number' ? json.errcode : 0;
  if (errcode === 0 && typeof json.access_token === 'string' && json.access_token) {
    const expiresIn = typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in : 7200;
    return { token: json.access_token, expiresIn };
  }
  const known = rules.credentialErrors[errcode];
  if (known) {
    rules.onCredentialError?.(errcode, known);
    throw rules.fail(`${rules.endpoint}: ${known}`, errcode, true);
  }
  const throttled = rules.throttled.includes(errcode);
  throw rules.fail(`${rules.endpoint}: errcode ${errcode}: ${String(json.errmsg ?? '')}`.slice(0, 300), errcode, false, throttled ? rules.blockMs : undefined);
}

export interface SharedTokenOptions {
  redis: Redis;
  /** the full Redis key of the cached token, e.g. `<REDIS_PREFIX>:wecom:token:<hash>`; the lock is `<key>:lock` */
  key: string;
  /**
   * Calls the platform's token endpoint. `stale` is the token the platform just refused (null for
   * a first fetch), for platforms that may hand the same token out again (WeChat force_refresh).
   * Whatever it throws reaches the caller of get/refresh unchanged.
   */
  fetch: (stale: string | null) => Promise<FetchedToken>;
  /** how long before the platform's expiry the cached token is dropped (ms); default {@link defaultTokenMarginMs} */
  marginMs?: (lifetimeMs: number) => number;
}

/** 5 min before expiry for the usual 7200 s token; 10 % of the life for shorter ones (ms). */
export function defaultTokenMarginMs(lifetimeMs: number): number {
  return Math.min(300_000, lifetimeMs / 10);
}

/** One call around a token: see {@link SharedToken.call}. */
export interface TokenCall<R> {
  /** the platform call with this token (`retry`: this is the one retry after a refusal); should answer failures rather than throw */
  attempt: (token: string, retry: boolean) => Promise<R>;
  /** true when the answer says the token was refused (expired early, revoked) */
  refused: (result: R) => boolean;
  /** told once, before the refresh (for the platform's log line) */
  onRefused?: (result: R) => void;
  /** turns a failure to get a token (what `fetch` threw) into an answer */
  tokenFailed: (error: unknown) => R;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Deletes KEYS[1] only if it still holds ARGV[1] (our lock, or the refused token). */
const DEL_IF_EQUALS = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export class SharedToken {
  readonly key: string;
  private inflight: Promise<string> | null = null;
  private readonly margin: (lifetimeMs: number) => number;

  constructor(private readonly o: SharedTokenOptions) {
    this.key = o.key;
    this.margin = o.marginMs ?? defaultTokenMarginMs;
  }

  /**
   * The cached token, or a fresh one.
   * @throws whatever `fetch` throws
   */
  async get(): Promise<string> {
    return (await this.o.redis.get(this.key)) ?? this.refresh(null);
  }

  /**
   * A token other than `stale` (the one the platform just refused): the one another caller or
   * instance already got, else a fresh one. The refused token is dropped from Redis. Concurrent
   * calls in this process share one refresh.
   * @throws whatever `fetch` throws
   */
  refresh(stale: string | null): Promise<string> {
    this.inflight ??= this.doRefresh(stale).finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  /** Drops the cached token: `token` only if it is still the cached one, any token without it. */
  async drop(token?: string): Promise<void> {
    if (token === undefined) await this.o.redis.del(this.key);
    else await this.o.redis.eval(DEL_IF_EQUALS, 1, this.key, token);
  }

  /**
   * Runs `attempt` with the token; when its answer is `refused`, refreshes the token (dropping
   * the refused one) and runs it ONCE more, returning that second answer whatever it is.
   * @returns never throws for a token failure (see `tokenFailed`); what `attempt` throws passes through
   */
  async call<R>(c: TokenCall<R>): Promise<R> {
    let token: string;
    try {
      token = await this.get();
    } catch (e) {
      return c.tokenFailed(e);
    }
    const first = await c.attempt(token, false);
    if (!c.refused(first)) return first;
    c.onRefused?.(first);
    try {
      token = await this.refresh(token);
    } catch (e) {
      return c.tokenFailed(e);
    }
    return c.attempt(token, true);
  }

  /** The Redis life of a token the platform gives `lifetimeMs` (ms), or null: not worth caching. */
  cacheTtlMs(lifetimeMs: number): number | null {
    const ttl = lifetimeMs - this.margin(lifetimeMs);
    return Number.isFinite(ttl) && ttl >= MIN_CACHE_MS ? Math.floor(ttl) : null;
  }

  private async doRefresh(stale: string | null): Promise<string> {
    const redis = this.o.redis;
    const current = await redis.get(this.key);
    if (current && current !== stale) return current;
    if (current !== null && current === stale) await this.drop(stale);
    const lockKey = `${this.key}:lock`;
    const me = randomBytes(8).toString('hex');
    const locked = (await redis.set(lockKey, me, 'PX', TOKEN_REFRESH_LOCK_MS, 'NX')) === 'OK';
    if (!locked) {
      // another instance is fetching: take its token when it appears
      for (let waited = 0; waited < TOKEN_REFRESH_WAIT_MS; waited += POLL_MS) {
        await sleep(POLL_MS);
        const t = await redis.get(this.key);
        if (t && t !== stale) return t;
      }
    }
    try {
      const again = await redis.get(this.key);
      if (again && again !== stale) return again;
      const got = await this.o.fetch(stale);
      const ttl = this.cacheTtlMs(got.lifetimeMs);
      if (ttl !== null) await redis.set(this.key, got.token, 'PX', ttl);
      return got.token;
    } finally {
      if (locked) await redis.eval(DEL_IF_EQUALS, 1, lockKey, me).catch(() => undefined);
    }
  }
}
