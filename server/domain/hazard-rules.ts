/**
 * Pure rules of the hazard loop (隐患排查治理) besides the state machine (hazard-state.ts):
 * national codes, what a report must carry, what a confirmation needs, the 治理方案 of a 重大隐患,
 * 即查即改 eligibility, and who may decide an extension (延期).
 *
 * Functions return a `RuleViolation` (stable code + Chinese/English text) instead of throwing, so
 * services turn them into 400/403 answers and tests can table them.
 *
 * Sources: domain.md "Hazards"; 《安全生产事故隐患排查治理暂行规定》(原国家安监总局令第16号);
 * 《化工和危险化学品生产经营单位重大生产安全事故隐患判定标准（试行）》(major-criteria.ts).
 */
import { z } from 'zod';
import { DANGER_LEVEL_LABELS, HAZARD_TYPE_LABELS } from '../../miniprogram/shared/contract';
import { isMajorCriterion } from './major-criteria';
import { isLocalDate, type LocalDate } from './time';
import { localDate, text } from './inputs';

export interface RuleViolation {
  code: string;
  zh: string;
  en: string;
}
const v = (code: string, zh: string, en: string): RuleViolation => ({ code, zh, en });

// ───────────────────────────── national codes (display names) ─────────────────────────────

/** dangerLevel [0 一般, 1 重大] (shared with the mini-program's pick list: miniprogram/shared/contract.ts) */
export const DANGER_LEVEL_NAMES: Record<number, string> = DANGER_LEVEL_LABELS;
/** dangerSrc [1..10]; 10 with an 执法编号 = found by a government inspection */
export const DANGER_SRC_NAMES: Record<number, string> = {
  1: '日常排查',
  2: '综合性排查',
  3: '专业性排查',
  4: '季节性排查',
  5: '重点时段及节假日前排查',
  6: '事故类比排查',
  7: '复产复工前排查',
  8: '外聘专家诊断式排查',
  9: '管控措施失效',
  10: '其他（政府检查发现）',
};
/** hazardDangerType [1..8] (shared with the mini-program's pick list: miniprogram/shared/contract.ts) */
export const HAZARD_DANGER_TYPE_NAMES: Record<number, string> = HAZARD_TYPE_LABELS;
/** dangerManageType [0 即查即改, 1 限期整改] */
export const DANGER_MANAGE_TYPE_NAMES: Record<number, string> = { 0: '即查即改', 1: '限期整改' };
/** manageClass [1..3] (optional 管理分类) */
export const MANAGE_CLASS_NAMES: Record<number, string> = { 1: '人的不安全行为', 2: '物的不安全状态', 3: '管理上的缺陷' };
/** hazardCategory [0 other, 1/2/3 registered by the 主要/技术/操作负责人] */
export const HAZARD_CATEGORY_NAMES: Record<number, string> = { 0: '其他', 1: '主要负责人登记', 2: '技术负责人登记', 3: '操作负责人登记' };

/** dangerSrc of a hazard found by a government inspection (with enforcementId). */
export const GOVERNMENT_SRC = 10;
export const MAJOR = 1;

// ───────────────────────────── report / classification ─────────────────────────────

export interface ClassificationInput {
  /** as given by the person (undefined = not given) */
  dangerLevel?: number;
  majorCriterion?: number | null;
  dangerSrc: number;
  enforcementId?: string | null;
  /** when it was found (instant); for a date-only entry, the start of that local day */
  foundAt?: Date | null;
  /** the local date it was found, when entered as a date */
  foundDate?: LocalDate | null;
}

/**
 * The effective level: a 判定标准 criterion makes a hazard 重大 (level 1), otherwise what was given
 * (default 一般 0).
 */
export function effectiveDangerLevel(dangerLevel: number | undefined, majorCriterion: number | null | undefined): 0 | 1 {
  if (majorCriterion != null) return 1;
  return dangerLevel === 1 ? 1 : 0;
}

/**
 * How far ahead of the server's clock a reported instant may be (a phone's clock runs a little
 * fast): a foundAt within this is taken as "now" (services/hazards.ts stores min(foundAt, now)).
 */
