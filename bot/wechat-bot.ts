/**
 * The wechaty bot (issue #4, item 3; protocols.md §5), run by the `bot` role: one process holds the
 * WeChat (or WeCom, via WorkPro) login through a puppet chosen by configuration (WECHATY_PUPPET,
 * e.g. `wechaty-puppet-service` with a provider token; `wechaty-puppet-mock` in tests).
 *
 * Outbound: the process's worker takes `wechat_bot` notifications from their own bull queue
 * (RelayDeps.queues) and posts them with WechatBotChannel (server/channels/wechat-bot.ts) — only
 * while logged in: on `logout` the worker is paused locally (a job already taken fails with "not
 * logged in" and is retried later, no attempt counted), on `login` it resumes. A notification is
 * posted at most once: the row is claimed `queued → sending` (a second job for it does nothing), the
 * start of the post is written on the row before `room.say`, and a row whose worker died during the
 * post is dead-lettered by the sweep rather than posted again (server/jobs/delivery.ts). A gap is
 * covered by the alert's own repeat/escalation; a duplicate in a group is not undone.
 *
 * Inbound (messages are handled one at a time, in arrival order):
 * - ignored: the bot's own messages, messages seen before (message id, Redis, 24 h — a puppet may
 *   deliver history again after a reconnect), messages older than {@link MAX_MESSAGE_AGE_S}, rooms
 *   that are no `wechat_group` destination (the account may be in private groups), and room
 *   messages that neither @mention the bot (`await msg.mentionSelf()`) nor quote it;
 * - the sender is mapped to a Person (services/identity.ts, platform `wechat`, key = contact id).
 *   An unknown contact is never acted for: `绑定 123456` binds it, anything else is answered with
 *   how to bind;
 * - commands go to the one chat grammar (services/chat-commands.ts) with channel `wechat`; the room
 *   the message came from limits them to that room's enterprise; quoted text is passed as the quote;
 * - a photo (Image) is remembered for {@link PHOTO_TTL_MS} per room and sender; `隐患 <描述>` from
 *   the same sender in the same room (or a photo whose caption is that text) files a hazard report
 *   with those photos: stored like uploads (StoredFile + thumbnail, EXIF position kept as the
 *   hazard's location), reported as that person, without a risk unit — the safety staff confirm it
 *   and classify it (source 日常排查, type 其他 until then);
 * - replies go back where the message came from, @mentioning the sender in a room.
 *
 * Contact ids must be stable across logins for bindings to last: true for the iPad/WorkPro
 * puppets behind wechaty-puppet-service, not for the web protocol (wechat4u), whose ids change.
 */
import { EventEmitter } from 'node:events';
import { WechatyBuilder } from 'wechaty';
import type { impls } from 'wechaty';
import type Bull from 'bull';
import type { Redis } from 'ioredis';
import type { PrismaClient } from '../server/db';
import type { Clock } from '../server/clock';
import type { Logger } from '../server/logger';
import type { WechatyConfig } from '../server/config';
import { AppError } from '../server/errors';
import { can } from '../server/domain/permissions';
import { cleanChatText, parseChatCommand, splitInlineQuote } from '../server/domain/chat-commands';
import { WECHAT_BOT_CHANNEL, WECHAT_GROUP_DESTINATION } from '../server/domain/routing';
import { WechatBotChannel } from '../server/channels/wechat-bot';
import { startWorker, type DeliveryDeps, type DeliveryJob } from '../server/jobs/delivery';
import { handleChatText } from '../server/services/chat-commands';
import { bindingTriesGuard, redeemBindingCode, resolveChatIdentity, type ResolvedPerson } from '../server/services/identity';
import { loadActor } from '../server/services/alert-actions';
import { reportHazard } from '../server/services/hazards';
import { fileTooLarge, storeUploads, type FileDeps } from '../server/services/files';
import { PendingPhotos, PHOTO_TTL_MS } from './pending-photos';
import { parseHazardText, type HazardText } from './hazard-text';

