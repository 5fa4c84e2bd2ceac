/**
 * Input hardening over HTTP (new-user test: bad input gave HTTP 500 or silently stored junk). The
 * field rules are domain/inputs.ts and miniprogram/shared/contract.ts `cleanText`; each refusal is
 * a 400 `{ code, message (zh), message_en, details: [{ path: 'params.id' | 'query.from' |
 * 'body.note', message (zh), message_en }] }` with nothing written:
 *  1. ids in paths and queries: decimal digits only, 1 … 2147483647 (0x1, 1e3, 99999999999999999999 → 400);
 *  2. dates: real calendar dates of 2000–2099 (2026-02-30, 9999-12-31 → 400); foundAt tolerates a
 *     few minutes of phone clock skew and is stored as now;
 *  3. free text: no control characters, not only invisible characters, limits in code points and
 *     nothing cut (an emoji note of 1000 characters is kept whole);
 *  4. three-lists codes: letters, digits, - _ . (API and Excel import, row-level Chinese errors);
 *  5. messages in Chinese and English, paths naming where the field was;
 *  6. the link page: over-long, repeated or control-character notes refused with a message;
 *  7. `q=%` / `q=_` search literally;
 *  8. TRACE / PROPFIND → 501 JSON; /dingtalk/callback without DingTalk → 404;
 *  9. the link page names channels in Chinese and hides 确认 from who has already confirmed.
 *
 * Demo plant at T0 after one cycle (see link-page.test.ts): the V-101B hazard_overdue alert went out
 * at level 3 to p16 胡婷, p06 刘洋, p05 陈志强, p03 郑丽, p01 周建国.
 */
import request from 'supertest';
import type { Server } from 'node:http';
import { Workbook } from 'exceljs';
import { createTestSystem, T0, type TestSystem } from '../helpers/system';
import { SHEETS, XLSX_MIME } from '../../server/services/lists-excel';

const MIN = 60_000;
const HOUR = 60 * MIN;
const HAN = /[\u4e00-\u9fff]/;

let sys: TestSystem;
let http: Server;
const tokens = new Map<string, string>();
async function tok(code: string): Promise<string> {
  if (!tokens.has(code)) tokens.set(code, await sys.token(code));
  return tokens.get(code)!;
}
const api = (token: string) => ({
  get: (path: string) => request(http).get(`/api/v1${path}`).set('authorization', `Bearer ${token}`),
  post: (path: string, body?: unknown) => {
    const r = request(http).post(`/api/v1${path}`).set('authorization', `Bearer ${token}`);
    return body === undefined ? r : r.send(body as object);
  },
  put: (path: string, body: unknown) => request(http).put(`/api/v1${path}`).set('authorization', `Bearer ${token}`).send(body as object),
});

/** Every row a refused request could have written. */
async function dbState() {
  const p = sys.rt.prisma;
  return Promise.all([
    p.hazard.findMany({ orderBy: { id: 'asc' } }),
    p.hazardTransition.count(),
    p.hazardExtension.count(),
    p.alert.findMany({ orderBy: { id: 'asc' } }),
    p.alertEvent.count(),
    p.riskObject.count(),
    p.riskUnit.count(),
    p.checkTask.count(),
    p.riskUnitShutdown.count(),
  ]);
}

/**
 * A request that must be refused with `status` / `code`, in Chinese and English, changing nothing.
 * @param paths the detail paths expected (400 invalid_input)
 */
async function refused(req: () => PromiseLike<request.Response>, status: number, code: string, paths?: string[]): Promise<request.Response> {
  const before = await dbState();
  const res = await req();
  expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.body.message).toMatch(HAN);
  expect(res.body.message_en).toBeTruthy();
  expect(res.body.message_en).not.toMatch(HAN);
  if (paths) {
    expect([...new Set((res.body.details as Array<{ path: string }>).map((d) => d.path))].sort()).toEqual([...paths].sort());
    for (const d of res.body.details as Array<{ message: string; message_en: string }>) {
      expect(d.message).toMatch(HAN);
      expect(d.message_en).not.toMatch(HAN);
    }
  }
  expect(await dbState()).toEqual(before);
  return res;
}
const bad = (req: () => PromiseLike<request.Response>, ...paths: string[]) => refused(req, 400, 'invalid_input', paths);

