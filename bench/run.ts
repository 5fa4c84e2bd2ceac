/**
 * `npm run bench` — the alert engine at scale (design.md "The alert engine", "Scale path").
 * Not part of `npm test`. See bench/README.md for what is measured and the targets.
 *
 * 1. setup: drop and re-create the bench database (migrations via server/migrate.ts), load the
 *    demo plant, bulk-insert 1,000,000 CheckTaskInstance and 100,000 Hazard rows, ANALYZE.
 * 2. (a) tick with nothing due; the claim alone through Prisma and through bare mysql2 (the floor)
 *    (d) naive full-scan selections vs the indexed claims, nothing due and 1,000 due
 *    (b) ticks with 1,000 due: instances (→ missed), hazards (→ overdue alerts, scanned and fired
 *        in the same tick), then the same 1,000 alerts fired again alone
 *    (c) due→enqueued lag at 10,000 alerts/min: scheduler loop + relay loop for ~70 s
 * 3. prints a table; writes bench/results/latest.json.
 *
 * Environment (all optional):
 *   BENCH_DATABASE_URL  mysql://root@127.0.0.1:3306/dualprev_bench (the name must contain "bench": it is dropped)
 *   REDIS_URL           redis://127.0.0.1:6379 (a unique key prefix is used and removed afterwards)
 *   BENCH_INSTANCES=1000000  BENCH_HAZARDS=100000  BENCH_TICKS=50
 *   BENCH_TICK_MS=250  BENCH_RELAY_MS=250  BENCH_RATE=10000 (alerts per minute)  BENCH_LAG_SECONDS=60
 *   BENCH_LAG_RUNS  the (c) runs as tick/relay ms pairs; default "250/250,1000/1000,defaults"
 *                   ("defaults" = the shipped TICK_INTERVAL_MS / RELAY_INTERVAL_MS; BENCH_LAG_DEFAULTS=0 drops it)
 *   BENCH_KEEP_DB=1 (keep the database for EXPLAIN afterwards)
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type Bull from 'bull';
import type mysql from 'mysql2/promise';
import { createPrisma, Prisma, type PrismaClient } from '../server/db';
import { parseDatabaseUrl } from '../server/db-url';
import { migrate } from '../server/migrate';
import { systemClock } from '../server/clock';
import { createLogger } from '../server/logger';
import { loadConfig } from '../server/config';
import { tick, type TickDeps, type TickResult } from '../server/engine/tick';
import { createDeliveryQueue, relayOnce, type DeliveryJob } from '../server/jobs/delivery';
import { loadDemoPlant } from '../prisma/seed';
import { connect, DAY, dt, HOUR, loadHazards, loadInstances, Loop, prng, progress, stats, timeIt, type Stats } from './lib';

const env = process.env;
const num = (name: string, def: number) => (env[name] !== undefined && env[name] !== '' ? Number(env[name]) : def);

const DB_URL = env.BENCH_DATABASE_URL || 'mysql://root@127.0.0.1:3306/dualprev_bench';
const REDIS_URL = env.REDIS_URL || 'redis://127.0.0.1:6379';
const N_INSTANCES = num('BENCH_INSTANCES', 1_000_000);
const N_HAZARDS = num('BENCH_HAZARDS', 100_000);
const N_TICKS = num('BENCH_TICKS', 50);
const TICK_MS = num('BENCH_TICK_MS', 250);
const RELAY_MS = num('BENCH_RELAY_MS', 250);
const RATE = num('BENCH_RATE', 10_000);
const LAG_SECONDS = num('BENCH_LAG_SECONDS', 60);
const LAG_DEFAULTS = env.BENCH_LAG_DEFAULTS !== '0';
const KEEP_DB = env.BENCH_KEEP_DB === '1';
const N_DUE = 1000;
/** nextCheckAt of the bulk rows is never inside [load, load + QUIET): nothing else becomes due during the run */
const QUIET_MS = 2 * HOUR;

const defaults = loadConfig({});
const BATCH = defaults.tickBatch;

const TABLES = [
  { table: 'CheckTaskInstance', col: 'nextCheckAt', index: 'CheckTaskInstance_nextCheckAt_idx' },
  { table: 'Hazard', col: 'nextCheckAt', index: 'Hazard_nextCheckAt_idx' },
  { table: 'Alert', col: 'nextFireAt', index: 'Alert_nextFireAt_idx' },
] as const;
type Table = (typeof TABLES)[number];

