/**
 * The hazard loop's rules over HTTP on the demo plant (issue #3 item 1): what a report must carry
 * (criterion → level 1, government-found source 10 with 执法编号 and date found, links), that a
 * 重大隐患 reaches the 主要负责人 at once and needs its 治理方案 before confirmation, 即查即改 only for
 * 一般隐患, after-photos on rectification, rejection, who may do what, and the list filters.
 * Every refused request leaves nothing stored.
 *
 * T0 = 2026-11-30 12:00 Asia/Shanghai. Demo: RU1 液氯储罐 (head 陈志强 p05), RU2 氯化反应釜 (head
 * 钱伟 p09); 赵小军 p07 罐区操作工; 胡婷 p16 仪表工; 刘洋 p06 罐区班长; 王磊 p04 安全员;
 * 郑丽 p03 安全总监; 周建国 p01 主要负责人.
 */
import request from 'supertest';
import { createTestSystem, T0, type TestSystem } from '../helpers/system';
import { jpeg, uploadPhotos } from '../helpers/photos';


let sys: TestSystem;
const tokens = new Map<string, string>();
async function as(who: string) {
  if (!tokens.has(who)) tokens.set(who, await sys.token(who));
  const t = tokens.get(who)!;
  return {
    get: (path: string) => request(sys.app.callback()).get(path).set('authorization', `Bearer ${t}`),
    post: (path: string, body: object = {}) => request(sys.app.callback()).post(path).set('authorization', `Bearer ${t}`).send(body),
    put: (path: string, body: object = {}) => request(sys.app.callback()).put(path).set('authorization', `Bearer ${t}`).send(body),
  };
}
let RU1: number;
let RU2: number;
let CM1: number;
let CM7: number;

async function counts() {
  const p = sys.rt.prisma;
  const [hazards, transitions, extensions] = await Promise.all([p.hazard.findMany({ orderBy: { id: 'asc' } }), p.hazardTransition.count(), p.hazardExtension.count()]);
  return { hazards, transitions, extensions };
}
/** A request that must be refused with `status`/`code`, leaving nothing changed. */
async function refused(req: () => Promise<request.Response>, status: number, code: string) {
  const before = await counts();
  const res = await req();
  expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
  expect(res.body.message).toMatch(/[\u4e00-\u9fff]/);
  expect(res.body.message_en).toBeTruthy();
  expect(await counts()).toEqual(before);
  return res;
}
const base = () => ({ name: '液氯储罐区洗眼器水压不足', dangerSrc: 1, hazardDangerType: 1, riskUnitId: RU1 });

beforeAll(async () => {
  sys = await createTestSystem({ now: T0 });
  await sys.cycle();
  const p = sys.rt.prisma;
  RU1 = (await p.riskUnit.findFirstOrThrow({ where: { code: 'RU1' } })).id;
  RU2 = (await p.riskUnit.findFirstOrThrow({ where: { code: 'RU2' } })).id;
  CM1 = (await p.controlMeasure.findFirstOrThrow({ where: { code: 'CM1' } })).id;
  CM7 = (await p.controlMeasure.findFirstOrThrow({ where: { code: 'CM7' } })).id;
});
afterAll(async () => sys?.close());

