/**
 * From an alert firing to the chat platform and back to the outbox row, against the local fakes
 * (protocols.md §1.4–1.6, §3.1, §3.5): DingTalk signed + keyword robot with @mentions, a
 * 6,000-byte Chinese alert through the bull worker to WeCom, and every delivery outcome (dead
 * letter, retry with backoff, platform throttling, errcode in an HTTP 200, acknowledged meanwhile).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { FakeDingtalkRobot } from '../fakes/dingtalk-robot';
import { FakeWecomRobot } from '../fakes/wecom-robot';
import { createTestSystem, T0, type TestSystem } from '../helpers/system';
import { DAY, HOUR, alertCodesIn, bytes, insertDueAlerts, quietDemoPlant, waitFor, wellFormed, type DueAlertSpec } from '../helpers/alert-fixtures';

/** Inserts one alert per spec (hazard_due_soon policy: one level, repeated daily), ticks, returns ids. */
async function fire(sys: TestSystem, specs: Array<Omit<DueAlertSpec, 'conditionStartAt'>>): Promise<number[]> {
  const ids = await insertDueAlerts(sys.rt.prisma, { enterpriseId: sys.enterpriseId!, now: sys.clock.now(), specs: specs.map((s) => ({ ...s, conditionStartAt: sys.clock.now() })) });
  await sys.rt.tickOnce();
  return ids;
}

const rowsOf = (sys: TestSystem, alertId: number) => sys.rt.prisma.notification.findMany({ where: { alertId }, orderBy: { id: 'asc' } });

