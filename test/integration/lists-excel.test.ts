/**
 * The three lists in Excel over HTTP (issue #3 done-when: "Excel round trip: export the demo plant's
 * lists, import into an empty enterprise, export again: identical. A sheet with 3 bad rows is
 * rejected with 3 row-level errors and nothing imported"), plus: importing the same file twice
 * changes nothing (not even updatedAt), the template, Excel's own cell types (a 1-4 turned into a
 * date, times as fractions of a day, codes as numbers), missing columns, duplicate codes, unknown
 * references, multipart uploads, non-xlsx bodies, dry runs, and a schedule change by import.
 *
 * The second enterprise gets the demo's departments, posts and people (same codes) copied by the
 * test: the import references people, posts and departments by code and never creates them.
 */
import request from 'supertest';
import type { Server } from 'node:http';
import { Workbook, type Worksheet } from 'exceljs';
import { createTestSystem, T0, type TestSystem } from '../helpers/system';
import { issueApiToken } from '../../server/services/tokens';
import { SHEETS, INSTRUCTIONS_SHEET, XLSX_MIME, zipDeclaredSize } from '../../server/services/lists-excel';

const HOUR = 3_600_000;

let sys: TestSystem;
let http: Server;
let demoAdmin: string;
let demoId: number;

const binary = (res: request.Response, cb: (err: Error | null, body: Buffer) => void) => {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => cb(null, Buffer.concat(chunks)));
};

async function download(token: string, path: string): Promise<Buffer> {
  const res = await request(http).get(`/api/v1${path}`).set('authorization', `Bearer ${token}`).buffer(true).parse(binary as never).expect(200);
  expect(res.headers['content-type']).toBe(XLSX_MIME);
  expect(res.headers['content-disposition']).toMatch(/^attachment; filename="[^"]*\.xlsx"; filename\*=UTF-8''/);
  return res.body as Buffer;
}

const upload = (token: string, file: Buffer, query = '') =>
  request(http).post(`/api/v1/lists/import${query}`).set('authorization', `Bearer ${token}`).set('content-type', XLSX_MIME).send(file);

async function load(buf: Buffer): Promise<Workbook> {
  const wb = new Workbook();
  await wb.xlsx.load(buf as never);
  return wb;
}

/** Every sheet's cell values, in order: what "identical workbook content" means (metadata ignored). */
async function contents(buf: Buffer): Promise<Array<{ sheet: string; rows: unknown[][] }>> {
  const wb = await load(buf);
  return wb.worksheets.map((ws) => ({ sheet: ws.name, rows: rowsOf(ws) }));
}
function rowsOf(ws: Worksheet): unknown[][] {
  const rows: unknown[][] = [];
  ws.eachRow({ includeEmpty: true }, (row, n) => {
    const values: unknown[] = [];
    row.eachCell({ includeEmpty: true }, (cell, c) => (values[c - 1] = cell.value instanceof Date ? cell.value.toISOString() : cell.value ?? null));
    rows[n - 1] = values;
  });
  return rows;
}

/** Header → column number of a sheet. */
const col = (ws: Worksheet, header: string) => {
  let found = 0;
  ws.getRow(1).eachCell((c, i) => {
    if (c.value === header) found = i;
  });
  if (!found) throw new Error(`no column ${header} in ${ws.name}`);
  return found;
};

/** Every list row of an enterprise (updatedAt included) plus its task instances. */
async function listsOf(enterpriseId: number) {
  const p = sys.rt.prisma;
  const where = { where: { enterpriseId }, orderBy: { id: 'asc' as const } };
  const [mhs, ro, ru, re, cm, ct, inst] = await Promise.all([
    p.majorHazardSource.findMany(where),
    p.riskObject.findMany(where),
    p.riskUnit.findMany(where),
    p.riskEvent.findMany(where),
    p.controlMeasure.findMany(where),
    p.checkTask.findMany(where),
    p.checkTaskInstance.findMany(where),
  ]);
  return { mhs, ro, ru, re, cm, ct, inst };
}