describe('reporting', () => {
  test('a plain report: 待确认, a daily code, photos and location kept, logged as report', async () => {
    const photos = await uploadPhotos(sys, await sys.token('p07'), 2);
    const res = await (await as('p07')).post('/api/v1/hazards', { ...base(), photos, location: '液氯罐区东侧', latitude: 31.81, longitude: 119.97, manageClass: 2 }).expect(201);
    expect(res.body).toMatchObject({ state: 'reported', dangerLevel: 0 });
    expect(res.body.code).toMatch(/^YH20261130\d{4}$/);
    const h = (await (await as('p06')).get(`/api/v1/hazards/${res.body.hazardId}`).expect(200)).body;
    expect(h).toMatchObject({ state: 'reported', stateName: '待确认', nationalState: null, location: '液氯罐区东侧', latitude: 31.81, longitude: 119.97, manageClass: 2, reporter: { name: '赵小军' } });
    expect(h.photos.map((p: { id: number }) => p.id)).toEqual(photos);
    expect(h.transitions.map((t: { action: string }) => t.action)).toEqual(['report']);
    expect(h.transitions[0].photos.map((p: { id: number }) => p.id)).toEqual(photos);
    // the next one of the day gets the next number
    const next = await (await as('p07')).post('/api/v1/hazards', { ...base(), name: '罐区围堰排水阀未关闭' }).expect(201);
    expect(Number(next.body.code.slice(-4))).toBe(Number(res.body.code.slice(-4)) + 1);
  });

  test('reports arriving at the same moment each get their own code (a clash on the daily number is retried)', async () => {
    const p07 = await as('p07');
    // with photos, the transaction has read (and fixed its snapshot) before it waits for the number
    const photos = await uploadPhotos(sys, await sys.token('p07'), 1);
    const res = await Promise.all(Array.from({ length: 6 }, (_, i) => p07.post('/api/v1/hazards', { ...base(), name: `并发上报 ${i}`, photos })));
    expect(res.map((r) => r.status)).toEqual([201, 201, 201, 201, 201, 201]);
    const codes = res.map((r) => r.body.code as string);
    expect(new Set(codes).size).toBe(6);
    expect(await sys.rt.prisma.hazardTransition.count({ where: { hazardId: { in: res.map((r) => r.body.hazardId) } } })).toBe(6);
  });

  test('the unit is taken from the measure; a measure of another unit is refused', async () => {
    const res = await (await as('p07')).post('/api/v1/hazards', { name: '压力表超检', dangerSrc: 1, hazardDangerType: 4, controlMeasureId: CM1 }).expect(201);
    expect((await sys.rt.prisma.hazard.findUniqueOrThrow({ where: { id: res.body.hazardId } })).riskUnitId).toBe(RU1);
    await refused(async () => (await as('p07')).post('/api/v1/hazards', { ...base(), controlMeasureId: CM7 }), 400, 'measure_not_in_unit');
    await refused(async () => (await as('p07')).post('/api/v1/hazards', { ...base(), riskUnitId: 999999 }), 400, 'unknown_risk_unit');
    await refused(async () => (await as('p07')).post('/api/v1/hazards', { ...base(), latitude: 31.8 }), 400, 'invalid_location');
  });

  test('photos: at most 9, each an uploaded file of this enterprise', async () => {
    const ten = await uploadPhotos(sys, await sys.token('p07'), 9);
    const more = await uploadPhotos(sys, await sys.token('p07'), 1);
    await refused(async () => (await as('p07')).post('/api/v1/hazards', { ...base(), photos: [...ten, ...more] }), 400, 'too_many_photos');
    await refused(async () => (await as('p07')).post('/api/v1/hazards', { ...base(), photos: [987654] }), 404, 'file_not_found');
  });

  test('a 判定标准 criterion forces level 1; an explicit level 0 with a criterion is a contradiction', async () => {
    const res = await (await as('p04')).post('/api/v1/hazards', { name: '氯化车间可燃气体检测报警仪未覆盖泄漏点', dangerSrc: 3, hazardDangerType: 4, riskUnitId: RU2, majorCriterion: 12 }).expect(201);
    expect(res.body.dangerLevel).toBe(1);
    const h = (await (await as('p04')).get(`/api/v1/hazards/${res.body.hazardId}`).expect(200)).body;
    expect(h).toMatchObject({ dangerLevel: 1, majorCriterion: 12, names: { dangerLevel: '重大隐患' } });
    expect(h.names.majorCriterion).toContain('检测报警');
    await refused(async () => (await as('p04')).post('/api/v1/hazards', { ...base(), majorCriterion: 15, dangerLevel: 0 }), 400, 'criterion_requires_major');
    await refused(async () => (await as('p04')).post('/api/v1/hazards', { ...base(), majorCriterion: 21 }), 400, 'invalid_input');
  });

  test('a reported 重大隐患 reaches the 主要负责人 at the next tick', async () => {
    const res = await (await as('p07')).post('/api/v1/hazards', { ...base(), name: '液氯储罐安全阀根部阀关闭', majorCriterion: 15 }).expect(201);
    await sys.cycle();
    const [a] = await sys.rt.prisma.alert.findMany({ where: { kind: 'major_hazard', subjectType: 'hazard', subjectId: res.body.hazardId }, include: { notifications: true } });
    expect(a.notifications).toHaveLength(1);
    expect(a.notifications[0].recipients as number[]).toContain(await sys.person('p01'));
    expect(a.notifications[0].recipients as number[]).toContain(await sys.person('p05')); // the unit head
  });

  describe('government-found (dangerSrc 10)', () => {
    const gov = (extra: object) => ({ name: '应急管理局检查：液氯钢瓶未分区存放', dangerSrc: 10, hazardDangerType: 1, riskUnitId: RU1, ...extra });
    test('needs the 执法编号 and the date found, not in the future; an 执法编号 only with source 10', async () => {
      await refused(async () => (await as('p03')).post('/api/v1/hazards', gov({ foundAt: '2026-11-28' })), 400, 'enforcement_id_required');
      await refused(async () => (await as('p03')).post('/api/v1/hazards', gov({ enforcementId: '常应急执〔2026〕88号' })), 400, 'found_at_required');
      await refused(async () => (await as('p03')).post('/api/v1/hazards', gov({ enforcementId: '常应急执〔2026〕88号', foundAt: '2026-12-01' })), 400, 'found_in_future');
      await refused(async () => (await as('p03')).post('/api/v1/hazards', gov({ enforcementId: '常应急执〔2026〕88号', foundAt: '2026-11-30T05:00:00Z' })), 400, 'found_in_future');
      await refused(async () => (await as('p03')).post('/api/v1/hazards', { ...base(), enforcementId: 'X-1' }), 400, 'enforcement_id_requires_src10');
      const notADate = await refused(async () => (await as('p03')).post('/api/v1/hazards', gov({ enforcementId: 'X-1', foundAt: '2026-02-30' })), 400, 'invalid_input');
      expect(notADate.body.details).toEqual([expect.objectContaining({ path: 'body.foundAt' })]);
    });

    test('entered within the week: no late-entry alert; entered 10 days after: the late-entry alert', async () => {
      const onTime = await (await as('p03')).post('/api/v1/hazards', gov({ enforcementId: '常应急执〔2026〕88号', foundAt: '2026-11-27' })).expect(201);
      const late = await (await as('p03')).post('/api/v1/hazards', gov({ name: '专家指导服务：DCS 报警未分级', enforcementId: '常应急指〔2026〕12号', foundAt: '2026-11-20' })).expect(201);
      const h = await sys.rt.prisma.hazard.findUniqueOrThrow({ where: { id: late.body.hazardId } });
      expect(h.foundAt).toEqual(new Date('2026-11-19T16:00:00.000Z')); // the start of that local day
      expect(h.enforcementId).toBe('常应急指〔2026〕12号');
      await sys.cycle();
      const lateAlerts = (id: number) => sys.rt.prisma.alert.count({ where: { kind: 'hazard_late_entry', subjectType: 'hazard', subjectId: id } });
      expect(await lateAlerts(onTime.body.hazardId)).toBe(0);
      expect(await lateAlerts(late.body.hazardId)).toBe(1);
    });
  });
});

