/**
 * The fake WeChat server itself (test/fakes/wechat.ts, protocols.md §4.8), through real HTTP: the
 * behaviours the integration tests rely on must be there, or those tests prove nothing.
 */
import { FakeWechat } from '../fakes/wechat';

const APPID = 'wx0123456789abcdef';
const SECRET = 'secret';

class Clock {
  t = 1_800_000_000_000;
  readonly now = (): number => this.t;
}

let fake: FakeWechat;
let clock: Clock;

beforeEach(async () => {
  clock = new Clock();
  fake = new FakeWechat({ appId: APPID, secret: SECRET, now: clock.now });
  await fake.start();
});
afterEach(() => fake.stop());

const login = async (code: string, appid = APPID, secret = SECRET) =>
  (await fetch(`${fake.base}/sns/jscode2session?${new URLSearchParams({ appid, secret, js_code: code, grant_type: 'authorization_code' })}`)).json() as Promise<Record<string, unknown>>;
const postJson = async (path: string, body: unknown, contentType = 'application/json') =>
  (await fetch(`${fake.base}/${path}`, { method: 'POST', headers: { 'Content-Type': contentType }, body: typeof body === 'string' ? body : JSON.stringify(body) })).json() as Promise<Record<string, unknown>>;
const stable = (force = false) => postJson('cgi-bin/stable_token', { grant_type: 'client_credential', appid: APPID, secret: SECRET, force_refresh: force });
const classic = async () => (await fetch(`${fake.base}/cgi-bin/token?grant_type=client_credential&appid=${APPID}&secret=${SECRET}`)).json() as Promise<Record<string, unknown>>;
const send = (token: string, body: Record<string, unknown>) => postJson(`cgi-bin/message/subscribe/send?access_token=${encodeURIComponent(token)}`, body);
const okData = { thing1: { value: '液位偏差' }, time2: { value: '2026年11月30日 12:00' }, phrase4: { value: '三级' } };

describe('jscode2session', () => {
  test('a code works once (40163 after), expires after 5 minutes (40029), unknown → 40029, wrong appid/secret', async () => {
    const code = fake.issueCode('o1');
    expect(await login(code)).toEqual({ errcode: 0, errmsg: 'ok', openid: 'o1', session_key: fake.sessionKeys[0] });
    expect((await login(code)).errcode).toBe(40163);
    const late = fake.issueCode('o1');
    clock.t += 5 * 60_000 + 1;
    expect((await login(late)).errcode).toBe(40029);
    expect((await login('nope')).errcode).toBe(40029);
    expect((await login(fake.issueCode('o1'), 'wx1111111111111111')).errcode).toBe(40013);
    expect((await login(fake.issueCode('o1'), APPID, 'bad')).errcode).toBe(40125);
    fake.blockUser('o2');
    expect((await login(fake.issueCode('o2'))).errcode).toBe(40226);
  });

  test('the 101st call for one user within a minute → 45011; the next minute works again', async () => {
    for (let i = 0; i < 100; i++) expect((await login(fake.issueCode('busy'))).errcode).toBe(0);
    expect((await login(fake.issueCode('busy'))).errcode).toBe(45011);
    expect((await login(fake.issueCode('other'))).errcode).toBe(0);
    clock.t += 60_001;
    expect((await login(fake.issueCode('busy'))).errcode).toBe(0);
  });
});

