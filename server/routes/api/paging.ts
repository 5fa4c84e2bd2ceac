/**
 * Shared list conventions: `?limit=&offset=` (limit 1..200, default 50) and a `{ total, items }`
 * answer. Filters are declared per route with `pageQuery.extend({...})`; their field rules (ids,
 * dates, text) come from domain/inputs.ts.
 */
import { z } from 'zod';
import { idText, INT_MAX, intText, localDate } from '../../domain/inputs';

export const pageQuery = z.object({
  limit: intText({ min: 1, max: 200 }).default(50),
  offset: intText({ min: 0, max: INT_MAX }).default(0),
  enterpriseId: idText.optional(),
});

/** An inclusive date range filter on local dates (YYYY-MM-DD, 2000–2099), e.g. `?from=2026-11-01&to=2026-11-30`. */
export const dateRangeQuery = z.object({
  from: localDate.optional(),
  to: localDate.optional(),
});

export interface Page<T> {
  total: number;
  items: T[];
}

/** Response schema of a page of `item`. */
export const pageOf = <T extends z.ZodType>(item: T) => z.object({ total: z.number().int(), items: z.array(item) });