type Wechaty = impls.WechatyInterface;
type Message = impls.MessageInterface;
type Room = impls.RoomInterface;
type Contact = impls.ContactInterface;

/** Messages older than this (s, by the puppet's timestamp) are not acted on: history replayed after a reconnect. */
export const MAX_MESSAGE_AGE_S = 10 * 60;
/** How long a handled message id is remembered (ms). */
export const SEEN_TTL_MS = 24 * 3600_000;
/** A failed `bot.start()` (puppet service unreachable) is tried again after this long (ms). */
export const START_RETRY_MS = 30_000;

/** What unknown contacts are told (the code is on every alert link page). */
export const BIND_HINT = '您的微信尚未绑定，不能操作。请在预警链接页面获取绑定码，然后发送：绑定 123456';
const HAZARD_BIND_HINT = '您的微信尚未绑定，不能上报隐患。请在预警链接页面获取绑定码，然后发送：绑定 123456';
const PHOTO_FIRST = `请先发送现场照片，再在 ${PHOTO_TTL_MS / 60_000} 分钟内发送：隐患 描述（如：隐患 法兰渗漏）`;
const TEXT_ONLY = '请用文字发送指令，如：确认 A123（发送“帮助”查看全部指令）。';

export interface WechatBotDeps {
  prisma: PrismaClient;
  redis: Redis;
  /** config REDIS_PREFIX */
  redisPrefix: string;
  clock: Clock;
  log: Logger;
  config: WechatyConfig;
  /** photo storage and limits (the same as POST /files) */
  files: FileDeps;
  /** the queue of `wechat_bot` notifications (consumed only here) */
  queue: Bull.Queue<DeliveryJob>;
  /** this process's delivery dependencies; the bot's channel replaces the channel map */
  delivery: DeliveryDeps;
  /** a puppet instance instead of config.puppet (tests: PuppetMock) */
  puppet?: unknown;
}

export type WechatHandleResult =
  | { status: 'ignored'; reason: 'self' | 'duplicate' | 'stale' | 'not_logged_in' | 'unknown_room' | 'not_addressed' | 'unsupported' }
  | { status: 'photo_kept' }
  | {
      status: 'replied';
      /** what the message was taken for */
      kind: 'command' | 'bind' | 'not_bound' | 'hazard' | 'hint';
      /** the sender as mapped; null = unknown, nothing was done for them */
      person: ResolvedPerson | null;
      reply: string;
      /** something was stored (an alert acted on, a binding, a hazard) */
      applied: boolean;
      alertId?: number;
      hazardId?: number;
      hazardCode?: string;
    };

/** Emitted as `handled` on {@link WechatBot.events} after each message (tests wait on it). */
export type WechatHandledEvent = WechatHandleResult & { messageId: string; talkerId: string; roomId: string | null; error?: string };

export class WechatBot {
  /** `handled` ({@link WechatHandledEvent}), `login`, `logout` */
  readonly events = new EventEmitter();
  readonly channel: WechatBotChannel;
  private readonly delivery: DeliveryDeps;
  private readonly photos: PendingPhotos<Message>;
  private wechaty: Wechaty | null = null;
  private loggedIn = false;
  private workerStarted = false;
  private stopped = false;
  private startTimer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  /** the local pause of the worker after a logout, while it is being applied */
  private pausing: Promise<void> = Promise.resolve();

  constructor(private readonly d: WechatBotDeps) {
    this.channel = new WechatBotChannel({ prisma: d.prisma, bot: () => (this.loggedIn ? this.wechaty : null) });
    this.delivery = { ...d.delivery, log: d.log.child({ role: 'bot-worker' }), channels: new Map([[WECHAT_BOT_CHANNEL, this.channel]]) };
    this.photos = new PendingPhotos<Message>(() => d.clock.now().getTime());
    this.events.setMaxListeners(100);
  }

