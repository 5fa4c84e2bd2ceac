/**
 * A whole dualprev system for integration tests: a fresh database with migrations, optionally the
 * demo plant, a runtime (engine, relay, delivery) on real Redis with a unique key prefix, a manual
 * clock, and the Koa app for supertest. Chat platforms are the local fakes (test/fakes).
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import type Koa from 'koa';
import { createTestDb } from './db';
import { ManualClock } from '../../server/clock';
import { loadConfig, type Config } from '../../server/config';
import { createLogger } from '../../server/logger';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../server/runtime';
import { createApp } from '../../server/app';
import { loadDemoPlant } from '../../prisma/seed';
import { deliverNotification, type DeliveryOutcome } from '../../server/jobs/delivery';
import type { Channel } from '../../server/channels/types';
import { issueApiToken } from '../../server/services/tokens';
import { migrationStatus } from '../../server/migrate';

/** 2026-11-30 12:00 in Asia/Shanghai: a Monday, no holiday nearby. */
export const T0 = new Date('2026-11-30T04:00:00.000Z');

export interface TestSystem {
  clock: ManualClock;
  rt: Runtime;
  config: Config;
  app: Koa;
  dbUrl: string;
  enterpriseId: number | null;
  /** the prefix every Redis key of this system starts with */
  prefix: string;
  /** person id by demo key (p01…p17) */
  person(code: string): Promise<number>;
  /** an API token for a demo person */
  token(code: string): Promise<string>;
  /** relay due outbox rows and deliver every queued one in this process (no bull worker needed) */
  deliverAll(): Promise<DeliveryOutcome[]>;
  /** generate instances, tick, deliver */
  cycle(): Promise<void>;
  close(): Promise<void>;
}

export interface TestSystemOptions {
  now?: Date;
  seed?: boolean;
  env?: Record<string, string>;
  channels?: Channel[];
  /** the bot role's puppet (wechaty-puppet-mock) */
  wechatyPuppet?: RuntimeOptions['wechatyPuppet'];
}

export async function createTestSystem(opts: TestSystemOptions = {}): Promise<TestSystem> {
  const db = await createTestDb();
  const clock = new ManualClock((opts.now ?? T0).getTime());
  const prefix = `dptest:${process.env.JEST_WORKER_ID ?? 0}:${randomBytes(4).toString('hex')}`;
  // uploads of this system go to a temp directory removed at close (never ./uploads)
  const uploadDir = path.join(tmpdir(), `dualprev-uploads-${prefix.replace(/:/g, '-')}`);
  const config = loadConfig({
    DATABASE_URL: db.url,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_PREFIX: prefix,
    PUBLIC_URL: 'http://dualprev.test',
    LOG_LEVEL: 'silent',
    DATABASE_POOL_SIZE: '5',
    UPLOAD_DIR: uploadDir,
    ...opts.env,
  });
  const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const rt = await createRuntime(config, log, { clock, channels: opts.channels, wechatyPuppet: opts.wechatyPuppet });
  let enterpriseId: number | null = null;
  if (opts.seed !== false) enterpriseId = (await loadDemoPlant(rt.prisma, { now: clock.now() })).enterpriseId;
  const app = createApp({
    prisma: rt.prisma,
    redis: rt.redis,
    clock,
    log,
    metrics: rt.metrics,
    links: rt.links,
    outboxToken: rt.outboxToken,
    publicUrl: config.publicUrl,
    redisPrefix: prefix,
    files: rt.files,
    wecom: rt.wecom,
    sessions: rt.sessions,
    miniprogram: rt.miniprogram,
    migrationsCurrent: () => migrationStatus({ databaseUrl: db.url }),
  });

  const sys: TestSystem = {
    clock,
    rt,
    config,
    app,
    dbUrl: db.url,
    enterpriseId,
    prefix,
    async person(code) {
      const p = await rt.prisma.person.findFirstOrThrow({ where: { code }, select: { id: true } });
      return p.id;
    },
    async token(code) {
      return issueApiToken(rt.prisma, await sys.person(code), 'test');
    },
    async deliverAll() {
      const outcomes: DeliveryOutcome[] = [];
      await rt.relayOnce();
      const queued = await rt.prisma.notification.findMany({ where: { state: 'queued' }, select: { id: true }, orderBy: { id: 'asc' } });
      for (const { id } of queued) outcomes.push(await deliverNotification(rt.delivery, id));
      return outcomes;
    },
    async cycle() {
      await rt.generateOnce();
      await rt.tickOnce();
      await sys.deliverAll();
    },
    async close() {
      await rt.queue.obliterate({ force: true }).catch(() => undefined);
      await rt.stop();
      const r = new Redis(config.redisUrl);
      try {
        const keys = await r.keys(`${prefix}:*`);
        if (keys.length) await r.del(...keys);
      } finally {
        r.disconnect();
      }
      await db.drop();
      await rm(uploadDir, { recursive: true, force: true });
    },
  };
  return sys;
}
