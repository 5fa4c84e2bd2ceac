/**
 * Escalation (逐级提醒): alert kinds, the policy shape, the default policy table, and the one
 * function that decides what an alert does when the engine looks at it.
 *
 * Source of the defaults: ../shared/domain.md "Alerts and escalation". No regulation fixes who is
 * told after what delay, so policies are data (EscalationPolicy rows); these are only the defaults
 * loaded for a new enterprise. A policy is snapshotted onto each alert when it opens (design.md),
 * so editing a policy never rewrites an open alert's history.
 *
 * Pure: no I/O, no clock — `now` is passed in.
 */
import { z } from 'zod';
import { RECIPIENT_ROLES } from './roles';
import { localDateOf, localDayDiff } from './time';

export const ALERT_KINDS = [
  'task_due_soon', // 临期未排查
  'task_overdue', // 逾期未排查
  'hazard_due_soon', // 临期未整改
  'hazard_overdue', // 超期未整改
  'major_hazard', // 重大隐患
  'abnormal_reading', // 异常读数
  'hazard_late_entry', // 政府检查发现的隐患未在7日内录入
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export const ALERT_KIND_NAMES: Record<AlertKind, string> = {
  task_due_soon: '临期未排查',
  task_overdue: '逾期未排查',
  hazard_due_soon: '临期未整改',
  hazard_overdue: '超期未整改',
  major_hazard: '重大隐患',
  abnormal_reading: '异常读数',
  hazard_late_entry: '政府检查隐患逾期录入',
};

const HOUR = 3600_000;
const DAY = 24 * HOUR;

const recipientRole = z.enum(RECIPIENT_ROLES);

export const policyLevelSchema = z.object({
  /** 1-based, ascending */
  level: z.number().int().min(1),
  /** delay from the condition's start before this level is notified (ms) */
  delayMs: z.number().int().min(0),
  /** repeat interval while the alert stays at this level (ms); null = no repeat */
  repeatMs: z.number().int().min(60_000).nullable(),
  /** roles added at this level; a notification goes to everyone of levels 1..current */
  notify: z.array(recipientRole).min(1),
  /** replaces `notify` when the subject is a 包保 task (workType 1..3) */
  notifyForBaobao: z.array(recipientRole).min(1).optional(),
});
export type PolicyLevel = z.infer<typeof policyLevelSchema>;

export const policyParamsSchema = z
  .object({
    /** task due soon: remind `max(fraction × window, minLeadMs)` before the end, never before mid-window */
    dueSoonFraction: z.number().min(0).max(1).optional(),
    dueSoonMinLeadMs: z.number().int().min(0).optional(),
    /** hazard due soon: lead before the deadline (ms), general and 重大 */
    leadMs: z.number().int().min(0).optional(),
    majorLeadMs: z.number().int().min(0).optional(),
    /** government-found hazards must be entered within this many local days of being found (default 7) */
    entryLimitDays: z.number().int().min(0).optional(),
    /** older form of entryLimitDays, in ms (read as whole days) */
    entryLimitMs: z.number().int().min(0).optional(),
  })
  .strict();
export type PolicyParams = z.infer<typeof policyParamsSchema>;

export const policySchema = z
  .object({
    kind: z.enum(ALERT_KINDS),
    name: z.string().min(1),
    levels: z.array(policyLevelSchema).min(1),
    /** how long 确认 or 处置 pauses repeats and escalation (ms) */
    ackTimeoutMs: z.number().int().min(60_000),
    params: policyParamsSchema.default({}),
  })
  .superRefine((p, ctx) => {
    p.levels.forEach((l, i) => {
      if (l.level !== i + 1) ctx.addIssue({ code: 'custom', path: ['levels', i, 'level'], message: `levels must be numbered 1..n in order (found ${l.level} at position ${i + 1})` });
      if (i > 0 && l.delayMs < p.levels[i - 1].delayMs)
        ctx.addIssue({ code: 'custom', path: ['levels', i, 'delayMs'], message: 'delays must not decrease from one level to the next' });
    });
  });
export type EscalationPolicyData = z.infer<typeof policySchema>;

/**
 * The default policy table (domain.md). Repeat intervals and ack timeouts are our defaults.
 */
export const DEFAULT_POLICIES: Record<AlertKind, EscalationPolicyData> = {
  task_due_soon: {
    kind: 'task_due_soon',
    name: '临期未排查提醒',
    levels: [{ level: 1, delayMs: 0, repeatMs: null, notify: ['assignee'] }],
    ackTimeoutMs: 4 * HOUR,
    params: { dueSoonFraction: 0.2, dueSoonMinLeadMs: HOUR },
  },
  task_overdue: {
    kind: 'task_overdue',
    name: '逾期未排查逐级提醒',
    levels: [
      { level: 1, delayMs: 0, repeatMs: 4 * HOUR, notify: ['assignee', 'post_leader'] },
      { level: 2, delayMs: DAY, repeatMs: 12 * HOUR, notify: ['department_head'], notifyForBaobao: ['mhs_responsible', 'principal'] },
      { level: 3, delayMs: 3 * DAY, repeatMs: DAY, notify: ['safety_dept', 'technical_head'] },
    ],
    ackTimeoutMs: 4 * HOUR,
    params: {},
  },
  hazard_due_soon: {
    kind: 'hazard_due_soon',
    name: '临期未整改提醒',
    levels: [{ level: 1, delayMs: 0, repeatMs: DAY, notify: ['rectifier'] }],
    ackTimeoutMs: DAY,
    params: { leadMs: 3 * DAY, majorLeadMs: 7 * DAY },
  },
  hazard_overdue: {
    kind: 'hazard_overdue',
    name: '超期未整改逐级提醒',
    levels: [
      { level: 1, delayMs: 0, repeatMs: DAY, notify: ['rectifier', 'acceptor'] },
      { level: 2, delayMs: DAY, repeatMs: DAY, notify: ['department_head'] },
      { level: 3, delayMs: 3 * DAY, repeatMs: DAY, notify: ['safety_director', 'principal'] },
    ],
    ackTimeoutMs: DAY,
    params: {},
  },
  major_hazard: {
    kind: 'major_hazard',
    name: '重大隐患即时报告',
    levels: [{ level: 1, delayMs: 0, repeatMs: DAY, notify: ['rectifier', 'department_head', 'principal'] }],
    ackTimeoutMs: 7 * DAY,
    params: {},
  },
  abnormal_reading: {
    kind: 'abnormal_reading',
    name: '异常读数即时报告',
    levels: [{ level: 1, delayMs: 0, repeatMs: 4 * HOUR, notify: ['assignee', 'department_head', 'principal'] }],
    ackTimeoutMs: 4 * HOUR,
    params: {},
  },
  hazard_late_entry: {
    kind: 'hazard_late_entry',
    name: '政府检查隐患逾期录入',
    levels: [{ level: 1, delayMs: 0, repeatMs: null, notify: ['reporter', 'safety_director', 'principal'] }],
    ackTimeoutMs: DAY,
    params: { entryLimitDays: 7 },
  },
};

/** Parses a stored policy (row or snapshot). @throws ZodError with the path of every problem. */
export function parsePolicy(data: unknown): EscalationPolicyData {
  return policySchema.parse(data);
}

/** The state of an alert the engine needs to decide (a subset of the Alert row). */
export interface AlertTiming {
  state: 'open' | 'acknowledged' | 'cleared';
  /** highest level notified so far; 0 = none */
  level: number;
  conditionStartAt: Date;
  lastNotifiedAt: Date | null;
  /** end of the pause set by 确认/处置; null when none */
  ackUntil: Date | null;
}

export type FiringReason = 'open' | 'escalate' | 'repeat';

export interface FiringPlan {
  /** notify everyone of levels 1..notifyUpTo now; null = send nothing */
  notifyUpTo: number | null;
  reason: FiringReason | null;
  /** the alert's level after this firing */
  level: number;
  /** when to look again; null = nothing more to do until something changes */
  nextFireAt: Date | null;
  /** the ack pause has run out: record that escalation resumes */
  ackExpired: boolean;
}

/**
 * Decides what an alert does at `now`.
 *
 * - Levels are reached by time since the condition started. When several levels are due at once
 *   (a hazard 5 days overdue on a fresh start) the alert jumps straight to the highest: ONE
 *   notification to everyone up to that level, not a burst replaying the lower levels.
 * - At the same level, the level's `repeatMs` repeats the notification.
 * - 确认/处置 set `ackUntil`: until then nothing is sent (neither repeats nor escalation); after it,
 *   the normal schedule resumes if the condition still holds (design.md "Ack → handle → clear").
 */
export function planFiring(policy: EscalationPolicyData, a: AlertTiming, now: Date): FiringPlan {
  if (a.state === 'cleared') return { notifyUpTo: null, reason: null, level: a.level, nextFireAt: null, ackExpired: false };
  const t = now.getTime();
  const start = a.conditionStartAt.getTime();
  if (a.ackUntil && t < a.ackUntil.getTime()) {
    return { notifyUpTo: null, reason: null, level: a.level, nextFireAt: a.ackUntil, ackExpired: false };
  }
  const ackExpired = a.ackUntil !== null;
  const levels = policy.levels;
  let target = 0;
  for (const l of levels) if (start + l.delayMs <= t) target = l.level;

  let notifyUpTo: number | null = null;
  let reason: FiringReason | null = null;
  let level = a.level;
  let last = a.lastNotifiedAt?.getTime() ?? null;

  if (target > a.level) {
    notifyUpTo = target;
    reason = a.level === 0 ? 'open' : 'escalate';
    level = target;
    last = t;
  } else if (level > 0) {
    const repeat = levels[level - 1].repeatMs;
    // after an ack pause the normal schedule simply continues: a repeat that fell due during the
    // pause goes out now, a later one at its time
    if (repeat !== null && (last ?? start) + repeat <= t) {
      notifyUpTo = level;
      reason = 'repeat';
      last = t;
    }
  }

  const candidates: number[] = [];
  const next = levels[level]; // the level after the current one (levels are 1-based)
  if (next) candidates.push(start + next.delayMs);
  if (level > 0) {
    const repeat = levels[level - 1].repeatMs;
    if (repeat !== null && last !== null) candidates.push(last + repeat);
  } else if (levels[0]) {
    candidates.push(start + levels[0].delayMs);
  }
  const nextT = candidates.length ? Math.max(Math.min(...candidates), t + 1) : null;
  return { notifyUpTo, reason, level, nextFireAt: nextT === null ? null : new Date(nextT), ackExpired };
}

/** Roles to notify for levels 1..upTo, in order, without duplicates. */
export function rolesUpTo(policy: EscalationPolicyData, upTo: number, baobao: boolean): string[] {
  const out: string[] = [];
  for (const l of policy.levels) {
    if (l.level > upTo) break;
    for (const r of baobao && l.notifyForBaobao ? l.notifyForBaobao : l.notify) if (!out.includes(r)) out.push(r);
  }
  return out;
}

/**
 * When a task instance becomes "due soon" (临期): `lead = max(fraction × window, minLead)` before the
 * end, but never before the middle of the window (a 1 h patrol is not "due soon" the moment it opens).
 * Default 20 % / 1 h (domain.md: "80 % of window or 1 h before end").
 */
export function taskDueSoonAt(startAt: Date, endAt: Date, params: PolicyParams): Date {
  const s = startAt.getTime();
  const e = endAt.getTime();
  const w = e - s;
  const lead = Math.max(w * (params.dueSoonFraction ?? 0.2), params.dueSoonMinLeadMs ?? HOUR);
  return new Date(Math.max(e - lead, s + w / 2));
}

/** When a hazard becomes "due soon" (临期未整改): deadline − 3 d, 重大隐患 − 7 d (defaults). */
export function hazardDueSoonAt(deadlineAt: Date, dangerLevel: number, params: PolicyParams): Date {
  const lead = dangerLevel === 1 ? params.majorLeadMs ?? 7 * DAY : params.leadMs ?? 3 * DAY;
  return new Date(deadlineAt.getTime() - lead);
}

/**
 * A government-found hazard (dangerSrc 10) entered more than the limit after it was found.
 * domain.md: it must be entered "within one week" of being found — counted in the enterprise's
 * local calendar days (found on D, entered by the end of D+7 is in time), because a finding carries a
 * date, not an hour. `entryLimitDays` (default 7; an older `entryLimitMs` is read as whole days).
 */
export function isLateEntry(dangerSrc: number, foundAt: Date, reportedAt: Date, params: PolicyParams, tz: string): boolean {
  if (dangerSrc !== 10) return false;
  const limitDays = params.entryLimitDays ?? (params.entryLimitMs !== undefined ? Math.round(params.entryLimitMs / DAY) : 7);
  return localDayDiff(localDateOf(reportedAt, tz), localDateOf(foundAt, tz)) > limitDays;
}
