/**
 * The DingTalk enterprise-internal app robot, inbound (issue #4, item 2; protocols.md §3.2–3.3):
 * someone @s the robot in a group or writes to it directly → DingTalk delivers the message (HTTP
 * callback `POST /dingtalk/callback`, or a Stream-mode frame) → we authenticate it, map the sender to
 * a Person, run the one chat command grammar (server/services/chat-commands.ts) and reply.
 *
 * Authentication of an HTTP callback (https://open.dingtalk.com/document/dingstart/robot-receive-message):
 * headers `timestamp` (ms) and `sign` = base64(HmacSHA256(key = appSecret, data = timestamp + "\n" +
 * appSecret)); the timestamp must be within {@link CALLBACK_WINDOW_MS} (1 h) of our (injected) clock;
 * the signature is compared in constant time. The signature does not cover the body, so anyone who
 * saw one signed request could attach another body to its headers within the hour: a signed
 * timestamp is therefore accepted once, and a `msgId` once (replays and DingTalk's own retries are
 * acknowledged and ignored). Stream frames arrive over our own authenticated WebSocket and only go
 * through the msgId check.
 *
 * Sender → Person: `senderStaffId` (the corp userId, empty for external users) through
 * Person.dingtalkUserId of the corp's enterprise, then a binding (ChatIdentity) of the staffId or,
 * for people without one, of the encrypted `senderId` (services/identity.ts). Nobody → no action;
 * the reply says how to bind (`绑定 123456`, the code is on the person's alert link page).
 *
 * Replies ({@link DingtalkRobot.reply}) choose the path when they are attempted, not when the
 * message came: the `sessionWebhook` while it is fresh (≈ 90 min after the message, minus
 * {@link SESSION_SAFETY_MS}; it can @mention the sender), else the OpenAPI (`groupMessages/send`
 * for a group, `oToMessages/batchSend` for a direct chat; no @ possible there, so the reply names
 * the sender). A session webhook that fails is followed by the OpenAPI at once.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { PrismaClient } from '../db';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import type { DingtalkAppConfig } from '../config';
import { AppError } from '../errors';
import { handleChatText, type ChatOutcome } from './chat-commands';
import { bindingTriesGuard, redeemBindingCode, resolveChatIdentity, type ResolvedPerson } from './identity';
import type { DingtalkOpenApi, OpenApiResult } from './dingtalk-openapi';
import { dingtalkSignature } from '../channels/dingtalk-robot';

/** A callback's `timestamp` must be within this of our clock, ms (doc: 1 hour). */
export const CALLBACK_WINDOW_MS = 3_600_000;
/** A session webhook is not used in its last minute (clock skew, time in flight), ms. */
export const SESSION_SAFETY_MS = 60_000;
/** How long msgIds and signed timestamps are remembered, ms: the window on either side. */
export const REPLAY_TTL_MS = 2 * CALLBACK_WINDOW_MS;
/** errorCode of the callbacks DingTalk sends, without content, when the app is over its quota (doc robot-message-type). */
export const OVER_QUOTA_ERROR_CODE = 20001;
const REPLY_TIMEOUT_MS = 5_000;

/**
 * The callback signature: base64(HmacSHA256(key = appSecret, data = `${timestamp}\n${appSecret}`)),
 * UTF-8, not URL-encoded (protocols.md §3.2; derived vector: ts 1577262236757, secret
 * "this is a secret" → DJrE6qdyVGCQz9z5r2MDuNcNAhwYnuAkyj13cx169CA=). The same algorithm as the
 * custom robot's 加签, so the one implementation in channels/dingtalk-robot.ts is used.
 * @param timestamp ms since epoch
 */
export function dingtalkCallbackSign(timestamp: number, appSecret: string): string {
  return dingtalkSignature(timestamp, appSecret);
}

export type CallbackVerdict = { ok: true; timestamp: number } | { ok: false; reason: 'missing_signature' | 'stale_timestamp' | 'bad_signature' };

/**
 * Checks a callback's headers.
 * @param timestamp header `timestamp`, ms since epoch as decimal digits
 * @param sign header `sign`, base64
 * @param nowMs our clock, ms
 */
