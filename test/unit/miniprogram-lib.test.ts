/**
 * The mini-program's logic modules (miniprogram/lib, compiled) and the shared contract, in Node with
 * `wx` mocked: reading rules shared with the server, number entry, plant-time formatting (run under
 * TZ=UTC and TZ=Asia/Shanghai by npm test), UUIDs, the queue's request body and its
 * found_in_future fallback, one flush at a time, offline unit lookup from a scanned label, consent
 * reporting, and the session kept regardless of the phone's clock.
 */
import { buildMp, memoryStorage, type MpBuild } from '../miniprogram/mp-build';
import * as serverInspection from '../../server/domain/inspection';
import { MAX_PHOTOS_PER_HAZARD } from '../../server/domain/files';
import { CLEAR_ROLES as SERVER_CLEAR_ROLES, alertActionDenied } from '../../server/domain/alert-permissions';

type Contract = typeof import('../../miniprogram/shared/contract');
type Format = typeof import('../../miniprogram/lib/format');
type Queue = typeof import('../../miniprogram/lib/queue');
type Units = typeof import('../../miniprogram/lib/units');
type Subscribe = typeof import('../../miniprogram/lib/subscribe');
type Session = typeof import('../../miniprogram/lib/session');
type Checks = typeof import('../../miniprogram/lib/checks');
type Uuid = typeof import('../../miniprogram/lib/uuid');
type Auth = typeof import('../../miniprogram/lib/auth');

let mp: MpBuild;
let c: Contract;
let format: Format;
let queue: Queue;
let units: Units;
let subscribe: Subscribe;
let session: Session;
let checks: Checks;
let uuid: Uuid;
let auth: Auth;

const API = 'https://api.test/api/v1';

/** wx with storage and a request mock answering from `answer` */
function phone(answer: (method: string, path: string, body: any, query: URLSearchParams) => { status?: number; body?: unknown; network?: boolean }) {
  const storage = memoryStorage();
  const requests: Array<{ method: string; path: string; body: any }> = [];
  const wx = {
    ...storage,
    request: jest.fn((o: { url: string; method: string; data?: any; success(r: object): void; fail(e: object): void }) => {
      const u = new URL(o.url);
      const path = u.pathname.replace('/api/v1', '');
      requests.push({ method: o.method, path, body: o.data });
      const r = answer(o.method, path, o.data, u.searchParams);
      setImmediate(() => (r.network ? o.fail({ errMsg: 'request:fail timeout' }) : o.success({ statusCode: r.status ?? 200, data: r.body ?? {}, header: {} })));
    }),
    uploadFile: jest.fn(),
    requestSubscribeMessage: jest.fn(),
  };
  (globalThis as unknown as { wx: unknown }).wx = wx;
  storage.setStorageSync('dp.session', JSON.stringify({ token: 't', expiresAt: '2000-01-01T00:00:00Z', person: { id: 7, name: '赵小军', roles: ['frontline'], enterpriseId: 1, enterpriseName: 'X' } }));
  return { wx, storage, requests };
}

beforeAll(() => {
  mp = buildMp();
  c = mp.lib('shared/contract');
  format = mp.lib('lib/format');
  queue = mp.lib('lib/queue');
  units = mp.lib('lib/units');
  subscribe = mp.lib('lib/subscribe');
  session = mp.lib('lib/session');
  checks = mp.lib('lib/checks');
  uuid = mp.lib('lib/uuid');
  auth = mp.lib('lib/auth');
  mp.lib<typeof import('../../miniprogram/lib/config')>('lib/config').configure({ apiBase: `${API}/` });
});
afterAll(() => mp?.cleanup());

