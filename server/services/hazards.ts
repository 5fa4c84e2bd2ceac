/**
 * The hazard loop (隐患排查治理) over Prisma: report (directly, or from a draft), reject as not a
 * hazard, the 治理方案 of a 重大隐患, confirm, rectify (with after-photos), accept or send back,
 * and 即查即改 in one step. Extensions (延期) are in ./hazard-extensions.ts, reading in
 * ./hazard-queries.ts. States and actions: server/domain/hazard-state.ts; rules:
 * server/domain/hazard-rules.ts.
 *
 * Every action:
 * - is one transaction: the hazard row moves only from the state it was read in (a concurrent second
 *   action fails with 409 `state_changed` instead of applying twice), a HazardTransition is logged
 *   (who, when, comment, photos, data), and photo ids are checked in the same transaction;
 * - hands the hazard to the engine (nextCheckAt = now) so its due-soon/overdue/重大/late-entry
 *   conditions follow the new state at the next tick; conditions that plainly end (accepted,
 *   rejected) are cleared in the same transaction. A draft is never handed to the engine.
 */
import { Prisma, type PrismaClient } from '../db';
import type { Clock } from '../clock';
import { AppError, badRequest, conflict, forbidden, notFound } from '../errors';
import { HAZARD_STATE_NAMES, OPEN_HAZARD_STATES, nextHazardState, type HazardAction, type HazardState } from '../domain/hazard-state';
import {
  acceptorDenied,
  afterPhotoProblem,
  classificationProblem,
  hazardManagerDenied,
  confirmProblem,
  ENTERPRISE_OVERSIGHT_ROLES,
  effectiveDangerLevel,
  GOVERNMENT_SRC,
  hazardPlanSchema,
  isCompletePlan,
  MIN_AFTER_PHOTOS,
  quickFixProblem,
  type HazardPlan,
  type RuleViolation,
} from '../domain/hazard-rules';
import { MAX_PHOTOS_PER_HAZARD } from '../domain/files';
import { endOfLocalDay, isLocalDate, localDateOf, localMidnight } from '../domain/time';
import type { AlertKind } from '../domain/escalation';
import { clearAlertsFor } from './alerts';
import type { Actor } from './alert-actions';
import { assertFilesUsable } from './files';
import { isSuperiorOf, loadOrg, type OrgSnapshot } from './org';
import { clipChars } from '../../miniprogram/shared/contract';

type Tx = Prisma.TransactionClient;

/** Enterprise-wide oversight roles (安全管理部门, 安全总监, 主要负责人, 企业管理员). */
export const OVERSIGHT: readonly string[] = ENTERPRISE_OVERSIGHT_ROLES;
/** Every alert kind whose subject is a hazard: all end when the hazard is closed. */
export const HAZARD_ALERT_KINDS: AlertKind[] = ['hazard_due_soon', 'hazard_overdue', 'major_hazard', 'hazard_late_entry'];

export const violation = (v: RuleViolation, status = 400) => new AppError(status, v.code, v.zh, v.en);
const isOversight = (roles: readonly string[]) => roles.some((r) => OVERSIGHT.includes(r));

// ───────────────────────────── shared helpers ─────────────────────────────

export async function enterpriseZone(db: PrismaClient | Tx, enterpriseId: number): Promise<string> {
  return (await db.enterprise.findUniqueOrThrow({ where: { id: enterpriseId }, select: { timezone: true } })).timezone;
}

/** A hazard of the actor's enterprise, for a write. @throws 404 not_found, 403 for regulators */
async function loadHazard(prisma: PrismaClient, actor: Actor, hazardId: number) {
  const h = await prisma.hazard.findUnique({
    where: { id: hazardId },
    include: { enterprise: { select: { timezone: true } }, riskUnit: { select: { id: true, headPersonId: true, departmentId: true } } },
  });
  if (!h || h.enterpriseId !== actor.enterpriseId) throw notFound('hazard', '隐患');
  if (actor.roles.includes('regulator')) throw forbidden('监管账号只读', 'regulator accounts are read-only');
  return h;
}

/** The actor heads the unit (RiskUnit.head) or its department, or a department above it. */
export function headsUnit(org: OrgSnapshot, actorId: number, unit: { headPersonId: number | null; departmentId: number | null } | null): boolean {
  if (!unit) return false;
  if (unit.headPersonId === actorId) return true;
  let dept = unit.departmentId;
  for (let i = 0; dept !== null && i < 20; i++) {
    if (org.deptHead.get(dept) === actorId) return true;
    dept = org.deptParent.get(dept) ?? null;
  }
  return false;
}

/** The actor is `personId`, leads them, or holds an oversight role. */
async function mayActFor(prisma: PrismaClient, actor: Actor, personId: number | null): Promise<boolean> {
  if (isOversight(actor.roles)) return true;
  if (personId === null) return false;
  if (personId === actor.personId) return true;
  return isSuperiorOf(await loadOrg(prisma, actor.enterpriseId), actor.personId, personId);
}

/** @throws 403 forbidden unless the actor manages the hazard (rule: hazardManagerDenied) */
async function assertManages(prisma: PrismaClient, actor: Actor, unit: { headPersonId: number | null; departmentId: number | null } | null): Promise<void> {
  const quick = hazardManagerDenied({ roles: actor.roles, headsUnit: false });
  if (!quick) return;
  const denied = hazardManagerDenied({ roles: actor.roles, headsUnit: headsUnit(await loadOrg(prisma, actor.enterpriseId), actor.personId, unit) });
  if (denied) throw violation(denied, 403);
}

const retryable = (e: unknown) => {
  const err = e as { code?: string; message?: string };
  return err?.code === 'P2002' || /Duplicate entry|\b1062\b/.test(String(err?.message ?? ''));
};

/**
 * Runs `fn` again (up to 5 times) when it hit a unique violation — two hazards created at once
 * may draw the same next code. `fn` must be a whole transaction.
 */
