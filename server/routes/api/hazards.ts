/**
 * Hazard endpoints (隐患): report (or from a draft), 即查即改, reject, 治理方案, confirm, rectify,
 * accept, send back, extensions (延期), the list and one hazard. Rules: services/hazards.ts,
 * services/hazard-extensions.ts, services/hazard-queries.ts; domain/hazard-state.ts, hazard-rules.ts.
 */
import { z } from 'zod';
import type { ApiRegistry } from './registry';
import { dateRangeQuery, pageQuery } from './paging';
import { HAZARD_STATES } from '../../domain/hazard-state';
import { DANGER_LEVEL_NAMES, DANGER_MANAGE_TYPE_NAMES, DANGER_SRC_NAMES, HAZARD_CATEGORY_NAMES, HAZARD_DANGER_TYPE_NAMES, hazardPlanSchema, MANAGE_CLASS_NAMES } from '../../domain/hazard-rules';
import { MAJOR_CRITERIA } from '../../domain/major-criteria';
import { acceptHazard, confirmHazard, discardDraft, quickFixHazard, rectifyHazard, rejectHazard, reportDraft, reportHazard, sendBackHazard, setHazardPlan } from '../../services/hazards';
import { approveExtension, rejectExtension, requestExtension } from '../../services/hazard-extensions';
import { getHazardView, listHazards } from '../../services/hazard-queries';
import { CLIENT_REQUEST_ID_MAX, EXTENSION_REASON_MAX, HAZARD_DESCRIPTION_MAX, HAZARD_NAME_MAX, MEASURES_MAX, NOTE_MAX } from '../../../miniprogram/shared/contract';
import { dateOrInstantText, id, idParams, idText, localDate, optionalText, text } from '../../domain/inputs';

const extParams = idParams.extend({ extId: idText });
/** step comments, notes and reasons: several lines; blank → the service's own *_required answer */
const note = (max: number) => text(max, { multiline: true, blank: 'service' });
const optionalNote = (max: number) => optionalText(max, { multiline: true });
/** StoredFile ids from POST /files; the count limit (9) is checked by the service → 400 too_many_photos */
const fileIds = z.array(id).max(100);
const level = z.union([z.literal(0), z.literal(1)]);

const reportFields = {
  name: text(HAZARD_NAME_MAX),
  description: optionalNote(HAZARD_DESCRIPTION_MAX),
  photos: fileIds.optional().describe('before-photos: StoredFile ids (≤ 9)'),
  location: optionalText(255),
  latitude: z.number().min(-90).max(90).optional().describe('WGS-84 degrees'),
  longitude: z.number().min(-180).max(180).optional().describe('WGS-84 degrees'),
  riskUnitId: id.optional(),
  controlMeasureId: id.optional().describe('must belong to riskUnitId'),
  checkRecordId: id.optional().describe('the check record it came from'),
  dangerLevel: level.optional().describe('0 一般, 1 重大 (a majorCriterion forces 1)'),
  dangerSrc: z.number().int().min(1).max(10).describe('1..10; 10 = government-found (needs enforcementId and foundAt)'),
  hazardDangerType: z.number().int().min(1).max(8).describe('1 安全 2 工艺 3 电气 4 仪表 5 消防 6 总图 7 设备 8 其他'),
  manageClass: z.number().int().min(1).max(3).optional().describe('1 人的不安全行为 2 物的不安全状态 3 管理上的缺陷'),
  majorCriterion: z.number().int().min(1).max(20).optional().describe('1..20 of the 重大隐患判定标准 (GET /hazard-codes)'),
  enforcementId: optionalText(64).describe('执法编号 (dangerSrc 10 only)'),
  foundAt: dateOrInstantText.optional().describe('date found: YYYY-MM-DD (local) or an ISO instant, from 2000 on; not in the future (a few minutes of phone clock skew are tolerated); default now'),
};
const reportBody = z.object(reportFields);
/** idempotency key of the phone's offline queue (miniprogram/shared/contract.ts CLIENT_REQUEST_ID_MAX) */
export const clientRequestId = z.string().trim().min(1).max(CLIENT_REQUEST_ID_MAX).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces').describe('idempotency key made on the phone (e.g. a UUID): a repeat answers the first result');
const stepResult = z.object({ hazardId: z.number().int(), state: z.enum(HAZARD_STATES) }).loose();

