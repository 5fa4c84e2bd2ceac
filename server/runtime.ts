/**
 * Wires one process from a Config: database, Redis, queue, channels, the HTTP app and the loops
 * of each role (ROLES=api,scheduler,worker,bot). main.ts runs it; tests build it with a test database,
 * a manual clock and fake chat servers. The `bot` role (wechaty, bot/) holds the WeChat login and
 * delivers `wechat_bot` notifications from a queue of its own; wechaty is loaded only there.
 *
 * Loops never overlap themselves (the next run is scheduled after the previous one finished) and
 * stop cleanly: stop() stops ticking, lets workers finish their current job, closes the HTTP
 * server and the pools (design.md; SIGTERM handling is in main.ts).
 */
import type { Server } from 'node:http';
import { Redis } from 'ioredis';
import type Bull from 'bull';
import type { Config } from './config';
import { createPrisma, type PrismaClient } from './db';
import { systemClock, type Clock } from './clock';
import type { Logger } from './logger';
import { answerClientError, createApp } from './app';
import { createMetrics, type Metrics } from './metrics';
import { LinkSigner } from './services/links';
import { createStorage } from './services/storage';
import type { FileDeps } from './services/files';
import { sharedSecret } from './services/settings';
import { migrationStatus } from './migrate';
import { tick } from './engine/tick';
import { generateInstances } from './services/instances';
import { createDeliveryQueue, relayOnce, startWorker, sweepOnce, type DeliveryDeps, type DeliveryJob } from './jobs/delivery';
import { createRedisThrottle } from './channels/throttle';
import type { Channel } from './channels/types';
import { OutboxChannel } from './channels/outbox';
import { WecomRobotChannel } from './channels/wecom-robot';
import { DingtalkRobotChannel } from './channels/dingtalk-robot';
import { DingtalkAppChannel, DingtalkGroupChannel } from './channels/dingtalk-app';
import { DingtalkOpenApi } from './services/dingtalk-openapi';
import { DingtalkRobot } from './services/dingtalk-robot';
import { DingtalkStream } from './services/dingtalk-stream';
import { WECOM_APP_CHANNEL, WECOM_MEMBER_RATE_LIMIT, WECOM_MEMBER_RATE_WINDOW_MS, WecomAppChannel } from './channels/wecom-app';
import { WecomApi } from './services/wecom-token';
import { WecomCallback } from './services/wecom-callback';
import { WecomInbound } from './services/wecom-inbound';
import { WecomCardSync } from './services/wecom-card-sync';
import { WechatApi } from './services/wechat-api';
import { SessionTokens } from './services/sessions';
import { MiniProgram } from './services/mp-auth';
import { WECHAT_SUBSCRIBE_CHANNEL, WechatSubscribeChannel } from './channels/wechat-subscribe';
import type { TickPersonal } from './engine/tick';
import { WECHAT_BOT_CHANNEL, WECHAT_GROUP_DESTINATION } from './domain/routing';
import type { WechatBot } from '../bot/wechat-bot';

export interface RuntimeOptions {
  clock?: Clock;
  /** replace channels (tests) */
  channels?: Channel[];
  /** bull queue name (tests use a unique one); the bot's queue is `<name>-wechat` */
  queueName?: string;
  /** the bot role's puppet instance instead of WECHATY_PUPPET (tests: wechaty-puppet-mock) */
  wechatyPuppet?: unknown;
}