export function verifyDingtalkCallback(timestamp: string | undefined, sign: string | undefined, appSecret: string, nowMs: number): CallbackVerdict {
  if (!timestamp || !sign) return { ok: false, reason: 'missing_signature' };
  // digits without a leading zero: the number signed is exactly the text received
  if (!/^[1-9]\d{0,15}$/.test(timestamp)) return { ok: false, reason: 'stale_timestamp' };
  const ts = Number(timestamp);
  if (Math.abs(nowMs - ts) > CALLBACK_WINDOW_MS) return { ok: false, reason: 'stale_timestamp' };
  const expected = Buffer.from(dingtalkCallbackSign(ts, appSecret), 'utf8');
  const given = Buffer.from(sign, 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad_signature' };
  return { ok: true, timestamp: ts };
}

/** The fields of a robot message we use (protocols.md §3.2), normalised. */
export interface DingtalkRobotMessage {
  msgId: string;
  msgtype: string;
  /** the text (text.content or the text parts of richText), trimmed; '' for pictures, files… */
  text: string;
  /** ms */
  createAt: number | null;
  /** the conversation (openConversationId, `cid…`) */
  conversationId: string;
  conversationType: 'single' | 'group';
  conversationTitle: string;
  senderId: string;
  senderNick: string;
  /** corp userId; '' for external users */
  senderStaffId: string;
  senderCorpId: string;
  chatbotCorpId: string;
  robotCode: string;
  sessionWebhook: string;
  /** ms; 0 when absent */
  sessionWebhookExpiredTime: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : '');
const num = (v: unknown): number | null => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  return Number.isFinite(n) ? n : null;
};

/**
 * Reads a robot message body (HTTP callback JSON, or a Stream frame's `data`).
 * @returns null when it is not a robot message (no msgId / conversation / sender)
 */
export function parseDingtalkRobotMessage(body: unknown): DingtalkRobotMessage | null {
  if (!isObject(body)) return null;
  const msgId = str(body.msgId);
  const conversationId = str(body.conversationId);
  const senderId = str(body.senderId);
  if (!msgId || !conversationId || (!senderId && !str(body.senderStaffId))) return null;
  const msgtype = str(body.msgtype) || 'text';
  let text = '';
  if (msgtype === 'text' && isObject(body.text)) text = str(body.text.content);
  else if (msgtype === 'richText' && isObject(body.content) && Array.isArray(body.content.richText)) {
    text = body.content.richText.map((p) => (isObject(p) ? str(p.text) : '')).join('');
  }
  return {
    msgId,
    msgtype,
    // the @robot is cut out by DingTalk and leaves its space behind (" 确认 A12")
    text: text.trim(),
    createAt: num(body.createAt),
    conversationId,
    conversationType: str(body.conversationType) === '1' ? 'single' : 'group',
    conversationTitle: str(body.conversationTitle),
    senderId,
    senderNick: str(body.senderNick),
    senderStaffId: str(body.senderStaffId).trim(),
    senderCorpId: str(body.senderCorpId),
    chatbotCorpId: str(body.chatbotCorpId),
    robotCode: str(body.robotCode),
    sessionWebhook: str(body.sessionWebhook),
    sessionWebhookExpiredTime: num(body.sessionWebhookExpiredTime) ?? 0,
  };
}

/** What a later reply needs to know about the message it answers (kept apart from its timing). */
export interface DingtalkReplyContext {
  conversationType: 'single' | 'group';
  conversationId: string;
  senderStaffId: string;
  senderNick: string;
  sessionWebhook: string;
  /** ms */
  sessionWebhookExpiredTime: number;
}

/**
 * The reply context of a message. `senderStaffId` is kept only when the sender belongs to the
 * robot's corp (an external user's id, if any, is not the corp's userId and cannot be messaged).
 */
export function replyContextOf(msg: DingtalkRobotMessage): DingtalkReplyContext {
  return {
    conversationType: msg.conversationType,
    conversationId: msg.conversationId,
    senderStaffId: corpStaffId(msg),
    senderNick: msg.senderNick,
    sessionWebhook: msg.sessionWebhook,
    sessionWebhookExpiredTime: msg.sessionWebhookExpiredTime,
  };
}

