/**
 * WeCom group robot (群机器人 / 消息推送) webhook channel.
 *
 * Protocol: https://developer.work.weixin.qq.com/document/path/99110 (old path 91770);
 * error codes https://developer.work.weixin.qq.com/document/path/90313; protocols.md §1, §6.
 *
 * Format rule (one message per send, never rejected for length):
 * - every recipient has a `wecomUserId` (or there are none) → `markdown` (≤ 4096 bytes) with
 *   inline `<@userid>` mentions — the only @ syntax markdown has;
 * - some recipient has no `wecomUserId` but a mobile → `text` (≤ 2048 bytes, the documented limit)
 *   with `mentioned_list` (userids) and `mentioned_mobile_list` (mobiles of those without userid),
 *   because markdown cannot @ by phone number;
 * - recipients with neither are named in their link line only.
 * Robots are not interactive, so acknowledging is only possible through the per-recipient links.
 */
import type { RobotConfig } from '../config';
import type { MessageRecipient, NeutralMessage } from '../domain/message';
import { fitUtf8, type TextPart } from '../domain/text-bytes';
import type { Channel, Destination, SendResult } from './types';

/** WeCom robot `markdown.content` limit, UTF-8 bytes (https://developer.work.weixin.qq.com/document/path/99110). */
export const WECOM_MARKDOWN_MAX_BYTES = 4096;
/** WeCom robot `text.content` documented limit, UTF-8 bytes (hard reject observed at 5120; protocols.md §1.5). */
export const WECOM_TEXT_MAX_BYTES = 2048;
/** 45009 minute-level blocks are lifted after 60 s, in ms (https://developer.work.weixin.qq.com/document/path/90312). */
export const WECOM_FREQ_BLOCK_MS = 60_000;
/** Default HTTP timeout for a robot webhook call, in ms. */
export const DEFAULT_ROBOT_TIMEOUT_MS = 10_000;

/** Constructor options shared by the robot channels. */
export interface RobotChannelOptions {
  /** robots keyed by ChatDestination.code (config `ROBOTS`) */
  robots: Record<string, RobotConfig>;
  /** injectable fetch (tests); default the global fetch */
  fetch?: typeof fetch;
  /** per-request timeout in ms; default {@link DEFAULT_ROBOT_TIMEOUT_MS} */
  timeoutMs?: number;
}

export type WecomRobotBody =
  | { msgtype: 'markdown'; markdown: { content: string } }
  | { msgtype: 'text'; text: { content: string; mentioned_list?: string[]; mentioned_mobile_list?: string[] } };

type Failure = Extract<SendResult, { ok: false }>;
/** How a failure is retried: `retryAfterMs` (throttled, ms) or `permanent` (dead-letter), else plain transient. */
export type FailureClass = Pick<Failure, 'retryAfterMs' | 'permanent'>;

const REASON_LABEL: Record<string, string> = { open: '新告警', escalate: '升级', repeat: '重复提醒' };

const uniq = (xs: string[]): string[] => [...new Set(xs)];
const present = (s: string | null | undefined): s is string => typeof s === 'string' && s.trim() !== '';

/** `告警 A123 · 第2级 · 升级` — the alert code people quote; the level keeps repeated escalations distinct. */
export function alertCodeLine(m: NeutralMessage): string {
  const reason = REASON_LABEL[m.reason];
  return `告警 ${m.alertCode} · 第${m.level}级${reason ? ` · ${reason}` : ''}`;
}

/** Markdown link text/URL that cannot break out of `[text](url)`. */
export function markdownLink(text: string, url: string): string {
  const safeText = text.replace(/\[/g, '［').replace(/\]/g, '］').replace(/\n/g, ' ');
  const safeUrl = url.replace(/\(/g, '%28').replace(/\)/g, '%29').replace(/\s/g, (c) => encodeURIComponent(c));
  return `[${safeText}](${safeUrl})`;
}

