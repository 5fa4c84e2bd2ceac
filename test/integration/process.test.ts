/**
 * The real server process (server/main.ts through ts-node, as `npm start` runs dist/server/main.js):
 * a fresh, empty database is migrated (AUTO_MIGRATE) and seeded (SEED_DEMO) at start, the outbox
 * line is logged, the engine fires the demo plant's V-101B alert within seconds, and SIGTERM stops
 * the process cleanly (exit 0, "stopped") within 10 s. ROLES=api runs no ticks. An invalid
 * environment exits with code 2 listing every bad variable.
 */
import { defaultMigrationsDir, readLocalMigrations } from '../../server/migrate';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';
import { createTestDb, type TestDb } from '../helpers/db';

jest.setTimeout(120_000);

const ROOT = path.resolve(__dirname, '..', '..');
const TS_NODE = require.resolve('ts-node/dist/bin.js', { paths: [ROOT] });
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The environment of a child: only what a process needs, none of the config variables of this one. */
function baseEnv(): NodeJS.ProcessEnv {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'TZ', 'LANG', 'SYSTEMROOT'];
  return Object.fromEntries(keep.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]]));
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `p`, or null when it takes longer than `ms` (the timer is cleared either way). */
async function within<T>(p: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<null>((r) => (timer = setTimeout(() => r(null), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

class ServerProcess {
  readonly child: ChildProcess;
  readonly logs: LogLine[] = [];
  /** stdout lines that are not JSON (there must be none) */
  readonly junk: string[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private buf = '';

  /** @param command default: the server through ts-node; `npm-start`: the README's `npm start` (npm → build → node) */
  constructor(env: Record<string, string>, command: 'ts-node' | 'npm-start' = 'ts-node') {
    const [file, args] = command === 'npm-start' ? ['npm', ['start']] : [process.execPath, [TS_NODE, '--transpile-only', 'server/main.ts']];
    this.child = spawn(file, args as string[], { cwd: ROOT, env: { ...baseEnv(), NODE_ENV: 'test', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      this.buf += s;
      const lines = this.buf.split('\n');
      this.buf = lines.pop()!;
      for (const l of lines.filter(Boolean)) {
        try {
          this.logs.push(JSON.parse(l) as LogLine);
        } catch {
          this.junk.push(l);
        }
      }
    });
    this.child.stderr!.setEncoding('utf8').on('data', (s: string) => (this.stderr += s));
    // 'close', not 'exit': the last stdout chunks (the "stopped" line) are read by then
    this.exited = new Promise((resolve) => this.child.once('close', (code, signal) => resolve({ code, signal })));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Waits for a log line matching `pred`; fails early when the process exits. */
  async waitForLog(pred: (l: LogLine) => boolean, timeoutMs: number, what: string): Promise<LogLine> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.logs.find(pred);
      if (hit) return hit;
      if (!this.running) throw new Error(`process exited (${this.child.exitCode ?? this.child.signalCode}) before ${what}\nstderr: ${this.stderr}\nlogs: ${this.logs.map((l) => l.msg).join(' | ')}`);
      if (Date.now() > until) throw new Error(`no ${what} within ${timeoutMs} ms\nstderr: ${this.stderr}\nlogs: ${this.logs.map((l) => l.msg).join(' | ')}`);
      await sleep(50);
    }
  }

  /** SIGTERM; resolves with the exit and how long it took. */
  async terminate(): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
    const t0 = Date.now();
    this.child.kill('SIGTERM');
    const r = await within(this.exited, 15_000);
    if (!r) throw new Error('the process did not exit within 15 s of SIGTERM');
    return { ...r, ms: Date.now() - t0 };
  }

  /** Ends the process if a test left it running (only this child, by its handle). */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

interface Fixture {
  db: TestDb;
  port: number;
  prefix: string;
  env: Record<string, string>;
}

async function fixture(extra: Record<string, string> = {}): Promise<Fixture> {
  const db = await createTestDb({ migrate: false });
  const port = await freePort();
  const prefix = `dptest:proc:${randomBytes(4).toString('hex')}`;
  return {
    db,
    port,
    prefix,
    env: {
      DATABASE_URL: db.url,
      DATABASE_POOL_SIZE: '4',
      REDIS_URL,
      REDIS_PREFIX: prefix,
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      LOG_LEVEL: 'info',
      TICK_INTERVAL_MS: '300',
      RELAY_INTERVAL_MS: '200',
      ...extra,
    },
  };
}

async function cleanup(f: Fixture | undefined, p: ServerProcess | undefined): Promise<void> {
  await p?.kill();
  if (!f) return;
  await f.db.drop();
  const r = new Redis(REDIS_URL);
  try {
    const keys = await r.keys(`${f.prefix}:*`);
    if (keys.length) await r.del(...keys);
  } finally {
    r.disconnect();
  }
}

interface OutboxItem {
  alertTitle: string;
  kind: string;
  level: number;
  state: string;
  recipients: Array<{ name: string }>;
}

describe('npm start on a fresh database (all roles)', () => {
  let f: Fixture;
  let p: ServerProcess;
  afterAll(async () => cleanup(f, p));

  it('migrates, seeds, logs the outbox URL, fires the V-101B alert within seconds, and stops on SIGTERM', async () => {
    f = await fixture();
    p = new ServerProcess(f.env);
    const line = await p.waitForLog((l) => l.msg.startsWith('outbox: '), 60_000, 'outbox line');
    const url = line.msg.slice('outbox: '.length);
    expect(url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${f.port}/outbox\\?token=[\\w-]{16,}$`));
    const token = new URL(url).searchParams.get('token')!;

    // it prepared the database by itself
    const msgs = p.logs.map((l) => l.msg);
    expect(msgs).toContain('migrations applied');
    expect(p.logs.find((l) => l.msg === 'migrations applied')!.applied).toEqual(readLocalMigrations(defaultMigrationsDir()).map((m) => m.name));
    expect(msgs).toContain('database was empty: loaded the demo plant (set SEED_DEMO=false to skip)');
    expect(msgs).toContain(`listening on 127.0.0.1:${f.port}`);

    const page = await fetch(url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('发件箱');
    expect((await fetch(`http://127.0.0.1:${f.port}/outbox`)).status).toBe(401);

    // within a few seconds the engine has fired and delivered the V-101B alert, at level 3, once
    let v101b: OutboxItem[] = [];
    const until = Date.now() + 20_000;
    while (Date.now() < until) {
      const res = await fetch(`http://127.0.0.1:${f.port}/outbox.json?token=${token}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { items: OutboxItem[] };
      v101b = body.items.filter((i) => i.alertTitle.includes('V-101B') && i.state === 'sent');
      if (v101b.length) break;
      await sleep(250);
    }
    expect(v101b).toHaveLength(1);
    expect(v101b[0]).toMatchObject({ kind: 'hazard_overdue', level: 3 });
    expect(v101b[0].recipients.map((r) => r.name).sort()).toEqual(['刘洋', '周建国', '胡婷', '郑丽', '陈志强'].sort());

    const ready = await fetch(`http://127.0.0.1:${f.port}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { mysql: 'ok', redis: 'ok', migrations: 'ok' } });
    const metrics = await (await fetch(`http://127.0.0.1:${f.port}/metrics`)).text();
    expect(metrics).toMatch(/^dualprev_notifications_total\{channel="outbox",outcome="sent"\} [1-9]\d*$/m);

    const exit = await p.terminate();
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.ms).toBeLessThan(10_000);
    const after = p.logs.map((l) => l.msg);
    expect(after).toContain('shutting down');
    expect(after[after.length - 1]).toBe('stopped');
    expect(p.logs.find((l) => l.msg === 'shutting down')!.signal).toBe('SIGTERM');
    // nothing but JSON log lines on stdout, nothing on stderr, no error logged
    expect(p.junk).toEqual([]);
    expect(p.stderr).toBe('');
    expect(p.logs.filter((l) => l.level >= 50)).toEqual([]);
    // the port is free again
    await expect(fetch(`http://127.0.0.1:${f.port}/healthz`)).rejects.toThrow();
  });
});

describe('npm start, stopped the way a supervisor stops it (SIGTERM to npm)', () => {
  let f: Fixture;
  let server: ServerProcess | undefined;
  beforeAll(async () => (f = await fixture()));
  afterAll(async () => {
    await server?.kill();
    await f.db.drop();
  });

  // npm runs the script through /bin/sh; without `exec` in the script the shell dies on SIGTERM and
  // the server keeps running as an orphan holding the port (found by a new-user test)
  it('the server itself receives the signal, stops cleanly and frees the port', async () => {
    server = new ServerProcess(f.env, 'npm-start');
    const line = await server.waitForLog((l) => l.msg.startsWith('outbox: '), 240_000, 'the outbox line (npm start builds first)');
    expect(line.msg).toContain(`:${f.port}/outbox?token=`);
    const { code, ms } = await server.terminate();
    expect(ms).toBeLessThan(10_000);
    expect(code).toBe(0);
    expect(server.logs.map((l) => l.msg)).toContain('stopped');
    await expect(fetch(`http://127.0.0.1:${f.port}/healthz`)).rejects.toThrow();
  }, 300_000);
});

describe('ROLES=api', () => {
  let f: Fixture;
  let p: ServerProcess;
  afterAll(async () => cleanup(f, p));

  it('serves the API but never ticks: no instances, alerts or notifications appear', async () => {
    f = await fixture({ ROLES: 'api', TICK_INTERVAL_MS: '100', GENERATE_INTERVAL_MS: '100' });
    p = new ServerProcess(f.env);
    const line = await p.waitForLog((l) => l.msg.startsWith('outbox: '), 60_000, 'outbox line');
    const token = new URL(line.msg.slice('outbox: '.length)).searchParams.get('token')!;
    expect(p.logs.find((l) => l.msg === 'starting dualprev')!.roles).toEqual(['api']);

    await sleep(4000);
    const res = await fetch(`http://127.0.0.1:${f.port}/outbox.json?token=${token}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ items: [], counts: {} });
    // the plant is there (seeded), the engine just did not run
    expect(await f.db.prisma.person.count()).toBe(18); // 17 of the plant + the park's regulator (prisma/seed.ts DEMO_REGULATOR)
    expect(await f.db.prisma.checkTaskInstance.count()).toBe(0);
    expect(await f.db.prisma.alert.count()).toBe(0);
    expect(await f.db.prisma.notification.count()).toBe(0);
    expect(p.logs.map((l) => l.msg)).not.toContain('tick');
    expect((await fetch(`http://127.0.0.1:${f.port}/readyz`)).status).toBe(200);

    const exit = await p.terminate();
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.ms).toBeLessThan(10_000);
    expect(p.logs[p.logs.length - 1].msg).toBe('stopped');
  });
});

describe('ROLES=scheduler,worker', () => {
  let f: Fixture;
  let p: ServerProcess;
  afterAll(async () => cleanup(f, p));

  it('ticks and delivers without serving HTTP', async () => {
    f = await fixture({ ROLES: 'scheduler,worker' });
    p = new ServerProcess(f.env);
    await p.waitForLog((l) => l.msg === 'tick', 60_000, 'a tick');
    const until = Date.now() + 20_000;
    while (Date.now() < until && (await f.db.prisma.notification.count({ where: { state: 'sent' } })) === 0) await sleep(250);
    expect(await f.db.prisma.notification.count({ where: { state: 'sent' } })).toBeGreaterThan(0);
    expect(p.logs.map((l) => l.msg).some((m) => m.startsWith('outbox: ') || m.startsWith('listening'))).toBe(false);
    await expect(fetch(`http://127.0.0.1:${f.port}/healthz`)).rejects.toThrow();
    const exit = await p.terminate();
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.ms).toBeLessThan(10_000);
    expect(p.logs[p.logs.length - 1].msg).toBe('stopped');
  });
});

describe('an invalid environment', () => {
  it('exits with code 2 and lists every bad variable on stderr, before touching anything', async () => {
    const p = new ServerProcess({ PORT: 'abc', ROBOTS: '{bad', LOG_LEVEL: 'loud', LINK_SECRET: 'short', DATABASE_URL: 'mysql://root@127.0.0.1:1/never' });
    try {
      const r = await within(p.exited, 30_000);
      expect(r).toEqual({ code: 2, signal: null });
      const problems = p.stderr.trim().split('\n');
      expect(problems[0]).toBe('invalid configuration:');
      for (const v of ['PORT', 'ROBOTS', 'LOG_LEVEL', 'LINK_SECRET']) expect(problems.some((l) => l.trim().startsWith(`${v}: `))).toBe(true);
      expect(problems).toHaveLength(5);
      expect(p.logs).toEqual([]); // not even "starting"
    } finally {
      await p.kill();
    }
  });

  it('a robot entry of the wrong shape is named with its path; an unknown role; a port out of range', async () => {
    const p = new ServerProcess({ ROBOTS: JSON.stringify({ tank: { webhook: 'not a url' } }), ROLES: 'api,cron', PORT: '70000' });
    try {
      const r = await within(p.exited, 30_000);
      expect(r).toEqual({ code: 2, signal: null });
      expect(p.stderr).toMatch(/^\s*ROBOTS\.tank\.webhook: /m);
      expect(p.stderr).toMatch(/^\s*ROLES(\.1)?: /m);
      expect(p.stderr).toMatch(/^\s*PORT: .*65535/m);
    } finally {
      await p.kill();
    }
  });
});
