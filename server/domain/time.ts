/**
 * Local-time helpers for an enterprise's time zone (design.md, "Data and time").
 *
 * Every instant is a UTC `Date`; calendar things (a task's day, a month period, a date-only
 * deadline) live in the enterprise's IANA zone (default Asia/Shanghai). Nothing here reads the
 * host's TZ: results are identical under TZ=UTC, Asia/Shanghai, America/Los_Angeles…
 *
 * dayjs is extended with the utc + timezone plugins ONCE, here; the rest of the code base imports
 * `dayjs` from this module (formatting, parsing input at the edges).
 *
 * Why the zone conversions below do not go through `dayjs.tz` (measured with dayjs 1.11.23):
 *  - `dayjs.tz('2026-10-25 02:30', 'Europe/Berlin')` resolves a repeated (fall-back) wall time
 *    with the zone's offset *at the moment the code runs* as its guess: the same call gives
 *    00:30Z in summer and 01:30Z in winter — not deterministic.
 *  - `dayjs(x).tz(tz)` re-parses a locale string in the *host* zone; `.startOf('day')` and
 *    `.add(1, 'day')` on a tz instance then give different instants under different host TZs
 *    (e.g. startOf('day') on 2026-03-29 Berlin = 23:00Z under TZ=UTC but 22:00Z under
 *    TZ=America/Los_Angeles; `.add(1,'day')` across the Berlin DST change is off by one hour
 *    unless the host itself is in Berlin).
 * So wall-time ⇄ instant conversion is done with `Intl.DateTimeFormat` (host-independent, full ICU
 * in Node 20) and calendar arithmetic on plain date strings is done with UTC day numbers.
 *
 * Conventions:
 *  - a *local date* is a string 'YYYY-MM-DD' (years 1000–9999), a *wall time* 'HH:mm';
 *  - wall time → instant follows RFC 5545 / Temporal "compatible" disambiguation:
 *    a wall time in a DST gap (skipped hour) moves forward by the gap (Berlin 2026-03-29 02:30 →
 *    03:30 CEST = 01:30Z); a repeated wall time (fall back) takes the EARLIER instant
 *    (Berlin 2026-10-25 02:30 → 02:30 CEST = 00:30Z).
 */
import dayjs from 'dayjs';
import utc from 'dayjs/plugin/utc';
import timezone from 'dayjs/plugin/timezone';

dayjs.extend(utc);
dayjs.extend(timezone);

export { dayjs };
export default dayjs;

/** A calendar date in some zone, 'YYYY-MM-DD'. Plain string alias, for documentation. */
export type LocalDate = string;

const MS_PER_MINUTE = 60_000;
const MS_PER_DAY = 86_400_000;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const HHMM_RE = /^(\d{2}):(\d{2})$/;

// ---------------------------------------------------------------------------------------------
// Small bounded memo. The generator calls these helpers for thousands of tasks per minute that
// share a handful of zones and days, and Intl formatting costs ~6 µs a call; FIFO eviction keeps
// memory bounded without LRU bookkeeping.
class BoundedMemo<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(key: string, compute: () => V): V {
    const hit = this.map.get(key);
    if (hit !== undefined) return hit;
    const value = compute();
    if (this.map.size >= this.max) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
    this.map.set(key, value);
    return value;
  }
}

// ---------------------------------------------------------------------------------------------
// Plain calendar arithmetic (no zone involved).

/** True when `s` is a real calendar date 'YYYY-MM-DD' (years 1000–9999; 2023-02-29 is false). */
export function isLocalDate(s: unknown): s is LocalDate {
  if (typeof s !== 'string') return false;
  const m = DATE_RE.exec(s);
  if (!m) return false;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (y < 1000 || mo < 1 || mo > 12 || d < 1) return false;
  return d <= daysInMonth(y, mo);
}

/** Split a local date into numbers (month 1–12). Throws RangeError on anything but a real date. */
export function parseLocalDate(date: LocalDate): { year: number; month: number; day: number } {
  if (!isLocalDate(date)) throw new RangeError(`invalid local date (expected YYYY-MM-DD): ${String(date)}`);
  return { year: Number(date.slice(0, 4)), month: Number(date.slice(5, 7)), day: Number(date.slice(8, 10)) };
}

