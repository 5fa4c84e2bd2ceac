/**
 * QR labels of risk units (rules: services/qr-labels.ts):
 *   GET /lists/risk-units/labels.html  printable A4 sheet (print from the browser)
 *   GET /lists/risk-units/labels.pdf   the same as a PDF
 *   GET /risk-units/by-qr?code=…       the unit a scanned label names (404 qr_unknown)
 * Registered before the three-lists routes: `/lists/risk-units/:id` would otherwise take
 * `labels.html` as an id.
 */
import { z } from 'zod';
import type { ApiRegistry } from './registry';
import { labelSheet, labelsHtml, labelsPdf, MAX_LABELS, unitByQr } from '../../services/qr-labels';
import { idText, INT_MAX, refuse } from '../../domain/inputs';

const labelQuery = z.object({
  ids: z
    .string()
    .transform((s, ctx) => {
      const parts = s.split(',');
      // each id follows the one id rule (decimal, 1..INT max); at most one sheet's worth of ids
      if (parts.length > MAX_LABELS || !parts.every((p) => idText.safeParse(p).success)) {
        refuse(ctx, `须为逗号分隔的风险单元编号（每个为 1～${INT_MAX} 的整数，最多 ${MAX_LABELS} 个）`, `comma-separated unit ids (each a whole number 1..${INT_MAX}, at most ${MAX_LABELS})`);
        return z.NEVER;
      }
      return parts.map(Number);
    })
    .optional()
    .describe('only these risk units (comma-separated ids); default: every unit of the enterprise'),
  riskObjectId: idText.optional().describe('only the units of this risk object'),
});

const filename = (ent: string, ext: string) => {
  const name = `${ent}-风险单元二维码.${ext}`;
  return `attachment; filename="risk-unit-labels.${ext}"; filename*=UTF-8''${encodeURIComponent(name)}`;
};

export function registerLabelRoutes(api: ApiRegistry): void {
  api.add({
    method: 'get',
    path: '/lists/risk-units/labels.html',
    permission: 'lists.read',
    tags: ['lists', 'risk-units', 'labels'],
    summary: `Printable A4 sheet of QR labels, one per risk unit (QR + unit name + risk object + code; at most ${MAX_LABELS})`,
    description: 'Each QR encodes `dualprev:unit:<companyCode>:<unitCode>`; the mini-program resolves a scan with GET /risk-units/by-qr.',
    query: labelQuery,
    handler: async ({ ctx, deps, actor, query }) => {
      ctx.type = 'text/html; charset=utf-8';
      ctx.set('Cache-Control', 'no-store');
      ctx.body = await labelsHtml(await labelSheet(deps.prisma, actor, query));
      return undefined;
    },
  });

  api.add({
    method: 'get',
    path: '/lists/risk-units/labels.pdf',
    permission: 'lists.read',
    tags: ['lists', 'risk-units', 'labels'],
    summary: 'The QR label sheet as a PDF (A4, 3 × 4 labels per page, Chinese text embedded)',
    query: labelQuery,
    handler: async ({ ctx, deps, actor, query }) => {
      const sheet = await labelSheet(deps.prisma, actor, query);
      ctx.type = 'application/pdf';
      ctx.set('Cache-Control', 'no-store');
      ctx.set('Content-Disposition', filename(sheet.enterprise.name, 'pdf'));
      ctx.body = await labelsPdf(sheet);
      return undefined;
    },
  });

  api.add({
    method: 'get',
    path: '/risk-units/by-qr',
    permission: 'lists.read',
    tags: ['risk-units', 'labels'],
    summary: 'The risk unit a scanned QR label names, with its risk object and control measures (404 qr_unknown for anything else)',
    query: z.object({ code: z.string().trim().min(1).max(300).describe('the scanned text, e.g. dualprev:unit:320411901:RU1') }),
    response: z.object({
      id: z.number().int(),
      code: z.string(),
      name: z.string(),
      riskObject: z.object({ id: z.number().int(), code: z.string(), name: z.string() }),
      department: z.object({ id: z.number().int(), name: z.string() }).nullable(),
      head: z.object({ id: z.number().int(), name: z.string() }).nullable(),
      controlMeasures: z.array(
        z.object({
          id: z.number().int(),
          code: z.string(),
          description: z.string(),
          riskEvent: z.object({ id: z.number().int(), name: z.string() }),
          parameter: z.object({ name: z.string(), unit: z.string().nullable(), min: z.number().nullable(), max: z.number().nullable() }).nullable(),
        }),
      ),
    }),
    handler: ({ deps, actor, query }) => unitByQr(deps.prisma, actor, query.code),
  });
}