describe('重大隐患: the 治理方案 comes before confirmation', () => {
  let id: number;
  const plan = {
    goals: '恢复安全阀投用并建立根部阀铅封管理',
    measures: '开启根部阀并铅封，安全阀离线校验后回装',
    funds: 12000.5,
    people: '陈志强（组织），朱斌、刘洋',
    timeLimit: '2026-12-05',
    safetyMeasures: '整改期间降低储存量至 50%，专人监护压力',
    emergencyMeasures: '氯气泄漏专项应急预案，吸收塔备用',
  };
  beforeAll(async () => {
    id = (await (await as('p07')).post('/api/v1/hazards', { ...base(), name: '液氯储罐 V-101B 安全阀根部阀关闭', majorCriterion: 15 }).expect(201)).body.hazardId;
  });
  const confirm = async (who: string, extra: object = {}) =>
    (await as(who)).post(`/api/v1/hazards/${id}/confirm`, { rectifierId: await sys.person('p06'), acceptorId: await sys.person('p03'), deadlineDate: '2026-12-05', ...extra });

  test('without a plan: 400 plan_required', async () => {
    await refused(() => confirm('p05'), 400, 'plan_required');
  });

  test('an incomplete plan is refused (五到位: every part required)', async () => {
    const { emergencyMeasures: _e, ...partial } = plan;
    await refused(async () => (await as('p05')).put(`/api/v1/hazards/${id}/plan`, partial), 400, 'invalid_input');
    await refused(async () => (await as('p05')).put(`/api/v1/hazards/${id}/plan`, { ...plan, funds: -1 }), 400, 'invalid_input');
    await refused(async () => (await as('p05')).put(`/api/v1/hazards/${id}/plan`, { ...plan, goals: ' ' }), 400, 'invalid_input');
    // only a manager of the hazard's unit (or safety staff)
    await refused(async () => (await as('p09')).put(`/api/v1/hazards/${id}/plan`, plan), 403, 'forbidden');
  });

  test('with the plan: confirmed; never 即查即改', async () => {
    await (await as('p05')).put(`/api/v1/hazards/${id}/plan`, plan).expect(200);
    await refused(() => confirm('p05', { dangerManageType: 0 }), 400, 'major_no_quick_fix');
    await refused(() => confirm('p05', { dangerLevel: 0 }), 400, 'criterion_requires_major');
    const res = await confirm('p05', { comment: '按治理方案实施' });
    expect(res.status).toBe(200);
    const h = (await (await as('p03')).get(`/api/v1/hazards/${id}`).expect(200)).body;
    expect(h.plan).toMatchObject(plan);
    expect(h).toMatchObject({ state: 'rectifying', nationalState: 0, dangerLevel: 1, dangerManageType: 1, rectifier: { name: '刘洋' }, acceptor: { name: '郑丽' } });
    expect(h.transitions.map((t: { action: string }) => t.action)).toEqual(['report', 'plan', 'confirm']);
  });

  test('raising a 一般隐患 to level 1 at confirmation also needs the plan', async () => {
    const other = (await (await as('p07')).post('/api/v1/hazards', { ...base(), name: '液氯充装未使用万向管道' }).expect(201)).body.hazardId;
    await refused(
      async () => (await as('p05')).post(`/api/v1/hazards/${other}/confirm`, { rectifierId: await sys.person('p06'), acceptorId: await sys.person('p03'), deadlineDate: '2026-12-05', majorCriterion: 7 }),
      400,
      'plan_required',
    );
  });
});

