/**
 * Operations endpoints (issue #2 item 8) against real MariaDB and Redis: /healthz, /readyz (MySQL,
 * Redis, migrations — 503 naming what failed, answering within ~3 s when a dependency is gone),
 * /metrics in Prometheus text format, and the request id on every response and log line.
 */
import request from 'supertest';
import net from 'node:net';
import { Redis } from 'ioredis';
import pino from 'pino';
import type mysql from 'mysql2/promise';
import { createTestSystem, T0, type TestSystem } from '../helpers/system';
import { serverConnection } from '../helpers/db';
import { createApp, type AppDeps } from '../../server/app';
import { createPrisma } from '../../server/db';
import { createMetrics } from '../../server/metrics';
import { migrationStatus } from '../../server/migrate';

let sys: TestSystem;
let deps: AppDeps;

/** A TCP port nothing listens on (bound once, then closed). */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

beforeAll(async () => {
  sys = await createTestSystem({ now: T0 });
  deps = {
    prisma: sys.rt.prisma,
    redis: sys.rt.redis,
    clock: sys.clock,
    log: pino({ level: 'silent' }),
    metrics: sys.rt.metrics,
    links: sys.rt.links,
    outboxToken: sys.rt.outboxToken,
    publicUrl: 'http://dualprev.test',
    migrationsCurrent: () => migrationStatus({ databaseUrl: sys.dbUrl }),
  };
});
afterAll(async () => sys?.close());

describe('/healthz', () => {
  it('200 without touching dependencies', async () => {
    const res = await request(sys.app.callback()).get('/healthz').expect(200);
    expect(res.body).toEqual({ status: 'ok' });
    // even with every dependency gone
    const port = await closedPort();
    const redis = new Redis(`redis://127.0.0.1:${port}`, { lazyConnect: true, maxRetriesPerRequest: 0 });
    const app = createApp({ ...deps, redis, migrationsCurrent: () => Promise.reject(new Error('down')) });
    await request(app.callback()).get('/healthz').expect(200);
    redis.disconnect();
  });
});

describe('/readyz', () => {
  it('200 when MySQL, Redis and migrations are all good', async () => {
    const res = await request(sys.app.callback()).get('/readyz').expect(200);
    expect(res.body).toEqual({ status: 'ready', checks: { mysql: 'ok', redis: 'ok', migrations: 'ok' } });
  });

  describe('a migration is missing from the database', () => {
    let conn: mysql.Connection;
    let row: Record<string, unknown>;
    const db = () => new URL(sys.dbUrl).pathname.slice(1);
    beforeAll(async () => {
      conn = await serverConnection();
      await conn.query(`USE \`${db()}\``);
    });
    afterAll(async () => conn?.end());

    it('503 with checks.migrations naming the pending migration (the real migrationStatus)', async () => {
      const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT * FROM _prisma_migrations ORDER BY started_at');
      expect(rows.length).toBeGreaterThan(0);
      row = rows[rows.length - 1];
      const name = String(row.migration_name);
      await conn.query('DELETE FROM _prisma_migrations WHERE id = ?', [row.id]);
      try {
        const res = await request(sys.app.callback()).get('/readyz').expect(503);
        expect(res.body).toEqual({ status: 'not_ready', checks: { mysql: 'ok', redis: 'ok', migrations: `pending: ${name}` } });
      } finally {
        await conn.query('INSERT INTO _prisma_migrations SET ?', [row]);
      }
      await request(sys.app.callback()).get('/readyz').expect(200);
    });

    it('503 naming the problem when a migration was edited after it was applied (nothing pending)', async () => {
      await conn.query('UPDATE _prisma_migrations SET checksum = ? WHERE id = ?', ['0'.repeat(64), row.id]);
      try {
        const res = await request(sys.app.callback()).get('/readyz').expect(503);
        expect(res.body.checks.migrations).toMatch(new RegExp(`^problem: Migration ${String(row.migration_name)} was applied on .* with checksum 0{64},$`));
      } finally {
        await conn.query('UPDATE _prisma_migrations SET checksum = ? WHERE id = ?', [row.checksum, row.id]);
      }
      await request(sys.app.callback()).get('/readyz').expect(200);
    });

    it('an app whose migrationsCurrent reports pending ones', async () => {
      const app = createApp({ ...deps, migrationsCurrent: async () => ({ current: false, pending: ['20270101000000_a', '20270102000000_b'] }) });
      const res = await request(app.callback()).get('/readyz').expect(503);
      expect(res.body.checks).toEqual({ mysql: 'ok', redis: 'ok', migrations: 'pending: 20270101000000_a, 20270102000000_b' });
    });
  });

  it('503 within ~3 s when Redis is unreachable (does not hang)', async () => {
    const port = await closedPort();
    const redis = new Redis(`redis://127.0.0.1:${port}`, { lazyConnect: true, maxRetriesPerRequest: 0 });
    redis.on('error', () => undefined);
    try {
      const app = createApp({ ...deps, redis });
      const t0 = Date.now();
      const res = await request(app.callback()).get('/readyz').timeout(5000);
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(res.status).toBe(503);
      expect(res.body.status).toBe('not_ready');
      expect(res.body.checks.mysql).toBe('ok');
      expect(res.body.checks.migrations).toBe('ok');
      expect(res.body.checks.redis).toMatch(/^error: /);
    } finally {
      redis.disconnect();
    }
  });

  it('503 within ~3 s when Redis never answers (a silent peer: the 2 s timeout)', async () => {
    // a server that accepts connections and never replies
    const sockets: net.Socket[] = [];
    const srv = net.createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const redis = new Redis(`redis://127.0.0.1:${(srv.address() as net.AddressInfo).port}`, { lazyConnect: true, maxRetriesPerRequest: 0 });
    redis.on('error', () => undefined);
    try {
      const app = createApp({ ...deps, redis });
      const t0 = Date.now();
      const res = await request(app.callback()).get('/readyz').timeout(5000);
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(res.status).toBe(503);
      expect(res.body.checks.redis).toBe('error: timeout after 2 s');
    } finally {
      redis.disconnect();
      sockets.forEach((s) => s.destroy());
      await new Promise((r) => srv.close(r));
    }
  });

});

