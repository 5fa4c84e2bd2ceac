/**
 * Opening and clearing alerts inside the caller's transaction (the engine's tick, or a service
 * that just changed a hazard or stored a check record). One open alert per (kind, subject):
 * `Alert.openKey` is unique while the alert is open and NULL once it is cleared.
 */
import type { Prisma } from '../db';
import { DEFAULT_POLICIES, parsePolicy, type AlertKind, type EscalationPolicyData } from '../domain/escalation';
import { resolveLevels, type RoleHolders, type SubjectPeople } from '../domain/recipients';
import type { RecipientRole } from '../domain/roles';
import { alertTitle, type AlertDetail } from '../domain/render';

type Tx = Prisma.TransactionClient;

export type SubjectType = 'check_task' | 'hazard' | 'check_record';

export function openKeyOf(kind: AlertKind, subjectType: SubjectType, subjectId: number): string {
  return `${kind}:${subjectType}:${subjectId}`;
}

/** What Alert.recipients holds: person ids added at each level (index 0 = level 1) and the gaps. */
export interface AlertRecipients {
  levels: number[][];
  unresolved: Array<{ level: number; role: RecipientRole }>;
}

/** The enterprise's policy for a kind, or the default when none is stored. @throws ZodError on a corrupt stored policy. */
export async function loadPolicy(tx: Tx, enterpriseId: number, kind: AlertKind): Promise<EscalationPolicyData> {
  const row = await tx.escalationPolicy.findUnique({ where: { enterpriseId_kind: { enterpriseId, kind } } });
  if (!row) return DEFAULT_POLICIES[kind];
  return parsePolicy({ kind, name: row.name, levels: row.levels, ackTimeoutMs: row.ackTimeoutMs, params: row.params ?? {} });
}

export interface OpenAlertInput {
  enterpriseId: number;
  kind: AlertKind;
  subjectType: SubjectType;
  subjectId: number;
  detail: AlertDetail;
  conditionStartAt: Date;
  people: SubjectPeople;
  holders: RoleHolders;
  policy: EscalationPolicyData;
  now: Date;
}

/**
 * Opens the alert for (kind, subject) unless one is already open; race-safe across schedulers
 * (INSERT IGNORE on the unique openKey). The policy is snapshotted and the recipients of every
 * level resolved now, so later edits don't rewrite history. The alert fires at the next tick.
 * @returns the open alert's id and whether this call created it.
 */
export async function openAlert(tx: Tx, a: OpenAlertInput): Promise<{ id: number; created: boolean }> {
  const openKey = openKeyOf(a.kind, a.subjectType, a.subjectId);
  const levelRoles = a.policy.levels.map((l) => (a.people.baobao && l.notifyForBaobao ? l.notifyForBaobao : l.notify));
  const recipients: AlertRecipients = resolveLevels(levelRoles, a.people, a.holders);
  const { count } = await tx.alert.createMany({
    data: [
      {
        enterpriseId: a.enterpriseId,
        kind: a.kind,
        subjectType: a.subjectType,
        subjectId: a.subjectId,
        openKey,
        state: 'open',
        level: 0,
        title: alertTitle(a.kind, a.detail).slice(0, 255),
        detail: a.detail as unknown as Prisma.InputJsonValue,
        policySnapshot: a.policy as unknown as Prisma.InputJsonValue,
        recipients: recipients as unknown as Prisma.InputJsonValue,
        conditionStartAt: a.conditionStartAt,
        nextFireAt: a.now,
      },
    ],
    skipDuplicates: true,
  });
  const alert = await tx.alert.findUniqueOrThrow({ where: { openKey }, select: { id: true } });
  if (count === 1) {
    await tx.alertEvent.create({
      data: {
        alertId: alert.id,
        type: 'opened',
        channel: 'engine',
        at: a.now,
        data: { conditionStartAt: a.conditionStartAt.toISOString(), unresolved: recipients.unresolved } as Prisma.InputJsonValue,
      },
    });
  }
  return { id: alert.id, created: count === 1 };
}

export interface ClearInput {
  subjectType: SubjectType;
  subjectId: number;
  kinds: AlertKind[];
  now: Date;
  /** condition_ended: the engine or a service saw the condition end; manual: a person cleared it */
  clearKind: 'condition_ended' | 'manual';
  reason: string;
  actorId?: number | null;
  channel: string;
}

/**
 * Clears the open alerts of these kinds on a subject (销警), cancels their undelivered
 * notifications and logs an AlertEvent for each. Idempotent.
 * @returns ids of the alerts cleared.
 */
export async function clearAlertsFor(tx: Tx, c: ClearInput): Promise<number[]> {
  const keys = c.kinds.map((k) => openKeyOf(k, c.subjectType, c.subjectId));
  const open = await tx.alert.findMany({ where: { openKey: { in: keys } }, select: { id: true } });
  for (const { id } of open) await clearAlert(tx, id, c);
  return open.map((a) => a.id);
}

/** Clears one alert if it is still open. @returns false when it was already cleared. */
export async function clearAlert(tx: Tx, alertId: number, c: Omit<ClearInput, 'subjectType' | 'subjectId' | 'kinds'>): Promise<boolean> {
  const { count } = await tx.alert.updateMany({
    where: { id: alertId, state: { not: 'cleared' } },
    data: {
      state: 'cleared',
      openKey: null,
      nextFireAt: null,
      clearedAt: c.now,
      clearedById: c.actorId ?? null,
      clearKind: c.clearKind,
      clearReason: c.reason.slice(0, 1024),
      escalationToken: { increment: 1 },
    },
  });
  if (count === 0) return false;
  await tx.alertEvent.create({ data: { alertId, type: 'cleared', actorId: c.actorId ?? null, channel: c.channel, note: c.reason.slice(0, 1024), at: c.now, data: { clearKind: c.clearKind } } });
  await tx.notification.updateMany({
    where: { alertId, state: { in: ['pending', 'queued'] } },
    data: { state: 'cancelled', lastError: `alert cleared: ${c.reason}`.slice(0, 1024) },
  });
  return true;
}
