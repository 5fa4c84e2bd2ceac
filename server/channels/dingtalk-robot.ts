/**
 * DingTalk custom robot (自定义机器人) webhook channel, signed (加签) and with security keywords.
 *
 * Protocol: https://open.dingtalk.com/document/development/custom-robots-send-group-messages,
 * security settings https://open.dingtalk.com/document/dingstart/customize-robot-security-settings,
 * message types https://open.dingtalk.com/document/development/robot-message-type; protocols.md §3.1.
 *
 * Every message is `markdown` with `at: { atMobiles, atUserIds, isAtAll: false }`, and each @ target
 * is also written as `@<mobile>` / `@<userId>` into the text (DingTalk only highlights an @ that is
 * in the text too). Recipients with a mobile are @'d by mobile, else by DingTalk userId; at most 50
 * @ per message (the rest are only named in their link line).
 */
import { createHmac } from 'node:crypto';
import type { RobotConfig } from '../config';
import type { NeutralMessage } from '../domain/message';
import { fitUtf8, truncateChars, type TextPart } from '../domain/text-bytes';
import type { Channel, Destination, SendResult } from './types';
import {
  DEFAULT_ROBOT_TIMEOUT_MS,
  alertCodeLine,
  markdownLink,
  postRobotJson,
  type FailureClass,
  type RobotChannelOptions,
} from './wecom-robot';

/**
 * Cap on `markdown.text`, UTF-8 bytes. DingTalk documents no size limit for custom-robot messages
 * (protocols.md §9), so we apply WeCom's markdown limit and the same shorten-with-link rule.
 */
export const DINGTALK_MARKDOWN_MAX_BYTES = 4096;
/** `markdown.title` (chat-list preview) cap, in characters (code points); our choice, not documented. */
export const DINGTALK_TITLE_MAX_CHARS = 64;
/** At most 50 people @'d per message (protocols.md §3.1). */
export const DINGTALK_MAX_AT = 50;
/** Over 20 msgs/min throttles the robot for 10 minutes, in ms (https://open.dingtalk.com/document/development/custom-robots-send-group-messages). */
export const DINGTALK_THROTTLE_MS = 600_000;
/** Markdown line break: `\n` with two spaces around it (https://open.dingtalk.com/document/development/robot-message-type). */
const LINE_BREAK = '  \n  ';

export interface DingtalkRobotChannelOptions extends RobotChannelOptions {
  /** injectable clock, ms since epoch; used for the signature `timestamp` */
  now?: () => number;
}

export interface DingtalkMarkdownBody {
  msgtype: 'markdown';
  markdown: { title: string; text: string };
  at: { atMobiles: string[]; atUserIds: string[]; isAtAll: false };
}

/**
 * Custom-robot signature: `base64(HmacSHA256(key = secret, data = timestamp + "\n" + secret))`, UTF-8,
 * **not** URL-encoded (https://open.dingtalk.com/document/dingstart/customize-robot-security-settings).
 *
 * @param timestamp ms since epoch; DingTalk accepts it within 1 hour of its own clock
 */