export const FOUND_AT_CLOCK_SKEW_MS = 5 * 60_000;

/**
 * What a report (or a confirmation changing level/source) must satisfy:
 * - a criterion (1..20) forces level 1; an explicit level 0 with a criterion is a contradiction;
 * - source 10 (government-found) needs the 执法编号 and the date found; an 执法编号 only goes with source 10;
 * - nothing is found in the future (instant more than FOUND_AT_CLOCK_SKEW_MS after `now`, or a
 *   local date after `today`).
 * @returns the first violation, or null.
 */
export function classificationProblem(c: ClassificationInput, now: Date, today: LocalDate): RuleViolation | null {
  if (c.majorCriterion != null && !isMajorCriterion(c.majorCriterion))
    return v('invalid_major_criterion', '重大隐患判定标准条款须为 1～20', 'majorCriterion must be 1..20');
  if (c.majorCriterion != null && c.dangerLevel === 0)
    return v('criterion_requires_major', '符合重大隐患判定标准的隐患必须定为重大隐患', 'a hazard matching a major-hazard criterion is level 1 (重大隐患)');
  if (c.dangerSrc === GOVERNMENT_SRC) {
    if (!c.enforcementId?.trim()) return v('enforcement_id_required', '政府检查发现的隐患须填写执法编号', 'a government-found hazard (dangerSrc 10) needs its enforcementId (执法编号)');
    if (!c.foundAt && !c.foundDate) return v('found_at_required', '政府检查发现的隐患须填写发现日期', 'a government-found hazard (dangerSrc 10) needs the date it was found (foundAt)');
  } else if (c.enforcementId?.trim()) {
    return v('enforcement_id_requires_src10', '执法编号仅用于政府检查发现的隐患（来源 10）', 'enforcementId only goes with dangerSrc 10 (government-found)');
  }
  if (c.foundDate && (!isLocalDate(c.foundDate) || c.foundDate > today)) return v('found_in_future', '发现日期不能晚于今天', 'foundAt cannot be in the future');
  if (c.foundAt && c.foundAt.getTime() > now.getTime() + FOUND_AT_CLOCK_SKEW_MS) return v('found_in_future', '发现时间不能晚于现在', 'foundAt cannot be in the future');
  return null;
}

/** 即查即改 (fixed on the spot) is only for 一般隐患: a 重大隐患 always needs a plan and a deadline. */
export function quickFixProblem(level: number): RuleViolation | null {
  return level === MAJOR ? v('major_no_quick_fix', '重大隐患不能即查即改，须制定治理方案限期整改', 'a major hazard cannot be fixed on the spot (即查即改); it needs a plan and a deadline') : null;
}

/**
 * What a confirmation needs beyond the people and the deadline: a 重大隐患 needs its 治理方案
 * first (16号令 第十五条: 重大事故隐患由主要负责人组织制定并实施治理方案) and is always 限期整改.
 */
export function confirmProblem(c: { level: number; hasPlan: boolean; dangerManageType: number }): RuleViolation | null {
  if (c.level === MAJOR && c.dangerManageType === 0) return quickFixProblem(c.level);
  if (c.level === MAJOR && !c.hasPlan)
    return v('plan_required', '重大隐患须先制定治理方案（目标、措施、经费、人员、时限、安全和应急措施）再确认', 'a major hazard needs its rectification plan (PUT /hazards/:id/plan) before it can be confirmed');
  return null;
}

/** After-photos a rectification must carry: at least one (the loop is closed on evidence). */
export const MIN_AFTER_PHOTOS = 1;

/** A stored photo as the after-photo rule needs it. */
export interface PhotoFacts {
  id: number;
  /** of the stored (re-encoded) bytes: the same upload twice has the same hash */
  sha256: string;
  /** when it was uploaded */
  createdAt: Date;
}

/**
 * After-photos are evidence that the hazard was fixed, so the acceptor compares them with the
 * before-photos (16号令: 隐患整改完成后验收). Refused: an after-photo that IS a before-photo (same id
 * or same content) — it shows the hazard, not the fix; and one uploaded before `notBefore` — the
 * report (it cannot show the fix of something not yet found), or for 即查即改 (report and fix in one
 * request) the earliest before-photo. Who uploaded it is not checked: the person who did the work
 * often is not the one who submits it.
 */
