/**
 * Per-destination throttle: at most `limit` messages in ANY `windowMs` span (a sliding-window log
 * in a Redis sorted set, one atomic Lua script, Redis's own clock), shared by every worker process.
 *
 * Why our own ~20 lines instead of a library: WeCom and DingTalk robots count 20 messages in any
 * 60 s (protocols.md §1.4, §3.1; DingTalk then blocks the robot for 10 min). rate-limiter-flexible
 * only offers fixed windows, which let 40 messages through in two seconds across a window boundary;
 * `sliding-window-rate-limiter` is ESM-only (fails under our CJS build) and stores members as the
 * microsecond time, so two reservations in the same microsecond count once. bull's groupKey limiter
 * is abandoned upstream (design.md).
 */
import type { Redis } from 'ioredis';

const SCRIPT = `
local key = KEYS[1]
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local n = redis.call('ZCARD', key)
if n >= limit then
  local oldest = redis.call('ZRANGE', key, n - limit, n - limit, 'WITHSCORES')
  return {0, tonumber(oldest[2]) + window - now + 1}
end
redis.call('ZADD', key, now, now .. '-' .. ARGV[3])
redis.call('PEXPIRE', key, window)
return {1, 0}
`;

export interface Throttle {
  /**
   * Takes one slot for `key` if free.
   * @returns `{ ok: true }`, or `{ ok: false, waitMs }` = ms until a slot frees.
   */
  reserve(key: string): Promise<{ ok: true } | { ok: false; waitMs: number }>;
}

type WithLimiter = Redis & { dualprevThrottle(key: string, windowMs: number, limit: number, member: string): Promise<[number, number]> };

/** @param windowMs the platform's window plus a safety margin for network delay (ms) */
export function createRedisThrottle(redis: Redis, opts: { prefix: string; limit: number; windowMs: number }): Throttle {
  const r = redis as WithLimiter;
  if (!(r as unknown as Record<string, unknown>).dualprevThrottle) r.defineCommand('dualprevThrottle', { numberOfKeys: 1, lua: SCRIPT });
  let seq = 0;
  return {
    async reserve(key) {
      const member = `${process.pid}-${++seq}-${Math.random().toString(36).slice(2, 8)}`;
      const [ok, wait] = await r.dualprevThrottle(`${opts.prefix}:throttle:${key}`, opts.windowMs, opts.limit, member);
      return ok === 1 ? { ok: true } : { ok: false, waitMs: Math.max(1, Number(wait)) };
    },
  };
}