export async function withCodeRetry<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (attempt >= 5 || !retryable(e)) throw e;
    }
  }
}

/**
 * The next display code of a hazard: `YH` + local date (enterprise zone) + 4-digit sequence of the
 * day, e.g. YH202611300001. Unique per enterprise: the enterprise row is locked for the rest of the
 * caller's transaction, so hazards of one enterprise are numbered one at a time (they arrive at
 * human pace); `withCodeRetry` remains the fallback for a clash.
 */
export async function nextHazardCode(tx: Tx, enterpriseId: number, tz: string, now: Date): Promise<string> {
  await tx.$queryRaw(Prisma.sql`SELECT id FROM Enterprise WHERE id = ${enterpriseId} FOR UPDATE`);
  const prefix = `YH${localDateOf(now, tz).replace(/-/g, '')}`;
  // a locking read sees the latest committed rows, not the transaction's snapshot (REPEATABLE READ)
  const [last] = await tx.$queryRaw<Array<{ code: string }>>(
    Prisma.sql`SELECT code FROM Hazard WHERE enterpriseId = ${enterpriseId} AND code LIKE ${prefix + '%'} ORDER BY code DESC LIMIT 1 FOR UPDATE`,
  );
  const seq = last ? Number(last.code.slice(prefix.length)) + 1 : 1;
  return `${prefix}${String(Number.isFinite(seq) ? seq : 1).padStart(4, '0')}`;
}

export interface StepLog {
  comment?: string | null;
  photos?: number[];
  data?: Record<string, unknown>;
}

/** Logs one step of a hazard (HazardTransition). */
export async function logStep(tx: Tx, hazardId: number, action: HazardAction, from: HazardState | null, to: HazardState, actorId: number, at: Date, log: StepLog = {}) {
  await tx.hazardTransition.create({
    data: {
      hazardId,
      action,
      fromState: from,
      toState: to,
      actorId,
      comment: log.comment ? clipChars(log.comment, 1024) : null,
      photos: log.photos?.length ? log.photos : undefined,
      data: log.data ? (log.data as Prisma.InputJsonValue) : undefined,
      at,
    },
  });
}

function invalidTransition(from: HazardState, action: HazardAction): AppError {
  return conflict('invalid_transition', `隐患当前为「${HAZARD_STATE_NAMES[from] ?? from}」，不能执行此操作`, `cannot ${action} a hazard in state ${from}`);
}

/**
 * Moves a hazard by `action` inside `tx`: only from the state it was read in (else 409
 * state_changed), hands it to the engine (nextCheckAt = now) and logs the step.
 * @returns the new state
 */
async function move(
  tx: Tx,
  h: { id: number; state: string },
  action: HazardAction,
  actorId: number,
  now: Date,
  // unchecked (scalar foreign keys): updateMany cannot take relation `connect`s
  data: Prisma.HazardUncheckedUpdateManyInput,
  log: StepLog,
): Promise<HazardState> {
  const from = h.state as HazardState;
  const to = nextHazardState(from, action);
  if (!to) throw invalidTransition(from, action);
  const { count } = await tx.hazard.updateMany({ where: { id: h.id, state: from }, data: { ...data, state: to, nextCheckAt: now } });
  if (count === 0) throw conflict('state_changed', '隐患状态已被他人更新，请刷新后重试', 'hazard state changed meanwhile; reload and retry');
  await logStep(tx, h.id, action, from, to, actorId, now, log);
  return to;
}

/** Fails early (outside any transaction) when the action does not apply to the state. */
function assertCan(state: string, action: HazardAction) {
  if (!nextHazardState(state as HazardState, action)) throw invalidTransition(state as HazardState, action);
}

/**
 * Ends everything a closed hazard (accepted or rejected) leaves behind, in the caller's
 * transaction: its own alerts, pending extension requests, and the abnormal-reading alert of the
 * check record it came from once no other hazard from that record is still in the loop — the
 * reading was the finding; the finding is dealt with (decision: accepting or rejecting the hazard
 * that came from a reading ends that reading's alert).
 */
async function closeLoose(tx: Tx, h: { id: number; checkRecordId: number | null }, now: Date, actorId: number, reason: string) {
  const cleared = await clearAlertsFor(tx, { subjectType: 'hazard', subjectId: h.id, kinds: HAZARD_ALERT_KINDS, now, clearKind: 'condition_ended', reason, actorId, channel: 'api' });
  await tx.hazardExtension.updateMany({
    where: { hazardId: h.id, state: 'pending' },
    data: { state: 'cancelled', decidedAt: now, decisionComment: `隐患已关闭（${reason}），延期申请自动撤销` },
  });
  if (h.checkRecordId !== null) {
    const others = await tx.hazard.count({ where: { checkRecordId: h.checkRecordId, id: { not: h.id }, state: { in: [...OPEN_HAZARD_STATES] } } });
    if (others === 0) {
      cleared.push(
        ...(await clearAlertsFor(tx, {
          subjectType: 'check_record',
          subjectId: h.checkRecordId,
          kinds: ['abnormal_reading'],
          now,
          clearKind: 'condition_ended',
          reason: `由该读数发现的隐患已关闭（${reason}）`,
          actorId,
          channel: 'api',
        })),
      );
    }
  }
  return cleared;
}

// ───────────────────────────── report ─────────────────────────────

/** What a person enters when reporting a hazard (POST /hazards). */
export interface ReportInput {
  name: string;
  description?: string;
  /** StoredFile ids of the photos (before), at most MAX_PHOTOS_PER_HAZARD */
  photos?: number[];
  location?: string;
  /** WGS-84 degrees (both or neither) */
  latitude?: number;
  longitude?: number;
  riskUnitId?: number;
  /** must belong to riskUnitId (the unit is taken from the measure when not given) */
  controlMeasureId?: number;
  /** the check record it came from (measure and unit are taken from its task when not given) */
  checkRecordId?: number;
  /** [0 一般, 1 重大]; a majorCriterion forces 1 */
  dangerLevel?: 0 | 1;
  /** [1..10]; 10 = government-found: needs enforcementId and foundAt */
  dangerSrc: number;
  /** [1..8] */
  hazardDangerType: number;
  /** [1..3] */
  manageClass?: number;
  /** 1..20 of the 重大隐患判定标准 (server/domain/major-criteria.ts) */
  majorCriterion?: number;
  /** 执法编号 (dangerSrc 10 only) */
  enforcementId?: string;
  /** when found: a local date 'YYYY-MM-DD' (taken as the start of that local day) or an ISO instant; default now */
  foundAt?: string;
}