/** The sender's corp userId, '' for external users (no staffId, or a staffId of another corp). */
function corpStaffId(msg: DingtalkRobotMessage): string {
  return msg.senderStaffId && (!msg.senderCorpId || !msg.chatbotCorpId || msg.senderCorpId === msg.chatbotCorpId) ? msg.senderStaffId : '';
}

export type DingtalkReplyResult =
  | { ok: true; via: 'session' | 'openapi'; sent: unknown }
  | { ok: false; via: 'session' | 'openapi' | 'none'; error: string; sessionError?: string };

export type DingtalkHandleResult =
  | { status: 'ignored'; reason: 'over_quota' | 'not_a_message' | 'other_corp' }
  | { status: 'duplicate' }
  | {
      status: 'handled';
      /** the sender as mapped, or null (unknown: nothing was done for them) */
      person: ResolvedPerson | null;
      outcome: ChatOutcome;
      replyContext: DingtalkReplyContext;
      reply: DingtalkReplyResult;
    };

export interface DingtalkRobotDeps {
  prisma: PrismaClient;
  redis: Redis;
  /** config REDIS_PREFIX */
  redisPrefix: string;
  clock: Clock;
  log: Logger;
  config: DingtalkAppConfig;
  openapi: DingtalkOpenApi;
  fetch?: typeof fetch;
}

const NON_TEXT_REPLY = '请用文字发送指令，如：确认 A123（发送“帮助”查看全部指令）。';

/** The inbound robot: one instance per process, shared by the HTTP route and the Stream client. */
export class DingtalkRobot {
  private enterprise: { id: number } | null = null;
  private readonly fetchImpl: typeof fetch;

  constructor(readonly d: DingtalkRobotDeps) {
    this.fetchImpl = d.fetch ?? fetch;
  }

  /**
   * An HTTP callback: verifies the headers (see module comment), then {@link handleMessage}.
   * @returns `rejected` (answer 401, nothing done) or the handling result
   */
  async handleCallback(headers: { timestamp?: string; sign?: string }, body: unknown): Promise<{ status: 'rejected'; reason: string } | DingtalkHandleResult> {
    const verdict = verifyDingtalkCallback(headers.timestamp, headers.sign, this.d.config.appSecret, this.d.clock.now().getTime());
    if (!verdict.ok) {
      this.d.log.warn({ reason: verdict.reason }, 'dingtalk callback rejected');
      return { status: 'rejected', reason: verdict.reason };
    }
    // one request per signed timestamp: the signature does not cover the body
    const tsKey = `${this.d.redisPrefix}:dingtalk:ts:${verdict.timestamp}`;
    const fresh = await this.d.redis.set(tsKey, '1', 'PX', REPLAY_TTL_MS, 'NX');
    if (fresh !== 'OK') {
      this.d.log.warn({ timestamp: verdict.timestamp }, 'dingtalk callback: signed timestamp used before; ignored');
      return { status: 'duplicate' };
    }
    try {
      return await this.handleMessage(body);
    } catch (e) {
      await this.d.redis.del(tsKey).catch(() => undefined);
      throw e;
    }
  }

  /**
   * One robot message (already authenticated): dedupe by msgId, map the sender, run the command,
   * reply. @throws only on infrastructure failure (database, Redis); the msgId is then released so
   * DingTalk's retry is handled.
   */
  async handleMessage(body: unknown): Promise<DingtalkHandleResult> {
    const log = this.d.log;
    if (isObject(body) && num(body.errorCode) === OVER_QUOTA_ERROR_CODE) {
      log.warn({ errorCode: body.errorCode, msgId: body.msgId }, 'dingtalk: over-quota callback (errorCode 20001) without content; ignored — the app has used its monthly robot quota');
      return { status: 'ignored', reason: 'over_quota' };
    }
    const msg = parseDingtalkRobotMessage(body);
    if (!msg) {
      log.warn('dingtalk: body is not a robot message; ignored');
      return { status: 'ignored', reason: 'not_a_message' };
    }
    const corp = this.d.config.corpId;
    if (corp && msg.chatbotCorpId && msg.chatbotCorpId !== corp) {
      log.warn({ chatbotCorpId: msg.chatbotCorpId }, 'dingtalk: message for another corp’s robot; ignored');
      return { status: 'ignored', reason: 'other_corp' };
    }
    const msgKey = `${this.d.redisPrefix}:dingtalk:msg:${msg.msgId}`;
    if ((await this.d.redis.set(msgKey, '1', 'PX', REPLAY_TTL_MS, 'NX')) !== 'OK') {
      log.info({ msgId: msg.msgId }, 'dingtalk: message seen before; ignored');
      return { status: 'duplicate' };
    }
    try {
      return await this.process(msg);
    } catch (e) {
      await this.d.redis.del(msgKey).catch(() => undefined);
      throw e;
    }
  }

