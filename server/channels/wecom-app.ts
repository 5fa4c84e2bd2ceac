/**
 * WeCom self-built app channel `wecom_app`: an interactive template card (按钮交互型,
 * `button_interaction`) sent with message/send to each recipient's WeCom userid.
 *
 * Protocol: https://developer.work.weixin.qq.com/document/path/90236 (message/send, template_card),
 * https://developer.work.weixin.qq.com/document/path/94888 (update_template_card); protocols.md §2.2,
 * §2.4, §2.5. Routing gives this channel one recipient per notification (server/domain/routing.ts),
 * so every card carries that person's own signed link and its own `response_code`.
 *
 * The card:
 * - `main_title` = the alert title (≤ 36 characters) and `告警 A123 · 第3级 · 升级` (≤ 44);
 * - `horizontal_content_list` = the first 6 `标签：内容` lines (label ≤ 5, value ≤ 26 characters);
 *   lines that do not fit there go to `sub_title_text` (≤ 160) with the text-command hint;
 * - buttons 确认 (callback key `ack:<alertId>`, handled by server/services/wecom-inbound.ts) and
 *   处置… (a URL button to the recipient's signed link page, because 处置 needs a note);
 * - `task_id` = `dp_a<alertId>_l<level>_<firedAt base36>_<random>`: unique per app as WeCom
 *   requires (a duplicate is refused), so a retry after an ambiguous timeout is a new card, not
 *   an error. Every firing differs (level, time, task_id), and `enable_duplicate_check` is off, so
 *   WeCom's duplicate check can never swallow an escalation.
 *
 * Outcome: `errcode` decides. Partially invalid recipients (`invaliduser`, lower-cased by WeCom) →
 * still sent, recorded in `sent.invalidUsers`; all invalid → 81013 / permanent. The returned
 * `response_code` (single use, 72 h) is kept in `sent` — i.e. in the delivered payload of the
 * Notification — so the card can be updated when someone acts on the alert.
 *
 * WeCom silently drops more than 30 messages per member per minute from one app (doc 90236), so
 * each recipient has a sliding-window slot (`memberThrottle`); a full window means "try later",
 * not an attempt.
 */
import { randomBytes } from 'node:crypto';
import type { MessageRecipient, NeutralMessage } from '../domain/message';
import { parseAlertCode } from '../domain/render';
import { truncateChars } from '../domain/text-bytes';
import type { WecomApi } from '../services/wecom-token';
import type { Throttle } from './throttle';
import type { Channel, Destination, SendResult } from './types';
import { alertCodeLine } from './wecom-robot';

export const WECOM_APP_CHANNEL = 'wecom_app';

/** Documented (recommended) lengths of card fields, in characters (doc 90236, protocols.md §2.4). */
export const WECOM_CARD_LIMITS = {
  mainTitle: 36,
  mainTitleDesc: 44,
  subTitleText: 160,
  sourceDesc: 13,
  horizontalItems: 6,
  keyname: 5,
  value: 26,
  buttonText: 10,
} as const;
/** `task_id`: at most 128 bytes of `[0-9a-zA-Z_-@]` (doc 90236). */
export const WECOM_TASK_ID_MAX_BYTES = 128;
/** app `text.content` limit, UTF-8 bytes; longer is truncated by WeCom (doc 90236). */
export const WECOM_APP_TEXT_MAX_BYTES = 2048;
/** A `response_code` can be used once within 72 h (doc 94888), ms. */
export const WECOM_RESPONSE_CODE_TTL_MS = 72 * 3600_000;
/** WeCom delivers at most 30 messages per member per minute from one app; the rest are dropped silently (doc 90236). */
export const WECOM_MEMBER_RATE_LIMIT = 30;
export const WECOM_MEMBER_RATE_WINDOW_MS = 60_000;

const present = (s: string | null | undefined): s is string => typeof s === 'string' && s.trim() !== '';
const clip = (s: string, n: number) => truncateChars(s.replace(/\s+/g, ' ').trim(), n);

/** The button key of 确认 on an alert's card. */
export function ackButtonKey(alertId: number): string {
  return `ack:${alertId}`;
}

