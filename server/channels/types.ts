/**
 * One interface for every outbound channel (design.md "Channels"):
 * `send(destination, message) -> { providerMessageId?, retryAfterMs?, permanent? }`.
 *
 * A channel never throws for a platform answer: it classifies it. Only programming errors throw.
 * Success is decided by the platform's `errcode`, never by the HTTP status (protocols.md §1.1).
 */
import type { NeutralMessage } from '../domain/message';

export interface Destination {
  /** ChatDestination.id, or null for the local outbox */
  id: number | null;
  /** ChatDestination.code (the key of its robot in config ROBOTS) */
  code: string;
  channel: string;
}

export type SendResult =
  | { ok: true; providerMessageId?: string; /** what was actually sent, for the audit trail */ sent: unknown }
  | {
      ok: false;
      /** platform code or transport error, e.g. "errcode 45009: api freq out of limit" */
      error: string;
      /** the platform throttled us: try again after this long, without counting an attempt */
      retryAfterMs?: number;
      /** retrying cannot help (bad webhook, signature, keyword): dead-letter at once */
      permanent?: boolean;
      /**
       * this channel cannot reach these recipients now (e.g. no WeChat subscribe consent left), but
       * their other route can: the delivery writes the message anew for them — to a live group robot
       * they are in, else the outbox — and closes this row (server/jobs/delivery.ts fallBack)
       */
      fallback?: boolean;
      sent?: unknown;
    };

export interface Channel {
  /** channel name as stored in Notification.channel */
  readonly name: string;
  /**
   * true: a send interrupted by a dying worker is never repeated (server/jobs/delivery.ts records
   * the start of the platform call on the row; the sweep dead-letters such a row instead of
   * resending it). For channels where a duplicate is worse than a gap the engine's repeat fills,
   * e.g. the wechaty bot posting into a group from a personal account.
   */
  readonly atMostOnce?: boolean;
  /**
   * true: the message is read by a whole group (robots, the wechaty bot), so the per-recipient links
   * it carries are visible to people they are not for. Those links ask for the recipient's mobile
   * number's last four digits before acting (server/routes/link.ts).
   */
  readonly sharedAudience?: boolean;
  send(destination: Destination, message: NeutralMessage): Promise<SendResult>;
}