/** An empty enterprise with the demo's departments, posts and people (same codes, names, roles). */
async function emptyEnterpriseLikeDemo(companyCode: string): Promise<{ id: number; admin: string }> {
  const p = sys.rt.prisma;
  const ent = await p.enterprise.create({ data: { companyCode, name: `空白企业 ${companyCode}`, timezone: 'Asia/Shanghai' } });
  const depts = await p.department.findMany({ where: { enterpriseId: demoId }, orderBy: { id: 'asc' } });
  const deptId = new Map<number, number>();
  for (const d of depts) deptId.set(d.id, (await p.department.create({ data: { enterpriseId: ent.id, code: d.code, name: d.name } })).id);
  const posts = await p.post.findMany({ where: { enterpriseId: demoId }, orderBy: { id: 'asc' } });
  const postId = new Map<number, number>();
  for (const x of posts) postId.set(x.id, (await p.post.create({ data: { enterpriseId: ent.id, code: x.code, name: x.name, departmentId: x.departmentId ? deptId.get(x.departmentId) : null } })).id);
  const people = await p.person.findMany({ where: { enterpriseId: demoId }, orderBy: { id: 'asc' } });
  let admin = '';
  for (const x of people) {
    const row = await p.person.create({
      data: { enterpriseId: ent.id, code: x.code, name: x.name, roles: x.roles as string[], postId: x.postId ? postId.get(x.postId) : null, departmentId: x.departmentId ? deptId.get(x.departmentId) : null },
    });
    if (x.code === 'p03') admin = await issueApiToken(p, row.id, 'test');
  }
  return { id: ent.id, admin };
}

beforeAll(async () => {
  sys = await createTestSystem({ now: T0 });
  http = sys.app.listen(0, '127.0.0.1');
  demoId = sys.enterpriseId!;
  demoAdmin = await sys.token('p03');
});
afterAll(async () => {
  await new Promise((r) => http?.close(r));
  await sys?.close();
});

describe('export', () => {
  it('one sheet per level with Chinese column names and the national code values, then the instructions', async () => {
    const wb = await load(await download(demoAdmin, '/lists/export.xlsx'));
    expect(wb.worksheets.map((w) => w.name)).toEqual(['重大危险源及包保责任', '风险分析对象', '风险分析单元', '风险事件', '管控措施', '排查任务', INSTRUCTIONS_SHEET]);
    const counts = Object.fromEntries(wb.worksheets.slice(0, 6).map((w) => [w.name, rowsOf(w).length - 1]));
    expect(counts).toEqual({ 重大危险源及包保责任: 2, 风险分析对象: 4, 风险分析单元: 4, 风险事件: 6, 管控措施: 13, 排查任务: 19 });
    const cm = wb.getWorksheet('管控措施')!;
    expect(rowsOf(cm)[0]).toEqual(SHEETS[4].columns.map((c) => c.header));
    expect(rowsOf(cm)[1]).toEqual(['CM1', 'RU1-E1', '储罐压力远传指示及高报警、高高联锁切断进料', 2, 1, '1-1', null, null, '储罐压力', 'MPa', 0.2, 0.8]);
    // rows by code, numbers as numbers: CM2 after CM1, CM10 after CM9
    expect(rowsOf(cm).slice(1).map((r) => r[0])).toEqual(Array.from({ length: 13 }, (_, i) => `CM${i + 1}`));
    const ct = wb.getWorksheet('排查任务')!;
    const t1 = rowsOf(ct).find((r) => r[0] === 'T1')!;
    expect(t1).toEqual(['T1', 'CM1', null, '巡检液氯储罐压力、温度、液位及现场有无泄漏', 2, '小时', '2026-11-30 00:00', '00:00', '24:00', 0, 0, null, 'TANK_OP', '罐区操作工', null, null, '现场确认', '是']);
    const b2 = rowsOf(ct).find((r) => r[0] === 'B2')!;
    expect(b2.slice(0, 3)).toEqual(['B2', null, 'MHS1']);
    expect(b2.slice(9, 12)).toEqual([0, 2, 1]); // workDayType, workType 技术负责人, taskNum
    expect(b2.slice(14, 16)).toEqual(['p02', '吴海峰']);
    const re = rowsOf(wb.getWorksheet('风险事件')!).find((r) => r[0] === 'RU1-E1')!;
    expect(re).toEqual(['RU1-E1', '储罐超压导致氯气泄漏', 'RU1', null, 4, 5, 20, '重大风险', 2, 5, 10, '一般风险']);
    const mhs = rowsOf(wb.getWorksheet('重大危险源及包保责任')!)[1];
    expect(mhs).toEqual(['MHS1', '液氯储罐区', '320411901-0001', 2, 86.4, 'p01', '周建国', 'p02', '吴海峰', 'p05', '陈志强']);
  });

  it('a frontline worker may export (read) but not import', async () => {
    const p07 = await sys.token('p07');
    const file = await download(p07, '/lists/export.xlsx');
    const res = await upload(p07, file).expect(403);
    expect(res.body.code).toBe('forbidden');
  });
});

