/**
 * CheckTask definition → dated instance windows (排查任务实例), pure and deterministic.
 *
 * Source: domain.md (CheckTask) and the national 隐患排查任务 interface fields `checkCycle`,
 * `checkCycleUnit` [小时, 天, 月, 年] (no week: weekly = 7 天, quarterly = 3 月), `taskStartTime`,
 * `workStartTime`/`workEndTime` (hourly tasks), `workDayType` [0 every day, 1 statutory working
 * days, 2 non-working days]; design.md "Data and time": everything in the enterprise's zone.
 *
 * Rules (all in the enterprise's IANA zone `tz`; a window is [startAt, endAt)):
 *  - 小时, cycle N: on each qualifying local day D (D ≥ the local date of taskStartTime) slots start
 *    at workStartTime (default 00:00) and then every N hours of LOCAL CLOCK; slot = [t, min(t+N h,
 *    window end)). Slots never cross the window end, so a cycle that does not divide the window
 *    leaves a shorter last slot (3 h over 08:00–20:00 → 08, 11, 14, 17; 5 h → …, 18:00–20:00).
 *    The window defaults to 00:00–24:00 ('24:00' allowed as the end). A window whose end ≤ start
 *    crosses midnight (night shift 20:00–08:00) and belongs to the day it STARTS on (for
 *    workDayType too); equal start and end mean a full 24 h from the start. Slots that end at or
 *    before taskStartTime are dropped (a slot already running at taskStartTime is kept).
 *    Cycles above 24 h are rejected (use 天): a per-day window cannot express them.
 *  - 天, cycle N: periods [d, d+N days) from 00:00 of taskStartTime's local date (the time of day
 *    of taskStartTime does not shift the grid). Weekly = 7 天 anchored on that weekday.
 *  - 月, cycle N: period k starts at anchor + k·N months, computed from the anchor each time (not
 *    cumulatively) and clamped to the month's last day: anchor 01-31 → 02-28/29 → 03-31 → 04-30;
 *    period k = [start_k, start_{k+1}). Quarterly = 3 月.
 *  - 年, cycle N: the same in years (anchor Feb 29 → Feb 28 in common years, Feb 29 again in leap
 *    years).
 *  - No instance before the anchor period (k ≥ 0).
 *  - workDayType 1/2 (via `WorkdayCalendar`, e.g. the Chinese statutory calendar with 调休): a
 *    天/月/年 period is trimmed to its qualifying days — start = 00:00 of the first qualifying day,
 *    end = 24:00 of the last one (non-qualifying days in between stay inside); a period with no
 *    qualifying day yields no instance. Hourly: only the windows of qualifying days.
 *
 * DST (zones like Europe/Berlin, America/New_York; Asia/Shanghai has none): slot and period
 * boundaries are LOCAL wall times converted with the "compatible" rule of ./time.ts. A boundary
 * in the skipped hour moves forward by the gap, so the slot spanning it is one hour shorter in
 * real time (Berlin 2026-03-29, 2 h grid: 00:00–02:00 lasts 2 h, the "02:00–04:00" slot starts at
 * 03:00 CEST and lasts 1 h); a slot lying wholly inside the skipped hour (1 h grid, 02:00–03:00)
 * is empty and not produced. A repeated wall time takes its first occurrence, so the slot holding
 * the repeated hour is one hour longer (Berlin 2026-10-25, 02:00–04:00 lasts 3 h) and nothing is
 * produced twice. Days are 23 h / 25 h long on those dates.
 *
 * Cost: the caller (the generator, every minute, thousands of tasks, ~2-day look-ahead) gets work
 * proportional to the queried range, never to the task's age: the first relevant period index is
 * computed arithmetically (day/month difference), and hourly tasks only visit the days around
 * [from, to). `cycleLoopCounter` counts loop steps so tests can assert this structurally.
 */
import type { WorkdayCalendar } from './calendar';
import {
  addLocalDays,
  addLocalMonths,
  assertTimeZone,
  localDateMinutes,
  localDateOf,
  localDayDiff,
  localMidnight,
  localMonthIndexDiff,
  parseHhmm,
  weekdayOf,
  type LocalDate,
} from './time';

