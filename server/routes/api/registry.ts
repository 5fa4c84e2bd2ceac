/**
 * The API route registry: every JSON endpoint is declared once with its method, path, the
 * permission it needs (server/domain/permissions.ts), its zod schemas (params, query, body,
 * response) and a thin handler. From the same declarations come
 * - validation (bad input → 400 `invalid_input` listing every issue of params, query and body as
 *   `{ path: 'body.note', message (zh), message_en }`, before the handler runs),
 * - authorisation (401 without a valid token — a per-person API token or a mini-program session
 *   token —, 403 `forbidden` without the permission); `public: true` routes skip it (PublicRouteSpec),
 * - enterprise isolation (the handler gets the actor scoped to one enterprise: their own, or for a
 *   regulator one of their RegulatorScope enterprises chosen with `?enterpriseId=`; any other → 404),
 * - the OpenAPI document served at /api/v1/openapi.json,
 * - the route list the authorisation-matrix test walks.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { z, type ZodType } from 'zod';
import type { AppDeps } from '../../app';
import { AppError } from '../../errors';
import { can, PERMISSIONS, type Permission } from '../../domain/permissions';
import type { Actor } from '../../services/alert-actions';
import { actorForToken } from '../../services/tokens';
import { SessionError } from '../../services/sessions';
import { idText } from '../../domain/inputs';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface HandlerContext<P, Q, B> {
  ctx: Context;
  deps: AppDeps;
  /** the person acting, scoped to the enterprise this request is about */
  actor: Actor;
  params: P;
  query: Q;
  body: B;
  /** set the HTTP status of a successful answer (default 200) */
  status(code: number): void;
}

/** What a public route's handler gets: no actor (nobody is authenticated). */
export type PublicHandlerContext<P, Q, B> = Omit<HandlerContext<P, Q, B>, 'actor'>;

interface RouteBase<P, Q, B> {
  method: Method;
  /** koa-router path under /api/v1, e.g. '/hazards/:id/confirm' */
  path: string;
  /** one line for the OpenAPI document (English), e.g. 'Confirm a reported hazard (确认隐患)' */
  summary: string;
  description?: string;
  tags: string[];
  params?: ZodType<P>;
  query?: ZodType<Q>;
  body?: ZodType<B>;
  response?: ZodType;
  /** multipart/form-data upload: the body is read by the handler (e.g. @koa/multer), not by zod */
  multipart?: { field: string; maxFiles: number; maxBytes: number };
  /** success status when not set by the handler */
  successStatus?: number;
  /**
   * false: the route is about the actor themselves (e.g. GET /me), not about one enterprise's data,
   * so no enterprise is chosen and a regulator needs no `?enterpriseId=` (actor.enterpriseId stays
   * their own). Default true.
   */
  enterpriseScoped?: boolean;
}

/** A route for authenticated people: the permission is checked before the handler runs. */
export interface ProtectedRouteSpec<P = unknown, Q = unknown, B = unknown> extends RouteBase<P, Q, B> {
  public?: false;
  permission: Permission;
  handler(c: HandlerContext<P, Q, B>): Promise<unknown>;
}

/**
 * `public: true`: a route that runs WITHOUT a token — no authentication, no permission, no
 * enterprise (the handler gets no actor). Only for what must work before anyone is logged in: the
 * mini-program's POST /mp/login and POST /mp/bind, which prove who the caller is by other means
 * (a WeChat login code, a bind token). Validation and error shaping still apply; the OpenAPI
 * document shows `security: []` and no x-permission.
 */
export interface PublicRouteSpec<P = unknown, Q = unknown, B = unknown> extends RouteBase<P, Q, B> {
  public: true;
  permission?: undefined;
  enterpriseScoped?: false;
  handler(c: PublicHandlerContext<P, Q, B>): Promise<unknown>;
}

export type RouteSpec<P = unknown, Q = unknown, B = unknown> = ProtectedRouteSpec<P, Q, B> | PublicRouteSpec<P, Q, B>;

/** Whether a declared route needs a token (every route but the `public: true` ones). */
export const isProtected = <P, Q, B>(r: RouteSpec<P, Q, B>): r is ProtectedRouteSpec<P, Q, B> => r.public !== true;