describe('shared contract: one rule on both sides', () => {
  test('the server re-exports the shared rules (not copies)', () => {
    const shared = require('../../miniprogram/shared/contract') as Contract;
    expect(serverInspection.isAbnormalReading).toBe(shared.isAbnormalReading);
    expect(serverInspection.photoRequired).toBe(shared.photoRequired);
    expect(SERVER_CLEAR_ROLES).toBe(shared.CLEAR_ROLES);
    expect(MAX_PHOTOS_PER_HAZARD).toBe(shared.MAX_PHOTOS);
  });

  test('readingState: inclusive bounds, open sides', () => {
    const cases: Array<[number, number | null, number | null, string]> = [
      [0.2, 0.2, 0.8, 'normal'],
      [0.8, 0.2, 0.8, 'normal'],
      [0.19, 0.2, 0.8, 'low'],
      [0.81, 0.2, 0.8, 'high'],
      [-40, null, 1, 'normal'],
      [1.01, null, 1, 'high'],
      [1e9, 15, null, 'normal'],
      [14.9, 15, null, 'low'],
      [5, null, null, 'normal'],
    ];
    expect(cases.map(([v, lo, hi]) => c.readingState(v, lo, hi))).toEqual(cases.map((x) => x[3]));
    expect(cases.map(([v, lo, hi]) => c.isAbnormalReading(v, lo, hi))).toEqual(cases.map((x) => x[3] !== 'normal'));
  });

  test('mayClearAlerts agrees with the server\'s 销警 rule for every role', () => {
    const roles = ['frontline', 'post_leader', 'department_head', 'safety_dept', 'safety_director', 'principal', 'technical_head', 'operational_head', 'enterprise_admin'];
    for (const r of roles) {
      const server = alertActionDenied('clear', { roles: [r], addressed: true, addressedToSubordinate: false, sameEnterprise: true }) === null;
      expect([r, c.mayClearAlerts([r])]).toEqual([r, server]);
    }
  });

  test('binding codes and QR labels', () => {
    expect(['123456', '000000', '12345', '1234567', '12a456', ' 123456'].map(c.isBindingCode)).toEqual([true, true, false, false, false, false]);
    const t = c.unitQrText('320411901', 'RU-1:A');
    expect(t).toBe('dualprev:unit:320411901:RU-1:A');
    expect(c.parseUnitQr(t)).toEqual({ companyCode: '320411901', unitCode: 'RU-1:A' });
    expect(['https://example.com', 'dualprev:unit:', 'dualprev:unit:X', 'dualprev:unit::U', 'dualprev:unit:X:'].map(c.parseUnitQr)).toEqual([null, null, null, null, null]);
  });

  test('validateHazardDraft: one line required, ≤ 255 characters, ≤ 9 photos', () => {
    expect(c.validateHazardDraft({ name: '  ', photoCount: 0 }).map((i) => i.code)).toEqual(['name_required']);
    expect(c.validateHazardDraft({ name: '漏'.repeat(255), photoCount: 9 })).toEqual([]);
    expect(c.validateHazardDraft({ name: '漏'.repeat(256), photoCount: 10 }).map((i) => i.code)).toEqual(['name_too_long', 'too_many_photos']);
    // the server's text rule: only invisible characters is blank, control characters are refused, emoji count once
    expect(c.validateHazardDraft({ name: '\u200b\ufeff', photoCount: 0 }).map((i) => i.code)).toEqual(['name_required']);
    expect(c.validateHazardDraft({ name: '阀门\u0000泄漏', photoCount: 0 }).map((i) => i.code)).toEqual(['name_invalid']);
    expect(c.validateHazardDraft({ name: '😀'.repeat(255), photoCount: 0 })).toEqual([]);
  });

  test('cleanText: trims blanks and invisible characters, refuses control characters and lone surrogates, counts code points', () => {
    expect(c.cleanText('\ufeff 阀门\r\n泄漏 \u200b', { max: 10, multiline: true })).toEqual({ ok: true, value: '阀门\n泄漏' });
    expect(c.cleanText('\u200b \u2060', { max: 10 })).toEqual({ ok: true, value: '' });
    expect(c.cleanText('我❤️', { max: 10 })).toEqual({ ok: true, value: '我❤️' });
    expect(c.cleanText('a\tb', { max: 10 })).toMatchObject({ ok: false, problem: 'control_char' });
    expect(c.cleanText('a\tb', { max: 10, multiline: true })).toEqual({ ok: true, value: 'a\tb' });
    expect(c.cleanText('a\u0000b', { max: 10, multiline: true })).toMatchObject({ ok: false, problem: 'control_char' });
    expect(c.cleanText('a\u0085b', { max: 10 })).toMatchObject({ ok: false, problem: 'control_char' });
    expect(c.cleanText('a\ud800b', { max: 10 })).toMatchObject({ ok: false, problem: 'bad_unicode' });
    // invalid UTF-8 in a body decodes to U+FFFD; a right-to-left override disguises what a note says
    expect(c.cleanText('\ufffd\ufffd abc', { max: 10 })).toMatchObject({ ok: false, problem: 'bad_unicode' });
    expect(c.cleanText('阀门\u202e常正', { max: 10 })).toMatchObject({ ok: false, problem: 'bad_unicode', zh: '含有文字方向控制符' });
    expect(c.cleanText('a\u2067b', { max: 10 })).toMatchObject({ ok: false, problem: 'bad_unicode' });
    expect(c.cleanText('😀'.repeat(10), { max: 10 })).toMatchObject({ ok: true });
    expect(c.cleanText('😀'.repeat(11), { max: 10 })).toMatchObject({ ok: false, problem: 'too_long', zh: '不能超过 10 个字（现有 11 个）' });
    expect(c.clipChars('a' + '😀'.repeat(5), 4)).toBe('a😀😀😀');
  });
});