  private async process(msg: DingtalkRobotMessage): Promise<DingtalkHandleResult> {
    const { prisma, clock } = this.d;
    const enterpriseId = await this.enterpriseId();
    // a staffId is the corp's userId only for members of the robot's corp (external users have none)
    const staffId = corpStaffId(msg);
    const externalId = staffId || msg.senderId;
    let person = staffId ? await resolveChatIdentity(prisma, 'dingtalk', staffId, enterpriseId ?? undefined) : null;
    if (!person && msg.senderId) person = await resolveChatIdentity(prisma, 'dingtalk', msg.senderId, enterpriseId ?? undefined);

    const replyContext = replyContextOf(msg);

    let outcome: ChatOutcome;
    if (!msg.text) {
      outcome = { reply: NON_TEXT_REPLY, applied: false };
    } else {
      outcome = await handleChatText(
        { prisma, clock, bind: (code) => this.bind(code, externalId, msg.senderNick, person, enterpriseId) },
        { enterpriseId: enterpriseId ?? person?.enterpriseId, personId: person?.personId ?? null, channel: 'dingtalk', text: msg.text },
      );
    }
    this.d.log.info(
      { msgId: msg.msgId, conversationType: msg.conversationType, personId: person?.personId ?? null, applied: outcome.applied, alertId: outcome.alertId },
      'dingtalk robot message handled',
    );
    const reply = await this.reply(replyContext, outcome.reply);
    if (!reply.ok) this.d.log.warn({ msgId: msg.msgId, via: reply.via, error: reply.error, sessionError: reply.sessionError }, 'dingtalk reply not delivered');
    return { status: 'handled', person, outcome, replyContext, reply };
  }

  /** `绑定 123456` from this sender. */
  private async bind(code: string, externalId: string, displayName: string, current: ResolvedPerson | null, enterpriseId: number | null): Promise<{ reply: string; applied: boolean }> {
    if (current) return { reply: `您的钉钉账号已对应 ${current.name}，无需绑定，可直接发送指令（如：确认 A123）。`, applied: false };
    if (!externalId) return { reply: '无法识别您的钉钉账号，不能绑定，请联系管理员。', applied: false };
    const now = this.d.clock.now();
    if (enterpriseId !== null) {
      // a code of another enterprise's person is as good as unknown here (its existence is not revealed)
      const row = await this.d.prisma.bindingCode.findFirst({ where: { code: code.trim(), usedAt: null, expiresAt: { gt: now } }, select: { person: { select: { enterpriseId: true } } } });
      if (row && row.person.enterpriseId !== enterpriseId) return { reply: '绑定码无效或已过期，请在预警链接页面获取新的绑定码。', applied: false };
    }
    try {
      const p = await redeemBindingCode(this.d.prisma, this.d.clock, { platform: 'dingtalk', externalId, code, displayName: displayName || undefined }, bindingTriesGuard(this.d.redis, this.d.redisPrefix));
      return { reply: `绑定成功：您的钉钉账号已绑定到 ${p.name}。现在可以直接回复指令，如：确认 A123`, applied: true };
    } catch (e) {
      if (e instanceof AppError) return { reply: e.messageZh, applied: false };
      throw e;
    }
  }

