/**
 * Inspections (隐患排查) over Prisma: "my tasks now", submitting a check record (排查记录), and the
 * record list. Pure rules: server/domain/inspection.ts.
 *
 * Rules of a check record:
 * - only by the task's person, someone on its post, their superior or an oversight role;
 * - only inside the instance's window [startAt, endAt) and while the instance is pending: a missed
 *   window stays missed (it counts against 运行效果), a suspended one (unit shut down, 停用检修)
 *   needs no record; submitting clears the task's 临期/逾期未排查 alert;
 * - a task whose check means is 拍照 needs at least one photo (400 photo_required);
 * - readings of the measure's key parameter are compared with its safe range (copied onto the
 *   reading: a later edit of the measure does not rewrite history); one outside it is abnormal,
 *   opens an 异常读数 alert at once and makes the record's result 存在隐患 (1) — an out-of-range
 *   reading is a finding by definition, whatever was ticked (the answer says so: resultAdjusted);
 * - a finding (abnormal reading, or result 1) offers a hazard DRAFT prefilled from the measure
 *   (name like 「储罐压力 0.95 MPa 超出安全范围（0.2～0.8 MPa）」, unit, measure, record, photos,
 *   location; reporter = the person), returned as `hazardDraftId` for the person to complete and
 *   report (POST /hazards/:id/report).
 */
import type { PrismaClient, Prisma } from '../db';
import type { Clock } from '../clock';
import { AppError, badRequest, conflict, forbidden, notFound } from '../errors';
import type { Actor } from './alert-actions';
import { clearAlertsFor, loadPolicy, openAlert } from './alerts';
import { isSuperiorOf, loadOrg } from './org';
import { loadRoleHolders, loadTaskSubject } from './subjects';
import { assertFilesUsable } from './files';
import { createHazardDraft, enterpriseZone, OVERSIGHT, withCodeRetry } from './hazards';
import { photoResolver } from './photo-refs';
import type { AlertDetail } from '../domain/render';
import { MAX_PHOTOS_PER_HAZARD } from '../domain/files';
import { CHECK_RESULTS, CHECK_RESULT_NAMES, hazardCategoryOf, isAbnormalReading, photoRequired, prefillDangerSrc, prefillDangerType, readingDraftName, safeRangeText } from '../domain/inspection';
import { isSuspendedBy } from '../domain/shutdown';
import { endOfLocalDay, localMidnight } from '../domain/time';

export { CHECK_RESULTS };

const num = (d: { toString(): string } | null | undefined): number | null => (d == null ? null : Number(d.toString()));

// ───────────────────────────── my tasks now ─────────────────────────────

/**
 * GET /me/tasks: the person's task instances open now (for them, or for their post), soonest due
 * first, with what the phone needs to do the check: the measure, its key parameter with unit and
 * safe range, the check means, the window, and whether a photo is required. Instances of a unit
 * shut down for maintenance are left out (suspended, whether or not the engine has marked them yet).
 * @returns `{ items, truncated }` — truncated: more than MY_TASKS_CAP were open (the soonest due are given)
 */
/** Most instances GET /me/tasks returns (it was 200, cut silently). */
export const MY_TASKS_CAP = 2000;

