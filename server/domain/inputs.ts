/**
 * The field rules of every input, in one place: ids, whole numbers, dates and instants, free text.
 * zod building blocks for the API's params / query / body schemas (routes/api/*), the 治理方案
 * (hazard-rules.ts), the signed link page and the three lists' Excel import (via the pure
 * predicates). Pure: zod only, no I/O.
 *
 * Why (new-user test): ids like `0x1` and `1e3` were accepted, ids beyond INT gave a 500, dates
 * like 2026-02-30 or 9999-12-31 gave a 500, text with NUL or of only zero-width characters was
 * stored. Here:
 * - an id is written in decimal digits only, 1 … 2147483647 (the INT columns' maximum);
 * - a date is a real calendar date of 2000–2099, an instant lies in those years too;
 * - free text follows `cleanText` (miniprogram/shared/contract.ts, the phone applies it too):
 *   trimmed, no control characters, not blank when required, limits in characters (code points).
 *
 * Every refusal made here carries its Chinese text in `params.zh` (the English one is the issue's
 * message); zod's own issues are translated with its zh-CN locale (registry.ts `invalidInput`).
 */
import { z } from 'zod';
import { cleanText } from '../../miniprogram/shared/contract';
import { isLocalDate, type LocalDate } from './time';

/** Largest id (and largest whole number an INT column holds). */
export const INT_MAX = 2147483647;
/** Dates and instants people enter lie in these years (inclusive). */
export const YEAR_MIN = 2000;
export const YEAR_MAX = 2099;

/** Adds a refusal with both texts (en: the issue's message, zh: params.zh). */
export function refuse(ctx: { addIssue(issue: { code: 'custom'; message: string; params: { zh: string }; input?: unknown }): void }, zh: string, en: string): void {
  ctx.addIssue({ code: 'custom', message: en, params: { zh } });
}

// ───────────────────────────── ids and whole numbers ─────────────────────────────

/** An id in a JSON body: a whole number 1 … INT_MAX. */
export const id = z.number().int().min(1).max(INT_MAX);

const DECIMAL = /^(0|-?[1-9][0-9]*)$/;

/**
 * A whole number given as text (path or query): decimal digits only, optional leading minus, no
 * leading zeros, spaces, signs, exponents or hex (`0x1`, `1e3`, `+1`, `01` are refused), within
 * [min, max]. Documented as an integer (JSON Schema of the number it becomes).
 */
export function intText(o: { min: number; max: number; zh?: string; en?: string }) {
  const zh = o.zh ?? `须为 ${o.min}～${o.max} 的整数（十进制数字）`;
  const en = o.en ?? `must be a whole number ${o.min}..${o.max} in decimal digits`;
  return z.preprocess(
    (v, ctx) => {
      // a repeated query parameter (?id=1&id=2) arrives as an array: refused, never joined
      if (typeof v !== 'string' || !DECIMAL.test(v) || v.length > 11 || Number(v) < o.min || Number(v) > o.max) {
        refuse(ctx, zh, en);
        return z.NEVER;
      }
      return Number(v);
    },
    z.number().int().min(o.min).max(o.max),
  );
}

/** An id in a path or query string: decimal digits, 1 … 2147483647. */
export const idText = intText({ min: 1, max: INT_MAX, zh: `编号须为 1～${INT_MAX} 的整数（十进制数字）`, en: `an id is a whole number 1..${INT_MAX} in decimal digits` });

/** Path parameters `{ id }`. */
export const idParams = z.object({ id: idText });

// ───────────────────────────── dates and instants ─────────────────────────────

/** A real calendar date 'YYYY-MM-DD' of YEAR_MIN–YEAR_MAX (2026-02-30 and 9999-12-31 are not). */
export function isSupportedDate(s: unknown): s is LocalDate {
  if (!isLocalDate(s)) return false;
  const y = Number(s.slice(0, 4));
  return y >= YEAR_MIN && y <= YEAR_MAX;
}

const INSTANT_MIN = Date.UTC(YEAR_MIN, 0, 1);
const INSTANT_END = Date.UTC(YEAR_MAX + 1, 0, 1);

/** An instant in YEAR_MIN–YEAR_MAX (UTC). */
export function isSupportedInstant(d: Date): boolean {
  const t = d.getTime();
  return Number.isFinite(t) && t >= INSTANT_MIN && t < INSTANT_END;
}

