/**
 * The three lists (三清单) endpoints under /lists (rules: services/lists.ts, domain/three-lists.ts;
 * Excel: services/lists-excel.ts, template: docs/three-lists-template.md).
 *
 * For each level — major-hazard-sources (with their three 包保责任人), risk-objects, risk-units,
 * risk-events, control-measures, check-tasks:
 *   GET    /lists/<level>          page `{ total, items }` with filters (`?q=` searches code and name)
 *   GET    /lists/<level>/:id
 *   POST   /lists/<level>          → 201 the item
 *   PATCH  /lists/<level>/:id      partial: an absent field is kept, null clears an optional one
 *   DELETE /lists/<level>/:id      → `{ deleted: true }`; 409 `in_use` while something depends on it;
 *                                  a check task with history → `{ deleted: false, disabled: true }`
 * Excel:
 *   GET  /lists/export.xlsx   the enterprise's lists (lists.read)
 *   GET  /lists/template.xlsx the empty template (lists.read)
 *   POST /lists/import        the .xlsx as the raw body (Content-Type
 *                             application/vnd.openxmlformats-officedocument.spreadsheetml.sheet or
 *                             application/octet-stream) or multipart/form-data field `file`;
 *                             `?dryRun=true` validates only (lists.import)
 * References in JSON bodies are ids of the same enterprise (the Excel file uses codes).
 */
import multer from '@koa/multer';
import type { Context } from 'koa';
import { z } from 'zod';
import type { ApiRegistry } from './registry';
import { pageOf, pageQuery } from './paging';
import { AppError } from '../../errors';
import { RISK_LEVELS } from '../../domain/three-lists';
import {
  deleteCheckTask,
  deleteControlMeasure,
  deleteMajorHazardSource,
  deleteRiskEvent,
  deleteRiskObject,
  deleteRiskUnit,
  getCheckTask,
  getControlMeasure,
  getMajorHazardSource,
  getRiskEvent,
  getRiskObject,
  getRiskUnit,
  listCheckTasks,
  listControlMeasures,
  listMajorHazardSources,
  listRiskEvents,
  listRiskObjects,
  listRiskUnits,
  saveCheckTask,
  saveControlMeasure,
  saveMajorHazardSource,
  saveRiskEvent,
  saveRiskObject,
  saveRiskUnit,
} from '../../services/lists';
import { exportLists, importLists, IMPORT_LIMITS, templateWorkbook, tooLarge, XLSX_MIME } from '../../services/lists-excel';
import { id, idParams, idText, instant, INT_MAX, intText, optionalText } from '../../domain/inputs';
import { trimText } from '../../../miniprogram/shared/contract';

/** text of a list item: trimmed here (blanks and invisible characters at the ends); its rules (code charset, control characters, lengths) are domain/three-lists.ts's, shared with the Excel import */
const str = z.string().transform(trimText);
const qId = idText.optional();
const qInt = intText({ min: -INT_MAX, max: INT_MAX }).optional();
const qBool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1').optional();
const search = { q: optionalText(64).describe('contains, on code and name (literally: % and _ match themselves)') };

const ref = z.object({ id: z.number().int(), code: z.string(), name: z.string() }).nullable();
const stamps = { createdAt: z.string(), updatedAt: z.string() };

// ── bodies (value rules, with Chinese messages, are in domain/three-lists.ts) ──

const mhsBody = z.strictObject({
  code: str,
  name: str,
  hazardCode: str.describe('national 危险源 code'),
  level: z.number().int().describe('1..4 (一级..四级)'),
  rValue: z.number().nullable().optional(),
  principalId: id.describe('主要负责人 (person id)'),
  technicalId: id.describe('技术负责人 (person id)'),
  operationalId: id.describe('操作负责人 (person id)'),
});
const mhsItem = z.object({
  id: z.number().int(),
  code: z.string(),
  name: z.string(),
  hazardCode: z.string(),
  level: z.number().int(),
  levelName: z.string().nullable(),
  rValue: z.number().nullable(),
  principal: ref,
  technical: ref,
  operational: ref,
  ...stamps,
});