export async function listMyTasks(prisma: PrismaClient, clock: Clock, actor: Actor) {
  const now = clock.now();
  const me = await prisma.person.findUniqueOrThrow({ where: { id: actor.personId }, select: { postId: true } });
  const rows = await prisma.checkTaskInstance.findMany({
    where: {
      enterpriseId: actor.enterpriseId,
      state: 'pending',
      startAt: { lte: now },
      endAt: { gt: now },
      checkTask: { enabled: true, OR: [{ personId: actor.personId }, ...(me.postId ? [{ personId: null, postId: me.postId }] : [])] },
    },
    include: {
      checkTask: {
        include: {
          majorHazardSource: { select: { id: true, name: true } },
          controlMeasure: { include: { riskEvent: { select: { id: true, name: true, riskUnit: { select: { id: true, name: true, shutdowns: true } } } } } },
        },
      },
    },
    orderBy: { endAt: 'asc' },
    // bounded by the tasks of one person or post (at most one open instance each); the cap only
    // guards memory, and hitting it is said (truncated), never silent
    take: MY_TASKS_CAP + 1,
  });
  const truncated = rows.length > MY_TASKS_CAP;
  const items = rows
    .slice(0, MY_TASKS_CAP)
    .filter((i) => !isSuspendedBy(i, i.checkTask.controlMeasure?.riskEvent.riskUnit.shutdowns ?? []))
    .map((i) => {
      const t = i.checkTask;
      const m = t.controlMeasure;
      const min = num(m?.paramMin);
      const max = num(m?.paramMax);
      return {
        instanceId: i.id,
        startAt: i.startAt,
        endAt: i.endAt,
        window: { startAt: i.startAt, endAt: i.endAt },
        task: { id: t.id, code: t.code, content: t.content, checkMeans: t.checkMeans, workType: t.workType, taskNum: t.taskNum, checkCycle: t.checkCycle, checkCycleUnit: t.checkCycleUnit },
        checkMeans: t.checkMeans,
        photoRequired: photoRequired(t.checkMeans),
        measure: m ? { id: m.id, code: m.code, description: m.description, checkContent: m.checkContent, riskEvent: { id: m.riskEvent.id, name: m.riskEvent.name } } : null,
        parameter: m?.paramName ? { name: m.paramName, unit: m.paramUnit, min, max, rangeText: safeRangeText(min, max, m.paramUnit) } : null,
        riskUnit: m ? { id: m.riskEvent.riskUnit.id, name: m.riskEvent.riskUnit.name } : null,
        majorHazardSource: t.majorHazardSource,
      };
    });
  return { items, truncated };
}

// ───────────────────────────── submit a check record ─────────────────────────────

export interface CheckRecordInput {
  instanceId: number;
  /** 0 正常, 1 存在隐患, 2 无需排查 */
  result: 0 | 1 | 2;
  /** readings of the task's key parameter; value in the parameter's unit (e.g. MPa, %) */
  readings?: Array<{ value: number }>;
  /** StoredFile ids; required (≥ 1) when the task's check means is 拍照 */
  photos?: number[];
  /** the phone's device id (IMEI) */
  deviceId?: string;
  location?: string;
  /** WGS-84 degrees, both or neither */
  latitude?: number;
  longitude?: number;
  note?: string;
  /** idempotency key from the phone's offline queue (≤ 64): a repeat answers the first record */
  clientRequestId?: string;
}

/**
 * The record an earlier request with the same idempotency key made, answered as that request was
 * (`duplicate: true`): its result, the alerts its submission cleared, its abnormal-reading alert and
 * the hazard draft made with it. `resultAdjusted` compares with this request's `result` — a repeat
 * carries the same body.
 * @returns null when the key is new
 * @throws 409 client_request_id_reused (the key names another person's record)
 */