describe('MySQL unreachable', () => {
  let url: string;
  let prisma: ReturnType<typeof createPrisma>;
  let app: ReturnType<typeof createApp>;
  beforeAll(async () => {
    url = `mysql://root@127.0.0.1:${await closedPort()}/dualprev_nowhere`;
    prisma = createPrisma({ databaseUrl: url, databasePoolSize: 1, databaseConnectTimeoutMs: 1000 });
    app = createApp({ ...deps, prisma, metrics: createMetrics(prisma, sys.clock), migrationsCurrent: () => migrationStatus({ databaseUrl: url, connectTimeoutMs: 1000 }) });
  });
  // (the pool gives up on its pending acquires only after its 10 s acquire timeout)
  afterAll(async () => prisma?.$disconnect().catch(() => undefined));

  it('/readyz: 503 within ~3 s naming mysql and migrations', async () => {
    const t0 = Date.now();
    const res = await request(app.callback()).get('/readyz').timeout(5000);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(res.status).toBe(503);
    expect(res.body.checks.redis).toBe('ok');
    expect(res.body.checks.mysql).toMatch(/^error: /);
    expect(res.body.checks.migrations).toMatch(/^error: /);
  });

  it('/metrics still answers within ~3 s, without the backlog gauge', async () => {
    const t0 = Date.now();
    const res = await request(app.callback()).get('/metrics').timeout(5000);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(res.text).toContain('# TYPE dualprev_tick_duration_seconds histogram');
    expect(res.text).not.toMatch(/^dualprev_due_backlog\{/m);
  });
});

describe('/metrics', () => {
  it('Prometheus text format with the engine metrics; after a cycle, notifications by channel and outcome', async () => {
    await sys.cycle();
    const sent = await sys.rt.prisma.notification.count({ where: { state: 'sent', channel: 'outbox' } });
    expect(sent).toBeGreaterThanOrEqual(5);
    const res = await request(sys.app.callback()).get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = res.text;
    expect(text).toContain('# TYPE dualprev_tick_duration_seconds histogram');
    expect(text).toMatch(/^dualprev_tick_duration_seconds_count [1-9]\d*$/m);
    expect(text).toContain('# TYPE dualprev_due_backlog gauge');
    for (const kind of ['instances', 'hazards', 'alerts', 'notifications']) expect(text).toMatch(new RegExp(`^dualprev_due_backlog\\{kind="${kind}"\\} \\d+$`, 'm'));
    expect(text).toContain('# TYPE dualprev_notifications_total counter');
    const m = /^dualprev_notifications_total\{channel="outbox",outcome="sent"\} (\d+)$/m.exec(text);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBe(sent);
    expect(text).toContain('# TYPE dualprev_delivery_latency_seconds histogram');
    expect(text).toMatch(new RegExp(`^dualprev_delivery_latency_seconds_count\\{channel="outbox"\\} ${sent}$`, 'm'));
    expect(text).toMatch(/^dualprev_delivery_latency_seconds_bucket\{le="\+Inf",channel="outbox"\} \d+$/m);
    // process metrics from prom-client's defaults
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    // every sample line is `name{labels} value`
    for (const line of text.split('\n').filter((l) => l && !l.startsWith('#'))) expect(line).toMatch(/^[a-zA-Z_:][\w:]*(\{[^}]*\})? -?[\d.e+-]+|NaN|[+-]Inf$/);
  });

  it('the due backlog is counted at scrape time', async () => {
    const backlog = async () => Number(/^dualprev_due_backlog\{kind="alerts"\} (\d+)$/m.exec((await request(sys.app.callback()).get('/metrics')).text)![1]);
    expect(await backlog()).toBe(0); // everything due was just processed
    const due = await sys.rt.prisma.alert.count({ where: { nextFireAt: { lte: new Date(sys.clock.now().getTime() + 7 * 86_400_000) } } });
    expect(due).toBeGreaterThan(0);
    const now = sys.clock.now().getTime();
    sys.clock.advance(7 * 86_400_000);
    try {
      expect(await backlog()).toBe(due);
    } finally {
      sys.clock.set(now);
    }
  });
});