describe('confirmation rules', () => {
  let id: number;
  beforeAll(async () => {
    id = (await (await as('p07')).post('/api/v1/hazards', { ...base(), name: '液氯储罐区风向标损坏' }).expect(201)).body.hazardId;
  });
  const body = async (extra: object = {}) => ({ rectifierId: await sys.person('p06'), acceptorId: await sys.person('p05'), deadlineDate: '2026-12-04', ...extra });

  test('refused: another department\'s head, a frontline operator, a past deadline, the same rectifier and acceptor, a stranger', async () => {
    await refused(async () => (await as('p09')).post(`/api/v1/hazards/${id}/confirm`, await body()), 403, 'forbidden');
    await refused(async () => (await as('p07')).post(`/api/v1/hazards/${id}/confirm`, await body()), 403, 'forbidden');
    await refused(async () => (await as('p05')).post(`/api/v1/hazards/${id}/confirm`, await body({ deadlineDate: '2026-11-29' })), 400, 'deadline_in_past');
    await refused(async () => (await as('p05')).post(`/api/v1/hazards/${id}/confirm`, await body({ acceptorId: await sys.person('p06') })), 400, 'acceptor_is_rectifier');
    await refused(async () => (await as('p05')).post(`/api/v1/hazards/${id}/confirm`, await body({ acceptorId: 999999 })), 400, 'unknown_person');
  });

  test('the unit head confirms with type, source and management class; a second confirm is a conflict', async () => {
    const res = await (await as('p05')).post(`/api/v1/hazards/${id}/confirm`, await body({ hazardDangerType: 7, dangerSrc: 4, manageClass: 2 })).expect(200);
    expect(res.body).toMatchObject({ state: 'rectifying', dangerLevel: 0, deadlineAt: '2026-12-04T16:00:00.000Z' });
    const h = await sys.rt.prisma.hazard.findUniqueOrThrow({ where: { id } });
    expect([h.hazardDangerType, h.dangerSrc, h.manageClass, h.dangerManageType]).toEqual([7, 4, 2, 1]);
    await refused(async () => (await as('p05')).post(`/api/v1/hazards/${id}/confirm`, await body()), 409, 'invalid_transition');
  });

  test('rectify needs an after-photo and the rectifier; the rectifier cannot accept their own fix', async () => {
    await refused(async () => (await as('p06')).post(`/api/v1/hazards/${id}/rectify`, { measures: '更换风向标', afterPhotos: [] }), 400, 'after_photo_required');
    await refused(async () => (await as('p06')).post(`/api/v1/hazards/${id}/rectify`, { measures: '更换风向标' }), 400, 'invalid_input');
    const photo = await uploadPhotos(sys, await sys.token('p16'));
    await refused(async () => (await as('p16')).post(`/api/v1/hazards/${id}/rectify`, { measures: '更换风向标', afterPhotos: photo }), 403, 'forbidden');
    await (await as('p06')).post(`/api/v1/hazards/${id}/rectify`, { measures: '更换风向标', afterPhotos: photo, cost: 350 }).expect(200);
    await refused(async () => (await as('p06')).post(`/api/v1/hazards/${id}/accept`, {}), 403, 'forbidden');
    await refused(async () => (await as('p05')).post(`/api/v1/hazards/${id}/send-back`, { comment: '' }), 400, 'comment_required');
    await (await as('p05')).post(`/api/v1/hazards/${id}/accept`, { comment: '已更换' }).expect(200);
  });
});