async function recordedBefore(prisma: PrismaClient, actor: Actor, clientRequestId: string, inputResult: number) {
  const r = await prisma.checkRecord.findUnique({
    where: { enterpriseId_clientRequestId: { enterpriseId: actor.enterpriseId, clientRequestId } },
    include: { readings: { select: { abnormal: true } }, instance: { select: { checkTaskId: true } } },
  });
  if (!r) return null;
  if (r.personId !== actor.personId) throw conflict('client_request_id_reused', '该请求编号已被他人使用，请重新提交', 'this clientRequestId belongs to another person\'s record; send a new one');
  const [cleared, abnormalAlert, draft] = await Promise.all([
    prisma.alert.findMany({ where: { subjectType: 'check_task', subjectId: r.instance.checkTaskId, clearReason: `已提交排查记录 #${r.id}` }, select: { id: true }, orderBy: { id: 'asc' } }),
    prisma.alert.findFirst({ where: { kind: 'abnormal_reading', subjectType: 'check_record', subjectId: r.id }, select: { id: true }, orderBy: { id: 'asc' } }),
    prisma.hazard.findFirst({ where: { enterpriseId: r.enterpriseId, checkRecordId: r.id, transitions: { some: { action: 'draft' } } }, select: { id: true }, orderBy: { id: 'asc' } }),
  ]);
  return {
    checkRecordId: r.id,
    result: r.result,
    resultAdjusted: r.result !== inputResult,
    clearedAlerts: cleared.map((a) => a.id),
    abnormalAlertId: abnormalAlert?.id ?? null,
    abnormal: r.readings.some((x) => x.abnormal),
    hazardDraftId: draft?.id ?? null,
    duplicate: true as const,
  };
}

/**
 * POST /check-records.
 * @returns { checkRecordId, result, resultAdjusted, clearedAlerts, abnormalAlertId, abnormal, hazardDraftId, duplicate? }
 * @throws 404 not_found, 403 forbidden, 409 already_done / instance_closed / outside_window / client_request_id_reused,
 *         400 photo_required / no_parameter / invalid_reading / readings_not_applicable / invalid_location /
 *         too_many_photos / duplicate_files, 404 file_not_found
 */
export async function submitCheckRecord(prisma: PrismaClient, clock: Clock, actor: Actor, input: CheckRecordInput) {
  const key = input.clientRequestId?.trim() || null;
  if (!key) return submitOnce(prisma, clock, actor, input, null);
  const before = await recordedBefore(prisma, actor, key, input.result);
  if (before) return before;
  try {
    return await submitOnce(prisma, clock, actor, input, key);
  } catch (e) {
    // a racing repeat lost (the instance was claimed, or the key's unique index refused the row):
    // the winner's record answers
    const err = e as { code?: string; message?: string };
    if ((e instanceof AppError && e.code === 'already_done') || err?.code === 'P2002' || /Duplicate entry|\b1062\b/.test(String(err?.message ?? ''))) {
      const won = await recordedBefore(prisma, actor, key, input.result);
      if (won) return won;
    }
    throw e;
  }
}

/**
 * Idempotency (`clientRequestId`): a repeat of a submitted record — also one racing the first —
 * creates nothing and answers the first record with `duplicate: true` (recordedBefore).
 */