/** National `checkCycleUnit` values, stored as-is. */
export type CycleUnit = '小时' | '天' | '月' | '年';
/** 0 every day, 1 statutory working days (incl. 调休 make-up days), 2 non-working days. */
export type WorkDayType = 0 | 1 | 2;

/** The scheduling part of a CheckTask. */
export interface TaskSchedule {
  /** Integer > 0: how many `checkCycleUnit`s per instance. */
  checkCycle: number;
  checkCycleUnit: CycleUnit;
  /** Instant; its LOCAL date (in the enterprise zone) anchors day/month/year periods. */
  taskStartTime: Date;
  /** 'HH:mm' start of the daily work window, hourly tasks only (default '00:00'). */
  workStartTime?: string | null;
  /** 'HH:mm' end of the daily work window, hourly tasks only ('24:00' allowed; default '24:00'). */
  workEndTime?: string | null;
  workDayType: WorkDayType;
}

/** One dated occurrence, [startAt, endAt) as UTC instants. */
export interface InstanceWindow {
  startAt: Date;
  endAt: Date;
}

/** The units, in the national interface's spelling. */
export const CYCLE_UNITS: readonly CycleUnit[] = ['小时', '天', '月', '年'];

/**
 * Upper bounds per unit. Not from the regulation: they keep date arithmetic in range and catch
 * unit mix-ups (an "8760 小时" task is a yearly task entered in the wrong unit).
 */
export const MAX_CHECK_CYCLE: Readonly<Record<CycleUnit, number>> = { 小时: 24, 天: 3660, 月: 1200, 年: 100 };

/**
 * Loop-step counter for tests and benchmarks (periods, days and slots visited). Monotonic;
 * reset it yourself (`cycleLoopCounter.count = 0`). Not used for any decision.
 */
export const cycleLoopCounter = { count: 0 };

/**
 * Problems with a schedule as human-readable strings (中文 / English), [] when valid.
 * Checks: checkCycle integer in 1..MAX_CHECK_CYCLE[unit]; unit is one of 小时/天/月/年;
 * taskStartTime a valid Date; workDayType 0/1/2; workStartTime 'HH:mm' (00:00–23:59) and
 * workEndTime 'HH:mm' or '24:00', only on 小时 tasks.
 */
export function validateSchedule(s: TaskSchedule): string[] {
  const problems: string[] = [];
  const unitOk = (CYCLE_UNITS as readonly unknown[]).includes(s.checkCycleUnit);
  if (!unitOk) {
    problems.push(`排查周期单位无效（应为 小时/天/月/年）/ invalid checkCycleUnit ${JSON.stringify(s.checkCycleUnit)} (expected 小时, 天, 月 or 年)`);
  }
  if (typeof s.checkCycle !== 'number' || !Number.isInteger(s.checkCycle) || s.checkCycle <= 0) {
    problems.push(`排查周期必须是正整数 / checkCycle must be a positive integer, got ${String(s.checkCycle)}`);
  } else if (unitOk && s.checkCycle > MAX_CHECK_CYCLE[s.checkCycleUnit]) {
    const max = MAX_CHECK_CYCLE[s.checkCycleUnit];
    const hint = s.checkCycleUnit === '小时' ? '；超过 24 小时请用“天” / use 天 for cycles over 24 h' : '';
    problems.push(`排查周期过大（${s.checkCycleUnit}最多 ${max}）/ checkCycle too large for ${s.checkCycleUnit} (max ${max}), got ${s.checkCycle}${hint}`);
  }
  if (!(s.taskStartTime instanceof Date) || Number.isNaN(s.taskStartTime.getTime())) {
    problems.push('任务开始时间无效 / taskStartTime must be a valid Date');
  }
  if (s.workDayType !== 0 && s.workDayType !== 1 && s.workDayType !== 2) {
    problems.push(`工作日类型无效（应为 0/1/2）/ workDayType must be 0, 1 or 2, got ${String(s.workDayType)}`);
  }
  const hasStart = s.workStartTime !== undefined && s.workStartTime !== null && s.workStartTime !== '';
  const hasEnd = s.workEndTime !== undefined && s.workEndTime !== null && s.workEndTime !== '';
  if ((hasStart || hasEnd) && unitOk && s.checkCycleUnit !== '小时') {
    problems.push(`作业时段只适用于按小时排查的任务 / workStartTime/workEndTime apply to hourly (小时) tasks only, not ${s.checkCycleUnit}`);
  }
  if (hasStart && !isHhmm(s.workStartTime, false)) {
    problems.push(`作业开始时间格式应为 HH:mm（00:00–23:59）/ workStartTime must be HH:mm between 00:00 and 23:59, got ${JSON.stringify(s.workStartTime)}`);
  }
  if (hasEnd && !isHhmm(s.workEndTime, true)) {
    problems.push(`作业结束时间格式应为 HH:mm（00:00–24:00）/ workEndTime must be HH:mm between 00:00 and 24:00, got ${JSON.stringify(s.workEndTime)}`);
  }
  return problems;
}

