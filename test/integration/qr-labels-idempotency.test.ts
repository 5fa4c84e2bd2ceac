/**
 * QR labels of risk units (services/qr-labels.ts) and the idempotent reports of the mini-program's
 * offline queue (clientRequestId on POST /hazards and POST /check-records).
 */
import request from 'supertest';
import QRCode from 'qrcode';
import { createTestSystem, T0, type TestSystem } from '../helpers/system';
import { loadDemoPlant, readDemoData } from '../../prisma/seed';
import { issueApiToken } from '../../server/services/tokens';
import { unitQrText } from '../../miniprogram/shared/contract';

let sys: TestSystem;
let token: string;
const api = () => request(sys.app.callback());

beforeAll(async () => {
  sys = await createTestSystem({ now: T0 });
  await sys.rt.generateOnce();
  token = await sys.token('p07');
}, 120_000);
afterAll(async () => {
  await sys?.close();
});

const binary = (req: request.Test) =>
  req.buffer(true).parse((stream, done) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => done(null, Buffer.concat(chunks)));
  });

describe('QR labels', () => {
  test('labels.html: one QR (inline SVG) per risk unit, with name, object and code; print CSS', async () => {
    const units = await sys.rt.prisma.riskUnit.findMany({ where: { enterpriseId: sys.enterpriseId! }, include: { riskObject: true }, orderBy: { code: 'asc' } });
    expect(units.length).toBeGreaterThanOrEqual(4);
    const res = await api().get('/api/v1/lists/risk-units/labels.html').set('authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(res.type).toBe('text/html');
    const html = res.text;
    expect(html.match(/<svg\b/g)).toHaveLength(units.length);
    expect(html.match(/class="label"/g)).toHaveLength(units.length);
    expect(html).toContain('@media print');
    expect(html).toContain('size:A4');
    const ent = await sys.rt.prisma.enterprise.findUniqueOrThrow({ where: { id: sys.enterpriseId! } });
    for (const u of units) {
      expect(html).toContain(`data-unit-id="${u.id}"`);
      expect(html).toContain(`单元编码 ${u.code}`);
      // each label's SVG is the QR of that unit's text
      const svg = await QRCode.toString(unitQrText(ent.companyCode, u.code), { type: 'svg', errorCorrectionLevel: 'M', margin: 1 });
      expect(html).toContain(svg);
    }
    // ?ids= picks units
    const one = await api().get(`/api/v1/lists/risk-units/labels.html?ids=${units[1].id}`).set('authorization', `Bearer ${token}`);
    expect(one.text.match(/<svg\b/g)).toHaveLength(1);
    expect(one.text).toContain(`data-unit-id="${units[1].id}"`);
    // an id that is no unit of this plant: 404 naming it, not a sheet (or a blank PDF page) printed as complete
    for (const ext of ['html', 'pdf']) {
      const res = await api().get(`/api/v1/lists/risk-units/labels.${ext}?ids=${units[1].id},99999`).set('authorization', `Bearer ${token}`);
      expect({ ext, status: res.status, code: res.body.code, ids: res.body.details?.ids }).toEqual({ ext, status: 404, code: 'risk_unit_not_found', ids: [99999] });
    }
  });

  test('labels.pdf: a PDF (starts with %PDF) with the Chinese font embedded', async () => {
    const res = await binary(api().get('/api/v1/lists/risk-units/labels.pdf').set('authorization', `Bearer ${token}`));
    expect(res.status).toBe(200);
    expect(res.type).toBe('application/pdf');
    const pdf = res.body as Buffer;
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pdf.length).toBeGreaterThan(5000);
    const text = pdf.toString('latin1');
    expect(text).toMatch(/\/FontFile3|\/FontFile2/); // the CJK font is embedded (subset)
    expect(text).toContain('NotoSansHans');
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="risk-unit-labels\.pdf"; filename\*=UTF-8''/);
  });

  test('by-qr resolves a scanned label to the unit with its object and measures; foreign or malformed → 404 qr_unknown', async () => {
    const ent = await sys.rt.prisma.enterprise.findUniqueOrThrow({ where: { id: sys.enterpriseId! } });
    const ru1 = await sys.rt.prisma.riskUnit.findUniqueOrThrow({ where: { enterpriseId_code: { enterpriseId: ent.id, code: 'RU1' } }, include: { riskObject: true } });
    const ask = (code: string, t = token) => api().get('/api/v1/risk-units/by-qr').query({ code }).set('authorization', `Bearer ${t}`);
    const res = await ask(unitQrText(ent.companyCode, 'RU1'));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: ru1.id, code: 'RU1', name: ru1.name, riskObject: { id: ru1.riskObjectId, name: ru1.riskObject.name } });
    expect(res.body.controlMeasures.length).toBeGreaterThan(0);
    expect(res.body.controlMeasures[0]).toEqual({ id: expect.any(Number), code: expect.any(String), description: expect.any(String), riskEvent: { id: expect.any(Number), name: expect.any(String) }, parameter: expect.anything() });
    // surrounding whitespace from a scanner is fine
    expect((await ask(`  ${unitQrText(ent.companyCode, 'RU1')}\n`)).status).toBe(200);
    for (const bad of ['hello', 'dualprev:unit:', 'dualprev:unit:320411901', `dualprev:unit:${ent.companyCode}:NOPE`, 'dualprev:unit:999999999:RU1', 'https://example.com/RU1']) {
      const r = await ask(bad);
      expect({ bad, status: r.status, code: r.body.code }).toEqual({ bad, status: 404, code: 'qr_unknown' });
    }
    // a second plant with the same unit codes: its labels resolve in it, never in ours
    const data = structuredClone(readDemoData());
    data.enterprise.companyCode = '320411955';
    data.enterprise.name = '第三化工（演示）有限公司';
    const other = (await loadDemoPlant(sys.rt.prisma, { now: T0, data, regulator: false })).enterpriseId;
    const otherPerson = await sys.rt.prisma.person.findFirstOrThrow({ where: { enterpriseId: other, code: 'p07' } });
    const theirs = unitQrText('320411955', 'RU1');
    expect((await ask(theirs)).body.code).toBe('qr_unknown');
    const theirToken = await issueApiToken(sys.rt.prisma, otherPerson.id, 'test');
    const r = await ask(theirs, theirToken);
    expect(r.status).toBe(200);
    expect(r.body.id).not.toBe(ru1.id);
    expect((await ask(unitQrText(ent.companyCode, 'RU1'), theirToken)).body.code).toBe('qr_unknown');
  });
});