function parseFound(foundAt: string | undefined, tz: string): { foundAt: Date | null; foundDate: string | null } {
  if (!foundAt) return { foundAt: null, foundDate: null };
  if (/^\d{4}-\d{2}-\d{2}$/.test(foundAt)) {
    if (!isLocalDate(foundAt)) throw badRequest('invalid_found_at', '发现日期不是有效日期', 'foundAt is not a calendar date');
    return { foundAt: localMidnight(foundAt, tz), foundDate: foundAt };
  }
  const d = new Date(foundAt);
  if (!Number.isFinite(d.getTime())) throw badRequest('invalid_found_at', '发现时间格式不正确', 'foundAt must be YYYY-MM-DD or an ISO instant');
  return { foundAt: d, foundDate: null };
}

function checkCoordinates(lat: number | null | undefined, lng: number | null | undefined) {
  if ((lat == null) !== (lng == null)) throw badRequest('invalid_location', '经纬度须同时填写', 'latitude and longitude go together');
  if (lat != null && (lat < -90 || lat > 90 || lng! < -180 || lng! > 180)) throw badRequest('invalid_location', '经纬度超出范围', 'latitude/longitude out of range');
}

/**
 * Resolves and checks the risk unit / control measure / check record a hazard points at: all in
 * the enterprise, the measure in the unit, the record's task on the measure; missing links are
 * filled from the more specific one (record → measure → unit). domain.md: "A hazard found by a task
 * must point at the control measure (and record) it came from."
 * @throws 400 unknown_risk_unit / unknown_control_measure / unknown_check_record / measure_not_in_unit / record_not_for_measure
 */
async function resolveLinks(db: PrismaClient | Tx, enterpriseId: number, l: { riskUnitId?: number | null; controlMeasureId?: number | null; checkRecordId?: number | null }) {
  let { riskUnitId = null, controlMeasureId = null } = l;
  const checkRecordId = l.checkRecordId ?? null;
  let workType = 0;
  if (checkRecordId !== null) {
    const rec = await db.checkRecord.findUnique({ where: { id: checkRecordId }, select: { enterpriseId: true, instance: { select: { checkTask: { select: { controlMeasureId: true, workType: true } } } } } });
    if (!rec || rec.enterpriseId !== enterpriseId) throw badRequest('unknown_check_record', '排查记录不存在', 'check record not found in this enterprise');
    const taskMeasure = rec.instance.checkTask.controlMeasureId;
    workType = rec.instance.checkTask.workType;
    if (controlMeasureId === null) controlMeasureId = taskMeasure;
    else if (taskMeasure !== null && taskMeasure !== controlMeasureId) throw badRequest('record_not_for_measure', '排查记录不属于该管控措施', 'the check record is not about this control measure');
  }
  if (controlMeasureId !== null) {
    const m = await db.controlMeasure.findUnique({ where: { id: controlMeasureId }, select: { enterpriseId: true, riskEvent: { select: { riskUnitId: true } } } });
    if (!m || m.enterpriseId !== enterpriseId) throw badRequest('unknown_control_measure', '管控措施不存在', 'control measure not found in this enterprise');
    if (riskUnitId === null) riskUnitId = m.riskEvent.riskUnitId;
    else if (m.riskEvent.riskUnitId !== riskUnitId) throw badRequest('measure_not_in_unit', '管控措施不属于该风险分析单元', 'the control measure does not belong to this risk unit');
  }
  if (riskUnitId !== null) {
    const u = await db.riskUnit.findUnique({ where: { id: riskUnitId }, select: { enterpriseId: true } });
    if (!u || u.enterpriseId !== enterpriseId) throw badRequest('unknown_risk_unit', '风险分析单元不存在', 'risk unit not found in this enterprise');
  }
  return { riskUnitId, controlMeasureId, checkRecordId, workType };
}

/** hazardCategory: a 包保 task's workType, else the reporter's 包保 role (主要 1, 技术 2, 操作负责人 3), else 0. */
function categoryOf(workType: number, roles: readonly string[]): number {
  if (workType >= 1 && workType <= 3) return workType;
  if (roles.includes('principal')) return 1;
  if (roles.includes('technical_head')) return 2;
  if (roles.includes('operational_head')) return 3;
  return 0;
}

/** Validated fields of a report, shared by report, report-from-draft and 即查即改. */
async function prepareReport(prisma: PrismaClient, actor: Actor, input: ReportInput, now: Date, tz: string) {
  const found = parseFound(input.foundAt, tz);
  const problem = classificationProblem(
    { dangerLevel: input.dangerLevel, majorCriterion: input.majorCriterion ?? null, dangerSrc: input.dangerSrc, enforcementId: input.enforcementId ?? null, foundAt: found.foundAt, foundDate: found.foundDate },
    now,
    localDateOf(now, tz),
  );
  if (problem) throw violation(problem);
  checkCoordinates(input.latitude, input.longitude);
  const links = await resolveLinks(prisma, actor.enterpriseId, input);
  const data = {
    name: input.name.trim(),
    description: input.description?.trim() || null,
    location: input.location?.trim() || null,
    latitude: input.latitude ?? null,
    longitude: input.longitude ?? null,
    riskUnitId: links.riskUnitId,
    controlMeasureId: links.controlMeasureId,
    checkRecordId: links.checkRecordId,
    dangerLevel: effectiveDangerLevel(input.dangerLevel, input.majorCriterion),
    dangerSrc: input.dangerSrc,
    enforcementId: input.dangerSrc === GOVERNMENT_SRC ? input.enforcementId!.trim() : null,
    hazardDangerType: input.hazardDangerType,
    manageClass: input.manageClass ?? null,
    majorCriterion: input.majorCriterion ?? null,
    hazardCategory: categoryOf(links.workType, actor.roles),
    // within the tolerated clock skew a "future" instant is now (classificationProblem)
    foundAt: found.foundAt && found.foundAt < now ? found.foundAt : now,
    photos: input.photos ?? [],
  };
  if (!data.name) throw badRequest('name_required', '请填写隐患名称', 'name is required');
  return data;
}