let v101b: { id: number; alertId: number };
/** the link path (/l/<token>) of each recipient of the V-101B alert */
const linkOf = new Map<string, string>();

beforeAll(async () => {
  sys = await createTestSystem({ now: T0 });
  await sys.cycle();
  http = sys.app.listen(0, '127.0.0.1');
  const a = await sys.rt.prisma.alert.findFirstOrThrow({ where: { kind: 'hazard_overdue' } });
  v101b = { id: a.subjectId, alertId: a.id };
  const n = await sys.rt.prisma.notification.findFirstOrThrow({ where: { alertId: a.id } });
  const links = (n.payload as { links: Array<{ personId: number; url: string }> }).links;
  for (const code of ['p16', 'p06', 'p03']) {
    const pid = await sys.person(code);
    linkOf.set(code, new URL(links.find((x) => x.personId === pid)!.url).pathname);
  }
}, 60_000);
afterAll(async () => {
  await new Promise((r) => http?.close(r));
  await sys?.close();
});

describe('1. ids in paths and queries: decimal digits, 1 … 2147483647', () => {
  it('a path id beyond INT, in hex, with an exponent, a sign or leading zeros → 400 params.id (not 500, not another row)', async () => {
    const t = await tok('p03');
    for (const id of ['99999999999999999999', '2147483648', '0x1', '1e3', '+1', '01', '0', '1.0', '%201']) {
      const res = await bad(() => api(t).get(`/hazards/${id}`), 'params.id');
      expect(res.body.details[0].message).toContain('2147483647');
    }
    await bad(() => api(t).post('/alerts/1e3/ack', {}), 'params.id');
    await bad(() => api(t).post(`/hazards/${v101b.id}/extensions/0x1/approve`, {}), 'params.extId');
    // the largest id is an id: just not one that exists
    await refused(() => api(t).get('/hazards/2147483647'), 404, 'not_found');
    expect((await api(t).get(`/hazards/${v101b.id}`).expect(200)).body.id).toBe(v101b.id);
  });

  it('ids in a query: the same rule, repeated parameters refused; label ids one by one', async () => {
    const t = await tok('p03');
    await bad(() => api(t).get('/lists/risk-units/labels.html?ids=99999999999999999999'), 'query.ids');
    await bad(() => api(t).get('/lists/risk-units/labels.html?ids=1,0x2'), 'query.ids');
    await bad(() => api(t).get('/hazards?unitId=1e3'), 'query.unitId');
    await bad(() => api(t).get('/alerts?subjectId=99999999999'), 'query.subjectId');
    await bad(() => api(t).get('/check-records?personId=1&personId=2'), 'query.personId');
    await bad(() => api(t).get('/lists/risk-units?limit=1e1'), 'query.limit');
    await bad(() => api(t).get('/lists/risk-units?offset=99999999999'), 'query.offset');
    await bad(() => api(t).get('/alerts?enterpriseId=0x1'), 'query.enterpriseId');
    const ok = await api(t).get('/lists/risk-units?limit=2&offset=0').expect(200);
    expect(ok.body.items).toHaveLength(2);
  });

  it('ids in a JSON body beyond INT → 400, not a database error', async () => {
    const t = await tok('p03');
    await bad(() => api(t).post(`/hazards/${v101b.id}/confirm`, { rectifierId: 1e20, acceptorId: 1, deadlineDate: '2026-12-31' }), 'body.rectifierId');
    await bad(() => api(t).post('/hazards', { name: '测试', dangerSrc: 1, hazardDangerType: 1, riskUnitId: 2147483648 }), 'body.riskUnitId');
  });
});

