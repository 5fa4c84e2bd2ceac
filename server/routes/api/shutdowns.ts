/** 停用检修 endpoints: shut a risk unit down for maintenance, bring it back, list (rules: services/shutdowns.ts). */
import { z } from 'zod';
import type { ApiRegistry } from './registry';
import { pageQuery } from './paging';
import { endShutdown, listShutdowns, startShutdown } from '../../services/shutdowns';
import { idParams as unitParams, idText, instant, text } from '../../domain/inputs';

export function registerShutdownRoutes(api: ApiRegistry): void {
  api.add({
    method: 'get',
    path: '/risk-units/:id/shutdowns',
    permission: 'lists.read',
    tags: ['shutdowns'],
    summary: 'A risk unit\'s shutdowns (停用检修), latest first, with whether each is in force now',
    params: unitParams,
    query: pageQuery,
    async handler({ deps, actor, params, query }) {
      // a unit's shutdowns are few (a handful a year): paged here over the complete list, so total is exact
      const { items } = await listShutdowns(deps.prisma, deps.clock, actor, params.id);
      return { total: items.length, items: items.slice(query.offset, query.offset + query.limit) };
    },
  });

  api.add({
    method: 'post',
    path: '/risk-units/:id/shutdowns',
    permission: 'units.shutdown',
    tags: ['shutdowns'],
    summary: '停用检修: from startAt (to endAt, or until ended) the unit\'s task instances are suspended, never overdue; pending ones overlapping it at once',
    params: unitParams,
    body: z.object({
      startAt: instant.describe('ISO instant (2000–2099)'),
      endAt: instant.optional().describe('ISO instant after startAt (2000–2099); omit for an open-ended shutdown'),
      reason: text(255, { multiline: true }),
    }),
    successStatus: 201,
    handler: ({ deps, actor, params, body }) => startShutdown(deps.prisma, deps.clock, actor, params.id, body),
  });

  api.add({
    method: 'post',
    path: '/risk-units/:id/shutdowns/:sid/end',
    permission: 'units.shutdown',
    tags: ['shutdowns'],
    summary: 'End a shutdown (default now): instances whose window no longer overlaps a shutdown and has not ended run again',
    params: unitParams.extend({ sid: idText }),
    body: z.object({ endAt: instant.optional() }),
    handler: ({ deps, actor, params, body }) => endShutdown(deps.prisma, deps.clock, actor, params.id, params.sid, body),
  });
}
