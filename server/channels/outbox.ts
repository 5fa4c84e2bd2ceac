/**
 * The local outbox "channel": used when no robot reaches a recipient (or none is configured), so
 * a fresh install shows what it would have sent. Delivery = rendering the final text; the
 * Notification row (state sent, payload.delivered) is what the outbox viewer at /outbox shows.
 */
import type { NeutralMessage } from '../domain/message';
import { OUTBOX_CHANNEL } from '../domain/routing';
import type { Channel, Destination, SendResult } from './types';

/** Plain text of a neutral message, one line each: title, details, recipients' links. */
export function renderPlainText(m: NeutralMessage): string {
  const out = [m.title, ...m.lines];
  if (m.recipients.length === 0) out.push('收件人：无（请检查预警策略中的角色是否有人员）');
  else out.push(`收件人：${m.recipients.map((r) => r.name).join('、')}`);
  for (const l of m.links ?? []) out.push(`${l.name} 确认/处置：${l.url}`);
  return out.join('\n');
}

export class OutboxChannel implements Channel {
  readonly name = OUTBOX_CHANNEL;
  async send(_d: Destination, m: NeutralMessage): Promise<SendResult> {
    return { ok: true, sent: { text: renderPlainText(m) } };
  }
}