/** Parses a button key of ours (`ack:123`); null for anything else. */
export function parseButtonKey(key: string): { action: 'ack'; alertId: number } | null {
  const m = /^ack:(\d{1,9})$/.exec(key.trim());
  return m ? { action: 'ack', alertId: Number(m[1]) } : null;
}

/** A unique `task_id` for one card of an alert firing (charset and length per doc 90236). */
export function wecomTaskId(alertId: number, level: number, firedAt: string, random: string = randomBytes(5).toString('hex')): string {
  const t = Number.isFinite(Date.parse(firedAt)) ? Date.parse(firedAt).toString(36) : '0';
  return `dp_a${alertId}_l${level}_${t}_${random.replace(/[^0-9a-zA-Z]/g, '')}`.slice(0, WECOM_TASK_ID_MAX_BYTES);
}

/** The alert id inside one of our task ids; null when the task id is not ours. */
export function alertIdOfTaskId(taskId: string): number | null {
  const m = /^dp_a(\d{1,9})_/.exec(taskId);
  return m ? Number(m[1]) : null;
}

export interface WecomCardButton {
  text: string;
  style: number;
  type?: 0 | 1;
  key?: string;
  url?: string;
}

/** A message/send body with an interactive button card (doc 90236). */
export interface WecomAppCardBody {
  touser: string;
  msgtype: 'template_card';
  agentid: number;
  template_card: {
    card_type: 'button_interaction';
    source: { desc: string; desc_color: number };
    main_title: { title: string; desc: string };
    sub_title_text?: string;
    horizontal_content_list: Array<{ keyname: string; value: string }>;
    task_id: string;
    button_list: WecomCardButton[];
  };
  enable_id_trans: 0;
  enable_duplicate_check: 0;
}

/** What a `wecom_app` delivery sent and got back (Notification payload `delivered`). */
export interface WecomAppSent {
  body: WecomAppCardBody;
  taskId: string;
  msgid?: string;
  /** for update_template_card: single use, until responseCodeExpiresAt */
  responseCode?: string;
  /** ISO instant */
  responseCodeExpiresAt?: string;
  /** recipients WeCom did not accept (lower-cased, as WeCom returns them) */
  invalidUsers: string[];
  /** recipients without a WeCom licence (they do not receive it) */
  unlicensedUsers: string[];
}

/**
 * Formats the card for `recipients` (their userids joined by `|`).
 * @param handleUrl the 处置… button's target (the recipient's signed link page); without it the
 *   card has 确认 only and says how to 处置 by text
 * @throws Error when the alert code is not `A<number>` (a programming error)
 */
export function formatWecomAppCard(m: NeutralMessage, opts: { agentId: number; taskId: string; userIds: string[]; handleUrl?: string }): WecomAppCardBody {
  const alertId = parseAlertCode(m.alertCode);
  if (alertId === null) throw new Error(`wecom_app: not an alert code: ${m.alertCode}`);
  const L = WECOM_CARD_LIMITS;
  const horizontal: Array<{ keyname: string; value: string }> = [];
  const rest: string[] = [];
  for (const line of m.lines) {
    const at = line.indexOf('：');
    const key = at > 0 ? line.slice(0, at).trim() : '';
    const value = at > 0 ? line.slice(at + 1).trim() : '';
    // a label that does not fit in 5 characters or a value cut short reads better as plain text
    if (key && value && horizontal.length < L.horizontalItems && [...key].length <= L.keyname && [...value].length <= L.value) horizontal.push({ keyname: key, value });
    else rest.push(line);
  }
  const hint = `处置请点「处置…」或回复：处置 ${m.alertCode} 说明`;
  const buttons: WecomCardButton[] = [{ text: '确认', style: 1, key: ackButtonKey(alertId) }];
  if (opts.handleUrl) buttons.push({ text: '处置…', style: 2, type: 1, url: opts.handleUrl });
  return {
    touser: opts.userIds.join('|'),
    msgtype: 'template_card',
    agentid: opts.agentId,
    template_card: {
      card_type: 'button_interaction',
      source: { desc: clip('双重预防预警', L.sourceDesc), desc_color: m.level >= 2 || m.reason === 'escalate' ? 2 : 1 },
      main_title: { title: clip(m.title, L.mainTitle), desc: clip(alertCodeLine(m), L.mainTitleDesc) },
      sub_title_text: truncateChars([...rest, opts.handleUrl ? hint : `处置请回复：处置 ${m.alertCode} 说明`].join('\n'), L.subTitleText),
      horizontal_content_list: horizontal,
      task_id: opts.taskId,
      button_list: buttons,
    },
    enable_id_trans: 0,
    enable_duplicate_check: 0,
  };
}