/** The engine's claim (server/engine/tick.ts), optionally with the index hidden from the optimizer. */
const claimSql = (t: Table, limit: number, ignoreIndex = false) =>
  `SELECT id FROM \`${t.table}\`${ignoreIndex ? ` IGNORE INDEX (\`${t.index}\`)` : ''} WHERE ${t.col} <= ? ORDER BY ${t.col} LIMIT ${limit} FOR UPDATE SKIP LOCKED`;
/** What one would write without the nextCheckAt column: overdue = pending and past the window's end. */
const naiveInstancesSql = (limit: number) => `SELECT id FROM CheckTaskInstance WHERE state = 'pending' AND endAt <= ? LIMIT ${limit} FOR UPDATE SKIP LOCKED`;

const results: Record<string, unknown> = {};
type Section = 'a' | 'b' | 'c';
const rows: Array<{ section: Section; what: string; s?: Stats; value?: string; target?: string; ok?: boolean; heading?: boolean }> = [];
const row = (section: Section, what: string, s: Stats, target?: string, ok?: boolean) => rows.push({ section, what, s, target, ok });
const note = (section: Section, what: string, value: string, target?: string, ok?: boolean) => rows.push({ section, what, value, target, ok });
const heading = (section: Section, what: string) => rows.push({ section, what, heading: true });
interface Comparison {
  table: string;
  due: number;
  naive: string;
  rows: number[];
  indexed: Stats;
  naiveStats: Stats;
  ratio: number;
  explainIndexed: string;
  explainNaive: string;
}
const comparisons: Comparison[] = [];

/** "tick/relay" pairs in ms for (c); "defaults" = the shipped TICK_INTERVAL_MS / RELAY_INTERVAL_MS. */
function lagRuns(): Array<{ label: string; tickMs: number; relayMs: number }> {
  const spec = env.BENCH_LAG_RUNS || `${TICK_MS}/${RELAY_MS},1000/1000${LAG_DEFAULTS ? ',defaults' : ''}`;
  return spec.split(',').map((x) => {
    const [t, r] = x.trim() === 'defaults' ? [defaults.tickIntervalMs, defaults.relayIntervalMs] : x.split('/').map(Number);
    if (!(t > 0 && r > 0)) throw new Error(`BENCH_LAG_RUNS: bad entry "${x}" (expected tick/relay in ms, or "defaults")`);
    return { label: `tick ${t} ms, relay ${r} ms${x.trim() === 'defaults' ? ' (shipped defaults)' : ''}`, tickMs: t, relayMs: r };
  });
}

/** One mysql2 transaction around `sql`, rolled back (selection only, nothing claimed for real). */
async function rawSelect(conn: mysql.Connection, sql: string, now: Date): Promise<number> {
  await conn.query('BEGIN');
  try {
    const [r] = await conn.query<mysql.RowDataPacket[]>(sql, [now]);
    return r.length;
  } finally {
    await conn.query('ROLLBACK');
  }
}

/** BEGIN; claim; COMMIT through mysql2 (what the empty tick's transactions cost without Prisma). */
async function rawClaim(conn: mysql.Connection, sql: string, now: Date): Promise<number> {
  await conn.query('BEGIN');
  const [r] = await conn.query<mysql.RowDataPacket[]>(sql, [now]);
  await conn.query('COMMIT');
  return r.length;
}

async function explain(conn: mysql.Connection, sql: string, now: Date): Promise<string> {
  const [r] = await conn.query<mysql.RowDataPacket[]>(`EXPLAIN ${sql}`, [now]);
  return r.map((x) => `type=${x.type} key=${x.key ?? '-'} rows=${x.rows} extra=${x.Extra ?? ''}`).join(' | ');
}

async function tickUntilIdle(deps: TickDeps, max = 50): Promise<{ ticks: TickResult[]; totalMs: number }> {
  const ticks: TickResult[] = [];
  for (let i = 0; i < max; i++) {
    const r = await tick(deps);
    ticks.push(r);
    if (!r.instances && !r.hazards && !r.fired) break;
  }
  // the last tick found nothing: it belongs to "until nothing is due" but did no work
  return { ticks, totalMs: ticks.reduce((a, t) => a + t.ms, 0) };
}

const fmt = (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 2 : 1)} ms`);

