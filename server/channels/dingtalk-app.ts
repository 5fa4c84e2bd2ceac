/**
 * Alerts into DingTalk groups through the enterprise-internal app robot (issue #4, item 2:
 * "outbound ActionCard messages with action links"), for groups the app robot is in
 * (config DINGTALK_GROUPS: destination code → openConversationId).
 *
 * The message is an ActionCard sent with the robot OpenAPI `groupMessages/send`
 * (https://open.dingtalk.com/document/orgapp/the-robot-sends-a-group-message; templates
 * https://open.dingtalk.com/document/orgapp/robot-message-types-and-data-format):
 * - one button per recipient, `确认/处置·<name>`, opening that person's signed link page
 *   (`sampleActionCard` for one, `sampleActionCard2`…`5` for two to five, vertical buttons);
 * - more than five recipients: the first five get buttons, the others their link as a markdown
 *   line in the text (the card text is markdown);
 * - the text names the people asked to act: the OpenAPI cannot @mention (protocols.md §3.2).
 *
 * Why a separate channel: the custom robot (channels/dingtalk-robot.ts) stays the default for a
 * group that has a `ROBOTS` webhook; the app robot is used for a group that only has a
 * DINGTALK_GROUPS entry, and — unlike the custom robot — the same robot also receives the
 * group's replies (`@robot 确认 A12`, services/dingtalk-robot.ts).
 */
import type { RobotConfig } from '../config';
import type { NeutralMessage } from '../domain/message';
import { fitUtf8, truncateChars, type TextPart } from '../domain/text-bytes';
import type { DingtalkOpenApi, RobotMsgKey } from '../services/dingtalk-openapi';
import type { Channel, Destination, SendResult } from './types';
import { alertCodeLine, markdownLink } from './wecom-robot';

/** Buttons a robot ActionCard template holds at most (sampleActionCard5). */
export const ACTION_CARD_MAX_BUTTONS = 5;
/** Button title, characters (doc: 最长20个字符). */
export const ACTION_TITLE_MAX_CHARS = 20;
/** Button URL, characters (doc: 最长500个字符); a longer link cannot be a button. */
export const ACTION_URL_MAX_CHARS = 500;
/** Card title, characters (doc: 建议100字符以内). */
export const ACTION_CARD_TITLE_MAX_CHARS = 100;
/**
 * Card text, UTF-8 bytes. DingTalk only advises "500 characters" without enforcing it; we keep the
 * custom robot's 4096-byte cap (channels/dingtalk-robot.ts) and the same shorten-with-link rule.
 */
export const ACTION_CARD_TEXT_MAX_BYTES = 4096;
const LINE_BREAK = '  \n  ';

export interface DingtalkActionCard {
  msgKey: RobotMsgKey;
  msgParam: Record<string, string>;
}

/**
 * Formats an alert as a robot ActionCard (rules in the module comment). Needs `m.links` (filled in
 * at delivery); without links the single button opens `m.alertUrl`.
 */