  /**
   * Sends `text` back to where a message came from, choosing the path NOW (the injected clock):
   * the session webhook while `now < sessionWebhookExpiredTime − SESSION_SAFETY_MS` (in a group:
   * `@staffId` in the text and `at.atUserIds`), else — or when the session webhook fails — the
   * OpenAPI (group: groupMessages/send; direct chat: oToMessages/batchSend to the staffId). A
   * session webhook outside DINGTALK_OAPI_BASE's origin is never posted to.
   * @returns which path delivered it, or why nothing could (an external user in a direct chat after
   *   the session expired cannot be reached)
   */
  async reply(ctx: DingtalkReplyContext, text: string): Promise<DingtalkReplyResult> {
    const now = this.d.clock.now().getTime();
    let sessionError: string | undefined;
    if (ctx.sessionWebhook && now < ctx.sessionWebhookExpiredTime - SESSION_SAFETY_MS) {
      if (!this.isOurSessionUrl(ctx.sessionWebhook)) {
        sessionError = 'sessionWebhook is not on DINGTALK_OAPI_BASE; not used';
      } else {
        const body =
          ctx.conversationType === 'group' && ctx.senderStaffId
            ? { msgtype: 'text', text: { content: `@${ctx.senderStaffId} ${text}` }, at: { atUserIds: [ctx.senderStaffId], isAtAll: false } }
            : { msgtype: 'text', text: { content: text } };
        const r = await this.postSession(ctx.sessionWebhook, body);
        if (r === null) return { ok: true, via: 'session', sent: body };
        sessionError = r;
      }
    }
    const api = this.d.openapi;
    let result: OpenApiResult;
    let sent: Record<string, string>;
    if (ctx.conversationType === 'group') {
      // the OpenAPI cannot @: name the person so the group sees whom it answers
      sent = { content: ctx.senderNick ? `${ctx.senderNick}：${text}` : text };
      result = await api.sendToGroup(ctx.conversationId, 'sampleText', sent);
    } else if (ctx.senderStaffId) {
      sent = { content: text };
      result = await api.sendToUsers([ctx.senderStaffId], 'sampleText', sent);
    } else {
      return { ok: false, via: 'none', error: 'direct chat with an external user after the session expired: no way to reach them', sessionError };
    }
    if (result.ok) return { ok: true, via: 'openapi', sent: { msgKey: 'sampleText', msgParam: sent } };
    return { ok: false, via: 'openapi', error: result.error, sessionError };
  }

  private isOurSessionUrl(url: string): boolean {
    try {
      return new URL(url).origin === new URL(this.d.config.oapiBase).origin;
    } catch {
      return false;
    }
  }

  /** @returns null when DingTalk accepted it (errcode 0), else the error */
  private async postSession(url: string, body: unknown): Promise<string | null> {
    try {
      const res = await this.fetchImpl(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json; charset=utf-8' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(REPLY_TIMEOUT_MS),
      });
      const raw = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch {
        return `session webhook HTTP ${res.status}: ${raw.slice(0, 200)}`;
      }
      const errcode = isObject(json) ? num(json.errcode) : null;
      if (res.ok && errcode === 0) return null;
      return `session webhook HTTP ${res.status} errcode ${isObject(json) ? String(json.errcode) : '?'}: ${isObject(json) ? str(json.errmsg) : ''}`;
    } catch (e) {
      return `session webhook: ${(e as Error).message}`;
    }
  }

  /**
   * The enterprise whose people the corp's staffIds are: DINGTALK_ENTERPRISE_CODE, else the only
   * enterprise in the database; null (no filter: an id found in two enterprises resolves to nobody)
   * when neither tells.
   */
  async enterpriseId(): Promise<number | null> {
    if (this.enterprise) return this.enterprise.id;
    const code = this.d.config.enterpriseCode;
    if (code) {
      const e = await this.d.prisma.enterprise.findUnique({ where: { companyCode: code }, select: { id: true } });
      if (!e) this.d.log.error({ code }, 'DINGTALK_ENTERPRISE_CODE names no enterprise; DingTalk staffIds are looked up in every enterprise');
      else this.enterprise = e;
      return e?.id ?? null;
    }
    const all = await this.d.prisma.enterprise.findMany({ select: { id: true }, take: 2 });
    // not cached: a second enterprise may be added later, and then the code must be configured
    return all.length === 1 ? all[0].id : null;
  }
}