/** A periodic job that never overlaps itself. */
class Loop {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  constructor(private readonly name: string, private readonly everyMs: number, private readonly fn: () => Promise<void>, private readonly log: Logger) {}
  start(): void {
    this.schedule(0);
  }
  private schedule(ms: number) {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.fn()
        .catch((err) => this.log.error({ err, loop: this.name }, 'loop run failed; will retry'))
        .finally(() => {
          this.running = null;
          this.schedule(this.everyMs);
        });
    }, ms);
  }
  /** Stops scheduling and waits for a run in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}

export interface Runtime {
  config: Config;
  prisma: PrismaClient;
  redis: Redis;
  queue: Bull.Queue<DeliveryJob>;
  clock: Clock;
  metrics: Metrics;
  links: LinkSigner;
  outboxToken: string;
  delivery: DeliveryDeps;
  /** photo storage (STORAGE=local|s3) and upload limits */
  files: FileDeps;
  /** the DingTalk app robot (inbound messages, replies), when DINGTALK_APP_KEY/SECRET are set */
  dingtalk?: DingtalkRobot;
  /** its Stream-mode connection, when DINGTALK_STREAM=true and this process runs the api role (after start()) */
  dingtalkStream?: DingtalkStream;
  /** the WeCom app callback (GET/POST /wecom/callback), when WECOM_CALLBACK_TOKEN/ENCODING_AES_KEY are set */
  wecom?: WecomCallback;
  /** the WeCom app API client (cards, replies), when WECOM_SECRET/AGENT_ID are set */
  wecomApi?: WecomApi;
  /** mini-program session tokens (accepted by the API like per-person tokens) */
  sessions: SessionTokens;
  /** the WeChat mini-program API client (code2Session, stable_token, subscribe messages), when WECHAT_APPID/SECRET are set */
  wechatApi?: WechatApi;
  /** the mini-program's login, binding and consents (/api/v1/mp/*), when WECHAT_APPID/SECRET are set */
  miniprogram?: MiniProgram;
  /** the queue of `wechat_bot` notifications, when WECHATY_PUPPET is set (the bot role consumes it) */
  wechatQueue?: Bull.Queue<DeliveryJob>;
  /** the wechaty bot, when this process runs the bot role (after start()) */
  wechatBot?: WechatBot;
  /** one tick of the engine (instances, hazards, alerts → outbox) */
  tickOnce(): ReturnType<typeof tick>;
  generateOnce(): ReturnType<typeof generateInstances>;
  relayOnce(): Promise<number>;
  sweepOnce(): Promise<number>;
  /** WeCom cards relabelled after acts through other channels (services/wecom-card-sync.ts); 0 without the WeCom app */
  cardSyncOnce(): Promise<number>;
  /** starts the roles' loops and the HTTP server (api); resolves when listening */
  start(): Promise<{ server?: Server }>;
  stop(): Promise<void>;
}

