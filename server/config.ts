/**
 * The one typed configuration object, parsed and validated once from the environment (zod).
 * Nothing else in the code base reads `process.env`. Every bad variable is listed at start.
 *
 * Every variable is documented in README.md ("Configuration"); keep the two in step.
 */
import { z } from 'zod';
import { fieldMappingProblems } from './domain/subscribe-fields';

const bool = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
    .optional()
    .transform((v) => (v === undefined || v === '' ? def : ['true', '1', 'yes'].includes(v)));

const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);

/** A group robot's outbound settings, keyed by ChatDestination.code (see README). */
const robotSchema = z.object({
  /** full webhook URL, e.g. https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=… */
  webhook: z.string().url(),
  /** DingTalk 加签 secret (starts with SEC); the signature is computed per request */
  secret: z.string().min(1).optional(),
  /** DingTalk security keywords; one is put into every message */
  keywords: z.array(z.string().min(1)).max(10).optional(),
});
export type RobotConfig = z.infer<typeof robotSchema>;

const roleList = z
  .string()
  .default('api,scheduler,worker')
  .transform((s) => s.split(',').map((r) => r.trim()).filter(Boolean))
  .pipe(z.array(z.enum(['api', 'scheduler', 'worker', 'bot'])).min(1));

const envSchema = z.object({
  NODE_ENV: z.string().default('development'),
  DATABASE_URL: z.string().default('mysql://root@127.0.0.1:3306/dualprev'),
  /** pool size per process (Prisma 7's adapter defaults to 10 and a 1 s connect timeout: set explicitly) */
  DATABASE_POOL_SIZE: int(10, 1),
  DATABASE_CONNECT_TIMEOUT_MS: int(5000, 100),
  REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  /** prefix of every Redis key (bull queues, limiter) — lets several installs share one Redis */
  REDIS_PREFIX: z.string().min(1).default('dualprev'),
  // fix (tests): PORT=70000 passed validation and failed later in listen() with a stack trace and
  // exit 1, instead of being listed with the other bad variables (exit 2)
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  PUBLIC_URL: z.string().url().optional(),
  ROLES: roleList,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  AUTO_MIGRATE: bool(true),
  SEED_DEMO: bool(true),
  /** secret for signed alert links; when unset one is generated once and kept in the database */
  LINK_SECRET: z.string().min(32).optional(),
  LINK_TTL_HOURS: int(72, 1),
  /** admin token of the outbox viewer; when unset one is generated once and kept in the database */
  OUTBOX_TOKEN: z.string().min(16).optional(),
  /** 1 s keeps due → enqueued under 2 s (bench/README.md); an empty tick costs a few ms */
  TICK_INTERVAL_MS: int(1000, 50),
  TICK_BATCH: int(500, 1),
  GENERATE_INTERVAL_MS: int(60000, 100),
  LOOKAHEAD_HOURS: int(48, 1),
  RELAY_INTERVAL_MS: int(1000, 50),
  /** a notification queued longer than this without an outcome is re-enqueued from MySQL */
  RELAY_STALE_MS: int(120000, 1000),
  DELIVERY_MAX_ATTEMPTS: int(8, 1),
  DELIVERY_BACKOFF_MS: int(5000, 10),
  WORKER_CONCURRENCY: int(4, 1),
  /** per group robot: at most ROBOT_RATE_LIMIT messages in any ROBOT_RATE_WINDOW_MS (WeCom and DingTalk: 20 / 60 s) */
  ROBOT_RATE_LIMIT: int(20, 1),
  ROBOT_RATE_WINDOW_MS: int(60000, 100),
  /** extra spacing added to the window, for network delay between our clock and the platform's */
  ROBOT_RATE_MARGIN_MS: int(1000, 0),
  /** JSON object: destination code → { webhook, secret?, keywords? } */
  ROBOTS: z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (!s) return {} as Record<string, RobotConfig>;
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'ROBOTS must be a JSON object' });
        return z.NEVER;
      }
    })
    .pipe(z.record(z.string(), robotSchema)),
  SHUTDOWN_TIMEOUT_MS: int(10000, 100),
  /** where uploaded photos are kept: local disk (UPLOAD_DIR) or an S3-compatible bucket (S3_*) */
  STORAGE: z.enum(['local', 's3']).default('local'),
  UPLOAD_DIR: z.string().min(1).default('./uploads'),
  /** per file, bytes (default 10 MiB: a phone photo is 2–6 MB) */
  UPLOAD_MAX_BYTES: int(10 * 1024 * 1024, 1024),
  /** files per upload request (default 9: what a phone's picker sends at once) */
  UPLOAD_MAX_FILES: int(9, 1),
  /** e.g. http://127.0.0.1:9000 (MinIO); unset → AWS S3 for S3_REGION */
  S3_ENDPOINT: z.string().url().optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_BUCKET: z.string().min(1).optional(),
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  /** WeCom self-built app (自建应用, protocols.md §2): the corp (企业ID, ww… / wx…) */
  WECOM_CORP_ID: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ or -').optional(),
  /** the app's AgentId (an integer, e.g. 1000002) */
  WECOM_AGENT_ID: z.coerce.number().int().min(1).optional(),
  /** the app's Secret (gets access tokens) */
  WECOM_SECRET: z.string().min(1).optional(),
  /** callback Token set in the admin console: letters/digits, at most 32 (doc 90930) */
  WECOM_CALLBACK_TOKEN: z.string().regex(/^[A-Za-z0-9]{1,32}$/, 'letters and digits, at most 32').optional(),
  /** callback EncodingAESKey: exactly 43 letters/digits (doc 90968) */
  WECOM_ENCODING_AES_KEY: z.string().regex(/^[A-Za-z0-9]{43}$/, 'exactly 43 letters and digits').optional(),
  WECOM_API_BASE: z.string().url().default('https://qyapi.weixin.qq.com'),
  /** callbacks whose timestamp is further than this from our clock are refused (s) */
  WECOM_CALLBACK_WINDOW_S: int(300, 1),
  /** Enterprise.companyCode whose people the corp's userids (Person.wecomUserId) belong to; unset: every enterprise here */
  WECOM_ENTERPRISE_CODE: z.string().min(1).optional(),
  /** DingTalk enterprise-internal app (robot callbacks, replies, ActionCards): Client ID (AppKey) */
  DINGTALK_APP_KEY: z.string().min(1).optional(),
  /** Client Secret (AppSecret): signs callbacks and gets access tokens */
  DINGTALK_APP_SECRET: z.string().min(1).optional(),
  /** the app robot's robotCode (OpenAPI sends); DingTalk sets it to the AppKey unless changed */
  DINGTALK_ROBOT_CODE: z.string().min(1).optional(),
  /** the corp the app belongs to (dingxxxx); callbacks from another corp's robot are refused */
  DINGTALK_CORP_ID: z.string().min(1).optional(),
  DINGTALK_API_BASE: z.string().url().default('https://api.dingtalk.com'),
  /** origin of sessionWebhook URLs; a callback naming another host is not replied to */
  DINGTALK_OAPI_BASE: z.string().url().default('https://oapi.dingtalk.com'),
  /** Enterprise.companyCode whose people the corp's staffIds (Person.dingtalkUserId) belong to */
  DINGTALK_ENTERPRISE_CODE: z.string().min(1).optional(),
  /** true: receive robot messages over DingTalk Stream mode (no public address) instead of POST /dingtalk/callback */
  DINGTALK_STREAM: bool(false),
  /** JSON object: destination code → openConversationId of the group the app robot is in (ActionCard alerts) */
  DINGTALK_GROUPS: z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (!s) return {} as Record<string, string>;
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'DINGTALK_GROUPS must be a JSON object' });
        return z.NEVER;
      }
    })
    .pipe(z.record(z.string(), z.string().min(1))),
  /**
   * wechaty bot (role `bot`, protocols.md §5): the puppet module, e.g. `wechaty-puppet-service`
   * (a token from a puppet provider: WeChat iPad protocol, or WeCom via WorkPro). Setting it also
   * routes alerts to `wechat_group` destinations (their name is the room topic).
   */
  WECHATY_PUPPET: z.string().regex(/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/, 'an npm package name, e.g. wechaty-puppet-service').optional(),
  /** the puppet provider's token, e.g. puppet_workpro_… or puppet_padlocal_… */
  WECHATY_PUPPET_SERVICE_TOKEN: z.string().min(1).optional(),
  /** host:port of a puppet service to use directly instead of token discovery */
  WECHATY_PUPPET_SERVICE_ENDPOINT: z.string().min(1).optional(),
  /** token discovery host of the provider (WorkPro: e.g. token-service-discovery-test.juzibot.com) */
  WECHATY_PUPPET_SERVICE_AUTHORITY: z.string().min(1).optional(),
  /** true: plain-text gRPC to the service (WorkPro requires it; protocols.md §5.3) */
  WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_CLIENT: bool(false),
  /** keeps the login session in `<name>.memory-card.json` (working directory), so a restart needs no new scan */
  WECHATY_SESSION_NAME: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ or -').optional(),
  /** WeChat mini-program (protocols.md §4): its AppID (wx + 16 hex digits, 开发管理 → 开发设置) */
  WECHAT_APPID: z.string().regex(/^wx[0-9a-fA-F]{16}$/, 'wx followed by 16 hex digits').optional(),
  /** its AppSecret (code2Session, stable_token); never sent to the client */
  WECHAT_SECRET: z.string().min(1).optional(),
  WECHAT_API_BASE: z.string().url().default('https://api.weixin.qq.com'),
  /** one-time subscribe-message template (订阅消息 → 我的模板) used for alerts; unset: no subscribe messages */
  WECHAT_SUBSCRIBE_TEMPLATE_ALERT: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a template id (letters, digits, _ or -)').optional(),
  /**
   * JSON object: the alert template's keyword → what fills it (server/domain/subscribe-fields.ts):
   * headline | subject | title | kind | place | level | firedAt | alertCode | const:<text>. Default
   * {"thing1":"headline","time2":"firedAt","thing3":"place","phrase4":"level","character_string5":"alertCode"}
   */
  WECHAT_SUBSCRIBE_FIELDS: z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (!s) return undefined;
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'WECHAT_SUBSCRIBE_FIELDS must be a JSON object' });
        return z.NEVER;
      }
    })
    .pipe(z.record(z.string().regex(/^[a-z_]+\d+$/, 'a template keyword such as thing1 or time2'), z.string().min(1)).optional()),
  /** the mini-program page a subscribe message opens (alert id appended as ?alertId=); must exist in the released version */
  WECHAT_SUBSCRIBE_PAGE: z.string().regex(/^[\w/-]+$/, 'a page path such as pages/index/index').default('pages/index/index'),
  /** which version of the mini-program the message opens: formal (released) | trial | developer */
  WECHAT_MINIPROGRAM_STATE: z.enum(['formal', 'trial', 'developer']).default('formal'),
  /** signs mini-program session tokens (JWT HS256); when unset one is generated once and kept in the database */
  SESSION_SECRET: z.string().min(32).optional(),
  /** lifetime of a mini-program session token; the phone logs in again silently (wx.login) after it */
  SESSION_TTL_HOURS: int(24, 1),
}).superRefine((e, ctx) => {
  if (Boolean(e.WECOM_SECRET) !== Boolean(e.WECOM_AGENT_ID)) {
    ctx.addIssue({ code: 'custom', path: [e.WECOM_SECRET ? 'WECOM_AGENT_ID' : 'WECOM_SECRET'], message: 'WECOM_SECRET and WECOM_AGENT_ID go together' });
  }
  if (Boolean(e.WECOM_CALLBACK_TOKEN) !== Boolean(e.WECOM_ENCODING_AES_KEY)) {
    ctx.addIssue({ code: 'custom', path: [e.WECOM_CALLBACK_TOKEN ? 'WECOM_ENCODING_AES_KEY' : 'WECOM_CALLBACK_TOKEN'], message: 'WECOM_CALLBACK_TOKEN and WECOM_ENCODING_AES_KEY go together' });
  }
  if (!e.WECOM_CORP_ID && (e.WECOM_SECRET || e.WECOM_AGENT_ID || e.WECOM_CALLBACK_TOKEN || e.WECOM_ENCODING_AES_KEY)) {
    ctx.addIssue({ code: 'custom', path: ['WECOM_CORP_ID'], message: 'required with the other WECOM_* settings' });
  }
  if (e.WECOM_CORP_ID && !e.WECOM_SECRET && !e.WECOM_AGENT_ID && !e.WECOM_CALLBACK_TOKEN && !e.WECOM_ENCODING_AES_KEY) {
    ctx.addIssue({ code: 'custom', path: ['WECOM_CORP_ID'], message: 'needs WECOM_SECRET + WECOM_AGENT_ID (sending) and/or WECOM_CALLBACK_TOKEN + WECOM_ENCODING_AES_KEY (callbacks)' });
  }
  if (Boolean(e.DINGTALK_APP_KEY) !== Boolean(e.DINGTALK_APP_SECRET)) {
    ctx.addIssue({ code: 'custom', path: [e.DINGTALK_APP_KEY ? 'DINGTALK_APP_SECRET' : 'DINGTALK_APP_KEY'], message: 'DINGTALK_APP_KEY and DINGTALK_APP_SECRET go together' });
  }
  if (!e.DINGTALK_APP_KEY) {
    if (e.DINGTALK_STREAM) ctx.addIssue({ code: 'custom', path: ['DINGTALK_STREAM'], message: 'needs DINGTALK_APP_KEY and DINGTALK_APP_SECRET' });
    if (Object.keys(e.DINGTALK_GROUPS).length) ctx.addIssue({ code: 'custom', path: ['DINGTALK_GROUPS'], message: 'needs DINGTALK_APP_KEY and DINGTALK_APP_SECRET' });
  }
  if (e.ROLES.includes('bot') && !e.WECHATY_PUPPET) ctx.addIssue({ code: 'custom', path: ['WECHATY_PUPPET'], message: 'required when ROLES includes bot' });
  if (!e.WECHATY_PUPPET) {
    for (const name of ['WECHATY_PUPPET_SERVICE_TOKEN', 'WECHATY_PUPPET_SERVICE_ENDPOINT', 'WECHATY_PUPPET_SERVICE_AUTHORITY', 'WECHATY_SESSION_NAME'] as const) {
      if (e[name]) ctx.addIssue({ code: 'custom', path: [name], message: 'needs WECHATY_PUPPET' });
    }
  }
  if (Boolean(e.WECHAT_APPID) !== Boolean(e.WECHAT_SECRET)) {
    ctx.addIssue({ code: 'custom', path: [e.WECHAT_APPID ? 'WECHAT_SECRET' : 'WECHAT_APPID'], message: 'WECHAT_APPID and WECHAT_SECRET go together' });
  }
  if (!e.WECHAT_APPID && e.WECHAT_SUBSCRIBE_TEMPLATE_ALERT) ctx.addIssue({ code: 'custom', path: ['WECHAT_SUBSCRIBE_TEMPLATE_ALERT'], message: 'needs WECHAT_APPID and WECHAT_SECRET' });
  if (e.WECHAT_SUBSCRIBE_FIELDS && !e.WECHAT_SUBSCRIBE_TEMPLATE_ALERT) ctx.addIssue({ code: 'custom', path: ['WECHAT_SUBSCRIBE_FIELDS'], message: 'needs WECHAT_SUBSCRIBE_TEMPLATE_ALERT' });
  for (const problem of e.WECHAT_SUBSCRIBE_FIELDS ? fieldMappingProblems(e.WECHAT_SUBSCRIBE_FIELDS) : []) ctx.addIssue({ code: 'custom', path: ['WECHAT_SUBSCRIBE_FIELDS'], message: problem });
  if (e.STORAGE !== 's3') return;
  for (const name of ['S3_BUCKET', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'] as const) {
    if (!e[name]) ctx.addIssue({ code: 'custom', path: [name], message: 'required when STORAGE=s3' });
  }
});

export interface Config {
  env: string;
  databaseUrl: string;
  databasePoolSize: number;
  databaseConnectTimeoutMs: number;
  redisUrl: string;
  redisPrefix: string;
  port: number;
  host: string;
  publicUrl: string;
  roles: Array<'api' | 'scheduler' | 'worker' | 'bot'>;
  logLevel: string;
  autoMigrate: boolean;
  seedDemo: boolean;
  linkSecret?: string;
  linkTtlMs: number;
  outboxToken?: string;
  tickIntervalMs: number;
  tickBatch: number;
  generateIntervalMs: number;
  lookaheadMs: number;
  relayIntervalMs: number;
  relayStaleMs: number;
  deliveryMaxAttempts: number;
  deliveryBackoffMs: number;
  workerConcurrency: number;
  robotRateLimit: number;
  robotRateWindowMs: number;
  robotRateMarginMs: number;
  robots: Record<string, RobotConfig>;
  shutdownTimeoutMs: number;
  storage: 'local' | 's3';
  uploadDir: string;
  uploadMaxBytes: number;
  uploadMaxFiles: number;
  /** set when storage is 's3' */
  s3?: { endpoint?: string; region: string; bucket: string; accessKeyId: string; secretAccessKey: string };
  /** set when WECOM_CORP_ID is: the WeCom self-built app */
  wecom?: WecomConfig;
  /** set when DINGTALK_APP_KEY/SECRET are: the DingTalk enterprise-internal app robot */
  dingtalk?: DingtalkAppConfig;
  /** set when WECHATY_PUPPET is: the wechaty bot (role `bot`) and routing to `wechat_group` destinations */
  wechaty?: WechatyConfig;
  /** set when WECHAT_APPID/SECRET are: the mini-program's login and binding (/api/v1/mp/*), subscribe messages */
  wechat?: WechatConfig;
  /** mini-program session tokens: signing secret (unset → generated once, kept in the database) and lifetime */
  sessionSecret?: string;
  sessionTtlMs: number;
}

/** The WeChat mini-program (protocols.md §4). */
export interface WechatConfig {
  appId: string;
  secret: string;
  /** e.g. https://api.weixin.qq.com (no trailing slash) */
  apiBase: string;
  /** set when WECHAT_SUBSCRIBE_TEMPLATE_ALERT is: alerts as one-time subscribe messages (channel `wechat_subscribe`) */
  subscribe?: {
    alertTemplateId: string;
    /** template keyword → source (server/domain/subscribe-fields.ts); undefined: the default mapping */
    fields?: Record<string, string>;
    page: string;
    state: 'formal' | 'trial' | 'developer';
  };
}

/** The wechaty bot (protocols.md §5; bot/). */
export interface WechatyConfig {
  /** puppet module name, e.g. `wechaty-puppet-service` */
  puppet: string;
  /** passed to the puppet: `{ token?, endpoint?, authority?, tls: { disable } }` (wechaty-puppet-service's options) */
  puppetOptions: { token?: string; endpoint?: string; authority?: string; tls?: { disable: true } };
  /** memory-card name keeping the login session on disk; unset: in memory only */
  sessionName?: string;
}

/** The DingTalk enterprise-internal app robot (protocols.md §3.2–3.3). */
export interface DingtalkAppConfig {
  appKey: string;
  appSecret: string;
  robotCode: string;
  corpId?: string;
  /** e.g. https://api.dingtalk.com (no trailing slash) */
  apiBase: string;
  /** e.g. https://oapi.dingtalk.com (no trailing slash) */
  oapiBase: string;
  enterpriseCode?: string;
  stream: boolean;
  /** destination code → openConversationId */
  groups: Record<string, string>;
}

/** The WeCom self-built app (protocols.md §2). */
export interface WecomConfig {
  corpId: string;
  /** e.g. https://qyapi.weixin.qq.com (no trailing slash) */
  apiBase: string;
  /** set when WECOM_SECRET and WECOM_AGENT_ID are: the app sends cards (channel `wecom_app`) and replies */
  app?: { agentId: number; secret: string };
  /** set when WECOM_CALLBACK_TOKEN and WECOM_ENCODING_AES_KEY are: GET/POST /wecom/callback */
  callback?: { token: string; encodingAesKey: string; windowMs: number };
  /** Enterprise.companyCode of the corp's people; unset: every enterprise of this install */
  enterpriseCode?: string;
}

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

/**
 * Parses the environment into a Config.
 * @throws ConfigError listing every invalid variable (name: problem).
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));
  }
  const e = parsed.data;
  return {
    env: e.NODE_ENV,
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    databaseConnectTimeoutMs: e.DATABASE_CONNECT_TIMEOUT_MS,
    redisUrl: e.REDIS_URL,
    redisPrefix: e.REDIS_PREFIX,
    port: e.PORT,
    host: e.HOST,
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    roles: e.ROLES,
    logLevel: e.LOG_LEVEL,
    autoMigrate: e.AUTO_MIGRATE,
    seedDemo: e.SEED_DEMO,
    linkSecret: e.LINK_SECRET,
    linkTtlMs: e.LINK_TTL_HOURS * 3600_000,
    outboxToken: e.OUTBOX_TOKEN,
    tickIntervalMs: e.TICK_INTERVAL_MS,
    tickBatch: e.TICK_BATCH,
    generateIntervalMs: e.GENERATE_INTERVAL_MS,
    lookaheadMs: e.LOOKAHEAD_HOURS * 3600_000,
    relayIntervalMs: e.RELAY_INTERVAL_MS,
    relayStaleMs: e.RELAY_STALE_MS,
    deliveryMaxAttempts: e.DELIVERY_MAX_ATTEMPTS,
    deliveryBackoffMs: e.DELIVERY_BACKOFF_MS,
    workerConcurrency: e.WORKER_CONCURRENCY,
    robotRateLimit: e.ROBOT_RATE_LIMIT,
    robotRateWindowMs: e.ROBOT_RATE_WINDOW_MS,
    robotRateMarginMs: e.ROBOT_RATE_MARGIN_MS,
    robots: e.ROBOTS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    storage: e.STORAGE,
    uploadDir: e.UPLOAD_DIR,
    uploadMaxBytes: e.UPLOAD_MAX_BYTES,
    uploadMaxFiles: e.UPLOAD_MAX_FILES,
    s3:
      e.STORAGE === 's3'
        ? { endpoint: e.S3_ENDPOINT, region: e.S3_REGION, bucket: e.S3_BUCKET!, accessKeyId: e.S3_ACCESS_KEY_ID!, secretAccessKey: e.S3_SECRET_ACCESS_KEY! }
        : undefined,
    wecom: e.WECOM_CORP_ID
      ? {
          corpId: e.WECOM_CORP_ID,
          apiBase: e.WECOM_API_BASE.replace(/\/+$/, ''),
          app: e.WECOM_SECRET && e.WECOM_AGENT_ID ? { agentId: e.WECOM_AGENT_ID, secret: e.WECOM_SECRET } : undefined,
          callback:
            e.WECOM_CALLBACK_TOKEN && e.WECOM_ENCODING_AES_KEY
              ? { token: e.WECOM_CALLBACK_TOKEN, encodingAesKey: e.WECOM_ENCODING_AES_KEY, windowMs: e.WECOM_CALLBACK_WINDOW_S * 1000 }
              : undefined,
          enterpriseCode: e.WECOM_ENTERPRISE_CODE,
        }
      : undefined,
    dingtalk: e.DINGTALK_APP_KEY
      ? {
          appKey: e.DINGTALK_APP_KEY,
          appSecret: e.DINGTALK_APP_SECRET!,
          robotCode: e.DINGTALK_ROBOT_CODE ?? e.DINGTALK_APP_KEY,
          corpId: e.DINGTALK_CORP_ID,
          apiBase: e.DINGTALK_API_BASE.replace(/\/+$/, ''),
          oapiBase: e.DINGTALK_OAPI_BASE.replace(/\/+$/, ''),
          enterpriseCode: e.DINGTALK_ENTERPRISE_CODE,
          stream: e.DINGTALK_STREAM,
          groups: e.DINGTALK_GROUPS,
        }
      : undefined,
    wechaty: e.WECHATY_PUPPET
      ? {
          puppet: e.WECHATY_PUPPET,
          puppetOptions: {
            ...(e.WECHATY_PUPPET_SERVICE_TOKEN ? { token: e.WECHATY_PUPPET_SERVICE_TOKEN } : {}),
            ...(e.WECHATY_PUPPET_SERVICE_ENDPOINT ? { endpoint: e.WECHATY_PUPPET_SERVICE_ENDPOINT } : {}),
            ...(e.WECHATY_PUPPET_SERVICE_AUTHORITY ? { authority: e.WECHATY_PUPPET_SERVICE_AUTHORITY } : {}),
            ...(e.WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_CLIENT ? { tls: { disable: true as const } } : {}),
          },
          sessionName: e.WECHATY_SESSION_NAME,
        }
      : undefined,
    wechat:
      e.WECHAT_APPID && e.WECHAT_SECRET
        ? {
            appId: e.WECHAT_APPID,
            secret: e.WECHAT_SECRET,
            apiBase: e.WECHAT_API_BASE.replace(/\/+$/, ''),
            subscribe: e.WECHAT_SUBSCRIBE_TEMPLATE_ALERT
              ? { alertTemplateId: e.WECHAT_SUBSCRIBE_TEMPLATE_ALERT, fields: e.WECHAT_SUBSCRIBE_FIELDS, page: e.WECHAT_SUBSCRIBE_PAGE, state: e.WECHAT_MINIPROGRAM_STATE }
              : undefined,
          }
        : undefined,
    sessionSecret: e.SESSION_SECRET,
    sessionTtlMs: e.SESSION_TTL_HOURS * 3600_000,
  };
}
