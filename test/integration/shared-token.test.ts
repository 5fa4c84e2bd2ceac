/**
 * server/services/shared-token.ts against real Redis: the cache and its margin, single flight in a
 * process, the lock across processes (a second copy of the module on its own connection stands for
 * another instance of the install), and the drop-refresh-retry-once around a call.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { SharedToken, TOKEN_REFRESH_WAIT_MS, type FetchedToken } from '../../server/services/shared-token';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const HOUR2_MS = 7200_000;

let redis: Redis;
let redis2: Redis;
const prefix = `dptest:${process.env.JEST_WORKER_ID ?? 0}:${randomBytes(4).toString('hex')}`;
let n = 0;
/** a fresh key per test: tests never see each other's tokens */
const newKey = () => `${prefix}:tok:${++n}`;

/** A token endpoint: hands out t1, t2, … and counts its calls; `gate` holds answers back while set. */
function endpoint(lifetimeMs = HOUR2_MS) {
  const e = {
    calls: 0,
    stales: [] as Array<string | null>,
    gate: null as Promise<void> | null,
    fail: null as Error | null,
    fetch: async (stale: string | null): Promise<FetchedToken> => {
      e.calls++;
      e.stales.push(stale);
      const mine = e.calls;
      if (e.gate) await e.gate;
      if (e.fail) throw e.fail;
      return { token: `t${mine}`, lifetimeMs };
    },
  };
  return e;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

type Answer = { ok: true; token: string; retry: boolean } | { ok: false; refused: true; retry: boolean } | { ok: false; tokenError: string };

/** A platform call that refuses every token in `refused`. */
function platform(refused: Set<string>) {
  const seen: string[] = [];
  return {
    seen,
    call: {
      attempt: async (token: string, retry: boolean): Promise<Answer> => {
        seen.push(token);
        return refused.has(token) ? { ok: false, refused: true, retry } : { ok: true, token, retry };
      },
      refused: (r: Answer) => !r.ok && 'refused' in r,
      tokenFailed: (e: unknown): Answer => ({ ok: false, tokenError: (e as Error).message }),
    },
  };
}

beforeAll(() => {
  redis = new Redis(REDIS_URL);
  redis2 = new Redis(REDIS_URL);
});
afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  redis2.disconnect();
});

