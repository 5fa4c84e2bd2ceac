/**
 * The three lists (三清单) as use cases: 重大危险源 with their three 包保责任人 (responsibility list),
 * risk objects → units → events → control measures → check tasks (risk & control list, check-task
 * list). Rules of the values: server/domain/three-lists.ts; schedules: server/domain/cycles.ts.
 *
 * - Everything is scoped to the actor's enterprise: an id of another enterprise is "not found"
 *   (404 for the addressed row, 400 invalid_input for a reference in the body).
 * - `code` is the natural key (unique per enterprise): a clash → 409 `duplicate_code`.
 * - Deleting refuses with 409 `in_use` (naming what depends on the row) while anything hangs on it:
 *   child list items (deleting an object must not silently take 200 tasks with it) or history
 *   (check records, readings, hazards, shutdowns). A check task with history (an instance that has
 *   started — done, missed or running — counts for the statistics) is disabled instead.
 * - Changing a task's schedule (cycle, unit, start, work window, workDayType) or enabling /
 *   disabling it goes through `taskScheduleChanged`: its future instances are regenerated under
 *   the new rule; running and past ones stay (statistics).
 * - Writes that change nothing do not touch the row (no `updatedAt` churn) — the Excel import
 *   (lists-excel.ts) relies on the same write functions.
 */
import { containsText, Prisma, sameStoredValue, type PrismaClient } from '../db';
import type { Clock } from '../clock';
import { AppError, conflict, notFound } from '../errors';
import type { Actor } from './alert-actions';
import { clearAlertsFor } from './alerts';
import { taskStartAnchor, type CycleUnit } from '../domain/cycles';
import {
  assessRisk,
  BAOBAO_ROLE,
  checkCheckTask,
  checkControlMeasure,
  checkMajorHazardSource,
  checkRiskEvent,
  checkRiskObject,
  checkRiskUnit,
  CLASSIFY1,
  CLASSIFY2,
  DATA_SRC,
  DEFAULT_RISK_THRESHOLDS,
  formatLocalDateTime,
  MHS_LEVEL,
  pairsOfLevel,
  RISK_LEVEL_ZH,
  riskThresholdsSchema,
  WORK_TYPE,
  type ListIssue,
  type RiskLevel,
  type RiskThresholds,
} from '../domain/three-lists';

export type Tx = Prisma.TransactionClient;
type Db = PrismaClient | Tx;

/** Interactive transactions of list writes (an import of a big plant runs for seconds). */
export const LIST_TX = { maxWait: 10_000, timeout: 120_000 } as const;

/** A referenced row, as lists show it. */
export interface Ref {
  id: number;
  code: string;
  name: string;
}

// ───────────────────────────── settings ─────────────────────────────

/** Setting key holding the plant's risk bands as JSON `{ "red": 20, "orange": 15, "yellow": 9 }`. */
export const RISK_THRESHOLDS_SETTING = 'risk_level_thresholds';

/**
 * The risk bands in force: the Setting `risk_level_thresholds` when present and valid (red >
 * orange > yellow, 2..25), else the defaults of domain.md (20 / 15 / 9). An invalid setting is
 * ignored rather than breaking every list read.
 */
export async function loadRiskThresholds(db: Db): Promise<RiskThresholds> {
  const s = await db.setting.findUnique({ where: { key: RISK_THRESHOLDS_SETTING } });
  if (!s) return { ...DEFAULT_RISK_THRESHOLDS };
  try {
    const parsed = riskThresholdsSchema.safeParse(JSON.parse(s.value));
    return parsed.success ? parsed.data : { ...DEFAULT_RISK_THRESHOLDS };
  } catch {
    return { ...DEFAULT_RISK_THRESHOLDS };
  }
}

// ───────────────────────────── errors ─────────────────────────────

/** Chinese names of the API fields, for error messages. */
export const FIELD_LABELS: Record<string, string> = {
  code: '编码',
  name: '名称',
  hazardCode: '危险源编码',
  level: '重大危险源等级',
  rValue: 'R值',
  principalId: '主要负责人',
  technicalId: '技术负责人',
  operationalId: '操作负责人',
  type: '对象类型',
  majorHazardSourceId: '重大危险源',
  departmentId: '部门',
  riskObjectId: '风险分析对象',
  headPersonId: '责任人',
  riskUnitId: '风险分析单元',
  description: '描述',
  l0: '初始可能性 L0',
  s0: '初始严重性 S0',
  l: '残余可能性 L',
  s: '残余严重性 S',
  riskEventId: '风险事件',
  dataSrc: '管控方式',
  classify1: '措施分类1',
  classify2: '措施分类2',
  classify3: '措施分类3',
  checkContent: '排查内容',
  paramName: '关键参数名称',
  paramUnit: '参数单位',
  paramMin: '安全下限',
  paramMax: '安全上限',
  controlMeasureId: '管控措施',
  content: '排查内容',
  checkCycle: '排查周期',
  checkCycleUnit: '周期单位',
  taskStartTime: '任务开始时间',
  workStartTime: '作业开始时间',
  workEndTime: '作业结束时间',
  workDayType: '工作日类型',
  workType: '包保任务类型',
  taskNum: '任务序号',
  postId: '岗位',
  personId: '人员',
  checkMeans: '排查方式',
  enabled: '是否启用',
};

/**
 * 400 invalid_input listing every problem, in the registry's shape: details `[{ path, message (zh),
 * message_en }]`, the path prefixed `body.` (every list rule is about a field of the JSON body).
 */
export function invalidInput(issues: ListIssue[]): AppError {
  const label = (f: string) => `${FIELD_LABELS[f] ?? f}（${f}）`;
  return new AppError(
    400,
    'invalid_input',
    `输入有误：${issues.map((i) => `${label(i.field)}${i.zh}`).join('；')}`,
    `invalid input: ${issues.map((i) => `body.${i.field}: ${i.en}`).join('; ')}`,
    issues.map((i) => ({ path: `body.${i.field}`, message: `${FIELD_LABELS[i.field] ?? i.field}${i.zh}`, message_en: i.en })),
  );
}

const duplicateCode = (what: string, code: string) =>
  conflict('duplicate_code', `编码「${code}」已被另一个${what}使用`, `code "${code}" is already used by another ${what}`);

/** Prisma unique-constraint violation on (enterpriseId, code) → 409 duplicate_code. */
function onDuplicate(what: string, code: string | undefined) {
  return (e: unknown): never => {
    if ((e as { code?: string }).code === 'P2002') throw duplicateCode(what, code ?? '');
    throw e;
  };
}

async function ensureCodeFree(
  find: (args: { where: { enterpriseId: number; code: string; NOT?: { id: number } }; select: { id: true } }) => Promise<{ id: number } | null>,
  enterpriseId: number,
  code: string,
  selfId: number | null,
  what: string,
): Promise<void> {
  const other = await find({ where: { enterpriseId, code, ...(selfId !== null ? { NOT: { id: selfId } } : {}) }, select: { id: true } });
  if (other) throw duplicateCode(what, code);
}

