/**
 * Which destinations one firing goes to (pure).
 *
 * Every configured group robot whose group holds some of the recipients gets one message that
 * @mentions those members. A per-person channel (the WeCom self-built app, when configured) sends
 * each recipient it reaches a message of their own — one route per person, because each card
 * carries that person's signed 处置 link and its own response_code. Recipients neither a robot nor
 * the personal channel reaches go to the local outbox viewer, so nobody is silently left out; a
 * firing whose roles resolved to nobody still produces an outbox entry that says so.
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
 * @param active destination codes that have a robot configured (or whose channel is served, e.g. a
 *   `wechat_group` while the wechaty bot is configured — the caller decides)
 * @param personal the per-person channel, when one is configured: each recipient it reaches gets a
 *   route of their own (after the group routes, in recipient order) and needs no outbox entry;
 *   group robots still @mention them in their groups
 */
export function routeRecipients(recipientIds: number[], destinations: RoutableDestination[], active: ReadonlySet<string>, personal?: PersonalChannel): Route[] {
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
  if (personal) {
    for (const r of new Set(recipientIds)) {
      if (!personal.reaches(r)) continue;
      reached.add(r);
      routes.push({ channel: personal.channel, destinationId: null, recipientIds: [r] });
    }
  }
  const rest = recipientIds.filter((r) => !reached.has(r));
  if (rest.length > 0 || routes.length === 0) routes.push({ channel: OUTBOX_CHANNEL, destinationId: null, recipientIds: rest });
  return routes;
}