describe('access tokens', () => {
  test('stable_token: the same token while valid, a new one in its last 5 minutes with the old still working', async () => {
    const a = await stable();
    expect(a).toMatchObject({ errcode: 0, expires_in: 7200 });
    clock.t += 3600_000;
    const b = await stable();
    expect(b.access_token).toBe(a.access_token);
    expect(b.expires_in).toBe(3600);
    clock.t += 3600_000 - 200_000; // 200 s left
    const c = await stable();
    expect(c.access_token).not.toBe(a.access_token);
    expect((await send(a.access_token as string, {})).errcode).toBe(40003); // old one still accepted (then the openid is checked)
    clock.t += 200_001;
    expect((await send(a.access_token as string, {})).errcode).toBe(42001);
    expect((await send(c.access_token as string, {})).errcode).toBe(40003);
    expect((await postJson('cgi-bin/stable_token', 'grant_type=client_credential', 'application/x-www-form-urlencoded')).errcode).toBe(47001);
  });

  test('force_refresh: a new token, the previous one refused at once (40001); ≥ 30 s apart, ≤ 20 a day', async () => {
    const a = await stable();
    const b = await stable(true);
    expect(b.access_token).not.toBe(a.access_token);
    expect((await send(a.access_token as string, {})).errcode).toBe(40001);
    expect((await stable(true)).errcode).toBe(45011);
    for (let i = 0; i < 19; i++) {
      clock.t += 31_000;
      expect((await stable(true)).errcode).toBe(0);
    }
    clock.t += 31_000;
    expect((await stable(true)).errcode).toBe(45009);
  });

  test('classic /cgi-bin/token rotates: the previous token works for the overlap, then 40001 not latest', async () => {
    const a = await classic();
    const b = await classic();
    expect(b.access_token).not.toBe(a.access_token);
    expect((await send(a.access_token as string, {})).errcode).toBe(40003);
    clock.t += 5 * 60_000;
    const r = await send(a.access_token as string, {});
    expect(r).toMatchObject({ errcode: 40001, errmsg: expect.stringContaining('not latest') });
    expect((await send(b.access_token as string, {})).errcode).toBe(40003);
    expect((await postJson('cgi-bin/message/subscribe/send', {})).errcode).toBe(41001);
  });
});

describe('subscribe/send', () => {
  test('consent per (openid, template), 43101 without; each keyword validated by its prefix (47003 names it); template and page checked', async () => {
    fake.addTemplate('T1', ['thing1', 'time2', 'phrase4']);
    fake.pages = ['pages/index/index'];
    fake.addUser('o1');
    const { access_token: token } = await stable();
    const t = token as string;
    expect((await send(t, { touser: 'o1', template_id: 'T1', data: okData })).errcode).toBe(43101);
    fake.grant('o1', 'T1', 1);
    expect((await send(t, { touser: 'o1', template_id: 'T9', data: okData })).errcode).toBe(40037);
    expect((await send(t, { touser: 'ox', template_id: 'T1', data: okData })).errcode).toBe(40003);
    expect((await send(t, { touser: 'o1', template_id: 'T1', page: 'pages/nope/nope', data: okData })).errcode).toBe(41030);
    const long = await send(t, { touser: 'o1', template_id: 'T1', data: { ...okData, thing1: { value: '一二三四五六七八九十一二三四五六七八九十一' } } });
    expect(long).toMatchObject({ errcode: 47003, errmsg: expect.stringContaining('argument invalid! data.thing1.value invalid') });
    expect((await send(t, { touser: 'o1', template_id: 'T1', data: { ...okData, phrase4: { value: '3级' } } })).errmsg).toContain('data.phrase4.value invalid');
    expect((await send(t, { touser: 'o1', template_id: 'T1', data: { thing1: okData.thing1, phrase4: okData.phrase4 } })).errmsg).toContain('data.time2.value invalid');
    expect(fake.consentsLeft('o1', 'T1')).toBe(1);
    expect((await send(t, { touser: 'o1', template_id: 'T1', page: 'pages/index/index?alertId=3', data: okData })).errcode).toBe(0);
    expect(fake.consentsLeft('o1', 'T1')).toBe(0);
    expect((await send(t, { touser: 'o1', template_id: 'T1', data: okData })).errcode).toBe(43101);
    expect(fake.subscribeSent).toHaveLength(1);
  });
});

test('getuserphonenumber: a code works once within 5 minutes', async () => {
  const { access_token: token } = await stable();
  const code = fake.issuePhoneCode('13800000007');
  const r = await postJson(`wxa/business/getuserphonenumber?access_token=${token}`, { code });
  expect(r).toMatchObject({ errcode: 0, phone_info: { phoneNumber: '13800000007', purePhoneNumber: '13800000007', countryCode: '86', watermark: { appid: APPID } } });
  expect((await postJson(`wxa/business/getuserphonenumber?access_token=${token}`, { code })).errcode).toBe(40029);
  const late = fake.issuePhoneCode('13800000007');
  clock.t += 5 * 60_000 + 1;
  expect((await postJson(`wxa/business/getuserphonenumber?access_token=${token}`, { code: late })).errcode).toBe(40029);
});