describe('2. dates: real calendar dates of 2000–2099', () => {
  it('from / to filters: 2026-02-30 and 9999-12-31 → 400 query.from / query.to', async () => {
    const t = await tok('p03');
    for (const path of ['/hazards', '/alerts', '/check-records']) {
      const res = await bad(() => api(t).get(`${path}?from=2026-02-30&to=9999-12-31`), 'query.from', 'query.to');
      expect(res.body.details[0].message).toContain('2000–2099');
    }
    await bad(() => api(t).get('/hazards?from=1999-12-31'), 'query.from');
    await api(t).get('/hazards?from=2026-02-28&to=2099-12-31').expect(200);
  });

  it('deadlineDate, requestedDate, plan timeLimit, taskStartTime and shutdown instants', async () => {
    const [p03, p16] = [await tok('p03'), await tok('p16')];
    const ru1 = await sys.rt.prisma.riskUnit.findFirstOrThrow({ where: { code: 'RU1' } });
    const [pa, pb] = [await sys.person('p16'), await sys.person('p05')];
    await bad(() => api(p03).post(`/hazards/${v101b.id}/confirm`, { rectifierId: pa, acceptorId: pb, deadlineDate: '9999-12-31' }), 'body.deadlineDate');
    await bad(() => api(p03).post(`/hazards/${v101b.id}/confirm`, { rectifierId: pa, acceptorId: pb, deadlineDate: '2026-02-30' }), 'body.deadlineDate');
    await bad(() => api(p16).post(`/hazards/${v101b.id}/extensions`, { requestedDate: '2026-02-30', reason: '备件未到' }), 'body.requestedDate');
    await bad(() => api(p16).post(`/hazards/${v101b.id}/extensions`, { requestedDate: '9999-12-31', reason: '备件未到' }), 'body.requestedDate');
    const plan = { goals: '消除隐患', measures: '更换', funds: 1000, people: '设备部', timeLimit: '9999-12-31', safetyMeasures: '监护', emergencyMeasures: '预案' };
    await bad(() => api(p03).put(`/hazards/${v101b.id}/plan`, plan), 'body.timeLimit');
    await bad(() => api(p03).post(`/risk-units/${ru1.id}/shutdowns`, { startAt: '1970-01-01T00:00:00Z', endAt: '9999-12-31T00:00:00Z', reason: '检修' }), 'body.startAt', 'body.endAt');
    const cm = await sys.rt.prisma.controlMeasure.findFirstOrThrow({ where: { code: 'CM1' } });
    const post = await sys.rt.prisma.post.findFirstOrThrow({ where: { code: 'TANK_OP' } });
    await bad(
      () => api(p03).post('/lists/check-tasks', { code: 'T-Y9999', controlMeasureId: cm.id, content: '巡检', checkCycle: 1, checkCycleUnit: '天', taskStartTime: '9999-12-31T00:00:00+08:00', postId: post.id, checkMeans: '拍照' }),
      'body.taskStartTime',
    );
  });

  it('foundAt: from 2000 on; a few minutes ahead (phone clock) is taken as now; further ahead → found_in_future', async () => {
    const t = await tok('p03');
    const ru1 = await sys.rt.prisma.riskUnit.findFirstOrThrow({ where: { code: 'RU1' } });
    const report = (foundAt: string) => ({ name: '洗眼器水压不足', dangerSrc: 1, hazardDangerType: 1, riskUnitId: ru1.id, foundAt });
    await bad(() => api(t).post('/hazards', report('1999-12-31')), 'body.foundAt');
    await bad(() => api(t).post('/hazards', report('2026-02-30')), 'body.foundAt');
    await bad(() => api(t).post('/hazards', report('0001-01-01T00:00:00Z')), 'body.foundAt');
    await refused(() => api(t).post('/hazards', report(new Date(T0.getTime() + 10 * MIN).toISOString())), 400, 'found_in_future');
    const res = await api(t).post('/hazards', report(new Date(T0.getTime() + 2 * MIN).toISOString())).expect(201);
    const h = await sys.rt.prisma.hazard.findUniqueOrThrow({ where: { id: res.body.hazardId } });
    expect(h.foundAt).toEqual(sys.clock.now());
  });
});