describe('the round trip (issue #3 done-when)', () => {
  it('export the demo plant, import into an empty enterprise, export again: identical; importing again changes nothing', async () => {
    const first = await download(demoAdmin, '/lists/export.xlsx');
    const e2 = await emptyEnterpriseLikeDemo('320411902');
    expect((await listsOf(e2.id)).ct).toHaveLength(0);

    sys.clock.advance(HOUR); // the import happens later than the demo load: taskStartTime must still carry over
    const res = await upload(e2.admin, first).expect(200);
    expect(res.body).toEqual({
      dryRun: false,
      rescheduledTasks: 0,
      sheets: [
        { sheet: '重大危险源及包保责任', key: 'majorHazardSources', created: 2, updated: 0, unchanged: 0 },
        { sheet: '风险分析对象', key: 'riskObjects', created: 4, updated: 0, unchanged: 0 },
        { sheet: '风险分析单元', key: 'riskUnits', created: 4, updated: 0, unchanged: 0 },
        { sheet: '风险事件', key: 'riskEvents', created: 6, updated: 0, unchanged: 0 },
        { sheet: '管控措施', key: 'controlMeasures', created: 13, updated: 0, unchanged: 0 },
        { sheet: '排查任务', key: 'checkTasks', created: 19, updated: 0, unchanged: 0 },
      ],
    });
    const second = await download(e2.admin, '/lists/export.xlsx');
    expect(await contents(second)).toEqual(await contents(first));

    // the imported tasks are live: the generator lays out their instances from the import on
    await sys.rt.generateOnce();
    const imported = await listsOf(e2.id);
    expect(imported.inst.length).toBeGreaterThan(0);
    expect(imported.inst.every((i) => i.endAt.getTime() > sys.clock.now().getTime())).toBe(true);
    expect(new Set(imported.ct.map((t) => t.activeFrom.getTime()))).toEqual(new Set([sys.clock.now().getTime()]));

    // the same file again: nothing changes, not even updatedAt
    sys.clock.advance(HOUR);
    const again = await upload(e2.admin, first).expect(200);
    expect(again.body.sheets.map((s: { created: number; updated: number; unchanged: number }) => [s.created, s.updated, s.unchanged])).toEqual([
      [0, 0, 2],
      [0, 0, 4],
      [0, 0, 4],
      [0, 0, 6],
      [0, 0, 13],
      [0, 0, 19],
    ]);
    expect(await listsOf(e2.id)).toEqual(imported);

    // and the demo plant's own export re-imports into it as "unchanged" too
    const demoBefore = await listsOf(demoId);
    const self = await upload(demoAdmin, first).expect(200);
    expect(self.body.sheets.every((s: { created: number; updated: number }) => s.created === 0 && s.updated === 0)).toBe(true);
    expect(await listsOf(demoId)).toEqual(demoBefore);
  });
});

