/**
 * 停用检修 (a risk unit shut down for maintenance): the one rule for which task instances it
 * suspends. Used by the engine's instance scan (server/engine/tick.ts) and by the shutdown service
 * (server/services/shutdowns.ts), so both agree. Source: domain.md "RiskUnit": while a unit is shut
 * down its task instances are suspended, never overdue.
 */

export interface Window {
  startAt: Date;
  endAt: Date;
}

export interface ShutdownPeriod {
  startAt: Date;
  /** null = open-ended (until someone ends it) */
  endAt: Date | null;
}

/**
 * A shutdown suspends an instance when the two overlap at all: [s.start, s.end) ∩ [w.start, w.end) ≠ ∅.
 * An instance that is only partly inside a shutdown is suspended too — nobody can be asked to
 * check a unit that is down for part of the window (the check cannot be made on a running plant).
 */
export function shutdownOverlaps(w: Window, s: ShutdownPeriod): boolean {
  return s.startAt < w.endAt && (s.endAt === null || s.endAt > w.startAt);
}

/** True when any of the unit's shutdowns overlaps the window. */
export function isSuspendedBy(w: Window, shutdowns: readonly ShutdownPeriod[]): boolean {
  return shutdowns.some((s) => shutdownOverlaps(w, s));
}

/** Two shutdown periods of the same unit overlap (a unit is either down or not: no double entries). */
export function shutdownsOverlap(a: ShutdownPeriod, b: ShutdownPeriod): boolean {
  const aEnd = a.endAt?.getTime() ?? Infinity;
  const bEnd = b.endAt?.getTime() ?? Infinity;
  return a.startAt.getTime() < bEnd && b.startAt.getTime() < aEnd;
}
