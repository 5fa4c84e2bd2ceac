/**
 * The three lists (三清单) — national code tables, the risk matrix, and the value rules every list
 * item must satisfy, whether it arrives through the JSON API or an Excel import. Pure: no I/O.
 *
 * Sources: ../shared/domain.md ("The chain (三清单)", national interface codes), 《危险化学品企业
 * 安全风险分级管控和隐患排查治理导则》(risk matrix L×S, four levels), 应急厅〔2021〕12号 (包保责任人,
 * the national 包保 checklist: 主要负责人 9 items, 技术负责人 9, 操作负责人 10).
 *
 * Every rule returns problems as `ListIssue { field, zh, en }` — `field` is the API field name, the
 * Excel import maps it to its column; `zh` is the problem phrase WITHOUT the field name (e.g.
 * 「必须是 1 或 2，实际为 3」), so the caller can prefix 「管控措施」第 5 行「管控方式」 or 管控方式（dataSrc）.
 */
import { z } from 'zod';
import { validateSchedule, type CycleUnit } from './cycles';
import { localDateMinutes, parseHhmm, zoneOffsetMinutes } from './time';
import { isSupportedInstant, YEAR_MAX, YEAR_MIN } from './inputs';
import { cleanText, trimText } from '../../miniprogram/shared/contract';

// ───────────────────────────── national code tables ─────────────────────────────

/** 管控方式 dataSrc */
export const DATA_SRC = { 1: '自动化监控', 2: '隐患排查' } as const;
/** 措施分类1 classify1 */
export const CLASSIFY1 = { 1: '工程技术', 2: '维护保养', 3: '操作行为', 4: '应急措施' } as const;
/** 措施分类2 classify2: "a-b", a = classify1 */
export const CLASSIFY2 = {
  '1-1': '工艺控制',
  '1-2': '关键设备/部件',
  '1-3': '安全附件',
  '1-4': '安全仪表',
  '1-5': '其他',
  '2-1': '动设备',
  '2-2': '静设备',
  '2-3': '其他',
  '3-1': '人员资质',
  '3-2': '操作记录',
  '3-3': '交接班',
  '3-4': '其他',
  '4-1': '应急设施',
  '4-2': '个体防护',
  '4-3': '消防设施',
  '4-4': '应急预案',
  '4-5': '其他',
} as const;
/** 包保任务类型 workType: 0 a post's daily task, 1–3 a 包保责任人's task */
export const WORK_TYPE = { 0: '日常', 1: '主要负责人', 2: '技术负责人', 3: '操作负责人' } as const;
/** 工作日类型 workDayType */
export const WORK_DAY_TYPE = { 0: '每天', 1: '法定工作日', 2: '非工作日' } as const;
/** 排查方式 checkMeans */
export const CHECK_MEANS = ['拍照', '现场确认'] as const;
export type CheckMeans = (typeof CHECK_MEANS)[number];
/** 重大危险源等级 1..4 (一级 the most dangerous) */
export const MHS_LEVEL = { 1: '一级', 2: '二级', 3: '三级', 4: '四级' } as const;

/** The 包保责任人 role a 包保 task (workType 1..3) belongs to; the MajorHazardSource column holding that person. */
export const BAOBAO_ROLE = { 1: 'principal', 2: 'technical', 3: 'operational' } as const;
export type BaobaoRole = (typeof BAOBAO_ROLE)[keyof typeof BAOBAO_ROLE];
/** Highest item number (taskNum) of the national 包保 checklist per workType (应急厅〔2021〕12号). */
export const TASK_NUM_MAX = { 1: 9, 2: 9, 3: 10 } as const;

// ───────────────────────────── risk matrix ─────────────────────────────

/** 重大 / 较大 / 一般 / 低 风险 */
export type RiskLevel = 'red' | 'orange' | 'yellow' | 'blue';
export const RISK_LEVELS: readonly RiskLevel[] = ['red', 'orange', 'yellow', 'blue'];
export const RISK_LEVEL_ZH: Record<RiskLevel, string> = { red: '重大风险', orange: '较大风险', yellow: '一般风险', blue: '低风险' };