describe('rejected imports: every problem listed, nothing imported', () => {
  it('a sheet with 3 bad rows → exactly 3 row-level errors in Chinese, the database unchanged', async () => {
    const wb = await load(await download(demoAdmin, '/lists/export.xlsx'));
    // a valid change elsewhere, which must not land either
    const ro = wb.getWorksheet('风险分析对象')!;
    ro.getCell(2, col(ro, '风险分析对象名称')).value = '液氯储罐区（已改名）';
    const cm = wb.getWorksheet('管控措施')!;
    cm.getCell(5, col(cm, '管控方式')).value = 3; // CM4
    cm.getCell(7, col(cm, '措施分类2')).value = '1-1'; // CM6 is 措施分类1 4 (应急措施)
    cm.getCell(9, col(cm, '安全下限')).value = 50; // CM8: 15–40 m³/h → 50 > 40
    const file = Buffer.from(await wb.xlsx.writeBuffer());

    const before = await listsOf(demoId);
    const res = await upload(demoAdmin, file).expect(400);
    expect(res.body.code).toBe('import_invalid');
    expect(res.body.message).toContain('导入文件有 3 处错误，未导入任何数据');
    expect(res.body.details.total).toBe(3);
    expect(res.body.details.errors).toEqual([
      { sheet: '管控措施', row: 5, column: '管控方式', message: '「管控措施」第 5 行「管控方式」必须是 1 或 2，实际为 3' },
      { sheet: '管控措施', row: 7, column: '措施分类2', message: '「管控措施」第 7 行「措施分类2」必须是措施分类1「4 应急措施」下的子类 4-1、4-2、4-3、4-4 或 4-5，实际为 “1-1”' },
      { sheet: '管控措施', row: 9, column: '安全上限', message: '「管控措施」第 9 行「安全上限」不能小于安全下限 50，实际为 40' },
    ]);
    expect(await listsOf(demoId)).toEqual(before);
  });

  it('into an empty enterprise: nothing at all is created', async () => {
    const e3 = await emptyEnterpriseLikeDemo('320411903');
    const wb = await load(await download(demoAdmin, '/lists/export.xlsx'));
    const ct = wb.getWorksheet('排查任务')!;
    const row = rowsOf(ct).findIndex((r) => r[0] === 'B1') + 1;
    ct.getCell(row, col(ct, '任务序号')).value = 11; // 操作负责人: 1–10
    const res = await upload(e3.admin, Buffer.from(await wb.xlsx.writeBuffer())).expect(400);
    expect(res.body.details.errors).toEqual([{ sheet: '排查任务', row, column: '任务序号', message: `「排查任务」第 ${row} 行「任务序号」必须是 1–10 的整数（操作负责人包保清单的序号），实际为 11` }]);
    expect(await listsOf(e3.id)).toEqual({ mhs: [], ro: [], ru: [], re: [], cm: [], ct: [], inst: [] });
  });

  it('cell types, duplicates, references, missing columns and schedules are all reported at once', async () => {
    const wb = new Workbook();
    const sheet = (key: string, rows: unknown[][]) => {
      const def = SHEETS.find((s) => s.key === key)!;
      const ws = wb.addWorksheet(def.name);
      ws.addRow(def.columns.map((c) => c.header));
      for (const r of rows) ws.addRow(def.columns.map((c) => (r as unknown as Record<string, unknown>[])[0][c.field] ?? null));
      return ws;
    };
    const row = (o: Record<string, unknown>) => [o];
    sheet('riskEvents', [row({ code: 'E-X1', name: '新事件', riskUnitId: 'RU1', l0: 'high', s0: 5, l: 2, s: 5 }), row({ code: 'E-X1', name: '重复', riskUnitId: 'RU404', l0: 3, s0: 5, l: 2, s: 5 })]);
    sheet('checkTasks', [
      row({ code: 'TX1', controlMeasureId: 'CM1', content: '按天巡检', checkCycle: 1, checkCycleUnit: '天', workStartTime: '08:00', workEndTime: '20:00', workDayType: 0, workType: 0, postId: 'NO_SUCH_POST', checkMeans: '现场确认' }),
      row({ code: 'TX2', majorHazardSourceId: 'MHS1', content: '包保', checkCycle: 7, checkCycleUnit: '天', workDayType: 0, workType: 3, taskNum: 1, personId: 'p01', checkMeans: '现场确认', taskStartTime: '2026-13-01' }),
    ]);
    const bad = wb.addWorksheet('管控措施');
    bad.addRow(['管控措施编码', '风险事件编码']); // most columns missing
    const res = await upload(demoAdmin, Buffer.from(await wb.xlsx.writeBuffer())).expect(400);
    const msgs = (res.body.details.errors as Array<{ message: string }>).map((e) => e.message);
    expect(msgs).toEqual([
      '「风险事件」第 2 行「初始可能性L0」必须是整数，实际为 “high”',
      '「风险事件」第 3 行「风险事件编码」“E-X1”与第 2 行重复',
      '「风险事件」第 3 行「风险分析单元编码」不存在：“RU404”（本文件「风险分析单元」表和系统中都没有该编码）',
      '「管控措施」第 1 行「管控措施描述」缺少该列（请使用模板或导出文件的表头）',
      '「管控措施」第 1 行「管控方式」缺少该列（请使用模板或导出文件的表头）',
      '「管控措施」第 1 行「措施分类1」缺少该列（请使用模板或导出文件的表头）',
      '「管控措施」第 1 行「措施分类2」缺少该列（请使用模板或导出文件的表头）',
      '「管控措施」第 1 行「措施分类3」缺少该列（请使用模板或导出文件的表头）',
      '「管控措施」第 1 行「排查内容」缺少该列（请使用模板或导出文件的表头）',
      '「管控措施」第 1 行「关键参数名称」缺少该列（请使用模板或导出文件的表头）',
      '「管控措施」第 1 行「参数单位」缺少该列（请使用模板或导出文件的表头）',
      '「管控措施」第 1 行「安全下限」缺少该列（请使用模板或导出文件的表头）',
      '「管控措施」第 1 行「安全上限」缺少该列（请使用模板或导出文件的表头）',
      '「排查任务」第 2 行「作业开始时间」只适用于按小时排查的任务（天、月、年任务的作业时段请留空）',
      '「排查任务」第 2 行「岗位编码」不存在：“NO_SUCH_POST”（系统中没有该岗位编码，请先在系统中维护）',
      '「排查任务」第 3 行「任务开始时间」必须是 YYYY-MM-DD HH:mm 格式的日期时间，实际为 “2026-13-01”',
      '「排查任务」第 3 行「人员编码」必须是重大危险源“MHS1”的操作负责人陈志强（p05），实际为 周建国（p01）',
    ]);
  });

  it('not an .xlsx, or the wrong content type: a clear 4xx', async () => {
    const notXlsx = await upload(demoAdmin, Buffer.from('code,name\nRO1,x\n')).expect(400);
    expect(notXlsx.body).toMatchObject({ code: 'import_unreadable' });
    expect(notXlsx.body.message).toContain('不是 Excel');
    const empty = await upload(demoAdmin, Buffer.alloc(0)).expect(400);
    expect(empty.body.code).toBe('import_unreadable');
    const json = await request(http).post('/api/v1/lists/import').set('authorization', `Bearer ${demoAdmin}`).send({ file: 'x' }).expect(415);
    expect(json.body.code).toBe('unsupported_media_type');
    const noSheets = new Workbook();
    noSheets.addWorksheet('Sheet1').addRow(['a']);
    const none = await upload(demoAdmin, Buffer.from(await noSheets.xlsx.writeBuffer())).expect(400);
    expect(none.body.details.errors[0].message).toContain('文件中没有三清单工作表');
    const many = new Workbook();
    const def = SHEETS.find((x) => x.key === 'riskUnits')!;
    const ws = many.addWorksheet(def.name);
    ws.addRow(def.columns.map((c) => c.header));
    for (let i = 0; i < 10_001; i++) ws.addRow([`U${i}`, '单元', 'RO1', 'TANK', null, 'p05', null]);
    const rows = await upload(demoAdmin, Buffer.from(await many.xlsx.writeBuffer())).expect(413);
    expect(rows.body.message).toContain('10000 行');
    const big = await upload(demoAdmin, Buffer.alloc(10 * 1024 * 1024 + 1, 1)).expect(413);
    expect(big.body.code).toBe('import_too_large');
  });
});

