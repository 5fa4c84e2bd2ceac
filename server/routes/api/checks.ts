/** Inspection endpoints: my tasks now, submit a check record (rules: services/checks.ts). */
import { z } from 'zod';
import type { ApiRegistry } from './registry';
import { submitCheckRecord } from '../../services/checks';

const text = (max: number) => z.string().trim().max(max);

export function registerCheckRoutes(api: ApiRegistry): void {
  api.add({
    method: 'get',
    path: '/me/tasks',
    permission: 'checks.read',
    tags: ['checks'],
    summary: 'My task instances open now (for me, or for my post), soonest due first',
    async handler({ deps, actor }) {
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
      return { items: items.map((i) => ({ instanceId: i.id, startAt: i.startAt, endAt: i.endAt, task: i.checkTask })) };
    },
  });

  api.add({
    method: 'post',
    path: '/check-records',
    permission: 'checks.submit',
    tags: ['checks'],
    summary: 'Submit a check record for an open instance; a reading outside the safe range raises an alert at once',
    body: z.object({
      instanceId: z.number().int().positive(),
      /** 0 正常, 1 存在隐患, 2 无需排查 */
      result: z.union([z.literal(0), z.literal(1), z.literal(2)]),
      /** values in the key parameter's unit (MPa, %, ℃ …) */
      readings: z.array(z.object({ value: z.number().finite() })).max(20).optional(),
      deviceId: text(64).optional(),
      note: text(500).optional(),
    }),
    successStatus: 201,
    handler: ({ deps, actor, body }) => submitCheckRecord(deps.prisma, deps.clock, actor, body),
  });
}