/**
 * The lowest R (= L × S) of each level; below `yellow` is blue. Default (domain.md): red 20–25,
 * orange 15–19, yellow 9–14, blue ≤ 8. A plant may adopt other bands: they are data (Setting
 * `risk_level_thresholds`, see services/lists.ts), checked with riskThresholdsSchema.
 */
export interface RiskThresholds {
  red: number;
  orange: number;
  yellow: number;
}
export const DEFAULT_RISK_THRESHOLDS: Readonly<RiskThresholds> = { red: 20, orange: 15, yellow: 9 };

export const riskThresholdsSchema = z
  .object({ red: z.number().int().min(2).max(25), orange: z.number().int().min(2).max(25), yellow: z.number().int().min(2).max(25) })
  .refine((t) => t.red > t.orange && t.orange > t.yellow, { message: 'expected red > orange > yellow' });

/** R = L × S (each 1..5). */
export function riskValue(l: number, s: number): number {
  return l * s;
}

/** The level of a risk value R under `t`. */
export function riskLevel(r: number, t: RiskThresholds = DEFAULT_RISK_THRESHOLDS): RiskLevel {
  if (r >= t.red) return 'red';
  if (r >= t.orange) return 'orange';
  if (r >= t.yellow) return 'yellow';
  return 'blue';
}

export interface RiskAssessment {
  /** initial risk (before controls) */
  r0: number;
  level0: RiskLevel;
  /** residual risk (after controls) */
  r: number;
  level: RiskLevel;
}

/** Initial and residual risk of a RiskEvent. */
export function assessRisk(e: { l0: number; s0: number; l: number; s: number }, t: RiskThresholds = DEFAULT_RISK_THRESHOLDS): RiskAssessment {
  const r0 = riskValue(e.l0, e.s0);
  const r = riskValue(e.l, e.s);
  return { r0, level0: riskLevel(r0, t), r, level: riskLevel(r, t) };
}

/** Every (L, S) pair whose R falls in `level` (for filtering stored events by level). */
export function pairsOfLevel(level: RiskLevel, t: RiskThresholds = DEFAULT_RISK_THRESHOLDS): Array<{ l: number; s: number }> {
  const out: Array<{ l: number; s: number }> = [];
  for (let l = 1; l <= 5; l++) for (let s = 1; s <= 5; s++) if (riskLevel(riskValue(l, s), t) === level) out.push({ l, s });
  return out;
}

// ───────────────────────────── issues ─────────────────────────────

/** One problem with one field of a list item. */
export interface ListIssue {
  /** API field name (e.g. 'classify2'); the Excel import maps it to a column */
  field: string;
  /** the problem, without the field's name: 「必须是 1 或 2，实际为 3」 */
  zh: string;
  en: string;
}

/** 「实际为 …」: numbers bare, text in quotes. */
export function shown(v: unknown): string {
  if (v === null || v === undefined || v === '') return '空';
  if (typeof v === 'number') return String(v);
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? '无效日期' : v.toISOString();
  return `“${String(v)}”`;
}

/** "1、2 或 3" */
export function orList(values: readonly (string | number)[]): string {
  if (values.length <= 1) return values.map(String).join('');
  return `${values.slice(0, -1).join('、')} 或 ${values[values.length - 1]}`;
}