describe('DingTalk custom robot through the engine', () => {
  const SECRET = 'SECd1c0ffee0123456789abcdef0123456789abcdef0123456789abcdef01234';
  const KEYWORD = '值班提醒'; // appears nowhere in our texts: the channel must add it
  let sys: TestSystem;
  const fake = new FakeDingtalkRobot({ now: () => sys.clock.now().getTime() }); // DingTalk's clock = ours (±1 h window)

  beforeAll(async () => {
    await fake.start();
    fake.addRobot('tok-d1', { secret: SECRET, keywords: [KEYWORD] });
    sys = await createTestSystem({ now: T0, env: { ROBOTS: JSON.stringify({ d1: { webhook: fake.webhookUrl('tok-d1'), secret: SECRET, keywords: [KEYWORD] } }) } });
    await quietDemoPlant(sys.rt.prisma);
  });
  afterAll(async () => {
    await sys?.close();
    await fake.stop();
  });

  it('signs every request, carries the keyword and @mentions each recipient in the group by mobile', async () => {
    // 吴海峰, 李娜, 徐静 are in d1 (生产调度群); 胡婷 is in no active group → the outbox
    const [p02, p10, p13, p16] = await Promise.all(['p02', 'p10', 'p13', 'p16'].map((k) => sys.person(k)));
    const [id] = await fire(sys, [{ levels: [[p02, p10, p13, p16]] }]);
    const rows = await rowsOf(sys, id);
    expect(rows.map((r) => [r.channel, r.recipients])).toEqual([
      ['dingtalk_robot', [p02, p10, p13]],
      ['outbox', [p16]],
    ]);
    expect(await sys.deliverAll()).toEqual(['sent', 'sent']);

    expect(fake.rejected).toEqual([]);
    expect(fake.received).toHaveLength(1);
    const m = fake.received[0];
    expect(m.msgtype).toBe('markdown');
    const text = (m.body.markdown as { title: string; text: string }).text;
    const title = (m.body.markdown as { title: string }).title;
    expect(`${title}\n${text}`).toContain(KEYWORD);
    const mobiles = ['13800000002', '13800000010', '13800000013'];
    expect([...m.at.atMobiles].sort()).toEqual(mobiles);
    expect(m.at.isAtAll).toBe(false);
    for (const mobile of mobiles) {
      expect(m.mentionsInText.mobiles[mobile]).toBe(true);
      expect(text).toContain(`@${mobile}`);
    }
    expect(text).not.toContain('13800000016'); // 胡婷 is not in the group
    expect(alertCodesIn(text)).toEqual([`A${id}`]);
    // one signed ack link per recipient of this message
    for (const name of ['吴海峰', '李娜', '徐静']) expect(text).toContain(`确认/处置 · ${name}`);
    expect((await rowsOf(sys, id)).map((r) => r.state)).toEqual(['sent', 'sent']);
    // the group reads every link: they are marked shared (acting asks for the mobile tail); the
    // outbox row's link is personal
    const claimsOf = async (url: string) => sys.rt.links.verify(new URL(url).pathname.replace(/^\/l\//, ''));
    const [group, outbox] = await rowsOf(sys, id);
    for (const l of (group.payload as { links: Array<{ url: string }> }).links) expect((await claimsOf(l.url)).shared).toBe(true);
    for (const l of (outbox.payload as { links: Array<{ url: string }> }).links) expect((await claimsOf(l.url)).shared).toBe(false);

    // a day later the repeat is signed again with the new time: a signature kept from the first
    // request would be 24 h outside DingTalk's ±1 h window and rejected (310000 invalid timestamp)
    sys.clock.advance(DAY);
    await sys.rt.tickOnce();
    expect(await sys.deliverAll()).toEqual(['sent', 'sent']);
    expect(fake.rejected).toEqual([]);
    expect(fake.received).toHaveLength(2);
    expect(fake.received[1].receivedAt - fake.received[0].receivedAt).toBe(DAY);
    expect([...fake.received[1].at.atMobiles].sort()).toEqual(mobiles);
  });
});

describe('a 6,000-byte Chinese alert to WeCom through the bull worker', () => {
  const fake = new FakeWecomRobot();
  let sys: TestSystem;

  beforeAll(async () => {
    await fake.start();
    fake.addKey('k-g1');
    sys = await createTestSystem({ env: { ROLES: 'worker', ROBOTS: JSON.stringify({ g1: { webhook: fake.webhookUrl('k-g1') } }) } });
    await quietDemoPlant(sys.rt.prisma);
    await sys.rt.start();
  });
  afterAll(async () => {
    await sys?.close();
    await fake.stop();
  });

  it('is never rejected for length, never cut inside a character, and fits the byte limit', async () => {
    const p07 = await sys.person('p07');
    const p08 = await sys.person('p08');
    // 孙明 has no WeCom userid: his message must be `text` (@ by mobile), limit 2048 bytes; 赵小军's is markdown, 4096
    await sys.rt.prisma.person.update({ where: { id: p08 }, data: { wecomUserId: null } });
    const long = {
      hazardName: '储罐区域液位计读数偏差😀超过允许范围，'.repeat(50),
      unitName: '液氯储罐区𠮷V-101A/B及其附属管线、阀门、仪表，'.repeat(30),
      acceptorName: '安全环保部设备管理科🧪'.repeat(40),
    };
    const [a, b] = await fire(sys, [
      { levels: [[p07]], detail: long },
      { levels: [[p08]], detail: long },
    ]);
    for (const id of [a, b]) {
      const [row] = await rowsOf(sys, id);
      expect(row.channel).toBe('wecom_robot');
      const msg = row.payload as { title: string; lines: string[] };
      expect(bytes([msg.title, ...msg.lines].join('\n'))).toBeGreaterThan(6000);
    }

    expect(await sys.rt.relayOnce()).toBe(2);
    await waitFor(async () => (await sys.rt.prisma.notification.count({ where: { alertId: { in: [a, b] }, state: 'sent' } })) === 2, 'both rows sent', { timeoutMs: 20_000 });

    expect(fake.rejected).toEqual([]);
    expect(fake.received).toHaveLength(2);
    const byAlert = new Map(fake.received.map((m) => [alertCodesIn((m.body[m.msgtype] as { content: string }).content)[0], m]));
    const md = byAlert.get(`A${a}`)!;
    const text = byAlert.get(`A${b}`)!;
    expect(md.msgtype).toBe('markdown');
    expect(text.msgtype).toBe('text');
    const mdContent = (md.body.markdown as { content: string }).content;
    const textContent = (text.body.text as { content: string }).content;
    expect(bytes(mdContent)).toBeLessThanOrEqual(4096);
    expect(bytes(textContent)).toBeLessThanOrEqual(2048);
    expect(text.wouldTruncate).toBe(false);
    for (const c of [mdContent, textContent]) {
      expect(wellFormed(c)).toBe(true);
      expect(c).toContain('储罐区域液位计读数偏差😀'); // the start of the title survives
      expect(c).toContain('http://dualprev.test/alerts/'); // shortened → ends with the link to the full alert
    }
    expect(md.inlineMentions).toEqual(['ZhaoXiaoJun']);
    expect(text.mentionedMobileList).toEqual(['13800000008']);
    // what was sent is kept on the row for the outbox viewer
    const [row] = await rowsOf(sys, a);
    expect((row.payload as { delivered: { markdown: { content: string } } }).delivered.markdown.content).toBe(mdContent);
  }, 40_000);
});

/** A robot endpoint answering HTTP 200 with the given raw bodies, one per request. */
async function stubRobot(bodies: string[]): Promise<{ url: string; hits: () => number; stop: () => Promise<void> }> {
  let hits = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'Content-Type': 'application/json' }).end(bodies[Math.min(hits++, bodies.length - 1)]));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/cgi-bin/webhook/send?key=stub`,
    hits: () => hits,
    stop: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

describe('delivery outcomes', () => {
  const BACKOFF = 10_000;
  const fake = new FakeWecomRobot();
  let stub: Awaited<ReturnType<typeof stubRobot>>;
  let sys: TestSystem;
  let p07: number; // in g1 only (fake WeCom)
  let p01: number; // in g2 only (stub robot)
  let p16: number; // in no group (outbox)

  beforeAll(async () => {
    await fake.start();
    fake.addKey('k-g1');
    stub = await stubRobot(['{"errmsg":"ok"}', 'ok']);
    sys = await createTestSystem({
      now: T0,
      env: {
        ROBOTS: JSON.stringify({ g1: { webhook: fake.webhookUrl('k-g1') }, g2: { webhook: stub.url } }),
        DELIVERY_BACKOFF_MS: String(BACKOFF),
        DELIVERY_MAX_ATTEMPTS: '5',
        ROBOT_RATE_LIMIT: '1000',
      },
    });
    await quietDemoPlant(sys.rt.prisma);
    [p07, p01, p16] = await Promise.all(['p07', 'p01', 'p16'].map((k) => sys.person(k)));
  });
  afterEach(async () => {
    // leave nothing due for the next test
    await sys.rt.prisma.notification.updateMany({ where: { state: { in: ['pending', 'queued', 'sending'] } }, data: { state: 'cancelled' } });
    await sys.rt.prisma.alert.updateMany({ data: { nextFireAt: null } });
    fake.reset();
  });
  afterAll(async () => {
    await sys?.close();
    await fake.stop();
    await stub?.stop();
  });

  it('errcode 93000 (webhook invalid) dead-letters at once, logs delivery_failed and shows in the outbox viewer', async () => {
    const [id] = await fire(sys, [{ levels: [[p07]] }]);
    fake.failNext('k-g1', 93000);
    expect(await sys.deliverAll()).toEqual(['dead']);
    const [row] = await rowsOf(sys, id);
    expect(row).toMatchObject({ state: 'dead', attempts: 1, sentAt: null });
    expect(row.lastError).toMatch(/^errcode 93000: invalid webhook url/);
    const ev = await sys.rt.prisma.alertEvent.findFirstOrThrow({ where: { alertId: id, type: 'delivery_failed' } });
    expect(ev.channel).toBe('wecom_robot');
    expect(ev.note).toContain('g1');
    expect(ev.note).toContain('93000');

    const res = await request(sys.app.callback()).get(`/outbox.json?token=${sys.rt.outboxToken}&state=dead`).expect(200);
    const item = res.body.items.find((i: { id: number }) => i.id === row.id);
    expect(item).toMatchObject({ state: 'dead', alertCode: `A${id}`, channel: 'wecom_robot', destination: { code: 'g1' }, attempts: 1 });
    expect(item.lastError).toContain('errcode 93000');
    expect(res.body.counts.dead).toBeGreaterThanOrEqual(1);
    // a later relay does not pick a dead row up again
    sys.clock.advance(HOUR);
    expect(await sys.deliverAll()).toEqual([]);
    expect(fake.rejected).toHaveLength(1);
  });

  it('errcode -1 twice then success: sent on attempt 3, each retry waits its growing backoff', async () => {
    const [id] = await fire(sys, [{ levels: [[p07]] }]);
    fake.failNext('k-g1', -1, 2);
    const waits: number[] = [];
    for (let attempt = 1; attempt <= 2; attempt++) {
      const before = sys.clock.now().getTime();
      expect(await sys.deliverAll()).toEqual(['retry']);
      const [row] = await rowsOf(sys, id);
      expect(row).toMatchObject({ state: 'pending', attempts: attempt, sentAt: null });
      expect(row.lastError).toMatch(/^errcode -1/);
      const wait = row.nextAttemptAt.getTime() - before;
      waits.push(wait);
      // the relay does not pick it up a millisecond early
      sys.clock.set(row.nextAttemptAt.getTime() - 1);
      expect(await sys.deliverAll()).toEqual([]);
      expect((await rowsOf(sys, id))[0].state).toBe('pending');
      sys.clock.set(row.nextAttemptAt.getTime());
    }
    // exponential with ±20 % jitter: BACKOFF, then 2 × BACKOFF
    expect(waits[0]).toBeGreaterThanOrEqual(0.8 * BACKOFF);
    expect(waits[0]).toBeLessThanOrEqual(1.2 * BACKOFF);
    expect(waits[1]).toBeGreaterThanOrEqual(1.6 * BACKOFF);
    expect(waits[1]).toBeLessThanOrEqual(2.4 * BACKOFF);

    expect(await sys.deliverAll()).toEqual(['sent']);
    const [row] = await rowsOf(sys, id);
    expect(row).toMatchObject({ state: 'sent', attempts: 3, lastError: null });
    expect(fake.rejected.map((r) => r.errcode)).toEqual([-1, -1]);
    expect(fake.received).toHaveLength(1);
    expect(await sys.rt.prisma.alertEvent.count({ where: { alertId: id, type: 'delivery_failed' } })).toBe(0);
  });

  it('an HTTP 200 whose errcode is not 0 (or missing) is never recorded as sent', async () => {
    const codes = [-1, 40058, 93004, 45009, 12345];
    const ids = await fire(sys, codes.map(() => ({ levels: [[p07]] })));
    for (const code of codes) fake.failNext('k-g1', code);
    const outcomes = await sys.deliverAll();
    expect(outcomes).toHaveLength(codes.length);
    expect(outcomes).not.toContain('sent');
    const rows = await sys.rt.prisma.notification.findMany({ where: { alertId: { in: ids } } });
    for (const r of rows) {
      expect(r.state).not.toBe('sent');
      expect(r.sentAt).toBeNull();
      expect(r.lastError).toMatch(/^errcode -?\d+/);
    }
    expect(rows.map((r) => r.state).sort()).toEqual(['dead', 'dead', 'pending', 'pending', 'pending']);
    expect(fake.received).toEqual([]);

    // a robot that answers 200 without an errcode, then 200 with a non-JSON body
    const [x, y] = await fire(sys, [{ levels: [[p01]] }, { levels: [[p01]] }]);
    expect(await sys.deliverAll()).toEqual(['retry', 'retry']);
    expect(stub.hits()).toBe(2);
    for (const id of [x, y]) {
      const [row] = await rowsOf(sys, id);
      expect(row.channel).toBe('wecom_robot');
      expect(row).toMatchObject({ state: 'pending', sentAt: null, attempts: 1 });
    }
  });

  it('errcode 45009 (robot throttled) re-queues after 60 s without counting an attempt', async () => {
    const [id] = await fire(sys, [{ levels: [[p07]] }]);
    fake.failNext('k-g1', 45009);
    const t = sys.clock.now().getTime();
    expect(await sys.deliverAll()).toEqual(['throttled']);
    const [row] = await rowsOf(sys, id);
    expect(row).toMatchObject({ state: 'pending', attempts: 0 });
    expect(row.nextAttemptAt.getTime() - t).toBe(60_000);
    expect(row.lastError).toContain('45009');

    sys.clock.advance(59_999);
    expect(await sys.deliverAll()).toEqual([]);
    sys.clock.advance(1);
    expect(await sys.deliverAll()).toEqual(['sent']);
    expect((await rowsOf(sys, id))[0]).toMatchObject({ state: 'sent', attempts: 1 });
    expect(fake.received).toHaveLength(1);
  });

  it('an alert acknowledged after its notifications were written but before delivery: they are cancelled, not sent', async () => {
    const token = await sys.token('p16'); // 胡婷 is addressed by both alerts
    const ack = (id: number) => request(sys.app.callback()).post(`/api/alerts/${id}/ack`).set('authorization', `Bearer ${token}`).send({}).expect(200);

    // A: acknowledged while its rows are still pending in the outbox
    const [a] = await fire(sys, [{ levels: [[p16, p07]] }]);
    expect((await rowsOf(sys, a)).map((r) => [r.channel, r.state])).toEqual([
      ['wecom_robot', 'pending'],
      ['outbox', 'pending'],
    ]);
    await ack(a);
    // B: acknowledged after the relay put its rows on the queue
    const [b] = await fire(sys, [{ levels: [[p16, p07]] }]);
    expect(await sys.rt.relayOnce()).toBe(4);
    expect((await rowsOf(sys, b)).map((r) => r.state)).toEqual(['queued', 'queued']);
    await ack(b);

    expect(await sys.deliverAll()).toEqual(['cancelled', 'cancelled', 'cancelled', 'cancelled']);
    for (const id of [a, b]) {
      for (const r of await rowsOf(sys, id)) {
        expect(r.state).toBe('cancelled');
        expect(r.sentAt).toBeNull();
        expect(r.lastError).toContain('确认');
      }
      const alert = await sys.rt.prisma.alert.findUniqueOrThrow({ where: { id } });
      expect(alert.state).toBe('acknowledged');
    }
    expect(fake.received).toEqual([]);
    expect(fake.rejected).toEqual([]);
  });
});
