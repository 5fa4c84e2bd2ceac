/**
 * The hazard (隐患) lifecycle — the one place that says which action moves a hazard from which
 * state to which. Source: domain.md "Hazards": reported (待确认) → confirmed (整改中, national 0)
 * or rejected (not a hazard) → rectified, waiting for acceptance (待验收, 1) → accepted (已验收, 9),
 * or sent back to rectifying; extension (延期) is an approval step that moves the deadline.
 *
 * `draft` (草稿) is ours: a hazard prefilled (e.g. from an abnormal reading) but not reported yet.
 * A draft is not in the loop: the alert engine never looks at it (services never set its
 * nextCheckAt) and it counts in no statistics until it is reported.
 *
 * Every action, including the ones that do not change the state (extension request/decision,
 * setting the 治理方案), is logged as a HazardTransition (who, when, comment, photos).
 */
export const HAZARD_STATES = ['draft', 'reported', 'rectifying', 'awaiting_acceptance', 'accepted', 'rejected'] as const;
export type HazardState = (typeof HAZARD_STATES)[number];

export const HAZARD_STATE_NAMES: Record<HazardState, string> = {
  draft: '草稿',
  reported: '待确认',
  rectifying: '整改中',
  awaiting_acceptance: '待验收',
  accepted: '已验收',
  rejected: '不属于隐患',
};

/** States in the closed loop that are not finished: deadlines and alerts matter. */
export const OPEN_HAZARD_STATES: readonly HazardState[] = ['reported', 'rectifying', 'awaiting_acceptance'];
/** Finished states: every alert on the hazard ends. */
export const CLOSED_HAZARD_STATES: readonly HazardState[] = ['accepted', 'rejected'];

export function isHazardState(s: string): s is HazardState {
  return (HAZARD_STATES as readonly string[]).includes(s);
}

/** National hazard state code (0 整改中, 1 待验收, 9 已验收); null where the national model has none. */
export function nationalHazardState(s: HazardState): 0 | 1 | 9 | null {
  return s === 'rectifying' ? 0 : s === 'awaiting_acceptance' ? 1 : s === 'accepted' ? 9 : null;
}

export type HazardAction =
  | 'draft' // 保存草稿 (e.g. prefilled from an abnormal reading)
  | 'report' // 上报
  | 'confirm' // 确认 (level, rectifier, acceptor, deadline)
  | 'reject' // 判定不属于隐患
  | 'plan' // 制定/修改治理方案 (重大隐患)
  | 'rectify' // 整改完成 (after-photos)
  | 'accept' // 验收通过
  | 'send_back' // 验收不通过，退回整改
  | 'extension_request' // 申请延期
  | 'extend' // 延期获批 (the deadline moves)
  | 'extension_reject'; // 延期被驳回

export const HAZARD_ACTION_NAMES: Record<HazardAction, string> = {
  draft: '生成草稿',
  report: '上报',
  confirm: '确认',
  reject: '判定不属于隐患',
  plan: '制定治理方案',
  rectify: '整改完成',
  accept: '验收通过',
  send_back: '退回整改',
  extension_request: '申请延期',
  extend: '延期获批',
  extension_reject: '延期驳回',
};

/** `from: [null]` = the action creates the hazard. `to: 'same'` = the state does not change. */
const TRANSITIONS: Record<HazardAction, { from: Array<HazardState | null>; to: HazardState | 'same' }> = {
  draft: { from: [null], to: 'draft' },
  report: { from: [null, 'draft'], to: 'reported' },
  confirm: { from: ['reported'], to: 'rectifying' },
  reject: { from: ['draft', 'reported'], to: 'rejected' },
  plan: { from: ['reported', 'rectifying', 'awaiting_acceptance'], to: 'same' },
  rectify: { from: ['rectifying'], to: 'awaiting_acceptance' },
  accept: { from: ['awaiting_acceptance'], to: 'accepted' },
  send_back: { from: ['awaiting_acceptance'], to: 'rectifying' },
  extension_request: { from: ['rectifying'], to: 'same' },
  extend: { from: ['rectifying', 'awaiting_acceptance'], to: 'same' },
  extension_reject: { from: ['rectifying', 'awaiting_acceptance'], to: 'same' },
};

/** @returns the next state, or null when the action is not allowed from `from` (null = not created yet) */
export function nextHazardState(from: HazardState | null, action: HazardAction): HazardState | null {
  const t = TRANSITIONS[action];
  if (!t.from.includes(from)) return null;
  return t.to === 'same' ? from : t.to;
}