/**
 * Formats a NeutralMessage as a WeCom group-robot body (rule in the module comment), within
 * {@link WECOM_MARKDOWN_MAX_BYTES} / {@link WECOM_TEXT_MAX_BYTES} **UTF-8 bytes**
 * (https://developer.work.weixin.qq.com/document/path/99110). Too long: the last lines are dropped
 * first, then per-recipient links, then the rest is shortened on a character boundary, and the
 * content ends with a link to the full alert (`alertUrl`) — never rejected for length.
 */
export function formatWecomRobotMessage(m: NeutralMessage): WecomRobotBody {
  const recipients: MessageRecipient[] = m.recipients;
  const useText = recipients.some((r) => !present(r.wecomUserId) && present(r.mobile));
  const lines: TextPart[] = m.lines.map((l) => ({ text: l, dropRank: 2, shrinkable: true }));
  const links = m.links ?? [];

  if (!useText) {
    const userIds = uniq(recipients.map((r) => r.wecomUserId).filter(present));
    const parts: TextPart[] = [
      { prefix: '**', text: m.title, suffix: '**', shrinkable: true },
      ...lines,
      { text: alertCodeLine(m) },
      ...links.map((l): TextPart => ({ text: markdownLink(`确认/处置 · ${l.name}`, l.url), dropRank: 1 })),
    ];
    if (userIds.length > 0) parts.push({ text: userIds.map((u) => `<@${u}>`).join(' ') });
    const overflowLine = m.alertUrl ? markdownLink('查看完整告警', m.alertUrl) : undefined;
    const { text } = fitUtf8(parts, WECOM_MARKDOWN_MAX_BYTES, { overflowLine });
    return { msgtype: 'markdown', markdown: { content: text } };
  }

  const mentionedList = uniq(recipients.map((r) => r.wecomUserId).filter(present));
  const mentionedMobiles = uniq(
    recipients.filter((r) => !present(r.wecomUserId)).map((r) => r.mobile).filter(present),
  );
  const parts: TextPart[] = [
    { text: m.title, shrinkable: true },
    ...lines,
    { text: alertCodeLine(m) },
    ...links.map((l): TextPart => ({ text: `${l.name} 确认/处置：${l.url}`, dropRank: 1 })),
  ];
  const overflowLine = m.alertUrl ? `完整告警：${m.alertUrl}` : undefined;
  const { text } = fitUtf8(parts, WECOM_TEXT_MAX_BYTES, { overflowLine });
  return {
    msgtype: 'text',
    text: {
      content: text,
      ...(mentionedList.length > 0 ? { mentioned_list: mentionedList } : {}),
      ...(mentionedMobiles.length > 0 ? { mentioned_mobile_list: mentionedMobiles } : {}),
    },
  };
}

/**
 * Classifies a non-zero WeCom robot `errcode` (https://developer.work.weixin.qq.com/document/path/90313,
 * protocols.md §1.5): 45009 → throttled, retry after {@link WECOM_FREQ_BLOCK_MS} ms; -1 → transient;
 * 93000/93004/93008/40008/40058/44004/93017 → permanent; anything else → transient (the worker's
 * attempt limit dead-letters it eventually).
 */
export function classifyWecomRobotErrcode(errcode: number): FailureClass {
  if (errcode === 45009) return { retryAfterMs: WECOM_FREQ_BLOCK_MS };
  if (errcode === -1) return {};
  if ([93000, 93004, 93008, 40008, 40058, 44004, 93017].includes(errcode)) return { permanent: true };
  return {};
}

/** Result of one webhook POST at the transport level. */
export type RobotHttpResult = { ok: true; status: number; json: Record<string, unknown> } | ({ ok: false; error: string } & FailureClass);