const roBody = z.strictObject({
  code: str,
  name: str,
  type: str.describe('重大危险源 / 高危工艺装置 / 设施设备 …'),
  hazardCode: str.nullable().optional().describe('empty: taken from the major hazard source'),
  majorHazardSourceId: id.nullable().optional(),
  departmentId: id,
});
const roItem = z.object({ id: z.number().int(), code: z.string(), name: z.string(), type: z.string(), hazardCode: z.string().nullable(), majorHazardSource: ref, department: ref, ...stamps });

const ruBody = z.strictObject({ code: str, name: str, riskObjectId: id, departmentId: id, headPersonId: id.describe('the unit’s responsible person') });
const ruItem = z.object({ id: z.number().int(), code: z.string(), name: z.string(), riskObject: ref, department: ref, head: ref, ...stamps });

const ls = z.number().int().describe('1..5');
const reBody = z.strictObject({ code: str, name: str, description: str.nullable().optional(), riskUnitId: id, l0: ls, s0: ls, l: ls, s: ls });
const level = z.enum(RISK_LEVELS as [string, ...string[]]);
const reItem = z.object({
  id: z.number().int(),
  code: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  riskUnit: ref,
  l0: z.number().int(),
  s0: z.number().int(),
  l: z.number().int(),
  s: z.number().int(),
  r0: z.number().int(),
  level0: level,
  level0Name: z.string(),
  r: z.number().int(),
  level: level.describe('red 重大 / orange 较大 / yellow 一般 / blue 低 (default bands 20–25 / 15–19 / 9–14 / ≤8)'),
  levelName: z.string(),
  ...stamps,
});

const cmBody = z.strictObject({
  code: str,
  riskEventId: id,
  description: str,
  dataSrc: z.number().int().describe('管控方式: 1 自动化监控, 2 隐患排查'),
  classify1: z.number().int().describe('1 工程技术, 2 维护保养, 3 操作行为, 4 应急措施'),
  classify2: str.describe('sub-code "a-b" of classify1, e.g. 1-4 安全仪表'),
  classify3: str.nullable().optional(),
  checkContent: str.nullable().optional(),
  paramName: str.nullable().optional().describe('key parameter, e.g. 储罐压力'),
  paramUnit: str.nullable().optional().describe('e.g. MPa, %, ℃'),
  paramMin: z.number().nullable().optional().describe('safe minimum, in paramUnit'),
  paramMax: z.number().nullable().optional().describe('safe maximum, in paramUnit (≥ paramMin)'),
});
const cmItem = z.object({
  id: z.number().int(),
  code: z.string(),
  riskEvent: ref,
  description: z.string(),
  dataSrc: z.number().int(),
  dataSrcName: z.string().nullable(),
  classify1: z.number().int(),
  classify1Name: z.string().nullable(),
  classify2: z.string(),
  classify2Name: z.string().nullable(),
  classify3: z.string().nullable(),
  checkContent: z.string().nullable(),
  paramName: z.string().nullable(),
  paramUnit: z.string().nullable(),
  paramMin: z.number().nullable(),
  paramMax: z.number().nullable(),
  ...stamps,
});

