/**
 * Which destinations one firing goes to (pure).
 *
 * Every configured group robot whose group holds some of the recipients gets one message that
 * @mentions those members. Recipients no configured robot reaches go to the local outbox viewer,
 * so nobody is silently left out; a firing whose roles resolved to nobody still produces an outbox
 * entry that says so.
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

/** @param active destination codes that have a robot configured */
export function routeRecipients(recipientIds: number[], destinations: RoutableDestination[], active: Set<string>): Route[] {
  const routes: Route[] = [];
  const reached = new Set<number>();
  for (const d of destinations) {
    if (!active.has(d.code)) continue;
    const members = new Set(d.memberIds);
    const ids = recipientIds.filter((r) => members.has(r));
    if (ids.length === 0) continue;
    ids.forEach((r) => reached.add(r));
    routes.push({ channel: d.channel, destinationId: d.id, recipientIds: ids });
  }
  const rest = recipientIds.filter((r) => !reached.has(r));
  if (rest.length > 0 || routes.length === 0) routes.push({ channel: OUTBOX_CHANNEL, destinationId: null, recipientIds: rest });
  return routes;
}