/**
 * POSTs `payload` as `application/json; charset=utf-8` to a robot webhook with a timeout (ms) and
 * classifies transport outcomes. Both WeCom and DingTalk answer errors as HTTP 200 with a non-zero
 * `errcode` (protocols.md §1.1, §3.1), so `ok: true` here only means "a JSON object came back".
 *
 * - network error / timeout / HTTP 5xx / 408 / non-JSON body → transient;
 * - HTTP 429 → transient with `retryAfterMs` from `Retry-After` (seconds) when present;
 * - other HTTP 4xx → permanent (the configured webhook URL is wrong).
 */
export async function postRobotJson(
  fetchImpl: typeof fetch,
  url: string,
  payload: unknown,
  timeoutMs: number,
): Promise<RobotHttpResult> {
  let status: number;
  let raw: string;
  let retryAfter: string | null;
  try {
    const res = await fetchImpl(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(timeoutMs),
    });
    status = res.status;
    retryAfter = res.headers.get('retry-after');
    raw = await res.text();
  } catch (e) {
    const err = e as Error;
    if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return { ok: false, error: `timeout after ${timeoutMs} ms` };
    const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
    return { ok: false, error: `network error: ${err?.message ?? String(e)}${cause ? ` (${cause.code ?? cause.message})` : ''}` };
  }
  const snippet = raw.slice(0, 200);
  if (status === 429) {
    const seconds = retryAfter !== null && /^\d+$/.test(retryAfter.trim()) ? Number(retryAfter.trim()) : undefined;
    return { ok: false, error: `HTTP 429: ${snippet}`, ...(seconds !== undefined ? { retryAfterMs: seconds * 1000 } : {}) };
  }
  if (status >= 400 && status < 500 && status !== 408) return { ok: false, error: `HTTP ${status}: ${snippet}`, permanent: true };
  if (status < 200 || status >= 300) return { ok: false, error: `HTTP ${status}: ${snippet}` };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, error: `non-JSON response (HTTP ${status}): ${snippet}` };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { ok: false, error: `unexpected response (HTTP ${status}): ${snippet}` };
  }
  return { ok: true, status, json: json as Record<string, unknown> };
}

/**
 * Channel `wecom_robot`: posts to the WeCom group robot configured for `destination.code`
 * (https://developer.work.weixin.qq.com/document/path/99110). Success only when the response has
 * `errcode === 0` (HTTP 200 with another errcode is a failure, protocols.md §1.1); failures are
 * classified by {@link classifyWecomRobotErrcode} / {@link postRobotJson}. `sent` is the body
 * object that was posted (`JSON.stringify(sent)` is the exact request body).
 * No robot configured for the code → permanent failure.
 */
export class WecomRobotChannel implements Channel {
  readonly name = 'wecom_robot';
  /** group message: its links ask for the recipient's mobile tail before acting */
  readonly sharedAudience = true;
  private readonly robots: Record<string, RobotConfig>;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;

  constructor(options: RobotChannelOptions) {
    this.robots = options.robots;
    this.fetchImpl = options.fetch ?? fetch;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_ROBOT_TIMEOUT_MS;
  }

  async send(destination: Destination, message: NeutralMessage): Promise<SendResult> {
    const robot = Object.prototype.hasOwnProperty.call(this.robots, destination.code) ? this.robots[destination.code] : undefined;
    if (!robot) {
      return { ok: false, permanent: true, error: `wecom_robot: no robot configured for destination code "${destination.code}" (config ROBOTS)` };
    }
    const sent = formatWecomRobotMessage(message);
    const res = await postRobotJson(this.fetchImpl, robot.webhook, sent, this.timeoutMs);
    if (!res.ok) return { ...res, sent };
    const { errcode, errmsg } = res.json;
    if (typeof errcode !== 'number') {
      return { ok: false, error: `unexpected response without numeric errcode: ${JSON.stringify(res.json).slice(0, 200)}`, sent };
    }
    if (errcode === 0) return { ok: true, sent };
    return { ok: false, error: `errcode ${errcode}: ${String(errmsg ?? '')}`, sent, ...classifyWecomRobotErrcode(errcode) };
  }
}
