/**
 * Submitting a check record (排查记录) for a task instance — the minimum the demo needs to close a
 * task alert (issue #2; issue #3 adds photos, location and hazard drafts).
 *
 * Rules:
 * - only inside the instance's window [startAt, endAt): a missed window stays missed (it counts
 *   against 运行效果); the task's 逾期未排查 alert clears when the task is done again, i.e. when a
 *   record is submitted for its current instance.
 * - readings of the measure's key parameter are compared with the safe range copied onto the
 *   reading; one outside it is abnormal and opens an 异常读数 alert at once (domain.md CheckRecord).
 */
import type { PrismaClient, Prisma } from '../db';
import type { Clock } from '../clock';
import { badRequest, conflict, forbidden, notFound } from '../errors';
import type { Actor } from './alert-actions';
import { clearAlertsFor, loadPolicy, openAlert } from './alerts';
import { isSuperiorOf, loadOrg } from './org';
import { loadRoleHolders, loadTaskSubject } from './subjects';
import type { AlertDetail } from '../domain/render';

const OVERSIGHT = ['safety_dept', 'safety_director', 'principal', 'enterprise_admin'];

export const CHECK_RESULTS = { normal: 0, hazard_found: 1, not_applicable: 2 } as const;

export interface CheckRecordInput {
  instanceId: number;
  /** 0 正常, 1 存在隐患, 2 无需排查 */
  result: 0 | 1 | 2;
  /** readings of the task's key parameter; value in the parameter's unit (e.g. MPa, %) */
  readings?: Array<{ value: number }>;
  deviceId?: string;
  note?: string;
}

/** @throws 404 not_found, 403 forbidden, 409 already_done / instance_closed / outside_window, 400 no_parameter */
export async function submitCheckRecord(prisma: PrismaClient, clock: Clock, actor: Actor, input: CheckRecordInput) {
  const now = clock.now();
  const inst = await prisma.checkTaskInstance.findUnique({
    where: { id: input.instanceId },
    include: { checkTask: { include: { controlMeasure: true } } },
  });
  if (!inst || inst.enterpriseId !== actor.enterpriseId) throw notFound('task instance', '排查任务');
  if (actor.roles.includes('regulator')) throw forbidden('监管账号只读', 'regulator accounts are read-only');
  const task = inst.checkTask;

  const me = await prisma.person.findUniqueOrThrow({ where: { id: actor.personId }, select: { postId: true } });
  let allowed = task.personId === actor.personId || (task.personId === null && task.postId !== null && task.postId === me.postId) || actor.roles.some((r) => OVERSIGHT.includes(r));
  if (!allowed) {
    const org = await loadOrg(prisma, actor.enterpriseId);
    const assignees = task.personId !== null ? [task.personId] : (await prisma.person.findMany({ where: { postId: task.postId ?? -1 }, select: { id: true } })).map((p) => p.id);
    allowed = assignees.some((p) => isSuperiorOf(org, actor.personId, p));
  }
  if (!allowed) throw forbidden('该排查任务不属于您的岗位', 'this check task is not assigned to you or your post');

  if (inst.state === 'done') throw conflict('already_done', '该排查任务已完成', 'this instance already has a check record');
  if (inst.state !== 'pending') throw conflict('instance_closed', inst.state === 'suspended' ? '该单元停用检修，任务已暂停' : '排查时段已结束，不能补录', `instance is ${inst.state}`);
  if (now < inst.startAt || now >= inst.endAt)
    throw conflict('outside_window', '不在排查时段内，不能提交', `outside the instance window [${inst.startAt.toISOString()}, ${inst.endAt.toISOString()})`);

  const m = task.controlMeasure;
  const readings = input.readings ?? [];
  if (readings.length && (!m || !m.paramName)) throw badRequest('no_parameter', '该管控措施没有关键参数，不能填写读数', 'the control measure has no key parameter');
  if (readings.some((r) => !Number.isFinite(r.value))) throw badRequest('invalid_reading', '读数须为数字', 'readings must be finite numbers');
  const min = m?.paramMin != null ? Number(m.paramMin) : null;
  const max = m?.paramMax != null ? Number(m.paramMax) : null;
  const abnormalOf = (v: number) => (min !== null && v < min) || (max !== null && v > max);

  return prisma.$transaction(async (tx) => {
    const claimed = await tx.checkTaskInstance.updateMany({ where: { id: inst.id, state: 'pending' }, data: { state: 'done', completedAt: now, nextCheckAt: null } });
    if (claimed.count === 0) throw conflict('already_done', '该排查任务已完成', 'this instance already has a check record');
    const record = await tx.checkRecord.create({
      data: {
        enterpriseId: inst.enterpriseId,
        instanceId: inst.id,
        personId: actor.personId,
        checkedAt: now,
        deviceId: input.deviceId ?? null,
        isDefend: task.workType >= 1 && task.workType <= 3,
        result: input.result,
        note: input.note ?? null,
        readings: m?.paramName
          ? { create: readings.map((r) => ({ controlMeasureId: m.id, paramName: m.paramName!, unit: m.paramUnit, value: r.value, safeMin: m.paramMin, safeMax: m.paramMax, abnormal: abnormalOf(r.value) })) }
          : undefined,
      },
    });
    const cleared = await clearAlertsFor(tx, {
      subjectType: 'check_task',
      subjectId: task.id,
      kinds: ['task_due_soon', 'task_overdue'],
      now,
      clearKind: 'condition_ended',
      reason: `已提交排查记录 #${record.id}`,
      actorId: actor.personId,
      channel: 'api',
    });
    const abnormal = readings.filter((r) => abnormalOf(r.value));
    let abnormalAlertId: number | null = null;
    if (abnormal.length && m) {
      const subject = await loadTaskSubject(tx, task.id);
      const tz = (await tx.enterprise.findUniqueOrThrow({ where: { id: inst.enterpriseId }, select: { timezone: true } })).timezone;
      const person = await tx.person.findUniqueOrThrow({ where: { id: actor.personId }, select: { name: true } });
      const detail: AlertDetail = {
        type: 'reading',
        tz,
        unitName: subject.unitName,
        measure: m.description,
        paramName: m.paramName!,
        unit: m.paramUnit,
        value: abnormal[0].value,
        safeMin: min,
        safeMax: max,
        checkedAt: now.toISOString(),
        personName: person.name,
        checkRecordId: record.id,
      };
      // the person who saw it is the "assignee" of an abnormal reading
      const people = { ...subject.people, assignee: [actor.personId] };
      const opened = await openAlert(tx, {
        enterpriseId: inst.enterpriseId,
        kind: 'abnormal_reading',
        subjectType: 'check_record',
        subjectId: record.id,
        detail,
        conditionStartAt: now,
        people,
        holders: await loadRoleHolders(tx, inst.enterpriseId),
        policy: await loadPolicy(tx, inst.enterpriseId, 'abnormal_reading'),
        now,
      });
      abnormalAlertId = opened.id;
    }
    return { checkRecordId: record.id, clearedAlerts: cleared, abnormalAlertId, abnormal: abnormal.length > 0 } as const;
  });
}

export type { Prisma };