const enterpriseQuery = z.object({ enterpriseId: idText.optional() });

const zhBase = z.locales.zhCN().localeError;
/** Type names zod's zh-CN locale leaves in English ("期望 int，实际接收 数字"). */
const TYPE_ZH: Record<string, string> = { int: '整数', number: '数字', string: '文本', object: '对象（JSON {}）', array: '数组', boolean: '布尔值（true / false）', bigint: '整数', date: '日期' };
/**
 * zod's zh-CN messages, with the two a form user meets most said plainly: a missing field is 必填
 * (not "实际接收 undefined"), a wrong type names the expected one in Chinese.
 */
const zhLocale = (issue: z.core.$ZodRawIssue): ReturnType<typeof zhBase> => {
  if (issue.code === 'invalid_type') return issue.input === undefined ? '必填' : `应为${TYPE_ZH[issue.expected] ?? issue.expected}`;
  return zhBase(issue);
};
export type InputPart = 'params' | 'query' | 'body';

/**
 * zod issues as `{ path, message (zh), message_en }`, the path prefixed with where the field was
 * (`params.id`, `query.from`, `body.note`). The Chinese text: our own refusals carry it
 * (domain/inputs.ts `params.zh`); zod's own issues come from parsing again with its zh-CN locale
 * (`zhIssues`, same order), else from the locale applied to the issue.
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[], where?: InputPart, zhIssues?: readonly z.core.$ZodIssue[]): Array<{ path: string; message: string; message_en: string }> {
  return issues.map((i, n) => {
    const path = [...(where ? [where] : []), ...i.path.map(String)].join('.') || '(body)';
    const own = i.code === 'custom' ? (i.params as { zh?: unknown } | undefined)?.zh : undefined;
    const twin = zhIssues?.[n];
    const translated = twin && twin.code === i.code && twin.path.join('.') === i.path.join('.') && twin.message !== i.message ? twin.message : undefined;
    const zh = typeof own === 'string' ? own : (translated ?? `${zhBase(i as never) ?? "无效输入"}（${i.message}）`);
    return { path, message: zh, message_en: i.message };
  });
}

/** 400 invalid_input with every problem; `message` lists them in Chinese, `message_en` in English. */
export function invalidInput(details: Array<{ path: string; message: string; message_en: string }>): AppError {
  return new AppError(
    400,
    'invalid_input',
    '输入有误：' + details.map((d) => `${d.path} ${d.message}`).join('；'),
    'invalid input: ' + details.map((d) => `${d.path}: ${d.message_en}`).join('; '),
    details,
  );
}

/**
 * The route's params, query and body, each parsed with its schema; every problem of all three is
 * reported at once. @throws AppError 400 invalid_input, 415 unsupported_media_type (a body that is not JSON)
 */
function parseInputs<P, Q, B>(spec: RouteSpec<P, Q, B>, ctx: Context): { params: P; query: Q; body: B } {
  // a JSON route given another type of body: the body parser left it unread, so without this the
  // answer was "body.note: required" (or, with nothing required, a silent 200 ignoring the body)
  const hasBody = Number(ctx.get('content-length') || 0) > 0 || ctx.get('transfer-encoding') !== '';
  if (spec.body && hasBody && !ctx.request.is('application/json')) {
    throw new AppError(415, 'unsupported_media_type', '请求内容须为 JSON（Content-Type: application/json）', `send the body as JSON (Content-Type: application/json), not ${ctx.get('content-type') || 'no type'}`);
  }
  const details: ReturnType<typeof describeIssues> = [];
  const parse = <T>(where: InputPart, schema: ZodType<T> | undefined, value: unknown): T => {
    if (!schema) return (where === 'body' ? undefined : value) as T;
    const r = schema.safeParse(value);
    if (r.success) return r.data;
    const zh = schema.safeParse(value, { error: zhLocale });
    details.push(...describeIssues(r.error.issues, where, zh.success ? undefined : zh.error.issues));
    return undefined as T;
  };
  const params = parse('params', spec.params, ctx.params);
  const query = parse('query', spec.query, ctx.query);
  const body = parse('body', spec.body, ctx.request.body ?? {});
  if (details.length) throw invalidInput(details);
  return { params, query, body };
}

