/**
 * CheckTask schedule → instance windows (server/domain/cycles.ts) and the zone helpers it uses
 * (server/domain/time.ts). Expected local times are read back with Intl ('sv-SE' prints
 * 'YYYY-MM-DD HH:mm:ss'), independently of the code under test.
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { createChinaCalendar, weekdayCalendar, type WorkdayCalendar } from '../../server/domain/calendar';
import {
  cycleLoopCounter,
  instancesBetween,
  validateSchedule,
  type InstanceWindow,
  type TaskSchedule,
} from '../../server/domain/cycles';
import {
  addLocalDays,
  addLocalMonths,
  endOfLocalDay,
  localDateOf,
  localDateTime,
  localDayDiff,
  localMidnight,
  parseHhmm,
  zoneOffsetMinutes,
} from '../../server/domain/time';

const SH = 'Asia/Shanghai';
const BERLIN = 'Europe/Berlin';
const NY = 'America/New_York';
const cal = createChinaCalendar();
const H = 3_600_000;

function sched(p: Partial<TaskSchedule>): TaskSchedule {
  return {
    checkCycle: 1,
    checkCycleUnit: '天',
    taskStartTime: new Date('2020-01-01T00:00:00Z'),
    workDayType: 0,
    ...p,
  };
}

const fmtCache = new Map<string, Intl.DateTimeFormat>();
/** 'YYYY-MM-DD HH:mm' of an instant in `tz` (oracle independent of time.ts). */
function local(d: Date, tz: string): string {
  let f = fmtCache.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('sv-SE', {
      timeZone: tz,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    fmtCache.set(tz, f);
  }
  return f.format(d);
}
/** Windows as 'YYYY-MM-DD HH:mm → YYYY-MM-DD HH:mm' local strings. */
function view(ws: InstanceWindow[], tz: string): string[] {
  return ws.map((w) => `${local(w.startAt, tz)} → ${local(w.endAt, tz)}`);
}
const hours = (ws: InstanceWindow[]): number[] => ws.map((w) => (w.endAt.getTime() - w.startAt.getTime()) / H);
const iso = (ws: InstanceWindow[]): string[][] => ws.map((w) => [w.startAt.toISOString(), w.endAt.toISOString()]);
/** Query one whole local day. */
function day(s: TaskSchedule, date: string, tz = SH, c: WorkdayCalendar = cal): InstanceWindow[] {
  return instancesBetween(s, tz, c, localMidnight(date, tz), endOfLocalDay(date, tz));
}
/** Query [from 00:00, to 00:00) local. */
function range(s: TaskSchedule, fromDate: string, toDate: string, tz = SH, c: WorkdayCalendar = cal): InstanceWindow[] {
  return instancesBetween(s, tz, c, localMidnight(fromDate, tz), localMidnight(toDate, tz));
}
function expectContiguous(ws: InstanceWindow[]): void {
  for (let i = 1; i < ws.length; i++) expect(ws[i].startAt.getTime()).toBe(ws[i - 1].endAt.getTime());
}

// -------------------------------------------------------------------------------------------------
describe('time helpers', () => {
  test("endOfLocalDay('2024-12-31', Asia/Shanghai) is 2024-12-31T16:00:00.000Z", () => {
    expect(endOfLocalDay('2024-12-31', SH).toISOString()).toBe('2024-12-31T16:00:00.000Z');
    expect(localMidnight('2025-01-01', SH).toISOString()).toBe('2024-12-31T16:00:00.000Z');
  });

  test('localDateOf reads the enterprise zone, not the host', () => {
    expect(localDateOf(new Date('2024-12-31T16:00:00.000Z'), SH)).toBe('2025-01-01');
    expect(localDateOf(new Date('2024-12-31T15:59:59.999Z'), SH)).toBe('2024-12-31');
    expect(localDateOf(new Date('2025-01-01T04:59:59.999Z'), NY)).toBe('2024-12-31');
    expect(localDateOf(new Date('2025-01-01T05:00:00.000Z'), NY)).toBe('2025-01-01');
  });

  test("localDateTime: 'HH:mm' on a local date, '24:00' = next midnight", () => {
    expect(localDateTime('2024-10-01', '08:30', SH).toISOString()).toBe('2024-10-01T00:30:00.000Z');
    expect(localDateTime('2024-10-01', '24:00', SH).toISOString()).toBe(endOfLocalDay('2024-10-01', SH).toISOString());
    expect(() => localDateTime('2024-10-01', '24:01', SH)).toThrow(RangeError);
    expect(() => localDateTime('2024-10-01', '8:30', SH)).toThrow(RangeError);
  });

  test('date arithmetic is calendar arithmetic', () => {
    expect(addLocalDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addLocalDays('2024-12-31', 1)).toBe('2025-01-01');
    expect(addLocalDays('2025-03-01', -1)).toBe('2025-02-28');
    expect(localDayDiff('2024-10-08', '2024-10-01')).toBe(7); // a − b
    expect(localDayDiff('2024-01-01', '2025-01-01')).toBe(-366);
    expect(localDayDiff('2026-03-30', '2026-03-29')).toBe(1); // a 23 h day is still one day
    expect(addLocalMonths('2026-01-31', 1)).toBe('2026-02-28');
    expect(addLocalMonths('2024-01-31', 1)).toBe('2024-02-29');
    expect(addLocalMonths('2026-01-31', -2)).toBe('2025-11-30');
  });

  test('DST: skipped wall time moves forward, repeated wall time takes the earlier instant', () => {
    // Berlin: 2026-03-29 02:00 CET → 03:00 CEST; 2026-10-25 03:00 CEST → 02:00 CET.
    expect(localDateTime('2026-03-29', '02:30', BERLIN).toISOString()).toBe('2026-03-29T01:30:00.000Z'); // = 03:30 CEST
    expect(localDateTime('2026-10-25', '02:30', BERLIN).toISOString()).toBe('2026-10-25T00:30:00.000Z'); // first 02:30 (CEST)
    expect(localDateTime('2026-10-25', '03:00', BERLIN).toISOString()).toBe('2026-10-25T02:00:00.000Z');
    // New York: 2026-03-08 02:00 EST → 03:00 EDT; 2026-11-01 02:00 EDT → 01:00 EST.
    expect(localDateTime('2026-03-08', '02:30', NY).toISOString()).toBe('2026-03-08T07:30:00.000Z'); // = 03:30 EDT
    expect(localDateTime('2026-11-01', '01:30', NY).toISOString()).toBe('2026-11-01T05:30:00.000Z'); // first 01:30 (EDT)
    // Local days are 23 h / 25 h long on change days.
    expect((endOfLocalDay('2026-03-29', BERLIN).getTime() - localMidnight('2026-03-29', BERLIN).getTime()) / H).toBe(23);
    expect((endOfLocalDay('2026-10-25', BERLIN).getTime() - localMidnight('2026-10-25', BERLIN).getTime()) / H).toBe(25);
    expect((endOfLocalDay('2026-03-08', NY).getTime() - localMidnight('2026-03-08', NY).getTime()) / H).toBe(23);
    expect((endOfLocalDay('2026-11-01', NY).getTime() - localMidnight('2026-11-01', NY).getTime()) / H).toBe(25);
    expect(endOfLocalDay('2024-12-31', NY).toISOString()).toBe('2025-01-01T05:00:00.000Z');
  });

  test('zoneOffsetMinutes', () => {
    expect(zoneOffsetMinutes(new Date('2026-07-01T00:00:00Z'), SH)).toBe(480);
    expect(zoneOffsetMinutes(new Date('2026-07-01T00:00:00Z'), BERLIN)).toBe(120);
    expect(zoneOffsetMinutes(new Date('2026-01-01T00:00:00Z'), NY)).toBe(-300);
  });

  test('bad input throws RangeError', () => {
    expect(() => localMidnight('2024-10-01', 'Mars/Olympus')).toThrow(RangeError);
    expect(() => localMidnight('2024-13-01', SH)).toThrow(RangeError);
    expect(() => parseHhmm('12:60')).toThrow(RangeError);
    expect(() => parseHhmm('24:00')).toThrow(RangeError);
    expect(parseHhmm('24:00', true)).toBe(1440);
  });
});

// -------------------------------------------------------------------------------------------------
describe('小时 (hourly)', () => {
  const start = new Date('2024-01-01T00:00:00Z');

  test('2 h over 00:00–24:00: 12 contiguous slots a day', () => {
    const ws = day(sched({ checkCycle: 2, checkCycleUnit: '小时', taskStartTime: start }), '2024-10-15');
    expect(ws).toHaveLength(12);
    expect(view(ws, SH)[0]).toBe('2024-10-15 00:00 → 2024-10-15 02:00');
    expect(view(ws, SH)[11]).toBe('2024-10-15 22:00 → 2024-10-16 00:00');
    expect(hours(ws)).toEqual(Array(12).fill(2));
    expectContiguous(ws);
  });

  test('12 h over 08:00–20:00: one slot', () => {
    const s = sched({ checkCycle: 12, checkCycleUnit: '小时', taskStartTime: start, workStartTime: '08:00', workEndTime: '20:00' });
    expect(view(day(s, '2024-10-15'), SH)).toEqual(['2024-10-15 08:00 → 2024-10-15 20:00']);
  });

  test('3 h over 08:00–20:00: 4 slots', () => {
    const s = sched({ checkCycle: 3, checkCycleUnit: '小时', taskStartTime: start, workStartTime: '08:00', workEndTime: '20:00' });
    expect(view(day(s, '2024-10-15'), SH)).toEqual([
      '2024-10-15 08:00 → 2024-10-15 11:00',
      '2024-10-15 11:00 → 2024-10-15 14:00',
      '2024-10-15 14:00 → 2024-10-15 17:00',
      '2024-10-15 17:00 → 2024-10-15 20:00',
    ]);
  });

  test('a cycle that does not divide the window leaves a shorter last slot (5 h over 08:00–20:00)', () => {
    const s = sched({ checkCycle: 5, checkCycleUnit: '小时', taskStartTime: start, workStartTime: '08:00', workEndTime: '20:00' });
    expect(hours(day(s, '2024-10-15'))).toEqual([5, 5, 2]);
  });

  test('default window is the whole day; 08:30–17:15 keeps minutes', () => {
    const s = sched({ checkCycle: 4, checkCycleUnit: '小时', taskStartTime: start, workStartTime: '08:30', workEndTime: '17:15' });
    expect(view(day(s, '2024-10-15'), SH)).toEqual([
      '2024-10-15 08:30 → 2024-10-15 12:30',
      '2024-10-15 12:30 → 2024-10-15 16:30',
      '2024-10-15 16:30 → 2024-10-15 17:15',
    ]);
    const whole = sched({ checkCycle: 24, checkCycleUnit: '小时', taskStartTime: start });
    expect(view(day(whole, '2024-10-15'), SH)).toEqual(['2024-10-15 00:00 → 2024-10-16 00:00']);
  });

  test('night window 20:00–08:00 crosses midnight and belongs to the day it starts', () => {
    const s = sched({ checkCycle: 4, checkCycleUnit: '小时', taskStartTime: start, workStartTime: '20:00', workEndTime: '08:00' });
    // Query exactly the night of 2024-10-15 → 16.
    const ws = instancesBetween(s, SH, cal, localDateTime('2024-10-15', '20:00', SH), localDateTime('2024-10-16', '08:00', SH));
    expect(view(ws, SH)).toEqual([
      '2024-10-15 20:00 → 2024-10-16 00:00',
      '2024-10-16 00:00 → 2024-10-16 04:00',
      '2024-10-16 04:00 → 2024-10-16 08:00',
    ]);
    // A query for the calendar day 10-16 sees the end of the 15th's night and the start of the 16th's.
    expect(view(day(s, '2024-10-16'), SH)).toEqual([
      '2024-10-16 00:00 → 2024-10-16 04:00',
      '2024-10-16 04:00 → 2024-10-16 08:00',
      '2024-10-16 20:00 → 2024-10-17 00:00',
    ]);
  });

  test('night window with workDayType 1: qualifies by the day it starts', () => {
    const s = sched({ checkCycle: 12, checkCycleUnit: '小时', taskStartTime: start, workStartTime: '20:00', workEndTime: '08:00', workDayType: 1 });
    expect(view(range(s, '2024-09-29', '2024-10-10'), SH)).toEqual([
      '2024-09-29 20:00 → 2024-09-30 08:00', // Sunday make-up day
      '2024-09-30 20:00 → 2024-10-01 08:00', // Monday night, ends on the holiday: kept
      // 10-01 … 10-07 holidays: the night of the 7th (ending on workday 10-08) is not worked
      '2024-10-08 20:00 → 2024-10-09 08:00',
      '2024-10-09 20:00 → 2024-10-10 08:00', // started before `to`, overlaps the range
    ]);
  });

  test('workDayType 1 around 国庆 2024: slots on make-up days, none on the holidays', () => {
    const s = sched({ checkCycle: 12, checkCycleUnit: '小时', taskStartTime: start, workStartTime: '08:00', workEndTime: '20:00', workDayType: 1 });
    const dates = range(s, '2024-09-27', '2024-10-14').map((w) => localDateOf(w.startAt, SH));
    expect(dates).toEqual(['2024-09-27', '2024-09-29', '2024-09-30', '2024-10-08', '2024-10-09', '2024-10-10', '2024-10-11', '2024-10-12']);
    // 2 h slots: 12 on the make-up Saturday, none on the holiday.
    const s2 = sched({ checkCycle: 2, checkCycleUnit: '小时', taskStartTime: start, workDayType: 1 });
    expect(day(s2, '2024-10-12')).toHaveLength(12);
    expect(day(s2, '2024-10-01')).toHaveLength(0);
  });

  test('workDayType 2: only on non-working days', () => {
    const s = sched({ checkCycle: 12, checkCycleUnit: '小时', taskStartTime: start, workStartTime: '08:00', workEndTime: '20:00', workDayType: 2 });
    const dates = range(s, '2024-09-27', '2024-10-14').map((w) => localDateOf(w.startAt, SH));
    expect(dates).toEqual(['2024-09-28', '2024-10-01', '2024-10-02', '2024-10-03', '2024-10-04', '2024-10-05', '2024-10-06', '2024-10-07', '2024-10-13']);
  });

  test('starts on the local date of taskStartTime; slots ended by taskStartTime are dropped', () => {
    const s = sched({ checkCycle: 2, checkCycleUnit: '小时', taskStartTime: localDateTime('2024-10-15', '09:30', SH) });
    const ws = range(s, '2024-10-14', '2024-10-16');
    expect(view(ws, SH)[0]).toBe('2024-10-15 08:00 → 2024-10-15 10:00'); // running at 09:30: kept
    expect(ws).toHaveLength(8);
    // A night window that started the evening before taskStartTime's date is not produced.
    const night = sched({ ...s, workStartTime: '20:00', workEndTime: '08:00', taskStartTime: localDateTime('2024-10-15', '02:00', SH) });
    expect(view(range(night, '2024-10-14', '2024-10-16'), SH)[0]).toBe('2024-10-15 20:00 → 2024-10-15 22:00');
  });

  test('returns the slots overlapping [from, to), including partially', () => {
    const s = sched({ checkCycle: 2, checkCycleUnit: '小时', taskStartTime: start });
    const ws = instancesBetween(s, SH, cal, localDateTime('2024-10-15', '09:00', SH), localDateTime('2024-10-15', '13:00', SH));
    expect(view(ws, SH)).toEqual([
      '2024-10-15 08:00 → 2024-10-15 10:00',
      '2024-10-15 10:00 → 2024-10-15 12:00',
      '2024-10-15 12:00 → 2024-10-15 14:00',
    ]);
    // endAt == from and startAt == to do not overlap.
    const edge = instancesBetween(s, SH, cal, localDateTime('2024-10-15', '10:00', SH), localDateTime('2024-10-15', '12:00', SH));
    expect(view(edge, SH)).toEqual(['2024-10-15 10:00 → 2024-10-15 12:00']);
    const t = localDateTime('2024-10-15', '10:00', SH);
    expect(instancesBetween(s, SH, cal, t, t)).toEqual([]);
    expect(instancesBetween(s, SH, cal, t, new Date(t.getTime() - 1))).toEqual([]);
  });
});

// -------------------------------------------------------------------------------------------------
describe('天 (daily, weekly)', () => {
  test('1 天: one local day each, from 00:00 of the anchor date whatever its time of day', () => {
    const s = sched({ taskStartTime: localDateTime('2024-10-15', '15:45', SH) });
    expect(view(range(s, '2024-10-14', '2024-10-18'), SH)).toEqual([
      '2024-10-15 00:00 → 2024-10-16 00:00',
      '2024-10-16 00:00 → 2024-10-17 00:00',
      '2024-10-17 00:00 → 2024-10-18 00:00',
    ]);
  });

  test('workDayType 1: none on 2024-10-01, one on make-up day 2024-10-12', () => {
    const s = sched({ workDayType: 1 });
    expect(day(s, '2024-10-01')).toEqual([]);
    expect(view(day(s, '2024-10-12'), SH)).toEqual(['2024-10-12 00:00 → 2024-10-13 00:00']);
    const dates = range(s, '2024-09-28', '2024-10-14').map((w) => localDateOf(w.startAt, SH));
    expect(dates).toEqual(['2024-09-29', '2024-09-30', '2024-10-08', '2024-10-09', '2024-10-10', '2024-10-11', '2024-10-12']);
  });

  test('workDayType 2: the reverse', () => {
    const s = sched({ workDayType: 2 });
    expect(view(day(s, '2024-10-01'), SH)).toEqual(['2024-10-01 00:00 → 2024-10-02 00:00']);
    expect(day(s, '2024-10-12')).toEqual([]);
    const dates = range(s, '2024-09-28', '2024-10-14').map((w) => localDateOf(w.startAt, SH));
    expect(dates).toEqual(['2024-09-28', '2024-10-01', '2024-10-02', '2024-10-03', '2024-10-04', '2024-10-05', '2024-10-06', '2024-10-07', '2024-10-13']);
  });

  test('2 天 grid from the anchor', () => {
    const s = sched({ checkCycle: 2, taskStartTime: localDateTime('2024-10-01', '00:00', SH) });
    expect(view(range(s, '2024-10-04', '2024-10-07'), SH)).toEqual([
      '2024-10-03 00:00 → 2024-10-05 00:00',
      '2024-10-05 00:00 → 2024-10-07 00:00',
    ]);
  });

  test('weekly (7 天) anchored on a Monday', () => {
    const s = sched({ checkCycle: 7, taskStartTime: localDateTime('2024-09-30', '09:00', SH) });
    expect(view(range(s, '2024-09-30', '2024-10-14'), SH)).toEqual([
      '2024-09-30 00:00 → 2024-10-07 00:00',
      '2024-10-07 00:00 → 2024-10-14 00:00',
    ]);
  });

  test('weekly with workDayType 1 over 国庆: trimmed to first..last working day', () => {
    const s = sched({ checkCycle: 7, taskStartTime: localDateTime('2024-09-30', '09:00', SH), workDayType: 1 });
    expect(view(range(s, '2024-09-30', '2024-10-21'), SH)).toEqual([
      '2024-09-30 00:00 → 2024-10-01 00:00', // Mon only; Tue–Sun holidays
      '2024-10-08 00:00 → 2024-10-13 00:00', // Mon 10-07 holiday; Tue–Sat (make-up Saturday); Sun off
      '2024-10-14 00:00 → 2024-10-19 00:00', // ordinary Mon–Fri
    ]);
  });

  test('a period with no qualifying day yields nothing (weekly, type 1, inside 春节 2026)', () => {
    // 2026-02-15 … 02-23 are 春节 holidays: a week anchored on 02-16 has no working day.
    const s = sched({ checkCycle: 7, taskStartTime: localDateTime('2026-02-16', '00:00', SH), workDayType: 1 });
    // Next week 02-23 … 03-01: 02-23 still a holiday, Tue–Fri work, Sat 02-28 a make-up day, Sun off.
    expect(view(range(s, '2026-02-16', '2026-03-02'), SH)).toEqual(['2026-02-24 00:00 → 2026-03-01 00:00']);
  });
});

// -------------------------------------------------------------------------------------------------
describe('月 / 年 (monthly, quarterly, yearly)', () => {
  test('monthly from 2026-01-31: 01-31, 02-28, 03-31, 04-30, 05-31 (from the anchor, clamped)', () => {
    const s = sched({ checkCycleUnit: '月', taskStartTime: localDateTime('2026-01-31', '10:00', SH) });
    const ws = range(s, '2026-01-01', '2026-06-01');
    expect(view(ws, SH)).toEqual([
      '2026-01-31 00:00 → 2026-02-28 00:00',
      '2026-02-28 00:00 → 2026-03-31 00:00',
      '2026-03-31 00:00 → 2026-04-30 00:00',
      '2026-04-30 00:00 → 2026-05-31 00:00',
      '2026-05-31 00:00 → 2026-06-30 00:00',
    ]);
  });

  test('monthly in a leap year: 2024-01-31 → 2024-02-29', () => {
    const s = sched({ checkCycleUnit: '月', taskStartTime: localDateTime('2024-01-31', '00:00', SH) });
    expect(view(day(s, '2024-03-01'), SH)).toEqual(['2024-02-29 00:00 → 2024-03-31 00:00']);
  });

  test('a query inside a month finds the period that began in the previous month (clamping)', () => {
    const s = sched({ checkCycleUnit: '月', taskStartTime: localDateTime('2025-12-31', '00:00', SH) });
    expect(view(day(s, '2026-02-15'), SH)).toEqual(['2026-01-31 00:00 → 2026-02-28 00:00']);
    expect(view(day(s, '2026-02-28'), SH)).toEqual(['2026-02-28 00:00 → 2026-03-31 00:00']);
  });

  test('quarterly (3 月)', () => {
    const s = sched({ checkCycle: 3, checkCycleUnit: '月', taskStartTime: localDateTime('2024-01-15', '00:00', SH) });
    expect(view(range(s, '2024-01-01', '2025-01-16'), SH)).toEqual([
      '2024-01-15 00:00 → 2024-04-15 00:00',
      '2024-04-15 00:00 → 2024-07-15 00:00',
      '2024-07-15 00:00 → 2024-10-15 00:00',
      '2024-10-15 00:00 → 2025-01-15 00:00',
      '2025-01-15 00:00 → 2025-04-15 00:00',
    ]);
  });

  test('quarterly with workDayType 1 starting on 国庆: trimmed start 10-08, end after Tue 12-31', () => {
    const s = sched({ checkCycle: 3, checkCycleUnit: '月', taskStartTime: localDateTime('2024-01-01', '00:00', SH), workDayType: 1 });
    expect(view(day(s, '2024-11-11'), SH)).toEqual(['2024-10-08 00:00 → 2025-01-01 00:00']);
  });

  test('yearly from 2024-02-29: Feb 28 in common years, Feb 29 in leap years', () => {
    const s = sched({ checkCycleUnit: '年', taskStartTime: localDateTime('2024-02-29', '08:00', SH) });
    expect(view(range(s, '2024-01-01', '2028-03-01'), SH)).toEqual([
      '2024-02-29 00:00 → 2025-02-28 00:00',
      '2025-02-28 00:00 → 2026-02-28 00:00',
      '2026-02-28 00:00 → 2027-02-28 00:00',
      '2027-02-28 00:00 → 2028-02-29 00:00',
      '2028-02-29 00:00 → 2029-02-28 00:00',
    ]);
  });

  test('yearly with workDayType 1: 元旦 trimmed off', () => {
    const s = sched({ checkCycleUnit: '年', taskStartTime: localDateTime('2024-01-01', '00:00', SH), workDayType: 1 });
    expect(view(day(s, '2024-06-01'), SH)).toEqual(['2024-01-02 00:00 → 2025-01-01 00:00']);
  });

  test('nothing before the anchor period', () => {
    const s = sched({ checkCycleUnit: '月', taskStartTime: localDateTime('2026-05-10', '00:00', SH) });
    expect(range(s, '2026-01-01', '2026-05-10')).toEqual([]);
    expect(view(range(s, '2026-01-01', '2026-05-11'), SH)).toEqual(['2026-05-10 00:00 → 2026-06-10 00:00']);
  });
});

// -------------------------------------------------------------------------------------------------
describe('enterprises in other time zones', () => {
  const start = new Date('2026-01-01T00:00:00Z');

  test('Europe/Berlin 2026-03-29 (spring forward): 2 h grid stays on the local clock; the skipped hour shortens one slot', () => {
    const ws = day(sched({ checkCycle: 2, checkCycleUnit: '小时', taskStartTime: start }), '2026-03-29', BERLIN);
    expect(ws).toHaveLength(12);
    // Local wall 02:00 does not exist: that slot starts at 03:00 CEST (the instant the first ends).
    expect(view(ws, BERLIN).slice(0, 3)).toEqual([
      '2026-03-29 00:00 → 2026-03-29 03:00',
      '2026-03-29 03:00 → 2026-03-29 04:00',
      '2026-03-29 04:00 → 2026-03-29 06:00',
    ]);
    expect(hours(ws)).toEqual([2, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]); // 23 h day
    expectContiguous(ws);
    expect(iso(ws)[1]).toEqual(['2026-03-29T01:00:00.000Z', '2026-03-29T02:00:00.000Z']);
  });

  test('Europe/Berlin 2026-10-25 (fall back): the repeated hour lengthens one slot, nothing twice', () => {
    const ws = day(sched({ checkCycle: 2, checkCycleUnit: '小时', taskStartTime: start }), '2026-10-25', BERLIN);
    expect(ws).toHaveLength(12);
    expect(view(ws, BERLIN).slice(0, 3)).toEqual([
      '2026-10-25 00:00 → 2026-10-25 02:00',
      '2026-10-25 02:00 → 2026-10-25 04:00',
      '2026-10-25 04:00 → 2026-10-25 06:00',
    ]);
    expect(hours(ws)).toEqual([2, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]); // 25 h day
    expectContiguous(ws);
    expect(iso(ws)[1]).toEqual(['2026-10-25T00:00:00.000Z', '2026-10-25T03:00:00.000Z']);
  });

  test('Europe/Berlin 1 h grid: the slot inside the skipped hour disappears, the repeated hour is one 2 h slot', () => {
    const s = sched({ checkCycle: 1, checkCycleUnit: '小时', taskStartTime: start });
    const spring = day(s, '2026-03-29', BERLIN);
    expect(spring).toHaveLength(23);
    expect(view(spring, BERLIN).slice(1, 3)).toEqual(['2026-03-29 01:00 → 2026-03-29 03:00', '2026-03-29 03:00 → 2026-03-29 04:00']);
    expect(hours(spring).slice(1, 3)).toEqual([1, 1]);
    const autumn = day(s, '2026-10-25', BERLIN);
    expect(autumn).toHaveLength(24);
    expect(hours(autumn).slice(1, 4)).toEqual([1, 2, 1]);
    expectContiguous(autumn);
  });

  test('Europe/Berlin daily and monthly periods span 23 h / 25 h days', () => {
    expect(hours(day(sched({ taskStartTime: start }), '2026-03-29', BERLIN))).toEqual([23]);
    expect(hours(day(sched({ taskStartTime: start }), '2026-10-25', BERLIN))).toEqual([25]);
    const monthly = day(sched({ checkCycleUnit: '月', taskStartTime: start }), '2026-03-15', BERLIN);
    expect(iso(monthly)).toEqual([['2026-02-28T23:00:00.000Z', '2026-03-31T22:00:00.000Z']]);
  });

  test('America/New_York: periods start at local midnight; 2026-03-08 is 23 h; 2 h grid on the local clock', () => {
    const daily = range(sched({ taskStartTime: start }), '2026-03-07', '2026-03-10', NY);
    expect(iso(daily)).toEqual([
      ['2026-03-07T05:00:00.000Z', '2026-03-08T05:00:00.000Z'],
      ['2026-03-08T05:00:00.000Z', '2026-03-09T04:00:00.000Z'],
      ['2026-03-09T04:00:00.000Z', '2026-03-10T04:00:00.000Z'],
    ]);
    const slots = day(sched({ checkCycle: 2, checkCycleUnit: '小时', taskStartTime: start }), '2026-03-08', NY);
    expect(view(slots, NY).slice(0, 3)).toEqual([
      '2026-03-08 00:00 → 2026-03-08 03:00',
      '2026-03-08 03:00 → 2026-03-08 04:00',
      '2026-03-08 04:00 → 2026-03-08 06:00',
    ]);
    const monthly = day(sched({ checkCycleUnit: '月', taskStartTime: new Date('2026-01-31T12:00:00Z') }), '2026-11-15', NY);
    expect(view(monthly, NY)).toEqual(['2026-10-31 00:00 → 2026-11-30 00:00']);
    expect(hours(monthly)).toEqual([30 * 24 + 1]); // contains the fall-back hour
  });

  test('the anchor date is the LOCAL date of taskStartTime', () => {
    // 2026-01-31T20:00Z is Feb 1 in Shanghai but Jan 31 in New York.
    const t = new Date('2026-01-31T20:00:00Z');
    expect(view(day(sched({ checkCycleUnit: '月', taskStartTime: t }), '2026-03-10', SH), SH)).toEqual(['2026-03-01 00:00 → 2026-04-01 00:00']);
    expect(view(day(sched({ checkCycleUnit: '月', taskStartTime: t }), '2026-03-10', NY), NY)).toEqual(['2026-02-28 00:00 → 2026-03-31 00:00']);
  });
});

// -------------------------------------------------------------------------------------------------
describe('host TZ independence', () => {
  const repoRoot = path.resolve(__dirname, '../..');
  // Plain JS run by a child node with ts-node's require hook; prints the instances as JSON.
  const script = `
    const { instancesBetween } = require('./server/domain/cycles');
    const { createChinaCalendar } = require('./server/domain/calendar');
    const { localDateOf, localMidnight, endOfLocalDay, localDateTime } = require('./server/domain/time');
    const cal = createChinaCalendar();
    const cases = [
      [{ checkCycle: 2, checkCycleUnit: '小时', taskStartTime: new Date('2024-09-27T03:00:00Z'), workDayType: 1 }, 'Asia/Shanghai', '2024-09-27T00:00:00Z', '2024-10-14T00:00:00Z'],
      [{ checkCycle: 4, checkCycleUnit: '小时', taskStartTime: new Date('2024-01-01T00:00:00Z'), workStartTime: '20:00', workEndTime: '08:00', workDayType: 1 }, 'Asia/Shanghai', '2024-09-27T00:00:00Z', '2024-10-14T00:00:00Z'],
      [{ checkCycle: 1, checkCycleUnit: '天', taskStartTime: new Date('2024-09-01T17:00:00Z'), workDayType: 2 }, 'Asia/Shanghai', '2024-09-27T00:00:00Z', '2024-10-14T00:00:00Z'],
      [{ checkCycle: 7, checkCycleUnit: '天', taskStartTime: new Date('2024-09-29T16:00:00Z'), workDayType: 1 }, 'Asia/Shanghai', '2024-09-27T00:00:00Z', '2024-10-28T00:00:00Z'],
      [{ checkCycle: 2, checkCycleUnit: '小时', taskStartTime: new Date('2026-01-01T00:00:00Z'), workDayType: 0 }, 'Europe/Berlin', '2026-03-28T20:00:00Z', '2026-03-30T02:00:00Z'],
      [{ checkCycle: 1, checkCycleUnit: '小时', taskStartTime: new Date('2026-01-01T00:00:00Z'), workDayType: 0 }, 'Europe/Berlin', '2026-10-24T20:00:00Z', '2026-10-25T06:00:00Z'],
      [{ checkCycle: 1, checkCycleUnit: '月', taskStartTime: new Date('2026-01-31T06:00:00Z'), workDayType: 1 }, 'America/New_York', '2026-01-01T00:00:00Z', '2026-12-31T00:00:00Z'],
      [{ checkCycle: 1, checkCycleUnit: '年', taskStartTime: new Date('2024-02-29T10:00:00Z'), workDayType: 0 }, 'America/Los_Angeles', '2024-01-01T00:00:00Z', '2030-01-01T00:00:00Z'],
    ];
    const out = cases.map(([s, tz, f, t]) =>
      instancesBetween(s, tz, cal, new Date(f), new Date(t)).map((w) => [w.startAt.toISOString(), w.endAt.toISOString()]));
    out.push([
      localDateOf(new Date('2024-12-31T16:30:00Z'), 'Asia/Shanghai'),
      endOfLocalDay('2024-12-31', 'Asia/Shanghai').toISOString(),
      localMidnight('2026-03-29', 'Europe/Berlin').toISOString(),
      localDateTime('2026-10-25', '02:30', 'Europe/Berlin').toISOString(),
      cal.isWorkday('2024-09-30'), cal.isWorkday('2024-10-12'), cal.isWorkday('2024-10-01'),
    ]);
    process.stdout.write(JSON.stringify(out));
  `;

  function runUnder(tz: string): string {
    return execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
      cwd: repoRoot,
      env: { ...process.env, TZ: tz, TS_NODE_PROJECT: path.join(repoRoot, 'tsconfig.json') },
      encoding: 'utf8',
      timeout: 60_000,
    });
  }

  test('TZ=UTC, Asia/Shanghai and America/Los_Angeles give identical JSON', () => {
    const outputs = ['UTC', 'Asia/Shanghai', 'America/Los_Angeles'].map((tz) => ({ tz, json: runUnder(tz) }));
    const parsed = JSON.parse(outputs[0].json) as unknown[][];
    expect(parsed.slice(0, -1).every((c) => c.length > 0)).toBe(true); // every case produced instances
    expect(parsed[parsed.length - 1]).toEqual([
      '2025-01-01',
      '2024-12-31T16:00:00.000Z',
      '2026-03-28T23:00:00.000Z',
      '2026-10-25T00:30:00.000Z',
      true,
      true,
      false,
    ]);
    for (const o of outputs.slice(1)) expect({ tz: o.tz, json: o.json }).toEqual({ tz: o.tz, json: outputs[0].json });
  });
});