const hhmm = str.nullable().optional();
const ctBody = z.strictObject({
  code: str,
  controlMeasureId: id.nullable().optional().describe('daily tasks (workType 0)'),
  majorHazardSourceId: id.nullable().optional().describe('包保 tasks (workType 1..3)'),
  content: str,
  checkCycle: z.number().int().describe('> 0, in checkCycleUnit'),
  checkCycleUnit: str.describe('小时 | 天 | 月 | 年'),
  taskStartTime: instant
    .nullable()
    .optional()
    .describe('ISO 8601 instant (2000–2099); its local date anchors the periods. Default: start of the current period'),
  workStartTime: hhmm.describe("hourly tasks: 'HH:mm' (default 00:00)"),
  workEndTime: hhmm.describe("hourly tasks: 'HH:mm' or '24:00' (default 24:00); ≤ start = past midnight"),
  workDayType: z.number().int().optional().describe('0 every day, 1 statutory working days, 2 non-working days'),
  workType: z.number().int().optional().describe('0 日常, 1 主要负责人, 2 技术负责人, 3 操作负责人'),
  taskNum: z.number().int().nullable().optional().describe('包保 checklist item: 1–9 / 1–9 / 1–10 for workType 1/2/3'),
  postId: id.nullable().optional(),
  personId: id.nullable().optional().describe('包保 tasks: default the source’s responsible person of the role'),
  checkMeans: str.describe('拍照 | 现场确认'),
  enabled: z.boolean().optional(),
});
const ctItem = z.object({
  id: z.number().int(),
  code: z.string(),
  controlMeasure: ref,
  majorHazardSource: ref,
  content: z.string(),
  checkCycle: z.number().int(),
  checkCycleUnit: z.string(),
  taskStartTime: z.string(),
  taskStartTimeLocal: z.string().describe("'YYYY-MM-DD HH:mm' in the enterprise's zone"),
  workStartTime: z.string().nullable(),
  workEndTime: z.string().nullable(),
  workDayType: z.number().int(),
  workType: z.number().int(),
  workTypeName: z.string().nullable(),
  taskNum: z.number().int().nullable(),
  post: ref,
  person: ref,
  checkMeans: z.string(),
  enabled: z.boolean(),
  activeFrom: z.string(),
  generatedUntil: z.string().nullable(),
  ...stamps,
});

const deleted = z.object({ deleted: z.boolean(), disabled: z.boolean().optional(), reason: z.string().optional(), reason_en: z.string().optional() });

/** Declares GET one / POST / PATCH / DELETE of a level. */
function crud<B extends z.ZodObject>(
  api: ApiRegistry,
  o: {
    path: string;
    tag: string;
    what: string;
    body: B;
    item: z.ZodType;
    get: Parameters<ApiRegistry['add']>[0]['handler'];
    create: (c: Parameters<Parameters<ApiRegistry['add']>[0]['handler']>[0], body: z.output<B>) => Promise<unknown>;
    update: (c: Parameters<Parameters<ApiRegistry['add']>[0]['handler']>[0], id: number, body: Partial<z.output<B>>) => Promise<unknown>;
    remove: (c: Parameters<Parameters<ApiRegistry['add']>[0]['handler']>[0], id: number) => Promise<unknown>;
  },
): void {
  const tags = ['lists', o.tag];
  api.add({ method: 'get', path: `${o.path}/:id`, permission: 'lists.read', tags, summary: `One ${o.what}`, params: idParams, response: o.item, handler: o.get });
  api.add({
    method: 'post',
    path: o.path,
    permission: 'lists.write',
    tags,
    summary: `Create a ${o.what}`,
    description: '400 invalid_input lists every problem (details: [{ path, message (zh), message_en }]); 409 duplicate_code when the code is taken',
    body: o.body,
    response: o.item,
    successStatus: 201,
    handler: (c) => o.create(c, c.body as z.output<B>),
  });
  api.add({
    method: 'patch',
    path: `${o.path}/:id`,
    permission: 'lists.write',
    tags,
    summary: `Change a ${o.what} (absent fields kept, null clears)`,
    params: idParams,
    body: o.body.partial(),
    response: o.item,
    handler: (c) => o.update(c, (c.params as { id: number }).id, c.body as Partial<z.output<B>>),
  });
  api.add({
    method: 'delete',
    path: `${o.path}/:id`,
    permission: 'lists.write',
    tags,
    summary: `Delete a ${o.what}; 409 in_use while list items or history depend on it`,
    params: idParams,
    response: deleted,
    handler: (c) => o.remove(c, (c.params as { id: number }).id),
  });
}

