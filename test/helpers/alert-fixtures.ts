/**
 * Fixtures for engine/delivery integration tests: alerts inserted straight into the Alert table
 * (the shape openAlert() writes, server/services/alerts.ts), polling instead of fixed sleeps, a
 * manual clock that follows real time, and removal of one test system's Redis keys.
 */
import { Redis } from 'ioredis';
import type { ManualClock } from '../../server/clock';
import type { PrismaClient } from '../../server/db';
import { DEFAULT_POLICIES, type AlertKind, type EscalationPolicyData } from '../../server/domain/escalation';
import { alertTitle, type AlertDetail } from '../../server/domain/render';
import { openKeyOf, type AlertRecipients } from '../../server/services/alerts';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

/** True when `s` is well-formed text: no lone surrogate (a cut inside an emoji) and no U+FFFD (a cut inside a UTF-8 sequence). */
export function wellFormed(s: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s) && !s.includes('\uFFFD') && Buffer.from(s, 'utf8').toString('utf8') === s;
}

/** Alert codes ("A123") named in a delivered text by the channels' code line `告警 A123 · 第N级`. */
export function alertCodesIn(content: string): string[] {
  return [...content.matchAll(/告警 (A\d+) · 第\d+级/g)].map((m) => m[1]);
}

/** Polls `fn` until it returns a truthy value; throws with `what` and the last value after `timeoutMs`. */
export async function waitFor<T>(fn: () => Promise<T> | T, what: string, opts: { timeoutMs?: number; intervalMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let last: T | undefined;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 25));
  }
}

/** Makes a ManualClock follow the wall clock (for tests where Redis's clock and the fakes' clocks are real). @returns stop */
export function followRealTime(clock: ManualClock, everyMs = 10): () => void {
  clock.set(Date.now());
  const t = setInterval(() => clock.set(Date.now()), everyMs);
  return () => clearInterval(t);
}

/**
 * Deletes every Redis key of one test system (`<prefix>:*`): the bull queue(s) and the throttle.
 * This is "Redis lost everything" for this system without FLUSHALL, which would also wipe the
 * queues of the other test files running in parallel against the same Redis.
 * @returns how many keys were deleted
 */
export async function deleteRedisKeys(redisUrl: string, prefix: string): Promise<number> {
  const r = new Redis(redisUrl);
  try {
    let n = 0;
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) n += await r.del(...keys);
    } while (cursor !== '0');
    return n;
  } finally {
    r.disconnect();
  }
}

/**
 * Stops the demo plant's own conditions from firing (its hazards and task instances are not
 * scanned), so a test controls exactly which alerts the engine sees.
 */
export async function quietDemoPlant(prisma: PrismaClient): Promise<void> {
  await prisma.hazard.updateMany({ data: { nextCheckAt: null } });
  await prisma.checkTaskInstance.updateMany({ data: { nextCheckAt: null } });
}

let subjectSeq = 900_000;

export interface DueAlertSpec {
  /** person ids added at each level (index 0 = level 1) */
  levels: number[][];
  conditionStartAt: Date;
  detail?: Partial<Extract<AlertDetail, { type: 'hazard' }>>;
}

/**
 * Inserts open alerts due now (nextFireAt = now), as openAlert() would have written them, with a
 * hazard subject that does not exist (the engine only reads Alert.detail when firing).
 * @param kind a hazard kind; its default policy is snapshotted
 * @returns the alert ids, in `specs` order
 */
export async function insertDueAlerts(
  prisma: PrismaClient,
  o: { enterpriseId: number; now: Date; kind?: AlertKind; policy?: EscalationPolicyData; specs: DueAlertSpec[] },
): Promise<number[]> {
  const kind = o.kind ?? 'hazard_due_soon';
  const policy = o.policy ?? DEFAULT_POLICIES[kind];
  const rows = o.specs.map((s) => {
    const subjectId = ++subjectSeq;
    const detail: AlertDetail = {
      type: 'hazard',
      tz: 'Asia/Shanghai',
      hazardCode: `YHTEST${subjectId}`,
      hazardName: `测试隐患 ${subjectId}：储罐呼吸阀堵塞`,
      unitName: '液氯储罐 V-101A/B',
      dangerLevel: 0,
      deadlineDate: '2026-11-29',
      rectifierName: '胡婷',
      acceptorName: '刘洋',
      ...s.detail,
    };
    const recipients: AlertRecipients = { levels: s.levels, unresolved: [] };
    return {
      enterpriseId: o.enterpriseId,
      kind,
      subjectType: 'hazard',
      subjectId,
      openKey: openKeyOf(kind, 'hazard', subjectId),
      state: 'open',
      level: 0,
      title: alertTitle(kind, detail).slice(0, 255),
      detail: detail as object,
      policySnapshot: policy as object,
      recipients: recipients as unknown as object,
      conditionStartAt: s.conditionStartAt,
      nextFireAt: o.now,
    };
  });
  for (let i = 0; i < rows.length; i += 500) await prisma.alert.createMany({ data: rows.slice(i, i + 500) });
  const created = await prisma.alert.findMany({ where: { openKey: { in: rows.map((r) => r.openKey) } }, select: { id: true, openKey: true } });
  const byKey = new Map(created.map((a) => [a.openKey, a.id]));
  return rows.map((r) => byKey.get(r.openKey)!);
}
