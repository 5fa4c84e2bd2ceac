/** Who am I: GET /me (rules: services/regulators.ts whoAmI). */
import { z } from 'zod';
import type { ApiRegistry } from './registry';
import { whoAmI } from '../../services/regulators';

const ref = z.object({ id: z.number().int(), companyCode: z.string(), name: z.string() });

export function registerMeRoutes(api: ApiRegistry): void {
  api.add({
    method: 'get',
    path: '/me',
    permission: 'me.read',
    tags: ['me'],
    summary: 'The person behind the token: roles, post, enterprise, and the enterprises they may read (regulators: their scope, chosen with ?enterpriseId=)',
    enterpriseScoped: false,
    response: z.object({
      person: z.object({
        id: z.number().int(),
        code: z.string(),
        name: z.string(),
        roles: z.array(z.string()),
        post: z.object({ id: z.number().int(), name: z.string() }).nullable(),
        department: z.object({ id: z.number().int(), name: z.string() }).nullable(),
      }),
      enterprise: ref.extend({ timezone: z.string() }),
      readable: z.array(ref),
    }),
    handler: ({ deps, actor }) => whoAmI(deps.prisma, actor),
  });
}