describe('3. free text: one rule (cleanText)', () => {
  const ru1 = () => sys.rt.prisma.riskUnit.findFirstOrThrow({ where: { code: 'RU1' } });
  const report = async (extra: object) => ({ name: '液氯钢瓶区通风不良', dangerSrc: 1, hazardDangerType: 1, riskUnitId: (await ru1()).id, ...extra });

  it('control characters, line breaks in a one-line name, only invisible characters, lone surrogates → 400', async () => {
    const t = await tok('p03');
    for (const name of ['\u200b\ufeff', ' \u2060 ', '钢瓶\u0000区', '钢瓶\n区', '\u0007']) await bad(async () => api(t).post('/hazards', await report({ name })), 'body.name');
    await bad(async () => api(t).post('/hazards', await report({ description: '第一行\u001b[31m' })), 'body.description');
    // a lone surrogate cannot be stored as utf8mb4
    await bad(async () => api(t).post('/hazards').set('content-type', 'application/json').send(JSON.stringify(await report({ name: 'x' })).replace('"x"', '"\\ud800"')), 'body.name');
    await bad(() => api(t).post(`/alerts/${v101b.alertId}/handle`, { note: '已安排\u0000' }), 'body.note');
  });

  it('trimmed (also zero-width characters at the ends), multi-line where allowed, optional blank = absent', async () => {
    const t = await tok('p03');
    const res = await api(t).post('/hazards', await report({ name: '\ufeff  钢瓶区排风扇停转\u200b ', description: '第一行\r\n\t第二行\n', location: '\u200b' })).expect(201);
    const h = await sys.rt.prisma.hazard.findUniqueOrThrow({ where: { id: res.body.hazardId } });
    expect([h.name, h.description, h.location]).toEqual(['钢瓶区排风扇停转', '第一行\n\t第二行', null]);
  });

  it('limits count characters (code points), not UTF-16 units; nothing is cut short', async () => {
    const t = await tok('p03');
    const e = '😀';
    await api(t).post('/hazards', await report({ name: e.repeat(255) })).expect(201);
    const long = await bad(async () => api(t).post('/hazards', await report({ name: e.repeat(256) })), 'body.name');
    expect(long.body.details[0].message).toContain('255');

    // a note of 1000 characters, one of them before the emoji: `.slice(0, 1024)` would have cut it
    // inside a surrogate pair (and at 512 emoji)
    const note = 'a' + e.repeat(999);
    await api(await tok('p16')).post(`/alerts/${v101b.alertId}/handle`, { note }).expect(200);
    const a = await sys.rt.prisma.alert.findUniqueOrThrow({ where: { id: v101b.alertId } });
    expect(a.handleNote).toBe(note);
    await bad(() => api(t).post(`/alerts/${v101b.alertId}/handle`, { note: note + e }), 'body.note');

    // an extension reason and a step comment the same way
    const reason = 'b' + e.repeat(999);
    const ext = await api(await tok('p16')).post(`/hazards/${v101b.id}/extensions`, { requestedDate: '2026-12-10', reason }).expect(201);
    expect((await sys.rt.prisma.hazardExtension.findUniqueOrThrow({ where: { id: ext.body.extensionId } })).reason).toBe(reason);
    const r = await api(t).post('/hazards', await report({})).expect(201);
    await api(t).post(`/hazards/${r.body.hazardId}/reject`, { comment: reason }).expect(200);
    const step = await sys.rt.prisma.hazardTransition.findFirstOrThrow({ where: { hazardId: r.body.hazardId, action: 'reject' } });
    expect(step.comment).toBe(reason);
  });

  it('a body that is not valid UTF-8 (stored as "��" before) and a right-to-left override → 400, nothing stored', async () => {
    const t = await tok('p16');
    const before = await sys.rt.prisma.alertEvent.count({ where: { alertId: v101b.alertId } });
    const raw = Buffer.concat([Buffer.from('{"note":"'), Buffer.from([0xff, 0xfe]), Buffer.from(' abc"}')]);
    await bad(() => api(t).post(`/alerts/${v101b.alertId}/handle`).set('content-type', 'application/json').send(raw), 'body.note');
    await bad(() => api(t).post(`/alerts/${v101b.alertId}/handle`, { note: '压力正常\u202e常异' }), 'body.note');
    expect(await sys.rt.prisma.alertEvent.count({ where: { alertId: v101b.alertId } })).toBe(before);
  });

  it('a required note that is blank keeps the service’s own answer (note_required)', async () => {
    await refused(() => api(tokens.get('p16')!).post(`/alerts/${v101b.alertId}/handle`, { note: ' \u200b\ufeff ' }), 400, 'note_required');
  });
});