export class ApiRegistry {
  readonly routes: RouteSpec<any, any, any>[] = []; // eslint-disable-line @typescript-eslint/no-explicit-any

  /** Declares a route. @throws Error on a duplicate method + path */
  // the protected signature last: `Parameters<ApiRegistry['add']>` (used by route helpers) sees that one
  add<P, Q, B>(spec: PublicRouteSpec<P, Q, B>): void;
  add<P, Q, B>(spec: ProtectedRouteSpec<P, Q, B>): void;
  add<P, Q, B>(spec: RouteSpec<P, Q, B>): void {
    if (this.routes.some((r) => r.method === spec.method && r.path === spec.path)) throw new Error(`duplicate API route ${spec.method.toUpperCase()} ${spec.path}`);
    this.routes.push(spec);
  }

  /** A koa-router with every declared route, authenticated and validated. */
  router(deps: AppDeps): Router {
    const r = new Router();
    for (const spec of this.routes) {
      r[spec.method](spec.path, async (ctx) => {
        let scoped: Actor | null = null;
        if (isProtected(spec)) {
          const actor = await authenticate(deps, ctx);
          if (!can(actor.roles, spec.permission)) {
            throw new AppError(403, 'forbidden', '您的角色无权执行此操作', `your roles may not do this (needs ${spec.permission})`, { permission: spec.permission });
          }
          scoped = spec.enterpriseScoped === false ? actor : { ...actor, enterpriseId: resolveEnterprise(actor, ctx) };
        }
        const { params, query, body } = parseInputs(spec, ctx);
        let status = spec.successStatus ?? 200;
        const base = { ctx, deps, params, query, body, status: (s: number) => (status = s) };
        const result = isProtected(spec) ? await spec.handler({ ...base, actor: scoped! }) : await spec.handler(base);
        if (ctx.body === undefined || ctx.body === null) {
          ctx.status = status;
          ctx.body = result ?? { ok: true };
        }
      });
    }
    return r;
  }