export interface WecomAppChannelOptions {
  api: WecomApi;
  agentId: number;
  /** per-member slot (key `wecom_app:member:<corp>:<userid>`); limit {@link WECOM_MEMBER_RATE_LIMIT} per window */
  memberThrottle?: Throttle;
  /** injectable clock for the response_code expiry */
  now?: () => Date;
}

const splitIds = (v: unknown): string[] =>
  (typeof v === 'string' ? v.split('|') : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []).map((s) => s.trim().toLowerCase()).filter(Boolean);

/** Channel `wecom_app` (module comment). Never throws for platform answers. */
export class WecomAppChannel implements Channel {
  readonly name = WECOM_APP_CHANNEL;
  constructor(private readonly o: WecomAppChannelOptions) {}

  async send(_destination: Destination, message: NeutralMessage): Promise<SendResult> {
    const recipients: MessageRecipient[] = message.recipients.filter((r) => present(r.wecomUserId));
    const userIds = [...new Set(recipients.map((r) => r.wecomUserId!.trim()))];
    if (userIds.length === 0) return { ok: false, permanent: true, error: 'wecom_app: no recipient has a WeCom userid' };
    const alertId = parseAlertCode(message.alertCode);
    if (alertId === null) return { ok: false, permanent: true, error: `wecom_app: not an alert code: ${message.alertCode}` };

    if (this.o.memberThrottle) {
      for (const u of userIds) {
        const slot = await this.o.memberThrottle.reserve(`wecom_app:member:${this.o.api.corpId}:${u.toLowerCase()}`);
        if (!slot.ok) return { ok: false, retryAfterMs: slot.waitMs, error: `wecom_app: ${u} already got ${WECOM_MEMBER_RATE_LIMIT} messages this minute (WeCom would drop more silently)` };
      }
    }

    // the 处置… button opens the recipient's own signed page; a card to several people has none
    const link = recipients.length === 1 ? message.links?.find((l) => l.personId === recipients[0].personId)?.url : undefined;
    const taskId = wecomTaskId(alertId, message.level, message.firedAt);
    const body = formatWecomAppCard(message, { agentId: this.o.agentId, taskId, userIds, handleUrl: link });
    const res = await this.o.api.post('message/send', body);
    const base: WecomAppSent = { body, taskId, invalidUsers: [], unlicensedUsers: [] };
    if (!res.ok) return { ok: false, error: res.error, sent: base, ...(res.permanent ? { permanent: true } : {}), ...(res.retryAfterMs !== undefined ? { retryAfterMs: res.retryAfterMs } : {}) };

    const j = res.json;
    const invalid = splitIds(j.invaliduser);
    const sent: WecomAppSent = {
      ...base,
      msgid: typeof j.msgid === 'string' ? j.msgid : undefined,
      invalidUsers: invalid,
      unlicensedUsers: splitIds(j.unlicenseduser),
    };
    if (typeof j.response_code === 'string' && j.response_code) {
      sent.responseCode = j.response_code;
      sent.responseCodeExpiresAt = new Date((this.o.now?.() ?? new Date()).getTime() + WECOM_RESPONSE_CODE_TTL_MS).toISOString();
    }
    if (userIds.every((u) => invalid.includes(u.toLowerCase()))) {
      return { ok: false, permanent: true, error: `wecom_app: WeCom knows none of the recipients (invaliduser ${invalid.join('|')})`, sent };
    }
    return { ok: true, providerMessageId: sent.msgid, sent };
  }
}
