/**
 * Helpers of the engine benchmark (bench/run.ts): timing statistics, a UTC mysql2 connection, the
 * bulk loaders for 1,000,000 CheckTaskInstance and 100,000 Hazard rows, and a non-overlapping loop
 * (the same semantics as server/runtime.ts's Loop).
 */
import mysql from 'mysql2/promise';
import { parseDatabaseUrl } from '../server/db-url';
import { DEFAULT_POLICIES, hazardDueSoonAt, taskDueSoonAt } from '../server/domain/escalation';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

// ───────────────────────────── statistics ─────────────────────────────

export interface Stats {
  n: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles of a sample (ms), rounded to 0.01. */
export function stats(xs: number[]): Stats {
  if (xs.length === 0) return { n: 0, min: NaN, p50: NaN, p95: NaN, p99: NaN, max: NaN, mean: NaN };
  const s = [...xs].sort((a, b) => a - b);
  const pct = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
  const r = (x: number) => Math.round(x * 100) / 100;
  return { n: s.length, min: r(s[0]), p50: r(pct(50)), p95: r(pct(95)), p99: r(pct(99)), max: r(s[s.length - 1]), mean: r(s.reduce((a, b) => a + b, 0) / s.length) };
}

/** Runs `fn` `warmup + n` times sequentially and returns the timings (ms) of the last n. */
export async function timeIt(n: number, fn: () => Promise<unknown>, warmup = 3): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

// ───────────────────────────── progress ─────────────────────────────

const started = performance.now();
export function progress(msg: string): void {
  const s = ((performance.now() - started) / 1000).toFixed(1).padStart(6);
  process.stdout.write(`[${s}s] ${msg}\n`);
}

// ───────────────────────────── SQL ─────────────────────────────

/** A mysql2 connection to the database of `url` (or to the server only), in UTC like server/db.ts. */
export async function connect(url: string, withDatabase = true): Promise<mysql.Connection> {
  const c = parseDatabaseUrl(url);
  const conn = await mysql.createConnection({
    host: c.host,
    port: c.port,
    user: c.user,
    password: c.password,
    database: withDatabase ? c.database : undefined,
    charset: 'utf8mb4',
    timezone: 'Z',
    dateStrings: false,
  });
  await conn.query("SET time_zone = '+00:00'");
  return conn;
}

/** DATETIME(3) literal in UTC: 'YYYY-MM-DD HH:MM:SS.mmm'. */
export function dt(d: Date | number): string {
  const iso = new Date(d).toISOString();
  return `'${iso.slice(0, 10)} ${iso.slice(11, 23)}'`;
}

const sqlOrNull = (d: Date | number | null) => (d === null ? 'NULL' : dt(d));

/** Small deterministic PRNG (mulberry32) so every run loads the same shape of data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Executes multi-row INSERTs of `chunk` rows, `parallel` statements at a time on separate connections. */
async function insertChunks(conns: mysql.Connection[], head: string, rows: Iterable<string>, chunk: number, onChunk?: (n: number) => void): Promise<number> {
  let buf: string[] = [];
  let total = 0;
  let next = 0;
  const inflight: Array<Promise<unknown> | null> = conns.map(() => null);
  const flush = async () => {
    if (!buf.length) return;
    const sql = head + buf.join(',');
    const n = buf.length;
    buf = [];
    const slot = next++ % conns.length;
    if (inflight[slot]) await inflight[slot];
    inflight[slot] = conns[slot].query(sql).then(() => {
      total += n;
      onChunk?.(total);
    });
  };
  for (const r of rows) {
    buf.push(r);
    if (buf.length >= chunk) await flush();
  }
  await flush();
  await Promise.all(inflight);
  return total;
}

async function bulkSession(url: string, parallel: number): Promise<mysql.Connection[]> {
  const conns: mysql.Connection[] = [];
  for (let i = 0; i < parallel; i++) {
    const c = await connect(url);
    // the rows are generated consistent (valid ids, unique keys): skip the per-row checks while loading
    await c.query('SET unique_checks = 0, foreign_key_checks = 0');
    conns.push(c);
  }
  return conns;
}

export interface InstanceLoad {
  enterpriseId: number;
  taskIds: number[];
  count: number;
  now: number;
  /** nextCheckAt is never set inside [now, now + quietMs): nothing becomes due while the bench runs */
  quietMs: number;
}

/**
 * `count` CheckTaskInstance rows over the tasks, windows spread evenly over now ± 60 days.
 * Past windows are done (93 %), missed (5 %) or suspended (2 %) with nextCheckAt NULL; windows not
 * yet ended are pending with nextCheckAt = their due-soon moment (or the end of the window when the
 * due-soon moment is already past), always after now + quietMs; a pending window ending within
 * the quiet period counts as done early.
 * @returns counts by state and how many have nextCheckAt set
 */
export async function loadInstances(url: string, o: InstanceLoad, onProgress: (n: number) => void): Promise<Record<string, number>> {
  const rnd = prng(1);
  const span = 120 * DAY;
  const from = o.now - 60 * DAY;
  const perTask = Math.ceil(o.count / o.taskIds.length);
  const step = span / perTask;
  const windows = [HOUR, 2 * HOUR, 4 * HOUR, 8 * HOUR, DAY, 7 * DAY];
  const params = DEFAULT_POLICIES.task_due_soon.params;
  const quietEnd = o.now + o.quietMs;
  const tally: Record<string, number> = { pending: 0, done: 0, missed: 0, suspended: 0, withNextCheckAt: 0 };
  function* rows(): Generator<string> {
    let made = 0;
    for (let ti = 0; ti < o.taskIds.length; ti++) {
      const taskId = o.taskIds[ti];
      const w = windows[ti % windows.length];
      const offset = Math.floor((step * ti) / o.taskIds.length);
      for (let k = 0; k < perTask && made < o.count; k++, made++) {
        const start = Math.floor(from + offset + k * step);
        const end = start + w;
        let state: string;
        let next: number | null = null;
        let completed: number | null = null;
        if (end <= quietEnd) {
          const r = rnd();
          state = end > o.now || r < 0.93 ? 'done' : r < 0.98 ? 'missed' : 'suspended';
          if (state === 'done') completed = start + Math.floor(w * rnd());
        } else {
          state = 'pending';
          const dueSoon = taskDueSoonAt(new Date(start), new Date(end), params).getTime();
          next = dueSoon >= quietEnd ? dueSoon : end;
        }
        tally[state]++;
        if (next !== null) tally.withNextCheckAt++;
        yield `(${o.enterpriseId},${taskId},${dt(start)},${dt(end)},'${state}',${sqlOrNull(next)},${sqlOrNull(completed)},${dt(Math.min(start, o.now))})`;
      }
    }
  }
  const conns = await bulkSession(url, 2);
  try {
    await insertChunks(conns, 'INSERT INTO `CheckTaskInstance` (`enterpriseId`,`checkTaskId`,`startAt`,`endAt`,`state`,`nextCheckAt`,`completedAt`,`createdAt`) VALUES ', rows(), 5000, onProgress);
  } finally {
    await Promise.all(conns.map((c) => c.end()));
  }
  return tally;
}

export interface HazardLoad {
  enterpriseId: number;
  riskUnitIds: number[];
  personIds: number[];
  count: number;
  now: number;
  quietMs: number;
}

const OPEN_STATES = ['rectifying', 'reported', 'awaiting_acceptance'];

/**
 * `count` Hazard rows: accepted 70 %, rejected 5 %, rectifying 15 %, reported 5 %,
 * awaiting_acceptance 5 %. Closed ones and open ones without a deadline (10 % of open, 即查即改)
 * have nextCheckAt NULL; open ones have a deadline 1–60 days ahead and nextCheckAt = their due-soon
 * moment (deadline − 3 d, 重大 − 7 d) or the deadline, always after now + quietMs.
 * Codes are BH0000001…; dangerSrc is never 10 (no late-entry alerts); 2 % are 重大 (dangerLevel 1).
 */
export async function loadHazards(url: string, o: HazardLoad, onProgress: (n: number) => void): Promise<Record<string, number>> {
  const rnd = prng(2);
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
  const quietEnd = o.now + o.quietMs;
  const params = DEFAULT_POLICIES.hazard_due_soon.params;
  const tally: Record<string, number> = { accepted: 0, rejected: 0, rectifying: 0, reported: 0, awaiting_acceptance: 0, withNextCheckAt: 0 };
  const esc = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
  function* rows(): Generator<string> {
    for (let i = 1; i <= o.count; i++) {
      const r = rnd();
      const state = r < 0.7 ? 'accepted' : r < 0.75 ? 'rejected' : r < 0.9 ? 'rectifying' : r < 0.95 ? 'reported' : 'awaiting_acceptance';
      const dangerLevel = rnd() < 0.02 ? 1 : 0;
      const reportedAt = o.now - Math.floor(rnd() * 120 * DAY) - HOUR;
      const foundAt = reportedAt - Math.floor(rnd() * DAY);
      let deadline: number | null = null;
      let next: number | null = null;
      let acceptedAt: number | null = null;
      if (OPEN_STATES.includes(state)) {
        if (rnd() >= 0.1) {
          // the end of a local (UTC+8) day 1..60 days ahead
          const day = Math.floor((o.now + 8 * HOUR) / DAY) + 1 + Math.floor(rnd() * 60);
          deadline = (day + 1) * DAY - 8 * HOUR - 1;
          const dueSoon = hazardDueSoonAt(new Date(deadline), dangerLevel, params).getTime();
          next = dueSoon >= quietEnd ? dueSoon : deadline;
        }
      } else {
        deadline = reportedAt + Math.floor(rnd() * 30 * DAY);
        if (state === 'accepted') acceptedAt = Math.min(o.now - MINUTE, reportedAt + Math.floor(rnd() * 20 * DAY));
      }
      tally[state]++;
      if (next !== null) tally.withNextCheckAt++;
      const deadlineDate = deadline === null ? 'NULL' : `'${new Date(deadline + 8 * HOUR).toISOString().slice(0, 10)}'`;
      const code = `BH${String(i).padStart(7, '0')}`;
      yield `(${o.enterpriseId},'${code}',${esc(`压测隐患 ${i}`)},${pick(o.riskUnitIds)},${dangerLevel},${1 + Math.floor(rnd() * 9)},${1 + Math.floor(rnd() * 8)},${deadline === null ? 0 : 1},${dt(foundAt)},${dt(reportedAt)},${pick(o.personIds)},${pick(o.personIds)},${pick(o.personIds)},${deadlineDate},${sqlOrNull(deadline)},'${state}',${sqlOrNull(acceptedAt)},${sqlOrNull(next)},${dt(reportedAt)},${dt(o.now)})`;
    }
  }
  const conns = await bulkSession(url, 2);
  try {
    await insertChunks(
      conns,
      'INSERT INTO `Hazard` (`enterpriseId`,`code`,`name`,`riskUnitId`,`dangerLevel`,`dangerSrc`,`hazardDangerType`,`dangerManageType`,`foundAt`,`reportedAt`,`reporterId`,`rectifierId`,`acceptorId`,`deadlineDate`,`deadlineAt`,`state`,`acceptedAt`,`nextCheckAt`,`createdAt`,`updatedAt`) VALUES ',
      rows(),
      2000,
      onProgress,
    );
  } finally {
    await Promise.all(conns.map((c) => c.end()));
  }
  return tally;
}

// ───────────────────────────── loops ─────────────────────────────

/** A periodic job that never overlaps itself (as server/runtime.ts's Loop): next run `everyMs` after the previous one ended. */
export class Loop {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  readonly runs: number[] = [];
  errors = 0;
  constructor(private readonly everyMs: number, private readonly fn: () => Promise<unknown>) {}
  start(): void {
    this.schedule(0);
  }
  private schedule(ms: number) {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      const t0 = performance.now();
      this.running = this.fn()
        .then(
          () => void this.runs.push(performance.now() - t0),
          (err) => {
            this.errors++;
            process.stderr.write(`loop run failed: ${(err as Error).message}\n`);
          },
        )
        .finally(() => {
          this.running = null;
          this.schedule(this.everyMs);
        });
    }, ms);
  }
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