// -------------------------------------------------------------------------------------------------
describe('efficiency (by construction, counted loop steps — not timing)', () => {
  const from = new Date('2026-06-10T03:17:00Z');
  const to = new Date(from.getTime() + 2 * 24 * H);

  function steps(s: TaskSchedule): number {
    cycleLoopCounter.count = 0;
    instancesBetween(s, SH, cal, from, to);
    return cycleLoopCounter.count;
  }

  test.each<[string, Partial<TaskSchedule>, number]>([
    // [label, schedule, max steps for a 2-day window]
    ['hourly 1 h, every day', { checkCycle: 1, checkCycleUnit: '小时' }, 4 * 25],
    ['hourly 2 h night shift, working days', { checkCycle: 2, checkCycleUnit: '小时', workStartTime: '20:00', workEndTime: '08:00', workDayType: 1 }, 4 * 13],
    ['daily, working days', { checkCycle: 1, checkCycleUnit: '天', workDayType: 1 }, 20],
    ['weekly, working days', { checkCycle: 7, checkCycleUnit: '天', workDayType: 1 }, 30],
    ['monthly', { checkCycle: 1, checkCycleUnit: '月' }, 10],
    ['quarterly, non-working days', { checkCycle: 3, checkCycleUnit: '月', workDayType: 2 }, 30],
    ['yearly, working days', { checkCycle: 1, checkCycleUnit: '年', workDayType: 1 }, 30],
  ])('%s: a task started in 2016 costs what one started last month costs', (_label, p, max) => {
    const old = steps(sched({ ...p, taskStartTime: localDateTime('2016-01-31', '08:00', SH) }));
    const recent = steps(sched({ ...p, taskStartTime: localDateTime('2026-05-31', '08:00', SH) }));
    expect(old).toBeLessThanOrEqual(max);
    expect(recent).toBeLessThanOrEqual(max);
    // Same order of magnitude regardless of age (trimming scans differ by a few days at most).
    expect(Math.abs(old - recent)).toBeLessThanOrEqual(10);
  });

  test('the old task still yields the right instances', () => {
    const s = sched({ checkCycle: 1, checkCycleUnit: '小时', taskStartTime: localDateTime('2016-01-01', '00:00', SH) });
    const ws = instancesBetween(s, SH, cal, from, to);
    expect(ws).toHaveLength(49); // the slot running at `from`, then 48 hourly slots
    expect(ws[0].startAt.getTime()).toBeLessThanOrEqual(from.getTime());
    expectContiguous(ws);
  });
});

