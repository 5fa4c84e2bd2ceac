/**
 * The three lists' value rules (server/domain/three-lists.ts): the risk matrix and its bands, the
 * national code tables, the per-item checks with their Chinese messages, and local date-times.
 */
import {
  assessRisk,
  checkCheckTask,
  checkControlMeasure,
  checkMajorHazardSource,
  checkRiskEvent,
  CLASSIFY2,
  DEFAULT_RISK_THRESHOLDS,
  formatLocalDateTime,
  pairsOfLevel,
  parseLocalDateTime,
  riskLevel,
  riskThresholdsSchema,
  type CheckTaskValues,
  type ControlMeasureValues,
} from '../../server/domain/three-lists';

describe('risk matrix (domain.md defaults: 20–25 red, 15–19 orange, 9–14 yellow, ≤8 blue)', () => {
  it('every L × S product falls in the band domain.md gives', () => {
    const seen: Record<string, number[]> = { red: [], orange: [], yellow: [], blue: [] };
    for (let l = 1; l <= 5; l++) for (let s = 1; s <= 5; s++) seen[riskLevel(l * s)].push(l * s);
    const uniq = (a: number[]) => [...new Set(a)].sort((x, y) => x - y);
    expect(uniq(seen.red)).toEqual([20, 25]);
    expect(uniq(seen.orange)).toEqual([15, 16]);
    expect(uniq(seen.yellow)).toEqual([9, 10, 12]);
    expect(uniq(seen.blue)).toEqual([1, 2, 3, 4, 5, 6, 8]);
  });

  it('band edges and configured bands', () => {
    expect([riskLevel(8), riskLevel(9), riskLevel(14), riskLevel(15), riskLevel(19), riskLevel(20)]).toEqual(['blue', 'yellow', 'yellow', 'orange', 'orange', 'red']);
    const strict = { red: 16, orange: 10, yellow: 5 };
    expect(assessRisk({ l0: 4, s0: 4, l: 2, s: 5 }, strict)).toEqual({ r0: 16, level0: 'red', r: 10, level: 'orange' });
    expect(assessRisk({ l0: 4, s0: 5, l: 2, s: 5 })).toEqual({ r0: 20, level0: 'red', r: 10, level: 'yellow' });
  });

  it('pairsOfLevel partitions the 25 cells', () => {
    const all = (['red', 'orange', 'yellow', 'blue'] as const).flatMap((lv) => pairsOfLevel(lv).map((p) => `${p.l}x${p.s}`));
    expect(all).toHaveLength(25);
    expect(new Set(all).size).toBe(25);
    expect(pairsOfLevel('red')).toEqual([{ l: 4, s: 5 }, { l: 5, s: 4 }, { l: 5, s: 5 }]);
  });

  it('configured bands must be ordered', () => {
    expect(riskThresholdsSchema.safeParse(DEFAULT_RISK_THRESHOLDS).success).toBe(true);
    expect(riskThresholdsSchema.safeParse({ red: 15, orange: 15, yellow: 9 }).success).toBe(false);
    expect(riskThresholdsSchema.safeParse({ red: 30, orange: 15, yellow: 9 }).success).toBe(false);
  });
});

const measure = (over: Partial<ControlMeasureValues> = {}): ControlMeasureValues => ({
  code: 'CM1',
  description: '储罐压力高报警联锁',
  dataSrc: 2,
  classify1: 1,
  classify2: '1-1',
  classify3: null,
  checkContent: null,
  paramName: null,
  paramUnit: null,
  paramMin: null,
  paramMax: null,
  riskEventPresent: true,
  ...over,
});
const fields = (issues: Array<{ field: string }>) => issues.map((i) => i.field).sort();

