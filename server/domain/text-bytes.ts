/**
 * Byte- and character-exact text helpers for chat platform limits (protocols.md §6).
 *
 * WeCom counts its limits in **UTF-8 bytes** (a CJK character is 3 bytes, most emoji 4 bytes while
 * JS `.length` is 2), DingTalk and WeChat subscribe messages count **characters**; we count those as
 * Unicode code points. Every cut here falls on a code-point boundary: never inside a UTF-8 sequence
 * and never between the two halves of a surrogate pair — naive byte splitting produced garbled
 * characters at chunk boundaries (https://github.com/asd920/Auto-jd/pull/49; fix:
 * https://github.com/tuangtalk/chatgpt-wecom/issues/34).
 *
 * Cuts are per code point, not per grapheme: a ZWJ emoji sequence (👨‍👩‍👧) or a flag may be cut
 * between its code points; the result is still valid UTF-8.
 *
 * Pure: no I/O.
 */

const DEFAULT_ELLIPSIS = '…';

/** UTF-8 byte length of one code point (a lone surrogate is sent as U+FFFD: 3 bytes, as Buffer does). */
function cpBytes(cp: number): number {
  if (cp < 0x80) return 1;
  if (cp < 0x800) return 2;
  if (cp < 0x10000) return 3;
  return 4;
}

function assertLimit(name: string, n: number, min = 0): void {
  if (!Number.isInteger(n) || n < min) throw new RangeError(`${name} must be an integer ≥ ${min}, got ${n}`);
}

/**
 * Length of `s` in **UTF-8 bytes** (what WeCom's limits count: text 2048, markdown 4096 bytes —
 * https://developer.work.weixin.qq.com/document/path/99110). Lone surrogates count 3 bytes (U+FFFD).
 */
export function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/**
 * Number of **characters** (Unicode code points) in `s`: the unit of DingTalk and WeChat character
 * limits (protocols.md §6). An emoji such as 😀 is 1 character (JS `.length` 2).
 */
export function charLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++, n++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
  }
  return n;
}

/** Longest code-point prefix of `s` whose UTF-8 encoding is ≤ `maxBytes`; returns its length in UTF-16 units. */
function prefixEndWithinBytes(s: string, from: number, maxBytes: number): number {
  let bytes = 0;
  let i = from;
  while (i < s.length) {
    const cp = s.codePointAt(i) as number;
    const b = cpBytes(cp);
    if (bytes + b > maxBytes) break;
    bytes += b;
    i += cp > 0xffff ? 2 : 1;
  }
  return i;
}

/**
 * Shortens `s` to at most `maxBytes` **UTF-8 bytes**, ellipsis included.
 *
 * - `s` that already fits is returned unchanged (no ellipsis).
 * - Otherwise the longest code-point prefix that leaves room for `ellipsis` is kept and `ellipsis`
 *   appended; if even the ellipsis does not fit, the longest prefix of `s` without ellipsis.
 * - Never cuts inside a UTF-8 character or a surrogate pair (protocols.md §6,
 *   https://developer.work.weixin.qq.com/document/path/99110 for the byte limits).
 *
 * @param maxBytes limit in UTF-8 bytes (integer ≥ 0)
 * @throws RangeError when `maxBytes` is negative or not an integer
 */
export function truncateUtf8(s: string, maxBytes: number, ellipsis: string = DEFAULT_ELLIPSIS): string {
  assertLimit('maxBytes', maxBytes);
  if (utf8Length(s) <= maxBytes) return s;
  const budget = maxBytes - utf8Length(ellipsis);
  if (budget < 0) return s.slice(0, prefixEndWithinBytes(s, 0, maxBytes));
  return s.slice(0, prefixEndWithinBytes(s, 0, budget)) + ellipsis;
}

/**
 * Splits `s` into chunks of at most `maxBytes` **UTF-8 bytes** each, for sending a long text as
 * several messages (WeCom limits are bytes: https://developer.work.weixin.qq.com/document/path/99110).
 *
 * - Prefers to cut right after the last line break (`\n`, so `\r\n` stays together) inside the
 *   window; a line longer than the window is cut at the last code point that fits.
 * - `chunks.join('') === s`; no chunk is empty; no character or surrogate pair is ever split.
 * - `''` gives `[]`.
 *
 * @param maxBytes limit per chunk in UTF-8 bytes; at least 4 so that any character fits
 * @throws RangeError when `maxBytes` < 4 or not an integer
 */
export function splitUtf8(s: string, maxBytes: number): string[] {
  assertLimit('maxBytes', maxBytes, 4);
  const chunks: string[] = [];
  let start = 0;
  while (start < s.length) {
    let end = prefixEndWithinBytes(s, start, maxBytes);
    if (end < s.length) {
      const nl = s.lastIndexOf('\n', end - 1);
      if (nl >= start) end = nl + 1;
    }
    chunks.push(s.slice(start, end));
    start = end;
  }
  return chunks;
}

/**
 * Shortens `s` to at most `maxChars` **characters** (code points), ellipsis included — for
 * character limits such as DingTalk's and WeChat subscribe-message `thing` (≤ 20 characters)
 * (protocols.md §6; https://open.dingtalk.com/document/development/custom-robots-send-group-messages).
 *
 * `s` that fits is returned unchanged; if `maxChars` is smaller than the ellipsis, the first
 * `maxChars` characters are returned without it. Never splits a surrogate pair.
 *
 * @param maxChars limit in code points (integer ≥ 0)
 * @throws RangeError when `maxChars` is negative or not an integer
 */
