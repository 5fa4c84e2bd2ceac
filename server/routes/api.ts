/**
 * JSON API, mounted at /api/v1 (and /api for issue #2's paths). Authentication: a per-person API
 * token, `Authorization: Bearer dp_…` (issued with `npm run token -- <person code>`).
 * Errors: `{ code, message (zh), message_en }` with 400/401/403/404/409.
 *
 * GET  /alerts?state=open|cleared|all&limit=&offset=   alerts addressed to me or my subordinates
 * GET  /alerts/:id                                      one alert with its history and notifications
 * POST /alerts/:id/ack     { note? }                    确认: pauses repeats for the policy's ack timeout
 * POST /alerts/:id/handle  { note }                     处置: records what is being done (also pauses)
 * POST /alerts/:id/clear   { reason }                   销警 by hand (roles allowed to clear)
 * GET  /me/tasks                                        my task instances open now (id, window, task)
 * POST /check-records      { instanceId, result 0|1|2, readings?: [{ value }], deviceId?, note? }
 * GET  /hazards/:id                                     a hazard with its transition log
 * POST /hazards/:id/confirm   { rectifierId, acceptorId, deadlineDate 'YYYY-MM-DD', dangerLevel?, comment? }
 * POST /hazards/:id/rectify   { measures, cost? (元), comment? }
 * POST /hazards/:id/accept    { comment? }
 * POST /hazards/:id/send-back { comment }
 */
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { z } from 'zod';
import type { AppDeps } from '../app';
import { AppError } from '../errors';
import { actorForToken } from '../services/tokens';
import { acknowledgeAlert, authorize, clearAlertByHand, getAlertView, handleAlert, listAlertsFor, type Actor } from '../services/alert-actions';
import { submitCheckRecord } from '../services/checks';
import { acceptHazard, confirmHazard, getHazardView, rectifyHazard, sendBackHazard } from '../services/hazards';
import { alertCode } from '../domain/render';

const idParam = z.coerce.number().int().positive();
const text = (max: number) => z.string().trim().max(max);

