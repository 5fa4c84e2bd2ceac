/**
 * Channel `wechat_subscribe`: an alert as a WeChat mini-program one-time subscribe message
 * (订阅消息, protocols.md §4.3; POST /cgi-bin/message/subscribe/send). One route per person
 * (domain/routing.ts personal channels); the tick routes a person here only while they have a
 * consent left (SubscribeConsent.remaining > 0 for the alert template).
 *
 * Each `accept` in the mini-program grants ONE send, so:
 * - one consent is spent atomically BEFORE calling WeChat (`UPDATE … SET remaining = remaining − 1
 *   WHERE remaining > 0`): two workers can never spend the same consent twice;
 * - none left by then (spent meanwhile by another alert) → `{ ok: false, fallback: true }`: the
 *   delivery re-routes the message to the person's other route (group robot, else the outbox);
 * - WeChat answers 43101 (the user has no subscription left, or refused) → that person's consent
 *   is set to 0 and the message falls back the same way;
 * - any other failure gives the consent back (WeChat did not use it): a transient one is retried
 *   by the delivery (spending again), a permanent one (bad openid 40003, template 40037, page 41030,
 *   a value WeChat refused 47003) falls back so the person still gets the alert, and is logged.
 * Field values are fitted to their keyword types first (domain/subscribe-fields.ts), so a long
 * place name or a level with digits is shortened rather than refused.
 */
import type { PrismaClient } from '../db';
import type { Logger } from '../logger';
import type { NeutralMessage } from '../domain/message';
import { parseAlertCode } from '../domain/render';
import { DEFAULT_ALERT_FIELDS, subscribeData } from '../domain/subscribe-fields';
import type { WechatApi } from '../services/wechat-api';
import type { Channel, Destination, SendResult } from './types';

export const WECHAT_SUBSCRIBE_CHANNEL = 'wechat_subscribe';

/** subscribe/send errcodes after which retrying cannot help (protocols.md §4.3). */
const PERMANENT = [40003, 40037, 41030, 47003, 43107];

export interface WechatSubscribeOptions {
  prisma: PrismaClient;
  api: WechatApi;
  templateId: string;
  /** keyword → source (domain/subscribe-fields.ts); default DEFAULT_ALERT_FIELDS */
  fields?: Record<string, string>;
  /** the page the message opens, e.g. pages/index/index (the alert id is appended as ?alertId=) */
  page: string;
  state: 'formal' | 'trial' | 'developer';
  log?: Logger;
}

/** The openid of a person: the directory's (Person.wechatOpenId), else their latest mini-program binding. */
export async function openidOf(prisma: PrismaClient, personId: number): Promise<string | null> {
  const p = await prisma.person.findUnique({ where: { id: personId }, select: { wechatOpenId: true, active: true } });
  if (!p?.active) return null;
  if (p.wechatOpenId) return p.wechatOpenId;
  const bound = await prisma.chatIdentity.findFirst({ where: { personId, platform: 'miniprogram' }, orderBy: { boundAt: 'desc' }, select: { externalId: true } });
  return bound?.externalId ?? null;
}

export class WechatSubscribeChannel implements Channel {
  readonly name = WECHAT_SUBSCRIBE_CHANNEL;
  constructor(private readonly o: WechatSubscribeOptions) {}

  /** One consent spent (atomic). @returns false when none was left */
  private async spend(personId: number): Promise<boolean> {
    const n = await this.o.prisma.$executeRaw`UPDATE SubscribeConsent SET remaining = remaining - 1, updatedAt = NOW(3) WHERE personId = ${personId} AND templateId = ${this.o.templateId} AND remaining > 0`;
    return n > 0;
  }

  private async refund(personId: number): Promise<void> {
    await this.o.prisma.$executeRaw`UPDATE SubscribeConsent SET remaining = remaining + 1, updatedAt = NOW(3) WHERE personId = ${personId} AND templateId = ${this.o.templateId}`;
  }

  async send(_d: Destination, message: NeutralMessage): Promise<SendResult> {
    const recipient = message.recipients[0];
    if (!recipient) return { ok: false, permanent: true, error: 'wechat_subscribe: no recipient' };
    const openid = await openidOf(this.o.prisma, recipient.personId);
    if (!openid) return { ok: false, fallback: true, error: 'wechat_subscribe: the person has no WeChat openid (not bound in the mini-program)' };
    if (!(await this.spend(recipient.personId))) return { ok: false, fallback: true, error: 'wechat_subscribe: no subscribe consent left (订阅次数已用完)' };

    const alertId = parseAlertCode(message.alertCode);
    const body = {
      touser: openid,
      template_id: this.o.templateId,
      page: alertId !== null ? `${this.o.page}?alertId=${alertId}` : this.o.page,
      miniprogram_state: this.o.state,
      lang: 'zh_CN',
      data: subscribeData(message, this.o.fields ?? DEFAULT_ALERT_FIELDS),
    };
    // what is recorded on the row: the fields as sent, without the openid
    const sent = { template_id: body.template_id, page: body.page, data: body.data, personId: recipient.personId };
    const r = await this.o.api.post('cgi-bin/message/subscribe/send', body);
    if (r.ok) return { ok: true, sent };
    if (r.errcode === 43101) {
      await this.o.prisma.subscribeConsent.updateMany({ where: { personId: recipient.personId, templateId: this.o.templateId }, data: { remaining: 0 } });
      return { ok: false, fallback: true, error: `wechat_subscribe: ${r.error} (the user has no subscription left)`, sent };
    }
    await this.refund(recipient.personId);
    if (r.errcode !== undefined && PERMANENT.includes(r.errcode)) {
      this.o.log?.error({ errcode: r.errcode, error: r.error, personId: recipient.personId }, 'subscribe message refused by WeChat; falling back to the person\'s other channel');
      return { ok: false, fallback: true, error: `wechat_subscribe: ${r.error}`, sent };
    }
    return { ok: false, error: `wechat_subscribe: ${r.error}`, ...(r.permanent ? { fallback: true } : {}), ...(r.retryAfterMs !== undefined ? { retryAfterMs: r.retryAfterMs } : {}), sent };
  }
}