export async function createRuntime(config: Config, log: Logger, opts: RuntimeOptions = {}): Promise<Runtime> {
  const clock = opts.clock ?? systemClock;
  const prisma = createPrisma(config);
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 3, lazyConnect: false });
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  const queue = createDeliveryQueue(config.redisUrl, config.redisPrefix, opts.queueName);
  queue.on('error', (err) => log.warn({ err: err.message }, 'queue error'));
  const metrics = createMetrics(prisma, clock);
  const linkSecret = await sharedSecret(prisma, 'link_secret', config.linkSecret);
  const outboxToken = await sharedSecret(prisma, 'outbox_token', config.outboxToken);
  const links = new LinkSigner(linkSecret, config.publicUrl, config.linkTtlMs, () => clock.now());
  const files: FileDeps = { storage: createStorage(config), maxBytes: config.uploadMaxBytes, maxFiles: config.uploadMaxFiles };

  // DingTalk enterprise app robot: replies and commands (inbound), ActionCards to DINGTALK_GROUPS (outbound)
  const dingtalkApi = config.dingtalk ? new DingtalkOpenApi({ config: config.dingtalk, redis, redisPrefix: config.redisPrefix, log: log.child({ channel: 'dingtalk' }) }) : undefined;
  const dingtalk =
    config.dingtalk && dingtalkApi
      ? new DingtalkRobot({ prisma, redis, redisPrefix: config.redisPrefix, clock, log: log.child({ channel: 'dingtalk' }), config: config.dingtalk, openapi: dingtalkApi })
      : undefined;
  const dingtalkGroups = config.dingtalk?.groups ?? {};
  const customDingtalk = new DingtalkRobotChannel({ robots: config.robots, now: () => clock.now().getTime() });

  const channels = new Map<string, Channel>();
  for (const c of opts.channels ?? [
    new OutboxChannel(),
    new WecomRobotChannel({ robots: config.robots }),
    // a group with a ROBOTS webhook keeps the custom robot; one with only DINGTALK_GROUPS gets the app robot
    dingtalkApi && Object.keys(dingtalkGroups).length ? new DingtalkGroupChannel(customDingtalk, new DingtalkAppChannel({ api: dingtalkApi, groups: dingtalkGroups }), config.robots) : customDingtalk,
  ]) {
    channels.set(c.name, c);
  }
  // WeCom self-built app: a card to each person with a userid (outbound), the callback (inbound)
  const wecomLog = log.child({ channel: 'wecom' });
  const wecomApi = config.wecom?.app
    ? new WecomApi({ corpId: config.wecom.corpId, secret: config.wecom.app.secret, apiBase: config.wecom.apiBase, redis, prefix: config.redisPrefix, log: wecomLog })
    : undefined;
  const wecomApp = wecomApi && config.wecom?.app ? { api: wecomApi, agentId: config.wecom.app.agentId } : undefined;
  if (wecomApp && !channels.has(WECOM_APP_CHANNEL)) {
    // WeCom drops (silently) more than 30 messages per member per minute from one app
    const memberThrottle = createRedisThrottle(redis, { prefix: config.redisPrefix, limit: WECOM_MEMBER_RATE_LIMIT, windowMs: WECOM_MEMBER_RATE_WINDOW_MS + config.robotRateMarginMs });
    channels.set(WECOM_APP_CHANNEL, new WecomAppChannel({ ...wecomApp, memberThrottle, now: () => clock.now() }));
  }
  const wecomInbound = config.wecom && (wecomApp || config.wecom.callback)
    ? new WecomInbound({ prisma, clock, log: wecomLog, redis, prefix: config.redisPrefix, links, corpId: config.wecom.corpId, app: wecomApp, enterpriseCode: config.wecom.enterpriseCode })
    : undefined;
  const cardSync = wecomApp && wecomInbound ? new WecomCardSync({ prisma, redis, prefix: config.redisPrefix, clock, log: wecomLog, inbound: wecomInbound }) : undefined;
  const wecom = config.wecom?.callback && wecomInbound
    ? new WecomCallback({
        ...config.wecom.callback,
        corpId: config.wecom.corpId,
        redis,
        prefix: config.redisPrefix,
        clock,
        log: wecomLog,
        inbound: wecomInbound,
      })
    : undefined;
  // WeChat mini-program: login/binding (api), alerts as one-time subscribe messages (worker)
  const sessions = new SessionTokens(await sharedSecret(prisma, 'session_secret', config.sessionSecret), config.sessionTtlMs, () => clock.now());
  const wechatLog = log.child({ channel: 'wechat' });
  const wechatApi = config.wechat ? new WechatApi({ appId: config.wechat.appId, secret: config.wechat.secret, apiBase: config.wechat.apiBase, redis, prefix: config.redisPrefix, log: wechatLog }) : undefined;
  const subscribe = config.wechat?.subscribe;
  const miniprogram = wechatApi ? new MiniProgram({ prisma, clock, log: wechatLog, sessions, wechat: wechatApi, alertTemplateId: subscribe?.alertTemplateId, redis, redisPrefix: config.redisPrefix }) : undefined;
  if (wechatApi && subscribe && !channels.has(WECHAT_SUBSCRIBE_CHANNEL)) {
    channels.set(WECHAT_SUBSCRIBE_CHANNEL, new WechatSubscribeChannel({ prisma, api: wechatApi, templateId: subscribe.alertTemplateId, fields: subscribe.fields, page: subscribe.page, state: subscribe.state, log: wechatLog }));
  }
  // per-person channels in order of preference: the WeCom app's card (no consent needed), then a
  // subscribe message for people with a consent left (each one allows a single message)
  const personal: TickPersonal[] = [
    ...(wecomApp ? [{ channel: WECOM_APP_CHANNEL, companyCode: config.wecom?.enterpriseCode }] : []),
    ...(subscribe ? [{ channel: WECHAT_SUBSCRIBE_CHANNEL, subscribeTemplateId: subscribe.alertTemplateId }] : []),
  ];
  const activeRobots = new Set([...Object.keys(config.robots), ...Object.keys(dingtalkGroups)]);
  // wechaty: every wechat_group destination is served while the bot is configured; its posts go
  // through a queue only the bot role consumes (the process holding the WeChat login)
  const activeChannels = config.wechaty ? new Set([WECHAT_GROUP_DESTINATION]) : undefined;
  const wechatQueue = config.wechaty ? createDeliveryQueue(config.redisUrl, config.redisPrefix, `${opts.queueName ?? 'delivery'}-wechat`) : undefined;
  wechatQueue?.on('error', (err) => log.warn({ err: err.message }, 'wechat queue error'));
  // the group-robot limit (20/min per robot) is per destination; the WeCom app throttles per member itself
  const robotThrottle = createRedisThrottle(redis, { prefix: config.redisPrefix, limit: config.robotRateLimit, windowMs: config.robotRateWindowMs + config.robotRateMarginMs });
  const delivery: DeliveryDeps = {
    prisma,
    clock,
    log: log.child({ role: 'worker' }),
    channels,
    // applied per group destination only (jobs/delivery.ts): personal channels have their own limits
    throttle: robotThrottle,
    // where a fallback may go (e.g. no subscribe consent left): the same live groups as the tick's
    routing: { activeRobots, activeChannels },
    links,
    publicUrl: config.publicUrl,
    maxAttempts: config.deliveryMaxAttempts,
    backoffMs: config.deliveryBackoffMs,
    metrics: {
      outcome: (channel, outcome) => metrics.notifications.inc({ channel, outcome }),
      latency: (channel, ms) => metrics.deliveryLatency.observe({ channel }, ms / 1000),
    },
  };
  const relayDeps = {
    prisma,
    clock,
    queue,
    queues: wechatQueue ? { [WECHAT_BOT_CHANNEL]: wechatQueue } : undefined,
    log: log.child({ role: 'relay' }),
    batch: config.tickBatch,
    staleMs: config.relayStaleMs,
  };
  const schedLog = log.child({ role: 'scheduler' });
  const tickOnce = async () => {
    const end = metrics.tickDuration.startTimer();
    try {
      return await tick({ prisma, clock, log: schedLog, batch: config.tickBatch, activeRobots, activeChannels, personal });
    } finally {
      end();
    }
  };
  const generateOnce = () => generateInstances({ prisma, clock, log: schedLog, lookaheadMs: config.lookaheadMs });

  const loops: Loop[] = [];
  let server: Server | undefined;
  let workerStarted = false;

  const rt: Runtime = {
    config,
    prisma,
    redis,
    queue,
    clock,
    metrics,
    links,
    outboxToken,
    delivery,
    files,
    dingtalk,
    wecom,
    wecomApi,
    sessions,
    wechatApi,
    miniprogram,
    wechatQueue,
    tickOnce,
    generateOnce,
    relayOnce: () => relayOnce(relayDeps),
    sweepOnce: () => sweepOnce(relayDeps),
    cardSyncOnce: async () => (cardSync ? cardSync.syncOnce() : 0),
    async start() {
      if (config.roles.includes('scheduler')) {
        loops.push(
          new Loop('generate', config.generateIntervalMs, async () => void (await generateOnce()), schedLog),
          new Loop('tick', config.tickIntervalMs, async () => {
            const r = await tickOnce();
            if (r.fired || r.instances || r.hazards) schedLog.info(r, 'tick');
            // hand what this tick wrote to the queue at once instead of waiting for the relay loop
            // (due → enqueued lag: bench/README.md); the relay loop still picks up retries
            if (r.notifications) await rt.relayOnce();
          }, schedLog),
          new Loop('relay', config.relayIntervalMs, async () => void (await rt.relayOnce()), schedLog),
          new Loop('sweep', Math.max(1000, Math.min(config.relayStaleMs, 30_000)), async () => void (await rt.sweepOnce()), schedLog),
          ...(cardSync ? [new Loop('wecom-cards', Math.max(1000, config.relayIntervalMs), async () => void (await rt.cardSyncOnce()), schedLog)] : []),
        );
        loops.forEach((l) => l.start());
      }
      if (config.roles.includes('worker')) {
        startWorker(queue, delivery, config.workerConcurrency);
        workerStarted = true;
      }
      if (config.roles.includes('bot') && config.wechaty && wechatQueue) {
        // loaded here only: wechaty takes seconds to load and only this role needs it
        const { WechatBot } = await import('../bot/wechat-bot');
        rt.wechatBot = new WechatBot({
          prisma,
          redis,
          redisPrefix: config.redisPrefix,
          clock,
          log: log.child({ role: 'bot' }),
          config: config.wechaty,
          files,
          queue: wechatQueue,
          delivery,
          puppet: opts.wechatyPuppet,
        });
        await rt.wechatBot.start();
      }
      if (config.roles.includes('api')) {
        const app = createApp({
          prisma,
          redis,
          clock,
          log,
          metrics,
          links,
          outboxToken,
          publicUrl: config.publicUrl,
          redisPrefix: config.redisPrefix,
          files,
          dingtalk,
          wecom,
          sessions,
          miniprogram,
          migrationsCurrent: () => migrationStatus({ databaseUrl: config.databaseUrl }),
        });
        await new Promise<void>((resolve, reject) => {
          server = app.listen(config.port, config.host, () => resolve());
          server.once('error', reject);
          server.on('clientError', answerClientError);
        });
        if (dingtalk && config.dingtalk?.stream) {
          rt.dingtalkStream = new DingtalkStream({ config: config.dingtalk, robot: dingtalk, log: log.child({ channel: 'dingtalk-stream' }) });
          rt.dingtalkStream.start();
        }
      }
      return { server };
    },
    async stop() {
      // 1. stop ticking (a tick in progress finishes: its transaction commits or rolls back) and
      //    stop receiving DingTalk Stream messages (one being handled finishes)
      await Promise.all([...loops.map((l) => l.stop()), rt.dingtalkStream?.stop()]);
      // 2. stop accepting HTTP requests; in-flight requests complete
      if (server) {
        const s = server;
        const closed = new Promise<void>((resolve) => s.close(() => resolve()));
        // idle keep-alive sockets would hold close() open until they time out
        s.closeIdleConnections();
        const hard = setTimeout(() => s.closeAllConnections(), 3000);
        await closed;
        clearTimeout(hard);
      }
      // WeCom replies and card updates queued by callbacks already answered
      await wecom?.idle();
      // the bot stops taking jobs (a post in progress finishes) and logs off the puppet
      await rt.wechatBot?.stop();
      // 3. workers finish their current job (bull's close waits for active jobs), then pools close
      await queue.close(!workerStarted).catch((err) => log.warn({ err: (err as Error).message }, 'queue close'));
      await wechatQueue?.close().catch((err) => log.warn({ err: (err as Error).message }, 'wechat queue close'));
      await prisma.$disconnect();
      redis.disconnect();
    },
  };
  // stop() is idempotent: a second call (a test's cleanup after an explicit stop) re-ran
  // redis.disconnect() on the ended stream, leaving ioredis's 2 s disconnect timer behind
  const stopOnce = rt.stop;
  let stopping: Promise<void> | undefined;
  rt.stop = () => (stopping ??= stopOnce());
  return rt;
}