  /** OpenAPI 3.1 document generated from the declarations. */
  openapi(info: { title: string; version: string; serverUrl: string }): Record<string, unknown> {
    const json = (s: ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    const strip = (s: Record<string, unknown>) => {
      const { $schema: _drop, ...rest } = s;
      return rest;
    };
    const paths: Record<string, Record<string, unknown>> = {};
    for (const spec of this.routes) {
      const path = spec.path.replace(/:(\w+)/g, '{$1}');
      const parameters: unknown[] = [];
      const addParams = (schema: ZodType | undefined, where: 'path' | 'query') => {
        if (!schema) return;
        const s = json(schema) as { properties?: Record<string, unknown>; required?: string[] };
        for (const [name, prop] of Object.entries(s.properties ?? {})) {
          parameters.push({ name, in: where, required: where === 'path' || (s.required ?? []).includes(name), schema: prop });
        }
      };
      addParams(spec.params, 'path');
      addParams(spec.query, 'query');
      if (isProtected(spec) && spec.enterpriseScoped !== false && !parameters.some((p) => (p as { name: string }).name === 'enterpriseId')) {
        parameters.push({ name: 'enterpriseId', in: 'query', required: false, schema: { type: 'integer' }, description: 'regulators: which of their enterprises (default: their only one)' });
      }
      const op: Record<string, unknown> = {
        summary: spec.summary,
        ...(spec.description ? { description: spec.description } : {}),
        tags: spec.tags,
        operationId: `${spec.method}${spec.path.replace(/[/:{}-](\w)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
        ...(isProtected(spec) ? { security: [{ bearer: [] }], 'x-permission': spec.permission, 'x-roles': PERMISSIONS[spec.permission] } : { security: [] }),
        parameters,
        responses: {
          [String(spec.successStatus ?? 200)]: {
            description: 'OK',
            ...(spec.response ? { content: { 'application/json': { schema: strip(json(spec.response)) } } } : {}),
          },
          '400': { $ref: '#/components/responses/Error' },
          '401': { $ref: '#/components/responses/Error' },
          '403': { $ref: '#/components/responses/Error' },
          '404': { $ref: '#/components/responses/Error' },
          '409': { $ref: '#/components/responses/Error' },
        },
      };
      if (spec.body) op.requestBody = { required: true, content: { 'application/json': { schema: strip(json(spec.body)) } } };
      if (spec.multipart) {
        op.requestBody = {
          required: true,
          content: {
            'multipart/form-data': {
              schema: { type: 'object', properties: { [spec.multipart.field]: { type: 'array', maxItems: spec.multipart.maxFiles, items: { type: 'string', format: 'binary' } } } },
            },
          },
          description: `up to ${spec.multipart.maxFiles} files of at most ${spec.multipart.maxBytes} bytes each`,
        };
        // uploads also fail with: too large, not an accepted type, damaged
        const responses = op.responses as Record<string, unknown>;
        for (const s of ['413', '415', '422']) responses[s] = { $ref: '#/components/responses/Error' };
      }
      (paths[path] ??= {})[spec.method] = op;
    }
    return {
      openapi: '3.1.0',
      info: { title: info.title, version: info.version },
      servers: [{ url: info.serverUrl }],
      paths,
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'per-person API token (npm run token -- <person code>), or a mini-program session token from POST /mp/login or /mp/bind' },
        },
        responses: {
          Error: {
            description: 'error',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['code', 'message', 'message_en'],
                  properties: { code: { type: 'string' }, message: { type: 'string', description: '中文' }, message_en: { type: 'string' }, details: {} },
                },
              },
            },
          },
        },
      },
    };
  }
}

/**
 * The token's person, with the enterprises they may read: an API token or a mini-program session.
 * @throws AppError 401 unauthorized, 401 session_expired (an expired session token: log in again)
 */
async function authenticate(deps: AppDeps, ctx: Context): Promise<Actor> {
  const token = ctx.get('authorization').replace(/^Bearer\s+/i, '');
  let actor: Actor | null = null;
  try {
    actor = token ? await actorForToken(deps.prisma, deps.clock, token, deps.sessions) : null;
  } catch (e) {
    if (e instanceof SessionError && e.code === 'session_expired') throw new AppError(401, 'session_expired', '登录已过期，请重新进入小程序', 'the session has expired: log in again (POST /mp/login)');
    throw e;
  }
  if (!actor) throw new AppError(401, 'unauthorized', '请提供有效的 API 令牌', 'a valid API token is required (Authorization: Bearer …)');
  ctx.state.actor = actor;
  return actor;
}

/**
 * Which enterprise this request is about: `?enterpriseId=` when given (one the actor may read: their
 * own, or for a regulator one of their RegulatorScope enterprises), else the actor's own. A
 * regulator's own organisation (the park authority) holds no plant data, so a regulator without
 * `?enterpriseId=` reads their only scoped enterprise, and one with several (or none) is told to
 * choose instead of silently getting empty lists.
 * @throws AppError 404 not_found (not an enterprise the actor may read), 400 enterprise_required,
 *         403 forbidden (a regulator with no enterprise in scope)
 */
function resolveEnterprise(actor: Actor, ctx: Context): number {
  const parsed = enterpriseQuery.safeParse({ enterpriseId: ctx.query.enterpriseId });
  if (!parsed.success) throw invalidInput(describeIssues(parsed.error.issues, 'query', enterpriseQuery.safeParse({ enterpriseId: ctx.query.enterpriseId }, { error: zhLocale }).error?.issues));
  const { enterpriseId } = parsed.data;
  const readable = [actor.enterpriseId, ...(actor.scope ?? [])];
  if (enterpriseId !== undefined) {
    if (!readable.includes(enterpriseId)) throw new AppError(404, 'not_found', '企业不存在', 'enterprise not found');
    return enterpriseId;
  }
  if (actor.roles.includes('regulator')) {
    const scope = actor.scope ?? [];
    if (scope.length === 1) return scope[0];
    if (scope.length === 0) throw new AppError(403, 'forbidden', '您的监管账号尚未授权任何企业', 'this regulator account has no enterprise in scope', { reason: 'no_scope' });
    throw new AppError(400, 'enterprise_required', '请用 ?enterpriseId= 选择要查看的企业', 'choose the enterprise with ?enterpriseId=', { enterprises: scope });
  }
  return actor.enterpriseId;
}
