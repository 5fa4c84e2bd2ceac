/**
 * The engine's conditions on the demo plant (real MariaDB + Redis, createTestSystem, manual clock):
 * date-only deadlines end at LOCAL midnight, due-soon leads, unit shutdowns suspend instances,
 * hazard_overdue and 包保 task_overdue escalation over days, and hazards sent back after
 * rectification. Source: domain.md "Alerts and escalation", design.md "Data and time".
 *
 * The demo plant's own tasks keep running (nobody checks them), as they would on a real install;
 * assertions look at the subject under test only. Times: T0 = 2026-11-30 12:00 Asia/Shanghai.
 */
import request from 'supertest';
import { createTestSystem, T0, type TestSystem } from '../helpers/system';
import { uploadPhotos } from '../helpers/photos';

const MIN = 60_000;
const H = 3_600_000;
const DAY = 24 * H;

interface Payload {
  title: string;
  lines: string[];
  level: number;
  reason: string;
  firedAt: string;
}

function helpers(sys: () => TestSystem) {
  const prisma = () => sys().rt.prisma;
  return {
    /** alerts on one subject, oldest first */
    alerts: (kind: string, subjectType: string, subjectId: number) =>
      prisma().alert.findMany({ where: { kind, subjectType, subjectId }, orderBy: { id: 'asc' } }),
    notifications: async (alertId: number) =>
      (await prisma().notification.findMany({ where: { alertId }, orderBy: { id: 'asc' } })).map((n) => ({
        level: n.level,
        channel: n.channel,
        recipients: new Set(n.recipients as number[]),
        payload: n.payload as unknown as Payload,
        state: n.state,
      })),
    ids: (...codes: string[]) => Promise.all(codes.map((c) => sys().person(c))).then((a) => new Set(a)),
    /** a hazard reported just now on a risk unit, waiting for confirmation */
    report: async (code: string, name: string, unit: string, reporter: string) => {
      const s = sys();
      const now = s.clock.now();
      const u = await prisma().riskUnit.findFirstOrThrow({ where: { code: unit } });
      return prisma().hazard.create({
        data: {
          enterpriseId: s.enterpriseId!,
          code,
          name,
          riskUnitId: u.id,
          dangerLevel: 0,
          dangerSrc: 1,
          hazardDangerType: 4,
          dangerManageType: 1,
          foundAt: now,
          reportedAt: now,
          reporterId: await s.person(reporter),
          state: 'reported',
          nextCheckAt: now,
        },
      });
    },
    post: async (path: string, who: string, body: object, status = 200) =>
      request(sys().app.callback()).post(path).set('authorization', `Bearer ${await sys().token(who)}`).send(body).expect(status),
  };
}