  /** The wechaty instance (after start()). */
  get bot(): Wechaty | null {
    return this.wechaty;
  }

  get isLoggedIn(): boolean {
    return this.loggedIn;
  }

  /**
   * Builds the wechaty with the configured puppet and starts it. Resolves once the puppet started
   * (logging in may take longer: a QR code to scan is logged). A failed start (service unreachable,
   * bad token) is logged and tried again every {@link START_RETRY_MS}.
   */
  async start(): Promise<void> {
    const { config, log } = this.d;
    const options = this.d.puppet
      ? { puppet: this.d.puppet, ...(config.sessionName ? { name: config.sessionName } : {}) }
      : { puppet: config.puppet, puppetOptions: config.puppetOptions, ...(config.sessionName ? { name: config.sessionName } : {}) };
    const bot = WechatyBuilder.build(options as Parameters<typeof WechatyBuilder.build>[0]);
    this.wechaty = bot;
    bot.on('scan', (qrcode, status) => log.warn({ status, qrcode }, 'wechaty: scan this QR code with the bot account to log in'));
    bot.on('login', (user) => this.onLogin(user));
    bot.on('logout', (user, reason) => this.onLogout(user, reason));
    bot.on('error', (err) => log.error({ err: (err as Error)?.message ?? String(err) }, 'wechaty error'));
    bot.on('message', (msg) => this.enqueue(msg));
    await this.tryStart();
  }

  private async tryStart(): Promise<void> {
    if (this.stopped || !this.wechaty) return;
    try {
      await this.wechaty.start();
      this.d.log.info({ puppet: this.d.puppet ? 'instance' : this.d.config.puppet }, 'wechaty started');
    } catch (err) {
      this.d.log.error({ err: (err as Error).message, retryInMs: START_RETRY_MS }, 'wechaty start failed; will retry');
      this.startTimer = setTimeout(() => void this.tryStart(), START_RETRY_MS);
    }
  }

  private onLogin(user: Contact): void {
    this.loggedIn = true;
    this.d.log.info({ contactId: user.id, name: user.name() }, 'wechaty: logged in; posting alerts');
    if (!this.workerStarted) {
      this.workerStarted = true;
      // one at a time: posts into a group keep their order, and a personal account stays far from
      // WeChat's risk control (the per-group 20/min throttle applies on top)
      startWorker(this.d.queue, this.delivery, 1);
      this.events.emit('login', user.id);
      return;
    }
    void this.pausing
      .then(() => this.d.queue.resume(true))
      .catch((err) => this.d.log.warn({ err: (err as Error).message }, 'wechat queue resume failed'))
      .then(() => this.events.emit('login', user.id));
  }

  private onLogout(user: Contact, reason?: string): void {
    this.loggedIn = false;
    // wechaty.stop() logs out too: the queue is closed by then, and pausing it would reconnect it
    if (this.stopped) return;
    this.d.log.warn({ contactId: user.id, reason }, 'wechaty: logged out; alerts wait in the queue until the next login');
    // local pause: this process stops taking jobs (the blocking fetch is aborted); a job already
    // taken fails "not logged in" and is retried later without counting an attempt
    this.pausing = this.workerStarted
      ? this.d.queue.pause(true, true).catch((err) => this.d.log.warn({ err: (err as Error).message }, 'wechat queue pause failed'))
      : Promise.resolve();
    void this.pausing.then(() => this.events.emit('logout', user.id));
  }

  /** Resolves when every message received so far has been handled. */
  idle(): Promise<void> {
    return this.chain;
  }