describe('4. three-lists codes: letters, digits, - _ .', () => {
  it('the API refuses a NUL, a blank, Chinese or a slash in a code; accepts A-z 0-9 - _ .', async () => {
    const t = await tok('p03');
    const dept = await sys.rt.prisma.department.findFirstOrThrow({ where: { code: 'TANK' } });
    const obj = (code: string) => ({ code, name: '测试对象', type: '设施设备', departmentId: dept.id });
    for (const code of ['RO\u0000X', 'RO X', '罐区对象', 'RO/1', '\u200b']) {
      const res = await bad(() => api(t).post('/lists/risk-objects', obj(code)), 'body.code');
      expect(res.body.message).toContain('编码');
    }
    const chinese = await bad(() => api(t).post('/lists/risk-objects', obj('罐区对象')), 'body.code');
    expect(chinese.body.details[0].message).toContain('只能包含字母、数字和 - _ .');
    await api(t).post('/lists/risk-objects', obj('RO-9.a_B')).expect(201);
  });

  it('the Excel import: the same rule, as row-level Chinese errors, nothing imported', async () => {
    const t = await tok('p03');
    const res = await request(http).get('/api/v1/lists/export.xlsx').set('authorization', `Bearer ${t}`).buffer(true).parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    const wb = new Workbook();
    await wb.xlsx.load(res.body as never);
    const def = SHEETS.find((s) => s.key === 'riskObjects')!;
    const ws = wb.getWorksheet(def.name)!;
    const header = def.columns.find((c) => c.field === 'code')!.header;
    let codeCol = 0;
    ws.getRow(1).eachCell((c, i) => (c.value === header ? (codeCol = i) : undefined));
    ws.getRow(2).getCell(codeCol).value = '罐区对象';
    ws.getRow(3).getCell(codeCol).value = 'RO 3';
    const buf = Buffer.from(await wb.xlsx.writeBuffer());
    const before = await dbState();
    const up = await request(http).post('/api/v1/lists/import').set('authorization', `Bearer ${t}`).set('content-type', XLSX_MIME).send(buf);
    expect({ status: up.status, code: up.body.code }).toEqual({ status: 400, code: 'import_invalid' });
    const messages = (up.body.details.errors as Array<{ row: number; message: string }>).map((e) => [e.row, e.message]);
    expect(messages).toEqual(
      expect.arrayContaining([
        [2, `「${def.name}」第 2 行「${header}」只能包含字母、数字和 - _ .，实际为 “罐区对象”`],
        [3, `「${def.name}」第 3 行「${header}」只能包含字母、数字和 - _ .，实际为 “RO 3”`],
      ]),
    );
    expect(await dbState()).toEqual(before);
  });
});

describe('5. validation messages: Chinese and English, every problem, where it was', () => {
  it('params, query and body problems reported together, each with both texts', async () => {
    const t = await tok('p03');
    const res = await bad(() => api(t).post('/alerts/abc/handle', { note: 5 }), 'params.id', 'body.note');
    expect(res.body.message).toMatch(/^输入有误：/);
    expect(res.body.message).toContain('params.id');
    expect(res.body.message).toContain('body.note');
    expect(res.body.message_en).toContain('body.note');
    // zod's own issue in Chinese (its zh-CN locale), not the English text
    expect(res.body.details.find((d: { path: string }) => d.path === 'body.note').message).toBe('应为文本');
    // a missing field is 必填, a wrong type is named in Chinese (not "实际接收 undefined", "期望 int")
    const e = await bad(async () => api(t).post('/hazards', { dangerSrc: 1.5, hazardDangerType: 1 }), 'body.name', 'body.dangerSrc');
    expect(e.body.details.find((d: { path: string }) => d.path === 'body.name').message).toBe('必填');
    expect(e.body.details.find((d: { path: string }) => d.path === 'body.dangerSrc').message).not.toMatch(/int|undefined/);
    const q = await bad(() => api(t).get('/alerts?level=x&state=closed&from=2026-13-01'), 'query.level', 'query.state', 'query.from');
    expect(q.body.details.find((d: { path: string }) => d.path === 'query.state').message).toMatch(HAN);
  });
});

