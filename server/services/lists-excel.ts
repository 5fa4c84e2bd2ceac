/**
 * The three lists (三清单) in Excel (exceljs): export, empty template, and an all-or-nothing import.
 * The template is documented in docs/three-lists-template.md; its single source is `SHEETS` below
 * (sheet names, Chinese column names, allowed national code values), which also writes the
 * 填写说明 sheet, so the file, the instructions and the import can never disagree.
 *
 * Import rules:
 *  - One sheet per level, parents before children: 重大危险源及包保责任 → 风险分析对象 → 风险分析单元 →
 *    风险事件 → 管控措施 → 排查任务. A sheet may be left out (that level is not touched); other
 *    sheets (填写说明) are ignored. Columns are found by their header in row 1 (any order); every
 *    importable column of a present sheet must be there (a missing column would otherwise mean
 *    "clear that field" for every row). Columns marked 只读 (names, computed risk) are ignored.
 *  - Every row of every sheet is validated first (types, national codes, the domain rules of
 *    domain/three-lists.ts and cycles.ts, duplicate codes, references). Any problem → 400
 *    `import_invalid` with `details.errors: [{ sheet, row, column, message }]` (row = the Excel row
 *    number, message in Chinese: 「管控措施」第 5 行「管控方式」必须是 1 或 2，实际为 3) and nothing is
 *    written.
 *  - Valid → everything is applied in ONE transaction: upsert by code (parents before children),
 *    changed fields only — importing the same file twice changes nothing, `updatedAt` included.
 *    Rows of the system that the file does not mention are kept (an import never deletes).
 *  - People, posts and departments are NOT imported: they are referenced by code and must exist
 *    (they carry roles and chat identities, which a list file must not be able to grant).
 *  - Check tasks whose schedule changes get their future instances re-laid (lists.ts
 *    taskScheduleChanged), as through the API.
 *
 * Limits (a list file is small; these stop a hostile upload from exhausting memory): 10 MB upload,
 * 100 MB declared uncompressed content, 10 000 rows and 100 columns per sheet.
 */
import { Workbook, type Cell, type Worksheet } from 'exceljs';
import type { PrismaClient } from '../db';
import type { Clock } from '../clock';
import { AppError } from '../errors';
import { trimText } from '../../miniprogram/shared/contract';
import type { Actor } from './alert-actions';
import {
  assessRisk,
  BAOBAO_ROLE,
  checkCheckTask,
  checkControlMeasure,
  checkMajorHazardSource,
  checkRiskEvent,
  checkRiskObject,
  checkRiskUnit,
  CHECK_MEANS,
  CLASSIFY1,
  CLASSIFY2,
  DATA_SRC,
  formatLocalDateTime,
  MHS_LEVEL,
  parseLocalDateTime,
  RISK_LEVEL_ZH,
  shown,
  TASK_NUM_MAX,
  WORK_DAY_TYPE,
  WORK_TYPE,
  type ListIssue,
  type RiskLevel,
} from '../domain/three-lists';
import {
  loadRiskThresholds,
  measureCreateData,
  mhsCreateData,
  objectHazardCodeIssue,
  taskCreateData,
  writeCheckTask,
  writeControlMeasure,
  writeMajorHazardSource,
  writeRiskEvent,
  writeRiskObject,
  writeRiskUnit,
  type CheckTaskData,
  type Tx,
} from './lists';

// ───────────────────────────── the template ─────────────────────────────

export type SheetKey = 'majorHazardSources' | 'riskObjects' | 'riskUnits' | 'riskEvents' | 'controlMeasures' | 'checkTasks';

/**
 * How a cell is read: text; int / decimal (numbers or numeric text); hhmm ('HH:mm', or an Excel
 * time); datetime ('YYYY-MM-DD HH:mm' local to the enterprise, or an Excel date); subcode ("1-4",
 * also when Excel turned it into the date 1月4日); bool (是 / 否, empty = 是).
 */
type Kind = 'text' | 'int' | 'decimal' | 'hhmm' | 'datetime' | 'subcode' | 'bool';

export interface ColumnDef {
  /** the column name in row 1 */
  header: string;
  /** the API field it fills (ids are given as codes here), or a read-only key */
  field: string;
  kind: Kind;
  /** must be filled (for the instructions; the rules themselves are in domain/three-lists.ts) */
  required?: boolean;
  /** exported for reading, ignored on import (names, computed risk) */
  readOnly?: boolean;
  /** allowed values, offered as a drop-down in the template */
  list?: readonly string[];
  width: number;
  /** what goes in it (instructions sheet, header comment, docs) */
  note: string;
}

export interface SheetDef {
  key: SheetKey;
  name: string;
  /** one line on what a row is */
  what: string;
  columns: ColumnDef[];
}

const codeNote = '本企业内唯一，只能包含字母、数字和 - _ .；导入时按编码新增或更新';
const personNote = '人员编码，须已在系统中（人员、岗位、部门不通过本表导入）';
const ro = (header: string, field: string, width: number, note: string): ColumnDef => ({ header, field, kind: 'text', readOnly: true, width, note: `只读：${note}，导入时忽略` });
const codes = (o: object) => Object.entries(o).map(([k, v]) => `${k} ${v}`).join('、');

