/**
 * Working-day calendars for `workDayType` (domain.md, CheckTask: 1 = statutory working days,
 * 2 = non-working days).
 *
 * China: statutory holidays AND 调休 make-up working days (a Saturday/Sunday declared a working
 * day, e.g. 2024-09-29 and 2024-10-12 around 国庆 2024) come from the `chinese-days` data package.
 *
 * Why the package's JSON and not its functions: `chinese-days` 1.5.7 ships its data as
 * `dist/chinese-days.json` ({ holidays, workdays, inLieuDays }, keyed 'YYYY-MM-DD'; documented in
 * its README). Its function API (`isWorkday('2024-09-30')`) parses the date as UTC midnight and
 * then reads it with host-local getters, so under TZ=America/Los_Angeles it answers for the
 * previous day (2024-09-30, a Monday, comes back as a non-working day). Looking local-date
 * strings up in the data is exact under any host TZ.
 *
 * A year the package has no data for (2027 at the time of writing) is detected by the absence of
 * any holiday in that year — every published arrangement has at least 元旦 — and reads as plain
 * weekdays (Mon–Fri working), with `onMissingYear(year)` called once per year per calendar so the
 * caller can warn an admin; admin overrides fill the gap (stack-notes.md).
 */
import chineseDaysData from 'chinese-days/dist/chinese-days.json';
import { isLocalDate, weekdayOf, type LocalDate } from './time';

/** Answers whether a local date ('YYYY-MM-DD', in the enterprise's zone) is a working day. */
export interface WorkdayCalendar {
  isWorkday(localDate: LocalDate): boolean;
}

/** Options for `createChinaCalendar`. */
export interface ChinaCalendarOptions {
  /** Admin-entered days: date → true (working) / false (day off). Wins over the package data. */
  overrides?: Record<string, boolean>;
  /** Called once per calendar and year when a date of a year without holiday data is asked. */
  onMissingYear?: (year: number) => void;
}

interface HolidayData {
  /** 'YYYY-MM-DD' → "English,中文,days" for every statutory day off (incl. 调休 days off). */
  holidays: Record<string, string>;
  /** 'YYYY-MM-DD' → description for every 调休 make-up working day (a weekend day worked). */
  workdays: Record<string, string>;
}

const DATA: HolidayData = chineseDaysData as unknown as HolidayData;

/** Years with published arrangements, derived once from the data itself. */
const YEARS_WITH_DATA: ReadonlySet<number> = new Set(
  Object.keys(DATA.holidays).map((d) => Number(d.slice(0, 4))),
);

/** Plain Monday–Friday rule, used when no statutory data exists. */
export function isWeekdayWorkday(localDate: LocalDate): boolean {
  const wd = weekdayOf(localDate);
  return wd >= 1 && wd <= 5;
}

/** A calendar where Monday–Friday work and weekends are off (no holidays). For other countries/tests. */
export const weekdayCalendar: WorkdayCalendar = { isWorkday: isWeekdayWorkday };

/**
 * Build the Chinese statutory calendar.
 *
 * isWorkday(date) order: admin override for that date → package data (make-up working day → true,
 * statutory day off → false, else Mon–Fri) → for a year without data, Mon–Fri and a one-time
 * `onMissingYear(year)`. Throws RangeError on a malformed date (here or in `overrides`).
 * `hasDataFor(year)` tells whether the package knows that year's arrangement.
 */
export function createChinaCalendar(
  opts: ChinaCalendarOptions = {},
): WorkdayCalendar & { hasDataFor(year: number): boolean } {
  const overrides = new Map<string, boolean>();
  for (const [date, working] of Object.entries(opts.overrides ?? {})) {
    if (!isLocalDate(date)) throw new RangeError(`calendar override: invalid date ${date}`);
    if (typeof working !== 'boolean') throw new RangeError(`calendar override ${date}: expected true/false`);
    overrides.set(date, working);
  }
  const reported = new Set<number>();
  const onMissingYear = opts.onMissingYear;

  const hasDataFor = (year: number): boolean => YEARS_WITH_DATA.has(year);

  return {
    hasDataFor,
    isWorkday(localDate: LocalDate): boolean {
      if (!isLocalDate(localDate)) throw new RangeError(`invalid local date (expected YYYY-MM-DD): ${String(localDate)}`);
      const override = overrides.get(localDate);
      if (override !== undefined) return override;
      const year = Number(localDate.slice(0, 4));
      if (!hasDataFor(year)) {
        if (!reported.has(year)) {
          reported.add(year);
          onMissingYear?.(year);
        }
        return isWeekdayWorkday(localDate);
      }
      if (Object.prototype.hasOwnProperty.call(DATA.workdays, localDate)) return true;
      if (Object.prototype.hasOwnProperty.call(DATA.holidays, localDate)) return false;
      return isWeekdayWorkday(localDate);
    },
  };
}