describe('placing a hazard reported without a risk unit (a chat photo) at confirmation', () => {
  const body = async (extra: object) => ({ rectifierId: await sys.person('p06'), acceptorId: await sys.person('p05'), deadlineDate: '2026-12-04', ...extra });

  test('the confirmer sets the unit; unknown units, units the confirmer does not manage and a measure of another unit are refused', async () => {
    const { name: _n, riskUnitId: _u, ...noUnit } = base();
    const id = (await (await as('p07')).post('/api/v1/hazards', { ...noUnit, name: '罐区东侧围堰有积油' }).expect(201)).body.hazardId;
    expect((await sys.rt.prisma.hazard.findUniqueOrThrow({ where: { id } })).riskUnitId).toBeNull();
    await refused(async () => (await as('p03')).post(`/api/v1/hazards/${id}/confirm`, await body({ riskUnitId: 999999 })), 400, 'unknown_unit');
    // 陈志强 heads RU1 (罐区), not RU2 (氯化): he may not place it in RU2
    await refused(async () => (await as('p05')).post(`/api/v1/hazards/${id}/confirm`, await body({ riskUnitId: RU2 })), 403, 'forbidden');
    await (await as('p03')).post(`/api/v1/hazards/${id}/confirm`, await body({ riskUnitId: RU1 })).expect(200);
    expect((await sys.rt.prisma.hazard.findUniqueOrThrow({ where: { id } })).riskUnitId).toBe(RU1);

    const withMeasure = (await (await as('p07')).post('/api/v1/hazards', { ...base(), name: '压力表检定标签脱落', controlMeasureId: CM1 }).expect(201)).body.hazardId;
    await refused(async () => (await as('p03')).post(`/api/v1/hazards/${withMeasure}/confirm`, await body({ riskUnitId: RU2 })), 400, 'unit_mismatch');
  });
});

