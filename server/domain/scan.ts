/**
 * The engine's scan rules (design.md "The alert engine" §1: conditions are derived from state):
 * what a due check task instance or hazard means at `now` — which alerts open, which clear, and
 * when the engine must look at the row again. Pure: server/engine/tick.ts loads a batch of rows,
 * asks these functions per row, and writes what they decide for the whole batch at once.
 *
 * Sources: domain.md "Alerts and escalation" (临期/逾期未排查, 临期/超期未整改, 重大隐患, late entry of
 * a government finding), "RiskUnit" (停用检修 suspends instances); the moments themselves are in
 * ./escalation.ts (hazardDueSoonAt, isLateEntry), the shutdown overlap in ./shutdown.ts.
 */
import { hazardDueSoonAt, isLateEntry, type AlertKind, type PolicyParams } from './escalation';
import { OPEN_HAZARD_STATES } from './hazard-state';

/** Open the alert of this kind on the row's subject (a no-op when one is open already). */
export interface OpenIntent {
  kind: AlertKind;
  conditionStartAt: Date;
}

/** Clear (销警, condition ended) the open alerts of these kinds on the row's subject. */
export interface ClearIntent {
  kinds: AlertKind[];
  reason: string;
}

// ───────────────────────────── check task instances ─────────────────────────────

/** What the rule reads of a due CheckTaskInstance. */
export interface InstanceFacts {
  /** pending | done | suspended | missed */
  state: string;
  /** CheckTask.enabled */
  taskEnabled: boolean;
  /** a shutdown of the task's risk unit overlaps the window (./shutdown.ts isSuspendedBy) */
  suspended: boolean;
  endAt: Date;
  /** when the engine was due to look (the due-soon moment the generator set) */
  nextCheckAt: Date | null;
}

export interface InstanceDecision {
  /** the instance's new state; absent = unchanged */
  state?: 'suspended' | 'missed';
  /** when to look again; null = nothing left to watch */
  nextCheckAt: Date | null;
  /** alerts to clear on the instance's check task */
  clear: ClearIntent | null;
  /** alert to open on the check task; a task_overdue that is open already counts one more miss */
  open: OpenIntent | null;
}

/**
 * One due instance at `now`:
 * - not pending, task disabled, or its unit shut down (停用检修) → stop watching (a pending one
 *   under a shutdown becomes `suspended`); a pending one's due-soon reminder ends with it — left
 *   open it would also swallow the next window's reminder (openAlert finds it open and sends nothing);
 * - before the window's end → 临期未排查 (task_due_soon) from the due-soon moment; look again at the end;
 * - at or after the end → `missed`, the reminder ends, 逾期未排查 (task_overdue) from the end.
 */
export function decideInstance(i: InstanceFacts, now: Date): InstanceDecision {
  if (i.state !== 'pending' || !i.taskEnabled || i.suspended) {
    return {
      ...(i.state === 'pending' && i.suspended ? { state: 'suspended' as const } : {}),
      nextCheckAt: null,
      clear: i.state === 'pending' ? { kinds: ['task_due_soon'], reason: i.suspended ? '风险单元停用检修，排查任务暂停' : '排查任务已停用' } : null,
      open: null,
    };
  }
  if (now < i.endAt) {
    return { nextCheckAt: i.endAt, clear: null, open: { kind: 'task_due_soon', conditionStartAt: i.nextCheckAt ?? now } };
  }
  return {
    state: 'missed',
    nextCheckAt: null,
    clear: { kinds: ['task_due_soon'], reason: '排查时段已结束，转为逾期未排查' },
    open: { kind: 'task_overdue', conditionStartAt: i.endAt },
  };
}

/** task_overdue on a task already overdue: the alert's running count of missed windows. */
export function missedCountAfter(previous: number | null | undefined, moreMissed: number): number {
  return (previous ?? 1) + moreMissed;
}

// ───────────────────────────── hazards ─────────────────────────────

/** What the rule reads of a due Hazard. */
export interface HazardFacts {
  /** server/domain/hazard-state.ts */
  state: string;
  /** 0 一般, 1 重大 */
  dangerLevel: number;
  dangerSrc: number;
  foundAt: Date;
  reportedAt: Date;
  /** the end of the local deadline day; null = no deadline */
  deadlineAt: Date | null;
}

export interface HazardContext {
  /** the enterprise's time zone (late entry counts local days) */
  tz: string;
  /** event kinds (重大隐患, late entry) this hazard has ever had an alert of, open or cleared */
  raised: ReadonlySet<AlertKind>;
  /** the enterprise's policy parameters for a kind (lead times, entry limit) */
  params: (kind: 'hazard_due_soon' | 'hazard_late_entry') => PolicyParams;
}