describe('6 and 9. the link page', () => {
  const get = (path: string) => request(http).get(path);
  const post = (path: string, form: string) => request(http).post(path).type('form').send(form);

  it('a 1500-character note is refused with a message on the page, not cut to 1000 and stored', async () => {
    const path = linkOf.get('p06')!;
    const before = await dbState();
    const res = await post(`${path}/handle`, `note=${encodeURIComponent('液'.repeat(1500))}`).expect(303);
    expect(res.headers.location).toBe(`${path}?error=note_too_long`);
    expect(await dbState()).toEqual(before);
    const page = await get(res.headers.location).expect(200);
    expect(page.text).toContain('<div class="card bad">处置说明不能超过 1000 个字，请删减后重新提交</div>');
  });

  it('repeated fields (note=1&note=2) are refused, not stored as "1,2"; control characters too', async () => {
    const path = linkOf.get('p06')!;
    const before = await dbState();
    const twice = await post(`${path}/handle`, 'note=1&note=2').expect(303);
    expect(twice.headers.location).toBe(`${path}?error=field_repeated`);
    const nul = await post(`${path}/handle`, `note=${encodeURIComponent('已安排\u0000')}`).expect(303);
    expect(nul.headers.location).toBe(`${path}?error=note_invalid`);
    const reason = await post(`${linkOf.get('p03')!}/clear`, 'reason=a&reason=b').expect(303);
    expect(reason.headers.location).toBe(`${linkOf.get('p03')!}?error=field_repeated`);
    expect(await dbState()).toEqual(before);
    expect((await get(twice.headers.location).expect(200)).text).toContain('表单中同一项出现了多次');
  });

  it('channels are named in Chinese in the history', async () => {
    const path = linkOf.get('p06')!;
    await post(`${path}/handle`, `note=${encodeURIComponent('已通知仪表工')}`).expect(303);
    const html = (await get(path).expect(200)).text;
    expect(html).toContain('刘洋 <span class="muted">（链接）</span>');
    expect(html).toContain('胡婷 <span class="muted">（接口）</span>'); // the 处置 through the API above
    expect(html).not.toMatch(/\((link|api)\)/);
  });

  it('确认 is hidden from who has confirmed while the pause runs (处置 stays), shown to others, and again after the pause', async () => {
    const [p06, p03] = [linkOf.get('p06')!, linkOf.get('p03')!];
    const ackForm = (path: string) => `<form method="post" action="${path}/ack">`;
    expect((await get(p06).expect(200)).text).toContain(ackForm(p06));
    await post(`${p06}/ack`, '').expect(303);
    const mine = (await get(p06).expect(200)).text;
    expect(mine).not.toContain(ackForm(p06));
    expect(mine).toContain('您已确认，暂停提醒至');
    expect(mine).toContain(`<form method="post" action="${p06}/handle">`);
    expect((await get(p03).expect(200)).text).toContain(ackForm(p03));
    // the pause (24 h) runs out: 确认 again
    sys.clock.advance(25 * HOUR);
    expect((await get(p06).expect(200)).text).toContain(ackForm(p06));
  });
});