// -------------------------------------------------------------------------------------------------
describe('validateSchedule', () => {
  const ok = sched({ checkCycle: 2, checkCycleUnit: '小时', workStartTime: '08:00', workEndTime: '24:00' });

  test('a valid schedule has no problems', () => {
    expect(validateSchedule(ok)).toEqual([]);
    expect(validateSchedule(sched({ checkCycle: 3, checkCycleUnit: '月', workDayType: 1 }))).toEqual([]);
    expect(validateSchedule(sched({ checkCycleUnit: '天', workStartTime: null, workEndTime: null }))).toEqual([]);
  });

  test.each<[string, Partial<TaskSchedule>, RegExp]>([
    ['cycle 0', { checkCycle: 0 }, /checkCycle must be a positive integer/],
    ['negative cycle', { checkCycle: -7 }, /正整数/],
    ['fractional cycle', { checkCycle: 1.5 }, /checkCycle must be a positive integer, got 1.5/],
    ['NaN cycle', { checkCycle: Number.NaN }, /positive integer/],
    ['hourly cycle over 24', { checkCycle: 48, checkCycleUnit: '小时' }, /use 天/],
    ['unknown unit', { checkCycleUnit: '周' as unknown as TaskSchedule['checkCycleUnit'] }, /checkCycleUnit/],
    ['bad workDayType', { workDayType: 3 as unknown as TaskSchedule['workDayType'] }, /workDayType/],
    ['invalid taskStartTime', { taskStartTime: new Date('nope') }, /taskStartTime/],
    ['bad HH:mm start (8:00)', { checkCycleUnit: '小时', workStartTime: '8:00' }, /workStartTime must be HH:mm/],
    ['bad HH:mm start (25:00)', { checkCycleUnit: '小时', workStartTime: '25:00' }, /作业开始时间/],
    ['24:00 as start', { checkCycleUnit: '小时', workStartTime: '24:00' }, /workStartTime/],
    ['bad HH:mm end (12:60)', { checkCycleUnit: '小时', workEndTime: '12:60' }, /workEndTime must be HH:mm/],
    ['end after 24:00', { checkCycleUnit: '小时', workEndTime: '24:30' }, /作业结束时间/],
    ['window on a daily task', { checkCycleUnit: '天', workStartTime: '08:00', workEndTime: '20:00' }, /hourly \(小时\) tasks only/],
    ['window on a monthly task', { checkCycleUnit: '月', workEndTime: '20:00' }, /作业时段只适用于按小时排查的任务/],
  ])('%s', (_label, p, re) => {
    const problems = validateSchedule(sched(p));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(re);
    expect(problems[0]).toMatch(/[\u4e00-\u9fff]/); // Chinese text as well as English
  });

  test('several problems are all reported', () => {
    expect(validateSchedule(sched({ checkCycle: 0, checkCycleUnit: '天', workStartTime: 'x' }))).toHaveLength(3);
  });

  test('instancesBetween throws RangeError on an invalid schedule, zone or range', () => {
    const f = new Date('2026-01-01T00:00:00Z');
    const t = new Date('2026-01-02T00:00:00Z');
    expect(() => instancesBetween(sched({ checkCycle: 0 }), SH, cal, f, t)).toThrow(RangeError);
    expect(() => instancesBetween(sched({ checkCycle: 0 }), SH, cal, f, t)).toThrow(/checkCycle/);
    expect(() => instancesBetween(ok, 'Asia/Nowhere', cal, f, t)).toThrow(RangeError);
    expect(() => instancesBetween(ok, SH, cal, new Date(Number.NaN), t)).toThrow(RangeError);
  });

  test('the calendar is only consulted when workDayType ≠ 0', () => {
    const spy = { isWorkday: jest.fn(() => true) };
    instancesBetween(sched({ checkCycle: 1, checkCycleUnit: '天' }), SH, spy, new Date('2026-01-01T00:00:00Z'), new Date('2026-01-03T00:00:00Z'));
    expect(spy.isWorkday).not.toHaveBeenCalled();
    expect(range(sched({ workDayType: 1 }), '2024-10-01', '2024-10-03', SH, weekdayCalendar)).toHaveLength(2);
  });
});
