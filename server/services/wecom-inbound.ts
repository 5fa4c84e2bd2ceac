/**
 * What the WeCom self-built app does with an authenticated, decrypted callback message
 * (server/services/wecom-callback.ts authenticates; protocols.md §2.6–2.7;
 * https://developer.work.weixin.qq.com/document/path/90240 events,
 * https://developer.work.weixin.qq.com/document/path/90239 messages).
 *
 * - `template_card_event` with EventKey `ack:<alertId>` (the 确认 button of our card): the
 *   clicking userid (FromUserName) is mapped to a Person (server/services/identity.ts) and the
 *   alert is acknowledged as that person with channel `wecom` — the same service and rules as the
 *   link page and the API. Then the clicker's card is updated with the event's ResponseCode
 *   (button 「已确认 · 姓名」), the alert's other live cards with their own response_codes, and the
 *   clicker gets a short text with how to 处置 (the card's buttons are gone after the update).
 * - `text` messages (`确认 A12`, `处置 A12 已安排检修`, `查询`, `绑定 123456`…): the one chat
 *   grammar (server/services/chat-commands.ts); the reply goes back as an app text message to that
 *   user (not a passive reply), and the alert's cards are updated when something was applied.
 * - An unknown userid never acts: the answer says how to bind (only `绑定 <code>` works for them).
 * - Anything else (other events, images, menu clicks, keys that are not ours) is ignored.
 *
 * Database work runs inline (fast, so the callback can answer within WeCom's 5 s and a failure
 * lets WeCom retry); outbound WeCom calls (card updates, replies) run after the HTTP reply, in
 * the background (`idle()` waits for them: tests, graceful stop).
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { PrismaClient } from '../db';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import { AppError } from '../errors';
import { alertCode } from '../domain/render';
import { truncateChars, truncateUtf8 } from '../domain/text-bytes';
import { parseChatCommand } from '../domain/chat-commands';
import { dayjs } from '../domain/time';
import { WECOM_APP_CHANNEL, WECOM_APP_TEXT_MAX_BYTES, WECOM_CARD_LIMITS, WECOM_RESPONSE_CODE_TTL_MS, alertIdOfTaskId, parseButtonKey, type WecomAppSent } from '../channels/wecom-app';
import type { LinkSigner } from './links';
import type { WecomApi } from './wecom-token';
import { acknowledgeAlert, loadActor } from './alert-actions';
import { bindingTriesGuard, redeemBindingCode, resolveChatIdentity, type ResolvedPerson } from './identity';
import { handleChatText } from './chat-commands';
import { xmlText } from './wecom-crypto';

export interface WecomInboundOptions {
  prisma: PrismaClient;
  clock: Clock;
  log: Logger;
  redis: Redis;
  /** REDIS_PREFIX */
  prefix: string;
  links: LinkSigner;
  corpId: string;
  /** the app, when WECOM_SECRET/AGENT_ID are set: without it nothing can be sent back */
  app?: { api: WecomApi; agentId: number };
  /** Enterprise.companyCode of the corp's people (WECOM_ENTERPRISE_CODE); unset: any enterprise here */
  enterpriseCode?: string;
}

/** What one callback message led to (for logs and tests). */
export interface InboundOutcome {
  kind: 'card_ack' | 'text' | 'unknown_user' | 'ignored' | 'misconfigured';
  from: string;
  personId?: number;
  alertId?: number;
  /** something was stored (an acknowledgement, a handling note, a binding…) */
  applied: boolean;
  /** the text sent back to the user, if any */
  reply?: string;
  /** why a message was ignored */
  reason?: string;
}

const DEFAULT_TZ = 'Asia/Shanghai';

/** What an unknown user is told (never acted for): how to get bound. */
export function bindHelp(userId: string): string {
  return `您的企业微信账号（${userId}）尚未与系统人员关联，不能操作预警。请打开任一预警消息中的链接，按页面上的 6 位绑定码回复：绑定 123456；或请管理员在人员资料中登记您的企业微信账号。`;
}

/** The label a card's button gets after someone acted: 「已确认 · 胡婷」 (≤ 10 characters). */
export function cardDoneLabel(action: 'acknowledged' | 'handled' | 'cleared', name?: string | null): string {
  const verb = action === 'acknowledged' ? '已确认' : action === 'handled' ? '已处置' : '已销警';
  return truncateChars(name ? `${verb} · ${name}` : verb, WECOM_CARD_LIMITS.buttonText);
}

export class WecomInbound {
  private readonly tasks = new Set<Promise<void>>();
  private enterprise: { id: number } | null = null;

  constructor(private readonly o: WecomInboundOptions) {}