/**
 * The report an earlier request with the same idempotency key made (the mini-program's offline
 * queue resends until it hears back), as that request answered it, with `duplicate: true`.
 * @param same what identifies the report (name, photo ids): a key resent with another report is a
 *   client bug, answered 409 rather than silently with the first report (the second would be lost)
 * @returns null when the key is new
 * @throws 409 client_request_id_reused (the key names another person's report, or a different one)
 */
async function reportedBefore(db: PrismaClient | Tx, actor: Actor, clientRequestId: string, same: { name: string; photos: number[] }) {
  const h = await db.hazard.findUnique({
    where: { enterpriseId_clientRequestId: { enterpriseId: actor.enterpriseId, clientRequestId } },
    select: { id: true, code: true, name: true, photos: true, reporterId: true, dangerLevel: true, transitions: { where: { action: 'report' }, orderBy: { id: 'asc' }, take: 1, select: { data: true } } },
  });
  if (!h) return null;
  if (h.reporterId !== actor.personId) throw conflict('client_request_id_reused', '该请求编号已被他人使用，请重新提交', 'this clientRequestId belongs to another person\'s report; send a new one');
  const storedPhotos = Array.isArray(h.photos) ? (h.photos as number[]) : [];
  if (h.name !== same.name || storedPhotos.join() !== same.photos.join()) {
    throw new AppError(409, 'client_request_id_reused', '该请求编号已用于另一条不同的上报，请用新的编号重新提交', `this clientRequestId was used for a different report (${h.code}); send this one with a new id`, { hazardId: h.id });
  }
  const reported = (h.transitions[0]?.data as { dangerLevel?: unknown } | null)?.dangerLevel;
  return { hazardId: h.id, code: h.code, state: 'reported' as const, dangerLevel: typeof reported === 'number' ? reported : h.dangerLevel, duplicate: true as const };
}

/**
 * 上报隐患 (POST /hazards): a new hazard in state reported (待确认), logged as `report`. The engine
 * then raises the 重大隐患 alert to the 主要负责人 at once for level 1, and the late-entry alert for
 * a government-found hazard entered more than 7 days after it was found.
 *
 * Idempotent with `clientRequestId` (unique per enterprise): a repeat — also one racing the first —
 * creates nothing and answers the first report with `duplicate: true` (the unique index decides a
 * race: the loser's insert fails, its retry finds the winner's row).
 * @returns { hazardId, code, state, dangerLevel, duplicate? }
 * @throws 400 (classification rules, links, photos: too_many_photos / duplicate_files), 404 file_not_found,
 *   409 client_request_id_reused
 */
export async function reportHazard(prisma: PrismaClient, clock: Clock, actor: Actor, input: ReportInput & { clientRequestId?: string }) {
  const key = input.clientRequestId?.trim() || null;
  const same = { name: input.name.trim(), photos: input.photos ?? [] };
  if (key) {
    const before = await reportedBefore(prisma, actor, key, same);
    if (before) return before;
  }
  const now = clock.now();
  const tz = await enterpriseZone(prisma, actor.enterpriseId);
  const { photos, ...fields } = await prepareReport(prisma, actor, input, now, tz);
  try {
    return await withCodeRetry(() =>
      prisma.$transaction(async (tx) => {
        // each attempt is a new transaction: this read sees a racing request's committed row
        if (key) {
          const before = await reportedBefore(tx, actor, key, same);
          if (before) return before;
        }
        await assertFilesUsable(tx, actor.enterpriseId, photos, { max: MAX_PHOTOS_PER_HAZARD });
        const code = await nextHazardCode(tx, actor.enterpriseId, tz, now);
        const h = await tx.hazard.create({
          data: { ...fields, enterpriseId: actor.enterpriseId, code, photos, reportedAt: now, reporterId: actor.personId, dangerManageType: 1, state: 'reported', nextCheckAt: now, clientRequestId: key },
        });
        await logStep(tx, h.id, 'report', null, 'reported', actor.personId, now, { photos, data: { dangerLevel: h.dangerLevel, dangerSrc: h.dangerSrc, majorCriterion: h.majorCriterion } });
        return { hazardId: h.id, code, state: 'reported' as const, dangerLevel: h.dangerLevel };
      }),
    );
  } catch (e) {
    // retries exhausted by a pile of racing repeats: the winner's row answers
    const before = key && retryable(e) ? await reportedBefore(prisma, actor, key, same) : null;
    if (before) return before;
    throw e;
  }
}

/** A draft's fields, prefilled by the caller (e.g. from an abnormal reading). */
export interface DraftInput {
  enterpriseId: number;
  tz: string;
  reporterId: number;
  name: string;
  description?: string | null;
  riskUnitId: number | null;
  controlMeasureId: number | null;
  checkRecordId: number | null;
  dangerSrc: number;
  hazardDangerType: number;
  hazardCategory: number;
  photos: number[];
  location?: string | null;
  latitude?: number | null;
  longitude?: number | null;
  comment: string;
}

/**
 * Creates a hazard draft (草稿) in the caller's transaction, logged as `draft`. It is not handed to
 * the engine (nextCheckAt stays null) until it is reported. Wrap the caller's transaction in
 * `withCodeRetry`. @returns the draft's id
 */