/** The workbook layout: one sheet per level, parents first. */
export const SHEETS: readonly SheetDef[] = [
  {
    key: 'majorHazardSources',
    name: '重大危险源及包保责任',
    what: '每行一个重大危险源及其三名包保责任人（主要负责人、技术负责人、操作负责人）——责任清单',
    columns: [
      { header: '重大危险源编码', field: 'code', kind: 'text', required: true, width: 16, note: codeNote },
      { header: '重大危险源名称', field: 'name', kind: 'text', required: true, width: 24, note: '如 液氯储罐区' },
      { header: '危险源编码', field: 'hazardCode', kind: 'text', required: true, width: 20, note: '重大危险源备案（国家/省平台）编码' },
      { header: '重大危险源等级', field: 'level', kind: 'int', required: true, list: ['1', '2', '3', '4'], width: 14, note: codes(MHS_LEVEL) },
      { header: 'R值', field: 'rValue', kind: 'decimal', width: 10, note: '分级计算的 R 值，可空' },
      { header: '主要负责人编码', field: 'principalId', kind: 'text', required: true, width: 16, note: personNote },
      ro('主要负责人姓名', 'principalName', 14, '按编码显示的姓名'),
      { header: '技术负责人编码', field: 'technicalId', kind: 'text', required: true, width: 16, note: personNote },
      ro('技术负责人姓名', 'technicalName', 14, '按编码显示的姓名'),
      { header: '操作负责人编码', field: 'operationalId', kind: 'text', required: true, width: 16, note: personNote },
      ro('操作负责人姓名', 'operationalName', 14, '按编码显示的姓名'),
    ],
  },
  {
    key: 'riskObjects',
    name: '风险分析对象',
    what: '每行一个风险分析对象（重大危险源、高危工艺装置、设施……）',
    columns: [
      { header: '风险分析对象编码', field: 'code', kind: 'text', required: true, width: 16, note: codeNote },
      { header: '风险分析对象名称', field: 'name', kind: 'text', required: true, width: 24, note: '' },
      { header: '对象类型', field: 'type', kind: 'text', required: true, width: 14, note: '如 重大危险源、高危工艺装置、设施设备、作业活动' },
      { header: '重大危险源编码', field: 'majorHazardSourceId', kind: 'text', width: 16, note: '对象是重大危险源时填写（本表「重大危险源及包保责任」或系统中已有的编码）' },
      { header: '危险源编码', field: 'hazardCode', kind: 'text', width: 20, note: '可空：填了重大危险源编码时自动取该重大危险源的危险源编码；若填写须与之一致' },
      { header: '部门编码', field: 'departmentId', kind: 'text', required: true, width: 12, note: '责任部门编码，须已在系统中' },
      ro('部门名称', 'departmentName', 14, '按编码显示的部门名称'),
    ],
  },
  {
    key: 'riskUnits',
    name: '风险分析单元',
    what: '每行一个风险分析单元（对象的组成部分），归属一个部门及其负责人',
    columns: [
      { header: '风险分析单元编码', field: 'code', kind: 'text', required: true, width: 16, note: codeNote },
      { header: '风险分析单元名称', field: 'name', kind: 'text', required: true, width: 24, note: '' },
      { header: '风险分析对象编码', field: 'riskObjectId', kind: 'text', required: true, width: 16, note: '所属风险分析对象（本文件或系统中已有）' },
      { header: '部门编码', field: 'departmentId', kind: 'text', required: true, width: 12, note: '责任部门编码，须已在系统中' },
      ro('部门名称', 'departmentName', 14, '按编码显示的部门名称'),
      { header: '责任人编码', field: 'headPersonId', kind: 'text', required: true, width: 12, note: `单元责任人（部门负责人）的${personNote}` },
      ro('责任人姓名', 'headName', 12, '按编码显示的姓名'),
    ],
  },
  {
    key: 'riskEvents',
    name: '风险事件',
    what: '每行一个风险事件及其管控前（L0×S0）、管控后（L×S）的风险',
    columns: [
      { header: '风险事件编码', field: 'code', kind: 'text', required: true, width: 14, note: codeNote },
      { header: '风险事件名称', field: 'name', kind: 'text', required: true, width: 28, note: '如 储罐超压导致氯气泄漏' },
      { header: '风险分析单元编码', field: 'riskUnitId', kind: 'text', required: true, width: 16, note: '所属风险分析单元（本文件或系统中已有）' },
      { header: '事件描述', field: 'description', kind: 'text', width: 30, note: '可空' },
      { header: '初始可能性L0', field: 'l0', kind: 'int', required: true, list: ['1', '2', '3', '4', '5'], width: 12, note: '管控前可能性，1–5 的整数' },
      { header: '初始严重性S0', field: 's0', kind: 'int', required: true, list: ['1', '2', '3', '4', '5'], width: 12, note: '管控前严重性，1–5 的整数' },
      ro('初始风险值R0', 'r0', 12, 'R0 = L0 × S0'),
      ro('初始风险等级', 'level0', 12, '按 R0 分级：重大风险（红）/较大风险（橙）/一般风险（黄）/低风险（蓝）'),
      { header: '残余可能性L', field: 'l', kind: 'int', required: true, list: ['1', '2', '3', '4', '5'], width: 12, note: '管控后可能性，1–5 的整数' },
      { header: '残余严重性S', field: 's', kind: 'int', required: true, list: ['1', '2', '3', '4', '5'], width: 12, note: '管控后严重性，1–5 的整数' },
      ro('残余风险值R', 'r', 12, 'R = L × S'),
      ro('残余风险等级', 'level', 12, '按 R 分级（默认 20–25 重大、15–19 较大、9–14 一般、≤8 低）'),
    ],
  },
  {
    key: 'controlMeasures',
    name: '管控措施',
    what: '每行一项管控措施，可带一个关键参数及其安全范围（排查读数超出即报警）',
    columns: [
      { header: '管控措施编码', field: 'code', kind: 'text', required: true, width: 14, note: codeNote },
      { header: '风险事件编码', field: 'riskEventId', kind: 'text', required: true, width: 14, note: '所属风险事件（本文件或系统中已有）' },
      { header: '管控措施描述', field: 'description', kind: 'text', required: true, width: 36, note: '' },
      { header: '管控方式', field: 'dataSrc', kind: 'int', required: true, list: ['1', '2'], width: 10, note: `dataSrc：${codes(DATA_SRC)}` },
      { header: '措施分类1', field: 'classify1', kind: 'int', required: true, list: ['1', '2', '3', '4'], width: 10, note: `classify1：${codes(CLASSIFY1)}` },
      { header: '措施分类2', field: 'classify2', kind: 'subcode', required: true, list: Object.keys(CLASSIFY2), width: 10, note: `classify2，须属于措施分类1：${codes(CLASSIFY2)}` },
      { header: '措施分类3', field: 'classify3', kind: 'text', width: 16, note: 'classify3，自定义细类，可空' },
      { header: '排查内容', field: 'checkContent', kind: 'text', width: 30, note: '该措施的默认排查内容，可空' },
      { header: '关键参数名称', field: 'paramName', kind: 'text', width: 14, note: '如 储罐压力；填写安全范围或单位时必填' },
      { header: '参数单位', field: 'paramUnit', kind: 'text', width: 10, note: '如 MPa、%、℃' },
      { header: '安全下限', field: 'paramMin', kind: 'decimal', width: 10, note: '可空；不大于安全上限' },
      { header: '安全上限', field: 'paramMax', kind: 'decimal', width: 10, note: '可空；不小于安全下限' },
    ],
  },
  {
    key: 'checkTasks',
    name: '排查任务',
    what: '每行一个隐患排查任务：谁（岗位/人员）按什么周期排查哪项措施；包保任务挂在重大危险源上',
    columns: [
      { header: '排查任务编码', field: 'code', kind: 'text', required: true, width: 14, note: codeNote },
      { header: '管控措施编码', field: 'controlMeasureId', kind: 'text', width: 14, note: '日常任务（包保任务类型 0）必填；包保任务不填' },
      { header: '重大危险源编码', field: 'majorHazardSourceId', kind: 'text', width: 16, note: '包保任务（包保任务类型 1–3）必填；日常任务不填' },
      { header: '排查内容', field: 'content', kind: 'text', required: true, width: 36, note: '' },
      { header: '排查周期', field: 'checkCycle', kind: 'int', required: true, width: 10, note: 'checkCycle，正整数（小时最多 24，每周 = 7 天，每季度 = 3 月）' },
      { header: '周期单位', field: 'checkCycleUnit', kind: 'text', required: true, list: ['小时', '天', '月', '年'], width: 10, note: 'checkCycleUnit：小时、天、月、年' },
      { header: '任务开始时间', field: 'taskStartTime', kind: 'datetime', width: 18, note: '企业所在时区的 YYYY-MM-DD HH:mm，周期从该日期排起；可空：新任务取本周期开始（今天 0 点、本周一、本月 1 日或 1 月 1 日），已有任务保持不变' },
      { header: '作业开始时间', field: 'workStartTime', kind: 'hhmm', width: 12, note: '仅按小时排查的任务：每天作业时段开始 HH:mm（空 = 00:00）' },
      { header: '作业结束时间', field: 'workEndTime', kind: 'hhmm', width: 12, note: '仅按小时排查的任务：作业时段结束 HH:mm，可为 24:00；早于开始时间表示跨夜（空 = 24:00）' },
      { header: '工作日类型', field: 'workDayType', kind: 'int', required: true, list: ['0', '1', '2'], width: 10, note: `workDayType：${codes(WORK_DAY_TYPE)}` },
      { header: '包保任务类型', field: 'workType', kind: 'int', required: true, list: ['0', '1', '2', '3'], width: 12, note: `workType：${codes(WORK_TYPE)}` },
      { header: '任务序号', field: 'taskNum', kind: 'int', width: 10, note: `taskNum：包保任务在国家包保清单中的序号（主要负责人 1–${TASK_NUM_MAX[1]}、技术负责人 1–${TASK_NUM_MAX[2]}、操作负责人 1–${TASK_NUM_MAX[3]}）；日常任务不填` },
      { header: '岗位编码', field: 'postId', kind: 'text', width: 14, note: '执行岗位，须已在系统中；日常任务岗位和人员至少填一项' },
      ro('岗位名称', 'postName', 14, '按编码显示的岗位名称'),
      { header: '人员编码', field: 'personId', kind: 'text', width: 10, note: `执行人员，${personNote}；包保任务可空（取该重大危险源对应的包保责任人），填写须与之一致` },
      ro('人员姓名', 'personName', 10, '按编码显示的姓名'),
      { header: '排查方式', field: 'checkMeans', kind: 'text', required: true, list: CHECK_MEANS, width: 10, note: 'checkMeans：拍照、现场确认' },
      { header: '是否启用', field: 'enabled', kind: 'bool', list: ['是', '否'], width: 10, note: '是 / 否，空 = 是；停用的任务不再生成排查实例' },
    ],
  },
];