export function formatDingtalkActionCard(m: NeutralMessage): DingtalkActionCard {
  const links = (m.links ?? []).filter((l) => l.url.length <= ACTION_URL_MAX_CHARS);
  const buttons = links.slice(0, ACTION_CARD_MAX_BUTTONS).map((l) => ({ title: truncateChars(`确认/处置·${l.name}`, ACTION_TITLE_MAX_CHARS), url: l.url }));
  const rest = (m.links ?? []).filter((l) => !buttons.some((b) => b.url === l.url));
  const names = [...new Set(m.recipients.map((r) => r.name))];
  const parts: TextPart[] = [
    { prefix: '#### ', text: m.title, shrinkable: true },
    ...m.lines.map((l): TextPart => ({ text: l, dropRank: 2, shrinkable: true })),
    { text: alertCodeLine(m) },
    ...(names.length ? [{ text: `请 ${names.join('、')} 确认或处置，也可在群里 @机器人 回复：确认 ${m.alertCode}`, shrinkable: true } as TextPart] : []),
    ...rest.map((l): TextPart => ({ text: markdownLink(`确认/处置 · ${l.name}`, l.url), dropRank: 1 })),
  ];
  const text = fitUtf8(parts, ACTION_CARD_TEXT_MAX_BYTES, { separator: LINE_BREAK, overflowLine: m.alertUrl ? markdownLink('查看完整告警', m.alertUrl) : undefined }).text;
  const title = truncateChars(m.title, ACTION_CARD_TITLE_MAX_CHARS);
  if (buttons.length <= 1) {
    const only = buttons[0] ?? { title: '查看告警', url: m.alertUrl ?? '' };
    return { msgKey: 'sampleActionCard', msgParam: { title, text, singleTitle: only.title, singleURL: only.url } };
  }
  const msgParam: Record<string, string> = { title, text };
  buttons.forEach((b, i) => {
    msgParam[`actionTitle${i + 1}`] = b.title;
    msgParam[`actionURL${i + 1}`] = b.url;
  });
  return { msgKey: `sampleActionCard${buttons.length}` as RobotMsgKey, msgParam };
}

/**
 * Channel `dingtalk_app`: sends the ActionCard into the group DINGTALK_GROUPS names for
 * `destination.code`. Success is HTTP 2xx with a `processQueryKey` (kept as providerMessageId);
 * failures are classified by the OpenAPI client (throttled → retry after 60 s, bad parameters or a
 * robot not in the group → dead letter, others → retry). No group configured → permanent failure.
 */
export class DingtalkAppChannel implements Channel {
  readonly name = 'dingtalk_app';
  /** group message: its links ask for the recipient's mobile tail before acting */
  readonly sharedAudience = true;
  constructor(private readonly o: { api: DingtalkOpenApi; groups: Record<string, string> }) {}

  async send(destination: Destination, message: NeutralMessage): Promise<SendResult> {
    const cid = Object.prototype.hasOwnProperty.call(this.o.groups, destination.code) ? this.o.groups[destination.code] : undefined;
    if (!cid) return { ok: false, permanent: true, error: `dingtalk_app: no openConversationId configured for destination code "${destination.code}" (config DINGTALK_GROUPS)` };
    const sent = formatDingtalkActionCard(message);
    if (!sent.msgParam.singleURL && sent.msgKey === 'sampleActionCard') return { ok: false, permanent: true, error: 'dingtalk_app: no link to put on the card', sent };
    const r = await this.o.api.sendToGroup(cid, sent.msgKey, sent.msgParam);
    if (r.ok) return { ok: true, sent, ...(typeof r.json.processQueryKey === 'string' ? { providerMessageId: r.json.processQueryKey } : {}) };
    return { ok: false, error: `dingtalk_app: ${r.error}`, sent, ...(r.retryAfterMs !== undefined ? { retryAfterMs: r.retryAfterMs } : {}), ...(r.permanent ? { permanent: true } : {}) };
  }
}

/**
 * The `dingtalk_robot` channel when the app robot is configured: a group with a `ROBOTS` webhook
 * goes through the custom robot (the default, unchanged), a group with only a DINGTALK_GROUPS entry
 * through the app robot's ActionCard. The Notification keeps channel `dingtalk_robot` (the group's
 * channel); what was sent (`msgKey` or `msgtype`) is in its payload.
 */
export class DingtalkGroupChannel implements Channel {
  readonly name = 'dingtalk_robot';
  /** group message: its links ask for the recipient's mobile tail before acting */
  readonly sharedAudience = true;
  constructor(private readonly custom: Channel, private readonly app: Channel, private readonly robots: Record<string, RobotConfig>) {}

  send(destination: Destination, message: NeutralMessage): Promise<SendResult> {
    return Object.prototype.hasOwnProperty.call(this.robots, destination.code) ? this.custom.send(destination, message) : this.app.send(destination, message);
  }
}
