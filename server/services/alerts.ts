/**
 * Opening and clearing alerts inside the caller's transaction (the engine's tick, or a service
 * that just changed a hazard or stored a check record). One open alert per (kind, subject):
 * `Alert.openKey` is unique while the alert is open and NULL once it is cleared.
 *
 * Each operation takes a set (the tick opens and clears for a whole batch of rows at once, in a
 * few statements whatever the batch size); the one-alert functions are the same code with a set
 * of one.
 */
import { Prisma } from '../db';
import { DEFAULT_POLICIES, parsePolicy, type AlertKind, type EscalationPolicyData } from '../domain/escalation';
import { resolveLevels, type RoleHolders, type SubjectPeople } from '../domain/recipients';
import type { RecipientRole } from '../domain/roles';
import { alertTitle, type AlertDetail } from '../domain/render';
import { clipChars } from '../../miniprogram/shared/contract';

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

/** Rows per multi-row statement: 16 placeholders a row stays far below MySQL's 65,535. */
const CHUNK = 500;

type PolicyRow = { name: string; levels: Prisma.JsonValue; ackTimeoutMs: number; params: Prisma.JsonValue | null };

/** A stored policy row as policy data; the default when none is stored. @throws ZodError on a corrupt stored policy. */
function policyFromRow(kind: AlertKind, row: PolicyRow | null): EscalationPolicyData {
  if (!row) return DEFAULT_POLICIES[kind];
  return parsePolicy({ kind, name: row.name, levels: row.levels, ackTimeoutMs: row.ackTimeoutMs, params: row.params ?? {} });
}

/** The enterprise's policy for a kind, or the default when none is stored. @throws ZodError on a corrupt stored policy. */
export async function loadPolicy(tx: Tx, enterpriseId: number, kind: AlertKind): Promise<EscalationPolicyData> {
  return policyFromRow(kind, await tx.escalationPolicy.findUnique({ where: { enterpriseId_kind: { enterpriseId, kind } } }));
}

/**
 * The stored policies of several enterprises in one query, as a lookup like loadPolicy's. A stored
 * policy is parsed when first asked for, so a corrupt one throws (ZodError) only where it is needed.
 */