  /**
   * Stops taking jobs and closes the queue (a post in progress finishes first), finishes the
   * messages being handled, stops wechaty.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.startTimer) clearTimeout(this.startTimer);
    if (this.workerStarted) {
      await this.d.queue.close().catch((err) => this.d.log.warn({ err: (err as Error).message }, 'wechat queue close'));
    }
    await this.chain;
    this.loggedIn = false;
    await this.wechaty?.stop().catch((err) => this.d.log.warn({ err: (err as Error).message }, 'wechaty stop'));
  }

  private enqueue(msg: Message): void {
    const base = { messageId: msg.id, talkerId: msg.talker()?.id ?? '', roomId: msg.room()?.id ?? null };
    this.chain = this.chain
      .then(() => this.handle(msg))
      .then(
        (r) => void this.events.emit('handled', { ...base, ...r }),
        (err) => {
          this.d.log.error({ err: (err as Error).message, messageId: msg.id }, 'wechat message handling failed');
          this.events.emit('handled', { ...base, status: 'ignored', reason: 'unsupported', error: (err as Error).message });
        },
      );
  }

  /**
   * One incoming message (rules in the module comment).
   * @throws only on infrastructure failure (database, Redis); the message id is then released
   */
  async handle(msg: Message): Promise<WechatHandleResult> {
    const bot = this.wechaty;
    // self() needs the current user: check the login first
    if (!bot || !this.loggedIn) return { status: 'ignored', reason: 'not_logged_in' };
    if (msg.self()) return { status: 'ignored', reason: 'self' };
    if (msg.age() > MAX_MESSAGE_AGE_S) return { status: 'ignored', reason: 'stale' };
    const seenKey = `${this.d.redisPrefix}:wechat:msg:${msg.id}`;
    if ((await this.d.redis.set(seenKey, '1', 'PX', SEEN_TTL_MS, 'NX')) !== 'OK') return { status: 'ignored', reason: 'duplicate' };
    try {
      return await this.process(bot, msg);
    } catch (e) {
      await this.d.redis.del(seenKey).catch(() => undefined);
      throw e;
    }
  }

  private async process(bot: Wechaty, msg: Message): Promise<WechatHandleResult> {
    const room = msg.room();
    const talker = msg.talker();
    let enterpriseId: number | undefined;
    if (room) {
      const dest = await this.destinationOf(room);
      if (!dest) return { status: 'ignored', reason: 'unknown_room' };
      enterpriseId = dest.enterpriseId ?? undefined;
    }
    const botNames = await this.botNames(bot, room);
    const photoKey = PendingPhotos.key(room?.id ?? '', talker.id);
    const type = msg.type();
    const Type = bot.Message.Type;

    if (type === Type.Image) {
      // a caption, when a puppet gives one (plain text, not the XML some puppets put in text())
      const caption = parseHazardText(msg.text(), botNames);
      this.photos.add(photoKey, msg);
      if (!caption) return { status: 'photo_kept' };
      return this.hazard(room, talker, photoKey, caption, enterpriseId);
    }
    if (type !== Type.Text) {
      // voice, files, stickers…: answered only in a direct chat
      if (room) return { status: 'ignored', reason: 'unsupported' };
      return this.replyTo(room, talker, { status: 'replied', kind: 'hint', person: null, reply: TEXT_ONLY, applied: false });
    }

    const raw = msg.text();
    const mentioned = room ? await msg.mentionSelf() : false;
    const quotesBot = this.quotesBot(raw, botNames);
    const addressed = !room || mentioned || quotesBot;
    // mentionText() removes the @mentions the puppet reported (room alias or name)
    const text = room && mentioned ? await msg.mentionText() : raw;

    const hazard = parseHazardText(text, botNames);
    if (hazard && (addressed || this.photos.has(photoKey))) return this.hazard(room, talker, photoKey, hazard, enterpriseId);
    if (!addressed) return { status: 'ignored', reason: 'not_addressed' };

    const person = await resolveChatIdentity(this.d.prisma, 'wechat', talker.id);
    const { body, quote } = splitInlineQuote(cleanChatText(text));
    if (!person) {
      // an unknown contact: 绑定 binds, nothing else is done for them
      const parsed = parseChatCommand(body, { botNames });
      if (!(parsed.ok && parsed.command.kind === 'bind')) return this.replyTo(room, talker, { status: 'replied', kind: 'not_bound', person: null, reply: BIND_HINT, applied: false });
    }
    const outcome = await handleChatText(
      { prisma: this.d.prisma, clock: this.d.clock, botNames, bind: (code) => this.bind(code, talker, person, enterpriseId) },
      { enterpriseId, personId: person?.personId ?? null, channel: 'wechat', text: body, ...(quote ? { quoted: quote } : {}) },
    );
    this.d.log.info({ messageId: msg.id, room: room?.id ?? null, personId: person?.personId ?? null, applied: outcome.applied, alertId: outcome.alertId }, 'wechat message handled');
    const kind = person ? 'command' : 'bind';
    return this.replyTo(room, talker, { status: 'replied', kind, person, reply: outcome.reply, applied: outcome.applied, ...(outcome.alertId !== undefined ? { alertId: outcome.alertId } : {}) });
  }

