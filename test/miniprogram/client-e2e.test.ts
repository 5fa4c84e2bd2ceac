/**
 * The mini-program's own API client (miniprogram/lib, compiled) run in Node against the REAL
 * server (createTestSystem, listening on a port, real MariaDB + Redis) and the fake WeChat server:
 * `wx.request` / `wx.uploadFile` are real HTTP (multipart for photos), wx.login codes come from the
 * fake's code2Session registry, phone numbers from its getuserphonenumber.
 *
 * The loop of issue #5's done-when, each person on their own phone:
 *   赵小军 (p07, 罐区操作工) logs in → unbound → binds with his WeChat phone number → reports a
 *   重大隐患 at the 液氯储罐 with two photos → the engine's tick raises a major_hazard alert to the
 *   主要负责人 周建国 (p01), who binds with a one-time code, grants a subscribe consent and 确认s it
 *   on his phone → he sets the 治理方案 and confirms the hazard (rectifier 胡婷 p16, acceptor 刘洋
 *   p06) → 胡婷 sees it on her 首页, rectifies with an after-photo → 刘洋 accepts → the alert clears.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { createTestSystem, type TestSystem } from '../helpers/system';
import { jpeg } from '../helpers/photos';
import { FakeWechat } from '../fakes/wechat';
import { issueBindingCode } from '../../server/services/identity';
import { buildMp, type MpBuild } from './mp-build';
import { httpPhone, use, type Phone } from './http-wx';

type Auth = typeof import('../../miniprogram/lib/auth');
type Queue = typeof import('../../miniprogram/lib/queue');
type Hazards = typeof import('../../miniprogram/lib/hazards');
type Alerts = typeof import('../../miniprogram/lib/alerts');
type Home = typeof import('../../miniprogram/lib/home');
type Units = typeof import('../../miniprogram/lib/units');
type Subscribe = typeof import('../../miniprogram/lib/subscribe');
type Session = typeof import('../../miniprogram/lib/session');
type ApiMod = typeof import('../../miniprogram/lib/api');

const APPID = 'wx0123456789abcdef';
const SECRET = 'fake-app-secret';
const TEMPLATE = 'TPL_ALERT_E2E';

describe('mini-program client against the real server', () => {
  let sys: TestSystem;
  let fake: FakeWechat;
  let server: Server;
  let mp: MpBuild;
  let lib: { auth: Auth; queue: Queue; hazards: Hazards; alerts: Alerts; home: Home; units: Units; subscribe: Subscribe; session: Session; api: ApiMod };
  const phones: Phone[] = [];

  /** a phone of a WeChat user (openid) whose login codes the fake issues */
  const phoneOf = (openid: string) => {
    const p = httpPhone(() => fake.issueCode(openid));
    phones.push(p);
    return p;
  };
  /** writes a small JPEG where the phone keeps its photos, as wx.chooseMedia + compressImage would */
  const photoFile = async (phone: Phone, name: string) => {
    const p = path.join(phone.dir, `${name}.jpg`);
    writeFileSync(p, await jpeg(160, 120));
    return p;
  };

  beforeAll(async () => {
    fake = new FakeWechat({ appId: APPID, secret: SECRET });
    const base = await fake.start();
    sys = await createTestSystem({ env: { WECHAT_APPID: APPID, WECHAT_SECRET: SECRET, WECHAT_API_BASE: base, WECHAT_SUBSCRIBE_TEMPLATE_ALERT: TEMPLATE } });
    server = sys.app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    mp = buildMp();
    mp.lib<typeof import('../../miniprogram/lib/config')>('lib/config').configure({ apiBase: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1` });
    lib = {
      auth: mp.lib('lib/auth'),
      queue: mp.lib('lib/queue'),
      hazards: mp.lib('lib/hazards'),
      alerts: mp.lib('lib/alerts'),
      home: mp.lib('lib/home'),
      units: mp.lib('lib/units'),
      subscribe: mp.lib('lib/subscribe'),
      session: mp.lib('lib/session'),
      api: mp.lib('lib/api'),
    };
    await sys.cycle();
  });

  afterAll(async () => {
    for (const p of phones) p.close();
    server?.closeAllConnections();
    await new Promise((r) => (server ? server.close(r) : r(null)));
    await sys?.close();
    await fake?.stop();
    mp?.cleanup();
  });

  /** logs in a phone: the first time unbound, then bound by phone number */
  async function loginByPhone(phone: Phone, mobile: string): Promise<number> {
    use(phone);
    const first = await lib.auth.login();
    expect(first.status).toBe('unbound');
    const person = await lib.auth.bindWithPhone((first as { bindToken: string }).bindToken, fake.issuePhoneCode(mobile));
    return person.id;
  }

  let hazardId: number;
  let alertId: number;
  const p07 = () => phones[0];
  let p01: Phone;
  let p16: Phone;
  let p06: Phone;

  test('赵小军 logs in (unbound), binds with his WeChat phone number, and a second login is direct', async () => {
    const phone = phoneOf('openid-p07');
    const id = await loginByPhone(phone, '13800000007');
    expect(id).toBe(await sys.person('p07'));
    expect(lib.session.loadSession()!.person).toMatchObject({ name: '赵小军', enterpriseName: '示范化工（演示）有限公司' });
    const again = await lib.auth.login();
    expect(again).toMatchObject({ status: 'ok', person: { id } });
    // WeChat's session_key never reaches the phone
    const kept = JSON.stringify([...phone.storage.map.values()]);
    expect(fake.sessionKeys.length).toBeGreaterThan(0);
    for (const k of fake.sessionKeys) expect(kept).not.toContain(k);
  });

  test('a reused login code gets 登录已失效，请重试; a retry with a fresh wx.login code gets in', async () => {
    const code = fake.issueCode('openid-p07');
    const phone = httpPhone(() => code); // a phone that (wrongly) sends the same code twice
    phones.push(phone);
    use(phone);
    await lib.auth.login(); // first use: fine
    const err = await lib.auth.login().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ kind: 'rejected', status: 400, code: 'login_code_invalid' });
    expect(lib.auth.loginErrorView(err)).toEqual({ message: '登录已失效，请重试', restart: true });
    const fresh = httpPhone(() => fake.issueCode('openid-p07'));
    phones.push(fresh);
    use(fresh);
    expect(await lib.auth.login()).toMatchObject({ status: 'ok' });
  });

  test('he reports a 重大隐患 at the 液氯储罐 with two photos: uploaded as multipart, then the report', async () => {
    use(p07());
    const units = await lib.units.loadUnits();
    const ru1 = units.find((u) => u.name === '液氯储罐 V-101A/B')!;
    expect(ru1).toBeDefined();
    const item = await lib.queue.enqueueReport({ name: '液氯储罐 V-101A 罐顶法兰渗漏，有刺激性气味', riskUnitId: ru1.id, riskUnitName: ru1.name, dangerLevel: 1 }, [await photoFile(p07(), 'a'), await photoFile(p07(), 'b')]);
    const progress: string[] = [];
    const r = await lib.queue.flushQueue({ onProgress: (p) => progress.push(p.text) });
    expect(r.stopped).toBeNull();
    expect(r.remaining).toBe(0);
    expect(r.sent).toEqual([expect.objectContaining({ clientRequestId: item.clientRequestId, duplicate: false, dangerLevel: 1 })]);
    expect(progress).toEqual(['正在上传照片 1/2', '正在上传照片 2/2', '正在提交隐患…']);
    hazardId = r.sent[0].hazardId;
    expect(p07().calls.filter((c) => c.kind === 'upload').map((c) => [c.path, c.status])).toEqual([
      ['/files', 201],
      ['/files', 201],
    ]);

    const h = await lib.hazards.loadHazard(hazardId);
    expect(h).toMatchObject({ state: 'reported', dangerLevel: 1, riskUnit: { name: '液氯储罐 V-101A/B' }, reporter: { name: '赵小军' } });
    expect(h.photos).toHaveLength(2);
    expect(h.photos.every((p) => p.thumbUrl !== null)).toBe(true);
  });

  test('the tick raises a major_hazard alert; 周建国 binds with a one-time code, consents to subscribe messages and confirms it on his phone', async () => {
    await sys.cycle();
    p01 = phoneOf('openid-p01');
    use(p01);
    const first = await lib.auth.login();
    expect(first.status).toBe('unbound');
    const { code } = await issueBindingCode(sys.rt.prisma, sys.clock, await sys.person('p01'));
    const badCode = await lib.auth.bindWithCode((first as { bindToken: string }).bindToken, code === '000000' ? '000001' : '000000').catch((e: unknown) => e);
    expect(lib.auth.loginErrorView(badCode).message).toBe('绑定码不正确或已使用，请向管理员重新获取');
    const me = await lib.auth.bindWithCode((first as { bindToken: string }).bindToken, code);
    expect(me.name).toBe('周建国');

    const config = await lib.subscribe.refreshMpConfig();
    expect(config).toMatchObject({ templateIds: { alert: TEMPLATE }, maxPhotos: 9 });
    const granted = await lib.subscribe.askConsent();
    expect(granted?.remaining[TEMPLATE]).toBe(1);

    const home = await lib.home.loadHome(lib.session.loadSession()!.person);
    const row = home.alerts.find((a) => a.title.includes('罐顶法兰渗漏'));
    expect(row).toBeDefined();
    const view = await lib.alerts.loadAlert(row!.id, me);
    expect(view).toMatchObject({ state: 'open', hazardId, canAck: true, canClear: true });
    expect(view.timeline.map((t) => t.label)).toContain('预警产生');
    alertId = row!.id;
    const raw = await request(sys.app.callback()).get(`/api/v1/alerts/${alertId}`).set('authorization', `Bearer ${await sys.token('p01')}`).expect(200);
    expect(raw.body.kind).toBe('major_hazard');

    await lib.alerts.acknowledge(alertId, '已通知罐区停止装卸');
    expect((await lib.alerts.loadAlert(alertId, me)).stateText).toBe('已确认');
  });

  test('he sets the 治理方案 and confirms the hazard (rectifier 胡婷, acceptor 刘洋) through the API', async () => {
    const token = await sys.token('p01');
    const api = request(sys.app.callback());
    await api
      .put(`/api/v1/hazards/${hazardId}/plan`)
      .set('authorization', `Bearer ${token}`)
      .send({ goals: '消除法兰泄漏', measures: '更换垫片，紧固螺栓，气密试验', funds: 3000, people: '设备部 胡婷', timeLimit: '2026-12-10', safetyMeasures: '倒罐降压，现场警戒', emergencyMeasures: '启动氯气泄漏专项预案' })
      .expect(200);
    await api
      .post(`/api/v1/hazards/${hazardId}/confirm`)
      .set('authorization', `Bearer ${token}`)
      .send({ rectifierId: await sys.person('p16'), acceptorId: await sys.person('p06'), deadlineDate: '2026-12-10', hazardDangerType: 7 })
      .expect(200);
    await sys.cycle();
  });

  test('胡婷 sees it waiting for her on her 首页 and rectifies with an after-photo', async () => {
    p16 = phoneOf('openid-p16');
    const me = await loginByPhone(p16, '13800000016');
    const home = await lib.home.loadHome(lib.session.loadSession()!.person);
    expect(home.hazards.map((h) => [h.id, h.todo])).toContainEqual([hazardId, '待我整改']);
    const view = lib.hazards.hazardPageView(await lib.hazards.loadHazard(hazardId), me);
    expect(view).toMatchObject({ canRectify: true, canExtend: true, canAccept: false });
    const r = await lib.hazards.rectify(hazardId, '更换法兰垫片，气密试验合格', [await photoFile(p16, 'after')]);
    expect(r.state).toBe('awaiting_acceptance');
  });

  test('刘洋 accepts; the alert clears and the hazard shows every step with who did it', async () => {
    p06 = phoneOf('openid-p06');
    const me = await loginByPhone(p06, '13800000006');
    const view = lib.hazards.hazardPageView(await lib.hazards.loadHazard(hazardId), me);
    expect(view.canAccept).toBe(true);
    expect(view.afterPhotos).toHaveLength(1);
    expect((await lib.hazards.accept(hazardId, '现场复查无泄漏')).state).toBe('accepted');

    use(p01);
    await sys.cycle();
    const a = await lib.alerts.loadAlert(alertId, lib.session.loadSession()!.person);
    expect(a).toMatchObject({ state: 'cleared', canClear: false, canAck: false, canHandle: false });
    expect(a.timeline.map((t) => t.label)).toEqual(expect.arrayContaining(['预警产生', '确认', '销警']));

    const h = await lib.hazards.loadHazard(hazardId);
    expect(h.transitions.map((t) => [t.action, t.actor?.name])).toEqual([
      ['report', '赵小军'],
      ['plan', '周建国'],
      ['confirm', '周建国'],
      ['rectify', '胡婷'],
      ['accept', '刘洋'],
    ]);
    expect(h.photos).toHaveLength(2);
    expect(h.afterPhotos).toHaveLength(1);
    // the photos come back through the phone's downloadFile with the token
    const local = await lib.api.downloadPhoto(h.afterPhotos[0]);
    expect(readFileSync(local).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(p01.calls.filter((c) => c.kind === 'download').map((c) => [c.path, c.status])).toEqual([[`/files/${h.afterPhotos[0].id}/thumb`, 200]]);
  });
});