async function main(): Promise<void> {
  const dbName = parseDatabaseUrl(DB_URL).database;
  if (!/bench/i.test(dbName)) throw new Error(`BENCH_DATABASE_URL must name a database containing "bench" (it is dropped): got "${dbName}"`);
  const started = new Date();
  const loadBefore = os.loadavg();
  if (loadBefore[0] > 1) progress(`warning: load average ${loadBefore.map((x) => x.toFixed(2)).join(' ')} on ${os.cpus().length} cores: other work is running, figures will be noisy`);
  const log = createLogger('silent');
  const timings: Record<string, number> = {};
  const phase = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const r = await fn();
    timings[name] = Math.round(performance.now() - t0);
    return r;
  };

  // ───────────── 1. setup ─────────────
  progress(`setup: dropping and migrating ${dbName}`);
  await phase('migrate', async () => {
    const server = await connect(DB_URL, false);
    await server.query(`DROP DATABASE IF EXISTS \`${dbName}\``);
    await server.end();
    await migrate({ databaseUrl: DB_URL, log: (m) => progress(`  migrate: ${m}`) });
  });
  const prisma: PrismaClient = createPrisma({ databaseUrl: DB_URL, databasePoolSize: defaults.databasePoolSize });
  const conn = await connect(DB_URL);
  const [[ver]] = await conn.query<mysql.RowDataPacket[]>('SELECT VERSION() AS v, @@innodb_buffer_pool_size AS bp');

  const loadNow = new Date();
  const { enterpriseId } = await phase('seed', () => loadDemoPlant(prisma, { now: loadNow }));
  const taskIds = (await prisma.checkTask.findMany({ where: { enterpriseId }, select: { id: true }, orderBy: { id: 'asc' } })).map((t) => t.id);
  const unitIds = (await prisma.riskUnit.findMany({ where: { enterpriseId }, select: { id: true } })).map((u) => u.id);
  const personIds = (await prisma.person.findMany({ where: { enterpriseId }, select: { id: true } })).map((p) => p.id);
  const robots = (await prisma.chatDestination.findMany({ where: { enterpriseId }, select: { code: true } })).map((d) => d.code);
  progress(`demo plant loaded: enterprise ${enterpriseId}, ${taskIds.length} check tasks, ${unitIds.length} risk units, ${personIds.length} people, robots ${robots.join(',')}`);

  progress(`bulk insert: ${N_INSTANCES.toLocaleString('en')} CheckTaskInstance rows`);
  let lastShown = 0;
  const instanceTally = await phase('insertInstances', () =>
    loadInstances(DB_URL, { enterpriseId, taskIds, count: N_INSTANCES, now: loadNow.getTime(), quietMs: QUIET_MS }, (n) => {
      if (n - lastShown >= 200_000 || n === N_INSTANCES) {
        lastShown = n;
        progress(`  ${n.toLocaleString('en')} instances`);
      }
    }),
  );
  progress(`  ${JSON.stringify(instanceTally)} in ${fmt(timings.insertInstances)}`);
  progress(`bulk insert: ${N_HAZARDS.toLocaleString('en')} Hazard rows`);
  const hazardTally = await phase('insertHazards', () =>
    loadHazards(DB_URL, { enterpriseId, riskUnitIds: unitIds, personIds, count: N_HAZARDS, now: loadNow.getTime(), quietMs: QUIET_MS }, () => undefined),
  );
  progress(`  ${JSON.stringify(hazardTally)} in ${fmt(timings.insertHazards)}`);
  await phase('analyze', () => conn.query('ANALYZE TABLE CheckTaskInstance, Hazard, Alert, Notification'));
  progress(`ANALYZE TABLE done in ${fmt(timings.analyze)}`);

  const deps: TickDeps = { prisma, clock: systemClock, log, batch: BATCH, activeRobots: new Set(robots) };
  // the demo's own hazards (nextCheckAt = load time) open and fire their alerts first
  const drain = await tickUntilIdle(deps);
  progress(`drained the demo plant's own work in ${drain.ticks.length} ticks (${fmt(drain.totalMs)})`);

  // ───────────── 2a. nothing due ─────────────
  progress(`(a) ${N_TICKS} ticks with nothing due`);
  const idleTicks: TickResult[] = [];
  const tickTimes = await timeIt(N_TICKS, async () => idleTicks.push(await tick(deps)), 5);
  if (idleTicks.some((t) => t.instances || t.hazards || t.fired)) throw new Error('something was due during the nothing-due ticks');
  const a = { tick: stats(tickTimes), prismaClaim: {} as Record<string, Stats>, prismaQueryNoTx: {} as Record<string, Stats>, rawClaim: {} as Record<string, Stats>, rawThree: {} as Stats, explain: {} as Record<string, string> };
  for (const t of TABLES) {
    const sql = claimSql(t, BATCH);
    a.explain[t.table] = await explain(conn, sql, new Date());
    a.rawClaim[t.table] = stats(await timeIt(N_TICKS, () => rawClaim(conn, sql, new Date())));
    const q = () => Prisma.sql`SELECT id FROM ${Prisma.raw('`' + t.table + '`')} WHERE ${Prisma.raw(t.col)} <= ${new Date()} ORDER BY ${Prisma.raw(t.col)} LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`;
    a.prismaClaim[t.table] = stats(await timeIt(N_TICKS, () => prisma.$transaction(async (tx) => tx.$queryRaw(q()), { timeout: 60_000, maxWait: 10_000 })));
    const plain = () => Prisma.sql`SELECT id FROM ${Prisma.raw('`' + t.table + '`')} WHERE ${Prisma.raw(t.col)} <= ${new Date()} ORDER BY ${Prisma.raw(t.col)} LIMIT ${BATCH}`;
    a.prismaQueryNoTx[t.table] = stats(await timeIt(N_TICKS, () => prisma.$queryRaw(plain())));
  }
  a.rawThree = stats(
    await timeIt(N_TICKS, async () => {
      for (const t of TABLES) await rawClaim(conn, claimSql(t, BATCH), new Date());
    }),
  );
  results.a = a;
  row('a', 'tick(), nothing due: 3 claims in 3 Prisma transactions', a.tick, 'p50, p95 < 20 ms', a.tick.p50 < 20 && a.tick.p95 < 20);
  row('a', 'floor: the same 3 claims, 3 bare mysql2 BEGIN/SELECT/COMMIT', a.rawThree);
  note('a', 'Prisma + engine overhead per empty tick (p50 tick − p50 floor)', fmt(a.tick.p50 - a.rawThree.p50));
  for (const t of TABLES) {
    row('a', `${t.table} claim: bare mysql2 BEGIN/SELECT/COMMIT`, a.rawClaim[t.table]);
    row('a', `${t.table} claim: Prisma $transaction + $queryRaw`, a.prismaClaim[t.table]);
    row('a', `${t.table} claim: Prisma $queryRaw, no transaction/lock`, a.prismaQueryNoTx[t.table]);
  }
  progress(`  tick p50 ${fmt(a.tick.p50)} p95 ${fmt(a.tick.p95)}; bare SQL floor p50 ${fmt(a.rawThree.p50)}`);

  // ───────────── 2d. naive vs indexed, nothing due ─────────────
  progress('(d) naive full-scan selections vs indexed claims, nothing due');
  const naiveReps = 5;
  const IGNORE = 'same claim, IGNORE INDEX';
  const STATE_END = "state='pending' AND endAt<=?";
  const compare = async (table: string, due: number, naive: string, indexedSql: string, naiveSql: string) => {
    const now = new Date();
    const got = [await rawSelect(conn, indexedSql, now), await rawSelect(conn, naiveSql, now)];
    if (got[0] !== due || got[1] !== due) progress(`  warning: ${table}: expected ${due} rows, indexed ${got[0]}, naive ${got[1]}`);
    const indexed = stats(await timeIt(20, () => rawSelect(conn, indexedSql, new Date()), 2));
    const naiveStats = stats(await timeIt(naiveReps, () => rawSelect(conn, naiveSql, new Date()), 1));
    const ratio = Math.round(naiveStats.p50 / indexed.p50);
    comparisons.push({ table, due, naive, rows: got, indexed, naiveStats, ratio, explainIndexed: await explain(conn, indexedSql, now), explainNaive: await explain(conn, naiveSql, now) });
    progress(`  ${table}, ${due} due, naive = ${naive}: indexed p50 ${fmt(indexed.p50)}, naive p50 ${fmt(naiveStats.p50)} → ${ratio}×`);
  };
  const [inst, haz, alert] = TABLES;
  await compare(inst.table, 0, IGNORE, claimSql(inst, BATCH), claimSql(inst, BATCH, true));
  await compare(inst.table, 0, STATE_END, claimSql(inst, BATCH), naiveInstancesSql(BATCH));
  await compare(haz.table, 0, IGNORE, claimSql(haz, BATCH), claimSql(haz, BATCH, true));

  // ───────────── 2b + 2d. 1,000 due instances ─────────────
  progress(`(b) ${N_DUE} due check task instances (past windows not done → missed)`);
  const now1 = Date.now();
  const rnd = prng(3);
  const candidates = Array.from({ length: 4 * N_DUE }, () => 1 + Math.floor(rnd() * N_INSTANCES));
  await conn.query(
    `UPDATE CheckTaskInstance SET state = 'pending', completedAt = NULL, nextCheckAt = endAt WHERE id IN (${candidates.join(',')}) AND state = 'done' AND endAt < ? LIMIT ${N_DUE}`,
    [new Date(now1 - HOUR)],
  );
  const [[{ dueInst }]] = await conn.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS dueInst FROM CheckTaskInstance WHERE nextCheckAt <= ?', [new Date()]);
  await compare(inst.table, Number(dueInst), IGNORE, claimSql(inst, N_DUE), claimSql(inst, N_DUE, true));
  await compare(inst.table, Number(dueInst), STATE_END, claimSql(inst, N_DUE), naiveInstancesSql(N_DUE));
  const instRun = await tickUntilIdle(deps);
  const b: Record<string, unknown> = {};
  b.instances = { due: Number(dueInst), ticks: instRun.ticks, totalMs: instRun.totalMs };
  const i0 = instRun.ticks[0];
  note('b', `${dueInst} due instances → missed: scan tick`, `${fmt(i0.ms)}  = ${fmt(i0.ms / Math.max(1, i0.instances))}/instance (${i0.instances} inst., ${i0.fired} task_overdue alerts fired, ${i0.notifications} notif.)`);
  note('b', `  all ticks until nothing due (${instRun.ticks.length}, the last one idle)`, fmt(instRun.totalMs));
  progress(`  ${instRun.ticks.map((t) => `${fmt(t.ms)} [i${t.instances} h${t.hazards} f${t.fired} n${t.notifications}]`).join(', ')}`);

  // ───────────── 2b + 2d. 1,000 due hazards → 1,000 alerts ─────────────
  progress(`(b) ${N_DUE} due hazards (deadline passed → hazard_overdue alerts, fired in the same tick)`);
  const hazardIds = (
    await conn.query<mysql.RowDataPacket[]>(`SELECT id FROM Hazard WHERE state = 'rectifying' AND dangerLevel = 0 AND deadlineAt IS NOT NULL ORDER BY RAND(4) LIMIT ${N_DUE}`)
  )[0].map((r) => Number(r.id));
  const yesterday = Date.now() - DAY;
  await conn.query(`UPDATE Hazard SET deadlineAt = ?, deadlineDate = ?, nextCheckAt = ? WHERE id IN (${hazardIds.join(',')})`, [
    new Date(yesterday),
    new Date(yesterday + 8 * HOUR).toISOString().slice(0, 10),
    new Date(Date.now() - 1000),
  ]);
  await compare(haz.table, hazardIds.length, IGNORE, claimSql(haz, N_DUE), claimSql(haz, N_DUE, true));
  const hazRun = await tickUntilIdle(deps);
  b.hazards = { due: hazardIds.length, ticks: hazRun.ticks, totalMs: hazRun.totalMs };
  const h0 = hazRun.ticks[0];
  note('b', `${hazardIds.length} due hazards → overdue alerts: scan + fire tick`, `${fmt(h0.ms)}  (${h0.hazards} hazards, ${h0.fired} alerts fired, ${h0.notifications} notif.)`);
  note('b', `  all ticks until nothing due (${hazRun.ticks.length}, the last one idle)`, fmt(hazRun.totalMs));
  progress(`  ${hazRun.ticks.map((t) => `${fmt(t.ms)} [i${t.instances} h${t.hazards} f${t.fired} n${t.notifications}]`).join(', ')}`);

  // the same alerts, due again, fired alone
  const alertIds = (
    await conn.query<mysql.RowDataPacket[]>(`SELECT id FROM Alert WHERE kind = 'hazard_overdue' AND subjectType = 'hazard' AND subjectId IN (${hazardIds.join(',')})`)
  )[0].map((r) => Number(r.id));
  await conn.query(`UPDATE Alert SET level = 0, lastNotifiedAt = NULL, nextFireAt = ? WHERE id IN (${alertIds.join(',')})`, [new Date(Date.now() - 1000)]);
  await conn.query('ANALYZE TABLE Alert, Notification');
  await compare(alert.table, alertIds.length, IGNORE, claimSql(alert, N_DUE), claimSql(alert, N_DUE, true));
  const fireRun = await tickUntilIdle(deps);
  const f0 = fireRun.ticks[0];
  b.fireOnly = { due: alertIds.length, ticks: fireRun.ticks, totalMs: fireRun.totalMs };
  note('b', `the same ${alertIds.length} alerts due again: fire-only tick`, `${fmt(f0.ms)}  = ${fmt(f0.ms / Math.max(1, f0.fired))}/alert (${f0.fired} fired, ${f0.notifications} notif.)`);
  note('b', `  ⇒ hazard scan phase ≈ (scan + fire) − fire-only`, `${fmt(h0.ms - f0.ms)}  = ${fmt((h0.ms - f0.ms) / Math.max(1, h0.hazards))}/hazard`);
  progress(`  fire only: ${fireRun.ticks.map((t) => `${fmt(t.ms)} [f${t.fired} n${t.notifications}]`).join(', ')}`);
  results.b = b;

  // ───────────── 2c. due → enqueued lag ─────────────
  const template = alertIds[0];
  const c: Record<string, unknown> = {};
  const runs = lagRuns();
  const prefix = `dualprev-bench:${randomBytes(4).toString('hex')}`;
  const queue = createDeliveryQueue(REDIS_URL, prefix, 'delivery');
  // relay whatever the earlier phases left pending, so (c) measures only its own notifications
  let relayedBefore = 0;
  for (let n; (n = await relayOnce({ prisma, clock: systemClock, queue, log, batch: BATCH, staleMs: defaults.relayStaleMs })); ) relayedBefore += n;
  progress(`relayed ${relayedBefore} notifications left by the earlier phases`);
  try {
    for (let ri = 0; ri < runs.length; ri++) {
      const run = runs[ri];
      const total = Math.round((RATE * LAG_SECONDS) / 60);
      progress(`(c) lag: ${total.toLocaleString('en')} alerts due over ${LAG_SECONDS} s (${RATE.toLocaleString('en')}/min), ${run.label}`);
      const lead = 3000;
      const t0 = Date.now() + lead;
      const spacing = (LAG_SECONDS * 1000) / total;
      const subjectBase = 10_000_000 * (ri + 1);
      // copies of a real alert (detail, policy snapshot, recipients), level 0, due at t0 + i × spacing
      const [[tpl]] = await conn.query<mysql.RowDataPacket[]>('SELECT enterpriseId, title, detail, policySnapshot, recipients FROM Alert WHERE id = ?', [template]);
      const dueOf = (i: number) => Math.floor(t0 + i * spacing);
      const json = (v: unknown) => conn.escape(typeof v === 'string' ? v : JSON.stringify(v)); // MariaDB: text, MySQL: parsed
      for (let i = 0; i < total; i += 1000) {
        const vals: string[] = [];
        for (let j = i; j < Math.min(total, i + 1000); j++) {
          const sid = subjectBase + j;
          vals.push(
            `(${tpl.enterpriseId},'hazard_overdue','hazard',${sid},'hazard_overdue:hazard:${sid}','open',0,${conn.escape(tpl.title)},${json(tpl.detail)},${json(tpl.policySnapshot)},${json(tpl.recipients)},${dt(dueOf(j))},${dt(dueOf(j))},${dt(Date.now())})`,
          );
        }
        await conn.query(
          `INSERT INTO Alert (enterpriseId, kind, subjectType, subjectId, openKey, state, level, title, detail, policySnapshot, recipients, conditionStartAt, nextFireAt, updatedAt) VALUES ${vals.join(',')}`,
        );
      }
      await conn.query('ANALYZE TABLE Alert');
      if (Date.now() > t0) progress(`  warning: inserting took longer than the ${lead} ms lead; the first alerts start late`);

      // the relay's queue, noting when each job's add to Redis completed
      const addedAt = new Map<number, number>(); // notification id → when its first job's add returned
      const timedQueue = {
        addBulk: async (jobs: Parameters<Bull.Queue<DeliveryJob>['addBulk']>[0]) => {
          const r = await queue.addBulk(jobs);
          const t = Date.now();
          for (const j of jobs) if (!addedAt.has(j.data.notificationId)) addedAt.set(j.data.notificationId, t);
          return r;
        },
      } as unknown as Bull.Queue<DeliveryJob>;
      const tickResults: TickResult[] = [];
      const relay = () => relayOnce({ prisma, clock: systemClock, queue: timedQueue, log, batch: BATCH, staleMs: defaults.relayStaleMs });
      // as server/runtime.ts does: a tick that wrote messages hands them to the queue at once
      const tickLoop = new Loop(run.tickMs, async () => {
        const r = await tick(deps);
        tickResults.push(r);
        if (r.notifications) await relay();
      });
      const relayLoop = new Loop(run.relayMs, relay);
      tickLoop.start();
      relayLoop.start();
      const end = t0 + LAG_SECONDS * 1000 + Math.max(10_000, 2 * (run.tickMs + run.relayMs));
      const countSql = `SELECT COUNT(*) AS n FROM Notification n JOIN Alert a ON a.id = n.alertId WHERE a.subjectType = 'hazard' AND a.subjectId >= ${subjectBase} AND a.subjectId < ${subjectBase + total}`;
      let lastReport = Date.now();
      for (;;) {
        await new Promise((r) => setTimeout(r, 1000));
        const now = Date.now();
        if (now - lastReport >= 10_000) {
          lastReport = now;
          const [[q]] = await conn.query<mysql.RowDataPacket[]>(`${countSql} AND n.enqueuedAt IS NOT NULL`);
          progress(`  ${Math.round((now - t0) / 1000)} s: ${tickResults.length} ticks, ${Number(q.n)} notifications enqueued`);
        }
        if (now >= end) break;
        if (now > t0 + LAG_SECONDS * 1000) {
          const [[left]] = await conn.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n FROM Alert WHERE subjectType = 'hazard' AND subjectId >= ${subjectBase} AND subjectId < ${subjectBase + total} AND level = 0`);
          const [[unq]] = await conn.query<mysql.RowDataPacket[]>(`${countSql} AND n.enqueuedAt IS NULL`);
          if (Number(left.n) === 0 && Number(unq.n) === 0) break;
        }
      }
      await tickLoop.stop();
      await relayLoop.stop();

      const [ns] = await conn.query<mysql.RowDataPacket[]>(
        `SELECT n.id, a.conditionStartAt AS due, n.createdAt, n.enqueuedAt FROM Notification n JOIN Alert a ON a.id = n.alertId WHERE a.subjectType = 'hazard' AND a.subjectId >= ${subjectBase} AND a.subjectId < ${subjectBase + total}`,
      );
      const [[unfired]] = await conn.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n FROM Alert WHERE subjectType = 'hazard' AND subjectId >= ${subjectBase} AND subjectId < ${subjectBase + total} AND level = 0`);
      const lagEnq: number[] = [];
      const lagWritten: number[] = [];
      const lagRedis: number[] = [];
      let notEnqueued = 0;
      for (const n of ns) {
        const due = (n.due as Date).getTime();
        lagWritten.push((n.createdAt as Date).getTime() - due);
        if (!n.enqueuedAt) {
          notEnqueued++;
          continue;
        }
        lagEnq.push((n.enqueuedAt as Date).getTime() - due);
        const t = addedAt.get(Number(n.id));
        if (t !== undefined) lagRedis.push(t - due);
      }
      const busy = tickResults.filter((t) => t.fired > 0);
      const r = {
        alerts: total,
        notifications: ns.length,
        unfiredAlerts: Number(unfired.n),
        notEnqueued,
        tickIntervalMs: run.tickMs,
        relayIntervalMs: run.relayMs,
        dueToWritten: stats(lagWritten),
        dueToEnqueuedAt: stats(lagEnq),
        dueToRedisAdd: stats(lagRedis),
        ticks: tickResults.length,
        tickMs: stats(tickResults.map((t) => t.ms)),
        firedPerBusyTick: stats(busy.map((t) => t.fired)),
        relayRunMs: stats(relayLoop.runs),
        loopErrors: tickLoop.errors + relayLoop.errors,
      };
      c[run.label] = r;
      const ok = r.dueToEnqueuedAt.p99 < 2000 && r.unfiredAlerts === 0 && r.notEnqueued === 0;
      heading('c', `${run.label}: ${total} alerts → ${ns.length} notifications; ${r.unfiredAlerts} unfired, ${notEnqueued} not enqueued, ${r.loopErrors} loop errors`);
      row('c', '  due → Notification.enqueuedAt (relay marked it queued)', r.dueToEnqueuedAt, 'p99 < 2 s', ok);
      row('c', '  due → job added to Redis (addBulk returned)', r.dueToRedisAdd);
      row('c', '  due → outbox row written (Notification.createdAt)', r.dueToWritten);
      row('c', `  tick() duration (${r.ticks} ticks)`, r.tickMs);
      row('c', `  relayOnce() duration (${r.relayRunMs.n} runs)`, r.relayRunMs);
      progress(`  due→enqueued p50 ${fmt(r.dueToEnqueuedAt.p50)} p99 ${fmt(r.dueToEnqueuedAt.p99)} max ${fmt(r.dueToEnqueuedAt.max)}; ${r.ticks} ticks (p50 ${fmt(r.tickMs.p50)}, max ${fmt(r.tickMs.max)})`);
    }
  } finally {
    await queue.obliterate({ force: true }).catch((e) => progress(`warning: could not remove the bench queue: ${(e as Error).message}`));
    await queue.close();
  }
  results.c = c;

  // ───────────── 3. report ─────────────
  const [[sizes]] = await conn.query<mysql.RowDataPacket[]>(
    'SELECT (SELECT COUNT(*) FROM CheckTaskInstance) AS instances, (SELECT COUNT(*) FROM Hazard) AS hazards, (SELECT COUNT(*) FROM Alert) AS alerts, (SELECT COUNT(*) FROM Notification) AS notifications',
  );
  await conn.end();
  await prisma.$disconnect();
  if (!KEEP_DB) {
    const server = await connect(DB_URL, false);
    await server.query(`DROP DATABASE IF EXISTS \`${dbName}\``);
    await server.end();
  }

  const report = {
    date: started.toISOString(),
    durationS: Math.round((Date.now() - started.getTime()) / 1000),
    machine: { loadAvgBefore: loadBefore.map((x) => Math.round(x * 100) / 100), loadAvgAfter: os.loadavg().map((x) => Math.round(x * 100) / 100), cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, db: ver.v, innodbBufferPoolMiB: Math.round(Number(ver.bp) / 2 ** 20) },
    params: { database: dbName, instances: N_INSTANCES, hazards: N_HAZARDS, batch: BATCH, poolSize: defaults.databasePoolSize, ticks: N_TICKS, due: N_DUE, rate: RATE, lagSeconds: LAG_SECONDS, robots },
    data: { instances: instanceTally, hazards: hazardTally, finalRows: Object.fromEntries(Object.entries(sizes).map(([k, v]) => [k, Number(v)])) },
    setupMs: timings,
    ...results,
    d: comparisons,
  };
  const dir = path.join(__dirname, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'latest.json');
  fs.writeFileSync(file, JSON.stringify(report, null, 2) + '\n');

  const W = 78;
  const line = (s: string, w: number) => (s.length > w ? s.slice(0, w - 1) + '…' : s.padEnd(w));
  const out: string[] = [];
  out.push('');
  out.push(`dualprev engine bench — ${report.date} — ${report.machine.cpus} cores (${report.machine.cpuModel}), ${report.machine.db}, buffer pool ${report.machine.innodbBufferPoolMiB} MiB`);
  out.push(`load average before ${report.machine.loadAvgBefore.join(' ')}, after ${report.machine.loadAvgAfter.join(' ')}`);
  out.push(`${N_INSTANCES.toLocaleString('en')} instances, ${N_HAZARDS.toLocaleString('en')} hazards, batch ${BATCH}, pool ${defaults.databasePoolSize}; setup ${Math.round((timings.migrate + timings.seed + timings.insertInstances + timings.insertHazards + timings.analyze) / 1000)} s, run ${report.durationS} s`);
  const titles: Record<Section, string> = {
    a: '(a) nothing due',
    b: `(b) ${N_DUE} due (each tick: instances, hazards, then firing)`,
    c: `(c) due → enqueued lag, ${RATE.toLocaleString('en')} alerts/min for ${LAG_SECONDS} s, scheduler + relay loops`,
  };
  for (const section of ['a', 'b', 'c'] as const) {
    out.push('');
    out.push(`${line(titles[section], W)} ${'n'.padStart(5)} ${'p50'.padStart(9)} ${'p95'.padStart(9)} ${'p99'.padStart(9)} ${'max'.padStart(9)}  target`);
    for (const r of rows.filter((x) => x.section === section)) {
      const verdict = r.target ? `${r.target} ${r.ok ? 'OK' : 'MISSED'}` : '';
      if (r.heading) out.push(r.what);
      else if (r.s) out.push(`${line(r.what, W)} ${String(r.s.n).padStart(5)} ${fmt(r.s.p50).padStart(9)} ${fmt(r.s.p95).padStart(9)} ${fmt(r.s.p99).padStart(9)} ${fmt(r.s.max).padStart(9)}  ${verdict}`);
      else out.push(`${line(r.what, W)} ${r.value}${verdict ? `  ${verdict}` : ''}`);
    }
  }
  out.push('');
  out.push(`(d) naive selection vs the indexed claim (… FOR UPDATE SKIP LOCKED, LIMIT ${BATCH} when nothing is due, LIMIT ${N_DUE} with ${N_DUE} due),`);
  out.push('    bare mysql2, each in a transaction rolled back afterwards; p50 of 20 (indexed) and 5 (naive) runs');
  out.push(`${'table'.padEnd(18)} ${'due'.padStart(5)}  ${'naive query'.padEnd(28)} ${'rows'.padStart(9)} ${'indexed p50'.padStart(12)} ${'naive p50'.padStart(10)} ${'naive/indexed'.padStart(14)}`);
  for (const c of comparisons) {
    out.push(`${c.table.padEnd(18)} ${String(c.due).padStart(5)}  ${c.naive.padEnd(28)} ${c.rows.join('/').padStart(9)} ${fmt(c.indexed.p50).padStart(12)} ${fmt(c.naiveStats.p50).padStart(10)} ${`${c.ratio}×`.padStart(14)}`);
  }
  out.push('');
  out.push('EXPLAIN of the claims (nothing due):');
  for (const [t, e] of Object.entries(a.explain)) out.push(`  ${t}: ${e}`);
  out.push('');
  out.push(`written ${path.relative(process.cwd(), file)}`);
  process.stdout.write(out.join('\n') + '\n');
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`bench failed: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
