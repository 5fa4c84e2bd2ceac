/**
 * Who may act on an alert (pure). Rule (issue #2): a person may act only on alerts addressed to
 * them or to their subordinates; 销警 by hand additionally needs a role allowed to clear.
 * Enterprise-wide oversight roles (安全管理部门, 安全总监, 主要负责人, 企业管理员) may act on every
 * alert of their enterprise — they are the ones the regulator holds to account for clearing in time.
 */
import { CLEAR_ROLES, OVERSIGHT_ROLES } from '../../miniprogram/shared/contract';

export type AlertAction = 'read' | 'acknowledge' | 'handle' | 'clear';

// OVERSIGHT_ROLES and CLEAR_ROLES (roles allowed to clear (销警) by hand, with a reason) are shared
// with the mini-program, which hides 销警 from other roles: one definition in miniprogram/shared/contract.ts.
export { CLEAR_ROLES, OVERSIGHT_ROLES };

export interface ActorFacts {
  roles: string[];
  /** the alert is addressed to the actor (any level notified so far) */
  addressed: boolean;
  /** the alert is addressed to someone the actor leads (post leader chain or department head) */
  addressedToSubordinate: boolean;
  sameEnterprise: boolean;
}

/** Why an action is denied: a stable key (pages show a message by key) and the texts. */
export interface Denial {
  reason: 'other_enterprise' | 'read_only' | 'not_addressed' | 'clear_role';
  zh: string;
  en: string;
}

export const DENIALS: Record<Denial['reason'], Denial> = {
  other_enterprise: { reason: 'other_enterprise', zh: '无权操作其他企业的预警', en: 'alert belongs to another enterprise' },
  read_only: { reason: 'read_only', zh: '监管账号只读', en: 'regulator accounts are read-only' },
  not_addressed: { reason: 'not_addressed', zh: '该预警未发给您或您的下属', en: 'alert is not addressed to you or your subordinates' },
  clear_role: { reason: 'clear_role', zh: '您的角色不能手动销警', en: 'your role may not clear alerts by hand' },
};

/** @returns null when allowed, else the reason */
export function alertActionDenied(action: AlertAction, a: ActorFacts): Denial | null {
  if (!a.sameEnterprise) return DENIALS.other_enterprise;
  if (a.roles.includes('regulator')) return action === 'read' ? null : DENIALS.read_only;
  const oversight = a.roles.some((r) => (OVERSIGHT_ROLES as readonly string[]).includes(r));
  if (!oversight && !a.addressed && !a.addressedToSubordinate) return DENIALS.not_addressed;
  if (action === 'clear' && !a.roles.some((r) => (CLEAR_ROLES as readonly string[]).includes(r))) return DENIALS.clear_role;
  return null;
}

/** Whether a person has 确认'd the alert in the pause that runs now: one rule for the link page and the mini-program (shared/contract.ts). */
export { acknowledgedByNow } from '../../miniprogram/shared/contract';