/** 409 in_use naming what depends on the row; `deps` = [[count, '个风险分析单元'], …]. */
function inUse(whatZh: string, whatEn: string, deps: Array<[number, string, string]>, hint = ''): AppError {
  const present = deps.filter(([n]) => n > 0);
  return new AppError(
    409,
    'in_use',
    `${whatZh}仍有 ${present.map(([n, zh]) => `${n} ${zh}`).join('、')}，不能删除${hint}`,
    `${whatEn} is still used by ${present.map(([n, , en]) => `${n} ${en}`).join(', ')}`,
    { dependents: Object.fromEntries(present.map(([n, , en]) => [en.replace(/ /g, '_'), n])) },
  );
}

// ───────────────────────────── references ─────────────────────────────

type RefModel = 'person' | 'post' | 'department' | 'majorHazardSource' | 'riskObject' | 'riskUnit' | 'riskEvent' | 'controlMeasure';

/** Checks that each given id is a row of the enterprise; adds "不存在" issues otherwise. */
async function checkRefs(tx: Tx, enterpriseId: number, refs: Array<[field: string, model: RefModel, id: number | null | undefined]>): Promise<ListIssue[]> {
  const issues: ListIssue[] = [];
  for (const [field, model, id] of refs) {
    if (id === null || id === undefined) continue;
    const where = { where: { id, enterpriseId }, select: { id: true } };
    const found =
      model === 'person'
        ? await tx.person.findFirst(where)
        : model === 'post'
          ? await tx.post.findFirst(where)
          : model === 'department'
            ? await tx.department.findFirst(where)
            : model === 'majorHazardSource'
              ? await tx.majorHazardSource.findFirst(where)
              : model === 'riskObject'
                ? await tx.riskObject.findFirst(where)
                : model === 'riskUnit'
                  ? await tx.riskUnit.findFirst(where)
                  : model === 'riskEvent'
                    ? await tx.riskEvent.findFirst(where)
                    : await tx.controlMeasure.findFirst(where);
    if (!found) issues.push({ field, zh: `不存在（id ${id}）`, en: `not found in this enterprise (id ${id})` });
  }
  return issues;
}

const personRef = { select: { id: true, code: true, name: true } } as const;
const namedRef = { select: { id: true, code: true, name: true } } as const;
const num = (d: Prisma.Decimal | null): number | null => (d === null ? null : Number(d));
const dec = (v: number | null | undefined, places: number): Prisma.Decimal | null =>
  v === null || v === undefined ? null : new Prisma.Decimal(v).toDecimalPlaces(places);

// ───────────────────────────── change detection ─────────────────────────────

/** The fields of `desired` that differ from `row` (empty object: nothing to write). */
export function changedFields<D extends object>(row: object, desired: D): Partial<D> {
  const out: Partial<D> = {};
  for (const k of Object.keys(desired) as (keyof D)[]) {
    if (desired[k] === undefined) continue;
    if (!sameStoredValue((row as Record<keyof D, unknown>)[k], desired[k])) out[k] = desired[k];
  }
  return out;
}
const isEmpty = (o: object) => Object.keys(o).length === 0;

/**
 * A stored row as read in the writing transaction: the write functions compare it with the desired
 * values and write only what differs (callers already hold it — no second read per row).
 */
type Stored = { id: number } & object;

/** Merges a PATCH body onto the stored row: undefined keeps, null clears. */
function merged<T extends object>(row: T, patch: Partial<Record<keyof T, unknown>>): T {
  const out = { ...row } as Record<string, unknown>;
  for (const [k, v] of Object.entries(patch)) if (v !== undefined) out[k] = v;
  return out as T;
}

// ───────────────────────────── paging ─────────────────────────────

export interface PageArgs {
  limit: number;
  offset: number;
  /** contains, on code and name/description/content */
  q?: string;
}

// ═════════════════════════════ 重大危险源 (responsibility list) ═════════════════════════════

export interface MajorHazardSourceData {
  code: string;
  name: string;
  hazardCode: string;
  level: number;
  rValue: number | null;
  principalId: number;
  technicalId: number;
  operationalId: number;
}

const mhsInclude = { principal: personRef, technical: personRef, operational: personRef } as const;
type MhsRow = Prisma.MajorHazardSourceGetPayload<{ include: typeof mhsInclude }>;

