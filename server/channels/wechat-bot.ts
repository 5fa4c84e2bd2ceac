/**
 * Alerts into WeChat (or WeCom) groups through the wechaty bot (issue #4, item 3; protocols.md §5):
 * channel `wechat_bot`, for `wechat_group` destinations — the destination's `name` is the room's
 * topic, which the bot looks the room up by (`Room.find({ topic })`).
 *
 * The message is one text posted with `room.say(text, ...contacts)`: wechaty puts `@<room alias or
 * name>` of each contact, joined by U+2005, plus a space in front of the text and hands the contact
 * ids to the puppet as its mention list, so the people are really @-mentioned (they get the
 * "有人@我" notice). Who is mentioned: each recipient whose WeChat contact is bound to them
 * (ChatIdentity platform `wechat`, made with `绑定 123456`) and who is a member of the room. The
 * others are named in the text only. Every recipient's signed link follows, as in the robot
 * channels, and the text says how to answer in the group (`@<bot> 确认 A12`).
 *
 * Runs only in the process that holds the WeChat login (role `bot`): the relay gives `wechat_bot`
 * rows to that process's own queue (server/jobs/delivery.ts). The channel is at-most-once
 * ({@link Channel.atMostOnce}): a personal/WorkPro account posting the same alert twice into a group
 * is noise people learn to ignore, while a gap is filled by the alert's own repeat and escalation.
 *
 * Only types are imported from wechaty here: loading it takes seconds, and only the bot role needs it.
 */
import type { impls } from 'wechaty';
import type { PrismaClient } from '../db';
import type { NeutralMessage } from '../domain/message';
import { WECHAT_BOT_CHANNEL } from '../domain/routing';
import { fitUtf8, utf8Length, type TextPart } from '../domain/text-bytes';
import type { Channel, Destination, SendResult } from './types';
import { alertCodeLine } from './wecom-robot';

export { WECHAT_BOT_CHANNEL, WECHAT_GROUP_DESTINATION } from '../domain/routing';

type Wechaty = impls.WechatyInterface;
type Contact = impls.ContactInterface;

/**
 * Longest text we post, UTF-8 bytes, @-prefix included. WeChat documents no limit for a text
 * message; puppets have refused very long ones, so we keep WeCom's markdown cap and shorten with a
 * link to the full alert beyond it (the same rule as the robot channels).
 */
export const WECHAT_TEXT_MAX_BYTES = 4096;
/** A post attempted while the bot is logged out is tried again after this long, ms (not an attempt). */
export const NOT_LOGGED_IN_RETRY_MS = 30_000;

/**
 * The text of an alert for a WeChat group (without the @-prefix wechaty adds).
 * @param botName the bot's display name, for the "reply with @<bot> 确认 A12" line
 * @param prefixBytes bytes the @-prefix will take (kept out of {@link WECHAT_TEXT_MAX_BYTES})
 */
export function formatWechatAlertText(m: NeutralMessage, botName: string, prefixBytes = 0): string {
  const names = [...new Set(m.recipients.map((r) => r.name))];
  const at = botName ? `@${botName} ` : '';
  const parts: TextPart[] = [
    { text: m.title, shrinkable: true },
    ...m.lines.map((l): TextPart => ({ text: l, dropRank: 2, shrinkable: true })),
    { text: alertCodeLine(m) },
    ...(names.length ? [{ text: `请 ${names.join('、')} 确认或处置：在群里回复「${at}确认 ${m.alertCode}」，或打开本人链接：`, shrinkable: true } as TextPart] : []),
    ...(m.links ?? []).map((l): TextPart => ({ text: `${l.name}：${l.url}`, dropRank: 1 })),
  ];
  const max = Math.max(256, WECHAT_TEXT_MAX_BYTES - prefixBytes);
  return fitUtf8(parts, max, { overflowLine: m.alertUrl ? `完整告警：${m.alertUrl}` : undefined }).text;
}