export async function createHazardDraft(tx: Tx, d: DraftInput, now: Date): Promise<number> {
  const code = await nextHazardCode(tx, d.enterpriseId, d.tz, now);
  const h = await tx.hazard.create({
    data: {
      enterpriseId: d.enterpriseId,
      code,
      name: clipChars(d.name, 255),
      description: d.description ?? null,
      location: d.location ?? null,
      latitude: d.latitude ?? null,
      longitude: d.longitude ?? null,
      riskUnitId: d.riskUnitId,
      controlMeasureId: d.controlMeasureId,
      checkRecordId: d.checkRecordId,
      dangerLevel: 0,
      dangerSrc: d.dangerSrc,
      hazardDangerType: d.hazardDangerType,
      dangerManageType: 1,
      hazardCategory: d.hazardCategory,
      foundAt: now,
      reportedAt: now,
      reporterId: d.reporterId,
      photos: d.photos,
      state: 'draft',
      nextCheckAt: null,
    },
  });
  await logStep(tx, h.id, 'draft', null, 'draft', d.reporterId, now, { comment: d.comment, photos: d.photos, data: { checkRecordId: d.checkRecordId } });
  return h.id;
}

/**
 * 上报草稿 (POST /hazards/:id/report): the draft's reporter (or an oversight role) reports it,
 * changing any field on the way; reportedAt becomes now (foundAt stays when it was found).
 * @throws 404 (not found, or someone else's draft), 409 invalid_transition / state_changed, 400 as reportHazard
 */
export async function reportDraft(prisma: PrismaClient, clock: Clock, actor: Actor, hazardId: number, input: Partial<ReportInput>) {
  const h = await loadHazard(prisma, actor, hazardId);
  // someone else's draft does not exist for the actor, here as in GET and DELETE
  if (h.state === 'draft' && h.reporterId !== actor.personId && !isOversight(actor.roles)) throw notFound('hazard', '隐患');
  assertCan(h.state, 'report');
  const now = clock.now();
  const tz = h.enterprise.timezone;
  const merged: ReportInput = {
    name: input.name ?? h.name,
    description: input.description ?? h.description ?? undefined,
    photos: input.photos ?? ((h.photos as number[] | null) ?? []),
    location: input.location ?? h.location ?? undefined,
    latitude: input.latitude ?? (h.latitude != null ? Number(h.latitude) : undefined),
    longitude: input.longitude ?? (h.longitude != null ? Number(h.longitude) : undefined),
    riskUnitId: input.riskUnitId ?? h.riskUnitId ?? undefined,
    controlMeasureId: input.controlMeasureId ?? h.controlMeasureId ?? undefined,
    checkRecordId: input.checkRecordId ?? h.checkRecordId ?? undefined,
    dangerLevel: input.dangerLevel ?? (input.majorCriterion != null ? undefined : (h.dangerLevel as 0 | 1)),
    dangerSrc: input.dangerSrc ?? h.dangerSrc,
    hazardDangerType: input.hazardDangerType ?? h.hazardDangerType,
    manageClass: input.manageClass ?? h.manageClass ?? undefined,
    majorCriterion: input.majorCriterion ?? h.majorCriterion ?? undefined,
    enforcementId: input.enforcementId ?? h.enforcementId ?? undefined,
    foundAt: input.foundAt ?? h.foundAt.toISOString(),
  };
  // a changed unit without a changed measure drops the draft's measure rather than contradict it
  if (input.riskUnitId !== undefined && input.controlMeasureId === undefined && input.riskUnitId !== h.riskUnitId) merged.controlMeasureId = undefined;
  const { photos, hazardCategory: _keep, ...fields } = await prepareReport(prisma, actor, merged, now, tz);
  return prisma.$transaction(async (tx) => {
    await assertFilesUsable(tx, actor.enterpriseId, photos, { max: MAX_PHOTOS_PER_HAZARD });
    const to = await move(tx, h, 'report', actor.personId, now, { ...fields, photos, reportedAt: now }, { photos, data: { dangerLevel: fields.dangerLevel, dangerSrc: fields.dangerSrc, majorCriterion: fields.majorCriterion } });
    return { hazardId: h.id, code: h.code, state: to, dangerLevel: fields.dangerLevel };
  });
}

// ───────────────────────────── reject / plan / confirm ─────────────────────────────

/**
 * 判定不属于隐患 (POST /hazards/:id/reject): a manager of the hazard rejects a draft or a reported
 * hazard with a reason; every alert on it ends (and the reading's alert, see closeLoose).
 * @throws 400 comment_required, 403, 404, 409
 */
export async function rejectHazard(prisma: PrismaClient, clock: Clock, actor: Actor, hazardId: number, input: { comment: string }) {
  const h = await loadHazard(prisma, actor, hazardId);
  assertCan(h.state, 'reject');
  await assertManages(prisma, actor, h.riskUnit);
  const comment = input.comment?.trim();
  if (!comment) throw badRequest('comment_required', '请填写不属于隐患的理由', 'a comment saying why this is not a hazard is required');
  const now = clock.now();
  return prisma.$transaction(async (tx) => {
    const to = await move(tx, h, 'reject', actor.personId, now, {}, { comment });
    const clearedAlerts = await closeLoose(tx, h, now, actor.personId, '已判定不属于隐患');
    return { hazardId: h.id, state: to, clearedAlerts };
  });
}

/**
 * 删除草稿 (DELETE /hazards/:id): the person who drafted it (or an oversight role) discards a draft
 * that was never reported — e.g. prefilled from a reading that turned out to be a misread. A draft
 * is not in the loop (no national state, no statistics, no alerts of its own), so it is deleted with
 * its steps. The reading it came from keeps its record and its 异常读数 alert: discarding the draft
 * does not silence that alert (only handling, clearing or closing a reported hazard does).
 * @throws 404 (not found, or someone else's draft), 409 not_a_draft (a reported hazard, for anyone who can see it)
 */
