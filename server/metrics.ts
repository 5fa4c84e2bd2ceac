/**
 * Prometheus metrics (prom-client), one registry per process (not the global one, so tests can
 * build several apps). Exposed at /metrics.
 *
 * - dualprev_tick_duration_seconds      histogram of scheduler ticks
 * - dualprev_due_backlog                gauge, by kind: rows due now and not yet processed
 *                                       (instances, hazards, alerts, notifications) — counted at scrape
 * - dualprev_notifications_total        counter by channel and outcome (sent, retry, throttled, dead, cancelled)
 * - dualprev_delivery_latency_seconds   histogram by channel: outbox row written → platform accepted
 */
import client from 'prom-client';
import type { PrismaClient } from './db';
import type { Clock } from './clock';

export interface Metrics {
  registry: client.Registry;
  tickDuration: client.Histogram<string>;
  notifications: client.Counter<'channel' | 'outcome'>;
  deliveryLatency: client.Histogram<'channel'>;
}

export function createMetrics(prisma: PrismaClient, clock: Clock): Metrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const tickDuration = new client.Histogram({ name: 'dualprev_tick_duration_seconds', help: 'Duration of one scheduler tick', buckets: [0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2, 5], registers: [registry] });
  const notifications = new client.Counter({ name: 'dualprev_notifications_total', help: 'Notification delivery outcomes', labelNames: ['channel', 'outcome'] as const, registers: [registry] });
  const deliveryLatency = new client.Histogram({ name: 'dualprev_delivery_latency_seconds', help: 'From outbox row to accepted by the platform', labelNames: ['channel'] as const, buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900], registers: [registry] });
  new client.Gauge({
    name: 'dualprev_due_backlog',
    help: 'Rows due for processing now (indexed counts)',
    labelNames: ['kind'] as const,
    registers: [registry],
    async collect() {
      const now = clock.now();
      // fix (tests): with MySQL unreachable these counts waited for the pool's acquire timeout
      // (10 s+) and then failed the whole scrape with a 500 — losing every other metric exactly when
      // they matter. Bound them to 2 s (as /readyz does) and leave the gauge out of this scrape.
      let timer: NodeJS.Timeout | undefined;
      let counts: number[];
      try {
        counts = await Promise.race([
          Promise.all([
            prisma.checkTaskInstance.count({ where: { nextCheckAt: { lte: now } } }),
            prisma.hazard.count({ where: { nextCheckAt: { lte: now } } }),
            prisma.alert.count({ where: { nextFireAt: { lte: now } } }),
            prisma.notification.count({ where: { state: 'pending', nextAttemptAt: { lte: now } } }),
          ]),
          new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), 2000))),
        ]);
      } catch {
        this.reset();
        return;
      } finally {
        clearTimeout(timer);
      }
      const [instances, hazards, alerts, notifications] = counts;
      this.set({ kind: 'instances' }, instances);
      this.set({ kind: 'hazards' }, hazards);
      this.set({ kind: 'alerts' }, alerts);
      this.set({ kind: 'notifications' }, notifications);
    },
  });
  return { registry, tickDuration, notifications, deliveryLatency };
}