export interface WechatBotChannelOptions {
  prisma: PrismaClient;
  /** the bot's wechaty while logged in, else null */
  bot: () => Wechaty | null;
}

/**
 * Channel `wechat_bot`: posts into the room whose topic is the destination's name.
 * - not logged in → retried after {@link NOT_LOGGED_IN_RETRY_MS} without counting an attempt;
 * - no room with that topic (the account is not in it, the topic was changed) or the puppet
 *   refused → transient failure (retried with backoff, dead-lettered after the attempt limit);
 * - unknown destination → permanent.
 * Success: `providerMessageId` is the posted message's id when the puppet returns one.
 */
export class WechatBotChannel implements Channel {
  readonly name = WECHAT_BOT_CHANNEL;
  /** group message: its links ask for the recipient's mobile tail before acting */
  readonly sharedAudience = true;
  readonly atMostOnce = true;
  constructor(private readonly o: WechatBotChannelOptions) {}

  async send(destination: Destination, message: NeutralMessage): Promise<SendResult> {
    const dest = destination.id === null ? null : await this.o.prisma.chatDestination.findUnique({ where: { id: destination.id }, select: { name: true } });
    if (!dest) return { ok: false, permanent: true, error: `wechat_bot: no destination ${destination.id ?? '(none)'} for code "${destination.code}"` };
    const bot = this.o.bot();
    if (!bot || !bot.isLoggedIn) return { ok: false, error: 'wechat_bot: the bot is not logged in', retryAfterMs: NOT_LOGGED_IN_RETRY_MS };

    const topic = dest.name;
    let room: impls.RoomInterface | undefined;
    try {
      room = await bot.Room.find({ topic });
    } catch (e) {
      return { ok: false, error: `wechat_bot: room lookup failed: ${(e as Error).message}` };
    }
    if (!room) return { ok: false, error: `wechat_bot: the bot is in no room with topic "${topic}" (not a member, or the topic changed: ChatDestination.name must equal it)` };

    // recipients bound to a WeChat contact that is in this room are @-mentioned
    const personIds = message.recipients.map((r) => r.personId);
    const bound = personIds.length
      ? await this.o.prisma.chatIdentity.findMany({ where: { platform: 'wechat', personId: { in: personIds } }, select: { personId: true, externalId: true }, orderBy: { id: 'asc' } })
      : [];
    let members: Contact[];
    try {
      members = await room.memberAll();
    } catch (e) {
      return { ok: false, error: `wechat_bot: member list of "${topic}" failed: ${(e as Error).message}` };
    }
    const byId = new Map(members.map((c) => [c.id, c]));
    const mentions: Array<{ personId: number; contact: Contact }> = [];
    for (const r of message.recipients) {
      const contact = bound.filter((b) => b.personId === r.personId).map((b) => byId.get(b.externalId)).find((c) => c !== undefined);
      if (contact && !mentions.some((x) => x.contact.id === contact.id)) mentions.push({ personId: r.personId, contact });
    }
    let botName = '';
    try {
      botName = (await room.alias(bot.currentUser)) || bot.currentUser.name();
    } catch {
      botName = '';
    }
    const prefix = (await Promise.all(mentions.map(async ({ contact }) => `@${(await room!.alias(contact).catch(() => undefined)) || contact.name()}`))).join('\u2005');
    const text = formatWechatAlertText(message, botName, prefix ? utf8Length(prefix) + 1 : 0);
    const sent = {
      roomTopic: topic,
      roomId: room.id,
      text: prefix ? `${prefix} ${text}` : text,
      mentions: mentions.map((m) => ({ personId: m.personId, contactId: m.contact.id })),
    };
    try {
      const said = await room.say(text, ...mentions.map((m) => m.contact));
      return { ok: true, sent, ...(said && typeof said === 'object' && 'id' in said && said.id ? { providerMessageId: String(said.id).slice(0, 128) } : {}) };
    } catch (e) {
      return { ok: false, error: `wechat_bot: posting into "${topic}" failed: ${(e as Error).message}`, sent };
    }
  }
}