export function afterPhotoProblem(f: { before: readonly PhotoFacts[]; after: readonly PhotoFacts[]; notBefore: Date | null }): RuleViolation | null {
  const beforeIds = new Set(f.before.map((p) => p.id));
  const beforeHashes = new Set(f.before.map((p) => p.sha256));
  const same = f.after.filter((p) => beforeIds.has(p.id) || beforeHashes.has(p.sha256));
  if (same.length) return v('after_photo_is_before_photo', '整改后照片不能与隐患照片相同，请拍摄整改后的现场', `after-photos must show the fix, not repeat the hazard's photos (ids ${same.map((p) => p.id).join(', ')})`);
  const early = f.notBefore ? f.after.filter((p) => p.createdAt < f.notBefore!) : [];
  if (early.length) return v('after_photo_too_early', '整改后照片须在发现隐患之后拍摄上传', `after-photos must be uploaded after the hazard was reported / photographed (ids ${early.map((p) => p.id).join(', ')})`);
  return null;
}

// ───────────────────────────── 治理方案 (重大隐患) ─────────────────────────────

const required = (max: number) => text(max, { multiline: true });

/**
 * The rectification plan of a 重大隐患 — 16号令 第十五条 and the "五到位" (措施、责任、资金、时限、
 * 预案): goals and tasks, measures, funds (元), people (organisation and responsible persons), a
 * time limit (local date), safety measures during rectification, emergency measures. All required.
 */
export const hazardPlanSchema = z
  .object({
    /** 治理的目标和任务 */
    goals: required(2000),
    /** 采取的方法和措施 */
    measures: required(4000),
    /** 经费 (元, yuan) */
    funds: z.number().finite().min(0).max(1e10),
    /** 负责治理的机构和人员 */
    people: required(1000),
    /** 治理的时限 (local date YYYY-MM-DD, 2000–2099) */
    timeLimit: localDate,
    /** 安全措施 (during rectification) */
    safetyMeasures: required(2000),
    /** 应急预案/应急措施 */
    emergencyMeasures: required(2000),
  })
  .strict();
export type HazardPlan = z.infer<typeof hazardPlanSchema>;

/** True when a stored plan (Hazard.plan JSON) is complete. */
export function isCompletePlan(plan: unknown): boolean {
  return hazardPlanSchema.safeParse(stripPlanMeta(plan)).success;
}

/** Stored plans carry who/when set them; the content is validated without those. */
function stripPlanMeta(plan: unknown): unknown {
  if (!plan || typeof plan !== 'object') return plan;
  const { updatedAt: _a, updatedById: _b, ...rest } = plan as Record<string, unknown>;
  return rest;
}

// ───────────────────────────── who manages a hazard / a unit ─────────────────────────────

/** Enterprise-wide roles that manage every hazard (confirm, reject, 治理方案) and every unit's 停用检修. */
export const ENTERPRISE_OVERSIGHT_ROLES = ['safety_dept', 'safety_director', 'principal', 'enterprise_admin'] as const;

/**
 * Who confirms or rejects a hazard and sets its 治理方案 (beyond the hazards.confirm permission):
 * the oversight roles and the 技术负责人 for every hazard; anyone else only for hazards of a unit
 * they head (the unit's head or the head of its department or one above it) — the 氯化车间 head does
 * not confirm the tank farm's hazards.
 */
export function hazardManagerDenied(f: { roles: readonly string[]; headsUnit: boolean }): RuleViolation | null {
  if (f.headsUnit || f.roles.some((r) => (ENTERPRISE_OVERSIGHT_ROLES as readonly string[]).includes(r) || r === 'technical_head')) return null;
  return v('forbidden', '只有该风险单元的负责人或安全管理人员可以处理此隐患', "only the head of the hazard's risk unit or safety staff may do this");
}