async function submitOnce(prisma: PrismaClient, clock: Clock, actor: Actor, input: CheckRecordInput, clientRequestId: string | null) {
  const now = clock.now();
  const inst = await prisma.checkTaskInstance.findUnique({
    where: { id: input.instanceId },
    include: { checkTask: { include: { controlMeasure: { include: { riskEvent: { select: { riskUnitId: true, riskUnit: { select: { shutdowns: true } } } } } } } } },
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

  const m = task.controlMeasure;
  const shutDown = isSuspendedBy(inst, m?.riskEvent.riskUnit.shutdowns ?? []);
  if (inst.state === 'done') throw conflict('already_done', '该排查任务已完成', 'this instance already has a check record');
  if (inst.state !== 'pending' || shutDown)
    throw conflict('instance_closed', inst.state === 'suspended' || shutDown ? '该单元停用检修，任务已暂停，无需排查' : '排查时段已结束，不能补录', `instance is ${shutDown ? 'suspended' : inst.state}`);
  if (now < inst.startAt || now >= inst.endAt)
    throw conflict(
      'outside_window',
      now < inst.startAt ? `排查时段尚未开始（${inst.startAt.toISOString()} 起），不能提前提交` : '排查时段已结束，不能补录',
      `outside the instance window [${inst.startAt.toISOString()}, ${inst.endAt.toISOString()})`,
    );

  const photos = input.photos ?? [];
  if (photoRequired(task.checkMeans) && photos.length === 0) throw badRequest('photo_required', '该任务的排查方式为拍照，请上传现场照片', 'this task\'s check means is 拍照 (photo): at least one photo is required');
  if ((input.latitude == null) !== (input.longitude == null)) throw badRequest('invalid_location', '经纬度须同时填写', 'latitude and longitude go together');
  const readings = input.readings ?? [];
  if (readings.length && (!m || !m.paramName)) throw badRequest('no_parameter', '该管控措施没有关键参数，不能填写读数', 'the control measure has no key parameter');
  if (readings.some((r) => !Number.isFinite(r.value))) throw badRequest('invalid_reading', '读数须为数字', 'readings must be finite numbers');
  if (readings.length && input.result === CHECK_RESULTS.not_applicable) throw badRequest('readings_not_applicable', '“无需排查”的记录不能填写读数', 'a not-applicable record (result 2) carries no readings');
  const min = num(m?.paramMin);
  const max = num(m?.paramMax);
  const abnormal = readings.filter((r) => isAbnormalReading(r.value, min, max));
  const result = abnormal.length ? CHECK_RESULTS.hazard_found : input.result;
  const tz = await enterpriseZone(prisma, inst.enterpriseId);

  return withCodeRetry(() =>
    prisma.$transaction(async (tx) => {
      await assertFilesUsable(tx, actor.enterpriseId, photos, { max: MAX_PHOTOS_PER_HAZARD });
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
          result,
          note: input.note ?? null,
          photos: photos.length ? photos : undefined,
          location: input.location ?? null,
          latitude: input.latitude ?? null,
          longitude: input.longitude ?? null,
          clientRequestId,
          readings: m?.paramName
            ? { create: readings.map((r) => ({ controlMeasureId: m.id, paramName: m.paramName!, unit: m.paramUnit, value: r.value, safeMin: m.paramMin, safeMax: m.paramMax, abnormal: isAbnormalReading(r.value, min, max) })) }
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
      const subject = abnormal.length || result === CHECK_RESULTS.hazard_found ? await loadTaskSubject(tx, task.id) : null;
      let abnormalAlertId: number | null = null;
      if (abnormal.length && m && subject) {
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
      let hazardDraftId: number | null = null;
      if (subject) {
        const name = abnormal.length && m ? readingDraftName(m.paramName!, abnormal[0].value, m.paramUnit, min, max) : input.note?.trim() || `排查发现隐患：${task.content}`;
        const description = [
          `排查任务 ${task.code}：${task.content}`,
          m ? `管控措施：${m.description}` : null,
          ...abnormal.map((r) => `读数：${m!.paramName} ${r.value}${m!.paramUnit ? ` ${m!.paramUnit}` : ''}（安全范围 ${safeRangeText(min, max, m!.paramUnit)}）`),
          input.note?.trim() ? `现场说明：${input.note.trim()}` : null,
        ]
          .filter(Boolean)
          .join('\n');
        hazardDraftId = await createHazardDraft(
          tx,
          {
            enterpriseId: inst.enterpriseId,
            tz,
            reporterId: actor.personId,
            name,
            description,
            riskUnitId: m?.riskEvent.riskUnitId ?? null,
            controlMeasureId: m?.id ?? null,
            checkRecordId: record.id,
            dangerSrc: prefillDangerSrc(),
            hazardDangerType: prefillDangerType(m?.classify1 ?? null, m?.classify2 ?? null),
            hazardCategory: hazardCategoryOf(task.workType),
            photos,
            location: input.location ?? null,
            latitude: input.latitude ?? null,
            longitude: input.longitude ?? null,
            comment: `由排查记录 #${record.id} 生成（${abnormal.length ? '读数超出安全范围' : CHECK_RESULT_NAMES[result]}）`,
          },
          now,
        );
      }
      return {
        checkRecordId: record.id,
        result,
        resultAdjusted: result !== input.result,
        clearedAlerts: cleared,
        abnormalAlertId,
        abnormal: abnormal.length > 0,
        hazardDraftId,
      };
    }),
  );
}

// ───────────────────────────── list ─────────────────────────────

export interface CheckRecordQuery {
  limit: number;
  offset: number;
  taskId?: number;
  instanceId?: number;
  personId?: number;
  unitId?: number;
  result?: 0 | 1 | 2;
  /** only records with (true) / without (false) an abnormal reading */
  abnormal?: boolean;
  /** local dates (enterprise zone), inclusive, on checkedAt */
  from?: string;
  to?: string;
}

/**
 * GET /check-records, newest first.
 * @param fileBase e.g. `${publicUrl}/api/v1/files`
 * @returns `{ total, items }`; each item: id, checkedAt, person, task {id, code, content}, instance window,
 *          result (+ name), isDefend, readings (value, unit, safe range, abnormal), photos, location,
 *          latitude/longitude, deviceId, note, hazards [{ id, code, state }]
 */
export async function listCheckRecords(prisma: PrismaClient, actor: Actor, q: CheckRecordQuery, fileBase: string) {
  const tz = await enterpriseZone(prisma, actor.enterpriseId);
  const and: Prisma.CheckRecordWhereInput[] = [{ enterpriseId: actor.enterpriseId }];
  if (q.instanceId !== undefined) and.push({ instanceId: q.instanceId });
  if (q.taskId !== undefined) and.push({ instance: { checkTaskId: q.taskId } });
  if (q.personId !== undefined) and.push({ personId: q.personId });
  if (q.unitId !== undefined) and.push({ instance: { checkTask: { controlMeasure: { riskEvent: { riskUnitId: q.unitId } } } } });
  if (q.result !== undefined) and.push({ result: q.result });
  if (q.abnormal !== undefined) and.push(q.abnormal ? { readings: { some: { abnormal: true } } } : { readings: { none: { abnormal: true } } });
  if (q.from) and.push({ checkedAt: { gte: localMidnight(q.from, tz) } });
  if (q.to) and.push({ checkedAt: { lt: endOfLocalDay(q.to, tz) } });
  const where: Prisma.CheckRecordWhereInput = { AND: and };
  const [total, rows] = await Promise.all([
    prisma.checkRecord.count({ where }),
    prisma.checkRecord.findMany({
      where,
      orderBy: [{ checkedAt: 'desc' }, { id: 'desc' }],
      take: q.limit,
      skip: q.offset,
      include: {
        person: { select: { id: true, name: true } },
        instance: { select: { id: true, startAt: true, endAt: true, checkTask: { select: { id: true, code: true, content: true } } } },
        readings: { orderBy: { id: 'asc' } },
        hazards: { where: { state: { not: 'draft' } }, select: { id: true, code: true, state: true } },
      },
    }),
  ]);
  const photos = await photoResolver(prisma, actor.enterpriseId, rows.map((r) => r.photos), fileBase);
  return {
    total,
    items: rows.map((r) => ({
      id: r.id,
      checkedAt: r.checkedAt,
      person: r.person,
      task: r.instance.checkTask,
      instance: { id: r.instance.id, startAt: r.instance.startAt, endAt: r.instance.endAt },
      result: r.result,
      resultName: CHECK_RESULT_NAMES[r.result] ?? null,
      isDefend: r.isDefend,
      readings: r.readings.map((x) => ({ paramName: x.paramName, unit: x.unit, value: num(x.value), safeMin: num(x.safeMin), safeMax: num(x.safeMax), abnormal: x.abnormal })),
      photos: photos(r.photos),
      location: r.location,
      latitude: num(r.latitude),
      longitude: num(r.longitude),
      deviceId: r.deviceId,
      note: r.note,
      hazards: r.hazards,
    })),
  };
}
