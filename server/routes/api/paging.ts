/**
 * Shared list conventions: `?limit=&offset=` (limit 1..200, default 50) and a `{ total, items }`
 * answer. Filters are declared per route with `pageQuery.extend({...})`.
 */
import { z } from 'zod';

export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
  enterpriseId: z.coerce.number().int().positive().optional(),
});

/** An inclusive date range filter on local dates (YYYY-MM-DD), e.g. `?from=2026-11-01&to=2026-11-30`. */
export const dateRangeQuery = z.object({
  from: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'YYYY-MM-DD').optional(),
  to: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'YYYY-MM-DD').optional(),
});

export interface Page<T> {
  total: number;
  items: T[];
}

/** Response schema of a page of `item`. */
export const pageOf = <T extends z.ZodType>(item: T) => z.object({ total: z.number().int(), items: z.array(item) });