/**
 * Who shuts a risk unit down for maintenance or brings it back (beyond units.shutdown): the
 * oversight roles, the head of the unit (or its department), and the 包保责任人 of its 重大危险源.
 */
export function shutdownDenied(f: { roles: readonly string[]; headsUnit: boolean; mhsResponsible: boolean }): RuleViolation | null {
  if (f.headsUnit || f.mhsResponsible || f.roles.some((r) => (ENTERPRISE_OVERSIGHT_ROLES as readonly string[]).includes(r))) return null;
  return v('forbidden', '只有该风险单元的负责人、包保责任人或安全管理人员可以停用检修', "only the unit's head, its 包保责任人 or safety staff may shut it down");
}

/**
 * Who accepts or sends back a rectification: the acceptor, someone who leads them, or an oversight
 * role — never the rectifier judging their own fix (unless they are also the named acceptor, as in
 * 即查即改).
 */
export function acceptorDenied(f: { actorId: number; rectifierId: number | null; acceptorId: number | null; actsForAcceptor: boolean }): RuleViolation | null {
  if (f.rectifierId === f.actorId && f.acceptorId !== f.actorId) return v('forbidden', '整改责任人不能验收自己的整改', 'the rectifier may not accept or send back their own rectification');
  return f.actsForAcceptor ? null : v('forbidden', '只有验收人或其上级可以验收或退回', 'only the acceptor or their superior may accept or send back');
}

// ───────────────────────────── extensions (延期) ─────────────────────────────

/**
 * A requested deadline must be later than the current one and not in the past (an approval must
 * leave a deadline that can still be met).
 */
export function extensionDateProblem(requestedDate: LocalDate, currentDeadline: LocalDate | null, today: LocalDate): RuleViolation | null {
  if (!isLocalDate(requestedDate)) return v('invalid_date', '延期日期须为 YYYY-MM-DD 日期', 'requestedDate must be a date YYYY-MM-DD');
  if (!currentDeadline) return v('no_deadline', '该隐患没有整改期限，无需延期', 'the hazard has no deadline to extend');
  if (requestedDate <= currentDeadline) return v('extension_not_later', `延期日期须晚于当前整改期限 ${currentDeadline}`, `requestedDate must be after the current deadline ${currentDeadline}`);
  if (requestedDate < today) return v('extension_in_past', '延期日期不能早于今天', 'requestedDate cannot be in the past');
  return null;
}

/** Enterprise-wide roles that may decide extensions of 一般隐患. */
export const GENERAL_EXTENSION_ROLES = ['safety_dept', 'safety_director', 'principal'] as const;

export interface ExtensionDeciderFacts {
  dangerLevel: number;
  roles: readonly string[];
  actorId: number;
  requesterId: number;
  /** the actor heads the hazard's risk unit (RiskUnit.head) or its department (or one above it) */
  headsUnit: boolean;
}

/**
 * Who approves or rejects an extension. No national text fixes it; each enterprise's 隐患排查治理
 * 制度 does. Our default follows who organises the rectification (16号令 第十五条):
 * - 一般隐患: the head of the hazard's risk unit / its department, or the safety department,
 *   safety director or 主要负责人;
 * - 重大隐患: the 主要负责人 only (they organise the 治理方案 and answer for its time limit);
 * - nobody decides their own request (four eyes).
 * @returns null when allowed, else the reason.
 */
export function extensionDecisionDenied(f: ExtensionDeciderFacts): RuleViolation | null {
  if (f.actorId === f.requesterId) return v('own_request', '不能审批自己提交的延期申请', 'you cannot decide your own extension request');
  if (f.dangerLevel === MAJOR) {
    return f.roles.includes('principal') ? null : v('principal_only', '重大隐患的延期只能由主要负责人审批', 'only the principal (主要负责人) may decide extensions of a major hazard');
  }
  if (f.headsUnit || f.roles.some((r) => (GENERAL_EXTENSION_ROLES as readonly string[]).includes(r))) return null;
  return v('not_decider', '只有风险单元所属部门负责人或安全管理部门、安全总监、主要负责人可以审批延期', 'only the unit\'s department head, the safety department/director or the principal may decide this extension');
}