export function truncateChars(s: string, maxChars: number, ellipsis: string = DEFAULT_ELLIPSIS): string {
  assertLimit('maxChars', maxChars);
  const cps = Array.from(s);
  if (cps.length <= maxChars) return s;
  const keep = maxChars - charLength(ellipsis);
  if (keep < 0) return cps.slice(0, maxChars).join('');
  return cps.slice(0, keep).join('') + ellipsis;
}

/** One line (or block) of a message for {@link fitUtf8}. */
export interface TextPart {
  /** the shrinkable text; rendered as `prefix + text + suffix` */
  text: string;
  /** markup kept intact when `text` is shortened, e.g. `**` around a bold title */
  prefix?: string;
  suffix?: string;
  /**
   * 0 (default) = essential, never dropped. Higher ranks are dropped first when the message is too
   * long; within one rank the later part goes first (parts are given in importance order).
   */
  dropRank?: number;
  /** may be shortened with {@link truncateUtf8} (instead of dropped whole, or when essential) */
  shrinkable?: boolean;
}

export interface FitOptions {
  /** between parts; default `'\n'` */
  separator?: string;
  /** appended as the last line whenever anything was dropped or shortened, e.g. a link to the full alert */
  overflowLine?: string;
  /** a part is only kept shortened when at least this many bytes of it fit; default 24 bytes */
  minPartBytes?: number;
}

export interface FitResult {
  text: string;
  /** true when something was dropped or shortened (and `overflowLine`, if any and if it fits, ends `text`) */
  shortened: boolean;
  /** number of parts dropped entirely */
  dropped: number;
}

const renderPart = (p: TextPart, text = p.text): string => `${p.prefix ?? ''}${text}${p.suffix ?? ''}`;

/**
 * Fits message parts into `maxBytes` **UTF-8 bytes** without ever rejecting for length and without
 * cutting inside a character (WeCom: text 2048 / markdown 4096 bytes,
 * https://developer.work.weixin.qq.com/document/path/99110; protocols.md §6):
 *
 * 1. everything fits → joined unchanged;
 * 2. otherwise `overflowLine` is appended and parts with `dropRank > 0` are dropped, highest rank
 *    first, later first within a rank, until the rest fits; the part whose removal made it fit is
 *    put back shortened (with `…`) when it is `shrinkable` and ≥ `minPartBytes` of it fit;
 * 3. still too long → essential `shrinkable` parts (e.g. the title) are shortened in order;
 * 4. still too long → the whole remaining text is cut with {@link truncateUtf8}, then `overflowLine`.
 *
 * The result is always ≤ `maxBytes` bytes.
 *
 * @param maxBytes limit in UTF-8 bytes (integer ≥ 0)
 */
export function fitUtf8(parts: TextPart[], maxBytes: number, options: FitOptions = {}): FitResult {
  assertLimit('maxBytes', maxBytes);
  const sep = options.separator ?? '\n';
  const minPart = options.minPartBytes ?? 24;
  const rendered = parts.map((p) => renderPart(p));
  const full = rendered.join(sep);
  if (utf8Length(full) <= maxBytes) return { text: full, shortened: false, dropped: 0 };

  let overflow = options.overflowLine;
  if (overflow !== undefined && utf8Length(overflow) > maxBytes) overflow = undefined;
  const sepBytes = utf8Length(sep);
  /** current text of each part; null = dropped */
  const kept: Array<string | null> = [...rendered];
  const render = (): string => {
    const body = kept.filter((t): t is string => t !== null);
    if (overflow !== undefined) body.push(overflow);
    return body.join(sep);
  };
  const fits = (): boolean => utf8Length(render()) <= maxBytes;
  const done = (text: string): FitResult => ({ text, shortened: true, dropped: kept.filter((t) => t === null).length });

  // 2. drop optional parts, least important first
  const order = parts
    .map((p, i) => ({ p, i, rank: p.dropRank ?? 0 }))
    .filter((x) => x.rank > 0)
    .sort((a, b) => b.rank - a.rank || b.i - a.i);
  for (const { p, i } of order) {
    kept[i] = null;
    if (!fits()) continue;
    if (p.shrinkable) {
      // adding one part back costs its bytes plus one separator
      const room = maxBytes - utf8Length(render()) - sepBytes - utf8Length(renderPart(p, ''));
      if (room >= minPart) kept[i] = renderPart(p, truncateUtf8(p.text, room));
    }
    return done(render());
  }

  // 3. shorten essential shrinkable parts
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    const current = kept[i];
    if (current === null || !p.shrinkable) continue;
    const room = maxBytes - (utf8Length(render()) - utf8Length(current)) - utf8Length(renderPart(p, ''));
    if (room < minPart) continue;
    kept[i] = renderPart(p, truncateUtf8(p.text, room));
    if (fits()) return done(render());
  }

  // 4. last resort: cut the remaining text, keep the overflow line at the end
  const body = kept.filter((t): t is string => t !== null).join(sep);
  if (overflow === undefined) return done(truncateUtf8(body, maxBytes));
  const room = maxBytes - sepBytes - utf8Length(overflow);
  if (room <= 0) return done(overflow);
  return done(`${truncateUtf8(body, room)}${sep}${overflow}`);
}