  /**
   * Acts on one decrypted callback message (parsed XML fields). Database work is done before this
   * resolves; replies and card updates are queued to run afterwards.
   * @throws only on infrastructure failure (the callback then answers 500 and WeCom retries)
   */
  async handle(msg: Record<string, unknown>): Promise<InboundOutcome> {
    const from = xmlText(msg, 'FromUserName');
    const type = xmlText(msg, 'MsgType');
    if (!from) return { kind: 'ignored', from, applied: false, reason: 'no FromUserName' };
    if (type === 'event') {
      const event = xmlText(msg, 'Event');
      if (event !== 'template_card_event') return { kind: 'ignored', from, applied: false, reason: `event ${event}` };
      return this.cardClick(from, msg);
    }
    if (type === 'text') return this.text(from, xmlText(msg, 'Content'));
    return { kind: 'ignored', from, applied: false, reason: `MsgType ${type}` };
  }

  /** Waits until every queued reply and card update has finished. */
  async idle(): Promise<void> {
    while (this.tasks.size) await Promise.allSettled([...this.tasks]);
  }

  private later(what: string, fn: () => Promise<void>): void {
    const p = fn()
      .catch((err) => this.o.log.error({ err, what }, 'WeCom follow-up failed'))
      .finally(() => this.tasks.delete(p));
    this.tasks.add(p);
  }

  /**
   * The corp's enterprise: `{ id }`, `undefined` when WECOM_ENTERPRISE_CODE is unset (any), null
   * when the code names no enterprise (misconfigured: nobody may act).
   */
  private async enterpriseScope(): Promise<{ id: number } | undefined | null> {
    if (!this.o.enterpriseCode) return undefined;
    if (this.enterprise) return this.enterprise;
    const e = await this.o.prisma.enterprise.findUnique({ where: { companyCode: this.o.enterpriseCode }, select: { id: true } });
    if (!e) {
      this.o.log.error({ enterpriseCode: this.o.enterpriseCode }, 'WECOM_ENTERPRISE_CODE names no enterprise: WeCom users cannot act');
      return null;
    }
    this.enterprise = e;
    return e;
  }

  private async whoIs(from: string): Promise<{ person: ResolvedPerson | null; scope: { id: number } | undefined } | null> {
    const scope = await this.enterpriseScope();
    if (scope === null) return null;
    return { person: await resolveChatIdentity(this.o.prisma, 'wecom', from, scope?.id), scope };
  }

  private misconfigured(from: string): InboundOutcome {
    const reply = '系统的企业微信配置有误（WECOM_ENTERPRISE_CODE），暂不能处理您的操作，请联系管理员。';
    this.sendText(from, reply);
    return { kind: 'misconfigured', from, applied: false, reply };
  }

  // ───────────────────────────── 确认 button ─────────────────────────────

  private async cardClick(from: string, msg: Record<string, unknown>): Promise<InboundOutcome> {
    const key = parseButtonKey(xmlText(msg, 'EventKey'));
    const taskId = xmlText(msg, 'TaskId');
    const responseCode = xmlText(msg, 'ResponseCode');
    if (!key) return { kind: 'ignored', from, applied: false, reason: `button key ${xmlText(msg, 'EventKey')}` };
    // our task ids name the alert: a key that disagrees with its card is not ours to trust
    const taskAlert = alertIdOfTaskId(taskId);
    if (taskAlert !== null && taskAlert !== key.alertId) return { kind: 'ignored', from, applied: false, reason: 'button key and task id name different alerts' };

    const who = await this.whoIs(from);
    if (!who) return this.misconfigured(from);
    if (!who.person) {
      const reply = bindHelp(from);
      this.sendText(from, reply);
      this.o.log.warn({ from, alertId: key.alertId }, 'WeCom card click from an unbound user: nothing done');
      return { kind: 'unknown_user', from, applied: false, reply };
    }
    const person = who.person;
    const code = alertCode(key.alertId);
    const card = taskId ? await this.findCard(key.alertId, taskId) : null;

    let reply: string;
    let label: string | null = null;
    let applied = false;
    try {
      const actor = await loadActor(this.o.prisma, person.personId);
      if (who.scope && actor.enterpriseId !== who.scope.id) throw new AppError(404, 'not_found', '预警不存在', 'alert not found');
      const r = await acknowledgeAlert(this.o.prisma, this.o.clock, actor, key.alertId, { channel: 'wecom', notificationId: card?.notificationId ?? null });
      applied = !r.alreadyAcknowledged;
      label = cardDoneLabel('acknowledged', person.name);
      const until = r.ackUntil ? await this.localTime(key.alertId, r.ackUntil) : null;
      const link = await this.o.links.url({ alertId: key.alertId, personId: person.personId, notificationId: card?.notificationId ?? null });
      reply = `${r.alreadyAcknowledged ? '您已确认过' : '已确认'} ${code}${until ? `，催办暂停至 ${until}` : ''}。处置后请回复：处置 ${code} 说明；或打开 ${link}`;
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
      reply = refusal(e, code);
      if (e.code === 'alert_cleared') label = cardDoneLabel('cleared');
      this.o.log.info({ from, personId: person.personId, alertId: key.alertId, code: e.code }, 'WeCom card click refused');
    }

    this.later('card click follow-up', async () => {
      if (label) {
        if (responseCode) await this.updateCard({ responseCode, userIds: [from], label, what: 'clicked card' });
        if (applied) await this.updateAlertCards(key.alertId, { except: card?.notificationId });
      }
      await this.sendTextNow(from, reply);
    });
    return { kind: 'card_ack', from, personId: person.personId, alertId: key.alertId, applied, reply };
  }