export const INSTRUCTIONS_SHEET = '填写说明';
export const XLSX_MIME = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** Upload and content limits of an import (bytes / rows). */
export const IMPORT_LIMITS = { maxBytes: 10 * 1024 * 1024, maxUncompressedBytes: 100 * 1024 * 1024, maxRows: 10_000, maxCols: 100 } as const;

/**
 * The import's transaction: inserting runs at about 1 ms per row here (Prisma createMany over the
 * MariaDB adapter), so a full file (6 × 10 000 rows) fits well inside 5 minutes; a plant's real
 * lists are a few thousand rows (seconds).
 */
const IMPORT_TX = { maxWait: 10_000, timeout: 300_000 } as const;

const sheetDef = (k: SheetKey) => SHEETS.find((s) => s.key === k)!;

// ───────────────────────────── writing ─────────────────────────────

type CellValue = string | number | null;
type SheetRows = Record<SheetKey, CellValue[][]>;

const LEVEL_FILL: Record<RiskLevel, string> = { red: 'FFFF0000', orange: 'FFFFA500', yellow: 'FFFFFF00', blue: 'FF0070C0' };
const LEVEL_BY_ZH = new Map(Object.entries(RISK_LEVEL_ZH).map(([k, v]) => [v, k as RiskLevel]));

function instructionLines(): string[][] {
  const lines: string[][] = [
    ['三清单导入模板 填写说明'],
    [''],
    ['1. 每个层级一张工作表，父级在前：重大危险源及包保责任 → 风险分析对象 → 风险分析单元 → 风险事件 → 管控措施 → 排查任务。'],
    ['2. 第 1 行为列名，请勿修改；列的顺序可以调整。可只保留需要导入的工作表，但保留的表须包含全部可导入的列。'],
    ['3. 「编码」是本企业内的唯一标识：系统中已有该编码则更新，没有则新增；文件中没有的行不会被删除。上级用编码引用（本文件或系统中已有的均可）。'],
    ['4. 人员、岗位、部门不通过本文件导入，按编码引用，须先在系统中维护。'],
    ['5. 标为「只读」的列（姓名、部门/岗位名称、风险值和风险等级）仅供查看，导入时忽略。'],
    ['6. 导入前系统会校验所有行：任何一处错误都会列出（工作表、行号、列名、原因），且不导入任何数据；全部正确才在一个事务中整体导入。同一文件重复导入不会产生任何变化。'],
    ['7. 编码、措施分类2（如 1-4）、时间请按文本填写，避免 Excel 自动转成数字或日期。'],
    [''],
  ];
  for (const s of SHEETS) {
    lines.push([`【${s.name}】${s.what}`]);
    lines.push(['列名', '必填', '说明']);
    for (const c of s.columns) lines.push([c.header, c.readOnly ? '只读' : c.required ? '是' : '', c.note]);
    lines.push(['']);
  }
  return lines;
}

function addInstructions(wb: Workbook): void {
  const ws = wb.addWorksheet(INSTRUCTIONS_SHEET);
  ws.columns = [{ width: 22 }, { width: 8 }, { width: 100 }];
  for (const line of instructionLines()) {
    const row = ws.addRow(line);
    if (line.length === 1 && /^(【|三清单)/.test(line[0])) row.font = { bold: true };
    if (line[0] === '列名') row.font = { bold: true };
  }
}

function addDataSheet(wb: Workbook, def: SheetDef, rows: CellValue[][]): void {
  const ws = wb.addWorksheet(def.name, { views: [{ state: 'frozen', ySplit: 1 }] });
  ws.columns = def.columns.map((c) => ({
    header: c.header,
    width: c.width,
    // text format keeps "001", "1-4" and "08:00" as typed (Excel would turn them into numbers/dates)
    style: c.kind === 'text' || c.kind === 'subcode' || c.kind === 'hhmm' || c.kind === 'datetime' ? { numFmt: '@' } : {},
  }));
  const header = ws.getRow(1);
  header.font = { bold: true };
  def.columns.forEach((c, i) => {
    const cell = header.getCell(i + 1);
    cell.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: c.readOnly ? 'FFD9D9D9' : c.required ? 'FFFCE4D6' : 'FFDDEBF7' } };
    cell.note = c.note || c.header;
  });
  for (const r of rows) ws.addRow(r);
  const last = Math.max(rows.length + 1, 1000);
  def.columns.forEach((c, i) => {
    const col = ws.getColumn(i + 1).letter;
    if (c.list) {
      (ws as unknown as { dataValidations: { add(addr: string, v: object): void } }).dataValidations.add(`${col}2:${col}${last}`, {
        type: 'list',
        allowBlank: true,
        formulae: [`"${c.list.join(',')}"`],
        showErrorMessage: true,
        errorStyle: 'warning',
        error: c.note,
      });
    }
    if (c.field === 'level' || c.field === 'level0') {
      for (let r = 2; r <= rows.length + 1; r++) {
        const cell = ws.getCell(`${col}${r}`);
        const lv = LEVEL_BY_ZH.get(String(cell.value));
        if (lv) cell.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: LEVEL_FILL[lv] } };
      }
    }
  });
}

async function workbookBuffer(rows: SheetRows | null, meta: { title: string; now: Date }): Promise<Buffer> {
  const wb = new Workbook();
  wb.creator = 'dualprev';
  wb.title = meta.title;
  wb.created = meta.now;
  wb.modified = meta.now;
  if (!rows) addInstructions(wb);
  for (const s of SHEETS) addDataSheet(wb, s, rows ? rows[s.key] : []);
  if (rows) addInstructions(wb);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

/** The empty template: 填写说明 first, then the six sheets with their headers. */
export async function templateWorkbook(clock: Clock): Promise<Buffer> {
  return workbookBuffer(null, { title: '三清单导入模板', now: clock.now() });
}

const collator = new Intl.Collator('en', { numeric: true });
const byCode = <T extends { code: string }>(a: T, b: T) => collator.compare(a.code, b.code) || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0);

