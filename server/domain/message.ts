/**
 * The neutral message: an alert rendered once, before any channel formats it within its own
 * limits (design.md "Channels"). Pure data; channels turn it into WeCom markdown, DingTalk text…
 */

/** A person the message is addressed to, with the identities channels need to @mention them. */
export interface MessageRecipient {
  personId: number;
  name: string;
  mobile?: string | null;
  wecomUserId?: string | null;
  dingtalkUserId?: string | null;
}

/** A signed, expiring action link for one recipient (opens the ack page). */
export interface RecipientLink {
  personId: number;
  name: string;
  url: string;
}

export interface NeutralMessage {
  /** alert code people type in chat, e.g. "A123" */
  alertCode: string;
  /** one line, e.g. "【超期未整改·三级】V-101B 远传液位与现场液位计偏差超过5%" */
  title: string;
  /** short label/value lines in display order, e.g. ["风险单元：液氯储罐 V-101A/B", "整改期限：2026-11-25（已超期 5 天）"] */
  lines: string[];
  /** 1 = first level; shown so repeated escalations differ (WeCom duplicate check) */
  level: number;
  /** 'open' | 'escalate' | 'repeat' */
  reason: string;
  /** ISO instant the firing happened (makes every escalation payload unique) */
  firedAt: string;
  recipients: MessageRecipient[];
  /** filled in at delivery time: one signed link per recipient */
  links?: RecipientLink[];
  /** link to the full alert (for messages shortened to fit a channel's limit) */
  alertUrl?: string;
  /**
   * the same facts, structured, for channels that fill fixed fields (WeChat subscribe-message
   * keywords, server/domain/subscribe-fields.ts); absent on payloads written before it existed
   */
  facts?: MessageFacts;
  /** set on a message re-routed by the delivery fallback (server/jobs/delivery.ts): where it was meant to go and why it did not */
  fallbackFrom?: { notificationId: number; channel: string; reason: string };
}

export interface MessageFacts {
  /** alert kind, e.g. hazard_overdue */
  kind: string;
  /** its Chinese name, e.g. 超期未整改 */
  kindName: string;
  /** what the alert is about, e.g. "V-101B 远传液位与现场液位计偏差超过5%" */
  subject: string;
  /** the risk unit (风险单元) name, when known */
  place: string | null;
  /** the enterprise's IANA zone (times in messages are local) */
  tz: string;
}