export function registerHazardRoutes(api: ApiRegistry): void {
  api.add({
    method: 'get',
    path: '/hazard-codes',
    permission: 'hazards.read',
    tags: ['hazards'],
    summary: 'Display names of the national hazard codes and the 20 重大隐患判定标准 criteria (for pick lists)',
    handler: async () => ({
      dangerLevel: DANGER_LEVEL_NAMES,
      dangerSrc: DANGER_SRC_NAMES,
      hazardDangerType: HAZARD_DANGER_TYPE_NAMES,
      dangerManageType: DANGER_MANAGE_TYPE_NAMES,
      manageClass: MANAGE_CLASS_NAMES,
      hazardCategory: HAZARD_CATEGORY_NAMES,
      majorCriteria: MAJOR_CRITERIA,
    }),
  });

  api.add({
    method: 'get',
    path: '/hazards',
    permission: 'hazards.read',
    tags: ['hazards'],
    summary: 'Hazards, newest first, with filters: state, level, overdue, unit, person (reporter/rectifier/acceptor), reportedAt date range',
    description: 'Drafts are listed only with state=draft, and only one\'s own (oversight roles: all).',
    query: pageQuery.merge(dateRangeQuery).extend({
      state: z
        .string()
        .optional()
        .transform((s, ctx) => {
          if (!s) return undefined;
          const list = s.split(',').map((x) => x.trim()).filter(Boolean);
          const bad = list.filter((x) => !(HAZARD_STATES as readonly string[]).includes(x));
          if (bad.length) {
            ctx.addIssue({ code: 'custom', message: `unknown state ${bad.join(', ')} (one or more of ${HAZARD_STATES.join(', ')}, comma-separated)` });
            return z.NEVER;
          }
          return list as Array<(typeof HAZARD_STATES)[number]>;
        })
        .describe(`one or more of ${HAZARD_STATES.join(', ')}, comma-separated`),
      level: z.enum(['0', '1']).transform((x) => Number(x) as 0 | 1).optional().describe('0 一般, 1 重大'),
      overdue: z.enum(['true', 'false']).transform((x) => x === 'true').optional(),
      pendingExtension: z.enum(['true', 'false']).transform((x) => x === 'true').optional(),
      unitId: idText.optional(),
      personId: idText.optional(),
      q: optionalText(64).describe('text in the name or code'),
    }),
    handler: ({ deps, actor, query }) => listHazards(deps.prisma, deps.clock, actor, query),
  });

  api.add({
    method: 'post',
    path: '/hazards',
    permission: 'hazards.report',
    tags: ['hazards'],
    summary: '上报隐患: a new hazard (待确认); a 重大隐患 reaches the 主要负责人 at the next tick',
    description:
      'With clientRequestId (made once on the phone, e.g. a UUID) the report is idempotent: sending it again — even while the first request is still running — ' +
      'creates no second hazard and answers 200 with the first report and duplicate: true (201 the first time).',
    body: reportBody.extend({ clientRequestId: clientRequestId.optional() }),
    successStatus: 201,
    response: z.object({ hazardId: z.number().int(), code: z.string(), state: z.literal('reported'), dangerLevel: z.number().int(), duplicate: z.literal(true).optional() }),
    handler: async ({ deps, actor, body, status }) => {
      const r = await reportHazard(deps.prisma, deps.clock, actor, body);
      if ('duplicate' in r) status(200);
      return r;
    },
  });

  api.add({
    method: 'post',
    path: '/hazards/quick-fix',
    permission: 'hazards.report',
    tags: ['hazards'],
    summary: '即查即改: report, rectify and close a 一般隐患 in one step with the after-photo (a 重大隐患 → 400 major_no_quick_fix)',
    body: reportBody.extend({
      measures: text(MEASURES_MAX, { multiline: true }).describe('what was done on the spot'),
      cost: z.number().min(0).max(1e10).optional().describe('元'),
      afterPhotos: fileIds.describe('≥ 1 after-photo'),
      comment: optionalNote(NOTE_MAX),
    }),
    successStatus: 201,
    handler: ({ deps, actor, body }) => quickFixHazard(deps.prisma, deps.clock, actor, body),
  });

  api.add({
    method: 'get',
    path: '/hazards/:id',
    permission: 'hazards.read',
    tags: ['hazards'],
    summary: 'A hazard with photos (URLs), its step log (who, when, comment, photos), extensions and 治理方案',
    params: idParams,
    handler: ({ deps, actor, params }) => getHazardView(deps.prisma, deps.clock, actor, params.id, `${deps.publicUrl}/api/v1/files`),
  });

  api.add({
    method: 'post',
    path: '/hazards/:id/report',
    permission: 'hazards.report',
    tags: ['hazards'],
    summary: '上报草稿: the draft\'s author reports it, changing any field on the way',
    params: idParams,
    body: reportBody.partial(),
    response: stepResult,
    handler: ({ deps, actor, params, body }) => reportDraft(deps.prisma, deps.clock, actor, params.id, body),
  });

  api.add({
    method: 'post',
    path: '/hazards/:id/reject',
    permission: 'hazards.confirm',
    tags: ['hazards'],
    summary: '判定不属于隐患: a manager of the hazard rejects a draft or a reported hazard (comment required); its alerts end',
    params: idParams,
    body: z.object({ comment: note(NOTE_MAX) }),
    response: stepResult,
    handler: ({ deps, actor, params, body }) => rejectHazard(deps.prisma, deps.clock, actor, params.id, body),
  });

  api.add({
    method: 'delete',
    path: '/hazards/:id',
    permission: 'hazards.report',
    tags: ['hazards'],
    summary: '删除草稿: the drafter (or an oversight role) discards a draft never reported; the reading it came from keeps its alert',
    params: idParams,
    handler: ({ deps, actor, params }) => discardDraft(deps.prisma, actor, params.id),
  });

  api.add({
    method: 'put',
    path: '/hazards/:id/plan',
    permission: 'hazards.confirm',
    tags: ['hazards'],
    summary: '治理方案 of a 重大隐患 (goals, measures, funds 元, people, timeLimit, safety and emergency measures — all required)',
    params: idParams,
    body: hazardPlanSchema,
    handler: ({ deps, actor, params, body }) => setHazardPlan(deps.prisma, deps.clock, actor, params.id, body),
  });

  api.add({
    method: 'post',
    path: '/hazards/:id/confirm',
    permission: 'hazards.confirm',
    tags: ['hazards'],
    summary: '确认隐患: level, type, source, management type, risk unit, rectifier, acceptor and deadline (a local date; it ends at local midnight). A 重大隐患 needs its plan first (400 plan_required)',
    params: idParams,
    body: z.object({
      rectifierId: id,
      acceptorId: id,
      deadlineDate: localDate,
      dangerLevel: level.optional(),
      hazardDangerType: z.number().int().min(1).max(8).optional(),
      dangerSrc: z.number().int().min(1).max(10).optional(),
      enforcementId: optionalText(64),
      dangerManageType: level.optional().describe('0 即查即改, 1 限期整改 (default)'),
      manageClass: z.number().int().min(1).max(3).optional(),
      majorCriterion: z.number().int().min(1).max(20).optional(),
      riskUnitId: id.optional().describe('place a hazard reported without one (e.g. from a chat photo) in its risk unit'),
      comment: optionalNote(NOTE_MAX),
    }),
    response: stepResult,
    handler: ({ deps, actor, params, body }) => confirmHazard(deps.prisma, deps.clock, actor, params.id, body),
  });

  api.add({
    method: 'post',
    path: '/hazards/:id/rectify',
    permission: 'hazards.rectify',
    tags: ['hazards'],
    summary: '整改完成: the rectifier (or a superior) reports the measures taken with ≥ 1 after-photo; waits for acceptance',
    params: idParams,
    body: z.object({
      measures: note(MEASURES_MAX),
      cost: z.number().min(0).max(1e10).optional().describe('元'),
      cause: optionalNote(2000),
      afterPhotos: fileIds.describe('≥ 1 after-photo (400 after_photo_required)'),
      comment: optionalNote(NOTE_MAX),
    }),
    response: stepResult,
    handler: ({ deps, actor, params, body }) => rectifyHazard(deps.prisma, deps.clock, actor, params.id, body),
  });

  api.add({
    method: 'post',
    path: '/hazards/:id/accept',
    permission: 'hazards.accept',
    tags: ['hazards'],
    summary: '验收: the acceptor closes the hazard; its alerts clear (and the abnormal-reading alert it came from)',
    params: idParams,
    body: z.object({ comment: optionalNote(500), photos: fileIds.optional() }),
    response: stepResult,
    handler: ({ deps, actor, params, body }) => acceptHazard(deps.prisma, deps.clock, actor, params.id, body),
  });

  api.add({
    method: 'post',
    path: '/hazards/:id/send-back',
    permission: 'hazards.accept',
    tags: ['hazards'],
    summary: '退回: the acceptor sends the hazard back to rectifying (comment required)',
    params: idParams,
    body: z.object({ comment: note(NOTE_MAX), photos: fileIds.optional() }),
    response: stepResult,
    handler: ({ deps, actor, params, body }) => sendBackHazard(deps.prisma, deps.clock, actor, params.id, body),
  });

  api.add({
    method: 'post',
    path: '/hazards/:id/extensions',
    permission: 'hazards.extend.request',
    tags: ['hazards'],
    summary: '申请延期: the rectifier (or a superior) asks for a later deadline while rectifying; one pending request at a time (409 extension_pending)',
    params: idParams,
    body: z.object({ requestedDate: localDate.describe('after the current deadline, not in the past'), reason: note(EXTENSION_REASON_MAX) }),
    successStatus: 201,
    handler: ({ deps, actor, params, body }) => requestExtension(deps.prisma, deps.clock, actor, params.id, body),
  });

  api.add({
    method: 'post',
    path: '/hazards/:id/extensions/:extId/approve',
    permission: 'hazards.extend.decide',
    tags: ['hazards'],
    summary: '批准延期: 一般隐患 — the unit\'s department head, safety dept/director or 主要负责人; 重大隐患 — the 主要负责人 only. Moves the deadline; an overdue alert clears',
    params: extParams,
    body: z.object({ comment: optionalNote(NOTE_MAX) }),
    handler: ({ deps, actor, params, body }) => approveExtension(deps.prisma, deps.clock, actor, params.id, params.extId, body),
  });

  api.add({
    method: 'post',
    path: '/hazards/:id/extensions/:extId/reject',
    permission: 'hazards.extend.decide',
    tags: ['hazards'],
    summary: '驳回延期 (comment required): the deadline and alerts stay as they were',
    params: extParams,
    body: z.object({ comment: note(NOTE_MAX) }),
    handler: ({ deps, actor, params, body }) => rejectExtension(deps.prisma, deps.clock, actor, params.id, params.extId, body),
  });
}