export interface HazardDecision {
  /** when to look again; null = nothing left to watch */
  nextCheckAt: Date | null;
  /** alerts to open on the hazard, in this order */
  open: OpenIntent[];
  clear: ClearIntent | null;
}

const ALL_HAZARD_KINDS: AlertKind[] = ['hazard_due_soon', 'hazard_overdue', 'major_hazard', 'hazard_late_entry'];

/**
 * One due hazard at `now`:
 * - a draft is not in the loop yet (./hazard-state.ts): nothing to watch until reported;
 * - 重大隐患 and a late-entered government finding are events: raised once per hazard, never
 *   again after a manual 销警, and not at all once the hazard is closed;
 * - open with a deadline: past it → 超期未整改 (the due-soon reminder ends); from the due-soon
 *   moment → 临期未整改 (an overdue alert ends: the deadline was extended), look again at the
 *   deadline; before it → neither, look again at the due-soon moment;
 * - closed (accepted / rejected) → every alert of the hazard ends; open without a deadline → the
 *   deadline alerts end.
 */
export function decideHazard(h: HazardFacts, ctx: HazardContext, now: Date): HazardDecision {
  if (h.state === 'draft') return { nextCheckAt: null, open: [], clear: null };
  const closed = h.state === 'accepted' || h.state === 'rejected';
  const open: OpenIntent[] = [];
  const once = (kind: AlertKind, applies: boolean) => {
    if (applies && !closed && !ctx.raised.has(kind)) open.push({ kind, conditionStartAt: h.reportedAt });
  };
  once('major_hazard', h.dangerLevel === 1);
  once('hazard_late_entry', isLateEntry(h.dangerSrc, h.foundAt, h.reportedAt, ctx.params('hazard_late_entry'), ctx.tz));

  if ((OPEN_HAZARD_STATES as readonly string[]).includes(h.state) && h.deadlineAt) {
    const dueSoonAt = hazardDueSoonAt(h.deadlineAt, h.dangerLevel, ctx.params('hazard_due_soon'));
    if (now >= h.deadlineAt) {
      open.push({ kind: 'hazard_overdue', conditionStartAt: h.deadlineAt });
      return { nextCheckAt: null, open, clear: { kinds: ['hazard_due_soon'], reason: '已超过整改期限，转为超期未整改' } };
    }
    if (now >= dueSoonAt) {
      // not (or no longer, after an approved extension) overdue
      open.push({ kind: 'hazard_due_soon', conditionStartAt: dueSoonAt });
      return { nextCheckAt: h.deadlineAt, open, clear: { kinds: ['hazard_overdue'], reason: '整改期限已延后，不再超期' } };
    }
    return { nextCheckAt: dueSoonAt, open, clear: { kinds: ['hazard_overdue', 'hazard_due_soon'], reason: '整改期限已延后' } };
  }
  return {
    nextCheckAt: null,
    open,
    clear: closed
      ? { kinds: ALL_HAZARD_KINDS, reason: h.state === 'accepted' ? '隐患已验收销号' : '已判定不属于隐患' }
      : { kinds: ['hazard_due_soon', 'hazard_overdue'], reason: '隐患已无整改期限' },
  };
}

// ───────────────────────────── one alert subject, several rows ─────────────────────────────

/** One step on one (kind, subject) alert, in the order the rows of a batch asked for it. */
export type AlertStep<P> = { op: 'clear'; reason: string } | { op: 'open'; payload: P };

/** What a sequence of steps on one (kind, subject) comes to. */
export interface NetAlertChange<P> {
  /** clear the alert open before the batch with this reason (the first clear's); null = leave it */
  clearReason: string | null;
  /** open the alert with this payload (a no-op when one is open already and not cleared); null = none */
  open: P | null;
  /** opens that land on the alert left open (task_overdue counts each as one missed window) */
  opens: number;
}

/**
 * Folds the steps several rows of one batch take on the same (kind, subject) — e.g. several due
 * instances of one check task — into one clear and one open, with the result of taking them one by
 * one: at most one alert is open per (kind, subject); an open while one is open does nothing (or
 * counts); a clear ends what is open. The first clear ends the alert open before the batch; the
 * alert left open is the one the first open after the last clear created. An alert that a step would
 * have opened and a later step of the same batch cleared again (never fired: the firing phase runs
 * after the scans) is not created at all.
 */
export function netAlertChange<P>(steps: ReadonlyArray<AlertStep<P>>): NetAlertChange<P> {
  let clearReason: string | null = null;
  let open: P | null = null;
  let opens = 0;
  for (const s of steps) {
    if (s.op === 'clear') {
      clearReason ??= s.reason;
      open = null;
      opens = 0;
    } else {
      open ??= s.payload;
      opens++;
    }
  }
  return { clearReason, open, opens };
}
