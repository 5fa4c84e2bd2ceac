/** Inspection endpoints: my tasks now, submit a check record, the record list (rules: services/checks.ts). */
import { z } from 'zod';
import type { ApiRegistry } from './registry';
import { dateRangeQuery, pageQuery } from './paging';
import { listCheckRecords, listMyTasks, submitCheckRecord } from '../../services/checks';
import { clientRequestId } from './hazards';
import { id, idText, optionalText } from '../../domain/inputs';
import { CHECK_LOCATION_MAX, CHECK_NOTE_MAX, DEVICE_ID_MAX } from '../../../miniprogram/shared/contract';
const bool = z.enum(['true', 'false']).transform((x) => x === 'true');

export function registerCheckRoutes(api: ApiRegistry): void {
  api.add({
    method: 'get',
    path: '/me/tasks',
    permission: 'checks.read',
    tags: ['checks'],
    summary: 'My task instances open now (for me, or for my post), soonest due first: measure, key parameter with unit and safe range, check means, window, photo required',
    handler: ({ deps, actor }) => listMyTasks(deps.prisma, deps.clock, actor),
  });

  api.add({
    method: 'post',
    path: '/check-records',
    permission: 'checks.submit',
    tags: ['checks'],
    summary: 'Submit a check record for an open instance; a reading outside the safe range raises an alert at once and offers a hazard draft (hazardDraftId)',
    description:
      'Refused outside the instance window (409 outside_window), for a done / missed / suspended instance (409 already_done / instance_closed), ' +
      'without a photo when the task\'s check means is 拍照 (400 photo_required). ' +
      'With clientRequestId the submission is idempotent: a repeat (even a racing one) answers 200 with the first record and duplicate: true.',
    body: z.object({
      instanceId: id,
      /** 0 正常, 1 存在隐患, 2 无需排查 */
      result: z.union([z.literal(0), z.literal(1), z.literal(2)]).describe('0 正常, 1 存在隐患, 2 无需排查 (an abnormal reading makes it 1)'),
      readings: z.array(z.object({ value: z.number().gt(-1e10).lt(1e10).describe('in the key parameter\'s unit (MPa, %, ℃ …); |value| < 10^10 (stored as DECIMAL(14,4))') })).max(20).optional(),
      photos: z.array(id).max(100).optional().describe('StoredFile ids from POST /files (≤ 9)'),
      deviceId: optionalText(DEVICE_ID_MAX).describe('the phone\'s device id (IMEI)'),
      location: optionalText(CHECK_LOCATION_MAX),
      latitude: z.number().min(-90).max(90).optional().describe('WGS-84 degrees'),
      longitude: z.number().min(-180).max(180).optional().describe('WGS-84 degrees'),
      note: optionalText(CHECK_NOTE_MAX, { multiline: true }),
      clientRequestId: clientRequestId.optional(),
    }),
    successStatus: 201,
    response: z.object({
      checkRecordId: z.number().int(),
      result: z.number().int(),
      resultAdjusted: z.boolean(),
      clearedAlerts: z.array(z.number().int()),
      abnormalAlertId: z.number().int().nullable(),
      abnormal: z.boolean(),
      hazardDraftId: z.number().int().nullable(),
      duplicate: z.literal(true).optional(),
    }),
    handler: async ({ deps, actor, body, status }) => {
      const r = await submitCheckRecord(deps.prisma, deps.clock, actor, body);
      if ('duplicate' in r) status(200);
      return r;
    },
  });

  api.add({
    method: 'get',
    path: '/check-records',
    permission: 'checks.read',
    tags: ['checks'],
    summary: 'Check records, newest first, with filters: task, instance, person, unit, result, abnormal, checkedAt date range',
    query: pageQuery.merge(dateRangeQuery).extend({
      taskId: idText.optional(),
      instanceId: idText.optional(),
      personId: idText.optional(),
      unitId: idText.optional(),
      result: z.enum(['0', '1', '2']).transform((x) => Number(x) as 0 | 1 | 2).optional(),
      abnormal: bool.optional(),
    }),
    handler: ({ deps, actor, query }) => listCheckRecords(deps.prisma, actor, query, `${deps.publicUrl}/api/v1/files`),
  });
}