export async function loadPolicies(tx: Tx, enterpriseIds: number[]): Promise<(enterpriseId: number, kind: AlertKind) => EscalationPolicyData> {
  const ids = [...new Set(enterpriseIds)];
  const rows = ids.length ? await tx.escalationPolicy.findMany({ where: { enterpriseId: { in: ids } } }) : [];
  const stored = new Map(rows.map((r) => [`${r.enterpriseId}:${r.kind}`, r]));
  const parsed = new Map<string, EscalationPolicyData>();
  return (enterpriseId, kind) => {
    const k = `${enterpriseId}:${kind}`;
    if (!parsed.has(k)) parsed.set(k, policyFromRow(kind, stored.get(k) ?? null));
    return parsed.get(k)!;
  };
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

export interface OpenedAlert {
  id: number;
  /** this call created it (false: one was open already) */
  created: boolean;
  /** the open alert's Alert.detail (the stored one when it was open already) */
  detail: AlertDetail;
}

/**
 * Opens the alert for (kind, subject) unless one is already open; race-safe across schedulers
 * (INSERT IGNORE on the unique openKey). The policy is snapshotted and the recipients of every
 * level resolved now, so later edits don't rewrite history. The alert fires at the next tick.
 * @returns the open alert's id and whether this call created it.
 */
export async function openAlert(tx: Tx, a: OpenAlertInput): Promise<{ id: number; created: boolean }> {
  const [r] = await openAlerts(tx, [a]);
  return { id: r.id, created: r.created };
}

/**
 * Escalation token of the rows a multi-row INSERT IGNORE of openAlerts creates, until the same call
 * sets it back to 0: how the SELECT after the insert tells the rows this transaction created from
 * those that were open already. Never committed (other transactions cannot see the rows before).
 */
const INSERTING = -1;

/**
 * openAlert for several (kind, subject)s: one multi-row INSERT IGNORE (the unique openKey decides,
 * as for one), one locking SELECT by openKey to learn the ids (a locking read sees an alert another
 * scheduler committed after this transaction's snapshot), one multi-row insert of the `opened`
 * AlertEvents. A (kind, subject) given twice is opened once (the second gets created: false).
 * @returns per input, in order: the open alert's id, whether this call created it, its detail.
 * @throws Error when a row was neither stored nor found open (INSERT IGNORE also drops rows it
 *   cannot store, e.g. an unknown enterpriseId)
 */
export async function openAlerts(tx: Tx, inputs: OpenAlertInput[]): Promise<OpenedAlert[]> {
  if (inputs.length === 0) return [];
  // one row: the affected-row count says whether it was created; several: the INSERTING mark does
  const mark = inputs.length > 1;
  const stamp = new Date(); // createdAt / updatedAt, as Prisma sets them
  const rows = inputs.map((a) => {
    const levelRoles = a.policy.levels.map((l) => (a.people.baobao && l.notifyForBaobao ? l.notifyForBaobao : l.notify));
    return { a, openKey: openKeyOf(a.kind, a.subjectType, a.subjectId), recipients: resolveLevels(levelRoles, a.people, a.holders) as AlertRecipients };
  });
  let inserted = 0;
  for (let i = 0; i < rows.length; i += CHUNK) {
    const values = rows.slice(i, i + CHUNK).map(
      ({ a, openKey, recipients }) =>
        Prisma.sql`(${a.enterpriseId}, ${a.kind}, ${a.subjectType}, ${a.subjectId}, ${openKey}, 'open', 0, ${alertTitle(a.kind, a.detail).slice(0, 255)}, ${JSON.stringify(a.detail)}, ${JSON.stringify(a.policy)}, ${JSON.stringify(recipients)}, ${a.conditionStartAt}, ${a.now}, ${mark ? INSERTING : 0}, ${stamp}, ${stamp})`,
    );
    inserted += await tx.$executeRaw(
      Prisma.sql`INSERT IGNORE INTO Alert (enterpriseId, kind, subjectType, subjectId, openKey, state, level, title, detail, policySnapshot, recipients, conditionStartAt, nextFireAt, escalationToken, createdAt, updatedAt) VALUES ${Prisma.join(values)}`,
    );
  }
  const keys = [...new Set(rows.map((r) => r.openKey))];
  const found = new Map<string, { id: number; escalationToken: number; detail: unknown }>();
  for (let i = 0; i < keys.length; i += CHUNK) {
    const got = await tx.$queryRaw<Array<{ id: number | bigint; openKey: string; escalationToken: number | bigint; detail: unknown }>>(
      Prisma.sql`SELECT id, openKey, escalationToken, detail FROM Alert WHERE openKey IN (${Prisma.join(keys.slice(i, i + CHUNK))}) LOCK IN SHARE MODE`,
    );
    for (const g of got) found.set(g.openKey, { id: Number(g.id), escalationToken: Number(g.escalationToken), detail: typeof g.detail === 'string' ? JSON.parse(g.detail) : g.detail });
  }
  const seen = new Set<string>();
  const out = rows.map(({ openKey }) => {
    const f = found.get(openKey);
    if (!f) throw new Error(`alert ${openKey} was neither stored nor found open`);
    const created = !seen.has(openKey) && (mark ? f.escalationToken === INSERTING : inserted === 1);
    seen.add(openKey);
    return { id: f.id, created, detail: f.detail as AlertDetail };
  });
  const createdIds = out.filter((o) => o.created).map((o) => o.id);
  if (mark && createdIds.length) await tx.$executeRaw(Prisma.sql`UPDATE Alert SET escalationToken = 0 WHERE id IN (${Prisma.join(createdIds)})`);
  await insertAlertEvents(
    tx,
    rows.flatMap(({ a, recipients }, i) =>
      out[i].created
        ? [{ alertId: out[i].id, type: 'opened', channel: 'engine', at: a.now, data: { conditionStartAt: a.conditionStartAt.toISOString(), unresolved: recipients.unresolved } }]
        : [],
    ),
  );
  return out;
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

/** How and by whom alerts are cleared (ClearInput without the subject and the reason). */
export type ClearHow = Omit<ClearInput, 'subjectType' | 'subjectId' | 'kinds' | 'reason'>;

/** One subject's alerts to clear, with the reason shown on them. */
export type ClearTarget = Pick<ClearInput, 'subjectType' | 'subjectId' | 'kinds' | 'reason'>;

/**
 * Clears the open alerts of these kinds on a subject (销警), cancels their undelivered
 * notifications and logs an AlertEvent for each. Idempotent.
 * @returns ids of the alerts cleared.
 */
export async function clearAlertsFor(tx: Tx, c: ClearInput): Promise<number[]> {
  return clearAlertsOf(tx, [c], c);
}

/**
 * clearAlertsFor for several subjects, each with its reason (a (kind, subject) named twice keeps
 * the first reason). Statements per call: a lookup of the open alerts, a locking re-read of them,
 * one UPDATE per distinct reason, one multi-row event insert, one notification update per reason.
 * @returns ids of the alerts cleared.
 */
export async function clearAlertsOf(tx: Tx, targets: ClearTarget[], how: ClearHow): Promise<number[]> {
  const reasons = new Map<string, string>();
  for (const t of targets) for (const k of t.kinds) if (!reasons.has(openKeyOf(k, t.subjectType, t.subjectId))) reasons.set(openKeyOf(k, t.subjectType, t.subjectId), t.reason);
  if (reasons.size === 0) return [];
  const open: Array<{ id: number; openKey: string | null }> = [];
  const keys = [...reasons.keys()];
  for (let i = 0; i < keys.length; i += CHUNK) {
    open.push(...(await tx.alert.findMany({ where: { openKey: { in: keys.slice(i, i + CHUNK) } }, select: { id: true, openKey: true }, orderBy: { id: 'asc' } })));
  }
  return clearAlerts(
    tx,
    open.map((a) => ({ id: a.id, reason: reasons.get(a.openKey!)! })),
    how,
  );
}

/** Clears one alert if it is still open. @returns false when it was already cleared. */
export async function clearAlert(tx: Tx, alertId: number, c: Omit<ClearInput, 'subjectType' | 'subjectId' | 'kinds'>): Promise<boolean> {
  return (await clearAlerts(tx, [{ id: alertId, reason: c.reason }], c)).length === 1;
}

/**
 * Clears these alerts where still open: state cleared, openKey freed (the condition may open a new
 * one), no further firing, the fencing token bumped (queued jobs of the alert go stale), a `cleared`
 * event each, undelivered notifications cancelled.
 * @returns ids of the alerts this call cleared (not those found cleared already).
 */
async function clearAlerts(tx: Tx, items: Array<{ id: number; reason: string }>, how: ClearHow): Promise<number[]> {
  if (items.length === 0) return [];
  const data = (reason: string) => ({
    state: 'cleared',
    openKey: null,
    nextFireAt: null,
    clearedAt: how.now,
    clearedById: how.actorId ?? null,
    clearKind: how.clearKind,
    clearReason: clipChars(reason, 1024),
    escalationToken: { increment: 1 },
  });
  let cleared: typeof items;
  if (items.length === 1) {
    const { count } = await tx.alert.updateMany({ where: { id: items[0].id, state: { not: 'cleared' } }, data: data(items[0].reason) });
    cleared = count === 1 ? items : [];
  } else {
    // lock them first (in id order): which are still open decides which get a `cleared` event
    const still = new Set<number>();
    for (let i = 0; i < items.length; i += CHUNK) {
      const ids = items.slice(i, i + CHUNK).map((x) => x.id);
      const rows = await tx.$queryRaw<Array<{ id: number | bigint }>>(Prisma.sql`SELECT id FROM Alert WHERE id IN (${Prisma.join(ids)}) AND state <> 'cleared' ORDER BY id FOR UPDATE`);
      for (const r of rows) still.add(Number(r.id));
    }
    cleared = items.filter((x) => still.has(x.id));
    for (const [reason, ids] of byReason(cleared)) await tx.alert.updateMany({ where: { id: { in: ids }, state: { not: 'cleared' } }, data: data(reason) });
  }
  await insertAlertEvents(
    tx,
    cleared.map((x) => ({ alertId: x.id, type: 'cleared', actorId: how.actorId ?? null, channel: how.channel, note: clipChars(x.reason, 1024), at: how.now, data: { clearKind: how.clearKind } })),
  );
  for (const [reason, ids] of byReason(cleared)) {
    await tx.notification.updateMany({
      where: { alertId: { in: ids }, state: { in: ['pending', 'queued'] } },
      data: { state: 'cancelled', lastError: clipChars(`alert cleared: ${reason}`, 1024) },
    });
  }
  return cleared.map((x) => x.id);
}

function byReason(items: Array<{ id: number; reason: string }>): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const x of items) m.set(x.reason, [...(m.get(x.reason) ?? []), x.id]);
  return m;
}

/**
 * AlertEvent rows as multi-row INSERTs (Prisma's createMany spends most of its time validating and
 * serialising the JSON `data`; bench/README.md).
 */
export async function insertAlertEvents(tx: Tx, rows: Prisma.AlertEventCreateManyInput[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 1000) {
    const values = rows
      .slice(i, i + 1000)
      .map(
        (e) =>
          Prisma.sql`(${e.alertId}, ${e.type}, ${e.level ?? null}, ${e.actorId ?? null}, ${e.channel ?? null}, ${e.note ?? null}, ${e.data === undefined ? null : JSON.stringify(e.data)}, ${e.at})`,
      );
    await tx.$executeRaw(Prisma.sql`INSERT INTO AlertEvent (alertId, type, level, actorId, channel, note, data, at) VALUES ${Prisma.join(values)}`);
  }
}