// ─────────────────────────────────────────────────────────────────────────────────────────────
describe('a date-only deadline ends at the end of that LOCAL day', () => {
  let sys: TestSystem;
  const h = helpers(() => sys);
  let hazardId: number;
  const DEADLINE_AT = new Date('2026-12-05T16:00:00.000Z'); // 2026-12-06 00:00 Asia/Shanghai

  beforeAll(async () => {
    sys = await createTestSystem({ now: T0 });
    await sys.cycle();
    const hz = await h.report('YH-T-DL', '氯化反应釜 R-201 温度计套管渗漏', 'RU2', 'p11');
    hazardId = hz.id;
    // the 氯化车间 head confirms: rectifier 胡婷 (p16), acceptor 李娜 (p10), deadline 12-05
    const res = await h.post(`/api/hazards/${hazardId}/confirm`, 'p09', { rectifierId: await sys.person('p16'), acceptorId: await sys.person('p10'), deadlineDate: '2026-12-05' });
    expect(res.body.state).toBe('rectifying');
    await sys.cycle();
  });
  afterAll(async () => sys?.close());

  test('the deadline instant is 2026-12-05 24:00 in Asia/Shanghai = 16:00Z, and the hazard is next looked at 3 days before it', async () => {
    const hz = await sys.rt.prisma.hazard.findUniqueOrThrow({ where: { id: hazardId } });
    expect(hz.deadlineDate).toBe('2026-12-05');
    expect(hz.deadlineAt).toEqual(DEADLINE_AT);
    expect(hz.nextCheckAt).toEqual(new Date(DEADLINE_AT.getTime() - 3 * DAY));
    expect(await h.alerts('hazard_due_soon', 'hazard', hazardId)).toEqual([]);
  });

  test('due soon (一般隐患: −3 d) opens at 2026-12-02T16:00Z, not a second earlier, to the rectifier', async () => {
    sys.clock.set(DEADLINE_AT.getTime() - 3 * DAY - 1000);
    await sys.cycle();
    expect(await h.alerts('hazard_due_soon', 'hazard', hazardId)).toEqual([]);
    sys.clock.set(DEADLINE_AT.getTime() - 3 * DAY);
    await sys.cycle();
    const [a] = await h.alerts('hazard_due_soon', 'hazard', hazardId);
    expect(a.state).toBe('open');
    expect(a.conditionStartAt).toEqual(new Date('2026-12-02T16:00:00.000Z'));
    const ns = await h.notifications(a.id);
    expect(ns).toHaveLength(1);
    expect(ns[0].recipients).toEqual(await h.ids('p16'));
    expect(ns[0].payload.lines.join('\n')).toContain('整改期限：2026-12-05');
  });

  test('not overdue at 2026-12-05T15:59:59Z (23:59:59 local on the deadline day)', async () => {
    sys.clock.set(DEADLINE_AT.getTime() - 1000);
    await sys.cycle();
    expect(await h.alerts('hazard_overdue', 'hazard', hazardId)).toEqual([]);
    const [dueSoon] = await h.alerts('hazard_due_soon', 'hazard', hazardId);
    expect(dueSoon.state).toBe('open');
  });

  test('overdue at 2026-12-05T16:00:00Z: alert opened, level 1 to rectifier + acceptor, due soon cleared', async () => {
    sys.clock.set(DEADLINE_AT.getTime());
    await sys.cycle();
    const overdue = await h.alerts('hazard_overdue', 'hazard', hazardId);
    expect(overdue).toHaveLength(1);
    expect(overdue[0].state).toBe('open');
    expect(overdue[0].level).toBe(1);
    expect(overdue[0].conditionStartAt).toEqual(DEADLINE_AT);
    const ns = await h.notifications(overdue[0].id);
    expect(ns).toHaveLength(1);
    expect(ns[0].level).toBe(1);
    expect(ns[0].recipients).toEqual(await h.ids('p16', 'p10'));
    expect(ns[0].payload.title).toContain('【超期未整改·一级】');
    expect(ns[0].payload.lines).toContain('整改期限：2026-12-05（已超期 1 天）');
    const [dueSoon] = await h.alerts('hazard_due_soon', 'hazard', hazardId);
    expect(dueSoon.state).toBe('cleared');
    expect(dueSoon.clearKind).toBe('condition_ended');
  });
});