class Issues {
  readonly list: ListIssue[] = [];
  add(field: string, zh: string, en: string): void {
    this.list.push({ field, zh, en });
  }
  has(field: string): boolean {
    return this.list.some((i) => i.field === field);
  }
  /** free text (cleanText: no control characters, limit in code points); multi-line only for descriptions */
  text(field: string, v: string | null | undefined, max: number, required: boolean, multiline = false): void {
    if (v === null || v === undefined || trimText(v) === '') {
      if (required) this.add(field, '不能为空', 'is required');
      return;
    }
    const r = cleanText(v, { max: Number.MAX_SAFE_INTEGER, multiline });
    if (!r.ok) {
      this.add(field, r.zh, r.en);
      return;
    }
    const n = [...r.value].length;
    if (n > max) this.add(field, `不能超过 ${max} 个字符，实际为 ${n} 个`, `must be at most ${max} characters, got ${n}`);
  }
  oneOf(field: string, v: unknown, allowed: readonly (number | string)[], required = true): void {
    if (v === null || v === undefined || v === '') {
      if (required) this.add(field, `不能为空（应为 ${orList(allowed)}）`, `is required (one of ${allowed.join(', ')})`);
      return;
    }
    if (!allowed.includes(v as never)) this.add(field, `必须是 ${orList(allowed)}，实际为 ${shown(v)}`, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  }
  intRange(field: string, v: number | null | undefined, min: number, max: number, required = true): void {
    if (v === null || v === undefined) {
      if (required) this.add(field, `不能为空（应为 ${min}–${max} 的整数）`, `is required (an integer ${min}..${max})`);
      return;
    }
    if (!Number.isInteger(v) || v < min || v > max) this.add(field, `必须是 ${min}–${max} 的整数，实际为 ${shown(v)}`, `must be an integer ${min}..${max}, got ${v}`);
  }
  reference(field: string, present: boolean, required: boolean): void {
    if (required && !present) this.add(field, '不能为空', 'is required');
  }
}

const intKeys = (o: object) => Object.keys(o).map(Number);

/** Column lengths (schema.prisma): checked before writing, so an import never fails half-way. */
export const MAX_LEN = { code: 64, name: 128, hazardCode: 64, type: 64, measure: 512, classify3: 128, checkContent: 512, paramName: 64, paramUnit: 16, content: 512, eventDescription: 5000 } as const;

/**
 * What a list item's code may contain: letters, digits, `-`, `_` and `.` (the demo plant's codes and
 * the national interface's are all of these). Conservative on purpose: a code is a key in Excel
 * round trips, URLs, QR labels (`dualprev:unit:<company>:<code>`) and chat text, where a NUL or a
 * blank broke the Excel round trip (new-user test).
 */
export const CODE_PATTERN = /^[A-Za-z0-9._-]+$/;

/** A list item's code: the enterprise-wide natural key (CODE_PATTERN, at most 64 characters). */
function checkCode(is: Issues, code: string | null | undefined): void {
  is.text('code', code, MAX_LEN.code, true);
  if (code && !is.has('code') && !CODE_PATTERN.test(code)) {
    is.add('code', `只能包含字母、数字和 - _ .，实际为 ${shown(code)}`, 'may contain only letters, digits, "-", "_" and "."');
  }
}

// ───────────────────────────── items ─────────────────────────────

/** 重大危险源 with its three 包保责任人 (责任清单). `*Present`: whether the person reference was given. */
export interface MajorHazardSourceValues {
  code: string | null;
  name: string | null;
  hazardCode: string | null;
  level: number | null;
  rValue: number | null;
  principalPresent: boolean;
  technicalPresent: boolean;
  operationalPresent: boolean;
}

/** Rules: code, name, 危险源编码 required; level 1–4; R ≥ 0 (2 decimals, < 10^8); all three 包保责任人 named. */
export function checkMajorHazardSource(v: MajorHazardSourceValues): ListIssue[] {
  const is = new Issues();
  checkCode(is, v.code);
  is.text('name', v.name, MAX_LEN.name, true);
  is.text('hazardCode', v.hazardCode, MAX_LEN.hazardCode, true);
  is.intRange('level', v.level, 1, 4);
  if (v.rValue !== null && (!Number.isFinite(v.rValue) || v.rValue < 0 || v.rValue >= 1e8)) {
    is.add('rValue', `必须是 0–99999999.99 的数，实际为 ${shown(v.rValue)}`, `must be a number 0..99999999.99, got ${v.rValue}`);
  }
  // domain.md: one each per 重大危险源 — the 责任清单 is incomplete without them
  is.reference('principalId', v.principalPresent, true);
  is.reference('technicalId', v.technicalPresent, true);
  is.reference('operationalId', v.operationalPresent, true);
  return is.list;
}

export interface RiskObjectValues {
  code: string | null;
  name: string | null;
  type: string | null;
  hazardCode: string | null;
  departmentPresent: boolean;
}

/** Rules: code, name, type (重大危险源 / 高危工艺装置 / 设施…) and department required. */
export function checkRiskObject(v: RiskObjectValues): ListIssue[] {
  const is = new Issues();
  checkCode(is, v.code);
  is.text('name', v.name, MAX_LEN.name, true);
  is.text('type', v.type, MAX_LEN.type, true);
  is.text('hazardCode', v.hazardCode, MAX_LEN.hazardCode, false);
  is.reference('departmentId', v.departmentPresent, true);
  return is.list;
}

export interface RiskUnitValues {
  code: string | null;
  name: string | null;
  riskObjectPresent: boolean;
  departmentPresent: boolean;
  headPresent: boolean;
}

/** Rules: a unit belongs to an object and is owned by a department and its head (domain.md). */
export function checkRiskUnit(v: RiskUnitValues): ListIssue[] {
  const is = new Issues();
  checkCode(is, v.code);
  is.text('name', v.name, MAX_LEN.name, true);
  is.reference('riskObjectId', v.riskObjectPresent, true);
  is.reference('departmentId', v.departmentPresent, true);
  is.reference('headPersonId', v.headPresent, true);
  return is.list;
}

export interface RiskEventValues {
  code: string | null;
  name: string | null;
  description: string | null;
  l0: number | null;
  s0: number | null;
  l: number | null;
  s: number | null;
  riskUnitPresent: boolean;
}

/** Rules: L0, S0, L, S integers 1–5 (R and the level are computed, never entered). */
export function checkRiskEvent(v: RiskEventValues): ListIssue[] {
  const is = new Issues();
  checkCode(is, v.code);
  is.text('name', v.name, MAX_LEN.name, true);
  is.text('description', v.description, MAX_LEN.eventDescription, false, true);
  for (const f of ['l0', 's0', 'l', 's'] as const) is.intRange(f, v[f], 1, 5);
  is.reference('riskUnitId', v.riskUnitPresent, true);
  return is.list;
}

export interface ControlMeasureValues {
  code: string | null;
  description: string | null;
  dataSrc: number | null;
  classify1: number | null;
  classify2: string | null;
  classify3: string | null;
  checkContent: string | null;
  paramName: string | null;
  paramUnit: string | null;
  paramMin: number | null;
  paramMax: number | null;
  riskEventPresent: boolean;
}

/**
 * Rules: dataSrc 1/2; classify1 1–4; classify2 one of the sub-codes of ITS classify1 ("1-4" needs
 * classify1 = 1); key parameter: a safe bound needs the parameter's name, min ≤ max, |bound| < 10^10.
 */
export function checkControlMeasure(v: ControlMeasureValues): ListIssue[] {
  const is = new Issues();
  checkCode(is, v.code);
  is.text('description', v.description, MAX_LEN.measure, true, true);
  is.reference('riskEventId', v.riskEventPresent, true);
  is.oneOf('dataSrc', v.dataSrc, intKeys(DATA_SRC));
  is.oneOf('classify1', v.classify1, intKeys(CLASSIFY1));
  if (v.classify2 === null || v.classify2 === '') {
    is.add('classify2', '不能为空（如 1-4）', 'is required (e.g. 1-4)');
  } else if (!(v.classify2 in CLASSIFY2)) {
    is.add('classify2', `必须是 ${Object.keys(CLASSIFY2).join('、')} 之一，实际为 ${shown(v.classify2)}`, `must be one of the sub-codes ${Object.keys(CLASSIFY2).join(', ')}, got ${JSON.stringify(v.classify2)}`);
  } else if (!is.has('classify1') && v.classify1 !== null && v.classify2.split('-')[0] !== String(v.classify1)) {
    const subs = Object.keys(CLASSIFY2).filter((k) => k.startsWith(`${v.classify1}-`));
    is.add(
      'classify2',
      `必须是措施分类1「${v.classify1} ${CLASSIFY1[v.classify1 as keyof typeof CLASSIFY1]}」下的子类 ${orList(subs)}，实际为 ${shown(v.classify2)}`,
      `must be a sub-code of classify1 ${v.classify1} (${subs.join(', ')}), got ${JSON.stringify(v.classify2)}`,
    );
  }
  is.text('classify3', v.classify3, MAX_LEN.classify3, false);
  is.text('checkContent', v.checkContent, MAX_LEN.checkContent, false, true);
  is.text('paramName', v.paramName, MAX_LEN.paramName, false);
  is.text('paramUnit', v.paramUnit, MAX_LEN.paramUnit, false);
  for (const f of ['paramMin', 'paramMax'] as const) {
    const x = v[f];
    if (x !== null && (!Number.isFinite(x) || Math.abs(x) >= 1e10)) is.add(f, `必须是绝对值小于 10^10 的数，实际为 ${shown(x)}`, `must be a number with |x| < 1e10, got ${x}`);
  }
  const hasBound = v.paramMin !== null || v.paramMax !== null;
  if ((hasBound || (v.paramUnit ?? '') !== '') && (v.paramName ?? '').trim() === '') {
    is.add('paramName', '不能为空（填写了安全范围或单位时必须填写）', 'is required when a safe range or unit is given');
  }
  if (v.paramMin !== null && v.paramMax !== null && !is.has('paramMin') && !is.has('paramMax') && v.paramMin > v.paramMax) {
    is.add('paramMax', `不能小于安全下限 ${v.paramMin}，实际为 ${v.paramMax}`, `safe max ${v.paramMax} is below safe min ${v.paramMin}`);
  }
  return is.list;
}

export interface CheckTaskValues {
  code: string | null;
  content: string | null;
  checkCycle: number | null;
  checkCycleUnit: string | null;
  /** null: the default anchor (taskStartAnchor) is used */
  taskStartTime: Date | null;
  workStartTime: string | null;
  workEndTime: string | null;
  workDayType: number | null;
  workType: number | null;
  taskNum: number | null;
  checkMeans: string | null;
  measurePresent: boolean;
  majorHazardSourcePresent: boolean;
  postPresent: boolean;
  personPresent: boolean;
}

const SCHEDULE_LABELS: Array<[prefix: string, field: string]> = [
  ['排查周期单位', 'checkCycleUnit'],
  ['排查周期', 'checkCycle'],
  ['任务开始时间', 'taskStartTime'],
  ['工作日类型', 'workDayType'],
  ['作业开始时间', 'workStartTime'],
  ['作业结束时间', 'workEndTime'],
];

/**
 * A cycles.ts validateSchedule message ("中文 / English", naming the field in Chinese) as an issue
 * of the field it is about, the Chinese phrase without the field's name.
 */
function scheduleIssue(message: string): ListIssue {
  const cut = message.indexOf('/ ');
  const zh = (cut < 0 ? message : message.slice(0, cut)).trim();
  const en = cut < 0 ? message : message.slice(cut + 2).trim();
  for (const [prefix, field] of SCHEDULE_LABELS) if (zh.startsWith(prefix)) return { field, zh: zh.slice(prefix.length), en };
  // 作业时段只适用于按小时排查的任务
  return { field: 'workStartTime', zh: '只适用于按小时排查的任务（天、月、年任务的作业时段请留空）', en };
}

/**
 * Rules (domain.md CheckTask, 应急厅〔2021〕12号):
 *  - workType 0 (日常): attached to a control measure, no 重大危险源, no taskNum; done by a post
 *    and/or a person.
 *  - workType 1/2/3 (主要/技术/操作负责人 包保): attached to a 重大危险源, no control measure;
 *    taskNum = the item of the national 包保 checklist, 1–9 / 1–9 / 1–10. (The person must be that
 *    source's responsible person of the role: checked by the service, which knows the source.)
 *  - the schedule: cycles.ts validateSchedule (cycle > 0 within its unit's bound, unit 小时/天/月/年,
 *    work window only on hourly tasks, workDayType 0/1/2).
 *  - checkMeans 拍照 or 现场确认; taskStartTime (when given) in 2000–2099 (domain/inputs.ts).
 */
export function checkCheckTask(v: CheckTaskValues): ListIssue[] {
  const is = new Issues();
  checkCode(is, v.code);
  is.text('content', v.content, MAX_LEN.content, true, true);
  is.oneOf('workType', v.workType, intKeys(WORK_TYPE));
  is.oneOf('checkMeans', v.checkMeans, CHECK_MEANS);
  is.oneOf('checkCycleUnit', v.checkCycleUnit, ['小时', '天', '月', '年']);
  is.oneOf('workDayType', v.workDayType, intKeys(WORK_DAY_TYPE));
  if (v.checkCycle === null) is.add('checkCycle', '不能为空（正整数）', 'is required (a positive integer)');
  if (v.taskStartTime !== null && !isSupportedInstant(v.taskStartTime)) {
    is.add('taskStartTime', `必须在 ${YEAR_MIN}–${YEAR_MAX} 年之间，实际为 ${shown(v.taskStartTime)}`, `must lie in ${YEAR_MIN}–${YEAR_MAX}, got ${shown(v.taskStartTime)}`);
  }
  if (!is.has('checkCycleUnit') && !is.has('taskStartTime') && !is.has('workDayType') && v.checkCycle !== null) {
    const problems = validateSchedule({
      checkCycle: v.checkCycle,
      checkCycleUnit: v.checkCycleUnit as CycleUnit,
      // a missing start is replaced by the default anchor, always valid
      taskStartTime: v.taskStartTime ?? new Date(0),
      workStartTime: v.workStartTime,
      workEndTime: v.workEndTime,
      workDayType: v.workDayType as 0 | 1 | 2,
    });
    for (const p of problems) {
      const i = scheduleIssue(p);
      is.add(i.field, i.zh, i.en);
    }
  }
  if (!is.has('workType') && v.workType !== null) {
    if (v.workType === 0) {
      if (!v.measurePresent) is.add('controlMeasureId', '不能为空（日常排查任务必须关联管控措施）', 'a daily task (workType 0) needs a control measure');
      if (v.majorHazardSourcePresent) is.add('majorHazardSourceId', '应为空（日常排查任务不关联重大危险源，包保任务才关联）', 'only 包保 tasks (workType 1–3) attach to a major hazard source');
      if (v.taskNum !== null) is.add('taskNum', '应为空（只有包保任务有任务序号）', 'only 包保 tasks (workType 1–3) have a taskNum');
      if (!v.postPresent && !v.personPresent) is.add('postId', '不能为空（岗位和人员至少填写一项）', 'a post or a person is required');
    } else {
      const max = TASK_NUM_MAX[v.workType as 1 | 2 | 3];
      const role = WORK_TYPE[v.workType as 1 | 2 | 3];
      if (!v.majorHazardSourcePresent) is.add('majorHazardSourceId', `不能为空（${role}包保任务必须关联重大危险源）`, 'a 包保 task (workType 1–3) needs a major hazard source');
      if (v.measurePresent) is.add('controlMeasureId', '应为空（包保任务关联重大危险源，不关联管控措施）', 'a 包保 task attaches to its major hazard source, not to a control measure');
      if (v.taskNum === null) is.add('taskNum', `不能为空（${role}包保任务填写包保清单的序号 1–${max}）`, `a 包保 task needs its checklist item number 1..${max}`);
      else if (!Number.isInteger(v.taskNum) || v.taskNum < 1 || v.taskNum > max) {
        is.add('taskNum', `必须是 1–${max} 的整数（${role}包保清单的序号），实际为 ${shown(v.taskNum)}`, `taskNum of workType ${v.workType} must be 1..${max}, got ${v.taskNum}`);
      }
    }
  }
  return is.list;
}

// ───────────────────────────── local date-times ─────────────────────────────

const LOCAL_DT = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/;

/** 'YYYY-MM-DD HH:mm' wall time of `instant` in `tz` (how taskStartTime appears in the template). */
export function formatLocalDateTime(instant: Date, tz: string): string {
  const wall = new Date(instant.getTime() + zoneOffsetMinutes(instant, tz) * 60_000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${wall.getUTCFullYear()}-${p(wall.getUTCMonth() + 1)}-${p(wall.getUTCDate())} ${p(wall.getUTCHours())}:${p(wall.getUTCMinutes())}`;
}

/**
 * 'YYYY-MM-DD', 'YYYY-MM-DD HH:mm' or 'YYYY-MM-DD HH:mm:ss' as a wall time in `tz` → instant;
 * null when malformed or not a real calendar date/time.
 */
export function parseLocalDateTime(s: string, tz: string): Date | null {
  const m = LOCAL_DT.exec(s.trim());
  if (!m) return null;
  const [, y, mo, d, hh = '00', mi = '00', ss = '00'] = m;
  const probe = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (probe.getUTCFullYear() !== Number(y) || probe.getUTCMonth() !== Number(mo) - 1 || probe.getUTCDate() !== Number(d)) return null;
  let minutes: number;
  try {
    minutes = parseHhmm(`${hh}:${mi}`);
  } catch {
    return null;
  }
  if (Number(ss) > 59) return null;
  return new Date(localDateMinutes(`${y}-${mo}-${d}`, minutes, tz).getTime() + Number(ss) * 1000);
}