describe('即查即改', () => {
  test('a 一般隐患 is reported, rectified and closed in one step, logged as its steps', async () => {
    const [before] = await uploadPhotos(sys, await sys.token('p07'));
    const [after] = await uploadPhotos(sys, await sys.token('p07'));
    const res = await (await as('p07'))
      .post('/api/v1/hazards/quick-fix', { name: '罐区巡检通道照明灯不亮', dangerSrc: 1, hazardDangerType: 3, riskUnitId: RU1, photos: [before], measures: '更换灯泡', afterPhotos: [after] })
      .expect(201);
    expect(res.body.state).toBe('accepted');
    const h = (await (await as('p05')).get(`/api/v1/hazards/${res.body.hazardId}`).expect(200)).body;
    expect(h).toMatchObject({ state: 'accepted', nationalState: 9, dangerManageType: 0, names: { dangerManageType: '即查即改' }, deadlineDate: '2026-11-30', measures: '更换灯泡' });
    expect([h.reporter.name, h.rectifier.name, h.acceptor.name]).toEqual(['赵小军', '赵小军', '赵小军']);
    expect(h.transitions.map((t: { action: string; toState: string }) => [t.action, t.toState])).toEqual([
      ['report', 'reported'],
      ['confirm', 'rectifying'],
      ['rectify', 'awaiting_acceptance'],
      ['accept', 'accepted'],
    ]);
    expect(h.photos.map((p: { id: number }) => p.id)).toEqual([before]);
    expect(h.afterPhotos.map((p: { id: number }) => p.id)).toEqual([after]);
    await sys.cycle();
    expect(await sys.rt.prisma.alert.count({ where: { subjectType: 'hazard', subjectId: res.body.hazardId } })).toBe(0);
  });

  test('a 重大隐患 (level 1 or a criterion) can never be 即查即改; the after-photo is required', async () => {
    const [after] = await uploadPhotos(sys, await sys.token('p07'));
    const q = { name: '液氯充装软管老化', dangerSrc: 1, hazardDangerType: 7, riskUnitId: RU1, measures: '更换软管', afterPhotos: [after] };
    await refused(async () => (await as('p07')).post('/api/v1/hazards/quick-fix', { ...q, dangerLevel: 1 }), 400, 'major_no_quick_fix');
    await refused(async () => (await as('p07')).post('/api/v1/hazards/quick-fix', { ...q, majorCriterion: 7 }), 400, 'major_no_quick_fix');
    await refused(async () => (await as('p07')).post('/api/v1/hazards/quick-fix', { ...q, afterPhotos: [] }), 400, 'after_photo_required');
    await refused(async () => (await as('p07')).post('/api/v1/hazards/quick-fix', { ...q, measures: ' ' }), 400, 'invalid_input');
  });
});