describe('what Excel does to cells, multipart, dry runs and schedule changes', () => {
  it('a 1-4 Excel turned into 1月4日, times as fractions of a day, a date cell and a numeric code are read as meant', async () => {
    const wb = new Workbook();
    const cmDef = SHEETS.find((s) => s.key === 'controlMeasures')!;
    const cm = wb.addWorksheet(cmDef.name);
    cm.addRow(cmDef.columns.map((c) => c.header));
    cm.addRow([4711, 'RU1-E3', '现场氯气检测报警仪', 1, 1, new Date(Date.UTC(2026, 0, 4)), null, null, '氯气浓度', 'ppm', 0, 1]);
    const ctDef = SHEETS.find((s) => s.key === 'checkTasks')!;
    const ct = wb.addWorksheet(ctDef.name);
    ct.addRow(ctDef.columns.map((c) => c.header));
    const t = Object.fromEntries(ctDef.columns.map((c) => [c.field, null as unknown]));
    Object.assign(t, { code: 'TX9', controlMeasureId: 4711, content: '检查报警仪', checkCycle: 6, checkCycleUnit: '小时', taskStartTime: new Date(Date.UTC(2026, 11, 1, 6, 0)), workStartTime: 0.25, workEndTime: 0.75, workDayType: 1, workType: 0, postId: 'INST_TECH', checkMeans: '拍照', enabled: '否' });
    ct.addRow(ctDef.columns.map((c) => t[c.field]));
    const res = await upload(demoAdmin, Buffer.from(await wb.xlsx.writeBuffer())).expect(200);
    expect(res.body.sheets.map((s: { key: string; created: number }) => [s.key, s.created])).toEqual([
      ['controlMeasures', 1],
      ['checkTasks', 1],
    ]);
    const measure = await sys.rt.prisma.controlMeasure.findFirstOrThrow({ where: { enterpriseId: demoId, code: '4711' } });
    expect(measure.classify2).toBe('1-4');
    const task = await sys.rt.prisma.checkTask.findFirstOrThrow({ where: { enterpriseId: demoId, code: 'TX9' } });
    expect(task).toMatchObject({ workStartTime: '06:00', workEndTime: '18:00', workDayType: 1, enabled: false, checkMeans: '拍照' });
    expect(task.taskStartTime.toISOString()).toBe('2026-11-30T22:00:00.000Z'); // 2026-12-01 06:00 in Asia/Shanghai
  });

  it('multipart/form-data (field file) works like the raw body; ?dryRun=true writes nothing', async () => {
    const wb = await load(await download(demoAdmin, '/lists/export.xlsx'));
    const ru = wb.getWorksheet('风险分析单元')!;
    ru.getCell(2, col(ru, '风险分析单元名称')).value = '液氯储罐 V-101A/B/C';
    const file = Buffer.from(await wb.xlsx.writeBuffer());
    const before = await listsOf(demoId);
    const dry = await request(http)
      .post('/api/v1/lists/import?dryRun=true')
      .set('authorization', `Bearer ${demoAdmin}`)
      .attach('file', file, { filename: '三清单.xlsx', contentType: XLSX_MIME })
      .expect(200);
    expect(dry.body.dryRun).toBe(true);
    expect(dry.body.sheets.find((s: { key: string }) => s.key === 'riskUnits')).toMatchObject({ updated: 1, unchanged: 3 });
    expect(await listsOf(demoId)).toEqual(before);
    const real = await request(http).post('/api/v1/lists/import').set('authorization', `Bearer ${demoAdmin}`).attach('file', file, '三清单.xlsx').expect(200);
    expect(real.body.sheets.find((s: { key: string }) => s.key === 'riskUnits')).toMatchObject({ updated: 1, unchanged: 3 });
    expect((await sys.rt.prisma.riskUnit.findFirstOrThrow({ where: { enterpriseId: demoId, code: 'RU1' } })).name).toBe('液氯储罐 V-101A/B/C');
    const nofile = await request(http).post('/api/v1/lists/import').set('authorization', `Bearer ${demoAdmin}`).field('x', '1').expect(400);
    expect(nofile.body.code).toBe('invalid_multipart');
  });

  it('a cycle changed by import re-lays that task’s future instances only', async () => {
    await sys.rt.generateOnce();
    const now = sys.clock.now();
    const t2 = await sys.rt.prisma.checkTask.findFirstOrThrow({ where: { enterpriseId: demoId, code: 'T2' } });
    const t1 = await sys.rt.prisma.checkTask.findFirstOrThrow({ where: { enterpriseId: demoId, code: 'T1' } });
    const t1Before = await sys.rt.prisma.checkTaskInstance.findMany({ where: { checkTaskId: t1.id }, orderBy: { id: 'asc' } });
    const past = await sys.rt.prisma.checkTaskInstance.findMany({ where: { checkTaskId: t2.id, startAt: { lte: now } }, orderBy: { id: 'asc' } });
    expect(await sys.rt.prisma.checkTaskInstance.count({ where: { checkTaskId: t2.id, startAt: { gt: now } } })).toBeGreaterThan(0);
    const wb = await load(await download(demoAdmin, '/lists/export.xlsx'));
    const ct = wb.getWorksheet('排查任务')!;
    const row = rowsOf(ct).findIndex((r) => r[0] === 'T2') + 1;
    ct.getCell(row, col(ct, '排查周期')).value = 12;
    const res = await upload(demoAdmin, Buffer.from(await wb.xlsx.writeBuffer())).expect(200);
    expect(res.body.rescheduledTasks).toBe(1);
    expect(res.body.sheets.find((s: { key: string }) => s.key === 'checkTasks')).toMatchObject({ updated: 1, unchanged: 19 });
    expect(await sys.rt.prisma.checkTaskInstance.findMany({ where: { checkTaskId: t2.id }, orderBy: { id: 'asc' } })).toEqual(past);
    expect(await sys.rt.prisma.checkTaskInstance.findMany({ where: { checkTaskId: t1.id }, orderBy: { id: 'asc' } })).toEqual(t1Before);
    await sys.rt.generateOnce();
    const future = await sys.rt.prisma.checkTaskInstance.findMany({ where: { checkTaskId: t2.id, startAt: { gt: now } } });
    expect(future.length).toBeGreaterThan(0);
    expect(future.every((i) => i.endAt.getTime() - i.startAt.getTime() === 12 * HOUR)).toBe(true);
  });
});

