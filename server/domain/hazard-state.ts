/**
 * The hazard (隐患) lifecycle — the one place that says which action moves a hazard from which
 * state to which. Source: domain.md "Hazards": reported (待确认) → confirmed (整改中, national 0)
 * or rejected (not a hazard) → rectified, waiting for acceptance (待验收, 1) → accepted (已验收, 9),
 * or sent back to rectifying.
 */
export const HAZARD_STATES = ['reported', 'rectifying', 'awaiting_acceptance', 'accepted', 'rejected'] as const;
export type HazardState = (typeof HAZARD_STATES)[number];

export const HAZARD_STATE_NAMES: Record<HazardState, string> = {
  reported: '待确认',
  rectifying: '整改中',
  awaiting_acceptance: '待验收',
  accepted: '已验收',
  rejected: '不属于隐患',
};

/** National hazard state code (0 整改中, 1 待验收, 9 已验收); null where the national model has none. */
export function nationalHazardState(s: HazardState): 0 | 1 | 9 | null {
  return s === 'rectifying' ? 0 : s === 'awaiting_acceptance' ? 1 : s === 'accepted' ? 9 : null;
}

export type HazardAction = 'confirm' | 'reject' | 'rectify' | 'accept' | 'send_back';

const TRANSITIONS: Record<HazardAction, { from: HazardState[]; to: HazardState }> = {
  confirm: { from: ['reported'], to: 'rectifying' },
  reject: { from: ['reported'], to: 'rejected' },
  rectify: { from: ['rectifying'], to: 'awaiting_acceptance' },
  accept: { from: ['awaiting_acceptance'], to: 'accepted' },
  send_back: { from: ['awaiting_acceptance'], to: 'rectifying' },
};

/** @returns the next state, or null when the action is not allowed from `from` */
export function nextHazardState(from: HazardState, action: HazardAction): HazardState | null {
  const t = TRANSITIONS[action];
  return t.from.includes(from) ? t.to : null;
}