  /** The `wechat_group` destination whose name is the room's topic (enterpriseId null when two enterprises share the topic). */
  private async destinationOf(room: Room): Promise<{ enterpriseId: number | null } | null> {
    const topic = await room.topic();
    const rows = await this.d.prisma.chatDestination.findMany({ where: { channel: WECHAT_GROUP_DESTINATION, name: topic }, select: { enterpriseId: true }, take: 2 });
    if (rows.length === 0) return null;
    if (rows.length > 1 && rows[0].enterpriseId !== rows[1].enterpriseId) {
      this.d.log.warn({ topic }, 'wechat: two enterprises have a wechat_group with this topic; commands act in the sender’s own enterprise');
      return { enterpriseId: null };
    }
    return { enterpriseId: rows[0].enterpriseId };
  }

  /** The names people @ the bot by: its WeChat name and, in a room, its alias there. */
  private async botNames(bot: Wechaty, room: Room | undefined): Promise<string[]> {
    const names = [bot.currentUser.name()];
    if (room) {
      const alias = await room.alias(bot.currentUser).catch(() => undefined);
      if (alias) names.push(alias);
    }
    return [...new Set(names.filter(Boolean))];
  }

  /** A quote reply to one of the bot's messages: `「<bot name>：…」\n- - - -\n…` (the WeChat quote format). */
  private quotesBot(text: string, botNames: string[]): boolean {
    const m = /^[「『“"]([^：:\n]{1,64})[：:]/.exec(cleanChatText(text).trim());
    return !!m && botNames.includes(m[1].trim());
  }

  /** `绑定 123456` from this contact (see services/identity.ts). */
  private async bind(code: string, talker: Contact, current: ResolvedPerson | null, enterpriseId: number | undefined): Promise<{ reply: string; applied: boolean }> {
    if (current) return { reply: `您的微信已绑定到 ${current.name}，无需再绑定，可直接发送指令（如：确认 A123）。`, applied: false };
    const now = this.d.clock.now();
    if (enterpriseId !== undefined) {
      // a code of another enterprise's person is as good as unknown in this group
      const row = await this.d.prisma.bindingCode.findFirst({ where: { code: code.trim(), usedAt: null, expiresAt: { gt: now } }, select: { person: { select: { enterpriseId: true } } } });
      if (row && row.person.enterpriseId !== enterpriseId) return { reply: '绑定码无效或已过期，请在预警链接页面获取新的绑定码。', applied: false };
    }
    try {
      const p = await redeemBindingCode(this.d.prisma, this.d.clock, { platform: 'wechat', externalId: talker.id, code, displayName: talker.name() || undefined }, bindingTriesGuard(this.d.redis, this.d.redisPrefix));
      return { reply: `绑定成功：您的微信已绑定到 ${p.name}。现在可以在群里 @我 回复指令（如：确认 A123），或发送照片后发送“隐患 描述”上报隐患。`, applied: true };
    } catch (e) {
      if (e instanceof AppError) return { reply: e.messageZh, applied: false };
      throw e;
    }
  }

  /** Photos + `隐患 <描述>` → a hazard report as the sender (rules in the module comment). */
  private async hazard(room: Room | undefined, talker: Contact, photoKey: string, text: HazardText, enterpriseId: number | undefined): Promise<WechatHandleResult> {
    const { prisma, clock, log } = this.d;
    const person = await resolveChatIdentity(prisma, 'wechat', talker.id);
    if (!person) return this.replyTo(room, talker, { status: 'replied', kind: 'not_bound', person: null, reply: HAZARD_BIND_HINT, applied: false });
    const reply = (r: string, applied = false, extra: { hazardId?: number; hazardCode?: string } = {}) =>
      this.replyTo(room, talker, { status: 'replied', kind: 'hazard', person, reply: r, applied, ...extra });
    if (enterpriseId !== undefined && person.enterpriseId !== enterpriseId) return reply('您的账号不属于本群对应的企业，不能在此上报隐患。');
    const actor = await loadActor(prisma, person.personId).catch((e) => {
      if (e instanceof AppError) return null;
      throw e;
    });
    if (!actor) return reply('您的账号不存在或已停用，不能上报隐患，请联系管理员。');
    if (!can(actor.roles, 'hazards.report') || !can(actor.roles, 'files.upload')) return reply('您的角色不能上报隐患。');
    const photos = this.photos.take(photoKey);
    if (photos.length === 0) return reply(PHOTO_FIRST);

    try {
      const inputs = [];
      for (const p of photos) {
        const box = await p.toFileBox();
        // a size the puppet announces is checked before downloading (-1 / 0: unknown, checked after)
        if (box.size > this.d.files.maxBytes) throw fileTooLarge(this.d.files.maxBytes, box.name || undefined);
        inputs.push({ bytes: await box.toBuffer(), originalName: box.name || undefined });
      }
      const stored = await storeUploads(prisma, { ...this.d.files, clock, log }, { enterpriseId: person.enterpriseId, personId: person.personId }, inputs);
      const gps = stored.find((f) => f.gps)?.gps ?? null;
      const r = await reportHazard(prisma, clock, actor, {
        name: text.name,
        ...(text.description ? { description: text.description } : {}),
        photos: stored.map((f) => f.id),
        // found in daily work; the safety staff set the real source, type and level when confirming
        dangerSrc: 1,
        hazardDangerType: 8,
        ...(gps ? { latitude: gps.latitude, longitude: gps.longitude } : {}),
      });
      log.info({ hazardId: r.hazardId, code: r.code, personId: person.personId, photos: stored.length }, 'wechat: hazard reported');
      return reply(`已上报隐患 ${r.code}：${text.name}（照片 ${stored.length} 张）。等待安全管理人员确认并指定整改责任人。`, true, { hazardId: r.hazardId, hazardCode: r.code });
    } catch (e) {
      if (e instanceof AppError) return reply(`隐患未上报：${e.messageZh}`);
      log.error({ err: (e as Error).message }, 'wechat: hazard report failed');
      return reply('隐患未上报：照片读取或保存失败，请稍后重新发送照片和“隐患 描述”。');
    }
  }

  /** Sends the reply back: into the room @mentioning the sender, or to the sender directly. */
  private async replyTo(room: Room | undefined, talker: Contact, r: Extract<WechatHandleResult, { status: 'replied' }>): Promise<WechatHandleResult> {
    try {
      if (room) await room.say(r.reply, talker);
      else await talker.say(r.reply);
    } catch (err) {
      this.d.log.warn({ err: (err as Error).message, room: room?.id ?? null, talker: talker.id }, 'wechat reply not delivered');
    }
    return r;
  }
}