export async function discardDraft(prisma: PrismaClient, actor: Actor, hazardId: number) {
  const h = await loadHazard(prisma, actor, hazardId);
  // a reported hazard is visible to everyone of the plant: say why it cannot go (was 404 for others)
  if (h.state !== 'draft') throw conflict('not_a_draft', '只有未上报的草稿可以删除', 'only a draft that was never reported can be discarded');
  // someone else's draft does not exist for the actor (drafts are visible to their author only)
  if (h.reporterId !== actor.personId && !isOversight(actor.roles)) throw notFound('hazard', '隐患');
  const { count } = await prisma.hazard.deleteMany({ where: { id: h.id, state: 'draft' } });
  if (count === 0) throw conflict('state_changed', '草稿已被上报或删除，请刷新', 'the draft was reported or discarded meanwhile');
  return { hazardId: h.id, deleted: true };
}

/**
 * 治理方案 (PUT /hazards/:id/plan): sets or replaces the rectification plan (all of goals, measures,
 * funds 元, people, timeLimit date, safetyMeasures, emergencyMeasures — 五到位). Required before a
 * 重大隐患 is confirmed. Logged as `plan` with the plan in the step's data.
 * @throws 400 invalid_input (via the route's schema) / invalid_plan, 403, 404, 409
 */
export async function setHazardPlan(prisma: PrismaClient, clock: Clock, actor: Actor, hazardId: number, plan: HazardPlan) {
  const h = await loadHazard(prisma, actor, hazardId);
  assertCan(h.state, 'plan');
  await assertManages(prisma, actor, h.riskUnit);
  const parsed = hazardPlanSchema.safeParse(plan);
  if (!parsed.success) throw badRequest('invalid_plan', '治理方案不完整', 'the plan is incomplete', parsed.error.issues);
  const now = clock.now();
  const stored = { ...parsed.data, updatedAt: now.toISOString(), updatedById: actor.personId };
  return prisma.$transaction(async (tx) => {
    await move(tx, h, 'plan', actor.personId, now, { plan: stored }, { data: parsed.data });
    return { hazardId: h.id, state: h.state, plan: stored };
  });
}

export interface ConfirmInput {
  rectifierId: number;
  acceptorId: number;
  /** local date 'YYYY-MM-DD'; the deadline is the end of that day in the enterprise's zone */
  deadlineDate: string;
  dangerLevel?: 0 | 1;
  hazardDangerType?: number;
  dangerSrc?: number;
  enforcementId?: string;
  /** [0 即查即改, 1 限期整改] (default 1) */
  dangerManageType?: 0 | 1;
  manageClass?: number;
  majorCriterion?: number;
  /**
   * the risk unit, for a hazard reported without one (a chat photo, a quick report): the confirmer
   * places it. A hazard already tied to a control measure keeps that measure's unit (400 unit_mismatch).
   */
  riskUnitId?: number;
  comment?: string;
}

/**
 * 确认隐患 (POST /hazards/:id/confirm): a manager of the hazard confirms it — level, type, source,
 * management type, rectifier, acceptor and deadline. A 重大隐患 needs its 治理方案 first.
 * @throws 400 invalid_deadline / deadline_in_past / unknown_person / acceptor_is_rectifier / plan_required /
 *         major_no_quick_fix / classification rules, 403, 404, 409
 */
export async function confirmHazard(prisma: PrismaClient, clock: Clock, actor: Actor, hazardId: number, input: ConfirmInput) {
  const h = await loadHazard(prisma, actor, hazardId);
  assertCan(h.state, 'confirm');
  await assertManages(prisma, actor, h.riskUnit);
  let unitId = h.riskUnitId;
  if (input.riskUnitId !== undefined && input.riskUnitId !== h.riskUnitId) {
    const unit = await prisma.riskUnit.findFirst({ where: { id: input.riskUnitId, enterpriseId: actor.enterpriseId }, select: { id: true, headPersonId: true, departmentId: true } });
    if (!unit) throw badRequest('unknown_unit', '风险分析单元不存在', 'risk unit not found in this enterprise');
    if (h.controlMeasureId !== null) {
      const m = await prisma.controlMeasure.findUniqueOrThrow({ where: { id: h.controlMeasureId }, select: { riskEvent: { select: { riskUnitId: true } } } });
      if (m.riskEvent.riskUnitId !== unit.id) throw badRequest('unit_mismatch', '该隐患的管控措施属于其他风险分析单元', "the hazard's control measure belongs to another risk unit");
    }
    // placing it in a unit is managing that unit too
    await assertManages(prisma, actor, unit);
    unitId = unit.id;
  }
  const now = clock.now();
  const tz = h.enterprise.timezone;
  if (!isLocalDate(input.deadlineDate)) throw badRequest('invalid_deadline', '整改期限须为 YYYY-MM-DD 日期', 'deadlineDate must be a date YYYY-MM-DD');
  if (input.deadlineDate < localDateOf(now, tz)) throw badRequest('deadline_in_past', '整改期限不能早于今天', 'deadlineDate cannot be in the past');
  if (input.rectifierId === input.acceptorId) throw badRequest('acceptor_is_rectifier', '验收人不能与整改责任人为同一人', 'the acceptor must not be the rectifier');
  const people = await prisma.person.count({ where: { id: { in: [input.rectifierId, input.acceptorId] }, enterpriseId: actor.enterpriseId, active: true } });
  if (people !== 2) throw badRequest('unknown_person', '整改责任人或验收人不存在', 'rectifier or acceptor not found in this enterprise');

  const majorCriterion = input.majorCriterion ?? h.majorCriterion;
  const dangerSrc = input.dangerSrc ?? h.dangerSrc;
  const enforcementId = input.enforcementId ?? (dangerSrc === GOVERNMENT_SRC ? h.enforcementId : null);
  const requestedLevel = input.dangerLevel ?? (input.majorCriterion != null ? undefined : h.dangerLevel);
  const problem = classificationProblem({ dangerLevel: requestedLevel, majorCriterion, dangerSrc, enforcementId, foundAt: h.foundAt }, now, localDateOf(now, tz));
  if (problem) throw violation(problem);
  const level = effectiveDangerLevel(requestedLevel, majorCriterion);
  const dangerManageType = input.dangerManageType ?? 1;
  const cp = confirmProblem({ level, hasPlan: isCompletePlan(h.plan), dangerManageType });
  if (cp) throw violation(cp);

  const data = {
    riskUnitId: unitId,
    rectifierId: input.rectifierId,
    acceptorId: input.acceptorId,
    deadlineDate: input.deadlineDate,
    deadlineAt: endOfLocalDay(input.deadlineDate, tz),
    confirmedAt: now,
    dangerLevel: level,
    dangerSrc,
    enforcementId: dangerSrc === GOVERNMENT_SRC ? enforcementId : null,
    majorCriterion: majorCriterion ?? null,
    dangerManageType,
    ...(input.hazardDangerType !== undefined ? { hazardDangerType: input.hazardDangerType } : {}),
    ...(input.manageClass !== undefined ? { manageClass: input.manageClass } : {}),
  };
  return prisma.$transaction(async (tx) => {
    const to = await move(tx, h, 'confirm', actor.personId, now, data, {
      comment: input.comment,
      data: { rectifierId: data.rectifierId, acceptorId: data.acceptorId, deadlineDate: data.deadlineDate, dangerLevel: level, dangerManageType, majorCriterion: data.majorCriterion },
    });
    return { hazardId: h.id, state: to, dangerLevel: level, deadlineDate: data.deadlineDate, deadlineAt: data.deadlineAt };
  });
}

