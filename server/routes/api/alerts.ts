/** Alert endpoints: list, read, 确认 / 处置 / 销警 (rules: services/alert-actions.ts). */
import { z } from 'zod';
import type { ApiRegistry } from './registry';
import { acknowledgeAlert, authorize, clearAlertByHand, getAlertView, handleAlert, listAlertsFor } from '../../services/alert-actions';
import { alertCode } from '../../domain/render';

const idParams = z.object({ id: z.coerce.number().int().positive() });
const text = (max: number) => z.string().trim().max(max);

export function registerAlertRoutes(api: ApiRegistry): void {
  api.add({
    method: 'get',
    path: '/alerts',
    permission: 'alerts.read',
    tags: ['alerts'],
    summary: 'Alerts addressed to me or my subordinates (oversight roles: all), newest first',
    query: z.object({
      state: z.enum(['open', 'cleared', 'all']).default('open'),
      limit: z.coerce.number().int().min(1).max(200).default(50),
      offset: z.coerce.number().int().min(0).default(0),
      enterpriseId: z.coerce.number().int().positive().optional(),
    }),
    async handler({ deps, actor, query }) {
      const { items, total } = await listAlertsFor(deps.prisma, actor, query);
      return {
        total,
        items: items.map((a) => ({ id: a.id, code: alertCode(a.id), kind: a.kind, title: a.title, state: a.state, level: a.level, conditionStartAt: a.conditionStartAt, ackUntil: a.ackUntil, clearedAt: a.clearedAt, createdAt: a.createdAt })),
      };
    },
  });

  api.add({
    method: 'get',
    path: '/alerts/:id',
    permission: 'alerts.read',
    tags: ['alerts'],
    summary: 'One alert with its history (who, when, channel) and its messages',
    params: idParams,
    async handler({ deps, actor, params }) {
      const a = await getAlertView(deps.prisma, params.id);
      // the same rule as acting on it: addressed to me or my subordinates, or an oversight role
      await authorize(deps.prisma, actor, a, 'read');
      const { policySnapshot: _p, openKey: _k, ...rest } = a;
      return { ...rest, code: alertCode(a.id) };
    },
  });

  api.add({
    method: 'post',
    path: '/alerts/:id/ack',
    permission: 'alerts.act',
    tags: ['alerts'],
    summary: '确认 (acknowledge): pauses repeats and escalation for the policy’s ack timeout',
    params: idParams,
    body: z.object({ note: text(1000).optional() }),
    handler: ({ deps, actor, params, body }) => acknowledgeAlert(deps.prisma, deps.clock, actor, params.id, { channel: 'api' }, body.note),
  });

  api.add({
    method: 'post',
    path: '/alerts/:id/handle',
    permission: 'alerts.act',
    tags: ['alerts'],
    summary: '处置 (handle): records what is being done; also pauses repeats',
    params: idParams,
    body: z.object({ note: text(1000) }),
    handler: ({ deps, actor, params, body }) => handleAlert(deps.prisma, deps.clock, actor, params.id, { channel: 'api' }, body.note),
  });

  api.add({
    method: 'post',
    path: '/alerts/:id/clear',
    permission: 'alerts.act',
    tags: ['alerts'],
    summary: '销警 (clear) by hand with a reason — roles allowed to clear only',
    params: idParams,
    body: z.object({ reason: text(1000) }),
    handler: ({ deps, actor, params, body }) => clearAlertByHand(deps.prisma, deps.clock, actor, params.id, { channel: 'api' }, body.reason),
  });
}
