/**
 * createApp(deps): the Koa app, built only from injected dependencies so tests can run it with a
 * test database, a fake clock and no network. Routes are thin; the rules live in services/ and
 * domain/ (design.md).
 *
 * Cross-cutting middleware, outermost first:
 * 1. request id (`x-request-id` in/out) and a child logger per request (pino JSON logs)
 * 2. error shaping: AppError → `{ code, message, message_en }` with its status; zod errors → 400
 *    `invalid_input` with the issues; anything else → 500 `internal_error` (details only in the log);
 *    a method no route answers (TRACE, PROPFIND…) → 501 `not_implemented`
 * 3. body parser (JSON and HTML forms; 100 kB)
 */
import Koa from 'koa';
import { bodyParser } from '@koa/bodyparser';
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { ZodError } from 'zod';
import type { Redis } from 'ioredis';
import type { PrismaClient } from './db';
import type { Clock } from './clock';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import type { LinkSigner } from './services/links';
import type { FileDeps } from './services/files';
import type { DingtalkRobot } from './services/dingtalk-robot';
import { AppError } from './errors';
import { healthRoutes } from './routes/health';
import { outboxRoutes } from './routes/outbox';
import { linkRoutes } from './routes/link';
import { apiRoutes } from './routes/api/index';
import { describeIssues, invalidInput } from './routes/api/registry';
import { dingtalkRoutes } from './routes/dingtalk';
import { wecomRoutes } from './routes/wecom';
import type { WecomCallback } from './services/wecom-callback';
import type { SessionTokens } from './services/sessions';
import type { MiniProgram } from './services/mp-auth';

export interface AppDeps {
  prisma: PrismaClient;
  redis: Redis;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  links: LinkSigner;
  /** admin token of the outbox viewer */
  outboxToken: string;
  publicUrl: string;
  /** prefix of this install's Redis keys (default 'dualprev') */
  redisPrefix?: string;
  /** photo storage and upload limits (POST/GET /api/v1/files); without it those answer 503 */
  files?: FileDeps;
  /** the DingTalk app robot (POST /dingtalk/callback); without it that route answers 404 dingtalk_not_configured */
  dingtalk?: DingtalkRobot;
  /** the WeCom app callback (GET/POST /wecom/callback); without it that route answers 404 wecom_not_configured */
  wecom?: WecomCallback;
  /** verifies mini-program session tokens (accepted like API tokens); without it only API tokens are */
  sessions?: SessionTokens;
  /** the mini-program's login, binding and subscribe consents (/api/v1/mp/*); without it /mp/login and /mp/bind answer 404 mp_not_configured */
  miniprogram?: MiniProgram;
  /** whether every migration in the repo is applied (for /readyz) */
  migrationsCurrent: () => Promise<{ current: boolean; pending: string[]; problems?: string[] }>;
}

export interface AppState {
  requestId: string;
  log: Logger;
}

/** The methods some route may answer; anything else gets 501 not_implemented (JSON). */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export function createApp(deps: AppDeps): Koa<AppState> {
  const app = new Koa<AppState>({ proxy: true });

  app.use(async (ctx, next) => {
    const incoming = ctx.get('x-request-id');
    const requestId = /^[\w.-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.state.log = deps.log.child({ requestId });
    ctx.set('x-request-id', requestId);
    const t0 = performance.now();
    try {
      await next();
    } finally {
      // tokens travel in paths and query strings: log the route, never the raw URL
      const path = ctx.path.replace(/^\/l\/[^/]+/, '/l/:token');
      ctx.state.log.info({ method: ctx.method, path, status: ctx.status, ms: Math.round(performance.now() - t0) }, 'request');
    }
  });

  app.use(async (ctx, next) => {
    try {
      // TRACE, PROPFIND, CONNECT…: no route answers them; say so in JSON before any parsing
      if (!KNOWN_METHODS.has(ctx.method)) {
        ctx.status = 501;
        ctx.set('Allow', [...KNOWN_METHODS].join(', '));
        ctx.body = { code: 'not_implemented', message: '不支持该请求方法', message_en: `method ${ctx.method} is not implemented` };
        return;
      }
      await next();
      // fix (tests): no route matched (or wrong method) → Koa's plain-text "Not Found" /
      // "Method Not Allowed"; answer in the same `{ code, message, message_en }` shape as every error
      if (ctx.body == null && (ctx.status === 404 || ctx.status === 405)) {
        const status = ctx.status;
        ctx.body =
          status === 404
            ? { code: 'not_found', message: '请求的地址不存在', message_en: 'no such route' }
            : { code: 'method_not_allowed', message: '不支持该请求方法', message_en: `method not allowed (allowed: ${ctx.response.get('allow')})` };
        ctx.status = status; // setting a body would otherwise turn the implicit 404 into 200
      }
    } catch (err) {
      if (err instanceof AppError) {
        ctx.status = err.status;
        ctx.body = { code: err.code, message: err.messageZh, message_en: err.messageEn, ...(err.details !== undefined ? { details: err.details } : {}) };
      } else if (err instanceof ZodError) {
        // a schema parsed outside the API registry (which reports params./query./body. itself)
        const e = invalidInput(describeIssues(err.issues));
        ctx.status = 400;
        ctx.body = { code: e.code, message: e.messageZh, message_en: e.messageEn, details: e.details };
      } else if ((err as { status?: number }).status && (err as { status: number }).status < 500) {
        // koa/bodyparser errors (malformed JSON, too large) carry a 4xx status
        const e = err as { status: number; message: string };
        ctx.status = e.status;
        // fix (tests): a 413 said 请求格式有误 ("malformed request"); say what is wrong
        ctx.body = e.status === 413 ? { code: 'payload_too_large', message: '请求内容过大', message_en: e.message } : { code: 'bad_request', message: '请求格式有误', message_en: e.message };
      } else {
        ctx.state.log.error({ err }, 'unhandled error');
        ctx.status = 500;
        ctx.body = { code: 'internal_error', message: '服务器内部错误', message_en: 'internal error', requestId: ctx.state.requestId };
      }
    }
  });

  // any failure reading the body is the client's: a body that is not what its Content-Encoding
  // says (gzip/deflate that does not inflate: zlib's Z_DATA_ERROR) was a 500 (new-user test)
  const parseBody = bodyParser({ enableTypes: ['json', 'form'], jsonLimit: '100kb', formLimit: '100kb' });
  app.use(async (ctx, next) => {
    try {
      await parseBody(ctx, async () => undefined);
    } catch (err) {
      if ((err as { status?: number }).status) throw err;
      throw new AppError(400, 'bad_body', '请求内容无法读取（压缩或编码格式有误）', `the request body cannot be read: ${(err as Error).message}`);
    }
    await next();
  });

  for (const router of [healthRoutes(deps), outboxRoutes(deps), linkRoutes(deps), dingtalkRoutes(deps), wecomRoutes(deps), apiRoutes(deps)]) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  return app;
}

/**
 * The HTTP server's answer to a request Node rejects before Koa sees it (headers over 16 KB — a
 * very long link or query —, a malformed request line): the same `{ code, message, message_en }`
 * JSON as every error, instead of Node's bare 431 / 400 with an empty body.
 * Use: `server.on('clientError', answerClientError)` (https://nodejs.org/api/http.html#event-clienterror).
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? 431 : 400;
  const body = JSON.stringify(
    tooLarge
      ? { code: 'headers_too_large', message: '请求头过大（链接或参数过长）', message_en: 'request headers too large (a very long URL or header)' }
      : { code: 'bad_request', message: '请求格式有误', message_en: 'malformed HTTP request' },
  );
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