// ───────────────────────────── rectify / accept / send back ─────────────────────────────

export interface RectifyInput {
  /** 整改措施 taken */
  measures: string;
  /** 整改资金 (元) */
  cost?: number;
  cause?: string;
  /** StoredFile ids of the after-photos: at least MIN_AFTER_PHOTOS (1), at most MAX_PHOTOS_PER_HAZARD */
  afterPhotos: number[];
  comment?: string;
}

/**
 * 整改完成 (POST /hazards/:id/rectify): the rectifier (or a superior / oversight role) reports the
 * fix with at least one after-photo (decision: the loop closes on evidence — the acceptor compares
 * before and after). A second rectification after a send-back replaces the after-photos on the
 * hazard; every set stays on its logged step. Due-soon/overdue alerts stay open until acceptance.
 * @throws 400 measures_required / after_photo_required / too_many_photos / after_photo_* (afterPhotoProblem), 403, 404 (hazard, file), 409
 */
export async function rectifyHazard(prisma: PrismaClient, clock: Clock, actor: Actor, hazardId: number, input: RectifyInput) {
  const h = await loadHazard(prisma, actor, hazardId);
  assertCan(h.state, 'rectify');
  if (!(await mayActFor(prisma, actor, h.rectifierId))) throw forbidden('只有整改责任人或其上级可以提交整改', 'only the rectifier or their superior may rectify');
  if (!input.measures?.trim()) throw badRequest('measures_required', '请填写整改措施', 'measures are required');
  const photos = input.afterPhotos ?? [];
  if (photos.length < MIN_AFTER_PHOTOS) throw badRequest('after_photo_required', '请上传整改后照片', 'at least one after-photo is required to report a rectification');
  const now = clock.now();
  return prisma.$transaction(async (tx) => {
    await assertFilesUsable(tx, actor.enterpriseId, photos, { max: MAX_PHOTOS_PER_HAZARD });
    await assertAfterPhotosAreEvidence(tx, actor.enterpriseId, {
      beforeIds: Array.isArray(h.photos) ? (h.photos as number[]) : [],
      afterIds: photos,
      reportedAt: h.reportedAt,
    });
    const to = await move(
      tx,
      h,
      'rectify',
      actor.personId,
      now,
      { measures: input.measures.trim(), cost: input.cost ?? undefined, cause: input.cause?.trim() || undefined, afterPhotos: photos, rectifiedAt: now },
      { comment: input.comment ?? input.measures.trim(), photos, data: { cost: input.cost ?? null } },
    );
    return { hazardId: h.id, state: to };
  });
}

/**
 * The after-photo rule (domain/hazard-rules.ts afterPhotoProblem) on the stored files: not a
 * before-photo, uploaded after the report (即查即改: not before the earliest before-photo). Call
 * after assertFilesUsable.
 * @throws 400 after_photo_is_before_photo / after_photo_too_early
 */
async function assertAfterPhotosAreEvidence(
  tx: Prisma.TransactionClient,
  enterpriseId: number,
  f: { beforeIds: number[]; afterIds: number[]; reportedAt: Date | null },
): Promise<void> {
  const rows = await tx.storedFile.findMany({ where: { enterpriseId, id: { in: [...f.beforeIds, ...f.afterIds] } }, select: { id: true, sha256: true, createdAt: true } });
  const byId = new Map(rows.map((r) => [r.id, r]));
  const pick = (ids: number[]) => ids.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : []));
  const before = pick(f.beforeIds);
  const earliestBefore = before.length ? new Date(Math.min(...before.map((p) => p.createdAt.getTime()))) : null;
  const problem = afterPhotoProblem({ before, after: pick(f.afterIds), notBefore: f.reportedAt ?? earliestBefore });
  if (problem) throw violation(problem);
}

/** @throws 403 forbidden (rule: acceptorDenied) */
async function assertAcceptor(prisma: PrismaClient, actor: Actor, h: { acceptorId: number | null; rectifierId: number | null }) {
  const denied = acceptorDenied({ actorId: actor.personId, rectifierId: h.rectifierId, acceptorId: h.acceptorId, actsForAcceptor: await mayActFor(prisma, actor, h.acceptorId) });
  if (denied) throw violation(denied, 403);
}

