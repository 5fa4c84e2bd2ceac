/**
 * DingTalk OpenAPI client for the enterprise-internal app robot (protocols.md §3.2): the access
 * token and the two robot send calls we use.
 *
 * - `POST {api}/v1.0/oauth2/accessToken` `{appKey, appSecret}` → `{accessToken, expireIn}` (seconds)
 *   (https://open.dingtalk.com/document/orgapp/obtain-the-access_token-of-an-internal-app). The token
 *   is cached in Redis, shared by every process of the install, until {@link TOKEN_MARGIN_MS} before
 *   it expires; a call refused for the token (HTTP 401 / code `InvalidAuthentication`) drops the
 *   cached token, fetches a new one and retries once (platforms expire tokens early, design.md).
 *   Concurrent fetches collapse into one, in a process and across processes (./shared-token.ts).
 * - `POST {api}/v1.0/robot/groupMessages/send` `{msgKey, msgParam (JSON string), openConversationId,
 *   robotCode}` → `{processQueryKey}`: a message into a group the robot is in
 *   (https://open.dingtalk.com/document/orgapp/the-robot-sends-a-group-message).
 * - `POST {api}/v1.0/robot/oToMessages/batchSend` `{msgKey, msgParam, robotCode, userIds (≤ 20)}` →
 *   `{processQueryKey, invalidStaffIdList, flowControlledStaffIdList}`: direct messages
 *   (https://open.dingtalk.com/document/orgapp/chatbots-send-one-on-one-chat-messages-in-batches).
 *
 * Both send calls take the header `x-acs-dingtalk-access-token`. Unlike the robot webhooks, the
 * OpenAPI answers errors with an HTTP 4xx/5xx status and `{code, message, requestid}`. Messages sent
 * this way cannot @mention anyone (no `at` field), which is why replies prefer the session webhook.
 */
import type { Redis } from 'ioredis';
import type { DingtalkAppConfig } from '../config';
import type { Logger } from '../logger';
import { SharedToken } from './shared-token';

/** The cached token is dropped this long before DingTalk says it expires (ms). */
export const TOKEN_MARGIN_MS = 5 * 60_000;
/** batchSend takes at most 20 userIds per call (doc above). */
export const BATCH_SEND_MAX_USERS = 20;
/** After a throttling answer we wait this long before the next attempt (ms); DingTalk gives no Retry-After. */
export const OPENAPI_THROTTLE_MS = 60_000;
export const DEFAULT_OPENAPI_TIMEOUT_MS = 10_000;

/** Robot message templates (msgKey) we send (https://open.dingtalk.com/document/orgapp/robot-message-types-and-data-format). */
export type RobotMsgKey = 'sampleText' | 'sampleMarkdown' | 'sampleActionCard' | 'sampleActionCard2' | 'sampleActionCard3' | 'sampleActionCard4' | 'sampleActionCard5';

export type OpenApiResult =
  | { ok: true; status: number; json: Record<string, unknown> }
  | {
      ok: false;
      /** e.g. "HTTP 400 param.invalid: …" or "timeout after 10000 ms" */
      error: string;
      status?: number;
      code?: string;
      /** throttled: wait this long */
      retryAfterMs?: number;
      /** retrying the same request cannot help (bad parameters, robot not in the group, no permission) */
      permanent?: boolean;
    };

export interface DingtalkOpenApiDeps {
  config: DingtalkAppConfig;
  redis: Redis;
  /** prefix of every Redis key of this install (config REDIS_PREFIX) */
  redisPrefix: string;
  log: Logger;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A refusal because of the token (expired early, revoked): refresh and retry once. */
function isTokenError(status: number, code: string): boolean {
  return status === 401 || /^invalidauthentication$/i.test(code) || /accesstoken|access_token/i.test(code);
}

/** Throttling codes seen from the robot OpenAPI (QPS, per-robot and per-group flow control). */
function isThrottle(status: number, code: string): boolean {
  return status === 429 || /throttl|qpslimit|flowcontrol|too\.?fast|too\.many/i.test(code);
}

export class DingtalkOpenApi {
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;
  private readonly shared: SharedToken;

  constructor(private readonly d: DingtalkOpenApiDeps) {
    this.fetchImpl = d.fetch ?? fetch;
    this.timeoutMs = d.timeoutMs ?? DEFAULT_OPENAPI_TIMEOUT_MS;
    this.shared = new SharedToken({
      redis: d.redis,
      key: `${d.redisPrefix}:dingtalk:token:${d.config.appKey}`,
      fetch: () => this.fetchAccessToken(),
      // a token that lives less than the margin is used for the calls waiting for it only
      marginMs: () => TOKEN_MARGIN_MS,
    });
  }