export function dingtalkSignature(timestamp: number, secret: string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${timestamp}\n${secret}`, 'utf8').digest('base64');
}

/**
 * The webhook URL (already carrying `access_token`) with `timestamp` (ms) and `sign` set, encoded
 * exactly once by URLSearchParams (`+` → `%2B`, `/` → `%2F`, `=` → `%3D`); an existing
 * timestamp/sign is replaced (https://open.dingtalk.com/document/dingstart/customize-robot-security-settings).
 */
export function signDingtalkWebhook(webhook: string, secret: string, timestamp: number): string {
  const url = new URL(webhook);
  url.searchParams.set('timestamp', String(timestamp));
  url.searchParams.set('sign', dingtalkSignature(timestamp, secret));
  return url.toString();
}

/**
 * Formats a NeutralMessage as a DingTalk custom-robot `markdown` body
 * (https://open.dingtalk.com/document/development/robot-message-type):
 * - when `keywords` are given and none occurs in the final text, `【keyword】` (the first keyword) is
 *   prepended to the title, so the 310000 keyword check passes;
 * - `@<mobile>` / `@<userId>` of up to {@link DINGTALK_MAX_AT} recipients in the text and in `at`;
 * - text ≤ {@link DINGTALK_MARKDOWN_MAX_BYTES} UTF-8 bytes with the shorten-with-link rule of
 *   `fitUtf8` (DingTalk's own limit is undocumented, protocols.md §9); title ≤
 *   {@link DINGTALK_TITLE_MAX_CHARS} characters.
 */
export function formatDingtalkRobotMessage(m: NeutralMessage, keywords: string[] = []): DingtalkMarkdownBody {
  const atMobiles: string[] = [];
  const atUserIds: string[] = [];
  const mentions: string[] = [];
  for (const r of m.recipients) {
    if (mentions.length >= DINGTALK_MAX_AT) break;
    const mobile = r.mobile?.trim();
    const userId = r.dingtalkUserId?.trim();
    if (mobile) {
      if (atMobiles.includes(mobile)) continue;
      atMobiles.push(mobile);
      mentions.push(`@${mobile}`);
    } else if (userId) {
      if (atUserIds.includes(userId)) continue;
      atUserIds.push(userId);
      mentions.push(`@${userId}`);
    }
  }

  const build = (title: string): string => {
    const parts: TextPart[] = [
      { prefix: '#### ', text: title, shrinkable: true },
      ...m.lines.map((l): TextPart => ({ text: l, dropRank: 2, shrinkable: true })),
      { text: alertCodeLine(m) },
      ...(m.links ?? []).map((l): TextPart => ({ text: markdownLink(`确认/处置 · ${l.name}`, l.url), dropRank: 1 })),
    ];
    if (mentions.length > 0) parts.push({ text: mentions.join(' ') });
    const overflowLine = m.alertUrl ? markdownLink('查看完整告警', m.alertUrl) : undefined;
    return fitUtf8(parts, DINGTALK_MARKDOWN_MAX_BYTES, { separator: LINE_BREAK, overflowLine }).text;
  };

  let title = m.title;
  let text = build(title);
  const kws = keywords.filter((k) => k !== '');
  if (kws.length > 0 && !kws.some((k) => text.includes(k))) {
    title = `【${kws[0]}】${m.title}`;
    text = build(title);
  }
  return {
    msgtype: 'markdown',
    markdown: { title: truncateChars(title, DINGTALK_TITLE_MAX_CHARS), text },
    at: { atMobiles, atUserIds, isAtAll: false },
  };
}

const PERMANENT = new Set([300001, 300005, 400101, 400102, 400105, 400106, 400013, 40035, 43004, 430101, 430102, 430103, 430104]);

/**
 * Classifies a non-zero DingTalk custom-robot `errcode` (protocols.md §3.1 table,
 * https://open.dingtalk.com/document/development/custom-robots-send-group-messages):
 * - 130101 (observed) / 410100 (doc) → throttled: retry after {@link DINGTALK_THROTTLE_MS} ms (10 min);
 * - -1 / 88 → transient;
 * - 310000 with errmsg about the timestamp (`invalid timestamp`) → **transient**: our clock may be
 *   off briefly (the window is ±1 h); alerting on repeated failures is the worker's job;
 * - 310000 otherwise (sign not match, keywords not in content, ip not in whitelist), 300001, 300005,
 *   400101, 400102, 400105, 400106, 400013, 40035, 43004, 430101–430104 → permanent;
 * - anything else → transient.
 */
export function classifyDingtalkErrcode(errcode: number, errmsg = ''): FailureClass {
  if (errcode === 130101 || errcode === 410100) return { retryAfterMs: DINGTALK_THROTTLE_MS };
  if (errcode === -1 || errcode === 88) return {};
  if (errcode === 310000) return /timestamp|时间戳/i.test(errmsg) ? {} : { permanent: true };
  if (PERMANENT.has(errcode)) return { permanent: true };
  return {};
}

/** errcode as a number; DingTalk's doc example shows `"0"` as a string (protocols.md §3.1). */
function numericErrcode(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v.trim());
  return undefined;
}

/**
 * Channel `dingtalk_robot`: posts to the DingTalk custom robot configured for `destination.code`
 * (https://open.dingtalk.com/document/development/custom-robots-send-group-messages). When the robot
 * has a `secret`, `timestamp` (ms, from the injected clock) and `sign` are added to the webhook URL
 * per request. Success only when `errcode` is 0; failures classified by {@link classifyDingtalkErrcode}.
 * `sent` is the posted body object. No robot configured for the code → permanent failure.
 */
export class DingtalkRobotChannel implements Channel {
  readonly name = 'dingtalk_robot';
  /** group message: its links ask for the recipient's mobile tail before acting */
  readonly sharedAudience = true;
  private readonly robots: Record<string, RobotConfig>;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;
  private readonly now: () => number;

  constructor(options: DingtalkRobotChannelOptions) {
    this.robots = options.robots;
    this.fetchImpl = options.fetch ?? fetch;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_ROBOT_TIMEOUT_MS;
    this.now = options.now ?? Date.now;
  }

  async send(destination: Destination, message: NeutralMessage): Promise<SendResult> {
    const robot = Object.prototype.hasOwnProperty.call(this.robots, destination.code) ? this.robots[destination.code] : undefined;
    if (!robot) {
      return { ok: false, permanent: true, error: `dingtalk_robot: no robot configured for destination code "${destination.code}" (config ROBOTS)` };
    }
    const sent = formatDingtalkRobotMessage(message, robot.keywords ?? []);
    let url: string;
    try {
      url = robot.secret ? signDingtalkWebhook(robot.webhook, robot.secret, this.now()) : robot.webhook;
    } catch (e) {
      return { ok: false, permanent: true, error: `dingtalk_robot: invalid webhook URL for "${destination.code}": ${(e as Error).message}`, sent };
    }
    const res = await postRobotJson(this.fetchImpl, url, sent, this.timeoutMs);
    if (!res.ok) return { ...res, sent };
    const errcode = numericErrcode(res.json.errcode);
    const errmsg = String(res.json.errmsg ?? '');
    if (errcode === undefined) {
      return { ok: false, error: `unexpected response without numeric errcode: ${JSON.stringify(res.json).slice(0, 200)}`, sent };
    }
    if (errcode === 0) return { ok: true, sent };
    return { ok: false, error: `errcode ${errcode}: ${errmsg}`, sent, ...classifyDingtalkErrcode(errcode, errmsg) };
  }
}