/**
 * 验收 (POST /hazards/:id/accept): the acceptor closes the hazard; every alert on it clears, and the
 * abnormal-reading alert of the record it came from (see closeLoose).
 * @throws 403, 404, 409
 */
export async function acceptHazard(prisma: PrismaClient, clock: Clock, actor: Actor, hazardId: number, input: { comment?: string; photos?: number[] }) {
  const h = await loadHazard(prisma, actor, hazardId);
  assertCan(h.state, 'accept');
  await assertAcceptor(prisma, actor, h);
  const now = clock.now();
  const photos = input.photos ?? [];
  return prisma.$transaction(async (tx) => {
    await assertFilesUsable(tx, actor.enterpriseId, photos, { max: MAX_PHOTOS_PER_HAZARD });
    const to = await move(tx, h, 'accept', actor.personId, now, { acceptedAt: now, acceptComment: input.comment ? clipChars(input.comment, 512) : null }, { comment: input.comment, photos });
    const clearedAlerts = await closeLoose(tx, h, now, actor.personId, '隐患已验收销号');
    return { hazardId: h.id, state: to, clearedAlerts };
  });
}

/**
 * 退回 (POST /hazards/:id/send-back): the acceptor sends the hazard back to rectifying (comment
 * required, photos optional). The deadline and its alerts keep running.
 * @throws 400 comment_required, 403, 404, 409
 */
export async function sendBackHazard(prisma: PrismaClient, clock: Clock, actor: Actor, hazardId: number, input: { comment: string; photos?: number[] }) {
  const h = await loadHazard(prisma, actor, hazardId);
  assertCan(h.state, 'send_back');
  await assertAcceptor(prisma, actor, h);
  if (!input.comment?.trim()) throw badRequest('comment_required', '请填写退回原因', 'a comment is required');
  const now = clock.now();
  const photos = input.photos ?? [];
  return prisma.$transaction(async (tx) => {
    await assertFilesUsable(tx, actor.enterpriseId, photos, { max: MAX_PHOTOS_PER_HAZARD });
    const to = await move(tx, h, 'send_back', actor.personId, now, { rectifiedAt: null }, { comment: input.comment.trim(), photos });
    return { hazardId: h.id, state: to };
  });
}

// ───────────────────────────── 即查即改 ─────────────────────────────

export interface QuickFixInput extends ReportInput {
  /** what was done on the spot */
  measures: string;
  cost?: number;
  /** at least one after-photo */
  afterPhotos: number[];
  comment?: string;
}

/**
 * 即查即改 (POST /hazards/quick-fix): a 一般隐患 found and fixed on the spot, closed in one step with
 * the after-photo. Logged as its steps — report, confirm (dangerManageType 0, the finder as
 * rectifier and acceptor, deadline today), rectify, accept — all at the same instant, so the loop
 * reads the same as any other hazard's. A 重大隐患 (level 1 or a criterion) can never be 即查即改.
 * @throws 400 major_no_quick_fix / after_photo_required / measures_required / after_photo_* (afterPhotoProblem) / report rules, 404 file_not_found
 */
export async function quickFixHazard(prisma: PrismaClient, clock: Clock, actor: Actor, input: QuickFixInput) {
  const now = clock.now();
  const tz = await enterpriseZone(prisma, actor.enterpriseId);
  const qp = quickFixProblem(effectiveDangerLevel(input.dangerLevel, input.majorCriterion));
  if (qp) throw violation(qp);
  if (!input.measures?.trim()) throw badRequest('measures_required', '请填写整改措施', 'measures are required');
  const after = input.afterPhotos ?? [];
  if (after.length < MIN_AFTER_PHOTOS) throw badRequest('after_photo_required', '即查即改须上传整改后照片', 'a quick fix needs at least one after-photo');
  const { photos, ...fields } = await prepareReport(prisma, actor, input, now, tz);
  const today = localDateOf(now, tz);
  return withCodeRetry(() =>
    prisma.$transaction(async (tx) => {
      await assertFilesUsable(tx, actor.enterpriseId, photos, { max: MAX_PHOTOS_PER_HAZARD });
      await assertFilesUsable(tx, actor.enterpriseId, after, { max: MAX_PHOTOS_PER_HAZARD });
      await assertAfterPhotosAreEvidence(tx, actor.enterpriseId, { beforeIds: photos, afterIds: after, reportedAt: null });
      const code = await nextHazardCode(tx, actor.enterpriseId, tz, now);
      const me = actor.personId;
      const h = await tx.hazard.create({
        data: {
          ...fields,
          enterpriseId: actor.enterpriseId,
          code,
          photos,
          afterPhotos: after,
          reportedAt: now,
          reporterId: me,
          rectifierId: me,
          acceptorId: me,
          dangerManageType: 0,
          deadlineDate: today,
          deadlineAt: endOfLocalDay(today, tz),
          measures: input.measures.trim(),
          cost: input.cost ?? null,
          confirmedAt: now,
          rectifiedAt: now,
          acceptedAt: now,
          acceptComment: '即查即改',
          state: 'accepted',
          nextCheckAt: now,
        },
      });
      await logStep(tx, h.id, 'report', null, 'reported', me, now, { photos, comment: '即查即改' });
      await logStep(tx, h.id, 'confirm', 'reported', 'rectifying', me, now, { comment: '即查即改', data: { dangerManageType: 0, rectifierId: me, acceptorId: me, deadlineDate: today } });
      await logStep(tx, h.id, 'rectify', 'rectifying', 'awaiting_acceptance', me, now, { comment: input.comment ?? input.measures.trim(), photos: after });
      await logStep(tx, h.id, 'accept', 'awaiting_acceptance', 'accepted', me, now, { comment: '即查即改，现场整改完毕' });
      // a quick fix from an abnormal reading ends that reading's alert like any acceptance
      const clearedAlerts = await closeLoose(tx, h, now, me, '即查即改，已整改销号');
      return { hazardId: h.id, code, state: 'accepted' as const, clearedAlerts };
    }),
  );
}