describe('7. list search q= is literal', () => {
  it('% and _ match themselves, \\ is no escape: q=% does not list everything', async () => {
    const t = await tok('p03');
    const ro = await sys.rt.prisma.riskObject.findFirstOrThrow({ where: { code: 'RO1' } });
    const dept = await sys.rt.prisma.department.findFirstOrThrow({ where: { code: 'TANK' } });
    const unit = await api(t).post('/lists/risk-units', { code: 'RU-PCT', name: '液位50%报警单元', riskObjectId: ro.id, departmentId: dept.id, headPersonId: await sys.person('p05') }).expect(201);
    const names = async (q: string) => ((await api(t).get(`/lists/risk-units?q=${encodeURIComponent(q)}`).expect(200)).body.items as Array<{ id: number }>).map((x) => x.id);
    expect((await api(t).get('/lists/risk-units').expect(200)).body.total).toBeGreaterThan(1);
    expect(await names('%')).toEqual([unit.body.id]);
    expect(await names('50%报')).toEqual([unit.body.id]);
    expect(await names('_')).toEqual([]);
    expect(await names('\\')).toEqual([]);
    expect(await names('RU_PCT')).toEqual([]);
    // hazards too: only V-101B has a % in its name (…偏差超过5%)
    const hz = (await api(t).get(`/hazards?q=${encodeURIComponent('%')}`).expect(200)).body.items as Array<{ id: number }>;
    expect(hz.map((h) => h.id)).toEqual([v101b.id]);
  });
});

describe('8. methods nobody answers, and DingTalk not configured', () => {
  it('TRACE and PROPFIND on any path → 501 not_implemented in JSON', async () => {
    for (const [method, path] of [
      ['trace', '/api/v1/alerts'],
      ['trace', '/'],
      ['propfind', '/api/v1/hazards/1'],
      ['propfind', '/l/whatever'],
    ] as const) {
      const res = await request(http)[method](path);
      expect({ method, path, status: res.status, code: res.body.code }).toEqual({ method, path, status: 501, code: 'not_implemented' });
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body.message).toMatch(HAN);
    }
  });

  it('a body that does not match its Content-Encoding → 400 bad_body (was 500); a real gzip body is read', async () => {
    const { gzipSync } = await import('node:zlib');
    const t = await tok('p16');
    for (const enc of ['gzip', 'deflate']) {
      const res = await api(t).post(`/alerts/${v101b.alertId}/ack`).set('content-type', 'application/json').set('content-encoding', enc).send('{"note":"abc"}');
      expect({ enc, status: res.status, code: res.body.code }).toEqual({ enc, status: 400, code: 'bad_body' });
      expect(res.body.message).toMatch(HAN);
    }
    const form = await request(http).post('/l/whatever/handle').set('content-type', 'application/x-www-form-urlencoded').set('content-encoding', 'gzip').send('note=x');
    expect(form.status).toBe(400);
    // (fetch: superagent re-encodes a Buffer body given with a JSON content type)
    const { port } = http.address() as { port: number };
    const ok = await fetch(`http://127.0.0.1:${port}/api/v1/alerts/${v101b.alertId}/ack`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync('{"note":"已知悉"}'),
    });
    expect(ok.status).toBe(200);
  });

  it('a JSON route given text/plain or a form → 415 unsupported_media_type (the body was ignored before); no body at all is fine', async () => {
    const t = await tok('p16');
    for (const [type, payload] of [['text/plain', '{"note":"x"}'], ['text/plain', 'hello'], ['application/x-www-form-urlencoded', 'note=x']]) {
      const res = await api(t).post(`/alerts/${v101b.alertId}/handle`).set('content-type', type).send(payload);
      expect({ type, status: res.status, code: res.body.code }).toEqual({ type, status: 415, code: 'unsupported_media_type' });
      expect(res.body.message).toMatch(HAN);
    }
    await api(t).post(`/alerts/${v101b.alertId}/ack`).expect(200);
  });

  it('headers over Node\'s 16 KB (a huge ids= list or link) → 431 with the JSON error body (Node sent an empty one)', async () => {
    const { answerClientError } = await import('../../server/app');
    const server = sys.app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    server.on('clientError', answerClientError); // as server/runtime.ts does (without it: 431, empty body)
    try {
      const { port } = server.address() as { port: number };
      const ids = Array.from({ length: 5000 }, (_, i) => i + 1).join(',');
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/lists/risk-units/labels.pdf?ids=${ids}`);
      expect(res.status).toBe(431);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await res.json()).toMatchObject({ code: 'headers_too_large', message: expect.stringMatching(HAN) });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('/dingtalk/callback without a DingTalk app → 404 dingtalk_not_configured', async () => {
    const res = await request(http).post('/dingtalk/callback').send({});
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 404, code: 'dingtalk_not_configured' });
  });
});
