/**
 * Which destinations one firing goes to (pure).
 *
 * Every configured group robot whose group holds some of the recipients gets one message that
 * @mentions those members. Per-person channels (the WeCom self-built app; WeChat subscribe messages
 * for people with a consent left) send each recipient they reach a message of their own — one
 * route per person, because each card carries that person's signed 处置 link and its own
 * response_code. With several, they are listed in a fixed order of preference and a recipient gets
 * the FIRST that reaches them (never two personal messages for one firing). Recipients neither a
 * robot nor a personal channel reaches go to the local outbox viewer, so nobody is silently left
 * out; a firing whose roles resolved to nobody still produces an outbox entry that says so.
 */
export interface RoutableDestination {
  id: number;
  code: string;
  channel: string;
  memberIds: number[];
}

export interface Route {
  channel: string;
  destinationId: number | null;
  recipientIds: number[];
}

export const OUTBOX_CHANNEL = 'outbox';

/** ChatDestination.channel of a WeChat group the wechaty bot posts into (the destination's name is the room topic). */
export const WECHAT_GROUP_DESTINATION = 'wechat_group';
/** Notification.channel of what the wechaty bot delivers (its own queue, consumed by the `bot` role). */
export const WECHAT_BOT_CHANNEL = 'wechat_bot';

/**
 * The delivery channel of a destination: its own channel (wecom_robot, dingtalk_robot), except a
 * WeChat group, which is served by the wechaty bot.
 */
export function deliveryChannelOf(destinationChannel: string): string {
  return destinationChannel === WECHAT_GROUP_DESTINATION ? WECHAT_BOT_CHANNEL : destinationChannel;
}

/** A channel that reaches people one by one (e.g. `wecom_app`: a person with a WeCom userid). */
export interface PersonalChannel {
  channel: string;
  reaches(personId: number): boolean;
}

/**
 * Whether a destination gets messages: its channel is served whatever the code (`wechat_group`
 * while the wechaty bot is configured), or it is a group robot whose code has a robot configured.
 */
export function isLiveDestination(d: { code: string; channel: string }, activeRobots: ReadonlySet<string>, activeChannels?: ReadonlySet<string>): boolean {
  return !!activeChannels?.has(d.channel) || (d.channel !== WECHAT_GROUP_DESTINATION && activeRobots.has(d.code));
}

/**
 * @param active destination codes that have a robot configured (or whose channel is served, e.g. a
 *   `wechat_group` while the wechaty bot is configured — the caller decides)
 * @param personal the per-person channel(s) configured, in order of preference: each recipient one
 *   of them reaches gets a route of their own on the first that does (after the group routes, in
 *   recipient order) and needs no outbox entry; group robots still @mention them in their groups
 */
export function routeRecipients(recipientIds: number[], destinations: RoutableDestination[], active: ReadonlySet<string>, personal?: PersonalChannel | readonly PersonalChannel[]): Route[] {
  const routes: Route[] = [];
  const reached = new Set<number>();
  for (const d of destinations) {
    if (!active.has(d.code)) continue;
    const members = new Set(d.memberIds);
    const ids = recipientIds.filter((r) => members.has(r));
    if (ids.length === 0) continue;
    ids.forEach((r) => reached.add(r));
    routes.push({ channel: deliveryChannelOf(d.channel), destinationId: d.id, recipientIds: ids });
  }
  const personals: readonly PersonalChannel[] = personal === undefined ? [] : 'channel' in personal ? [personal] : personal;
  if (personals.length) {
    for (const r of new Set(recipientIds)) {
      const p = personals.find((c) => c.reaches(r));
      if (!p) continue;
      reached.add(r);
      routes.push({ channel: p.channel, destinationId: null, recipientIds: [r] });
    }
  }
  const rest = recipientIds.filter((r) => !reached.has(r));
  if (rest.length > 0 || routes.length === 0) routes.push({ channel: OUTBOX_CHANNEL, destinationId: null, recipientIds: rest });
  return routes;
}
