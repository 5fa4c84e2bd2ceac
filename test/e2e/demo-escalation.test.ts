/**
 * Issue #2's demo, end to end on the demo plant against real MariaDB and Redis: what a fresh
 * start sends, acknowledging from a message link, and clearing by closing the loop (hazard
 * accepted, missing check done) — through HTTP only for people's actions.
 */
import request from 'supertest';
import { createTestSystem, T0, type TestSystem } from '../helpers/system';
import { uploadPhotos } from '../helpers/photos';

const HOUR = 3600_000;
const DAY = 24 * HOUR;

describe('demo plant on a fresh start', () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await createTestSystem({ now: T0 });
    await sys.cycle();
  });
  afterAll(async () => sys.close());

  const alertsOf = (kind: string) => sys.rt.prisma.alert.findMany({ where: { kind }, include: { notifications: true } });
  const ids = async (...codes: string[]) => Promise.all(codes.map((c) => sys.person(c)));

  it('sends the V-101B hazard, 5 days overdue, once at level 3 to everyone up to that level', async () => {
    const [a] = await alertsOf('hazard_overdue');
    expect(a.title).toContain('V-101B');
    expect(a.level).toBe(3);
    expect(a.notifications).toHaveLength(1);
    const n = a.notifications[0];
    expect(n.level).toBe(3);
    expect(n.state).toBe('sent');
    // rectifier 胡婷, acceptor 刘洋, unit head 陈志强, safety director 郑丽, 主要负责人 周建国
    expect(new Set(n.recipients as number[])).toEqual(new Set(await ids('p16', 'p06', 'p05', 'p03', 'p01')));
    const payload = n.payload as { title: string; lines: string[] };
    expect(payload.title).toContain('三级');
    expect(payload.lines.join('\n')).toContain('已超期 5 天');
    const events = await sys.rt.prisma.alertEvent.findMany({ where: { alertId: a.id }, orderBy: { id: 'asc' } });
    expect(events.map((e) => e.type)).toEqual(['opened', 'notified']);
  });

  it('sends the 加氢 重大隐患 at once to the 主要负责人 周建国', async () => {
    const [a] = await alertsOf('major_hazard');
    expect(a.title).toContain('紧急停车');
    expect(a.notifications).toHaveLength(1);
    expect(a.notifications[0].recipients as number[]).toContain(await sys.person('p01'));
  });

  it('sends the due-soon reminder for GD-203 to its rectifier', async () => {
    const due = await alertsOf('hazard_due_soon');
    const gd = due.find((a) => a.title.includes('GD-203'))!;
    expect(gd).toBeDefined();
    expect(gd.notifications.map((n) => n.recipients)).toEqual([[await sys.person('p16')]]);
  });

  it('raises the late-entry alert for the government-found 防火堤 hazard', async () => {
    const [a] = await alertsOf('hazard_late_entry');
    expect(a.title).toContain('防火堤');
    expect((a.notifications[0].payload as { lines: string[] }).lines.join('\n')).toContain('9 天后录入');
  });

  it('does not invent missed checks from before the plant was loaded', async () => {
    expect(await sys.rt.prisma.alert.count({ where: { kind: 'task_overdue' } })).toBe(0);
    const before = await sys.rt.prisma.checkTaskInstance.count({ where: { endAt: { lte: T0 } } });
    expect(before).toBe(0);
  });

  it('a second tick at the same time sends nothing more', async () => {
    const count = await sys.rt.prisma.notification.count();
    await sys.cycle();
    expect(await sys.rt.prisma.notification.count()).toBe(count);
  });

  it('shows the notifications in the outbox viewer only with the admin token', async () => {
    await request(sys.app.callback()).get('/outbox').expect(401);
    const res = await request(sys.app.callback()).get(`/outbox?token=${sys.rt.outboxToken}`).set('accept', 'text/html').expect(200);
    expect(res.text).toContain('V-101B');
    const json = await request(sys.app.callback()).get(`/outbox.json?token=${sys.rt.outboxToken}`).expect(200);
    expect(json.body.items.length).toBeGreaterThanOrEqual(5);
  });
});