const DATE_ZH = `须为 ${YEAR_MIN}–${YEAR_MAX} 年间的有效日期（YYYY-MM-DD）`;
const DATE_EN = `must be a real calendar date YYYY-MM-DD of ${YEAR_MIN}–${YEAR_MAX}`;

/** A local date 'YYYY-MM-DD': a real calendar date of 2000–2099. */
export const localDate = z
  .string()
  .meta({ format: 'date', pattern: '^\\d{4}-\\d{2}-\\d{2}$' })
  .superRefine((s, ctx) => {
    if (!isSupportedDate(s)) refuse(ctx, DATE_ZH, DATE_EN);
  });

const ISO_INSTANT = z.iso.datetime({ offset: true });
const INSTANT_ZH = `须为 ${YEAR_MIN}–${YEAR_MAX} 年间带时区的 ISO 8601 时间，如 2026-12-07T08:00:00+08:00`;
const INSTANT_EN = `must be an ISO 8601 instant with an offset in ${YEAR_MIN}–${YEAR_MAX}, e.g. 2026-12-07T08:00:00+08:00`;

/** An ISO 8601 instant with an offset (Z or ±hh:mm) in 2000–2099, kept as the text. */
export const instantText = z
  .string()
  .meta({ format: 'date-time' })
  .superRefine((s, ctx) => {
    if (!ISO_INSTANT.safeParse(s).success || !isSupportedInstant(new Date(s))) refuse(ctx, INSTANT_ZH, INSTANT_EN);
  });

/** An ISO 8601 instant with an offset in 2000–2099, as a Date. */
export const instant = instantText.transform((s) => new Date(s));

/** Either a local date 'YYYY-MM-DD' or an ISO instant (e.g. when a hazard was found), 2000–2099; kept as the text. */
export const dateOrInstantText = z
  .string()
  .superRefine((s, ctx) => {
    const ok = /^\d{4}-\d{2}-\d{2}$/.test(s) ? isSupportedDate(s) : ISO_INSTANT.safeParse(s).success && isSupportedInstant(new Date(s));
    if (!ok) refuse(ctx, `须为 ${YEAR_MIN}–${YEAR_MAX} 年间的有效日期（YYYY-MM-DD）或带时区的 ISO 8601 时间`, `must be a date YYYY-MM-DD or an ISO 8601 instant with an offset, in ${YEAR_MIN}–${YEAR_MAX}`);
  });

// ───────────────────────────── free text ─────────────────────────────

interface TextOptions {
  /** LF and TAB allowed (descriptions, notes, comments); default: one line (names) */
  multiline?: boolean;
}

interface RequiredTextOptions extends TextOptions {
  /**
   * 'refuse' (default): blank is a 400 invalid_input here. 'service': blank is passed on as '' for
   * the service to refuse with its own code and words (e.g. note_required 请填写处置说明) — only for
   * fields whose service checks it.
   */
  blank?: 'refuse' | 'service';
}

type Ctx = Parameters<typeof refuse>[0];

/** cleanText as a zod step: the cleaned value, '' when blank, or NEVER after a refusal. */
function clean(s: string, ctx: Ctx, max: number, o: TextOptions): string {
  const r = cleanText(s, { max, multiline: o.multiline });
  if (r.ok) return r.value;
  refuse(ctx, r.zh, r.en);
  return z.NEVER;
}

/**
 * Required free text (cleanText): trimmed, no control characters (LF/TAB only when multiline),
 * not blank — a value of only spaces or zero-width characters (U+200B, U+FEFF…) is refused —,
 * at most `max` characters (code points, not UTF-16 units).
 */
export function text(max: number, o: RequiredTextOptions = {}) {
  return z
    .string()
    .meta({ minLength: 1, maxLength: max })
    .transform((s, ctx): string => {
      const v = clean(s, ctx, max, o);
      if (v === '' && o.blank !== 'service') {
        refuse(ctx, '不能为空', 'is required (blank or only invisible characters)');
        return z.NEVER;
      }
      return v;
    });
}

/**
 * Optional free text: as `text`, but absent, empty or blank (only spaces or invisible characters)
 * gives undefined — nothing is stored.
 */
export function optionalText(max: number, o: TextOptions = {}) {
  return z
    .string()
    .meta({ maxLength: max })
    .transform((s, ctx): string | undefined => clean(s, ctx, max, o) || undefined)
    .optional();
}