export function mhsView(r: MhsRow) {
  return {
    id: r.id,
    code: r.code,
    name: r.name,
    hazardCode: r.hazardCode,
    level: r.level,
    levelName: MHS_LEVEL[r.level as keyof typeof MHS_LEVEL] ?? null,
    rValue: num(r.rValue),
    /** the three 包保责任人 (主要 / 技术 / 操作负责人) */
    principal: r.principal,
    technical: r.technical,
    operational: r.operational,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

async function getMhsRow(db: Db, enterpriseId: number, id: number): Promise<MhsRow> {
  const r = await db.majorHazardSource.findFirst({ where: { id, enterpriseId }, include: mhsInclude });
  if (!r) throw notFound('major hazard source', '重大危险源');
  return r;
}

export async function getMajorHazardSource(prisma: PrismaClient, actor: Actor, id: number) {
  return mhsView(await getMhsRow(prisma, actor.enterpriseId, id));
}

export async function listMajorHazardSources(prisma: PrismaClient, actor: Actor, q: PageArgs & { level?: number; personId?: number }) {
  const where: Prisma.MajorHazardSourceWhereInput = {
    enterpriseId: actor.enterpriseId,
    ...(q.level !== undefined ? { level: q.level } : {}),
    ...(q.personId !== undefined ? { OR: [{ principalId: q.personId }, { technicalId: q.personId }, { operationalId: q.personId }] } : {}),
    ...(q.q ? { AND: [{ OR: [{ code: containsText(q.q) }, { name: containsText(q.q) }, { hazardCode: containsText(q.q) }] }] } : {}),
  };
  const [total, rows] = await Promise.all([
    prisma.majorHazardSource.count({ where }),
    prisma.majorHazardSource.findMany({ where, include: mhsInclude, orderBy: { id: 'asc' }, take: q.limit, skip: q.offset }),
  ]);
  return { total, items: rows.map(mhsView) };
}

/** The row a new 重大危险源 is inserted as. */
export function mhsCreateData(enterpriseId: number, d: MajorHazardSourceData): Prisma.MajorHazardSourceCreateManyInput {
  return { enterpriseId, ...d, rValue: dec(d.rValue, 2) };
}

/**
 * Writes a 重大危险源 (create when `existing` — the stored row — is null, else only the changed
 * fields). A new 包保责任人 takes over the 包保 tasks of that role from the previous one (the tasks
 * belong to the duty, not the person); a new 危险源编码 is carried to its risk objects. Values are
 * NOT checked here. @returns the row's id and what happened
 */
export async function writeMajorHazardSource(tx: Tx, enterpriseId: number, existing: { id: number; principalId: number | null; technicalId: number | null; operationalId: number | null } | null, d: MajorHazardSourceData) {
  const data = mhsCreateData(enterpriseId, d);
  if (!existing) return { id: (await tx.majorHazardSource.create({ data })).id, outcome: 'created' as const };
  const changed = changedFields(existing, data);
  if (isEmpty(changed)) return { id: existing.id, outcome: 'unchanged' as const };
  await tx.majorHazardSource.update({ where: { id: existing.id }, data: changed });
  // its risk objects carry its 危险源编码 (domain.md): keep them in step
  if (changed.hazardCode !== undefined) await tx.riskObject.updateMany({ where: { enterpriseId, majorHazardSourceId: existing.id }, data: { hazardCode: changed.hazardCode } });
  for (const [workType, role] of Object.entries(BAOBAO_ROLE)) {
    const key = `${role}Id` as 'principalId' | 'technicalId' | 'operationalId';
    if (changed[key] === undefined) continue;
    await tx.checkTask.updateMany({
      where: { enterpriseId, majorHazardSourceId: existing.id, workType: Number(workType), personId: existing[key] },
      data: { personId: changed[key] },
    });
  }
  return { id: existing.id, outcome: 'updated' as const };
}

/**
 * Creates (existingId null) or updates a 重大危险源 from the API.
 * @throws AppError 400 invalid_input, 404 not_found, 409 duplicate_code
 */
export async function saveMajorHazardSource(prisma: PrismaClient, actor: Actor, existingId: number | null, input: Partial<MajorHazardSourceData>) {
  const enterpriseId = actor.enterpriseId;
  return prisma.$transaction(async (tx) => {
    const row = existingId === null ? null : await getMhsRow(tx, enterpriseId, existingId);
    const base: MajorHazardSourceData = row
      ? { code: row.code, name: row.name, hazardCode: row.hazardCode, level: row.level, rValue: num(row.rValue), principalId: row.principalId!, technicalId: row.technicalId!, operationalId: row.operationalId! }
      : ({ rValue: null } as MajorHazardSourceData);
    const v = merged(base, input);
    const issues = [
      ...checkMajorHazardSource({ ...v, principalPresent: v.principalId != null, technicalPresent: v.technicalId != null, operationalPresent: v.operationalId != null }),
      ...(await checkRefs(tx, enterpriseId, [
        ['principalId', 'person', v.principalId],
        ['technicalId', 'person', v.technicalId],
        ['operationalId', 'person', v.operationalId],
      ])),
    ];
    if (issues.length) throw invalidInput(issues);
    await ensureCodeFree((a) => tx.majorHazardSource.findFirst(a), enterpriseId, v.code, existingId, '重大危险源');
    const { id } = await writeMajorHazardSource(tx, enterpriseId, row, v).catch(onDuplicate('重大危险源', v.code));
    return mhsView(await getMhsRow(tx, enterpriseId, id));
  }, LIST_TX);
}

/** @throws AppError 404, 409 in_use (risk objects or 包保 tasks still refer to it) */
export async function deleteMajorHazardSource(prisma: PrismaClient, actor: Actor, id: number) {
  return prisma.$transaction(async (tx) => {
    const row = await getMhsRow(tx, actor.enterpriseId, id);
    const [objects, tasks] = await Promise.all([tx.riskObject.count({ where: { majorHazardSourceId: id } }), tx.checkTask.count({ where: { majorHazardSourceId: id } })]);
    if (objects + tasks > 0) {
      throw inUse(`重大危险源「${row.name}」`, `major hazard source ${row.code}`, [
        [objects, '个风险分析对象', 'risk objects'],
        [tasks, '个包保排查任务', 'check tasks'],
      ]);
    }
    await tx.majorHazardSource.delete({ where: { id } });
    return { deleted: true };
  }, LIST_TX);
}

// ═════════════════════════════ 风险分析对象 ═════════════════════════════

export interface RiskObjectData {
  code: string;
  name: string;
  type: string;
  hazardCode: string | null;
  majorHazardSourceId: number | null;
  departmentId: number;
}

const roInclude = { majorHazardSource: namedRef, department: namedRef } as const;
type RoRow = Prisma.RiskObjectGetPayload<{ include: typeof roInclude }>;

export function roView(r: RoRow) {
  return {
    id: r.id,
    code: r.code,
    name: r.name,
    type: r.type,
    hazardCode: r.hazardCode,
    majorHazardSource: r.majorHazardSource,
    department: r.department,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

async function getRoRow(db: Db, enterpriseId: number, id: number): Promise<RoRow> {
  const r = await db.riskObject.findFirst({ where: { id, enterpriseId }, include: roInclude });
  if (!r) throw notFound('risk object', '风险分析对象');
  return r;
}

export async function getRiskObject(prisma: PrismaClient, actor: Actor, id: number) {
  return roView(await getRoRow(prisma, actor.enterpriseId, id));
}

export async function listRiskObjects(prisma: PrismaClient, actor: Actor, q: PageArgs & { majorHazardSourceId?: number; departmentId?: number }) {
  const where: Prisma.RiskObjectWhereInput = {
    enterpriseId: actor.enterpriseId,
    ...(q.majorHazardSourceId !== undefined ? { majorHazardSourceId: q.majorHazardSourceId } : {}),
    ...(q.departmentId !== undefined ? { departmentId: q.departmentId } : {}),
    ...(q.q ? { OR: [{ code: containsText(q.q) }, { name: containsText(q.q) }] } : {}),
  };
  const [total, rows] = await Promise.all([
    prisma.riskObject.count({ where }),
    prisma.riskObject.findMany({ where, include: roInclude, orderBy: { id: 'asc' }, take: q.limit, skip: q.offset }),
  ]);
  return { total, items: rows.map(roView) };
}

/**
 * The 危险源编码 of an object that is a 重大危险源 is the source's: taken from it when empty,
 * refused when it differs (domain.md: hazardCode = the 危险源 code when the object is one).
 */
export function objectHazardCodeIssue(given: string | null, sourceHazardCode: string | null): ListIssue | null {
  if (sourceHazardCode === null || given === null || given === '' || given === sourceHazardCode) return null;
  return {
    field: 'hazardCode',
    zh: `与所属重大危险源的危险源编码“${sourceHazardCode}”不一致，实际为“${given}”（可留空，自动取重大危险源的编码）`,
    en: `differs from the major hazard source's hazardCode "${sourceHazardCode}" (leave it empty to take it over)`,
  };
}

/** Writes a risk object (create or changed fields only). @returns id and outcome */
export async function writeRiskObject(tx: Tx, enterpriseId: number, existing: Stored | null, d: RiskObjectData) {
  if (existing === null) return { id: (await tx.riskObject.create({ data: { enterpriseId, ...d } })).id, outcome: 'created' as const };
  const changed = changedFields(existing, d);
  if (isEmpty(changed)) return { id: existing.id, outcome: 'unchanged' as const };
  await tx.riskObject.update({ where: { id: existing.id }, data: changed });
  return { id: existing.id, outcome: 'updated' as const };
}

/** @throws AppError 400 invalid_input, 404 not_found, 409 duplicate_code */
export async function saveRiskObject(prisma: PrismaClient, actor: Actor, existingId: number | null, input: Partial<RiskObjectData>) {
  const enterpriseId = actor.enterpriseId;
  return prisma.$transaction(async (tx) => {
    const row = existingId === null ? null : await getRoRow(tx, enterpriseId, existingId);
    const base: RiskObjectData = row
      ? { code: row.code, name: row.name, type: row.type, hazardCode: row.hazardCode, majorHazardSourceId: row.majorHazardSourceId, departmentId: row.departmentId! }
      : ({ hazardCode: null, majorHazardSourceId: null } as RiskObjectData);
    const v = merged(base, input);
    const issues = [
      ...checkRiskObject({ ...v, departmentPresent: v.departmentId != null }),
      ...(await checkRefs(tx, enterpriseId, [
        ['majorHazardSourceId', 'majorHazardSource', v.majorHazardSourceId],
        ['departmentId', 'department', v.departmentId],
      ])),
    ];
    // a PATCH that moves the object to another source (or to none) without naming a 危险源编码
    // takes the new source's code (or drops the old one)
    if (row && input.majorHazardSourceId !== undefined && input.majorHazardSourceId !== row.majorHazardSourceId && input.hazardCode === undefined) v.hazardCode = null;
    if (v.majorHazardSourceId != null && !issues.some((i) => i.field === 'majorHazardSourceId')) {
      const src = await tx.majorHazardSource.findUniqueOrThrow({ where: { id: v.majorHazardSourceId } });
      const issue = objectHazardCodeIssue(v.hazardCode, src.hazardCode);
      if (issue) issues.push(issue);
      else v.hazardCode = src.hazardCode;
    }
    if (issues.length) throw invalidInput(issues);
    await ensureCodeFree((a) => tx.riskObject.findFirst(a), enterpriseId, v.code, existingId, '风险分析对象');
    const { id } = await writeRiskObject(tx, enterpriseId, row, { ...v, hazardCode: v.hazardCode || null }).catch(onDuplicate('风险分析对象', v.code));
    return roView(await getRoRow(tx, enterpriseId, id));
  }, LIST_TX);
}

/** @throws AppError 404, 409 in_use (it still has risk units) */
export async function deleteRiskObject(prisma: PrismaClient, actor: Actor, id: number) {
  return prisma.$transaction(async (tx) => {
    const row = await getRoRow(tx, actor.enterpriseId, id);
    const units = await tx.riskUnit.count({ where: { riskObjectId: id } });
    if (units > 0) throw inUse(`风险分析对象「${row.name}」`, `risk object ${row.code}`, [[units, '个风险分析单元', 'risk units']], '（请先删除或移走其风险分析单元）');
    await tx.riskObject.delete({ where: { id } });
    return { deleted: true };
  }, LIST_TX);
}

// ═════════════════════════════ 风险分析单元 ═════════════════════════════

export interface RiskUnitData {
  code: string;
  name: string;
  riskObjectId: number;
  departmentId: number;
  headPersonId: number;
}

const ruInclude = { riskObject: namedRef, department: namedRef, head: personRef } as const;
type RuRow = Prisma.RiskUnitGetPayload<{ include: typeof ruInclude }>;

export function ruView(r: RuRow) {
  return {
    id: r.id,
    code: r.code,
    name: r.name,
    riskObject: r.riskObject,
    department: r.department,
    /** the unit's responsible person (部门负责人) */
    head: r.head,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

async function getRuRow(db: Db, enterpriseId: number, id: number): Promise<RuRow> {
  const r = await db.riskUnit.findFirst({ where: { id, enterpriseId }, include: ruInclude });
  if (!r) throw notFound('risk unit', '风险分析单元');
  return r;
}

export async function getRiskUnit(prisma: PrismaClient, actor: Actor, id: number) {
  return ruView(await getRuRow(prisma, actor.enterpriseId, id));
}

export async function listRiskUnits(prisma: PrismaClient, actor: Actor, q: PageArgs & { riskObjectId?: number; departmentId?: number; headPersonId?: number }) {
  const where: Prisma.RiskUnitWhereInput = {
    enterpriseId: actor.enterpriseId,
    ...(q.riskObjectId !== undefined ? { riskObjectId: q.riskObjectId } : {}),
    ...(q.departmentId !== undefined ? { departmentId: q.departmentId } : {}),
    ...(q.headPersonId !== undefined ? { headPersonId: q.headPersonId } : {}),
    ...(q.q ? { OR: [{ code: containsText(q.q) }, { name: containsText(q.q) }] } : {}),
  };
  const [total, rows] = await Promise.all([
    prisma.riskUnit.count({ where }),
    prisma.riskUnit.findMany({ where, include: ruInclude, orderBy: { id: 'asc' }, take: q.limit, skip: q.offset }),
  ]);
  return { total, items: rows.map(ruView) };
}

export async function writeRiskUnit(tx: Tx, enterpriseId: number, existing: Stored | null, d: RiskUnitData) {
  if (existing === null) return { id: (await tx.riskUnit.create({ data: { enterpriseId, ...d } })).id, outcome: 'created' as const };
  const changed = changedFields(existing, d);
  if (isEmpty(changed)) return { id: existing.id, outcome: 'unchanged' as const };
  await tx.riskUnit.update({ where: { id: existing.id }, data: changed });
  return { id: existing.id, outcome: 'updated' as const };
}

/** @throws AppError 400 invalid_input, 404 not_found, 409 duplicate_code */
export async function saveRiskUnit(prisma: PrismaClient, actor: Actor, existingId: number | null, input: Partial<RiskUnitData>) {
  const enterpriseId = actor.enterpriseId;
  return prisma.$transaction(async (tx) => {
    const row = existingId === null ? null : await getRuRow(tx, enterpriseId, existingId);
    const base = row ? { code: row.code, name: row.name, riskObjectId: row.riskObjectId, departmentId: row.departmentId!, headPersonId: row.headPersonId! } : ({} as RiskUnitData);
    const v = merged(base, input);
    const issues = [
      ...checkRiskUnit({ ...v, riskObjectPresent: v.riskObjectId != null, departmentPresent: v.departmentId != null, headPresent: v.headPersonId != null }),
      ...(await checkRefs(tx, enterpriseId, [
        ['riskObjectId', 'riskObject', v.riskObjectId],
        ['departmentId', 'department', v.departmentId],
        ['headPersonId', 'person', v.headPersonId],
      ])),
    ];
    if (issues.length) throw invalidInput(issues);
    await ensureCodeFree((a) => tx.riskUnit.findFirst(a), enterpriseId, v.code, existingId, '风险分析单元');
    const { id } = await writeRiskUnit(tx, enterpriseId, row, v).catch(onDuplicate('风险分析单元', v.code));
    return ruView(await getRuRow(tx, enterpriseId, id));
  }, LIST_TX);
}

/** @throws AppError 404, 409 in_use (risk events, hazards or 停用检修 records refer to it) */
export async function deleteRiskUnit(prisma: PrismaClient, actor: Actor, id: number) {
  return prisma.$transaction(async (tx) => {
    const row = await getRuRow(tx, actor.enterpriseId, id);
    const [events, hazards, shutdowns] = await Promise.all([
      tx.riskEvent.count({ where: { riskUnitId: id } }),
      tx.hazard.count({ where: { riskUnitId: id } }),
      tx.riskUnitShutdown.count({ where: { riskUnitId: id } }),
    ]);
    if (events + hazards + shutdowns > 0) {
      throw inUse(`风险分析单元「${row.name}」`, `risk unit ${row.code}`, [
        [events, '个风险事件', 'risk events'],
        [hazards, '条隐患记录', 'hazards'],
        [shutdowns, '条停用检修记录', 'shutdowns'],
      ]);
    }
    await tx.riskUnit.delete({ where: { id } });
    return { deleted: true };
  }, LIST_TX);
}

// ═════════════════════════════ 风险事件 ═════════════════════════════

export interface RiskEventData {
  code: string;
  name: string;
  description: string | null;
  riskUnitId: number;
  l0: number;
  s0: number;
  l: number;
  s: number;
}

const reInclude = { riskUnit: namedRef } as const;
type ReRow = Prisma.RiskEventGetPayload<{ include: typeof reInclude }>;

export function reView(r: ReRow, t: RiskThresholds) {
  const a = assessRisk(r, t);
  return {
    id: r.id,
    code: r.code,
    name: r.name,
    description: r.description,
    riskUnit: r.riskUnit,
    l0: r.l0,
    s0: r.s0,
    l: r.l,
    s: r.s,
    /** initial risk R0 = L0 × S0 and its level (red 重大 / orange 较大 / yellow 一般 / blue 低) */
    r0: a.r0,
    level0: a.level0,
    level0Name: RISK_LEVEL_ZH[a.level0],
    /** residual risk R = L × S after controls, and its level */
    r: a.r,
    level: a.level,
    levelName: RISK_LEVEL_ZH[a.level],
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

async function getReRow(db: Db, enterpriseId: number, id: number): Promise<ReRow> {
  const r = await db.riskEvent.findFirst({ where: { id, enterpriseId }, include: reInclude });
  if (!r) throw notFound('risk event', '风险事件');
  return r;
}

export async function getRiskEvent(prisma: PrismaClient, actor: Actor, id: number) {
  return reView(await getReRow(prisma, actor.enterpriseId, id), await loadRiskThresholds(prisma));
}

/** `level` filters on the residual risk, `level0` on the initial one (bands: loadRiskThresholds). */
export async function listRiskEvents(prisma: PrismaClient, actor: Actor, q: PageArgs & { riskUnitId?: number; riskObjectId?: number; level?: RiskLevel; level0?: RiskLevel }) {
  const t = await loadRiskThresholds(prisma);
  const and: Prisma.RiskEventWhereInput[] = [];
  if (q.level) and.push({ OR: pairsOfLevel(q.level, t).map(({ l, s }) => ({ l, s })) });
  if (q.level0) and.push({ OR: pairsOfLevel(q.level0, t).map(({ l, s }) => ({ l0: l, s0: s })) });
  if (q.q) and.push({ OR: [{ code: containsText(q.q) }, { name: containsText(q.q) }] });
  const where: Prisma.RiskEventWhereInput = {
    enterpriseId: actor.enterpriseId,
    ...(q.riskUnitId !== undefined ? { riskUnitId: q.riskUnitId } : {}),
    ...(q.riskObjectId !== undefined ? { riskUnit: { riskObjectId: q.riskObjectId } } : {}),
    ...(and.length ? { AND: and } : {}),
  };
  const [total, rows] = await Promise.all([
    prisma.riskEvent.count({ where }),
    prisma.riskEvent.findMany({ where, include: reInclude, orderBy: { id: 'asc' }, take: q.limit, skip: q.offset }),
  ]);
  return { total, items: rows.map((r) => reView(r, t)) };
}

export async function writeRiskEvent(tx: Tx, enterpriseId: number, existing: Stored | null, d: RiskEventData) {
  if (existing === null) return { id: (await tx.riskEvent.create({ data: { enterpriseId, ...d } })).id, outcome: 'created' as const };
  const changed = changedFields(existing, d);
  if (isEmpty(changed)) return { id: existing.id, outcome: 'unchanged' as const };
  await tx.riskEvent.update({ where: { id: existing.id }, data: changed });
  return { id: existing.id, outcome: 'updated' as const };
}

/** @throws AppError 400 invalid_input, 404 not_found, 409 duplicate_code */
export async function saveRiskEvent(prisma: PrismaClient, actor: Actor, existingId: number | null, input: Partial<RiskEventData>) {
  const enterpriseId = actor.enterpriseId;
  return prisma.$transaction(async (tx) => {
    const row = existingId === null ? null : await getReRow(tx, enterpriseId, existingId);
    const base: RiskEventData = row
      ? { code: row.code, name: row.name, description: row.description, riskUnitId: row.riskUnitId, l0: row.l0, s0: row.s0, l: row.l, s: row.s }
      : ({ description: null } as RiskEventData);
    const v = merged(base, input);
    const issues = [
      ...checkRiskEvent({ ...v, l0: v.l0 ?? null, s0: v.s0 ?? null, l: v.l ?? null, s: v.s ?? null, riskUnitPresent: v.riskUnitId != null }),
      ...(await checkRefs(tx, enterpriseId, [['riskUnitId', 'riskUnit', v.riskUnitId]])),
    ];
    if (issues.length) throw invalidInput(issues);
    await ensureCodeFree((a) => tx.riskEvent.findFirst(a), enterpriseId, v.code, existingId, '风险事件');
    const { id } = await writeRiskEvent(tx, enterpriseId, row, v).catch(onDuplicate('风险事件', v.code));
    return reView(await getReRow(tx, enterpriseId, id), await loadRiskThresholds(tx));
  }, LIST_TX);
}

/** @throws AppError 404, 409 in_use (it still has control measures) */
export async function deleteRiskEvent(prisma: PrismaClient, actor: Actor, id: number) {
  return prisma.$transaction(async (tx) => {
    const row = await getReRow(tx, actor.enterpriseId, id);
    const measures = await tx.controlMeasure.count({ where: { riskEventId: id } });
    if (measures > 0) throw inUse(`风险事件「${row.name}」`, `risk event ${row.code}`, [[measures, '项管控措施', 'control measures']], '（请先删除其管控措施）');
    await tx.riskEvent.delete({ where: { id } });
    return { deleted: true };
  }, LIST_TX);
}

// ═════════════════════════════ 管控措施 ═════════════════════════════

export interface ControlMeasureData {
  code: string;
  riskEventId: number;
  description: string;
  dataSrc: number;
  classify1: number;
  classify2: string;
  classify3: string | null;
  checkContent: string | null;
  paramName: string | null;
  paramUnit: string | null;
  /** safe range of the key parameter, in paramUnit (MPa, %, ℃ …) */
  paramMin: number | null;
  paramMax: number | null;
}

const cmInclude = { riskEvent: namedRef } as const;
type CmRow = Prisma.ControlMeasureGetPayload<{ include: typeof cmInclude }>;

export function cmView(r: CmRow) {
  return {
    id: r.id,
    code: r.code,
    riskEvent: r.riskEvent,
    description: r.description,
    dataSrc: r.dataSrc,
    dataSrcName: DATA_SRC[r.dataSrc as keyof typeof DATA_SRC] ?? null,
    classify1: r.classify1,
    classify1Name: CLASSIFY1[r.classify1 as keyof typeof CLASSIFY1] ?? null,
    classify2: r.classify2,
    classify2Name: CLASSIFY2[r.classify2 as keyof typeof CLASSIFY2] ?? null,
    classify3: r.classify3,
    checkContent: r.checkContent,
    paramName: r.paramName,
    paramUnit: r.paramUnit,
    paramMin: num(r.paramMin),
    paramMax: num(r.paramMax),
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

async function getCmRow(db: Db, enterpriseId: number, id: number): Promise<CmRow> {
  const r = await db.controlMeasure.findFirst({ where: { id, enterpriseId }, include: cmInclude });
  if (!r) throw notFound('control measure', '管控措施');
  return r;
}

export async function getControlMeasure(prisma: PrismaClient, actor: Actor, id: number) {
  return cmView(await getCmRow(prisma, actor.enterpriseId, id));
}

export async function listControlMeasures(
  prisma: PrismaClient,
  actor: Actor,
  q: PageArgs & { riskEventId?: number; riskUnitId?: number; dataSrc?: number; classify1?: number; classify2?: string; hasParameter?: boolean },
) {
  const where: Prisma.ControlMeasureWhereInput = {
    enterpriseId: actor.enterpriseId,
    ...(q.riskEventId !== undefined ? { riskEventId: q.riskEventId } : {}),
    ...(q.riskUnitId !== undefined ? { riskEvent: { riskUnitId: q.riskUnitId } } : {}),
    ...(q.dataSrc !== undefined ? { dataSrc: q.dataSrc } : {}),
    ...(q.classify1 !== undefined ? { classify1: q.classify1 } : {}),
    ...(q.classify2 !== undefined ? { classify2: q.classify2 } : {}),
    ...(q.hasParameter !== undefined ? (q.hasParameter ? { paramName: { not: null } } : { paramName: null }) : {}),
    ...(q.q ? { OR: [{ code: containsText(q.q) }, { description: containsText(q.q) }] } : {}),
  };
  const [total, rows] = await Promise.all([
    prisma.controlMeasure.count({ where }),
    prisma.controlMeasure.findMany({ where, include: cmInclude, orderBy: { id: 'asc' }, take: q.limit, skip: q.offset }),
  ]);
  return { total, items: rows.map(cmView) };
}

/** The row a new control measure is inserted as (the safe range with 4 decimals, as stored). */
export function measureCreateData(enterpriseId: number, d: ControlMeasureData): Prisma.ControlMeasureCreateManyInput {
  return { enterpriseId, ...d, paramMin: dec(d.paramMin, 4), paramMax: dec(d.paramMax, 4) };
}

export async function writeControlMeasure(tx: Tx, enterpriseId: number, existing: Stored | null, d: ControlMeasureData) {
  const data = measureCreateData(enterpriseId, d);
  if (existing === null) return { id: (await tx.controlMeasure.create({ data })).id, outcome: 'created' as const };
  const changed = changedFields(existing, data);
  if (isEmpty(changed)) return { id: existing.id, outcome: 'unchanged' as const };
  await tx.controlMeasure.update({ where: { id: existing.id }, data: changed });
  return { id: existing.id, outcome: 'updated' as const };
}

/** @throws AppError 400 invalid_input, 404 not_found, 409 duplicate_code */
export async function saveControlMeasure(prisma: PrismaClient, actor: Actor, existingId: number | null, input: Partial<ControlMeasureData>) {
  const enterpriseId = actor.enterpriseId;
  return prisma.$transaction(async (tx) => {
    const row = existingId === null ? null : await getCmRow(tx, enterpriseId, existingId);
    const base: ControlMeasureData = row
      ? {
          code: row.code,
          riskEventId: row.riskEventId,
          description: row.description,
          dataSrc: row.dataSrc,
          classify1: row.classify1,
          classify2: row.classify2,
          classify3: row.classify3,
          checkContent: row.checkContent,
          paramName: row.paramName,
          paramUnit: row.paramUnit,
          paramMin: num(row.paramMin),
          paramMax: num(row.paramMax),
        }
      : ({ classify3: null, checkContent: null, paramName: null, paramUnit: null, paramMin: null, paramMax: null } as ControlMeasureData);
    const v = merged(base, input);
    const issues = [
      ...checkControlMeasure({ ...v, dataSrc: v.dataSrc ?? null, classify1: v.classify1 ?? null, classify2: v.classify2 ?? null, riskEventPresent: v.riskEventId != null }),
      ...(await checkRefs(tx, enterpriseId, [['riskEventId', 'riskEvent', v.riskEventId]])),
    ];
    if (issues.length) throw invalidInput(issues);
    await ensureCodeFree((a) => tx.controlMeasure.findFirst(a), enterpriseId, v.code, existingId, '管控措施');
    const { id } = await writeControlMeasure(tx, enterpriseId, row, v).catch(onDuplicate('管控措施', v.code));
    return cmView(await getCmRow(tx, enterpriseId, id));
  }, LIST_TX);
}

/** @throws AppError 404, 409 in_use (check tasks, readings or hazards refer to it) */
export async function deleteControlMeasure(prisma: PrismaClient, actor: Actor, id: number) {
  return prisma.$transaction(async (tx) => {
    const row = await getCmRow(tx, actor.enterpriseId, id);
    const [tasks, readings, hazards] = await Promise.all([
      tx.checkTask.count({ where: { controlMeasureId: id } }),
      tx.checkReading.count({ where: { controlMeasureId: id } }),
      tx.hazard.count({ where: { controlMeasureId: id } }),
    ]);
    if (tasks + readings + hazards > 0) {
      throw inUse(
        `管控措施「${row.code}」`,
        `control measure ${row.code}`,
        [
          [tasks, '个排查任务', 'check tasks'],
          [readings, '条关键参数读数', 'readings'],
          [hazards, '条隐患记录', 'hazards'],
        ],
        readings + hazards > 0 ? '（已有排查历史，请保留；其排查任务可停用）' : '（请先删除其排查任务）',
      );
    }
    await tx.controlMeasure.delete({ where: { id } });
    return { deleted: true };
  }, LIST_TX);
}

// ═════════════════════════════ 排查任务 ═════════════════════════════

export interface CheckTaskData {
  code: string;
  controlMeasureId: number | null;
  majorHazardSourceId: number | null;
  content: string;
  checkCycle: number;
  checkCycleUnit: string;
  /** null: keep (update) / the default anchor of its unit (create, taskStartAnchor) */
  taskStartTime: Date | null;
  workStartTime: string | null;
  workEndTime: string | null;
  workDayType: number;
  workType: number;
  taskNum: number | null;
  postId: number | null;
  personId: number | null;
  checkMeans: string;
  enabled: boolean;
}

const ctInclude = {
  controlMeasure: { select: { id: true, code: true, description: true } },
  majorHazardSource: namedRef,
  post: namedRef,
  person: personRef,
  enterprise: { select: { timezone: true } },
} as const;
type CtRow = Prisma.CheckTaskGetPayload<{ include: typeof ctInclude }>;

export function ctView(r: CtRow) {
  return {
    id: r.id,
    code: r.code,
    controlMeasure: r.controlMeasure ? { id: r.controlMeasure.id, code: r.controlMeasure.code, name: r.controlMeasure.description } : null,
    majorHazardSource: r.majorHazardSource,
    content: r.content,
    checkCycle: r.checkCycle,
    checkCycleUnit: r.checkCycleUnit,
    taskStartTime: r.taskStartTime,
    /** taskStartTime as a wall time in the enterprise's zone, 'YYYY-MM-DD HH:mm' */
    taskStartTimeLocal: formatLocalDateTime(r.taskStartTime, r.enterprise.timezone),
    workStartTime: r.workStartTime,
    workEndTime: r.workEndTime,
    workDayType: r.workDayType,
    workType: r.workType,
    workTypeName: WORK_TYPE[r.workType as keyof typeof WORK_TYPE] ?? null,
    taskNum: r.taskNum,
    post: r.post,
    person: r.person,
    checkMeans: r.checkMeans,
    enabled: r.enabled,
    activeFrom: r.activeFrom,
    generatedUntil: r.generatedUntil,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

async function getCtRow(db: Db, enterpriseId: number, id: number): Promise<CtRow> {
  const r = await db.checkTask.findFirst({ where: { id, enterpriseId }, include: ctInclude });
  if (!r) throw notFound('check task', '排查任务');
  return r;
}

export async function getCheckTask(prisma: PrismaClient, actor: Actor, id: number) {
  return ctView(await getCtRow(prisma, actor.enterpriseId, id));
}

export async function listCheckTasks(
  prisma: PrismaClient,
  actor: Actor,
  q: PageArgs & {
    controlMeasureId?: number;
    majorHazardSourceId?: number;
    riskUnitId?: number;
    postId?: number;
    personId?: number;
    workType?: number;
    checkCycleUnit?: string;
    enabled?: boolean;
  },
) {
  const where: Prisma.CheckTaskWhereInput = {
    enterpriseId: actor.enterpriseId,
    ...(q.controlMeasureId !== undefined ? { controlMeasureId: q.controlMeasureId } : {}),
    ...(q.majorHazardSourceId !== undefined ? { majorHazardSourceId: q.majorHazardSourceId } : {}),
    ...(q.riskUnitId !== undefined ? { controlMeasure: { riskEvent: { riskUnitId: q.riskUnitId } } } : {}),
    ...(q.postId !== undefined ? { postId: q.postId } : {}),
    ...(q.personId !== undefined ? { personId: q.personId } : {}),
    ...(q.workType !== undefined ? { workType: q.workType } : {}),
    ...(q.checkCycleUnit !== undefined ? { checkCycleUnit: q.checkCycleUnit } : {}),
    ...(q.enabled !== undefined ? { enabled: q.enabled } : {}),
    ...(q.q ? { OR: [{ code: containsText(q.q) }, { content: containsText(q.q) }] } : {}),
  };
  const [total, rows] = await Promise.all([
    prisma.checkTask.count({ where }),
    prisma.checkTask.findMany({ where, include: ctInclude, orderBy: { id: 'asc' }, take: q.limit, skip: q.offset }),
  ]);
  return { total, items: rows.map(ctView) };
}

/** The fields whose change re-lays the task's future instances. */
export const SCHEDULE_FIELDS = ['checkCycle', 'checkCycleUnit', 'taskStartTime', 'workStartTime', 'workEndTime', 'workDayType', 'enabled'] as const;

/**
 * After a task's schedule changed (any of SCHEDULE_FIELDS, incl. enabling/disabling), in the same
 * transaction as the change:
 *  - its FUTURE pending instances (startAt > now, no record) are deleted — they were laid out by
 *    the old rule; instances already running or past stay as they are (statistics, and a check may
 *    be under way);
 *  - `generatedUntil` = now, so the generator (services/instances.ts) lays out [now, now +
 *    look-ahead) again under the new rule. Not earlier: a re-enabled task must not get back-dated
 *    (overdue) instances for the time it was off. A new-rule window already running at `now` is
 *    generated too (no gap in coverage); if it starts exactly where a kept instance starts, the
 *    kept one holds that slot ((task, startAt) is unique) and, while still pending, is stretched
 *    to the new window's end by the generator (else e.g. 8 h → 12 h at 00:30 left 08–12 uncovered).
 *  - disabled: its open task alerts are cleared (销警, reason 排查任务已停用 — the condition
 *    ended because the duty was withdrawn by `actorId`), and its running pending instances are
 *    handed to the engine's next tick (nextCheckAt = now), which stops watching them.
 * @returns how many future instances were removed
 */
export async function taskScheduleChanged(tx: Tx, task: { id: number; enabled: boolean }, now: Date, actorId: number | null, channel: string): Promise<number> {
  const { count } = await tx.checkTaskInstance.deleteMany({ where: { checkTaskId: task.id, startAt: { gt: now }, state: 'pending', records: { none: {} } } });
  await tx.checkTask.update({ where: { id: task.id }, data: { generatedUntil: now } });
  if (!task.enabled) {
    await tx.checkTaskInstance.updateMany({ where: { checkTaskId: task.id, state: 'pending', startAt: { lte: now } }, data: { nextCheckAt: now } });
    await clearAlertsFor(tx, {
      subjectType: 'check_task',
      subjectId: task.id,
      kinds: ['task_due_soon', 'task_overdue'],
      now,
      clearKind: 'condition_ended',
      reason: '排查任务已停用',
      actorId,
      channel,
    });
  }
  return count;
}

/**
 * The row a new check task is inserted as: taskStartTime defaults to the start of the current
 * period (taskStartAnchor, in the enterprise's zone `tz`); activeFrom = now, so the generator
 * invents nothing for the time before the task existed.
 */
export function taskCreateData(enterpriseId: number, tz: string, d: CheckTaskData, now: Date): Prisma.CheckTaskCreateManyInput {
  const taskStartTime = d.taskStartTime ?? taskStartAnchor(d.checkCycleUnit as CycleUnit, d.checkCycle, now, tz);
  return { enterpriseId, ...d, taskStartTime, activeFrom: now };
}

/**
 * Writes a check task: create (taskStartTime default: taskStartAnchor in the enterprise's zone;
 * activeFrom = now, so nothing is invented before the task existed) or only the changed fields;
 * a schedule change regenerates its future instances (taskScheduleChanged).
 * @returns id, outcome and whether its instances were re-laid
 */
export async function writeCheckTask(tx: Tx, enterpriseId: number, tz: string, existing: Stored | null, d: CheckTaskData, now: Date, actorId: number | null, channel: string) {
  if (existing === null) {
    const row = await tx.checkTask.create({ data: taskCreateData(enterpriseId, tz, d, now) });
    return { id: row.id, outcome: 'created' as const, rescheduled: false };
  }
  const { taskStartTime, ...rest } = d;
  const changed = changedFields(existing, taskStartTime === null ? rest : d);
  if (isEmpty(changed)) return { id: existing.id, outcome: 'unchanged' as const, rescheduled: false };
  await tx.checkTask.update({ where: { id: existing.id }, data: changed });
  const rescheduled = SCHEDULE_FIELDS.some((f) => f in changed);
  if (rescheduled) await taskScheduleChanged(tx, { id: existing.id, enabled: d.enabled }, now, actorId, channel);
  return { id: existing.id, outcome: 'updated' as const, rescheduled };
}

/**
 * The person of a 包保 task is the source's 包保责任人 of its role (workType 1 主要 / 2 技术 /
 * 3 操作负责人): taken from the source when none is given, refused when another person is named.
 * @returns the person id to store, or an issue
 */
export function baobaoPerson(workType: number, given: number | null, source: { principalId: number | null; technicalId: number | null; operationalId: number | null }, who: (id: number | null) => string): { personId: number | null; issue?: ListIssue } {
  const role = BAOBAO_ROLE[workType as 1 | 2 | 3];
  if (!role) return { personId: given };
  const responsible = source[`${role}Id`];
  if (given === null) return { personId: responsible };
  if (responsible !== null && given !== responsible) {
    const roleZh = WORK_TYPE[workType as 1 | 2 | 3];
    return {
      personId: given,
      issue: {
        field: 'personId',
        zh: `必须是该重大危险源的${roleZh}（${who(responsible)}），实际为 ${who(given)}`,
        en: `a 包保 task of workType ${workType} is done by the source's ${role} responsible person`,
      },
    };
  }
  return { personId: given };
}

/** @throws AppError 400 invalid_input, 404 not_found, 409 duplicate_code */
export async function saveCheckTask(prisma: PrismaClient, clock: Clock, actor: Actor, existingId: number | null, input: Partial<CheckTaskData>) {
  const enterpriseId = actor.enterpriseId;
  const now = clock.now();
  return prisma.$transaction(async (tx) => {
    const row = existingId === null ? null : await getCtRow(tx, enterpriseId, existingId);
    const tz = row?.enterprise.timezone ?? (await tx.enterprise.findUniqueOrThrow({ where: { id: enterpriseId }, select: { timezone: true } })).timezone;
    const base: CheckTaskData = row
      ? {
          code: row.code,
          controlMeasureId: row.controlMeasureId,
          majorHazardSourceId: row.majorHazardSourceId,
          content: row.content,
          checkCycle: row.checkCycle,
          checkCycleUnit: row.checkCycleUnit,
          taskStartTime: row.taskStartTime,
          workStartTime: row.workStartTime,
          workEndTime: row.workEndTime,
          workDayType: row.workDayType,
          workType: row.workType,
          taskNum: row.taskNum,
          postId: row.postId,
          personId: row.personId,
          checkMeans: row.checkMeans,
          enabled: row.enabled,
        }
      : ({ controlMeasureId: null, majorHazardSourceId: null, taskStartTime: null, workStartTime: null, workEndTime: null, workDayType: 0, workType: 0, taskNum: null, postId: null, personId: null, enabled: true } as CheckTaskData);
    const v = merged(base, input);
    const issues = [
      ...checkCheckTask({
        ...v,
        checkCycle: v.checkCycle ?? null,
        checkCycleUnit: v.checkCycleUnit ?? null,
        checkMeans: v.checkMeans ?? null,
        measurePresent: v.controlMeasureId != null,
        majorHazardSourcePresent: v.majorHazardSourceId != null,
        postPresent: v.postId != null,
        personPresent: v.personId != null,
      }),
      ...(await checkRefs(tx, enterpriseId, [
        ['controlMeasureId', 'controlMeasure', v.controlMeasureId],
        ['majorHazardSourceId', 'majorHazardSource', v.majorHazardSourceId],
        ['postId', 'post', v.postId],
        ['personId', 'person', v.personId],
      ])),
    ];
    if (v.workType >= 1 && v.majorHazardSourceId != null && !issues.some((i) => i.field === 'majorHazardSourceId' || i.field === 'personId')) {
      const src = await tx.majorHazardSource.findUniqueOrThrow({ where: { id: v.majorHazardSourceId } });
      const names = new Map((await tx.person.findMany({ where: { id: { in: [src.principalId, src.technicalId, src.operationalId, v.personId].filter((x): x is number => x != null) } } })).map((p) => [p.id, `${p.name}（${p.code}）`]));
      const r = baobaoPerson(v.workType, v.personId, src, (id) => (id === null ? '空' : names.get(id) ?? `id ${id}`));
      if (r.issue) issues.push(r.issue);
      v.personId = r.personId;
    }
    if (issues.length) throw invalidInput(issues);
    await ensureCodeFree((a) => tx.checkTask.findFirst(a), enterpriseId, v.code, existingId, '排查任务');
    const { id } = await writeCheckTask(tx, enterpriseId, tz, row, v, now, actor.personId, 'api').catch(onDuplicate('排查任务', v.code));
    return ctView(await getCtRow(tx, enterpriseId, id));
  }, LIST_TX);
}

/**
 * Deletes a check task that has no history; one with history (an instance that has started, or a
 * record) is disabled instead, keeping its instances and records for the statistics.
 * @returns { deleted: true } or { deleted: false, disabled: true, reason }
 * @throws AppError 404
 */
export async function deleteCheckTask(prisma: PrismaClient, clock: Clock, actor: Actor, id: number) {
  const now = clock.now();
  return prisma.$transaction(async (tx) => {
    const row = await getCtRow(tx, actor.enterpriseId, id);
    const history = await tx.checkTaskInstance.count({ where: { checkTaskId: id, OR: [{ startAt: { lte: now } }, { records: { some: {} } }] } });
    if (history === 0) {
      await tx.checkTask.delete({ where: { id } });
      return { deleted: true, disabled: false };
    }
    if (row.enabled) {
      await tx.checkTask.update({ where: { id }, data: { enabled: false } });
      await taskScheduleChanged(tx, { id, enabled: false }, now, actor.personId, 'api');
    }
    return {
      deleted: false,
      disabled: true,
      reason: `排查任务「${row.code}」已有 ${history} 个开始过的任务实例（排查历史），已停用而未删除`,
      reason_en: `check task ${row.code} has ${history} started instances (history): disabled, not deleted`,
    };
  }, LIST_TX);
}