describe('acknowledge from the message, then close the loop', () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await createTestSystem({ now: T0 });
    await sys.cycle();
  });
  afterAll(async () => sys.close());

  const v101b = () => sys.rt.prisma.alert.findFirstOrThrow({ where: { kind: 'hazard_overdue' } });
  it('pressing 确认 on the link page stops the repeats for the ack timeout, then they resume', async () => {
    const a = await v101b();
    const pid = await sys.person('p16');
    const n = await sys.rt.prisma.notification.findFirstOrThrow({ where: { alertId: a.id } });
    const link = (n.payload as { links: Array<{ personId: number; url: string }> }).links.find((l) => l.personId === pid)!;
    const path = new URL(link.url).pathname;
    const page = await request(sys.app.callback()).get(path).expect(200);
    expect(page.text).toContain('确认');
    expect(page.text).toContain('处置');
    await request(sys.app.callback()).post(`${path}/ack`).type('form').send({}).expect(303);

    const acked = await v101b();
    expect(acked.state).toBe('acknowledged');
    expect(acked.ackedById).toBe(pid);
    const ev = await sys.rt.prisma.alertEvent.findFirstOrThrow({ where: { alertId: a.id, type: 'acknowledged' } });
    expect(ev.channel).toBe('link');
    expect(ev.actorId).toBe(pid);

    // the daily repeat would be due after 24 h; the ack timeout (24 h) holds it
    const before = await sys.rt.prisma.notification.count({ where: { alertId: a.id } });
    sys.clock.advance(20 * HOUR);
    await sys.cycle();
    expect(await sys.rt.prisma.notification.count({ where: { alertId: a.id } })).toBe(before);
    // nothing moved: escalation resumes after the pause
    sys.clock.advance(5 * HOUR);
    await sys.cycle();
    expect(await sys.rt.prisma.notification.count({ where: { alertId: a.id } })).toBe(before + 1);
    const types = (await sys.rt.prisma.alertEvent.findMany({ where: { alertId: a.id }, orderBy: { id: 'asc' } })).map((e) => e.type);
    expect(types).toEqual(['opened', 'notified', 'acknowledged', 'resumed', 'repeated']);
  });

  it('rectifying and accepting the hazard clears the alert; its history shows who, when and how', async () => {
    const a = await v101b();
    const rectifier = await sys.token('p16');
    const acceptor = await sys.token('p06');
    const [after] = await uploadPhotos(sys, rectifier); // a rectification carries its after-photo (issue #3)
    await request(sys.app.callback()).post(`/api/hazards/${a.subjectId}/rectify`).set('authorization', `Bearer ${rectifier}`).send({ measures: '更换 V-101B 远传液位变送器并校验', afterPhotos: [after] }).expect(200);
    await request(sys.app.callback()).post(`/api/hazards/${a.subjectId}/accept`).set('authorization', `Bearer ${acceptor}`).send({ comment: '现场核对偏差小于1%' }).expect(200);
    const cleared = await v101b();
    expect(cleared.state).toBe('cleared');
    expect(cleared.clearKind).toBe('condition_ended');
    const res = await request(sys.app.callback()).get(`/api/alerts/${a.id}`).set('authorization', `Bearer ${acceptor}`).expect(200);
    const steps = res.body.events.map((e: { type: string; actor: { name: string } | null; channel: string }) => [e.type, e.actor?.name ?? null, e.channel]);
    expect(steps).toEqual([
      ['opened', null, 'engine'],
      ['notified', null, 'engine'],
      ['acknowledged', '胡婷', 'link'],
      ['resumed', null, 'engine'],
      ['repeated', null, 'engine'],
      ['cleared', '刘洋', 'api'],
    ]);
    // the hazard alerts go quiet: the next tick sends nothing for it
    const count = await sys.rt.prisma.notification.count({ where: { alertId: a.id } });
    sys.clock.advance(2 * DAY);
    await sys.cycle();
    expect(await sys.rt.prisma.notification.count({ where: { alertId: a.id } })).toBe(count);
  });

});

describe('a missed check', () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await createTestSystem({ now: T0 });
    await sys.cycle();
  });
  afterAll(async () => sys.close());

  it('escalates; submitting the next check record clears the alert', async () => {
    // T10 (加氢 patrol, hourly): let the current instance pass without a record
    const task = await sys.rt.prisma.checkTask.findFirstOrThrow({ where: { code: 'T10' } });
    const now = sys.clock.now();
    const inst = await sys.rt.prisma.checkTaskInstance.findFirstOrThrow({ where: { checkTaskId: task.id, startAt: { lte: now }, endAt: { gt: now } } });
    sys.clock.set(inst.endAt.getTime() + 60_000);
    await sys.cycle();
    const overdue = await sys.rt.prisma.alert.findFirstOrThrow({ where: { kind: 'task_overdue', subjectId: task.id } });
    expect(overdue.level).toBe(1);
    const n = await sys.rt.prisma.notification.findFirstOrThrow({ where: { alertId: overdue.id } });
    // assignee (加氢操作工 马超) + post leader (加氢班长 徐静)
    expect(new Set(n.recipients as number[])).toEqual(new Set([await sys.person('p14'), await sys.person('p13')]));

    const operator = await sys.token('p14');
    const mine = await request(sys.app.callback()).get('/api/me/tasks').set('authorization', `Bearer ${operator}`).expect(200);
    const next = mine.body.items.find((i: { task: { code: string } }) => i.task.code === 'T10');
    expect(next).toBeDefined();
    const rec = await request(sys.app.callback())
      .post('/api/check-records')
      .set('authorization', `Bearer ${operator}`)
      .send({ instanceId: next.instanceId, result: 0, readings: [{ value: 2.8 }], deviceId: 'IMEI-860000000000001' })
      .expect(201);
    expect(rec.body.abnormal).toBe(false);
    expect(rec.body.clearedAlerts).toContain(overdue.id);
    const after = await sys.rt.prisma.alert.findUniqueOrThrow({ where: { id: overdue.id } });
    expect(after.state).toBe('cleared');
  });

  it('an abnormal reading raises an alert at once; a second record for the same instance is refused', async () => {
    const operator = await sys.token('p07');
    const mine = await request(sys.app.callback()).get('/api/me/tasks').set('authorization', `Bearer ${operator}`).expect(200);
    const t1 = mine.body.items.find((i: { task: { code: string } }) => i.task.code === 'T1');
    const res = await request(sys.app.callback()).post('/api/check-records').set('authorization', `Bearer ${operator}`).send({ instanceId: t1.instanceId, result: 1, readings: [{ value: 0.95 }] }).expect(201);
    expect(res.body.abnormal).toBe(true);
    await sys.cycle();
    const a = await sys.rt.prisma.alert.findUniqueOrThrow({ where: { id: res.body.abnormalAlertId }, include: { notifications: true } });
    expect(a.kind).toBe('abnormal_reading');
    expect(a.notifications).toHaveLength(1);
    expect((a.notifications[0].payload as { lines: string[] }).lines.join()).toContain('0.95');

    const again = await request(sys.app.callback()).post('/api/check-records').set('authorization', `Bearer ${operator}`).send({ instanceId: t1.instanceId, result: 0 }).expect(409);
    expect(again.body.code).toBe('already_done');
  });
});