// ─────────────────────────────────────────────────────────────────────────────────────────────
describe('a risk unit shut down for maintenance (停用检修)', () => {
  let sys: TestSystem;
  const h = helpers(() => sys);
  let t1: number;
  let ru1: number;
  // T1 (罐区巡检, every 2 h) windows around T0, as UTC instants: [04,06) [06,08) [08,10) [10,12) …
  const w = (hourZ: number) => new Date(Date.UTC(2026, 10, 30, hourZ));

  beforeAll(async () => {
    sys = await createTestSystem({ now: T0 });
    await sys.cycle();
    t1 = (await sys.rt.prisma.checkTask.findFirstOrThrow({ where: { code: 'T1' } })).id;
    ru1 = (await sys.rt.prisma.riskUnit.findFirstOrThrow({ where: { code: 'RU1' } })).id;
  });
  afterAll(async () => sys?.close());

  const instanceAt = (startZ: number) => sys.rt.prisma.checkTaskInstance.findFirstOrThrow({ where: { checkTaskId: t1, startAt: w(startZ) } });

  test('an instance whose window the shutdown covers is suspended, never overdue; so is one the shutdown began in after its due-soon reminder', async () => {
    // 13:00 local: the [12:00, 14:00) instance is due soon and its reminder goes out
    sys.clock.set(w(5));
    await sys.cycle();
    const [dueSoon] = await h.alerts('task_due_soon', 'check_task', t1);
    expect(dueSoon.state).toBe('open');
    expect(await h.notifications(dueSoon.id)).toHaveLength(1);

    // 13:30 local: maintenance starts, planned until 17:00 local (09:00Z)
    await sys.rt.prisma.riskUnitShutdown.create({ data: { riskUnitId: ru1, startAt: new Date(w(5).getTime() + 30 * MIN), endAt: w(9), reason: '液氯储罐 V-101A 停用检修' } });
    for (let t = w(5).getTime() + 30 * MIN; t <= w(10).getTime() + MIN; t += 30 * MIN) {
      sys.clock.set(t);
      await sys.cycle();
    }
    expect((await instanceAt(4)).state).toBe('suspended'); // [12:00, 14:00): shutdown began inside it
    expect((await instanceAt(6)).state).toBe('suspended'); // [14:00, 16:00): wholly inside
    expect((await instanceAt(8)).state).toBe('suspended'); // [16:00, 18:00): the shutdown ends inside it
    for (const s of [4, 6, 8]) expect((await instanceAt(s)).nextCheckAt).toBeNull();
    expect(await h.alerts('task_overdue', 'check_task', t1)).toEqual([]);
    // the reminder's condition ended with the suspension: it is cleared, not left open
    const after = await sys.rt.prisma.alert.findUniqueOrThrow({ where: { id: dueSoon.id } });
    expect(after.state).toBe('cleared');
    expect(after.clearKind).toBe('condition_ended');
  });

  test('after the shutdown the task runs again: the next reminder goes out, and a missed window is overdue', async () => {
    // [18:00, 20:00) local = [10:00Z, 12:00Z): due soon at 11:00Z
    sys.clock.set(w(11));
    await sys.cycle();
    const dueSoon = (await h.alerts('task_due_soon', 'check_task', t1)).filter((a) => a.state === 'open');
    expect(dueSoon).toHaveLength(1);
    expect(dueSoon[0].conditionStartAt).toEqual(w(11));
    expect(await h.notifications(dueSoon[0].id)).toHaveLength(1);
    sys.clock.set(w(12).getTime() + MIN);
    await sys.cycle();
    expect((await instanceAt(10)).state).toBe('missed');
    const overdue = await h.alerts('task_overdue', 'check_task', t1);
    expect(overdue).toHaveLength(1);
    expect(overdue[0].conditionStartAt).toEqual(w(12));
    // reminders: the one cleared by the suspension and the one after the shutdown — none for the
    // windows suspended from their start
    expect((await h.alerts('task_due_soon', 'check_task', t1)).map((a) => a.conditionStartAt)).toEqual([w(5), w(11)]);
  });

  test('other units are not affected by RU1\'s shutdown', async () => {
    const t8 = (await sys.rt.prisma.checkTask.findFirstOrThrow({ where: { code: 'T8' } })).id; // 氯化 RU2, hourly
    const states = await sys.rt.prisma.checkTaskInstance.findMany({ where: { checkTaskId: t8, endAt: { lte: w(10) } }, select: { state: true } });
    expect(states.length).toBeGreaterThan(0);
    expect(new Set(states.map((s) => s.state))).toEqual(new Set(['missed']));
  });
});

// ─────────────────────────────────────────────────────────────────────────────────────────────
describe('hazard_overdue escalation over days', () => {
  let sys: TestSystem;
  const h = helpers(() => sys);
  let hazardId: number;
  const DEADLINE_AT = new Date('2026-12-01T16:00:00.000Z'); // end of 2026-12-01 in Asia/Shanghai

  beforeAll(async () => {
    sys = await createTestSystem({ now: T0 });
    await sys.cycle();
    hazardId = (await h.report('YH-T-ESC', '氯化釜冷却水流量计示值漂移', 'RU2', 'p11')).id;
    await h.post(`/api/hazards/${hazardId}/confirm`, 'p09', { rectifierId: await sys.person('p16'), acceptorId: await sys.person('p10'), deadlineDate: '2026-12-01' });
    await sys.cycle();
  });
  afterAll(async () => sys?.close());

  test('level 1 at the deadline, 2 after 1 day (department head added), 3 after 3 days (safety director + 主要负责人), one notification each, daily repeats in between', async () => {
    // tick every 6 hours for 4½ days from the deadline
    for (let t = DEADLINE_AT.getTime(); t <= DEADLINE_AT.getTime() + 4 * DAY + 12 * H; t += 6 * H) {
      sys.clock.set(t);
      await sys.cycle();
    }
    const [a] = await h.alerts('hazard_overdue', 'hazard', hazardId);
    expect(a.level).toBe(3);
    const ns = await h.notifications(a.id);
    const L1 = await h.ids('p16', 'p10'); // rectifier 胡婷, acceptor 李娜
    const L2 = await h.ids('p16', 'p10', 'p09'); // + unit head 钱伟 (氯化车间)
    const L3 = await h.ids('p16', 'p10', 'p09', 'p03', 'p01'); // + 安全总监 郑丽, 主要负责人 周建国 (RU2 is no 重大危险源: the role holder)
    expect(ns.map((n) => [(Date.parse(n.payload.firedAt) - DEADLINE_AT.getTime()) / H, n.level, n.payload.reason])).toEqual([
      [0, 1, 'open'],
      [24, 2, 'escalate'],
      [48, 2, 'repeat'],
      [72, 3, 'escalate'],
      [96, 3, 'repeat'],
    ]);
    expect(ns.map((n) => n.recipients)).toEqual([L1, L2, L2, L3, L3]);
    expect(ns.map((n) => n.payload.title.slice(0, n.payload.title.indexOf('】') + 1))).toEqual([
      '【超期未整改·一级】',
      '【超期未整改·二级·升级】',
      '【超期未整改·二级·再次提醒】',
      '【超期未整改·三级·升级】',
      '【超期未整改·三级·再次提醒】',
    ]);
    expect(ns.every((n) => n.state === 'sent')).toBe(true);
    const events = (await sys.rt.prisma.alertEvent.findMany({ where: { alertId: a.id }, orderBy: { id: 'asc' } })).map((e) => e.type);
    expect(events).toEqual(['opened', 'notified', 'escalated', 'repeated', 'escalated', 'repeated']);
    // overdue days in the messages are local calendar days: 12-02 00:00 local → 1 day … 12-06 → 5 days
    expect(ns.map((n) => n.payload.lines.find((l) => l.startsWith('整改期限')))).toEqual([1, 2, 3, 4, 5].map((d) => `整改期限：2026-12-01（已超期 ${d} 天）`));
   }, 180_000);
});