describe('request ids', () => {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  const paths: Array<[string, number]> = [
    ['/healthz', 200],
    ['/readyz', 200],
    ['/metrics', 200],
    ['/api/alerts', 401],
    ['/outbox', 401],
    ['/l/not-a-token', 401],
    ['/no-such-page', 404],
  ];

  it('every response has an x-request-id, a new one per request', async () => {
    const seen = new Set<string>();
    for (const [path, status] of paths) {
      const res = await request(sys.app.callback()).get(path).expect(status);
      expect(res.headers['x-request-id']).toMatch(uuid);
      seen.add(res.headers['x-request-id']);
    }
    // error responses too (the body is parsed before authentication: malformed JSON is a 400)
    const post = await request(sys.app.callback()).post('/api/alerts/1/ack').set('content-type', 'application/json').send('{bad').expect(400);
    expect(post.headers['x-request-id']).toMatch(uuid);
    seen.add(post.headers['x-request-id']);
    expect(seen.size).toBe(paths.length + 1);
  });

  it('a given x-request-id is echoed; an unusable one is replaced', async () => {
    for (const [path, status] of paths) {
      const res = await request(sys.app.callback()).get(path).set('x-request-id', 'lb-7f3a.c9_2').expect(status);
      expect(res.headers['x-request-id']).toBe('lb-7f3a.c9_2');
    }
    for (const bad of ['has space', 'x'.repeat(65), 'a\u00e9b', 'a;b=c']) {
      const res = await request(sys.app.callback()).get('/healthz').set('x-request-id', bad).expect(200);
      expect(res.headers['x-request-id']).toMatch(uuid);
    }
  });

  it('the request log line is JSON with the request id, method, path and status', async () => {
    const lines: string[] = [];
    const app = createApp({ ...deps, log: pino({ level: 'info' }, { write: (s: string) => void lines.push(s) }) });
    await request(app.callback()).get('/api/alerts').set('x-request-id', 'req-42').expect(401);
    await request(app.callback()).get(`/outbox?token=${sys.rt.outboxToken}`).expect(200);
    const logged = lines.map((l) => JSON.parse(l));
    expect(logged[0]).toMatchObject({ msg: 'request', requestId: 'req-42', method: 'GET', path: '/api/alerts', status: 401 });
    expect(logged[1]).toMatchObject({ msg: 'request', path: '/outbox', status: 200 });
    expect(lines.join('\n')).not.toContain(sys.rt.outboxToken);
  });
});