describe('rejection (不属于隐患)', () => {
  test('a reported 重大隐患 judged not a hazard: comment required, managers only, its alerts end', async () => {
    const id = (await (await as('p07')).post('/api/v1/hazards', { ...base(), name: '疑似液氯管道穿越厂外道路', majorCriterion: 8 }).expect(201)).body.hazardId;
    await sys.cycle();
    const major = await sys.rt.prisma.alert.findFirstOrThrow({ where: { kind: 'major_hazard', subjectType: 'hazard', subjectId: id } });
    expect(major.state).toBe('open');
    await refused(async () => (await as('p07')).post(`/api/v1/hazards/${id}/reject`, { comment: '误报' }), 403, 'forbidden');
    await refused(async () => (await as('p05')).post(`/api/v1/hazards/${id}/reject`, { comment: ' ' }), 400, 'comment_required');
    const res = await (await as('p05')).post(`/api/v1/hazards/${id}/reject`, { comment: '经核实管道在厂区内，不属于隐患' }).expect(200);
    expect(res.body).toMatchObject({ state: 'rejected', clearedAlerts: [major.id] });
    const a = await sys.rt.prisma.alert.findUniqueOrThrow({ where: { id: major.id } });
    expect([a.state, a.clearKind]).toEqual(['cleared', 'condition_ended']);
    await refused(async () => (await as('p05')).post(`/api/v1/hazards/${id}/confirm`, { rectifierId: await sys.person('p06'), acceptorId: await sys.person('p05'), deadlineDate: '2026-12-05' }), 409, 'invalid_transition');
  });
});

describe('the list', () => {
  test('filters: state, level, overdue, unit, person, reportedAt dates; paging; newest first', async () => {
    const p05 = await as('p05');
    const all = (await p05.get('/api/v1/hazards?limit=200').expect(200)).body;
    expect(all.total).toBe(all.items.length);
    expect(all.items.every((i: { state: string }) => i.state !== 'draft')).toBe(true);
    const dates = all.items.map((i: { reportedAt: string }) => Date.parse(i.reportedAt));
    expect([...dates].sort((a, b) => b - a)).toEqual(dates);

    const page = (await p05.get('/api/v1/hazards?limit=2&offset=1').expect(200)).body;
    expect(page.total).toBe(all.total);
    expect(page.items.map((i: { id: number }) => i.id)).toEqual(all.items.slice(1, 3).map((i: { id: number }) => i.id));

    const major = (await p05.get('/api/v1/hazards?level=1&limit=200').expect(200)).body;
    expect(major.items.length).toBeGreaterThan(0);
    expect(major.items.every((i: { dangerLevel: number }) => i.dangerLevel === 1)).toBe(true);

    const overdue = (await p05.get('/api/v1/hazards?overdue=true').expect(200)).body;
    expect(overdue.items.map((i: { name: string; overdue: boolean }) => [i.name, i.overdue])).toEqual([['V-101B 远传液位与现场液位计偏差超过5%', true]]);

    const states = (await p05.get('/api/v1/hazards?state=rectifying,awaiting_acceptance&limit=200').expect(200)).body;
    expect(new Set(states.items.map((i: { state: string }) => i.state))).toEqual(new Set(['rectifying']));

    const unit = (await p05.get(`/api/v1/hazards?unitId=${RU2}&limit=200`).expect(200)).body;
    expect(unit.items.every((i: { riskUnit: { id: number } }) => i.riskUnit.id === RU2)).toBe(true);
    expect(unit.total).toBeGreaterThan(0);

    const p16 = await sys.person('p16');
    const mine = (await p05.get(`/api/v1/hazards?personId=${p16}&limit=200`).expect(200)).body;
    expect(mine.total).toBeGreaterThan(0);
    expect(mine.items.every((i: { reporter: { id: number }; rectifier: { id: number } | null; acceptor: { id: number } | null }) => [i.reporter.id, i.rectifier?.id, i.acceptor?.id].includes(p16))).toBe(true);

    // the demo's V-101B was reported 12 days before T0 (2026-11-18)
    const range = (await p05.get('/api/v1/hazards?from=2026-11-18&to=2026-11-18').expect(200)).body;
    expect(range.items.map((i: { name: string }) => i.name)).toEqual(['V-101B 远传液位与现场液位计偏差超过5%']);
    const none = (await p05.get('/api/v1/hazards?from=2026-12-01').expect(200)).body;
    expect(none.total).toBe(0);

    await (await as('p05')).get('/api/v1/hazards?state=closed').expect(400);
    await (await as('p05')).get('/api/v1/hazards?overdue=yes').expect(400);
  });

  test('a regulator reads the list but writes nothing', async () => {
    const r = await as('r01'); // the demo seed's 园区监管员, reading the demo plant
    expect((await r.get('/api/v1/hazards').expect(200)).body.total).toBeGreaterThan(0);
    await refused(async () => r.post('/api/v1/hazards', base()), 403, 'forbidden');
  });
});

