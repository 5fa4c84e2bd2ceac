/**
 * Working-day calendar over chinese-days data: statutory holidays, 调休 make-up days, admin
 * overrides, and the fallback for a year without published data.
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { createChinaCalendar, weekdayCalendar } from '../../server/domain/calendar';
import { addLocalDays, localDayDiff } from '../../server/domain/time';

describe('createChinaCalendar — statutory data (国庆 2024)', () => {
  const cal = createChinaCalendar();

  test('2024-10-12 (Saturday, 调休 make-up day) is a workday', () => {
    expect(cal.isWorkday('2024-10-12')).toBe(true);
  });

  test('2024-09-29 (Sunday, 调休 make-up day) is a workday', () => {
    expect(cal.isWorkday('2024-09-29')).toBe(true);
  });

  test('2024-10-01 … 2024-10-07 are holidays, 2024-10-08 is a workday again', () => {
    for (let d = '2024-10-01'; d <= '2024-10-07'; d = addLocalDays(d, 1)) {
      expect([d, cal.isWorkday(d)]).toEqual([d, false]);
    }
    expect(cal.isWorkday('2024-10-08')).toBe(true);
  });

  test('ordinary weekend off, ordinary weekday on', () => {
    expect(cal.isWorkday('2024-10-19')).toBe(false); // Saturday
    expect(cal.isWorkday('2024-10-20')).toBe(false); // Sunday
    expect(cal.isWorkday('2024-10-21')).toBe(true); // Monday
  });

  test('2024-09-30 (Monday) is a workday — the package function API gets this wrong west of UTC', () => {
    // chinese-days.isWorkday('2024-09-30') reads the previous day under TZ=America/Los_Angeles;
    // our lookup is by date string, so it is right under any host TZ (see cycles host-TZ test).
    expect(cal.isWorkday('2024-09-30')).toBe(true);
  });

  test('agrees with chinese-days for every day of 2024–2026', () => {
    // Oracle: the package's own function API, run in a child under TZ=Asia/Shanghai — the only
    // kind of host where it is right (it builds its tables with host-local dates: under
    // TZ=America/Los_Angeles even 2024-09-30 reads as 国庆). Ours must match under any host TZ.
    const script = `
      const c = require('chinese-days');
      const out = [];
      for (let t = Date.UTC(2024, 0, 1); t <= Date.UTC(2026, 11, 31); t += 864e5) {
        const d = new Date(t).toISOString().slice(0, 10);
        if (c.isWorkday(d)) out.push(d);
      }
      process.stdout.write(JSON.stringify(out));`;
    const expected = JSON.parse(
      execFileSync(process.execPath, ['-e', script], {
        cwd: path.resolve(__dirname, '../..'),
        env: { ...process.env, TZ: 'Asia/Shanghai' },
        encoding: 'utf8',
      }),
    ) as string[];
    const ours: string[] = [];
    for (let d = '2024-01-01'; localDayDiff(d, '2026-12-31') <= 0; d = addLocalDays(d, 1)) {
      if (cal.isWorkday(d)) ours.push(d);
    }
    expect(expected.length).toBeGreaterThan(700);
    expect(ours).toEqual(expected);
  });

  test('hasDataFor: 2024–2026 yes, 2027 and pre-2004 no', () => {
    expect(cal.hasDataFor(2024)).toBe(true);
    expect(cal.hasDataFor(2025)).toBe(true);
    expect(cal.hasDataFor(2026)).toBe(true);
    expect(cal.hasDataFor(2027)).toBe(false);
    expect(cal.hasDataFor(2003)).toBe(false);
  });

  test('malformed dates throw RangeError', () => {
    expect(() => cal.isWorkday('2024-10-1')).toThrow(RangeError);
    expect(() => cal.isWorkday('2023-02-29')).toThrow(RangeError);
    expect(() => cal.isWorkday('')).toThrow(RangeError);
  });
});

describe('createChinaCalendar — overrides', () => {
  test('an override wins over chinese-days in both directions', () => {
    const cal = createChinaCalendar({ overrides: { '2024-10-01': true, '2024-10-12': false, '2024-10-19': true } });
    expect(cal.isWorkday('2024-10-01')).toBe(true); // holiday made a working day
    expect(cal.isWorkday('2024-10-12')).toBe(false); // make-up day cancelled
    expect(cal.isWorkday('2024-10-19')).toBe(true); // ordinary Saturday worked
    expect(cal.isWorkday('2024-10-02')).toBe(false); // untouched
  });

  test('invalid override keys or values throw RangeError', () => {
    expect(() => createChinaCalendar({ overrides: { '2024/10/01': true } })).toThrow(RangeError);
    expect(() => createChinaCalendar({ overrides: { '2024-10-01': 'yes' as unknown as boolean } })).toThrow(RangeError);
  });
});

describe('createChinaCalendar — a year without data (2027)', () => {
  test('falls back to Monday–Friday and calls onMissingYear once per year', () => {
    const missing: number[] = [];
    const cal = createChinaCalendar({ onMissingYear: (y) => missing.push(y) });
    expect(cal.isWorkday('2027-01-01')).toBe(true); // Friday: a weekday without data
    expect(cal.isWorkday('2027-01-02')).toBe(false); // Saturday
    expect(cal.isWorkday('2027-01-04')).toBe(true); // Monday
    for (let d = '2027-02-01'; d <= '2027-02-28'; d = addLocalDays(d, 1)) cal.isWorkday(d);
    expect(missing).toEqual([2027]);
    cal.isWorkday('2026-10-01'); // known year: no call
    cal.isWorkday('2028-05-01');
    expect(missing).toEqual([2027, 2028]);
  });

  test('each calendar reports on its own; overridden dates need no data', () => {
    const missing: number[] = [];
    const cal = createChinaCalendar({
      overrides: { '2027-01-01': false },
      onMissingYear: (y) => missing.push(y),
    });
    expect(cal.isWorkday('2027-01-01')).toBe(false);
    expect(missing).toEqual([]); // the admin already filled that day in
    expect(cal.isWorkday('2027-01-05')).toBe(true);
    expect(missing).toEqual([2027]);

    const other: number[] = [];
    createChinaCalendar({ onMissingYear: (y) => other.push(y) }).isWorkday('2027-03-01');
    expect(other).toEqual([2027]);
  });

  test('works without an onMissingYear callback', () => {
    expect(createChinaCalendar().isWorkday('2027-06-07')).toBe(true); // Monday
  });
});

describe('weekdayCalendar', () => {
  test('Monday–Friday only, no holidays', () => {
    expect(weekdayCalendar.isWorkday('2024-10-01')).toBe(true);
    expect(weekdayCalendar.isWorkday('2024-10-12')).toBe(false);
  });
});