// ─────────────────────────────────────────────────────────────────────────────────────────────
describe('a missed 包保 task (B1, 操作负责人 of 液氯储罐区, weekly)', () => {
  let sys: TestSystem;
  const h = helpers(() => sys);
  let b1: number;
  let t1: number;
  // B1's week: 2026-11-30 00:00 → 2026-12-07 00:00 Asia/Shanghai
  const END = new Date('2026-12-06T16:00:00.000Z');

  beforeAll(async () => {
    sys = await createTestSystem({ now: T0 });
    await sys.cycle();
    b1 = (await sys.rt.prisma.checkTask.findFirstOrThrow({ where: { code: 'B1' } })).id;
    t1 = (await sys.rt.prisma.checkTask.findFirstOrThrow({ where: { code: 'T1' } })).id;
    // a week of the whole plant's hourly patrols is slow to tick through; B1 and one ordinary
    // task of the same unit (T1) are enough here
    await sys.rt.prisma.checkTask.updateMany({ where: { id: { notIn: [b1, t1] } }, data: { enabled: false } });
  });
  afterAll(async () => sys?.close());

  test('level 1 to the 操作负责人 at the end of the week; level 2 (+24 h) to the 包保责任人 and the 主要负责人, not a department head', async () => {
    const [inst] = await sys.rt.prisma.checkTaskInstance.findMany({ where: { checkTaskId: b1 } });
    expect(inst.endAt).toEqual(END);
    for (const t of [END.getTime() - DAY, END.getTime() + MIN, END.getTime() + 12 * H, END.getTime() + DAY, END.getTime() + DAY + 6 * H]) {
      sys.clock.set(t);
      await sys.cycle();
    }
    expect((await sys.rt.prisma.checkTaskInstance.findUniqueOrThrow({ where: { id: inst.id } })).state).toBe('missed');
    const [a] = await h.alerts('task_overdue', 'check_task', b1);
    expect(a.conditionStartAt).toEqual(END);
    expect(a.level).toBe(2);
    const [p01, p02, p03, p04, p05] = await Promise.all(['p01', 'p02', 'p03', 'p04', 'p05'].map((c) => sys.person(c)));
    // resolved when the alert opened: L1 the assignee (no post → no post leader), L2 the other
    // 包保责任人 (技术 p02, 主要 p01; 操作 p05 already named), L3 安全管理部门 (技术负责人 = p02, named)
    expect(a.recipients).toEqual({ levels: [[p05], [p01, p02], [p03, p04]], unresolved: [{ level: 1, role: 'post_leader' }] });
    const ns = await h.notifications(a.id);
    // 12 h later the level-1 repeat (every 4 h) went out too; the 24 h one coincides with level 2
    expect(ns.map((n) => [(Date.parse(n.payload.firedAt) - END.getTime()) / H, n.level, n.payload.reason])).toEqual([
      [MIN / H, 1, 'open'],
      [12, 1, 'repeat'],
      [24, 2, 'escalate'],
    ]);
    expect(ns[0].recipients).toEqual(new Set([p05]));
    expect(ns[2].recipients).toEqual(new Set([p05, p01, p02]));
    expect(ns[0].payload.lines.join('\n')).toContain('注意：未找到以下角色的人员：班组长');
   }, 180_000);

  test('an ordinary task of the same unit escalates at level 2 to the department head instead', async () => {
    const [a] = await h.alerts('task_overdue', 'check_task', t1);
    const [p05, p06, p07, p08] = await Promise.all(['p05', 'p06', 'p07', 'p08'].map((c) => sys.person(c)));
    const r = a.recipients as { levels: number[][] };
    expect(r.levels[0]).toEqual([p07, p08, p06]); // 罐区操作工 ×2 + 班长
    expect(r.levels[1]).toEqual([p05]); // 罐区主管 (unit head)
  });
});