/**
 * The enterprise's three lists as a workbook (six sheets in template layout, rows ordered by code
 * with numbers compared as numbers: T2 before T10; then 填写说明). Values are the stored national
 * codes; references are codes. The export re-imports unchanged into any enterprise that has the
 * same people, posts and departments codes.
 */
export async function exportLists(prisma: PrismaClient, clock: Clock, actor: Actor): Promise<{ buffer: Buffer; filename: string }> {
  const enterpriseId = actor.enterpriseId;
  const where = { where: { enterpriseId } };
  const [ent, t, mhs, objects, units, events, measures, tasks] = await Promise.all([
    prisma.enterprise.findUniqueOrThrow({ where: { id: enterpriseId } }),
    loadRiskThresholds(prisma),
    prisma.majorHazardSource.findMany({ ...where, include: { principal: true, technical: true, operational: true } }),
    prisma.riskObject.findMany({ ...where, include: { majorHazardSource: true, department: true } }),
    prisma.riskUnit.findMany({ ...where, include: { riskObject: true, department: true, head: true } }),
    prisma.riskEvent.findMany({ ...where, include: { riskUnit: true } }),
    prisma.controlMeasure.findMany({ ...where, include: { riskEvent: true } }),
    prisma.checkTask.findMany({ ...where, include: { controlMeasure: true, majorHazardSource: true, post: true, person: true } }),
  ]);
  const num = (d: { toString(): string } | null) => (d === null ? null : Number(d.toString()));
  const rows: SheetRows = {
    majorHazardSources: mhs.sort(byCode).map((r) => [
      r.code,
      r.name,
      r.hazardCode,
      r.level,
      num(r.rValue),
      r.principal?.code ?? null,
      r.principal?.name ?? null,
      r.technical?.code ?? null,
      r.technical?.name ?? null,
      r.operational?.code ?? null,
      r.operational?.name ?? null,
    ]),
    riskObjects: objects.sort(byCode).map((r) => [r.code, r.name, r.type, r.majorHazardSource?.code ?? null, r.hazardCode, r.department?.code ?? null, r.department?.name ?? null]),
    riskUnits: units.sort(byCode).map((r) => [r.code, r.name, r.riskObject.code, r.department?.code ?? null, r.department?.name ?? null, r.head?.code ?? null, r.head?.name ?? null]),
    riskEvents: events.sort(byCode).map((r) => {
      const a = assessRisk(r, t);
      return [r.code, r.name, r.riskUnit.code, r.description, r.l0, r.s0, a.r0, RISK_LEVEL_ZH[a.level0], r.l, r.s, a.r, RISK_LEVEL_ZH[a.level]];
    }),
    controlMeasures: measures
      .sort(byCode)
      .map((r) => [r.code, r.riskEvent.code, r.description, r.dataSrc, r.classify1, r.classify2, r.classify3, r.checkContent, r.paramName, r.paramUnit, num(r.paramMin), num(r.paramMax)]),
    checkTasks: tasks.sort(byCode).map((r) => [
      r.code,
      r.controlMeasure?.code ?? null,
      r.majorHazardSource?.code ?? null,
      r.content,
      r.checkCycle,
      r.checkCycleUnit,
      formatLocalDateTime(r.taskStartTime, ent.timezone),
      r.workStartTime,
      r.workEndTime,
      r.workDayType,
      r.workType,
      r.taskNum,
      r.post?.code ?? null,
      r.post?.name ?? null,
      r.person?.code ?? null,
      r.person?.name ?? null,
      r.checkMeans,
      r.enabled ? '是' : '否',
    ]),
  };
  const now = clock.now();
  const buffer = await workbookBuffer(rows, { title: `${ent.name}（${ent.companyCode}）三清单`, now });
  const stamp = formatLocalDateTime(now, ent.timezone).slice(0, 10).replace(/-/g, '');
  return { buffer, filename: `三清单-${ent.companyCode}-${stamp}.xlsx` };
}

// ───────────────────────────── reading ─────────────────────────────

/** One row-level problem of an import. */
export interface ImportError {
  sheet: string;
  /** Excel row number (1 = the header row; 0 = the workbook as a whole) */
  row: number;
  column: string;
  /** 「管控措施」第 5 行「管控方式」必须是 1 或 2，实际为 3 */
  message: string;
}

type Raw = string | number | boolean | Date | { error: string } | null;