  // ───────────────────────────── text commands ─────────────────────────────

  private async text(from: string, content: string): Promise<InboundOutcome> {
    const who = await this.whoIs(from);
    if (!who) return this.misconfigured(from);
    const bind = async (bindCode: string) => {
      try {
        const p = await redeemBindingCode(this.o.prisma, this.o.clock, { platform: 'wecom', externalId: from, code: bindCode }, bindingTriesGuard(this.o.redis, this.o.prefix));
        return { reply: `绑定成功：企业微信账号 ${from} 已关联 ${p.name}。现在可以在此回复“确认 A123”等指令，或点卡片上的按钮。`, applied: true };
      } catch (e) {
        if (e instanceof AppError) return { reply: e.messageZh, applied: false };
        throw e;
      }
    };
    if (!who.person) {
      // an unknown user may bind, and nothing else
      const parsed = parseChatCommand(content);
      const out = parsed.ok && parsed.command.kind === 'bind'
        ? await handleChatText({ prisma: this.o.prisma, clock: this.o.clock, bind }, { enterpriseId: who.scope?.id, personId: null, channel: 'wecom', text: content })
        : { reply: bindHelp(from), applied: false };
      this.sendText(from, out.reply);
      if (!out.applied) this.o.log.info({ from }, 'WeCom text from an unbound user: nothing done');
      return { kind: out.applied ? 'text' : 'unknown_user', from, applied: out.applied, reply: out.reply };
    }
    const out = await handleChatText(
      { prisma: this.o.prisma, clock: this.o.clock, bind },
      { enterpriseId: who.scope?.id, personId: who.person.personId, channel: 'wecom', text: content },
    );
    this.later('text reply', async () => {
      if (out.applied && out.alertId !== undefined) await this.updateAlertCards(out.alertId, {});
      await this.sendTextNow(from, out.reply);
    });
    return { kind: 'text', from, personId: who.person.personId, alertId: out.alertId, applied: out.applied, reply: out.reply };
  }

  // ───────────────────────────── outbound: replies and card updates ─────────────────────────────

  private sendText(to: string, content: string): void {
    this.later('text reply', () => this.sendTextNow(to, content));
  }

  /** message/send text to one user (≤ 2048 bytes, doc 90236). Logged, never thrown. */
  private async sendTextNow(to: string, content: string): Promise<void> {
    if (!this.o.app) {
      this.o.log.warn({ to }, 'cannot answer on WeCom: WECOM_SECRET / WECOM_AGENT_ID are not set');
      return;
    }
    const res = await this.o.app.api.post('message/send', {
      touser: to,
      msgtype: 'text',
      agentid: this.o.app.agentId,
      text: { content: truncateUtf8(content, WECOM_APP_TEXT_MAX_BYTES) },
    });
    if (!res.ok) this.o.log.warn({ to, error: res.error }, 'WeCom reply not sent');
  }

  /**
   * update_template_card (doc 94888, variant "button"): greys out the card's buttons with `label`.
   * Each response_code is used at most once (claimed in Redis first, so two instances never both
   * spend it). @returns whether WeCom accepted it
   */
  async updateCard(input: { responseCode: string; userIds: string[]; label: string; what: string }): Promise<boolean> {
    if (!this.o.app) {
      this.o.log.warn({ what: input.what }, 'cannot update the WeCom card: WECOM_SECRET / WECOM_AGENT_ID are not set');
      return false;
    }
    const claimKey = `${this.o.prefix}:wecom:rc:${createHash('sha1').update(input.responseCode).digest('hex')}`;
    const claimed = await this.o.redis.set(claimKey, '1', 'PX', WECOM_RESPONSE_CODE_TTL_MS, 'NX');
    if (claimed !== 'OK') return false;
    const res = await this.o.app.api.post('message/update_template_card', {
      userids: input.userIds,
      agentid: this.o.app.agentId,
      response_code: input.responseCode,
      button: { replace_name: input.label },
    });
    if (!res.ok) this.o.log.warn({ what: input.what, error: res.error }, 'WeCom card not updated');
    return res.ok;
  }