/**
 * Every instance window of schedule `s` in zone `tz` that overlaps [from, to) — i.e. endAt > from
 * and startAt < to — in ascending order (by startAt; windows of one task never overlap).
 * Deterministic and independent of the host TZ.
 *
 * @param s    the task's schedule (see TaskSchedule)
 * @param tz   the enterprise's IANA zone, e.g. 'Asia/Shanghai'
 * @param cal  working-day calendar; consulted only when workDayType ≠ 0
 * @param from start of the query range (instant, inclusive)
 * @param to   end of the query range (instant, exclusive); to ≤ from → []
 * @throws RangeError when the schedule is invalid (validateSchedule), the zone unknown, or
 *         from/to are not valid Dates.
 */
export function instancesBetween(
  s: TaskSchedule,
  tz: string,
  cal: WorkdayCalendar,
  from: Date,
  to: Date,
): InstanceWindow[] {
  const problems = validateSchedule(s);
  if (problems.length > 0) throw new RangeError(`invalid task schedule: ${problems.join('; ')}`);
  assertTimeZone(tz);
  if (!(from instanceof Date) || !(to instanceof Date) || Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) {
    throw new RangeError('instancesBetween: from and to must be valid Dates');
  }
  if (to.getTime() <= from.getTime()) return [];

  const qualifies = qualifier(s.workDayType, cal);
  if (s.checkCycleUnit === '小时') return hourly(s, tz, qualifies, from, to);
  return periodic(s, tz, qualifies, from, to);
}

// ---------------------------------------------------------------------------------------------

type Qualifies = (date: LocalDate) => boolean;

function qualifier(type: WorkDayType, cal: WorkdayCalendar): Qualifies {
  switch (type) {
    case 0:
      return () => true;
    case 1:
      return (d) => cal.isWorkday(d);
    case 2:
      return (d) => !cal.isWorkday(d);
  }
}

function isHhmm(v: unknown, allow24: boolean): boolean {
  if (typeof v !== 'string') return false;
  try {
    parseHhmm(v, allow24);
    return true;
  } catch {
    return false;
  }
}

/** 小时: per-day work windows cut into N-hour slots on the local clock. */
function hourly(s: TaskSchedule, tz: string, qualifies: Qualifies, from: Date, to: Date): InstanceWindow[] {
  const stepMin = s.checkCycle * 60;
  const winStart = parseHhmm(s.workStartTime || '00:00', false);
  let winEnd = parseHhmm(s.workEndTime || '24:00', true);
  // End ≤ start: the window runs past midnight into the next day (night shift).
  if (winEnd <= winStart) winEnd += 1440;

  const anchor = localDateOf(s.taskStartTime, tz);
  const startMs = s.taskStartTime.getTime();
  const fromMs = from.getTime();
  const toMs = to.getTime();

  // Windows are at most 24 h long and begin on their own day, so the window of the day before
  // from's local date is the earliest that can still be open at `from`; the window of to's local
  // date is the last that can start before `to`. Days before the anchor have no slots.
  let day = localDateOf(from, tz);
  day = addLocalDays(day, -1);
  if (localDayDiff(day, anchor) < 0) day = anchor;
  const lastDay = localDateOf(to, tz);

  const out: InstanceWindow[] = [];
  for (; localDayDiff(day, lastDay) <= 0; day = addLocalDays(day, 1)) {
    cycleLoopCounter.count++;
    if (!qualifies(day)) continue;
    for (let m = winStart; m < winEnd; m += stepMin) {
      cycleLoopCounter.count++;
      const startAt = localDateMinutes(day, m, tz);
      if (startAt.getTime() >= toMs) break;
      const endAt = localDateMinutes(day, Math.min(m + stepMin, winEnd), tz);
      const endMs = endAt.getTime();
      // Empty when the whole slot lies in a skipped DST hour; drop slots finished before the
      // task started or before the query range.
      if (endMs <= startAt.getTime() || endMs <= startMs || endMs <= fromMs) continue;
      out.push({ startAt, endAt });
    }
  }
  return out;
}