describe('the template', () => {
  it('has the instructions first, then the six sheets with their headers and no rows; importing it changes nothing', async () => {
    const buf = await download(demoAdmin, '/lists/template.xlsx');
    const wb = await load(buf);
    expect(wb.worksheets.map((w) => w.name)).toEqual([INSTRUCTIONS_SHEET, ...SHEETS.map((s) => s.name)]);
    for (const s of SHEETS) {
      const rows = rowsOf(wb.getWorksheet(s.name)!);
      expect(rows).toEqual([s.columns.map((c) => c.header)]);
    }
    const instructions = rowsOf(wb.getWorksheet(INSTRUCTIONS_SHEET)!).flat().join('\n');
    for (const s of SHEETS) for (const c of s.columns) expect(instructions).toContain(c.header);
    expect(instructions).toContain('1 自动化监控、2 隐患排查');
    const before = await listsOf(demoId);
    const res = await upload(demoAdmin, buf).expect(200);
    expect(res.body.sheets.every((s: { created: number; updated: number; unchanged: number }) => s.created + s.updated + s.unchanged === 0)).toBe(true);
    expect(await listsOf(demoId)).toEqual(before);
  });

  it('docs/three-lists-template.md names every sheet and every column', async () => {
    const { readFileSync } = await import('node:fs');
    const doc = readFileSync(`${__dirname}/../../docs/three-lists-template.md`, 'utf8');
    for (const s of SHEETS) {
      expect(doc).toContain(s.name);
      for (const c of s.columns) expect(doc).toContain(`| ${c.header} |`);
    }
  });

  it('zipDeclaredSize reads the ZIP central directory (the zip-bomb guard)', async () => {
    const buf = await download(demoAdmin, '/lists/template.xlsx');
    expect(zipDeclaredSize(buf)).toBeGreaterThan(buf.length);
    expect(zipDeclaredSize(Buffer.from('not a zip'))).toBeNull();
  });
});