  /**
   * Updates every card of the alert whose response_code from message/send is still usable (sent
   * within 72 h, not spent) to show who did what last: 「已确认 · 胡婷」, 「已处置 · …」, 「已销警」.
   * @param except the notification whose card was already updated with an event's code
   * @returns how many cards were updated
   */
  async updateAlertCards(alertId: number, opts: { except?: number | null }): Promise<number> {
    if (!this.o.app) return 0;
    const label = await this.currentLabel(alertId);
    if (!label) return 0;
    // the cards already say this (e.g. a second person's 确认): nothing to change
    const labelKey = `${this.o.prefix}:wecom:cardlabel:${alertId}`;
    if ((await this.o.redis.get(labelKey)) === label) return 0;
    await this.o.redis.set(labelKey, label, 'PX', WECOM_RESPONSE_CODE_TTL_MS);
    const now = this.o.clock.now();
    const rows = await this.o.prisma.notification.findMany({
      where: { alertId, channel: WECOM_APP_CHANNEL, state: 'sent', sentAt: { gte: new Date(now.getTime() - WECOM_RESPONSE_CODE_TTL_MS) } },
      select: { id: true, payload: true },
      orderBy: { id: 'asc' },
    });
    let updated = 0;
    for (const n of rows) {
      if (n.id === opts.except) continue;
      const sent = (n.payload as { delivered?: WecomAppSent | null } | null)?.delivered;
      if (!sent?.responseCode || !sent.responseCodeExpiresAt || Date.parse(sent.responseCodeExpiresAt) <= now.getTime()) continue;
      const userIds = sent.body.touser.split('|').filter((u) => u && !sent.invalidUsers.includes(u.toLowerCase()));
      if (userIds.length === 0) continue;
      if (await this.updateCard({ responseCode: sent.responseCode, userIds, label, what: `card of notification ${n.id}` })) updated++;
    }
    return updated;
  }

  /**
   * The label for the alert's cards, or null while nobody acted: 已销警 (· who, when by hand) once
   * cleared, else 已处置 · the last handler, else 已确认 · the FIRST acknowledger — so a second
   * person's 确认 does not relabel everyone's card (it only updates their own).
   */
  private async currentLabel(alertId: number): Promise<string | null> {
    const a = await this.o.prisma.alert.findUnique({ where: { id: alertId }, select: { state: true, ackedById: true, handledById: true, clearedById: true } });
    if (!a) return null;
    const personId = a.state === 'cleared' ? a.clearedById : (a.handledById ?? a.ackedById);
    const name = personId ? (await this.o.prisma.person.findUnique({ where: { id: personId }, select: { name: true } }))?.name : null;
    if (a.state === 'cleared') return cardDoneLabel('cleared', name);
    if (a.handledById) return cardDoneLabel('handled', name);
    if (a.ackedById) return cardDoneLabel('acknowledged', name);
    return null;
  }

  /** The notification whose card has this task id (the clicked card), when it is one of ours. */
  private async findCard(alertId: number, taskId: string): Promise<{ notificationId: number } | null> {
    const rows = await this.o.prisma.notification.findMany({ where: { alertId, channel: WECOM_APP_CHANNEL }, select: { id: true, payload: true } });
    const n = rows.find((r) => (r.payload as { delivered?: WecomAppSent | null } | null)?.delivered?.taskId === taskId);
    return n ? { notificationId: n.id } : null;
  }

  /** `14:05` today or `12-01 14:05`, in the alert's enterprise zone. */
  private async localTime(alertId: number, at: Date): Promise<string> {
    const a = await this.o.prisma.alert.findUnique({ where: { id: alertId }, select: { detail: true } });
    const tz = (a?.detail as { tz?: string } | null)?.tz ?? DEFAULT_TZ;
    const local = dayjs(at).tz(tz);
    return local.format('YYYY-MM-DD') === dayjs(this.o.clock.now()).tz(tz).format('YYYY-MM-DD') ? local.format('HH:mm') : local.format('MM-DD HH:mm');
  }
}

/** A short reply for a refused 确认 (the reasons of server/domain/alert-permissions.ts). */
function refusal(e: AppError, code: string): string {
  const reason = (e.details as { reason?: string } | undefined)?.reason;
  if (e.code === 'not_found' || reason === 'other_enterprise') return `未找到预警 ${code}。`;
  if (e.code === 'alert_cleared') return `预警 ${code} 已销警，无需再确认。`;
  if (reason === 'read_only') return '监管账号只读，不能操作预警。';
  if (reason === 'not_addressed') return `预警 ${code} 未发给您或您的下属，您不能确认。`;
  return `不能确认 ${code}：${e.messageZh}`;
}