describe('control measures', () => {
  it('accepts every sub-code under its own classify1 and refuses it under another', () => {
    for (const code of Object.keys(CLASSIFY2)) {
      const parent = Number(code[0]);
      expect(checkControlMeasure(measure({ classify1: parent, classify2: code }))).toEqual([]);
      const other = parent === 1 ? 2 : 1;
      expect(fields(checkControlMeasure(measure({ classify1: other, classify2: code })))).toEqual(['classify2']);
    }
    expect(Object.keys(CLASSIFY2)).toHaveLength(17);
  });

  it('messages say what is allowed and what was given', () => {
    expect(checkControlMeasure(measure({ dataSrc: 3 }))).toEqual([{ field: 'dataSrc', zh: '必须是 1 或 2，实际为 3', en: 'must be one of 1, 2, got 3' }]);
    expect(checkControlMeasure(measure({ classify1: 5 }))[0].zh).toBe('必须是 1、2、3 或 4，实际为 5');
    expect(checkControlMeasure(measure({ classify2: '1-6' }))[0].zh).toContain('实际为 “1-6”');
    expect(checkControlMeasure(measure({ classify2: null }))[0]).toMatchObject({ field: 'classify2', zh: '不能为空（如 1-4）' });
  });

  it('key parameter: min ≤ max (equal is a point), bounds need a name, no unit-only parameter', () => {
    expect(checkControlMeasure(measure({ paramName: '压力', paramMin: 0.8, paramMax: 0.8 }))).toEqual([]);
    expect(checkControlMeasure(measure({ paramName: '压力', paramMin: 0.9, paramMax: 0.8 }))).toEqual([
      { field: 'paramMax', zh: '不能小于安全下限 0.9，实际为 0.8', en: 'safe max 0.8 is below safe min 0.9' },
    ]);
    expect(fields(checkControlMeasure(measure({ paramMax: 0.8 })))).toEqual(['paramName']);
    expect(fields(checkControlMeasure(measure({ paramUnit: 'MPa' })))).toEqual(['paramName']);
    expect(checkControlMeasure(measure({ paramName: '液位', paramMax: 85 }))).toEqual([]); // one-sided ranges exist (≤ 85 %)
  });

  it('lengths are checked in characters (中文 counts 1), before the database would refuse them', () => {
    expect(checkControlMeasure(measure({ description: '措'.repeat(512) }))).toEqual([]);
    expect(checkControlMeasure(measure({ description: '措'.repeat(513) }))[0]).toMatchObject({ field: 'description', zh: '不能超过 512 个字符，实际为 513 个' });
    expect(fields(checkControlMeasure(measure({ code: 'A\nB' })))).toEqual(['code']);
  });
});

const task = (over: Partial<CheckTaskValues> = {}): CheckTaskValues => ({
  code: 'T1',
  content: '巡检',
  checkCycle: 2,
  checkCycleUnit: '小时',
  taskStartTime: null,
  workStartTime: '08:00',
  workEndTime: '20:00',
  workDayType: 0,
  workType: 0,
  taskNum: null,
  checkMeans: '现场确认',
  measurePresent: true,
  majorHazardSourcePresent: false,
  postPresent: true,
  personPresent: false,
  ...over,
});
const baobao = (workType: number, taskNum: number | null) =>
  task({ workType, taskNum, measurePresent: false, majorHazardSourcePresent: true, postPresent: false, personPresent: true, checkCycle: 7, checkCycleUnit: '天', workStartTime: null, workEndTime: null });