describe('formatting and entry', () => {
  test('parseReading accepts full-width digits and comma decimals; rejects the rest', () => {
    expect(['0.95', '０．９５', '0,95', ' 12 ', '-3.5', '.5', '1e3', 'abc', '', '1.2.3', '—5'].map(format.parseReading)).toEqual([0.95, 0.95, 0.95, 12, -3.5, 0.5, null, null, null, null, -5]);
  });

  test('times are shown in plant time (UTC+8) whatever the host zone', () => {
    expect(format.formatTime('2026-11-30T04:05:00.000Z')).toBe('11-30 12:05');
    expect(format.formatDateTime('2026-11-30T16:30:00.000Z')).toBe('2026-12-01 00:30');
    expect(format.plantDate(new Date('2026-11-30T16:30:00.000Z'))).toBe('2026-12-01');
    expect(format.addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(format.formatTime(null)).toBe('');
  });

  test('timeLeft', () => {
    const now = Date.parse('2026-11-30T04:00:00Z');
    expect(format.timeLeft('2026-11-30T06:05:00Z', now)).toEqual({ text: '还剩 2 小时 5 分', late: false, soon: false });
    expect(format.timeLeft('2026-11-30T05:00:00Z', now)).toEqual({ text: '还剩 1 小时', late: false, soon: true });
    expect(format.timeLeft('2026-11-30T03:20:00Z', now)).toEqual({ text: '已超时 40 分', late: true, soon: false });
    expect(format.timeLeft('2026-12-03T04:00:00Z', now).text).toBe('还剩 3 天');
  });

  test('uuid4: version 4, variant 10, distinct', () => {
    const ids = Array.from({ length: 2000 }, () => uuid.uuid4());
    expect(ids.every(uuid.isUuid)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(uuid.uuid4(() => new Uint8Array(16).fill(0xff))).toBe('ffffffff-ffff-4fff-bfff-ffffffffffff');
  });

  test('checkProblems: reading required when there is a parameter (not for 无需排查), photo for 拍照', () => {
    const t = { instanceId: 1, checkMeans: '现场确认', parameter: { name: '储罐压力', unit: 'MPa', min: 0.2, max: 0.8, rangeText: '0.2～0.8 MPa' } } as never;
    const form = (o: object) => ({ result: 0 as const, readingText: '', photoIds: [], photoCount: 0, note: '', ...o });
    expect(checks.checkProblems(t, form({}))).toEqual(['请填写储罐压力读数']);
    expect(checks.checkProblems(t, form({ result: 2 }))).toEqual([]);
    expect(checks.checkProblems(t, form({ readingText: 'x' }))).toEqual(['读数不是有效数字']);
    const photoTask = { instanceId: 2, checkMeans: '拍照', parameter: null } as never;
    expect(checks.checkProblems(photoTask, form({}))).toEqual(['该任务的排查方式为拍照，请拍摄现场照片']);
    expect(checks.checkProblems(photoTask, form({ photoCount: 1, readingText: '3' }))).toEqual(['该任务没有关键参数，无需读数']);
    // the note: the server keeps 500 characters (CHECK_NOTE_MAX), no control characters
    expect(checks.checkProblems(photoTask, form({ photoCount: 1, note: '液'.repeat(501) }))).toEqual(['备注不能超过 500 字']);
    expect(checks.checkProblems(photoTask, form({ photoCount: 1, note: '正常\u0000' }))).toEqual(['备注含有控制字符']);
  });

  test('checkRecordBody: a long place name is shortened by whole characters, blank text is left out', () => {
    const t = { instanceId: 1, checkMeans: '现场确认', parameter: null } as never;
    const form = { result: 0 as const, readingText: '', photoIds: [], photoCount: 0, note: ' \u200b ' };
    const body = checks.checkRecordBody(t, form, { location: 'a' + '🏭'.repeat(200) }, 'dev-1', 'req-1');
    expect(body.location).toBe('a' + '🏭'.repeat(127));
    expect(body.note).toBeUndefined();
  });
});

describe('the offline queue', () => {
  test('reportBody: defaults for a phone report; foundAt only when sent a while after it was made', () => {
    const r = { clientRequestId: 'id-1', createdAt: '2026-11-30T04:00:00.000Z', draft: { name: '渗漏', riskUnitId: 3, dangerLevel: null, latitude: 31.1, longitude: 120.2 }, photos: [], state: 'waiting' as const, attempts: 0 };
    expect(queue.reportBody(r, [5, 6], new Date('2026-11-30T04:00:30Z'))).toEqual({ name: '渗漏', dangerSrc: 1, hazardDangerType: 8, clientRequestId: 'id-1', photos: [5, 6], riskUnitId: 3, latitude: 31.1, longitude: 120.2 });
    expect(queue.reportBody(r, [], new Date('2026-11-30T06:00:00Z')).foundAt).toBe('2026-11-30T04:00:00.000Z');
    expect(queue.reportBody({ ...r, omitFoundAt: true }, [], new Date('2026-11-30T06:00:00Z')).foundAt).toBeUndefined();
  });

  test('a phone clock ahead of the server: found_in_future → sent again without foundAt, same clientRequestId', async () => {
    const bodies: any[] = [];
    phone((method, path, body) => {
      if (path !== '/hazards') return { status: 404 };
      bodies.push(body);
      return body.foundAt ? { status: 400, body: { code: 'found_in_future', message: '发现时间不能晚于现在' } } : { status: 201, body: { hazardId: 1, code: 'YH1', state: 'reported', dangerLevel: 0 } };
    });
    await queue.enqueueReport({ name: '时钟超前' }, [], new Date(Date.now() - 3_600_000));
    const r = await queue.flushQueue();
    expect(r.sent).toHaveLength(1);
    expect(bodies).toHaveLength(2);
    expect(bodies[0].foundAt).toBeDefined();
    expect(bodies[1].foundAt).toBeUndefined();
    expect(bodies[1].clientRequestId).toBe(bodies[0].clientRequestId);
    expect(queue.pendingCount()).toBe(0);
  });

  test('two flushes at once share one run: the report is posted once', async () => {
    const p = phone(() => ({ status: 201, body: { hazardId: 2, code: 'YH2', state: 'reported', dangerLevel: 0 } }));
    await queue.enqueueReport({ name: '并发' }, []);
    const [a, b] = await Promise.all([queue.flushQueue(), queue.flushQueue()]);
    expect(a).toBe(b);
    expect(p.requests.filter((x) => x.path === '/hazards')).toHaveLength(1);
  });

  test('401 stops the flush and keeps the report waiting (not failed); the session is cleared', async () => {
    const p = phone(() => ({ status: 401, body: { code: 'unauthorized', message: '未登录' } }));
    await queue.enqueueReport({ name: '登录过期' }, []);
    const r = await queue.flushQueue();
    expect(r.stopped).toMatchObject({ kind: 'auth' });
    expect(queue.listQueue()).toEqual([expect.objectContaining({ state: 'waiting', attempts: 1 })]);
    expect(p.storage.getStorageSync('dp.session')).toBe('');
    queue.removeFromQueue(queue.listQueue()[0].clientRequestId);
  });

  test('an invalid draft is refused before anything is stored', async () => {
    phone(() => ({}));
    await expect(queue.enqueueReport({ name: ' ' }, [])).rejects.toThrow('请用一句话说明隐患');
    expect(queue.pendingCount()).toBe(0);
  });
});

describe('units, consent, session, login errors', () => {
  test('a scanned label without signal is matched in the cached unit list by its code', async () => {
    let online = true;
    phone((method, path) => (online ? (path === '/lists/risk-units' ? { body: { total: 1, items: [{ id: 21, code: 'RU1', name: '液氯储罐' }] } } : { status: 404, body: { code: 'qr_unknown', message: '未知' } }) : { network: true }));
    expect(await units.loadUnits()).toEqual([{ id: 21, code: 'RU1', name: '液氯储罐' }]);
    await expect(units.resolveScanned('dualprev:unit:320411901:RU9')).rejects.toMatchObject({ code: 'qr_unknown' });
    online = false;
    expect(await units.resolveScanned('dualprev:unit:320411901:RU1')).toEqual({ id: 21, code: 'RU1', name: '液氯储罐' });
    await expect(units.resolveScanned('dualprev:unit:320411901:RU9')).rejects.toMatchObject({ kind: 'network' });
    expect(units.shortList()[0]).toMatchObject({ id: 21, recent: true });
    expect(await units.loadUnits()).toHaveLength(1); // the cached list without signal
  });

  test('askConsent: no template configured → no prompt; else only known decisions are reported', async () => {
    const p = phone((m, path, body) => ({ body: { remaining: Object.fromEntries(Object.keys(body.results).map((k) => [k, 1])) } }));
    expect(await subscribe.askConsent()).toBeNull();
    expect(p.wx.requestSubscribeMessage).not.toHaveBeenCalled();
    p.storage.setStorageSync('dp.mpConfig', JSON.stringify({ templateIds: { alert: 'T1', other: '' }, maxPhotos: 9, uploadMaxBytes: 1 }));
    p.wx.requestSubscribeMessage.mockImplementation((o: { tmplIds: string[]; success(r: object): void }) => o.success({ errMsg: 'requestSubscribeMessage:ok', T1: 'accept' }));
    expect(await subscribe.askConsent()).toEqual({ remaining: { T1: 1 } });
    expect(p.wx.requestSubscribeMessage).toHaveBeenCalledWith(expect.objectContaining({ tmplIds: ['T1'] }));
    expect(p.requests.filter((r) => r.path === '/mp/subscriptions').map((r) => r.body)).toEqual([{ results: { T1: 'accept' } }]);
  });

  test('the session is kept whatever the phone clock says (expiry is the server\'s call)', () => {
    phone(() => ({}));
    expect(session.loadSession()).toMatchObject({ token: 't' });
  });

  test('a malformed binding code is refused on the phone without a request', async () => {
    const p = phone(() => ({}));
    await expect(auth.bindWithCode('bt', '12345')).rejects.toMatchObject({ code: 'binding_code_format', messageZh: '请输入 6 位数字绑定码' });
    expect(p.requests).toHaveLength(0);
    expect(auth.loginErrorView(new Error('x'))).toEqual({ message: '登录失败，请重试', restart: true });
  });
});
