/** Alert endpoints: list, read, 确认 / 处置 / 销警 (rules: services/alert-actions.ts). */
import { z } from 'zod';
import type { ApiRegistry } from './registry';
import { acknowledgeAlert, authorize, clearAlertByHand, getAlertView, handleAlert, listAlertsFor } from '../../services/alert-actions';
import { alertCode } from '../../domain/render';
import { ALERT_KINDS } from '../../domain/escalation';
import { dateRangeQuery, pageOf, pageQuery } from './paging';
import { idParams, idText, intText, optionalText, text } from '../../domain/inputs';
import { NOTE_MAX } from '../../../miniprogram/shared/contract';
const alertItem = z.object({
  id: z.number().int(),
  /** display code, e.g. A000123 */
  code: z.string(),
  kind: z.enum(ALERT_KINDS),
  title: z.string(),
  state: z.enum(['open', 'acknowledged', 'cleared']),
  level: z.number().int(),
  subjectType: z.string(),
  subjectId: z.number().int(),
  conditionStartAt: z.iso.datetime(),
  ackUntil: z.iso.datetime().nullable(),
  clearedAt: z.iso.datetime().nullable(),
  createdAt: z.iso.datetime(),
});

export function registerAlertRoutes(api: ApiRegistry): void {
  api.add({
    method: 'get',
    path: '/alerts',
    permission: 'alerts.read',
    tags: ['alerts'],
    summary: 'Alerts addressed to me or my subordinates (oversight roles: all), newest first',
    description:
      'Filters: state (open = not cleared, the default; unacknowledged; acknowledged; cleared; all), kind, level (exact) or minLevel, ' +
      'from/to (local dates of the enterprise, inclusive, on when the alert was raised), subjectType + subjectId (e.g. the alerts of one hazard). ' +
      'Paging: limit (1..200, default 50), offset; the answer is { total, items }.',
    query: pageQuery.extend(dateRangeQuery.shape).extend({
      state: z.enum(['open', 'unacknowledged', 'acknowledged', 'cleared', 'all']).default('open'),
      kind: z.enum(ALERT_KINDS).optional(),
      level: intText({ min: 0, max: 20 }).optional(),
      minLevel: intText({ min: 0, max: 20 }).optional(),
      subjectType: z.enum(['check_task', 'hazard', 'check_record']).optional(),
      subjectId: idText.optional(),
    }),
    response: pageOf(alertItem),
    async handler({ deps, actor, query }) {
      const { items, total } = await listAlertsFor(deps.prisma, actor, query);
      return {
        total,
        items: items.map((a) => ({
          id: a.id,
          code: alertCode(a.id),
          kind: a.kind,
          title: a.title,
          state: a.state,
          level: a.level,
          subjectType: a.subjectType,
          subjectId: a.subjectId,
          conditionStartAt: a.conditionStartAt,
          ackUntil: a.ackUntil,
          clearedAt: a.clearedAt,
          createdAt: a.createdAt,
        })),
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
    body: z.object({ note: optionalText(NOTE_MAX, { multiline: true }) }),
    handler: ({ deps, actor, params, body }) => acknowledgeAlert(deps.prisma, deps.clock, actor, params.id, { channel: actor.via ?? 'api' }, body.note),
  });

  api.add({
    method: 'post',
    path: '/alerts/:id/handle',
    permission: 'alerts.act',
    tags: ['alerts'],
    summary: '处置 (handle): records what is being done; also pauses repeats',
    params: idParams,
    body: z.object({ note: text(NOTE_MAX, { multiline: true, blank: 'service' }) }),
    handler: ({ deps, actor, params, body }) => handleAlert(deps.prisma, deps.clock, actor, params.id, { channel: actor.via ?? 'api' }, body.note),
  });

  api.add({
    method: 'post',
    path: '/alerts/:id/clear',
    permission: 'alerts.act',
    tags: ['alerts'],
    summary: '销警 (clear) by hand with a reason — roles allowed to clear only',
    params: idParams,
    body: z.object({ reason: text(NOTE_MAX, { multiline: true, blank: 'service' }) }),
    handler: ({ deps, actor, params, body }) => clearAlertByHand(deps.prisma, deps.clock, actor, params.id, { channel: actor.via ?? 'api' }, body.reason),
  });
}
