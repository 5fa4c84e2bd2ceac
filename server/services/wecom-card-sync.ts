/**
 * Keeps WeCom app cards true when an alert is acted on anywhere else.
 *
 * A card's buttons only change when we call update_template_card with a response_code
 * (https://developer.work.weixin.qq.com/document/path/94888: single use, 72 h). A click on the card
 * updates the alert's cards at once (wecom-inbound.ts); an acknowledgement from the link page, the
 * API, DingTalk, the mini-program, a 销警 by hand or the condition ending by itself did not, so a
 * 「确认」 button stayed on phones for an alert long done. This scheduler job follows the alert
 * history (AlertEvent acknowledged / handled / cleared) with a cursor and calls
 * WecomInbound.updateAlertCards for each alert that was sent as a card — which labels the cards
 * 「已确认 · 姓名」 / 「已处置 · …」 / 「已销警」 and skips cards that already say so.
 *
 * The cursor (the last AlertEvent id looked at) lives in Redis; when Redis lost it, the job starts
 * at the events of the last 72 h (older cards cannot be updated anyway). Several scheduler
 * processes may run it: a response_code is claimed in Redis before use, so no card is updated twice.
 */
import type { Redis } from 'ioredis';
import type { PrismaClient } from '../db';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import { WECOM_APP_CHANNEL, WECOM_RESPONSE_CODE_TTL_MS } from '../channels/wecom-app';
import type { WecomInbound } from './wecom-inbound';

/** AlertEvent types after which a card shows something new. */
export const CARD_CHANGING_EVENTS = ['acknowledged', 'handled', 'cleared'] as const;

export interface WecomCardSyncOptions {
  prisma: PrismaClient;
  redis: Redis;
  /** REDIS_PREFIX */
  prefix: string;
  clock: Clock;
  log: Logger;
  inbound: Pick<WecomInbound, 'updateAlertCards'>;
  /** events read per query (default 500) */
  batch?: number;
}

export class WecomCardSync {
  private readonly cursorKey: string;
  private readonly batch: number;

  constructor(private readonly o: WecomCardSyncOptions) {
    this.cursorKey = `${o.prefix}:wecom:cardsync:cursor`;
    this.batch = o.batch ?? 500;
  }

  /**
   * One pass: the card-changing events since the cursor, their alerts' cards updated.
   * @returns how many cards were updated
   */
  async syncOnce(): Promise<number> {
    let cursor = await this.cursor();
    let updated = 0;
    for (let round = 0; round < 20; round++) {
      const events = await this.o.prisma.alertEvent.findMany({
        where: { id: { gt: cursor }, type: { in: [...CARD_CHANGING_EVENTS] } },
        select: { id: true, alertId: true },
        orderBy: { id: 'asc' },
        take: this.batch,
      });
      if (events.length === 0) break;
      const alertIds = [...new Set(events.map((e) => e.alertId))];
      const carded = await this.o.prisma.notification.findMany({
        where: { alertId: { in: alertIds }, channel: WECOM_APP_CHANNEL, state: 'sent' },
        select: { alertId: true },
        distinct: ['alertId'],
      });
      for (const { alertId } of carded) {
        try {
          updated += await this.o.inbound.updateAlertCards(alertId, {});
        } catch (err) {
          // one alert's failure (WeCom down) must not stop the others; its cards stay as they are
          this.o.log.warn({ err, alertId }, 'wecom card update failed');
        }
      }
      cursor = events[events.length - 1].id;
      await this.o.redis.set(this.cursorKey, String(cursor));
      if (events.length < this.batch) break;
    }
    if (updated) this.o.log.info({ updated }, 'wecom cards updated after actions elsewhere');
    return updated;
  }

  private async cursor(): Promise<number> {
    const stored = await this.o.redis.get(this.cursorKey);
    if (stored !== null && /^\d+$/.test(stored)) return Number(stored);
    const since = new Date(this.o.clock.now().getTime() - WECOM_RESPONSE_CODE_TTL_MS);
    const before = await this.o.prisma.alertEvent.findFirst({ where: { at: { lt: since } }, orderBy: { id: 'desc' }, select: { id: true } });
    return before?.id ?? 0;
  }
}
