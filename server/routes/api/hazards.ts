/** Hazard endpoints: read, confirm, rectify, accept, send back (rules: services/hazards.ts). */
import { z } from 'zod';
import type { ApiRegistry } from './registry';
import { acceptHazard, confirmHazard, getHazardView, rectifyHazard, sendBackHazard } from '../../services/hazards';

const idParams = z.object({ id: z.coerce.number().int().positive() });
const text = (max: number) => z.string().trim().max(max);
const localDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'YYYY-MM-DD');

export function registerHazardRoutes(api: ApiRegistry): void {
  api.add({
    method: 'get',
    path: '/hazards/:id',
    permission: 'hazards.read',
    tags: ['hazards'],
    summary: 'A hazard with its transition log (who, when, comment, photos)',
    params: idParams,
    handler: ({ deps, actor, params }) => getHazardView(deps.prisma, actor, params.id),
  });

  api.add({
    method: 'post',
    path: '/hazards/:id/confirm',
    permission: 'hazards.confirm',
    tags: ['hazards'],
    summary: '确认隐患: rectifier, acceptor and deadline (a local date; it ends at local midnight)',
    params: idParams,
    body: z.object({
      rectifierId: z.number().int().positive(),
      acceptorId: z.number().int().positive(),
      deadlineDate: localDate,
      dangerLevel: z.union([z.literal(0), z.literal(1)]).optional(),
      comment: text(1000).optional(),
    }),
    handler: ({ deps, actor, params, body }) => confirmHazard(deps.prisma, deps.clock, actor, params.id, body),
  });

  api.add({
    method: 'post',
    path: '/hazards/:id/rectify',
    permission: 'hazards.rectify',
    tags: ['hazards'],
    summary: '整改完成: the rectifier (or a superior) reports the measures taken; waits for acceptance',
    params: idParams,
    body: z.object({ measures: text(2000), cost: z.number().min(0).max(1e10).optional(), comment: text(1000).optional() }),
    handler: ({ deps, actor, params, body }) => rectifyHazard(deps.prisma, deps.clock, actor, params.id, body),
  });

  api.add({
    method: 'post',
    path: '/hazards/:id/accept',
    permission: 'hazards.accept',
    tags: ['hazards'],
    summary: '验收: the acceptor closes the hazard; its alerts clear',
    params: idParams,
    body: z.object({ comment: text(500).optional() }),
    handler: ({ deps, actor, params, body }) => acceptHazard(deps.prisma, deps.clock, actor, params.id, body),
  });

  api.add({
    method: 'post',
    path: '/hazards/:id/send-back',
    permission: 'hazards.accept',
    tags: ['hazards'],
    summary: '退回: the acceptor sends the hazard back to rectifying (comment required)',
    params: idParams,
    body: z.object({ comment: text(1000) }),
    handler: ({ deps, actor, params, body }) => sendBackHazard(deps.prisma, deps.clock, actor, params.id, body),
  });
}