/**
 * The import body: the raw .xlsx, or multipart/form-data with the file in field `file`.
 * @throws AppError 413 import_too_large, 415 unsupported_media_type, 400 invalid_multipart
 */
async function receiveWorkbook(ctx: Context): Promise<Buffer> {
  if (ctx.is('multipart/form-data')) {
    const upload = multer({ storage: multer.memoryStorage(), limits: { fileSize: IMPORT_LIMITS.maxBytes, files: 1, fields: 10, parts: 11 } }).single('file');
    try {
      await upload(ctx as never, async () => undefined);
    } catch (err) {
      const e = err as { name?: string; code?: string; message?: string };
      if (e.code === 'LIMIT_FILE_SIZE') throw tooLarge();
      throw new AppError(400, 'invalid_multipart', '上传内容格式有误（Excel 文件应放在字段 file 中）', `malformed upload (the .xlsx goes in field "file"): ${e.message ?? e.code}`);
    }
    const file = (ctx.file ?? ctx.request.file) as multer.File | undefined;
    if (!file) throw new AppError(400, 'invalid_multipart', '没有收到文件（Excel 文件应放在字段 file 中）', 'no file in field "file"');
    return file.buffer;
  }
  if (!ctx.is(XLSX_MIME, 'application/octet-stream')) {
    throw new AppError(
      415,
      'unsupported_media_type',
      `请上传 Excel（.xlsx）文件：请求体为文件本身（Content-Type: ${XLSX_MIME}），或以 multipart/form-data 放在字段 file 中`,
      `send the .xlsx as the body (Content-Type: ${XLSX_MIME}) or as multipart/form-data field "file"`,
    );
  }
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > IMPORT_LIMITS.maxBytes) throw tooLarge();
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of ctx.req) {
    total += (chunk as Buffer).length;
    if (total > IMPORT_LIMITS.maxBytes) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function sendXlsx(ctx: Context, buffer: Buffer, filename: string): void {
  ctx.set('Content-Disposition', `attachment; filename="${filename.replace(/[^\x20-\x7e]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(filename)}`);
  ctx.set('Cache-Control', 'no-store');
  ctx.type = XLSX_MIME;
  ctx.body = buffer;
}

export function registerListRoutes(api: ApiRegistry): void {
  // ── Excel (declared before the /:id routes only for readability; paths do not collide) ──
  api.add({
    method: 'get',
    path: '/lists/export.xlsx',
    permission: 'lists.read',
    tags: ['lists', 'excel'],
    summary: 'The three lists as an .xlsx (one sheet per level, national code columns; docs/three-lists-template.md)',
    handler: async ({ ctx, deps, actor }) => {
      const { buffer, filename } = await exportLists(deps.prisma, deps.clock, actor);
      sendXlsx(ctx, buffer, filename);
      return undefined;
    },
  });
  api.add({
    method: 'get',
    path: '/lists/template.xlsx',
    permission: 'lists.read',
    tags: ['lists', 'excel'],
    summary: 'The empty import template: instructions sheet + one sheet per level with its headers',
    handler: async ({ ctx, deps }) => {
      sendXlsx(ctx, await templateWorkbook(deps.clock), '三清单导入模板.xlsx');
      return undefined;
    },
  });
  api.add({
    method: 'post',
    path: '/lists/import',
    permission: 'lists.import',
    tags: ['lists', 'excel'],
    summary: 'Import the three lists from an .xlsx: every row validated first, then all applied in one transaction (upsert by code)',
    description:
      `Body: the .xlsx itself (Content-Type ${XLSX_MIME}) or multipart/form-data field "file"; at most ${IMPORT_LIMITS.maxBytes} bytes. ` +
      'Any problem → 400 import_invalid with details.errors [{ sheet, row, column, message }] and nothing imported. ' +
      'Importing the same file twice changes nothing. ?dryRun=true validates and reports without writing.',
    query: z.object({ dryRun: qBool, enterpriseId: idText.optional() }),
    multipart: { field: 'file', maxFiles: 1, maxBytes: IMPORT_LIMITS.maxBytes },
    response: z.object({
      dryRun: z.boolean(),
      sheets: z.array(z.object({ sheet: z.string(), key: z.string(), created: z.number().int(), updated: z.number().int(), unchanged: z.number().int() })),
      rescheduledTasks: z.number().int(),
    }),
    handler: async ({ ctx, deps, actor, query }) => importLists(deps.prisma, deps.clock, actor, await receiveWorkbook(ctx), { dryRun: (query as { dryRun?: boolean }).dryRun }),
  });

  // ── 重大危险源 and their 包保责任人 ──
  api.add({
    method: 'get',
    path: '/lists/major-hazard-sources',
    permission: 'lists.read',
    tags: ['lists', 'major-hazard-sources'],
    summary: '重大危险源 with their three 包保责任人 (the responsibility list); ?personId= those a person is responsible for',
    query: pageQuery.extend({ ...search, level: qInt, personId: qId }),
    response: pageOf(mhsItem),
    handler: ({ deps, actor, query }) => listMajorHazardSources(deps.prisma, actor, query),
  });
  crud(api, {
    path: '/lists/major-hazard-sources',
    tag: 'major-hazard-sources',
    what: '重大危险源 (major hazard source) with its three 包保责任人; a new responsible person takes over that role’s 包保 tasks',
    body: mhsBody,
    item: mhsItem,
    get: ({ deps, actor, params }) => getMajorHazardSource(deps.prisma, actor, (params as { id: number }).id),
    create: ({ deps, actor }, b) => saveMajorHazardSource(deps.prisma, actor, null, b),
    update: ({ deps, actor }, i, b) => saveMajorHazardSource(deps.prisma, actor, i, b),
    remove: ({ deps, actor }, i) => deleteMajorHazardSource(deps.prisma, actor, i),
  });

  // ── 风险分析对象 ──
  api.add({
    method: 'get',
    path: '/lists/risk-objects',
    permission: 'lists.read',
    tags: ['lists', 'risk-objects'],
    summary: 'Risk objects (风险分析对象)',
    query: pageQuery.extend({ ...search, majorHazardSourceId: qId, departmentId: qId }),
    response: pageOf(roItem),
    handler: ({ deps, actor, query }) => listRiskObjects(deps.prisma, actor, query),
  });
  crud(api, {
    path: '/lists/risk-objects',
    tag: 'risk-objects',
    what: 'risk object (风险分析对象)',
    body: roBody,
    item: roItem,
    get: ({ deps, actor, params }) => getRiskObject(deps.prisma, actor, (params as { id: number }).id),
    create: ({ deps, actor }, b) => saveRiskObject(deps.prisma, actor, null, b),
    update: ({ deps, actor }, i, b) => saveRiskObject(deps.prisma, actor, i, b),
    remove: ({ deps, actor }, i) => deleteRiskObject(deps.prisma, actor, i),
  });

  // ── 风险分析单元 ──
  api.add({
    method: 'get',
    path: '/lists/risk-units',
    permission: 'lists.read',
    tags: ['lists', 'risk-units'],
    summary: 'Risk units (风险分析单元), with department and responsible person',
    query: pageQuery.extend({ ...search, riskObjectId: qId, departmentId: qId, headPersonId: qId }),
    response: pageOf(ruItem),
    handler: ({ deps, actor, query }) => listRiskUnits(deps.prisma, actor, query),
  });
  crud(api, {
    path: '/lists/risk-units',
    tag: 'risk-units',
    what: 'risk unit (风险分析单元)',
    body: ruBody,
    item: ruItem,
    get: ({ deps, actor, params }) => getRiskUnit(deps.prisma, actor, (params as { id: number }).id),
    create: ({ deps, actor }, b) => saveRiskUnit(deps.prisma, actor, null, b),
    update: ({ deps, actor }, i, b) => saveRiskUnit(deps.prisma, actor, i, b),
    remove: ({ deps, actor }, i) => deleteRiskUnit(deps.prisma, actor, i),
  });

  // ── 风险事件 ──
  api.add({
    method: 'get',
    path: '/lists/risk-events',
    permission: 'lists.read',
    tags: ['lists', 'risk-events'],
    summary: 'Risk events (风险事件) with R = L×S and level; ?level= residual, ?level0= initial (red|orange|yellow|blue)',
    query: pageQuery.extend({ ...search, riskUnitId: qId, riskObjectId: qId, level: level.optional(), level0: level.optional() }),
    response: pageOf(reItem),
    handler: ({ deps, actor, query }) => listRiskEvents(deps.prisma, actor, query as Parameters<typeof listRiskEvents>[2]),
  });
  crud(api, {
    path: '/lists/risk-events',
    tag: 'risk-events',
    what: 'risk event (风险事件); R and level are computed',
    body: reBody,
    item: reItem,
    get: ({ deps, actor, params }) => getRiskEvent(deps.prisma, actor, (params as { id: number }).id),
    create: ({ deps, actor }, b) => saveRiskEvent(deps.prisma, actor, null, b),
    update: ({ deps, actor }, i, b) => saveRiskEvent(deps.prisma, actor, i, b),
    remove: ({ deps, actor }, i) => deleteRiskEvent(deps.prisma, actor, i),
  });

  // ── 管控措施 ──
  api.add({
    method: 'get',
    path: '/lists/control-measures',
    permission: 'lists.read',
    tags: ['lists', 'control-measures'],
    summary: 'Control measures (管控措施) with national codes and the key parameter’s safe range',
    query: pageQuery.extend({ ...search, riskEventId: qId, riskUnitId: qId, dataSrc: qInt, classify1: qInt, classify2: optionalText(8), hasParameter: qBool }),
    response: pageOf(cmItem),
    handler: ({ deps, actor, query }) => listControlMeasures(deps.prisma, actor, query),
  });
  crud(api, {
    path: '/lists/control-measures',
    tag: 'control-measures',
    what: 'control measure (管控措施)',
    body: cmBody,
    item: cmItem,
    get: ({ deps, actor, params }) => getControlMeasure(deps.prisma, actor, (params as { id: number }).id),
    create: ({ deps, actor }, b) => saveControlMeasure(deps.prisma, actor, null, b),
    update: ({ deps, actor }, i, b) => saveControlMeasure(deps.prisma, actor, i, b),
    remove: ({ deps, actor }, i) => deleteControlMeasure(deps.prisma, actor, i),
  });

  // ── 排查任务 ──
  api.add({
    method: 'get',
    path: '/lists/check-tasks',
    permission: 'lists.read',
    tags: ['lists', 'check-tasks'],
    summary: 'Check tasks (隐患排查任务): who checks what how often',
    query: pageQuery.extend({
      ...search,
      controlMeasureId: qId,
      majorHazardSourceId: qId,
      riskUnitId: qId,
      postId: qId,
      personId: qId,
      workType: qInt,
      checkCycleUnit: z.enum(['小时', '天', '月', '年']).optional(),
      enabled: qBool,
    }),
    response: pageOf(ctItem),
    handler: ({ deps, actor, query }) => listCheckTasks(deps.prisma, actor, query),
  });
  crud(api, {
    path: '/lists/check-tasks',
    tag: 'check-tasks',
    what: 'check task (隐患排查任务); a schedule change or disabling re-lays its future instances',
    body: ctBody,
    item: ctItem,
    get: ({ deps, actor, params }) => getCheckTask(deps.prisma, actor, (params as { id: number }).id),
    create: ({ deps, actor }, b) => saveCheckTask(deps.prisma, deps.clock, actor, null, b),
    update: ({ deps, actor }, i, b) => saveCheckTask(deps.prisma, deps.clock, actor, i, b),
    remove: ({ deps, actor }, i) => deleteCheckTask(deps.prisma, deps.clock, actor, i),
  });
}