export function apiRoutes(deps: AppDeps): Router {
  const r = new Router();
  const actorOf = (ctx: Context) => ctx.state.actor as Actor;

  const auth = async (ctx: Context, next: Next) => {
    const token = ctx.get('authorization').replace(/^Bearer\s+/i, '');
    const actor = token ? await actorForToken(deps.prisma, deps.clock, token) : null;
    if (!actor) throw new AppError(401, 'unauthorized', '请提供有效的 API 令牌', 'a valid API token is required (Authorization: Bearer …)');
    ctx.state.actor = actor;
    await next();
  };

  const api = new Router();
  api.use(auth);

  api.get('/alerts', async (ctx) => {
    const q = z
      .object({ state: z.enum(['open', 'cleared', 'all']).default('open'), limit: z.coerce.number().int().min(1).max(200).default(50), offset: z.coerce.number().int().min(0).default(0) })
      .parse(ctx.query);
    const { items, total } = await listAlertsFor(deps.prisma, actorOf(ctx), q);
    ctx.body = {
      total,
      items: items.map((a) => ({ id: a.id, code: alertCode(a.id), kind: a.kind, title: a.title, state: a.state, level: a.level, conditionStartAt: a.conditionStartAt, ackUntil: a.ackUntil, clearedAt: a.clearedAt, createdAt: a.createdAt })),
    };
  });

  api.get('/alerts/:id', async (ctx) => {
    const a = await getAlertView(deps.prisma, idParam.parse(ctx.params.id));
    // the same rule as acting on it: addressed to me or my subordinates, or an oversight role
    await authorize(deps.prisma, actorOf(ctx), a, 'read');
    const { policySnapshot: _p, openKey: _k, ...rest } = a;
    ctx.body = { ...rest, code: alertCode(a.id) };
  });

  const body = (ctx: Context) => (ctx.request.body ?? {}) as unknown;
  api.post('/alerts/:id/ack', async (ctx) => {
    const b = z.object({ note: text(1000).optional() }).parse(body(ctx));
    ctx.body = await acknowledgeAlert(deps.prisma, deps.clock, actorOf(ctx), idParam.parse(ctx.params.id), { channel: 'api' }, b.note);
  });
  api.post('/alerts/:id/handle', async (ctx) => {
    const b = z.object({ note: text(1000) }).parse(body(ctx));
    ctx.body = await handleAlert(deps.prisma, deps.clock, actorOf(ctx), idParam.parse(ctx.params.id), { channel: 'api' }, b.note);
  });
  api.post('/alerts/:id/clear', async (ctx) => {
    const b = z.object({ reason: text(1000) }).parse(body(ctx));
    ctx.body = await clearAlertByHand(deps.prisma, deps.clock, actorOf(ctx), idParam.parse(ctx.params.id), { channel: 'api' }, b.reason);
  });

  api.get('/me/tasks', async (ctx) => {
    const actor = actorOf(ctx);
    const now = deps.clock.now();
    const me = await deps.prisma.person.findUniqueOrThrow({ where: { id: actor.personId }, select: { postId: true } });
    const items = await deps.prisma.checkTaskInstance.findMany({
      where: {
        enterpriseId: actor.enterpriseId,
        state: 'pending',
        startAt: { lte: now },
        endAt: { gt: now },
        checkTask: { OR: [{ personId: actor.personId }, ...(me.postId ? [{ personId: null, postId: me.postId }] : [])] },
      },
      include: { checkTask: { select: { code: true, content: true, checkMeans: true, controlMeasure: { select: { paramName: true, paramUnit: true, paramMin: true, paramMax: true } } } } },
      orderBy: { endAt: 'asc' },
      take: 200,
    });
    ctx.body = { items: items.map((i) => ({ instanceId: i.id, startAt: i.startAt, endAt: i.endAt, task: i.checkTask })) };
  });

  api.post('/check-records', async (ctx) => {
    const b = z
      .object({
        instanceId: z.number().int().positive(),
        result: z.union([z.literal(0), z.literal(1), z.literal(2)]),
        readings: z.array(z.object({ value: z.number().finite() })).max(20).optional(),
        deviceId: text(64).optional(),
        note: text(500).optional(),
      })
      .parse(body(ctx));
    ctx.status = 201;
    ctx.body = await submitCheckRecord(deps.prisma, deps.clock, actorOf(ctx), b);
  });

  api.get('/hazards/:id', async (ctx) => {
    ctx.body = await getHazardView(deps.prisma, actorOf(ctx), idParam.parse(ctx.params.id));
  });
  api.post('/hazards/:id/confirm', async (ctx) => {
    const b = z
      .object({
        rectifierId: z.number().int().positive(),
        acceptorId: z.number().int().positive(),
        deadlineDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
        dangerLevel: z.union([z.literal(0), z.literal(1)]).optional(),
        comment: text(1000).optional(),
      })
      .parse(body(ctx));
    ctx.body = await confirmHazard(deps.prisma, deps.clock, actorOf(ctx), idParam.parse(ctx.params.id), b);
  });
  api.post('/hazards/:id/rectify', async (ctx) => {
    const b = z.object({ measures: text(2000), cost: z.number().min(0).max(1e10).optional(), comment: text(1000).optional() }).parse(body(ctx));
    ctx.body = await rectifyHazard(deps.prisma, deps.clock, actorOf(ctx), idParam.parse(ctx.params.id), b);
  });
  api.post('/hazards/:id/accept', async (ctx) => {
    const b = z.object({ comment: text(500).optional() }).parse(body(ctx));
    ctx.body = await acceptHazard(deps.prisma, deps.clock, actorOf(ctx), idParam.parse(ctx.params.id), b);
  });
  api.post('/hazards/:id/send-back', async (ctx) => {
    const b = z.object({ comment: text(1000) }).parse(body(ctx));
    ctx.body = await sendBackHazard(deps.prisma, deps.clock, actorOf(ctx), idParam.parse(ctx.params.id), b);
  });

  r.use('/api/v1', api.routes(), api.allowedMethods());
  r.use('/api', api.routes(), api.allowedMethods());
  return r;
}