/** A cell's value with formulas, rich text and hyperlinks resolved; blank text → null. */
function rawValue(cell: Cell): Raw {
  const norm = (v: unknown): Raw => {
    if (v === null || v === undefined) return null;
    // blanks and invisible characters (U+200B, U+FEFF…) at either end are not part of the value
    if (typeof v === 'string') return trimText(v) === '' ? null : trimText(v);
    if (typeof v === 'number' || typeof v === 'boolean' || v instanceof Date) return v;
    if (typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (Array.isArray(o.richText)) return norm((o.richText as Array<{ text: string }>).map((t) => t.text).join(''));
      if ('formula' in o || 'sharedFormula' in o) return norm(o.result);
      if ('text' in o) return norm(o.text);
      if ('error' in o) return { error: String(o.error) };
    }
    return String(v);
  };
  return norm(cell.value);
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** Excel date serial (days since 1899-12-30) → the wall time it shows, as a UTC-based Date. */
const excelSerialToDate = (n: number) => new Date(Math.round((n - 25569) * 86_400_000));
const wallText = (d: Date) => `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`;

interface Parsed {
  value: string | number | boolean | null;
  /** the problem with the cell, without the location */
  problem?: string;
}

/** Reads one cell as its column's kind. */
function parseCell(raw: Raw, kind: Kind): Parsed {
  if (raw !== null && typeof raw === 'object' && !(raw instanceof Date)) return { value: null, problem: `是错误值 ${raw.error}` };
  if (raw === null) return { value: kind === 'bool' ? true : null };
  switch (kind) {
    case 'text':
      if (typeof raw === 'string') return { value: raw };
      if (typeof raw === 'number') return { value: String(raw) };
      if (raw instanceof Date) return { value: null, problem: '应为文本，实际为日期（请把该列设为文本格式后重新输入）' };
      return { value: null, problem: `应为文本，实际为 ${String(raw)}` };
    case 'int':
      if (typeof raw === 'number' && Number.isInteger(raw)) return { value: raw };
      if (typeof raw === 'string' && /^[+-]?\d{1,9}$/.test(raw)) return { value: Number(raw) };
      return { value: null, problem: `必须是整数，实际为 ${shownRaw(raw)}` };
    case 'decimal':
      if (typeof raw === 'number' && Number.isFinite(raw)) return { value: raw };
      if (typeof raw === 'string' && /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(raw)) return { value: Number(raw) };
      return { value: null, problem: `必须是数字，实际为 ${shownRaw(raw)}` };
    case 'hhmm': {
      if (typeof raw === 'string') {
        const m = /^(\d{1,2}):(\d{2})$/.exec(raw);
        return m ? { value: `${pad2(Number(m[1]))}:${m[2]}` } : { value: null, problem: `必须是 HH:mm 格式的时间，实际为 ${shownRaw(raw)}` };
      }
      // an Excel time is a fraction of a day (1 = 24:00); exceljs shows it as a date on 1899-12-30
      const minutes = raw instanceof Date ? Math.round((raw.getTime() - Date.UTC(1899, 11, 30)) / 60_000) : typeof raw === 'number' ? Math.round(raw * 1440) : NaN;
      if (!Number.isInteger(minutes) || minutes < 0 || minutes > 1440) return { value: null, problem: `必须是 HH:mm 格式的时间，实际为 ${shownRaw(raw)}` };
      return { value: `${pad2(Math.floor(minutes / 60))}:${pad2(minutes % 60)}` };
    }
    case 'datetime':
      if (typeof raw === 'string') return { value: raw };
      // Excel dates carry no zone: the wall time shown is read in the enterprise's zone
      if (raw instanceof Date) return { value: wallText(raw) };
      if (typeof raw === 'number') return { value: wallText(excelSerialToDate(raw)) };
      return { value: null, problem: `必须是 YYYY-MM-DD HH:mm 格式的日期时间，实际为 ${shownRaw(raw)}` };
    case 'subcode':
      if (typeof raw === 'string') return { value: raw };
      // Excel turns a typed 1-4 into the date 1月4日
      if (raw instanceof Date) return { value: `${raw.getUTCMonth() + 1}-${raw.getUTCDate()}` };
      return { value: null, problem: `必须是“a-b”形式的子类编码（如 1-4），实际为 ${shownRaw(raw)}` };
    case 'bool': {
      const s = String(raw).trim().toLowerCase();
      if (['是', 'y', 'yes', 'true', '1', '启用'].includes(s)) return { value: true };
      if (['否', 'n', 'no', 'false', '0', '停用'].includes(s)) return { value: false };
      return { value: null, problem: `必须是 是 或 否，实际为 ${shownRaw(raw)}` };
    }
  }
}

function shownRaw(raw: Raw): string {
  if (raw instanceof Date) return `日期 ${wallText(raw)}`;
  if (typeof raw === 'boolean') return raw ? 'TRUE' : 'FALSE';
  return shown(raw);
}

interface ImportRow {
  row: number;
  v: Record<string, string | number | boolean | null>;
  /** fields whose cell could not be read (their rule errors are not repeated) */
  bad: Set<string>;
}

/** ZIP central directory: the sum of the declared uncompressed sizes, or null when not a ZIP. */
export function zipDeclaredSize(buf: Buffer): number | null {
  const min = Math.max(0, buf.length - 22 - 65_535);
  for (let i = buf.length - 22; i >= min; i--) {
    if (buf.readUInt32LE(i) !== 0x06054b50) continue;
    const entries = buf.readUInt16LE(i + 10);
    let p = buf.readUInt32LE(i + 16);
    let total = 0;
    for (let n = 0; n < entries; n++) {
      if (p + 46 > buf.length || buf.readUInt32LE(p) !== 0x02014b50) return null;
      const size = buf.readUInt32LE(p + 24);
      total += size === 0xffffffff ? Number.MAX_SAFE_INTEGER : size; // ZIP64: treat as too large
      p += 46 + buf.readUInt16LE(p + 28) + buf.readUInt16LE(p + 30) + buf.readUInt16LE(p + 32);
    }
    return total;
  }
  return null;
}

const unreadable = (why: string, en: string) => new AppError(400, 'import_unreadable', `无法读取导入文件：${why}`, `cannot read the upload: ${en}`);

/** Loads an .xlsx within IMPORT_LIMITS. @throws AppError 400 import_unreadable, 413 import_too_large */
async function loadWorkbook(buf: Buffer): Promise<Workbook> {
  if (buf.length === 0) throw unreadable('文件为空', 'empty body');
  if (buf.length > IMPORT_LIMITS.maxBytes) throw tooLarge();
  const declared = zipDeclaredSize(buf);
  if (declared === null) throw unreadable('不是 Excel（.xlsx）文件', 'not an .xlsx (ZIP) file');
  if (declared > IMPORT_LIMITS.maxUncompressedBytes) throw tooLarge();
  const wb = new Workbook();
  try {
    // data validations and conditional formats can name huge ranges that exceljs expands cell by cell
    await wb.xlsx.load(buf as never, { ignoreNodes: ['dataValidations', 'conditionalFormatting', 'extLst'], maxRows: IMPORT_LIMITS.maxRows + 1, maxCols: IMPORT_LIMITS.maxCols } as never);
  } catch (e) {
    if (/Max (row|c) count/.test((e as Error).message)) throw tooLarge();
    throw unreadable('文件已损坏或不是 Excel（.xlsx）文件', (e as Error).message);
  }
  return wb;
}

export const tooLarge = () =>
  new AppError(
    413,
    'import_too_large',
    `导入文件过大（上传不超过 ${IMPORT_LIMITS.maxBytes / 1024 / 1024} MB，每张工作表不超过 ${IMPORT_LIMITS.maxRows} 行、${IMPORT_LIMITS.maxCols} 列）`,
    `import too large (at most ${IMPORT_LIMITS.maxBytes} bytes, ${IMPORT_LIMITS.maxRows} rows and ${IMPORT_LIMITS.maxCols} columns per sheet)`,
  );

const normHeader = (s: string) => s.replace(/[\s*＊]/g, '');

/** Reads the present sheets' rows; cell-level problems go to `errors`. */
function readSheets(wb: Workbook, errors: ImportError[]): Partial<Record<SheetKey, ImportRow[]>> {
  const out: Partial<Record<SheetKey, ImportRow[]>> = {};
  for (const def of SHEETS) {
    const ws: Worksheet | undefined = wb.worksheets.find((w) => w.name.trim() === def.name);
    if (!ws) continue;
    const err = (row: number, column: string, problem: string) => errors.push({ sheet: def.name, row, column, message: `「${def.name}」第 ${row} 行「${column}」${problem}` });
    const headerAt = new Map<string, number>();
    ws.getRow(1).eachCell((cell, col) => {
      const h = rawValue(cell);
      if (typeof h !== 'string') return;
      const name = normHeader(h);
      if (headerAt.has(name)) err(1, name, `列名重复（第 ${headerAt.get(name)} 列和第 ${col} 列）`);
      else headerAt.set(name, col);
    });
    const cols = def.columns.filter((c) => !c.readOnly);
    const missing = cols.filter((c) => !headerAt.has(c.header));
    for (const c of missing) err(1, c.header, '缺少该列（请使用模板或导出文件的表头）');
    if (missing.length) continue;
    const rows: ImportRow[] = [];
    ws.eachRow({ includeEmpty: false }, (r, rowNumber) => {
      if (rowNumber === 1) return;
      const raws = cols.map((c) => rawValue(r.getCell(headerAt.get(c.header)!)));
      if (raws.every((x) => x === null)) return;
      const row: ImportRow = { row: rowNumber, v: {}, bad: new Set() };
      cols.forEach((c, i) => {
        const p = parseCell(raws[i], c.kind);
        row.v[c.field] = p.value;
        if (p.problem) {
          row.bad.add(c.field);
          err(rowNumber, c.header, p.problem);
        }
      });
      rows.push(row);
    });
    out[def.key] = rows;
  }
  return out;
}

// ───────────────────────────── importing ─────────────────────────────

export interface SheetSummary {
  sheet: string;
  key: SheetKey;
  created: number;
  updated: number;
  unchanged: number;
}

export interface ImportResult {
  /** true: validated and applied in a transaction that was rolled back (nothing changed) */
  dryRun: boolean;
  sheets: SheetSummary[];
  /** check tasks whose schedule changed: their future instances will be re-laid */
  rescheduledTasks: number;
}

class DryRun extends Error {
  constructor(readonly result: ImportResult) {
    super('dry run');
  }
}

const MAX_REPORTED_ERRORS = 1000;

/**
 * Validates every row of an .xlsx of the three lists and, when all are valid, applies them in one
 * transaction (see the module comment). `dryRun`: validate and compute the summary, write nothing.
 * @returns per-sheet created / updated / unchanged counts
 * @throws AppError 400 import_unreadable (not an .xlsx), 400 import_invalid (`details.errors`:
 *         every problem, at most 1000, `details.total` their number), 413 import_too_large,
 *         409 import_conflict (a concurrent change of the same codes; nothing imported)
 */
export async function importLists(prisma: PrismaClient, clock: Clock, actor: Actor, buf: Buffer, opts: { dryRun?: boolean } = {}): Promise<ImportResult> {
  const wb = await loadWorkbook(buf);
  const errors: ImportError[] = [];
  const sheets = readSheets(wb, errors);
  if (!SHEETS.some((s) => wb.worksheets.some((w) => w.name.trim() === s.name))) {
    errors.push({ sheet: '', row: 0, column: '', message: `文件中没有三清单工作表（应为 ${SHEETS.map((s) => `「${s.name}」`).join('、')} 中的至少一张）` });
  }
  const now = clock.now();
  try {
    return await prisma.$transaction(async (tx) => {
      const result = await validateAndApply(tx, actor, sheets, errors, now);
      if (opts.dryRun) throw new DryRun({ ...result, dryRun: true });
      return result;
    }, IMPORT_TX);
  } catch (e) {
    if (e instanceof DryRun) return e.result;
    // another import or edit of the same codes committed between our reads and writes
    const code = (e as { code?: string }).code;
    if (code === 'P2002' || code === 'P2034') {
      throw new AppError(409, 'import_conflict', '导入期间三清单被同时修改，未导入任何数据，请重试', 'the lists changed while importing; nothing was imported, try again');
    }
    throw e;
  }
}

function invalidImport(errors: ImportError[]): AppError {
  const order = new Map(SHEETS.map((s, i) => [s.name, i]));
  const colOrder = (e: ImportError) => SHEETS.find((s) => s.name === e.sheet)?.columns.findIndex((c) => c.header === e.column) ?? -1;
  const sorted = [...errors].sort((a, b) => (order.get(a.sheet) ?? -1) - (order.get(b.sheet) ?? -1) || a.row - b.row || colOrder(a) - colOrder(b));
  return new AppError(
    400,
    'import_invalid',
    `导入文件有 ${errors.length} 处错误，未导入任何数据：${sorted.slice(0, 3).map((e) => e.message).join('；')}${errors.length > 3 ? '……' : ''}`,
    `the file has ${errors.length} problems; nothing was imported`,
    { total: errors.length, errors: sorted.slice(0, MAX_REPORTED_ERRORS) },
  );
}

type Str = string | null;
const s = (v: unknown): Str => (v === null || v === undefined ? null : String(v));
const n = (v: unknown): number | null => (typeof v === 'number' ? v : null);

async function validateAndApply(tx: Tx, actor: Actor, sheets: Partial<Record<SheetKey, ImportRow[]>>, errors: ImportError[], now: Date): Promise<ImportResult> {
  const enterpriseId = actor.enterpriseId;
  const where = { where: { enterpriseId } };
  const [ent, people, posts, depts, dbMhs, dbRo, dbRu, dbRe, dbCm, dbCt] = await Promise.all([
    tx.enterprise.findUniqueOrThrow({ where: { id: enterpriseId } }),
    tx.person.findMany({ ...where, select: { id: true, code: true, name: true } }),
    tx.post.findMany({ ...where, select: { id: true, code: true } }),
    tx.department.findMany({ ...where, select: { id: true, code: true } }),
    tx.majorHazardSource.findMany(where),
    tx.riskObject.findMany(where),
    tx.riskUnit.findMany(where),
    tx.riskEvent.findMany(where),
    tx.controlMeasure.findMany(where),
    tx.checkTask.findMany(where),
  ]);
  const tz = ent.timezone;
  const codeMap = <T extends { code: string }>(rows: T[]) => new Map(rows.map((r) => [r.code, r]));
  const personByCode = codeMap(people);
  const personById = new Map(people.map((p) => [p.id, p]));
  const postByCode = codeMap(posts);
  const deptByCode = codeMap(depts);
  const db = { mhs: codeMap(dbMhs), ro: codeMap(dbRo), ru: codeMap(dbRu), re: codeMap(dbRe), cm: codeMap(dbCm), ct: codeMap(dbCt) };
  const rowsOf = (k: SheetKey) => sheets[k] ?? [];

  // location helpers
  const fieldHeader = (k: SheetKey, field: string) => sheetDef(k).columns.find((c) => c.field === field && !c.readOnly)?.header ?? field;
  const add = (k: SheetKey, r: ImportRow, field: string, problem: string) => {
    const column = fieldHeader(k, field);
    errors.push({ sheet: sheetDef(k).name, row: r.row, column, message: `「${sheetDef(k).name}」第 ${r.row} 行「${column}」${problem}` });
  };
  const addIssues = (k: SheetKey, r: ImportRow, issues: ListIssue[]) => {
    for (const i of issues) if (!r.bad.has(i.field)) add(k, r, i.field, i.zh);
  };

  // duplicate codes within a sheet; the file's rows by code
  const fileRows = {} as Record<SheetKey, Map<string, ImportRow>>;
  for (const def of SHEETS) {
    const m = new Map<string, ImportRow>();
    for (const r of rowsOf(def.key)) {
      const code = s(r.v.code);
      if (code === null) continue;
      const first = m.get(code);
      if (first) add(def.key, r, 'code', `“${code}”与第 ${first.row} 行重复`);
      else m.set(code, r);
    }
    fileRows[def.key] = m;
  }

  /** a reference by code: present in the file's sheet `k` or in the system */
  const refKnown = (k: SheetKey, dbMap: Map<string, unknown>, code: Str) => code === null || fileRows[k].has(code) || dbMap.has(code);
  const refError = (what: string, code: string, inFile: boolean) =>
    inFile ? `不存在：“${code}”（本文件「${what}」表和系统中都没有该编码）` : `不存在：“${code}”（系统中没有该${what}编码，请先在系统中维护）`;
  const checkRef = (k: SheetKey, r: ImportRow, field: string, ok: boolean, what: string, inFile: boolean) => {
    const code = s(r.v[field]);
    if (code !== null && !ok && !r.bad.has(field)) add(k, r, field, refError(what, code, inFile));
  };

  /** the 危险源编码 of a 重大危险源 code (file first) */
  const mhsHazardCode = (code: string): Str => {
    const f = fileRows.majorHazardSources.get(code);
    return f ? s(f.v.hazardCode) : db.mhs.get(code)?.hazardCode ?? null;
  };
  /** the code of a 重大危险源's 包保责任人 of `role` (file first) */
  const mhsResponsible = (code: string, role: 'principal' | 'technical' | 'operational'): Str => {
    const f = fileRows.majorHazardSources.get(code);
    if (f) return s(f.v[`${role}Id`]);
    const id = db.mhs.get(code)?.[`${role}Id`];
    return id == null ? null : personById.get(id)?.code ?? null;
  };

  // ── validate ──
  for (const r of rowsOf('majorHazardSources')) {
    const v = r.v;
    addIssues('majorHazardSources', r, checkMajorHazardSource({
      code: s(v.code), name: s(v.name), hazardCode: s(v.hazardCode), level: n(v.level), rValue: n(v.rValue),
      principalPresent: v.principalId !== null, technicalPresent: v.technicalId !== null, operationalPresent: v.operationalId !== null,
    }));
    for (const f of ['principalId', 'technicalId', 'operationalId']) checkRef('majorHazardSources', r, f, personByCode.has(s(v[f]) ?? ''), '人员', false);
  }
  for (const r of rowsOf('riskObjects')) {
    const v = r.v;
    addIssues('riskObjects', r, checkRiskObject({ code: s(v.code), name: s(v.name), type: s(v.type), hazardCode: s(v.hazardCode), departmentPresent: v.departmentId !== null }));
    const src = s(v.majorHazardSourceId);
    checkRef('riskObjects', r, 'majorHazardSourceId', refKnown('majorHazardSources', db.mhs, src), '重大危险源及包保责任', true);
    checkRef('riskObjects', r, 'departmentId', deptByCode.has(s(v.departmentId) ?? ''), '部门', false);
    if (src !== null && refKnown('majorHazardSources', db.mhs, src) && !r.bad.has('hazardCode')) {
      const issue = objectHazardCodeIssue(s(v.hazardCode), mhsHazardCode(src));
      if (issue) addIssues('riskObjects', r, [issue]);
    }
  }
  for (const r of rowsOf('riskUnits')) {
    const v = r.v;
    addIssues('riskUnits', r, checkRiskUnit({ code: s(v.code), name: s(v.name), riskObjectPresent: v.riskObjectId !== null, departmentPresent: v.departmentId !== null, headPresent: v.headPersonId !== null }));
    checkRef('riskUnits', r, 'riskObjectId', refKnown('riskObjects', db.ro, s(v.riskObjectId)), '风险分析对象', true);
    checkRef('riskUnits', r, 'departmentId', deptByCode.has(s(v.departmentId) ?? ''), '部门', false);
    checkRef('riskUnits', r, 'headPersonId', personByCode.has(s(v.headPersonId) ?? ''), '人员', false);
  }
  for (const r of rowsOf('riskEvents')) {
    const v = r.v;
    addIssues('riskEvents', r, checkRiskEvent({ code: s(v.code), name: s(v.name), description: s(v.description), l0: n(v.l0), s0: n(v.s0), l: n(v.l), s: n(v.s), riskUnitPresent: v.riskUnitId !== null }));
    checkRef('riskEvents', r, 'riskUnitId', refKnown('riskUnits', db.ru, s(v.riskUnitId)), '风险分析单元', true);
  }
  for (const r of rowsOf('controlMeasures')) {
    const v = r.v;
    addIssues('controlMeasures', r, checkControlMeasure({
      code: s(v.code), description: s(v.description), dataSrc: n(v.dataSrc), classify1: n(v.classify1), classify2: s(v.classify2), classify3: s(v.classify3),
      checkContent: s(v.checkContent), paramName: s(v.paramName), paramUnit: s(v.paramUnit), paramMin: n(v.paramMin), paramMax: n(v.paramMax), riskEventPresent: v.riskEventId !== null,
    }));
    checkRef('controlMeasures', r, 'riskEventId', refKnown('riskEvents', db.re, s(v.riskEventId)), '风险事件', true);
  }
  const taskStart = new Map<ImportRow, Date | null>();
  for (const r of rowsOf('checkTasks')) {
    const v = r.v;
    let start: Date | null = null;
    const startText = s(v.taskStartTime);
    if (startText !== null && !r.bad.has('taskStartTime')) {
      start = parseLocalDateTime(startText, tz);
      if (!start) {
        add('checkTasks', r, 'taskStartTime', `必须是 YYYY-MM-DD HH:mm 格式的日期时间，实际为 ${shown(startText)}`);
        r.bad.add('taskStartTime');
      }
    }
    taskStart.set(r, start);
    addIssues('checkTasks', r, checkCheckTask({
      code: s(v.code), content: s(v.content), checkCycle: n(v.checkCycle), checkCycleUnit: s(v.checkCycleUnit), taskStartTime: start,
      workStartTime: s(v.workStartTime), workEndTime: s(v.workEndTime), workDayType: n(v.workDayType), workType: n(v.workType), taskNum: n(v.taskNum),
      checkMeans: s(v.checkMeans), measurePresent: v.controlMeasureId !== null, majorHazardSourcePresent: v.majorHazardSourceId !== null,
      postPresent: v.postId !== null, personPresent: v.personId !== null,
    }));
    checkRef('checkTasks', r, 'controlMeasureId', refKnown('controlMeasures', db.cm, s(v.controlMeasureId)), '管控措施', true);
    const src = s(v.majorHazardSourceId);
    checkRef('checkTasks', r, 'majorHazardSourceId', refKnown('majorHazardSources', db.mhs, src), '重大危险源及包保责任', true);
    checkRef('checkTasks', r, 'postId', postByCode.has(s(v.postId) ?? ''), '岗位', false);
    checkRef('checkTasks', r, 'personId', personByCode.has(s(v.personId) ?? ''), '人员', false);
    const role = BAOBAO_ROLE[n(v.workType) as 1 | 2 | 3];
    if (role && src !== null && refKnown('majorHazardSources', db.mhs, src) && !r.bad.has('personId')) {
      const responsible = mhsResponsible(src, role);
      const given = s(v.personId);
      if (given === null) v.personId = responsible;
      else if (responsible !== null && given !== responsible && personByCode.has(given)) {
        const who = (c: string) => `${personByCode.get(c)?.name ?? ''}（${c}）`;
        add('checkTasks', r, 'personId', `必须是重大危险源“${src}”的${WORK_TYPE[n(v.workType) as 1 | 2 | 3]}${who(responsible)}，实际为 ${who(given)}`);
      }
    }
  }
  if (errors.length) throw invalidImport(errors);

  // ── apply, parents before children ──
  // Existing codes: only changed fields are written (write* of lists.ts). New codes: inserted in
  // batches (one INSERT per 500 rows, then their ids read back by code) — a plant's first import
  // is thousands of rows, and one round trip per row would hold the transaction for a minute.
  const tally = new Map<SheetKey, SheetSummary>(SHEETS.map((d) => [d.key, { sheet: d.name, key: d.key, created: 0, updated: 0, unchanged: 0 }]));
  const count = (k: SheetKey, o: 'created' | 'updated' | 'unchanged') => tally.get(k)![o]++;
  const ids = {
    mhs: new Map(dbMhs.map((r) => [r.code, r.id])),
    ro: new Map(dbRo.map((r) => [r.code, r.id])),
    ru: new Map(dbRu.map((r) => [r.code, r.id])),
    re: new Map(dbRe.map((r) => [r.code, r.id])),
    cm: new Map(dbCm.map((r) => [r.code, r.id])),
    ct: new Map(dbCt.map((r) => [r.code, r.id])),
  };
  const id = (m: Map<string, number>, code: unknown): number => {
    const x = m.get(String(code));
    if (x === undefined) throw new Error(`internal: code ${String(code)} was not resolved`);
    return x;
  };
  const optId = (m: Map<string, number>, code: unknown) => (code === null ? null : id(m, code));
  const personIds = new Map([...personByCode].map(([c, p]) => [c, p.id]));
  const postIds = new Map([...postByCode].map(([c, p]) => [c, p.id]));
  const deptIds = new Map([...deptByCode].map(([c, d]) => [c, d.id]));
  const codeWhere = (codes: string[]) => ({ where: { enterpriseId, code: { in: codes } }, select: { id: true, code: true } });

  /** Updates the existing codes one by one, inserts the new ones in batches; fills `idMap`. */
  async function apply<D>(
    k: SheetKey,
    items: Array<{ code: string; d: D }>,
    existing: Map<string, { id: number }>,
    idMap: Map<string, number>,
    write: (row: { id: number }, d: D) => Promise<{ outcome: 'created' | 'updated' | 'unchanged' }>,
    insert: (ds: D[]) => Promise<unknown>,
    lookup: (codes: string[]) => Promise<Array<{ id: number; code: string }>>,
  ): Promise<void> {
    const fresh: Array<{ code: string; d: D }> = [];
    for (const it of items) {
      const row = existing.get(it.code);
      if (row) count(k, (await write(row, it.d)).outcome);
      else fresh.push(it);
    }
    for (let i = 0; i < fresh.length; i += 500) {
      const chunk = fresh.slice(i, i + 500);
      await insert(chunk.map((c) => c.d));
      for (const r of await lookup(chunk.map((c) => c.code))) idMap.set(r.code, r.id);
      tally.get(k)!.created += chunk.length;
    }
  }
  const rowsFor = <D>(k: SheetKey, build: (v: ImportRow['v'], code: string) => D) => [...fileRows[k].entries()].map(([code, r]) => ({ code, d: build(r.v, code) }));

  await apply(
    'majorHazardSources',
    rowsFor('majorHazardSources', (v, code) => ({
      code,
      name: String(v.name),
      hazardCode: String(v.hazardCode),
      level: Number(v.level),
      rValue: n(v.rValue),
      principalId: id(personIds, v.principalId),
      technicalId: id(personIds, v.technicalId),
      operationalId: id(personIds, v.operationalId),
    })),
    db.mhs,
    ids.mhs,
    (row, d) => writeMajorHazardSource(tx, enterpriseId, row as (typeof dbMhs)[number], d),
    (ds) => tx.majorHazardSource.createMany({ data: ds.map((d) => mhsCreateData(enterpriseId, d)) }),
    (codes) => tx.majorHazardSource.findMany(codeWhere(codes)),
  );
  await apply(
    'riskObjects',
    rowsFor('riskObjects', (v, code) => {
      const src = s(v.majorHazardSourceId);
      return { code, name: String(v.name), type: String(v.type), hazardCode: src !== null ? mhsHazardCode(src) : s(v.hazardCode), majorHazardSourceId: optId(ids.mhs, src), departmentId: id(deptIds, v.departmentId) };
    }),
    db.ro,
    ids.ro,
    (row, d) => writeRiskObject(tx, enterpriseId, row, d),
    (ds) => tx.riskObject.createMany({ data: ds.map((d) => ({ enterpriseId, ...d })) }),
    (codes) => tx.riskObject.findMany(codeWhere(codes)),
  );
  await apply(
    'riskUnits',
    rowsFor('riskUnits', (v, code) => ({ code, name: String(v.name), riskObjectId: id(ids.ro, v.riskObjectId), departmentId: id(deptIds, v.departmentId), headPersonId: id(personIds, v.headPersonId) })),
    db.ru,
    ids.ru,
    (row, d) => writeRiskUnit(tx, enterpriseId, row, d),
    (ds) => tx.riskUnit.createMany({ data: ds.map((d) => ({ enterpriseId, ...d })) }),
    (codes) => tx.riskUnit.findMany(codeWhere(codes)),
  );
  await apply(
    'riskEvents',
    rowsFor('riskEvents', (v, code) => ({ code, name: String(v.name), description: s(v.description), riskUnitId: id(ids.ru, v.riskUnitId), l0: Number(v.l0), s0: Number(v.s0), l: Number(v.l), s: Number(v.s) })),
    db.re,
    ids.re,
    (row, d) => writeRiskEvent(tx, enterpriseId, row, d),
    (ds) => tx.riskEvent.createMany({ data: ds.map((d) => ({ enterpriseId, ...d })) }),
    (codes) => tx.riskEvent.findMany(codeWhere(codes)),
  );
  await apply(
    'controlMeasures',
    rowsFor('controlMeasures', (v, code) => ({
      code,
      riskEventId: id(ids.re, v.riskEventId),
      description: String(v.description),
      dataSrc: Number(v.dataSrc),
      classify1: Number(v.classify1),
      classify2: String(v.classify2),
      classify3: s(v.classify3),
      checkContent: s(v.checkContent),
      paramName: s(v.paramName),
      paramUnit: s(v.paramUnit),
      paramMin: n(v.paramMin),
      paramMax: n(v.paramMax),
    })),
    db.cm,
    ids.cm,
    (row, d) => writeControlMeasure(tx, enterpriseId, row, d),
    (ds) => tx.controlMeasure.createMany({ data: ds.map((d) => measureCreateData(enterpriseId, d)) }),
    (codes) => tx.controlMeasure.findMany(codeWhere(codes)),
  );
  let rescheduledTasks = 0;
  await apply(
    'checkTasks',
    [...fileRows.checkTasks.entries()].map(([code, r]) => {
      const v = r.v;
      const d: CheckTaskData = {
        code,
        controlMeasureId: optId(ids.cm, s(v.controlMeasureId)),
        majorHazardSourceId: optId(ids.mhs, s(v.majorHazardSourceId)),
        content: String(v.content),
        checkCycle: Number(v.checkCycle),
        checkCycleUnit: String(v.checkCycleUnit),
        taskStartTime: taskStart.get(r) ?? null,
        workStartTime: s(v.workStartTime),
        workEndTime: s(v.workEndTime),
        workDayType: Number(v.workDayType),
        workType: Number(v.workType),
        taskNum: n(v.taskNum),
        postId: optId(postIds, s(v.postId)),
        personId: optId(personIds, s(v.personId)),
        checkMeans: String(v.checkMeans),
        enabled: v.enabled !== false,
      };
      return { code, d };
    }),
    db.ct,
    ids.ct,
    async (row, d) => {
      const res = await writeCheckTask(tx, enterpriseId, tz, row, d, now, actor.personId, 'import');
      if (res.rescheduled) rescheduledTasks++;
      return res;
    },
    (ds) => tx.checkTask.createMany({ data: ds.map((d) => taskCreateData(enterpriseId, tz, d, now)) }),
    (codes) => tx.checkTask.findMany(codeWhere(codes)),
  );
  return { dryRun: false, sheets: SHEETS.filter((d) => sheets[d.key]).map((d) => tally.get(d.key)!), rescheduledTasks };
}