  /**
   * The app's access token, from the Redis cache or freshly fetched.
   * @param force ignore the cached token (it was just refused)
   * @throws Error when DingTalk refuses the app's credentials or cannot be reached
   */
  async accessToken(force = false): Promise<string> {
    if (!force) return this.shared.get();
    return this.shared.refresh(await this.d.redis.get(this.shared.key));
  }

  /** Drops the cached token (after DingTalk refused it). */
  async forgetToken(): Promise<void> {
    await this.shared.drop();
  }

  private async fetchAccessToken(): Promise<{ token: string; lifetimeMs: number }> {
    const r = await this.post('/v1.0/oauth2/accessToken', { appKey: this.d.config.appKey, appSecret: this.d.config.appSecret });
    if (!r.ok) throw new Error(`dingtalk accessToken: ${r.error}`);
    const token = r.json.accessToken;
    const expireIn = Number(r.json.expireIn);
    if (typeof token !== 'string' || !token) throw new Error(`dingtalk accessToken: no accessToken in ${JSON.stringify(r.json).slice(0, 200)}`);
    return { token, lifetimeMs: Number.isFinite(expireIn) && expireIn > 0 ? expireIn * 1000 : 0 };
  }

  /**
   * Sends one robot message into a group (`groupMessages/send`).
   * @param msgParam the template's parameters (serialised to the JSON string DingTalk wants)
   */
  sendToGroup(openConversationId: string, msgKey: RobotMsgKey, msgParam: Record<string, string>): Promise<OpenApiResult> {
    return this.authed('/v1.0/robot/groupMessages/send', { robotCode: this.d.config.robotCode, openConversationId, msgKey, msgParam: JSON.stringify(msgParam) });
  }

  /**
   * Sends one robot message to people directly (`oToMessages/batchSend`), at most
   * {@link BATCH_SEND_MAX_USERS} staffIds per call.
   * @throws RangeError for an empty list or more than 20 userIds (a programming error)
   */
  sendToUsers(userIds: string[], msgKey: RobotMsgKey, msgParam: Record<string, string>): Promise<OpenApiResult> {
    if (userIds.length === 0 || userIds.length > BATCH_SEND_MAX_USERS) throw new RangeError(`batchSend takes 1..${BATCH_SEND_MAX_USERS} userIds`);
    return this.authed('/v1.0/robot/oToMessages/batchSend', { robotCode: this.d.config.robotCode, userIds, msgKey, msgParam: JSON.stringify(msgParam) });
  }

  /** A call with the token header; on a token refusal: new token, one retry. */
  private authed(path: string, body: unknown): Promise<OpenApiResult> {
    return this.shared.call<OpenApiResult>({
      attempt: (token) => this.post(path, body, token),
      refused: (r) => !r.ok && r.status !== undefined && isTokenError(r.status, r.code ?? ''),
      onRefused: (r) => this.d.log.info({ path, code: r.ok ? undefined : r.code }, 'dingtalk token refused; fetching a new one and retrying once'),
      tokenFailed: (e) => ({ ok: false, error: (e as Error).message }),
    });
  }

  private async post(path: string, body: unknown, token?: string): Promise<OpenApiResult> {
    const url = `${this.d.config.apiBase}${path}`;
    let status: number;
    let raw: string;
    try {
      const res = await this.fetchImpl(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json; charset=utf-8', Accept: 'application/json', ...(token ? { 'x-acs-dingtalk-access-token': token } : {}) },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = res.status;
      raw = await res.text();
    } catch (e) {
      const err = e as Error;
      if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return { ok: false, error: `timeout after ${this.timeoutMs} ms` };
      return { ok: false, error: `network error: ${err?.message ?? String(e)}` };
    }
    let json: unknown;
    try {
      json = raw ? JSON.parse(raw) : {};
    } catch {
      json = undefined;
    }
    if (status >= 200 && status < 300) {
      if (!isObject(json)) return { ok: false, status, error: `non-JSON response (HTTP ${status}): ${raw.slice(0, 200)}` };
      return { ok: true, status, json };
    }
    const code = isObject(json) && typeof json.code === 'string' ? json.code : '';
    const message = isObject(json) && typeof json.message === 'string' ? json.message : raw.slice(0, 200);
    const error = `HTTP ${status}${code ? ` ${code}` : ''}: ${message}`.slice(0, 500);
    if (isThrottle(status, code)) return { ok: false, status, code, error, retryAfterMs: OPENAPI_THROTTLE_MS };
    if (status >= 500 || status === 408) return { ok: false, status, code, error };
    return { ok: false, status, code, error, permanent: !isTokenError(status, code) };
  }
}