/** 天/月/年: consecutive periods from the anchor date, optionally trimmed to qualifying days. */
function periodic(s: TaskSchedule, tz: string, qualifies: Qualifies, from: Date, to: Date): InstanceWindow[] {
  const anchor = localDateOf(s.taskStartTime, tz);
  const n = s.checkCycle;
  const periodStart: (k: number) => LocalDate =
    s.checkCycleUnit === '天'
      ? (k) => addLocalDays(anchor, k * n)
      : s.checkCycleUnit === '月'
        ? (k) => addLocalMonths(anchor, k * n)
        : (k) => addLocalMonths(anchor, k * n * 12);

  // Jump straight to the period holding from's local date: k0 = floor(elapsed units / N), then
  // step back once if month-end clamping put that period's start after `from` (anchor 31st,
  // from on Feb 15 → the period that began Jan 31).
  const fromDate = localDateOf(from, tz);
  let k: number;
  if (s.checkCycleUnit === '天') {
    k = Math.floor(localDayDiff(fromDate, anchor) / n);
  } else {
    const months = localMonthIndexDiff(fromDate, anchor);
    k = Math.floor(months / (s.checkCycleUnit === '月' ? n : n * 12));
    if (k > 0 && localDayDiff(periodStart(k), fromDate) > 0) k--;
  }
  if (k < 0) k = 0;

  const fromMs = from.getTime();
  const toMs = to.getTime();
  const out: InstanceWindow[] = [];
  let start = periodStart(k);
  for (;;) {
    cycleLoopCounter.count++;
    if (localMidnight(start, tz).getTime() >= toMs) break;
    const next = periodStart(k + 1);
    const w = trimmedPeriod(start, next, tz, qualifies);
    if (w && w.endAt.getTime() > fromMs && w.startAt.getTime() < toMs) out.push(w);
    k++;
    start = next;
  }
  return out;
}

/**
 * The window of period [start, end) (local dates, end exclusive) restricted to qualifying days:
 * 00:00 of the first qualifying day to 24:00 of the last one; null when no day qualifies.
 * Scans inwards from both ends, so a normal period costs a few lookups, not its length.
 */
function trimmedPeriod(start: LocalDate, end: LocalDate, tz: string, qualifies: Qualifies): InstanceWindow | null {
  let first: LocalDate | null = null;
  for (let d = start; localDayDiff(d, end) < 0; d = addLocalDays(d, 1)) {
    cycleLoopCounter.count++;
    if (qualifies(d)) {
      first = d;
      break;
    }
  }
  if (first === null) return null;
  let last = addLocalDays(end, -1);
  while (!qualifies(last)) {
    cycleLoopCounter.count++;
    last = addLocalDays(last, -1);
  }
  return { startAt: localMidnight(first, tz), endAt: localMidnight(addLocalDays(last, 1), tz) };
}

/**
 * The default `taskStartTime` of a new task (demo loader, API and Excel import when none is
 * given): the start of the period containing `now`, in the enterprise's zone — 小时 and 天 → local
 * midnight of today; 天 with a cycle of whole weeks (7, 14…) → local midnight of this week's
 * Monday; 月 → the 1st of this month; 年 → 1 January. The periods are laid out from this anchor's
 * local date (see instancesBetween), so a weekly task runs Monday–Sunday and a monthly one by
 * calendar month.
 */
export function taskStartAnchor(unit: CycleUnit, cycle: number, now: Date, tz: string): Date {
  const today = localDateOf(now, tz);
  switch (unit) {
    case '小时':
      return localMidnight(today, tz);
    case '天':
      return localMidnight(cycle % 7 === 0 ? addLocalDays(today, -((weekdayOf(today) + 6) % 7)) : today, tz);
    case '月':
      return localMidnight(`${today.slice(0, 7)}-01`, tz);
    case '年':
      return localMidnight(`${today.slice(0, 4)}-01-01`, tz);
  }
}