describe('check tasks', () => {
  it('a valid hourly task, a night shift, and a daily task without window', () => {
    expect(checkCheckTask(task())).toEqual([]);
    expect(checkCheckTask(task({ workStartTime: '20:00', workEndTime: '08:00' }))).toEqual([]);
    expect(checkCheckTask(task({ checkCycleUnit: '天', checkCycle: 1, workStartTime: null, workEndTime: null }))).toEqual([]);
  });

  it('a work window on a 天/月/年 task belongs to the start-time column', () => {
    for (const unit of ['天', '月', '年']) {
      const issues = checkCheckTask(task({ checkCycleUnit: unit, checkCycle: 1 }));
      expect(issues).toEqual([{ field: 'workStartTime', zh: '只适用于按小时排查的任务（天、月、年任务的作业时段请留空）', en: expect.stringContaining('hourly') }]);
    }
  });

  it('schedule problems of cycles.ts are attributed to their field, without repeating its name', () => {
    expect(checkCheckTask(task({ checkCycle: 25 }))).toEqual([{ field: 'checkCycle', zh: '过大（小时最多 24）', en: expect.stringContaining('too large') }]);
    expect(checkCheckTask(task({ checkCycle: 0 }))[0]).toMatchObject({ field: 'checkCycle', zh: '必须是正整数' });
    expect(checkCheckTask(task({ workEndTime: '24:30' }))[0]).toMatchObject({ field: 'workEndTime' });
    expect(checkCheckTask(task({ workStartTime: '24:00' }))[0]).toMatchObject({ field: 'workStartTime' });
    expect(checkCheckTask(task({ checkCycleUnit: '周' }))).toEqual([{ field: 'checkCycleUnit', zh: '必须是 小时、天、月 或 年，实际为 “周”', en: expect.any(String) }]);
    expect(fields(checkCheckTask(task({ workDayType: 3 })))).toEqual(['workDayType']);
  });

  it('taskNum ranges of the national 包保 checklist: 1–9, 1–9, 1–10', () => {
    for (const [workType, max] of [[1, 9], [2, 9], [3, 10]] as const) {
      expect(checkCheckTask(baobao(workType, 1))).toEqual([]);
      expect(checkCheckTask(baobao(workType, max))).toEqual([]);
      expect(fields(checkCheckTask(baobao(workType, max + 1)))).toEqual(['taskNum']);
      expect(fields(checkCheckTask(baobao(workType, 0)))).toEqual(['taskNum']);
      expect(fields(checkCheckTask(baobao(workType, null)))).toEqual(['taskNum']);
    }
    expect(checkCheckTask(baobao(3, 11))[0].zh).toBe('必须是 1–10 的整数（操作负责人包保清单的序号），实际为 11');
  });

  it('daily tasks hang on a measure and a post/person; 包保 tasks on a 重大危险源', () => {
    expect(fields(checkCheckTask(task({ taskNum: 3 })))).toEqual(['taskNum']);
    expect(fields(checkCheckTask(task({ measurePresent: false })))).toEqual(['controlMeasureId']);
    expect(fields(checkCheckTask(task({ majorHazardSourcePresent: true })))).toEqual(['majorHazardSourceId']);
    expect(fields(checkCheckTask(task({ postPresent: false, personPresent: false })))).toEqual(['postId']);
    expect(checkCheckTask(task({ postPresent: false, personPresent: true }))).toEqual([]);
    expect(fields(checkCheckTask({ ...baobao(1, 1), measurePresent: true }))).toEqual(['controlMeasureId']);
    expect(fields(checkCheckTask({ ...baobao(1, 1), majorHazardSourcePresent: false }))).toEqual(['majorHazardSourceId']);
    expect(fields(checkCheckTask(task({ checkMeans: '电话' })))).toEqual(['checkMeans']);
    expect(fields(checkCheckTask(task({ workType: 4 })))).toEqual(['workType']);
  });
});

describe('other items', () => {
  it('重大危险源: level 1–4, all three 包保责任人', () => {
    const ok = { code: 'M', name: 'n', hazardCode: 'h', level: 1, rValue: null, principalPresent: true, technicalPresent: true, operationalPresent: true };
    expect(checkMajorHazardSource(ok)).toEqual([]);
    expect(fields(checkMajorHazardSource({ ...ok, level: 0, rValue: -1, technicalPresent: false }))).toEqual(['level', 'rValue', 'technicalId']);
  });
  it('风险事件: L, S, L0, S0 are integers 1–5', () => {
    const ok = { code: 'E', name: 'n', description: null, l0: 1, s0: 5, l: 1, s: 1, riskUnitPresent: true };
    expect(checkRiskEvent(ok)).toEqual([]);
    expect(fields(checkRiskEvent({ ...ok, l0: 0, s0: 6, l: 2.5, s: null }))).toEqual(['l', 'l0', 's', 's0']);
  });
});

describe('local date-times (taskStartTime in the template)', () => {
  it('format and parse in the enterprise zone, independent of the host TZ', () => {
    const t = new Date('2026-11-29T16:00:00.000Z');
    expect(formatLocalDateTime(t, 'Asia/Shanghai')).toBe('2026-11-30 00:00');
    expect(parseLocalDateTime('2026-11-30 00:00', 'Asia/Shanghai')).toEqual(t);
    expect(parseLocalDateTime('2026-11-30', 'Asia/Shanghai')).toEqual(t);
    expect(parseLocalDateTime('2026-11-30T08:30:15', 'Asia/Shanghai')).toEqual(new Date('2026-11-30T00:30:15.000Z'));
    expect(formatLocalDateTime(new Date('2026-07-01T10:00:00Z'), 'Europe/Berlin')).toBe('2026-07-01 12:00');
    expect(parseLocalDateTime('2026-07-01 12:00', 'Europe/Berlin')).toEqual(new Date('2026-07-01T10:00:00Z'));
  });
  it('refuses what is not a real date or time', () => {
    for (const bad of ['2026-02-30', '2026-13-01', '2026-11-30 24:00', '2026-11-30 12:60', '30.11.2026', '2026/11/30', '']) {
      expect(parseLocalDateTime(bad, 'Asia/Shanghai')).toBeNull();
    }
  });
});
