/**
 * Photos waiting for their `隐患 <描述>` (issue #4, item 3): someone sends a photo into a group (or to
 * the bot), then, within {@link PHOTO_TTL_MS}, the text that makes it a hazard report. The bot keeps
 * a reference to the photo message (not its bytes — only a report downloads it), per conversation
 * and sender, and forgets it after the TTL or once a report used it.
 *
 * Bounded: at most {@link MAX_PHOTOS_PER_SENDER} photos per sender (the latest ones; a person often
 * sends two or three shots of the same leak) and {@link MAX_SENDERS} senders (the oldest is dropped
 * first), so a busy group full of pictures costs a few hundred small entries at most.
 */

/** How long a photo waits for its `隐患 …` text, ms. */
export const PHOTO_TTL_MS = 2 * 60_000;
/** Photos kept per sender and conversation. */
export const MAX_PHOTOS_PER_SENDER = 3;
/** Conversations×senders remembered at once. */
export const MAX_SENDERS = 500;

interface Entry<T> {
  photo: T;
  /** ms, the bot's clock when the photo arrived */
  at: number;
}

export class PendingPhotos<T> {
  /** insertion order = least recently updated first */
  private readonly bySender = new Map<string, Array<Entry<T>>>();

  constructor(private readonly now: () => number, private readonly ttlMs = PHOTO_TTL_MS) {}

  /** The key of a sender in a conversation (a room id, or '' for a direct chat). */
  static key(conversationId: string, senderId: string): string {
    return `${conversationId}\u0000${senderId}`;
  }

  /** Remembers a photo of `key`; older photos of the key beyond the limit and expired ones are dropped. */
  add(key: string, photo: T): void {
    const now = this.now();
    const list = this.fresh(key, now);
    list.push({ photo, at: now });
    this.bySender.delete(key);
    this.bySender.set(key, list.slice(-MAX_PHOTOS_PER_SENDER));
    while (this.bySender.size > MAX_SENDERS) {
      const oldest = this.bySender.keys().next().value;
      if (oldest === undefined) break;
      this.bySender.delete(oldest);
    }
  }

  /** True when `key` has a photo younger than the TTL. */
  has(key: string): boolean {
    return this.fresh(key, this.now()).length > 0;
  }

  /** Removes and returns the photos of `key` younger than the TTL, oldest first. */
  take(key: string): T[] {
    const list = this.fresh(key, this.now());
    this.bySender.delete(key);
    return list.map((e) => e.photo);
  }

  /** Number of senders remembered (expired ones included until touched). */
  get size(): number {
    return this.bySender.size;
  }

  private fresh(key: string, now: number): Array<Entry<T>> {
    const list = (this.bySender.get(key) ?? []).filter((e) => now - e.at <= this.ttlMs);
    if (list.length === 0) this.bySender.delete(key);
    return list;
  }
}