// ─────────────────────────────────────────────────────────────────────────────────────────────
describe('a hazard sent back after rectification', () => {
  let sys: TestSystem;
  const h = helpers(() => sys);
  let hazardId: number;
  let alertId: number;

  beforeAll(async () => {
    sys = await createTestSystem({ now: T0 });
    await sys.cycle();
    // the demo's V-101B hazard: 5 days overdue on a fresh start, at level 3
    const [a] = await sys.rt.prisma.alert.findMany({ where: { kind: 'hazard_overdue' } });
    alertId = a.id;
    hazardId = a.subjectId;
  });
  afterAll(async () => sys?.close());

  test('rectified (待验收): the overdue alert stays open — only acceptance ends it', async () => {
    await h.post(`/api/hazards/${hazardId}/rectify`, 'p16', { measures: '更换 V-101B 远传液位变送器', afterPhotos: await uploadPhotos(sys, await sys.token('p16')) });
    sys.clock.advance(MIN);
    await sys.cycle();
    const a = await sys.rt.prisma.alert.findUniqueOrThrow({ where: { id: alertId } });
    expect(a.state).toBe('open');
    expect(a.level).toBe(3);
  });

  test('sent back: the same alert keeps running (no new alert, no extra message), and its daily repeat follows', async () => {
    const before = (await h.notifications(alertId)).length;
    await h.post(`/api/hazards/${hazardId}/send-back`, 'p06', { comment: '偏差仍大于5%，重新整改' });
    sys.clock.advance(MIN);
    await sys.cycle();
    const all = await h.alerts('hazard_overdue', 'hazard', hazardId);
    expect(all.map((a) => [a.id, a.state])).toEqual([[alertId, 'open']]);
    expect(await h.notifications(alertId)).toHaveLength(before);
    sys.clock.set(T0.getTime() + DAY);
    await sys.cycle();
    const ns = await h.notifications(alertId);
    expect(ns).toHaveLength(before + 1);
    expect(ns[ns.length - 1].payload.reason).toBe('repeat');
  });

  test('cleared by hand while waiting for acceptance, then sent back: the overdue alert reopens at its level', async () => {
    await h.post(`/api/hazards/${hazardId}/rectify`, 'p16', { measures: '再次校验变送器并更换引压管', afterPhotos: await uploadPhotos(sys, await sys.token('p16')) });
    sys.clock.advance(MIN);
    await sys.cycle();
    // the safety director clears it by hand while the hazard waits for acceptance (after the engine
    // has seen the rectification: a scan still pending from it would open the alert again)
    await h.post(`/api/alerts/${alertId}/clear`, 'p03', { reason: '已整改，等待验收' });
    sys.clock.advance(MIN);
    await sys.cycle();
    expect(await h.alerts('hazard_overdue', 'hazard', hazardId).then((as) => as.map((a) => a.state))).toEqual(['cleared']);
    await h.post(`/api/hazards/${hazardId}/send-back`, 'p06', { comment: '现场核对仍不合格' });
    sys.clock.advance(MIN);
    await sys.cycle();
    const all = await h.alerts('hazard_overdue', 'hazard', hazardId);
    expect(all.map((a) => a.state)).toEqual(['cleared', 'open']);
    const reopened = all[1];
    expect(reopened.conditionStartAt).toEqual(all[0].conditionStartAt); // still counted from the deadline
    expect(reopened.level).toBe(3);
    const ns = await h.notifications(reopened.id);
    expect(ns).toHaveLength(1); // straight to level 3, one message
    expect(ns[0].recipients).toEqual(await h.ids('p16', 'p06', 'p05', 'p03', 'p01'));
  });
});