describe('SharedToken', () => {
  it('many concurrent callers in one process fetch once, and later callers take the cached token', async () => {
    const ep = endpoint();
    const gate = deferred();
    ep.gate = gate.promise;
    const st = new SharedToken({ redis, key: newKey(), fetch: ep.fetch });
    const all = Promise.all(Array.from({ length: 8 }, () => st.get()));
    // one refresh shared in the process (not 8 that the Redis lock then sorts out)
    expect(st.refresh(null)).toBe(st.refresh(null));
    setTimeout(gate.resolve, 50);
    expect(await all).toEqual(Array(8).fill('t1'));
    expect(await st.get()).toBe('t1');
    expect(ep.calls).toBe(1);
    expect(await redis.get(st.key)).toBe('t1');
    expect(await redis.exists(`${st.key}:lock`)).toBe(0);
  });

  it('three instances (separate module copies and connections, one Redis key) starting together fetch once', async () => {
    let Other!: typeof SharedToken;
    jest.isolateModules(() => {
      Other = (require('../../server/services/shared-token') as typeof import('../../server/services/shared-token')).SharedToken;
    });
    expect(Other).not.toBe(SharedToken);
    const key = newKey();
    const ep = endpoint();
    const gate = deferred();
    ep.gate = gate.promise;
    const a = new SharedToken({ redis, key, fetch: ep.fetch });
    const b = new Other({ redis: redis2, key, fetch: ep.fetch });
    const c = new Other({ redis: redis2, key, fetch: ep.fetch });
    const all = Promise.all([a.get(), b.get(), c.get()]);
    // the lock holder's endpoint answers after the others have found the lock taken and are polling
    setTimeout(gate.resolve, 250);
    expect(await all).toEqual(['t1', 't1', 't1']);
    expect(ep.calls).toBe(1);
  });

  it('an instance whose lock holder never stores a token fetches itself after the wait', async () => {
    const key = newKey();
    await redis.set(`${key}:lock`, 'a-dead-instance', 'PX', 60_000);
    const ep = endpoint();
    const st = new SharedToken({ redis, key, fetch: ep.fetch });
    const t0 = Date.now();
    expect(await st.get()).toBe('t1');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(TOKEN_REFRESH_WAIT_MS - 200);
    expect(ep.calls).toBe(1);
    // not its lock: left alone (it expires on its own)
    expect(await redis.get(`${key}:lock`)).toBe('a-dead-instance');
  });

  it('a refused token is dropped, refreshed once and the call retried with the new one', async () => {
    const ep = endpoint();
    const st = new SharedToken({ redis, key: newKey(), fetch: ep.fetch });
    expect(await st.get()).toBe('t1');
    const p = platform(new Set(['t1']));
    const refusals: unknown[] = [];
    const r = await st.call({ ...p.call, onRefused: (x) => refusals.push(x) });
    expect(r).toEqual({ ok: true, token: 't2', retry: true });
    expect(p.seen).toEqual(['t1', 't2']);
    expect(refusals).toEqual([{ ok: false, refused: true, retry: false }]);
    expect(ep.calls).toBe(2);
    expect(ep.stales).toEqual([null, 't1']);
    expect(await redis.get(st.key)).toBe('t2');
  });

  it('the refused token is gone from Redis even when the refresh fails (no other caller reuses it)', async () => {
    const ep = endpoint();
    const st = new SharedToken({ redis, key: newKey(), fetch: ep.fetch });
    await st.get();
    ep.fail = new Error('gettoken: errcode -1: system busy');
    const p = platform(new Set(['t1']));
    expect(await st.call(p.call)).toEqual({ ok: false, tokenError: 'gettoken: errcode -1: system busy' });
    expect(p.seen).toEqual(['t1']);
    expect(await redis.get(st.key)).toBeNull();
  });

  it('five calls refused at once share one refresh', async () => {
    const ep = endpoint();
    const st = new SharedToken({ redis, key: newKey(), fetch: ep.fetch });
    await st.get();
    const p = platform(new Set(['t1']));
    const rs = await Promise.all(Array.from({ length: 5 }, () => st.call(p.call)));
    expect(rs.every((r) => r.ok && r.token === 't2')).toBe(true);
    expect(ep.calls).toBe(2);
  });

  it('a token refused again after the refresh is returned, not looped', async () => {
    const ep = endpoint();
    const st = new SharedToken({ redis, key: newKey(), fetch: ep.fetch });
    const p = platform(new Set(['t1', 't2', 't3']));
    expect(await st.call(p.call)).toEqual({ ok: false, refused: true, retry: true });
    expect(p.seen).toEqual(['t1', 't2']);
    expect(ep.calls).toBe(2);
  });

  it('a refused token that another instance already replaced is not dropped: its new token is used', async () => {
    const ep = endpoint();
    const st = new SharedToken({ redis, key: newKey(), fetch: ep.fetch });
    await redis.set(st.key, 'from-another-instance', 'PX', 60_000);
    expect(await st.refresh('t0')).toBe('from-another-instance');
    await st.drop('t0');
    expect(await redis.get(st.key)).toBe('from-another-instance');
    expect(ep.calls).toBe(0);
  });

  it('a failure to get a token is answered through tokenFailed, without calling the platform', async () => {
    const ep = endpoint();
    ep.fail = new Error('gettoken: WECOM_SECRET is wrong');
    const st = new SharedToken({ redis, key: newKey(), fetch: ep.fetch });
    const p = platform(new Set());
    expect(await st.call(p.call)).toEqual({ ok: false, tokenError: 'gettoken: WECOM_SECRET is wrong' });
    expect(p.seen).toEqual([]);
    await expect(st.get()).rejects.toThrow('WECOM_SECRET');
  });

  it('the Redis life ends a margin before the platform expiry: 5 min for 7200 s, 10 % for short tokens', async () => {
    const long = new SharedToken({ redis, key: newKey(), fetch: endpoint(HOUR2_MS).fetch });
    await long.get();
    const pttl = await redis.pttl(long.key);
    expect(pttl).toBeLessThanOrEqual(HOUR2_MS - 300_000);
    expect(pttl).toBeGreaterThan(HOUR2_MS - 300_000 - 5_000);
    const short = new SharedToken({ redis, key: newKey(), fetch: endpoint(60_000).fetch });
    await short.get();
    const spttl = await redis.pttl(short.key);
    expect(spttl).toBeLessThanOrEqual(54_000);
    expect(spttl).toBeGreaterThan(50_000);
    expect(long.cacheTtlMs(HOUR2_MS)).toBe(6_900_000);
    expect(short.cacheTtlMs(60_000)).toBe(54_000);
  });

  it('a fixed margin (DingTalk: 5 min); a token living less than the margin, or of unknown life, is not cached', async () => {
    const fixed = (lifetimeMs: number) => new SharedToken({ redis, key: newKey(), fetch: endpoint(lifetimeMs).fetch, marginMs: () => 300_000 });
    const d = fixed(HOUR2_MS);
    await d.get();
    expect(await redis.pttl(d.key)).toBeGreaterThan(HOUR2_MS - 300_000 - 5_000);
    for (const life of [200_000, 300_500, 0, Number.NaN]) {
      const s = fixed(life);
      expect(await s.get()).toBe('t1');
      expect(await redis.exists(s.key)).toBe(0);
    }
  });
});