/** Number of days in month `month` (1–12) of `year` (proleptic Gregorian). */
export function daysInMonth(year: number, month: number): number {
  // Day 0 of the next month is the last day of this one; UTC so the host zone cannot interfere.
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Days since 1970-01-01 of a local date (an integer; negative before 1970). */
export function epochDayOf(date: LocalDate): number {
  const { year, month, day } = parseLocalDate(date);
  return Date.UTC(year, month - 1, day) / MS_PER_DAY;
}

/** Inverse of `epochDayOf`: the local date `n` days after 1970-01-01. */
export function localDateFromEpochDay(n: number): LocalDate {
  if (!Number.isInteger(n)) throw new RangeError(`epoch day must be an integer: ${n}`);
  const d = new Date(n * MS_PER_DAY);
  return formatYmd(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate());
}

/** `date` plus `n` calendar days (n may be negative). Zone-free: a local day is a calendar day. */
export function addLocalDays(date: LocalDate, n: number): LocalDate {
  if (!Number.isInteger(n)) throw new RangeError(`day count must be an integer: ${n}`);
  return localDateFromEpochDay(epochDayOf(date) + n);
}

/**
 * Whole calendar days from `b` to `a`, i.e. `a − b` (same sign convention as dayjs' `a.diff(b)`):
 * localDayDiff('2024-10-08', '2024-10-01') === 7. Zone-free, so DST days count as one day.
 */
export function localDayDiff(a: LocalDate, b: LocalDate): number {
  return epochDayOf(a) - epochDayOf(b);
}

/**
 * `date` plus `n` calendar months, clamped to the target month's last day
 * (2026-01-31 + 1 → 2026-02-28; 2024-02-29 + 12 → 2025-02-28). Always compute from a fixed anchor
 * (anchor + k·N), never cumulatively, or a 31st drifts to the 28th for good.
 */
export function addLocalMonths(date: LocalDate, n: number): LocalDate {
  if (!Number.isInteger(n)) throw new RangeError(`month count must be an integer: ${n}`);
  const { year, month, day } = parseLocalDate(date);
  const total = year * 12 + (month - 1) + n;
  const y = Math.floor(total / 12);
  const m = total - y * 12 + 1;
  if (y < 1000 || y > 9999) throw new RangeError(`date out of range: ${date} + ${n} months`);
  return formatYmd(y, m, Math.min(day, daysInMonth(y, m)));
}

/** Whole months from `b` to `a` by calendar month index only (the day of month is ignored). */
export function localMonthIndexDiff(a: LocalDate, b: LocalDate): number {
  const pa = parseLocalDate(a);
  const pb = parseLocalDate(b);
  return (pa.year - pb.year) * 12 + (pa.month - pb.month);
}

/** Day of week of a local date: 0 = Sunday … 6 = Saturday (zone-free). */
export function weekdayOf(date: LocalDate): number {
  // 1970-01-01 was a Thursday (4).
  return (((epochDayOf(date) + 4) % 7) + 7) % 7;
}

/**
 * Minutes after local midnight for a wall time 'HH:mm' (00:00–23:59 → 0–1439).
 * With `allow24`, '24:00' is accepted and means 1440 (the next midnight, used as a window end).
 * Throws RangeError otherwise.
 */
export function parseHhmm(hhmm: string, allow24 = false): number {
  const m = typeof hhmm === 'string' ? HHMM_RE.exec(hhmm) : null;
  if (m) {
    const h = Number(m[1]);
    const mi = Number(m[2]);
    if (h < 24 && mi < 60) return h * 60 + mi;
    if (allow24 && h === 24 && mi === 0) return 1440;
  }
  throw new RangeError(`invalid time of day (expected HH:mm${allow24 ? " or '24:00'" : ''}): ${String(hhmm)}`);
}

// ---------------------------------------------------------------------------------------------
// Zone conversions (Intl-based, see module comment).

const formatterMemo = new BoundedMemo<Intl.DateTimeFormat>(256);

function formatterFor(tz: string): Intl.DateTimeFormat {
  return formatterMemo.get(tz, () => {
    if (typeof tz !== 'string' || tz === '') throw new RangeError(`invalid time zone: ${String(tz)}`);
    // The constructor throws RangeError for an unknown zone, which is what we want callers to see.
    // hourCycle h23: some ICU versions print midnight as '24' with hour12:false (nodejs#33027).
    return new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
  });
}

/** Throws RangeError unless `tz` is an IANA zone name this runtime knows (e.g. 'Asia/Shanghai'). */
export function assertTimeZone(tz: string): void {
  formatterFor(tz);
}

/** The wall clock of `ms` in `tz`, expressed as if it were UTC (ms since epoch), seconds precision. */
function wallMsAt(ms: number, tz: string): number {
  const parts = formatterFor(tz).formatToParts(new Date(ms));
  let y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  for (const p of parts) {
    switch (p.type) {
      case 'year': y = Number(p.value); break;
      case 'month': mo = Number(p.value); break;
      case 'day': d = Number(p.value); break;
      case 'hour': h = Number(p.value) % 24; break;
      case 'minute': mi = Number(p.value); break;
      case 'second': s = Number(p.value); break;
      default: break;
    }
  }
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

/**
 * UTC offset of `tz` at instant `ms`, in minutes east of UTC (Asia/Shanghai → 480,
 * America/New_York in winter → −300). Sub-minute historical offsets are rounded.
 */
export function zoneOffsetMinutes(instant: Date | number, tz: string): number {
  const ms = typeof instant === 'number' ? instant : instant.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('invalid instant');
  const whole = Math.floor(ms / 1000) * 1000; // the formatter drops milliseconds
  return Math.round((wallMsAt(whole, tz) - whole) / MS_PER_MINUTE);
}

/**
 * Wall time (as if UTC, ms) → instant in `tz`, "compatible" disambiguation: gap → shifted forward
 * by the gap length; overlap → earlier instant. Assumes at most one offset change within ±1 day,
 * which holds for every zone in tzdata.
 */
function wallToInstantMs(wallMs: number, tz: string): number {
  const before = zoneOffsetMinutes(wallMs - MS_PER_DAY, tz);
  const after = zoneOffsetMinutes(wallMs + MS_PER_DAY, tz);
  if (before === after) {
    const t = wallMs - before * MS_PER_MINUTE;
    // Usually right at once; re-check in case the offset differs right here (e.g. a zone that
    // changed its standard offset twice within two days — absent from tzdata, but cheap to verify).
    if (zoneOffsetMinutes(t, tz) === before) return t;
  }
  const candidates: number[] = [];
  for (const off of before === after ? [before] : [before, after]) {
    const t = wallMs - off * MS_PER_MINUTE;
    if (zoneOffsetMinutes(t, tz) === off) candidates.push(t);
  }
  if (candidates.length > 0) return Math.min(...candidates); // overlap: the earlier instant
  // Gap: read the wall time with the offset in force before the change, which lands the same
  // distance past the change as the wall time is past its start (02:30 in a 02→03 gap → 03:30).
  return wallMs - before * MS_PER_MINUTE;
}

interface DayInfo {
  /** Wall-clock ms (as if UTC) of this local date's 00:00. */
  wallStart: number;
  /** Offset valid for the whole local day, or null when the offset changes during the day. */
  uniformOffset: number | null;
}

const dayMemo = new BoundedMemo<DayInfo>(50_000);

function dayInfo(date: LocalDate, tz: string): DayInfo {
  return dayMemo.get(`${tz}|${date}`, () => {
    const wallStart = epochDayOf(date) * MS_PER_DAY;
    const start = wallToInstantMs(wallStart, tz);
    const next = wallToInstantMs(wallStart + MS_PER_DAY, tz);
    const o1 = zoneOffsetMinutes(start, tz);
    const o2 = zoneOffsetMinutes(next - 1, tz);
    // Same offset at both ends of the day (and the day really starts at 00:00) → no change inside,
    // so any wall time of the day converts by plain subtraction (the fast path).
    const uniform = o1 === o2 && start === wallStart - o1 * MS_PER_MINUTE;
    return { wallStart, uniformOffset: uniform ? o1 : null };
  });
}

/**
 * The instant of wall time `minutes` after 00:00 of local `date` in `tz`.
 * `minutes` may exceed 1440 (rolls into the following days: 20:00–08:00 night shift ends at
 * minute 1920 of the day it starts) or be negative. DST: see the module comment.
 */
export function localDateMinutes(date: LocalDate, minutes: number, tz: string): Date {
  if (!Number.isInteger(minutes)) throw new RangeError(`minutes must be an integer: ${minutes}`);
  assertTimeZone(tz);
  const dayOffset = Math.floor(minutes / 1440);
  const d = dayOffset === 0 ? date : addLocalDays(date, dayOffset);
  const rest = minutes - dayOffset * 1440;
  const info = dayInfo(d, tz);
  const wall = info.wallStart + rest * MS_PER_MINUTE;
  if (info.uniformOffset !== null) return new Date(wall - info.uniformOffset * MS_PER_MINUTE);
  return new Date(wallToInstantMs(wall, tz));
}

const localDateMemo = new BoundedMemo<LocalDate>(10_000);

/**
 * The local calendar date ('YYYY-MM-DD') of `instant` in `tz`.
 * localDateOf(2024-12-31T16:00:00Z, 'Asia/Shanghai') === '2025-01-01'.
 */
export function localDateOf(instant: Date, tz: string): LocalDate {
  const ms = instant.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('invalid instant');
  return localDateMemo.get(`${tz}|${ms}`, () => {
    const wall = new Date(wallMsAt(Math.floor(ms / 1000) * 1000, tz));
    return formatYmd(wall.getUTCFullYear(), wall.getUTCMonth() + 1, wall.getUTCDate());
  });
}

/**
 * The instant local `date` begins in `tz` (its 00:00; in a zone whose DST change skips midnight,
 * the first instant of that date). localMidnight('2025-01-01', 'Asia/Shanghai') = 2024-12-31T16:00Z.
 */
export function localMidnight(date: LocalDate, tz: string): Date {
  return localDateMinutes(date, 0, tz);
}

/**
 * The instant local `date` ends in `tz`, i.e. the next local midnight (exclusive end). Use for
 * date-only deadlines: deadline '2024-12-31' in Asia/Shanghai ends at 2024-12-31T16:00:00.000Z.
 */
export function endOfLocalDay(date: LocalDate, tz: string): Date {
  return localMidnight(addLocalDays(date, 1), tz);
}

/**
 * The instant of wall time `hhmm` ('HH:mm'; '24:00' = the next local midnight) on local `date` in
 * `tz`. A skipped wall time moves forward by the gap, a repeated one takes the earlier instant.
 */
export function localDateTime(date: LocalDate, hhmm: string, tz: string): Date {
  return localDateMinutes(date, parseHhmm(hhmm, true), tz);
}

function formatYmd(y: number, m: number, d: number): LocalDate {
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}
