/**
 * Generates dated CheckTaskInstance rows from every enabled CheckTask (rules: domain/cycles.ts).
 *
 * - Bounded look-ahead: instances exist up to `now + lookahead`; a task is only revisited when
 *   its cursor (`generatedUntil`) falls below `now + lookahead / 2`, so a run every minute touches
 *   almost nothing (indexed on (enabled, generatedUntil)).
 * - Idempotent: (checkTaskId, startAt) is unique and rows are inserted with INSERT IGNORE; two
 *   generators running at once produce each instance once.
 * - Never before `activeFrom` (when the task or the plant was loaded): a fresh start does not
 *   invent missed checks from before the plant existed in the system.
 * - Each instance gets `nextCheckAt` = its due-soon moment, so the engine finds it by index.
 */
import type { PrismaClient, Prisma } from '../db';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import { instancesBetween, type CycleUnit, type TaskSchedule, type WorkDayType } from '../domain/cycles';
import { createChinaCalendar, type WorkdayCalendar } from '../domain/calendar';
import { DEFAULT_POLICIES, taskDueSoonAt, type PolicyParams } from '../domain/escalation';
import { loadPolicy } from './alerts';
import { isSuspendedBy } from '../domain/shutdown';

export interface GenerateDeps {
  prisma: PrismaClient;
  clock: Clock;
  log: Logger;
  /** how far ahead instances exist (ms) */
  lookaheadMs: number;
  /** tasks per batch */
  batch?: number;
}

/** @returns tasks visited and instances created */
export async function generateInstances(d: GenerateDeps): Promise<{ tasks: number; created: number }> {
  const now = d.clock.now();
  const revisitBefore = new Date(now.getTime() + d.lookaheadMs / 2);
  const until = new Date(now.getTime() + d.lookaheadMs);
  const calendars = new Map<number, WorkdayCalendar>();
  const params = new Map<number, PolicyParams>();
  let tasks = 0;
  let created = 0;
  for (;;) {
    const batch = await d.prisma.checkTask.findMany({
      where: { enabled: true, OR: [{ generatedUntil: null }, { generatedUntil: { lt: revisitBefore } }] },
      include: { enterprise: { select: { timezone: true } }, controlMeasure: { select: { riskEvent: { select: { riskUnitId: true } } } } },
      orderBy: { id: 'asc' },
      take: d.batch ?? 200,
    });
    if (batch.length === 0) break;
    // 停用检修: instances of a unit shut down over their window are born suspended (one rule:
    // server/domain/shutdown.ts), so they never show up as due, and never become overdue
    const unitIds = [...new Set(batch.map((t) => t.controlMeasure?.riskEvent.riskUnitId).filter((u): u is number => u != null))];
    const shutdowns = unitIds.length
      ? await d.prisma.riskUnitShutdown.findMany({ where: { riskUnitId: { in: unitIds }, OR: [{ endAt: null }, { endAt: { gt: now } }] } })
      : [];
    const rows: Prisma.CheckTaskInstanceCreateManyInput[] = [];
    for (const t of batch) {
      if (!calendars.has(t.enterpriseId)) calendars.set(t.enterpriseId, await enterpriseCalendar(d, t.enterpriseId));
      if (!params.has(t.enterpriseId)) params.set(t.enterpriseId, (await loadPolicy(d.prisma, t.enterpriseId, 'task_due_soon').catch(() => DEFAULT_POLICIES.task_due_soon)).params);
      const from = t.generatedUntil && t.generatedUntil > t.activeFrom ? t.generatedUntil : t.activeFrom;
      const schedule: TaskSchedule = {
        checkCycle: t.checkCycle,
        checkCycleUnit: t.checkCycleUnit as CycleUnit,
        taskStartTime: t.taskStartTime,
        workStartTime: t.workStartTime,
        workEndTime: t.workEndTime,
        workDayType: t.workDayType as WorkDayType,
      };
      let windows;
      try {
        windows = instancesBetween(schedule, t.enterprise.timezone, calendars.get(t.enterpriseId)!, from, until);
      } catch (e) {
        // a broken definition must not stop every other task; it is reported and skipped until fixed
        d.log.error({ checkTaskId: t.id, err: (e as Error).message }, 'check task schedule is invalid; no instances generated');
        continue;
      }
      const unitId = t.controlMeasure?.riskEvent.riskUnitId;
      const unitShutdowns = unitId == null ? [] : shutdowns.filter((s) => s.riskUnitId === unitId);
      for (const w of windows) {
        if (w.endAt <= t.activeFrom) continue;
        const suspended = isSuspendedBy(w, unitShutdowns);
        rows.push({
          enterpriseId: t.enterpriseId,
          checkTaskId: t.id,
          startAt: w.startAt,
          endAt: w.endAt,
          state: suspended ? 'suspended' : 'pending',
          nextCheckAt: suspended ? null : taskDueSoonAt(w.startAt, w.endAt, params.get(t.enterpriseId)!),
        });
      }
    }
    if (rows.length) created += (await d.prisma.checkTaskInstance.createMany({ data: rows, skipDuplicates: true })).count;
    // after a schedule change the new rule's window running now may start where a kept (old-rule)
    // instance starts: (task, startAt) is unique, so the kept one holds the slot — and if it is
    // shorter, the time up to the new window's end was covered by nothing (2 h → 3 h at 12:30: the
    // kept 12–14 and the next new 15–18 left 14–15 unwatched). A kept instance still pending is
    // stretched to the new window instead.
    for (const r of rows) {
      if (r.state !== 'pending' || new Date(r.startAt) > now || new Date(r.endAt) <= now) continue;
      await d.prisma.checkTaskInstance.updateMany({
        where: { checkTaskId: r.checkTaskId, startAt: r.startAt, state: 'pending', endAt: { lt: r.endAt }, records: { none: {} } },
        data: { endAt: r.endAt, nextCheckAt: r.nextCheckAt },
      });
    }
    await d.prisma.checkTask.updateMany({ where: { id: { in: batch.map((t) => t.id) } }, data: { generatedUntil: until } });
    tasks += batch.length;
    if (batch.length < (d.batch ?? 200)) break;
  }
  return { tasks, created };
}

async function enterpriseCalendar(d: GenerateDeps, enterpriseId: number): Promise<WorkdayCalendar> {
  const overrides = await d.prisma.calendarOverride.findMany({ where: { enterpriseId } });
  return createChinaCalendar({
    overrides: Object.fromEntries(overrides.map((o) => [o.date, o.isWorkday])),
    onMissingYear: (year) =>
      d.log.warn({ enterpriseId, year }, `no statutory holiday data for ${year}: working days fall back to Monday–Friday; enter the year's arrangement as calendar overrides`),
  });
}