// after-photos are the evidence an acceptor judges the fix by: the hazard's own photo, the same
// picture uploaded again, or a picture older than the report proves nothing (new-user finding)
describe('after-photos must be new evidence', () => {
  const uploadSame = async (token: string, bytes: Buffer) => {
    const res = await request(sys.app.callback()).post('/api/v1/files').set('authorization', `Bearer ${token}`).attach('files', bytes, { filename: 'same.jpg', contentType: 'image/jpeg' });
    expect(res.status).toBe(201);
    return res.body.items[0].id as number;
  };

  test('即查即改: the before-photo itself, or the same picture uploaded twice, as the after-photo → 400, nothing stored', async () => {
    const t = await sys.token('p07');
    const bytes = await jpeg();
    const before = await uploadSame(t, bytes);
    const again = await uploadSame(t, bytes);
    const q = { name: '罐区巡检通道照明灯不亮', dangerSrc: 1, hazardDangerType: 3, riskUnitId: RU1, photos: [before], measures: '更换灯泡' };
    const count = await sys.rt.prisma.hazard.count();
    await refused(async () => (await as('p07')).post('/api/v1/hazards/quick-fix', { ...q, afterPhotos: [before] }), 400, 'after_photo_is_before_photo');
    await refused(async () => (await as('p07')).post('/api/v1/hazards/quick-fix', { ...q, afterPhotos: [again] }), 400, 'after_photo_is_before_photo');
    expect(await sys.rt.prisma.hazard.count()).toBe(count);
  });

  test('整改: the hazard\'s own photo, or a photo uploaded before the hazard was reported → 400; a new photo → 200', async () => {
    const [old] = await uploadPhotos(sys, await sys.token('p06'));
    sys.clock.advance(60_000);
    const [before] = await uploadPhotos(sys, await sys.token('p07'));
    const id = (await (await as('p07')).post('/api/v1/hazards', { ...base(), name: '罐区消防沙箱沙量不足', photos: [before] }).expect(201)).body.hazardId;
    await (await as('p05')).post(`/api/v1/hazards/${id}/confirm`, { rectifierId: await sys.person('p06'), acceptorId: await sys.person('p05'), deadlineDate: '2026-12-04' }).expect(200);
    await refused(async () => (await as('p06')).post(`/api/v1/hazards/${id}/rectify`, { measures: '补沙', afterPhotos: [before] }), 400, 'after_photo_is_before_photo');
    await refused(async () => (await as('p06')).post(`/api/v1/hazards/${id}/rectify`, { measures: '补沙', afterPhotos: [old] }), 400, 'after_photo_too_early');
    expect((await sys.rt.prisma.hazard.findUniqueOrThrow({ where: { id } })).state).toBe('rectifying');
    const fresh = await uploadPhotos(sys, await sys.token('p06'));
    await (await as('p06')).post(`/api/v1/hazards/${id}/rectify`, { measures: '补沙', afterPhotos: fresh }).expect(200);
  });
});