describe('idempotent reports (clientRequestId)', () => {
  const report = (clientRequestId: string, name = '罐区东侧围堰有积水', t = token) =>
    api().post('/api/v1/hazards').set('authorization', `Bearer ${t}`).send({ name, dangerSrc: 1, hazardDangerType: 8, clientRequestId });

  test('POST /hazards twice with the same id: 201 then 200 duplicate with the same hazard, one row', async () => {
    const id = 'a3f1c9e2-0d4b-4c1e-9f5a-111111111111';
    const first = await report(id);
    expect(first.status).toBe(201);
    expect(first.body.duplicate).toBeUndefined();
    const again = await report(id);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ ...first.body, duplicate: true });
    expect(await sys.rt.prisma.hazard.count({ where: { clientRequestId: id } })).toBe(1);
    // still the first answer after the hazard moved on
    await sys.rt.prisma.hazard.update({ where: { id: first.body.hazardId }, data: { dangerLevel: 1 } });
    expect((await report(id)).body).toEqual({ ...first.body, duplicate: true });
    // another person cannot reuse the key to see someone's report
    const other = await report(id, '别人的上报', await sys.token('p08'));
    expect(other.status).toBe(409);
    expect(other.body.code).toBe('client_request_id_reused');
    // the same person resending the key with a different report: 409, not the first report's answer
    // (that would have told the phone its second report was stored)
    const different = await report(id, '另一处：泵房地面油污');
    expect({ status: different.status, code: different.body.code, hazardId: different.body.details?.hazardId }).toEqual({ status: 409, code: 'client_request_id_reused', hazardId: first.body.hazardId });
    expect(await sys.rt.prisma.hazard.count({ where: { name: '另一处：泵房地面油污' } })).toBe(0);
  });

  test('POST /hazards: eight concurrent sends of one report → exactly one hazard, everyone gets it', async () => {
    const id = 'race-hazard-0001';
    const results = await Promise.all(Array.from({ length: 8 }, () => report(id, '并发上报：泵房地面油污')));
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
    expect(new Set(results.map((r) => r.body.hazardId)).size).toBe(1);
    expect(await sys.rt.prisma.hazard.count({ where: { clientRequestId: id } })).toBe(1);
    expect(await sys.rt.prisma.hazard.count({ where: { name: '并发上报：泵房地面油污' } })).toBe(1);
    expect(await sys.rt.prisma.hazardTransition.count({ where: { hazardId: results[0].body.hazardId } })).toBe(1);
  });

  test('POST /check-records twice and concurrently: one record; the repeat answers the first result', async () => {
    const tasks = await api().get('/api/v1/me/tasks').set('authorization', `Bearer ${token}`);
    const mine = (tasks.body.items as Array<{ instanceId: number; parameter: { max: number | null } | null; photoRequired: boolean }>).filter((t) => t.parameter && t.parameter.max !== null && !t.photoRequired);
    expect(mine.length).toBeGreaterThan(1);
    const [a, b] = mine;
    const submit = (instanceId: number, clientRequestId: string, value: number) =>
      api().post('/api/v1/check-records').set('authorization', `Bearer ${token}`).send({ instanceId, result: 0, readings: [{ value }], clientRequestId, deviceId: 'dev-1' });

    // sequential: an out-of-range reading (alert + draft) — the repeat answers the same
    const first = await submit(a.instanceId, 'check-seq-1', a.parameter!.max! + 1);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ abnormal: true, resultAdjusted: true, abnormalAlertId: expect.any(Number), hazardDraftId: expect.any(Number) });
    const again = await submit(a.instanceId, 'check-seq-1', a.parameter!.max! + 1);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ ...first.body, duplicate: true });
    expect(await sys.rt.prisma.checkRecord.count({ where: { instanceId: a.instanceId } })).toBe(1);
    // a different key for the done instance is the normal 409
    expect((await submit(a.instanceId, 'check-seq-2', 1)).body.code).toBe('already_done');

    // concurrent repeats of one submission
    const rs = await Promise.all(Array.from({ length: 6 }, () => submit(b.instanceId, 'check-race-1', 0.5)));
    expect(rs.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 201]);
    expect(new Set(rs.map((r) => r.body.checkRecordId)).size).toBe(1);
    expect(await sys.rt.prisma.checkRecord.count({ where: { instanceId: b.instanceId } })).toBe(1);
  });
});
