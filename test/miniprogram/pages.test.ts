/**
 * @jest-environment jsdom
 *
 * Every page of the mini-program rendered with miniprogram-simulate (compiled from TypeScript,
 * `wx` mocked): it renders, its buttons call the right API (URL, method, body of the mocked
 * wx.request / wx.uploadFile), an out-of-range reading turns the field red before submit, 销警 is
 * hidden for a frontline role and shown for a role that may clear, and the report page shows the
 * reports queued on the phone when there is no signal.
 */
import { buildMp, memoryStorage, sessionJson, type MpBuild } from './mp-build';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const simulate = require('miniprogram-simulate') as {
  load(path: string, opts: { compiler: 'simulate'; rootPath: string }): string;
  render(id: string, props?: object): SimComponent;
};

/** the rendered DOM node (jsdom; the root tsconfig has no DOM lib, so only what is read here) */
interface DomNode {
  className: string;
  textContent: string | null;
}
interface SimNode {
  dom: DomNode;
  dispatchEvent(name: string, opts?: { detail?: unknown }): void;
}
interface SimComponent extends SimNode {
  instance: Record<string, (...a: unknown[]) => unknown> & { data: Record<string, any> };
  data: Record<string, any>;
  attach(parent: unknown): void;
  querySelector(sel: string): SimNode | undefined;
  querySelectorAll(sel: string): SimNode[];
}

type Handler = (req: Req) => { status?: number; body?: unknown; network?: boolean };
interface Req {
  method: string;
  path: string;
  query: Record<string, string>;
  body: any;
  header: Record<string, string>;
}

const API = 'https://api.test/api/v1';
const TEMPLATE = 'TPL_ALERT_1';

/** The server as the pages see it: routes by METHOD /path, every request recorded. */
class FakeBackend {
  calls: Req[] = [];
  uploads: Array<{ url: string; filePath: string; name: string; header: Record<string, string> }> = [];
  private routes: Array<{ method: string; path: RegExp | string; h: Handler }> = [];
  offline = false;
  private nextFileId = 500;

  on(method: string, path: RegExp | string, h: Handler | object): this {
    this.routes.unshift({ method, path, h: typeof h === 'function' ? (h as Handler) : () => ({ body: h }) });
    return this;
  }

  request = jest.fn((o: { url: string; method?: string; data?: any; header?: Record<string, string>; success?: (r: object) => void; fail?: (e: object) => void }) => {
    const u = new URL(o.url);
    const req: Req = { method: o.method ?? 'GET', path: u.pathname.replace('/api/v1', ''), query: Object.fromEntries(u.searchParams), body: o.data, header: o.header ?? {} };
    this.calls.push(req);
    const route = this.routes.find((r) => r.method === req.method && (typeof r.path === 'string' ? r.path === req.path : r.path.test(req.path)));
    const res = this.offline ? { network: true } : route ? route.h(req) : { status: 404, body: { code: 'not_found', message: '不存在' } };
    setTimeout(() => (res.network ? o.fail?.({ errMsg: 'request:fail timeout' }) : o.success?.({ statusCode: res.status ?? 200, data: res.body ?? {}, header: {} })), 0);
  });

  uploadFile = jest.fn((o: { url: string; filePath: string; name: string; header: Record<string, string>; success?: (r: object) => void; fail?: (e: object) => void }) => {
    this.uploads.push({ url: o.url, filePath: o.filePath, name: o.name, header: o.header });
    const id = this.nextFileId++;
    const off = this.offline;
    setTimeout(() => (off ? o.fail?.({ errMsg: 'uploadFile:fail timeout' }) : o.success?.({ statusCode: 201, data: JSON.stringify({ items: [{ id, mime: 'image/jpeg', bytes: 1000, width: 10, height: 10, url: `${API}/files/${id}`, thumbUrl: null, gps: null }] }) })), 0);
  });

  posts(path: string): Req[] {
    return this.calls.filter((c) => c.method === 'POST' && c.path === path);
  }
  gets(path: string): Req[] {
    return this.calls.filter((c) => c.method === 'GET' && c.path === path);
  }
}

let mp: MpBuild;
let backend: FakeBackend;
let storage: ReturnType<typeof memoryStorage>;
let w: Record<string, any>;
let photoSeq = 0;

/** lets the mocked callbacks (setTimeout 0) and the awaits after them run */
async function settle(rounds = 30): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setTimeout(r, 0));
}

/** Component ids by page: a page's JS runs once per test file (jest keeps required modules), so it is loaded once. */
const loaded = new Map<string, string>();
function render(page: string): SimComponent {
  let id = loaded.get(page);
  if (!id) loaded.set(page, (id = simulate.load(mp.page(page), { compiler: 'simulate', rootPath: mp.dir })));
  const comp = simulate.render(id);
  comp.attach((globalThis as unknown as { document: { createElement(tag: string): unknown } }).document.createElement('parent-wrapper'));
  return comp;
}

function login(person: { id: number; name: string; roles: string[] }): void {
  storage.setStorageSync('dp.session', sessionJson(person));
}

/** j-component delivers an event in a microtask: after this, the handler has run up to its first await. */
async function fire(n: SimNode | undefined, name: string, detail?: unknown): Promise<void> {
  if (!n) throw new Error(`no element for ${name}`);
  n.dispatchEvent(name, detail === undefined ? {} : { detail });
  for (let i = 0; i < 3; i++) await Promise.resolve();
}
const tap = (comp: SimComponent, sel: string) => fire(comp.querySelector(sel) ?? undefined, 'tap');
const input = (comp: SimComponent, sel: string, value: string) => fire(comp.querySelector(sel) ?? undefined, 'input', { value });

const text = (comp: SimComponent, sel: string) => comp.querySelector(sel)?.dom.textContent?.trim() ?? null;
const toasts = () => (w.showToast as jest.Mock).mock.calls.map((c) => c[0].title as string);

const P07 = { id: 7, name: '赵小军', roles: ['frontline'] };
const P05 = { id: 5, name: '陈志强', roles: ['department_head'] };

const T1 = {
  instanceId: 41,
  startAt: new Date(Date.now() - 3_600_000).toISOString(),
  endAt: new Date(Date.now() + 3 * 3_600_000).toISOString(),
  window: { startAt: '', endAt: '' },
  task: { id: 1, code: 'T1', content: '液氯储罐压力巡检', checkMeans: '现场确认', workType: 0, taskNum: 1, checkCycle: 4, checkCycleUnit: '小时' },
  checkMeans: '现场确认',
  photoRequired: false,
  measure: { id: 11, code: 'CM1', description: '储罐压力在安全范围内', checkContent: '现场压力表读数', riskEvent: { id: 3, name: '超压泄漏' } },
  parameter: { name: '储罐压力', unit: 'MPa', min: 0.2, max: 0.8, rangeText: '0.2～0.8 MPa' },
  riskUnit: { id: 21, name: '液氯储罐 V-101A/B' },
  majorHazardSource: null,
};
const T3 = { ...T1, instanceId: 43, task: { ...T1.task, id: 3, code: 'T3', content: '围堰拍照检查', checkMeans: '拍照' }, checkMeans: '拍照', photoRequired: true, parameter: null };

function hazardView(over: object = {}) {
  return {
    id: 9,
    code: 'YH20261130001',
    name: '罐顶法兰渗漏',
    state: 'rectifying',
    stateName: '整改中',
    dangerLevel: 0,
    riskUnit: { id: 21, name: '液氯储罐 V-101A/B' },
    reporter: { id: 7, name: '赵小军' },
    rectifier: { id: 16, name: '胡婷' },
    acceptor: { id: 6, name: '刘洋' },
    reportedAt: new Date().toISOString(),
    deadlineDate: '2026-12-03',
    deadlineAt: '2026-12-03T16:00:00.000Z',
    overdue: false,
    pendingExtension: false,
    photoCount: 1,
    description: null,
    location: 'V-101A 罐顶',
    photos: [{ id: 301, url: `${API}/files/301`, thumbUrl: `${API}/files/301/thumb` }],
    afterPhotos: [],
    names: { dangerLevel: '一般隐患' },
    transitions: [
      { id: 1, action: 'report', actionName: '上报', fromState: null, toState: 'reported', actor: { id: 7, name: '赵小军' }, comment: null, photos: [], at: new Date().toISOString() },
      { id: 2, action: 'confirm', actionName: '确认', fromState: 'reported', toState: 'rectifying', actor: { id: 5, name: '陈志强' }, comment: '尽快更换垫片', photos: [], at: new Date().toISOString() },
    ],
    extensions: [],
    ...over,
  };
}

function alertView(over: object = {}) {
  return {
    id: 55,
    code: 'A000055',
    kind: 'hazard_overdue',
    title: '超期未整改：罐顶法兰渗漏',
    state: 'open',
    level: 1,
    subjectType: 'hazard',
    subjectId: 9,
    conditionStartAt: new Date().toISOString(),
    ackUntil: null,
    clearedAt: null,
    createdAt: new Date().toISOString(),
    detail: {},
    handleNote: null,
    clearKind: null,
    clearReason: null,
    events: [
      { id: 1, type: 'opened', level: null, actor: null, channel: 'engine', note: null, at: new Date().toISOString() },
      { id: 2, type: 'notified', level: 1, actor: null, channel: 'engine', note: null, at: new Date().toISOString() },
    ],
    ...over,
  };
}

/** the App() definition of app.ts: its onLaunch wires the photo keeper and the 401 handler */
let app: { onLaunch(): void; onShow(): void };

beforeAll(() => {
  mp = buildMp();
  (globalThis as unknown as { App: (d: typeof app) => void }).App = (d) => {
    app = d;
  };
  mp.lib('app');
});
afterAll(() => mp?.cleanup());

beforeEach(() => {
  backend = new FakeBackend();
  storage = memoryStorage();
  w = (globalThis as unknown as { wx: Record<string, any> }).wx;
  Object.assign(w, storage, {
    request: backend.request,
    uploadFile: backend.uploadFile,
    downloadFile: jest.fn((o: { url: string; success?: (r: object) => void }) => setTimeout(() => o.success?.({ statusCode: 200, tempFilePath: `wxfile://dl/${o.url.split('/files/')[1]}` }), 0)),
    login: jest.fn((o: { success?: (r: object) => void }) => setTimeout(() => o.success?.({ code: `code-${++photoSeq}` }), 0)),
    chooseMedia: jest.fn((o: { count: number; success?: (r: object) => void }) =>
      setTimeout(() => o.success?.({ type: 'image', tempFiles: Array.from({ length: Math.min(2, o.count) }, () => ({ tempFilePath: `wxfile://tmp/photo-${++photoSeq}.jpg`, size: 3_000_000 })) }), 0),
    ),
    compressImage: jest.fn((o: { src: string; quality: number; success?: (r: object) => void }) => setTimeout(() => o.success?.({ tempFilePath: o.src.replace('.jpg', `-q${o.quality}.jpg`) }), 0)),
    getFileSystemManager: () => ({
      saveFile: (o: { tempFilePath: string; success?: (r: object) => void }) => setTimeout(() => o.success?.({ savedFilePath: o.tempFilePath.replace('wxfile://tmp/', 'wxfile://store/') }), 0),
      unlink: jest.fn(),
    }),
    getLocation: jest.fn((o: { success?: (r: object) => void }) => setTimeout(() => o.success?.({ latitude: 31.8123, longitude: 119.9765, accuracy: 8 }), 0)),
    scanCode: jest.fn((o: { success?: (r: object) => void }) => setTimeout(() => o.success?.({ result: 'dualprev:unit:91320000TEST:RU1' }), 0)),
    requestSubscribeMessage: jest.fn((o: { tmplIds: string[]; success?: (r: object) => void }) => setTimeout(() => o.success?.(Object.fromEntries(o.tmplIds.map((t) => [t, 'accept']))), 0)),
    showToast: jest.fn(),
    showModal: jest.fn((o: { success?: (r: object) => void }) => o.success?.({ confirm: true })),
    switchTab: jest.fn(),
    navigateTo: jest.fn(),
    redirectTo: jest.fn(),
    reLaunch: jest.fn(),
    navigateBack: jest.fn(),
    previewImage: jest.fn(),
    stopPullDownRefresh: jest.fn(),
    onNetworkStatusChange: jest.fn(),
  });
  app.onLaunch();
  mp.lib<typeof import('../../miniprogram/lib/config')>('lib/config').configure({ apiBase: API });
  storage.setStorageSync('dp.mpConfig', JSON.stringify({ templateIds: { alert: TEMPLATE }, maxPhotos: 9, uploadMaxBytes: 10 << 20 }));
  backend.on('POST', '/mp/subscriptions', (r) => ({ body: { remaining: { [TEMPLATE]: Object.keys(r.body.results).length }, ignored: [] } }));
});

describe('首页 (index)', () => {
  test('shows counts and lists from GET /alerts, /me/tasks, /hazards?personId=me; taps navigate', async () => {
    login(P07);
    backend
      .on('GET', '/me', { person: { ...P07, code: 'p07', post: null, department: null }, enterprise: { id: 1, companyCode: 'X', name: '示范化工', timezone: 'Asia/Shanghai' }, readable: [] })
      .on('GET', '/alerts', { total: 3, items: [{ ...alertView(), code: 'A000055' }] })
      .on('GET', '/me/tasks', { items: [T1, T3] })
      .on('GET', '/hazards', {
        total: 2,
        items: [
          { ...hazardView(), rectifier: { id: 7, name: '赵小军' } },
          { ...hazardView({ id: 10, state: 'awaiting_acceptance' }), acceptor: { id: 99, name: '别人' } },
        ],
      });
    const page = render('index');
    page.instance.onShow();
    await settle();

    expect(backend.gets('/alerts')[0].query).toMatchObject({ state: 'open' });
    expect(backend.gets('/hazards')[0].query).toMatchObject({ personId: '7' });
    expect(backend.gets('/me/tasks')).toHaveLength(1);
    expect(backend.gets('/me/tasks')[0].header.Authorization).toBe('Bearer test-token');
    expect(text(page, '#tile-alerts')).toContain('3');
    expect(text(page, '#tile-tasks')).toContain('2');
    // only the hazard waiting for ME (I rectify it), not the one someone else accepts
    expect(text(page, '#tile-hazards')).toContain('1');
    expect(page.querySelectorAll('.hazard-row')).toHaveLength(1);
    expect(page.querySelectorAll('.task-row')).toHaveLength(2);

    await tap(page, '#report');
    expect(w.switchTab).toHaveBeenCalledWith({ url: '/pages/report/report' });
    await fire(page.querySelectorAll('.alert-row')[0], 'tap');
    expect(w.navigateTo).toHaveBeenCalledWith({ url: '/pages/alert/alert?id=55' });
    await fire(page.querySelectorAll('.task-row')[1], 'tap');
    expect(w.navigateTo).toHaveBeenLastCalledWith({ url: '/pages/check/check?instanceId=43' });
  });

  test('without a session it sends the user to the login page and asks the server nothing', async () => {
    const page = render('index');
    page.instance.onShow();
    await settle();
    expect(w.reLaunch).toHaveBeenCalledWith({ url: '/pages/login/login' });
    expect(backend.calls).toHaveLength(0);
  });
});

describe('隐患上报 (report)', () => {
  beforeEach(() => {
    backend
      .on('GET', '/lists/risk-units', { total: 2, items: [{ id: 21, code: 'RU1', name: '液氯储罐 V-101A/B' }, { id: 22, code: 'RU2', name: '氯化反应釜 R-201' }] })
      .on('GET', '/risk-units/by-qr', (r) => ({ body: { id: 21, code: 'RU1', name: '液氯储罐 V-101A/B', riskObject: null, controlMeasures: [], echo: r.query.code } }));
  });

  test('photos (compressed) + unit from the list + one line + 重大 → uploads, then POST /hazards with a clientRequestId; consent asked and reported', async () => {
    login(P07);
    let created = 0;
    backend.on('POST', '/hazards', (r) => ({ status: 201, body: { hazardId: 77, code: 'YH20261130007', state: 'reported', dangerLevel: r.body.dangerLevel ?? 0, n: ++created } }));
    const page = render('report');
    page.instance.onLoad();
    page.instance.onShow();
    await settle();

    await tap(page, '#camera');
    await settle();
    expect(w.chooseMedia).toHaveBeenCalledWith(expect.objectContaining({ count: 9, mediaType: ['image'], sizeType: ['compressed'], sourceType: ['camera', 'album'] }));
    expect(w.compressImage).toHaveBeenCalledTimes(2);
    expect(page.querySelectorAll('.photo')).toHaveLength(2);

    await tap(page, '#pick');
    const options = page.querySelectorAll('.unit-option');
    expect(options).toHaveLength(2);
    await fire(options[0], 'tap');
    expect(text(page, '#unit')).toContain('液氯储罐');

    await input(page, '#name', '罐顶法兰渗漏，有刺激性气味');
    await fire(page.querySelectorAll('.level-chip')[1], 'tap'); // 重大隐患
    await tap(page, '#submit');
    // consent is asked from the tap itself, before anything is awaited
    expect(w.requestSubscribeMessage).toHaveBeenCalledWith(expect.objectContaining({ tmplIds: [TEMPLATE] }));
    await settle(60);

    expect(backend.uploads).toHaveLength(2);
    expect(backend.uploads.every((u) => u.url === `${API}/files` && u.name === 'files' && u.header.Authorization === 'Bearer test-token')).toBe(true);
    expect(backend.uploads.map((u) => u.filePath)).toEqual([expect.stringMatching(/^wxfile:\/\/store\/photo-\d+-q60\.jpg$/), expect.stringMatching(/-q60\.jpg$/)]);
    const [post] = backend.posts('/hazards');
    expect(post.body).toEqual({
      name: '罐顶法兰渗漏，有刺激性气味',
      riskUnitId: 21,
      dangerLevel: 1,
      dangerSrc: 1,
      hazardDangerType: 8,
      photos: [500, 501],
      latitude: 31.8123,
      longitude: 119.9765,
      clientRequestId: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
    });
    expect(created).toBe(1);
    expect(text(page, '#message')).toContain('已上报 YH20261130007');
    expect(page.querySelector('#queue')).toBeUndefined();
    expect(page.data.photos).toEqual([]);
    expect(backend.posts('/mp/subscriptions').map((c) => c.body)).toEqual([{ results: { [TEMPLATE]: 'accept' } }]);
  });

  test('scanning a unit label resolves it with GET /risk-units/by-qr', async () => {
    login(P07);
    const page = render('report');
    page.instance.onLoad();
    await tap(page, '#scan');
    await settle();
    expect(w.scanCode).toHaveBeenCalledWith(expect.objectContaining({ onlyFromCamera: true }));
    expect(backend.gets('/risk-units/by-qr')[0].query.code).toBe('dualprev:unit:91320000TEST:RU1');
    expect(text(page, '#unit')).toContain('液氯储罐 V-101A/B');
  });

  test('no signal: the report stays on the phone and the page lists it; with signal again 立即重试 sends it once', async () => {
    login(P07);
    backend.on('POST', '/hazards', (r) => ({ status: 201, body: { hazardId: 78, code: 'YH20261130008', state: 'reported', dangerLevel: 0, echo: r.body.clientRequestId } }));
    const page = render('report');
    page.instance.onLoad();
    backend.offline = true;
    await tap(page, '#camera');
    await settle();
    await input(page, '#name', '泵房地面油污');
    await tap(page, '#submit');
    await settle(60);

    expect(backend.posts('/hazards')).toHaveLength(0);
    expect(page.querySelector('#queue')).toBeDefined();
    const queued = page.querySelectorAll('.queued-item');
    expect(queued).toHaveLength(1);
    expect(queued[0].dom.textContent).toContain('泵房地面油污');
    expect(queued[0].dom.textContent).toContain('等待信号（已尝试 1 次）');
    expect(text(page, '#message')).toContain('报告已保存在手机上');
    expect(text(page, '#queue')).toContain('待发送（1）');

    backend.offline = false;
    await tap(page, '#retry');
    await settle(60);
    const posts = backend.posts('/hazards');
    expect(posts).toHaveLength(1);
    expect(posts[0].body.name).toBe('泵房地面油污');
    expect(posts[0].body.photos).toHaveLength(2);
    expect(page.querySelector('#queue')).toBeUndefined();
  });

  test('an empty description is refused on the phone: nothing queued or sent', async () => {
    login(P07);
    const page = render('report');
    page.instance.onLoad();
    await tap(page, '#submit');
    await settle();
    expect(toasts()).toContain('请用一句话说明隐患');
    expect(backend.uploads).toHaveLength(0);
    expect(page.querySelector('#queue')).toBeUndefined();
  });
});

describe('我的排查 (checks) and doing one (check)', () => {
  test('the list comes from GET /me/tasks; a tap opens the check', async () => {
    login(P07);
    backend.on('GET', '/me/tasks', { items: [T1, T3] });
    const page = render('checks');
    page.instance.onShow();
    await settle();
    const cards = page.querySelectorAll('.task-card');
    expect(cards).toHaveLength(2);
    expect(cards[0].dom.textContent).toContain('储罐压力 0.2～0.8 MPa');
    expect(cards[1].dom.textContent).toContain('拍照');
    await fire(cards[0], 'tap');
    expect(w.navigateTo).toHaveBeenCalledWith({ url: '/pages/check/check?instanceId=41' });
  });

  test('a reading out of the safe range turns the field red BEFORE submit; submit posts the record with reading, location, device id', async () => {
    login(P07);
    backend.on('GET', '/me/tasks', { items: [T1, T3] }).on('POST', '/check-records', { checkRecordId: 900, result: 1, resultAdjusted: false, clearedAlerts: [], abnormalAlertId: 66, abnormal: true, hazardDraftId: 88 });
    const page = render('check');
    await page.instance.onLoad({ instanceId: '41' });
    await settle();
    expect(text(page, '#measure')).toContain('储罐压力在安全范围内');
    expect(text(page, '#range')).toBe('安全范围 0.2～0.8 MPa');

    const box = () => page.querySelector('#reading-box')!.dom.className;
    await input(page, '#reading', '0.55');
    expect(box()).toContain('reading-normal');
    expect(box()).not.toContain('reading-high');
    await input(page, '#reading', '0.95');
    expect(box()).toContain('reading-high');
    expect(text(page, '#reading-hint')).toContain('偏高');
    await input(page, '#reading', '0.1');
    expect(box()).toContain('reading-low');
    await input(page, '#reading', '0.55');
    expect(box()).not.toMatch(/reading-(high|low)/);
    await input(page, '#reading', '０．９５'); // full-width digits from a Chinese keyboard
    expect(box()).toContain('reading-high');
    // nothing was sent while typing
    expect(backend.posts('/check-records')).toHaveLength(0);
    // the out-of-range reading made the result 存在隐患
    expect(page.data.result).toBe(1);

    await tap(page, '#submit');
    await settle(40);
    const [rec] = backend.posts('/check-records');
    const deviceId = storage.getStorageSync('dp.deviceId');
    expect(deviceId).toMatch(/^[0-9a-f-]{36}$/);
    expect(rec.body).toEqual({
      instanceId: 41,
      result: 1,
      readings: [{ value: 0.95 }],
      deviceId,
      latitude: 31.8123,
      longitude: 119.9765,
      location: '液氯储罐 V-101A/B',
      clientRequestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(w.getLocation).toHaveBeenCalledWith(expect.objectContaining({ type: 'wgs84' }));
    expect(text(page, '#done')).toContain('读数异常，已发出预警');
    await tap(page, '#open-draft');
    expect(w.redirectTo).toHaveBeenCalledWith({ url: '/pages/hazard/hazard?id=88' });
  });

  test('a 拍照 task refuses to submit without a photo, and sends the uploaded photo when there is one', async () => {
    login(P07);
    backend.on('GET', '/me/tasks', { items: [T1, T3] }).on('POST', '/check-records', { checkRecordId: 901, result: 0, resultAdjusted: false, clearedAlerts: [], abnormalAlertId: null, abnormal: false, hazardDraftId: null });
    const page = render('check');
    await page.instance.onLoad({ instanceId: '43' });
    await settle();
    expect(page.querySelector('#photo-required')).toBeDefined();
    expect(page.querySelector('#reading')).toBeUndefined(); // no key parameter on this task
    await tap(page, '#submit');
    await settle();
    expect(backend.posts('/check-records')).toHaveLength(0);
    expect(toasts()).toContain('该任务的排查方式为拍照，请拍摄现场照片');
    expect(page.querySelectorAll('.problem')).toHaveLength(1);

    await tap(page, '#camera');
    await settle();
    await tap(page, '#submit');
    await settle(40);
    expect(backend.uploads).toHaveLength(2);
    const [rec] = backend.posts('/check-records');
    expect(rec.body).toMatchObject({ instanceId: 43, result: 0, photos: [500, 501] });
    expect(rec.body.readings).toBeUndefined();
    expect(text(page, '#done')).toContain('排查已记录');
  });

  test('no signal on submit: the form stays; the retry reuses the uploaded photos and the same clientRequestId', async () => {
    login(P07);
    let lose = true;
    backend.on('GET', '/me/tasks', { items: [T3] }).on('POST', '/check-records', () => (lose ? ((lose = false), { network: true }) : { status: 201, body: { checkRecordId: 902, result: 0, resultAdjusted: false, clearedAlerts: [], abnormalAlertId: null, abnormal: false, hazardDraftId: null } }));
    const page = render('check');
    await page.instance.onLoad({ instanceId: '43' });
    await settle();
    await tap(page, '#camera');
    await settle();
    await tap(page, '#submit');
    await settle(40);
    expect(toasts()).toContain('网络超时，请稍后重试');
    expect(page.querySelector('#done')).toBeUndefined();
    await tap(page, '#submit');
    await settle(40);
    expect(backend.uploads).toHaveLength(2);
    const posts = backend.posts('/check-records');
    expect(posts).toHaveLength(2);
    expect(posts[1].body.clientRequestId).toBe(posts[0].body.clientRequestId);
    expect(posts[1].body.photos).toEqual(posts[0].body.photos);
    expect(text(page, '#done')).toContain('排查已记录');
  });
});

describe('预警 (alerts) and one alert (alert)', () => {
  test('the list asks GET /alerts?state=open, the second tab state=cleared; a tap opens the alert', async () => {
    login(P07);
    backend.on('GET', '/alerts', (r) => ({ body: { total: 1, items: [alertView({ id: r.query.state === 'cleared' ? 56 : 55, state: r.query.state === 'cleared' ? 'cleared' : 'open' })] } }));
    const page = render('alerts');
    page.instance.onShow();
    await settle();
    expect(backend.gets('/alerts')[0].query.state).toBe('open');
    expect(page.querySelectorAll('.alert-card')).toHaveLength(1);
    await tap(page, '#tab-cleared');
    await settle();
    expect(backend.gets('/alerts')[1].query.state).toBe('cleared');
    await fire(page.querySelectorAll('.alert-card')[0], 'tap');
    expect(w.navigateTo).toHaveBeenCalledWith({ url: '/pages/alert/alert?id=56' });
  });

  // the link page's rule: only the viewer's own 确认 in the running pause hides the button
  test('an alert another person has confirmed still offers 确认 to me; once the pause has run out, also to the one who confirmed', async () => {
    login(P07);
    const byOther = {
      state: 'acknowledged',
      ackUntil: new Date(Date.now() + 3600_000).toISOString(),
      events: [...alertView().events, { id: 3, type: 'acknowledged', level: null, actor: { id: 6, name: '刘洋' }, channel: 'link', note: null, at: new Date().toISOString() }],
    };
    backend.on('GET', /^\/alerts\/55$/, () => ({ body: alertView(byOther) }));
    const page = render('alert');
    page.instance.onLoad({ id: '55' });
    await settle();
    expect(text(page, '#state')).toBe('已确认');
    expect(page.querySelector('#ack')).toBeDefined();

    const { alertPageView } = await import('../../miniprogram/lib/alerts');
    const mine = alertView({ ...byOther, events: [...alertView().events, { ...byOther.events[2], actor: { id: P07.id, name: P07.name } }] }) as never;
    expect(alertPageView(mine, P07).canAck).toBe(false);
    expect(alertPageView(mine, P07, new Date(Date.now() + 2 * 3600_000)).canAck).toBe(true);
  });

  test('a frontline person sees the timeline, 确认 and 处置 but no 销警; 确认 asks consent and posts ack; 处置 posts the note', async () => {
    login(P07);
    let acked: object = {};
    const ackedByP07 = () => ({
      state: 'acknowledged',
      ackUntil: new Date(Date.now() + 3600_000).toISOString(),
      events: [...alertView().events, { id: 3, type: 'acknowledged', level: null, actor: { id: P07.id, name: P07.name }, channel: 'miniprogram', note: null, at: new Date().toISOString() }],
    });
    backend.on('GET', /^\/alerts\/55$/, () => ({ body: alertView(acked) })).on('POST', '/alerts/55/ack', () => ((acked = ackedByP07()), { body: { alertId: 55, state: 'acknowledged' } })).on('POST', '/alerts/55/handle', { alertId: 55 });
    const page = render('alert');
    page.instance.onLoad({ id: '55' });
    await settle();
    expect(page.querySelectorAll('.event')).toHaveLength(2);
    expect(page.querySelectorAll('.event')[1].dom.textContent).toContain('发出提醒（第1级）');
    expect(page.querySelector('#ack')).toBeDefined();
    expect(page.querySelector('#handle')).toBeDefined();
    expect(page.querySelector('#clear')).toBeUndefined();
    expect(page.querySelector('#reason')).toBeUndefined();

    await tap(page, '#ack');
    expect(w.requestSubscribeMessage).toHaveBeenCalledTimes(1);
    await settle();
    expect(backend.posts('/alerts/55/ack')).toHaveLength(1);
    expect(backend.posts('/mp/subscriptions')).toHaveLength(1);
    expect(text(page, '#state')).toBe('已确认');
    expect(page.querySelector('#ack')).toBeUndefined();

    await tap(page, '#handle'); // no note: refused on the phone
    await settle();
    expect(backend.posts('/alerts/55/handle')).toHaveLength(0);
    expect(toasts()).toContain('请填写处置说明');
    await input(page, '#note', '已关闭进料阀，安排更换垫片');
    await tap(page, '#handle');
    await settle();
    expect(backend.posts('/alerts/55/handle').map((c) => c.body)).toEqual([{ note: '已关闭进料阀，安排更换垫片' }]);
  });

  test('a department head (a role that may clear) sees 销警, which posts the reason', async () => {
    login(P05);
    backend.on('GET', /^\/alerts\/55$/, alertView()).on('POST', '/alerts/55/clear', { alertId: 55, state: 'cleared' });
    const page = render('alert');
    page.instance.onLoad({ id: '55' });
    await settle();
    expect(page.querySelector('#clear')).toBeDefined();
    await input(page, '#reason', '误报：压力表已校验正常');
    await tap(page, '#clear');
    await settle();
    expect(backend.posts('/alerts/55/clear').map((c) => c.body)).toEqual([{ reason: '误报：压力表已校验正常' }]);
  });

  test('销警 follows the shared role list: every CLEAR_ROLES role sees it, no other role does', async () => {
    const { CLEAR_ROLES } = mp.lib<typeof import('../../miniprogram/shared/contract')>('shared/contract');
    const roles = ['frontline', 'post_leader', 'department_head', 'safety_dept', 'safety_director', 'principal', 'technical_head', 'operational_head', 'enterprise_admin'];
    backend.on('GET', /^\/alerts\/55$/, alertView());
    for (const role of roles) {
      login({ id: 30, name: '某人', roles: [role] });
      const page = render('alert');
      page.instance.onLoad({ id: '55' });
      await settle();
      expect([role, page.querySelector('#clear') !== undefined]).toEqual([role, (CLEAR_ROLES as readonly string[]).includes(role)]);
    }
  });
});

describe('隐患详情 (hazard)', () => {
  test('timeline and photos (downloaded with the token); the rectifier rectifies with an after-photo and asks for an extension', async () => {
    login({ id: 16, name: '胡婷', roles: ['frontline'] });
    backend
      .on('GET', /^\/hazards\/9$/, hazardView())
      .on('POST', '/hazards/9/rectify', { hazardId: 9, state: 'awaiting_acceptance' })
      .on('POST', '/hazards/9/extensions', { id: 3, state: 'pending' });
    const page = render('hazard');
    page.instance.onLoad({ id: '9' });
    await settle();
    expect(page.querySelectorAll('.step')).toHaveLength(2);
    expect(page.querySelectorAll('.step')[1].dom.textContent).toContain('尽快更换垫片');
    expect(w.downloadFile).toHaveBeenCalledWith(expect.objectContaining({ url: `${API}/files/301/thumb`, header: expect.objectContaining({ Authorization: 'Bearer test-token' }) }));
    expect(page.querySelectorAll('.before-photo')).toHaveLength(1);
    expect(page.querySelector('#accept-card')).toBeUndefined();

    await tap(page, '#rectify'); // no measures, no photo
    await settle();
    expect(backend.posts('/hazards/9/rectify')).toHaveLength(0);
    await input(page, '#measures', '更换法兰垫片并紧固');
    await tap(page, '#rectify'); // still no after-photo
    await settle();
    expect(toasts()).toContain('请拍摄整改后的照片');
    expect(backend.posts('/hazards/9/rectify')).toHaveLength(0);

    await tap(page, '#after-camera');
    await settle();
    await tap(page, '#rectify');
    await settle(40);
    expect(backend.uploads).toHaveLength(2);
    expect(backend.posts('/hazards/9/rectify').map((c) => c.body)).toEqual([{ measures: '更换法兰垫片并紧固', afterPhotos: [500, 501] }]);

    await fire(page.querySelector('#ext-date'), 'change', { value: '2026-12-10' });
    await input(page, '#ext-reason', '备件到货需一周');
    await tap(page, '#extend');
    await settle();
    expect(backend.posts('/hazards/9/extensions').map((c) => c.body)).toEqual([{ requestedDate: '2026-12-10', reason: '备件到货需一周' }]);
  });

  test('the acceptor accepts, or sends back only with a reason', async () => {
    login({ id: 6, name: '刘洋', roles: ['post_leader'] });
    backend
      .on('GET', /^\/hazards\/9$/, hazardView({ state: 'awaiting_acceptance', stateName: '待验收' }))
      .on('POST', '/hazards/9/accept', { hazardId: 9, state: 'accepted' })
      .on('POST', '/hazards/9/send-back', { hazardId: 9, state: 'rectifying' });
    const page = render('hazard');
    page.instance.onLoad({ id: '9' });
    await settle();
    expect(page.querySelector('#rectify-card')).toBeUndefined();
    await tap(page, '#send-back');
    await settle();
    expect(backend.posts('/hazards/9/send-back')).toHaveLength(0);
    expect(toasts()).toContain('请填写退回原因');
    await input(page, '#comment', '垫片规格不符');
    await tap(page, '#send-back');
    await settle();
    expect(backend.posts('/hazards/9/send-back').map((c) => c.body)).toEqual([{ comment: '垫片规格不符' }]);
    await tap(page, '#accept');
    await settle();
    expect(backend.posts('/hazards/9/accept').map((c) => c.body)).toEqual([{}]);
  });

  test('the reporter of a draft (from an abnormal reading) reports it', async () => {
    login(P07);
    backend.on('GET', /^\/hazards\/88$/, hazardView({ id: 88, state: 'draft', stateName: '草稿', rectifier: null, acceptor: null })).on('POST', '/hazards/88/report', { hazardId: 88, state: 'reported' });
    const page = render('hazard');
    page.instance.onLoad({ id: '88' });
    await settle();
    await tap(page, '#report-draft');
    await settle();
    expect(backend.posts('/hazards/88/report')).toHaveLength(1);
  });
});

describe('登录 (login)', () => {
  test('unbound: bind with the 6-digit code → session saved, into the app', async () => {
    backend.on('POST', '/mp/login', { status: 'unbound', bindToken: 'bt-1', expiresAt: new Date(Date.now() + 600_000).toISOString() });
    backend.on('POST', '/mp/bind', { token: 'jwt-1', expiresAt: new Date(Date.now() + 86_400_000).toISOString(), person: { ...P07, enterpriseId: 1, enterpriseName: '示范化工' } });
    const page = render('login');
    page.instance.onLoad();
    await settle();
    const [loginCall] = backend.posts('/mp/login');
    expect(loginCall.body).toEqual({ code: expect.stringMatching(/^code-/) });
    expect(loginCall.header.Authorization).toBeUndefined();
    expect(page.querySelector('#bind')).toBeDefined();
    await input(page, '#code', '12 34 56');
    await tap(page, '#bind-code');
    await settle();
    expect(backend.posts('/mp/bind').map((c) => c.body)).toEqual([{ bindToken: 'bt-1', bindingCode: '123456' }]);
    expect(JSON.parse(String(storage.getStorageSync('dp.session'))).token).toBe('jwt-1');
    expect(w.switchTab).toHaveBeenCalledWith({ url: '/pages/index/index' });
  });

  test('unbound: the getPhoneNumber button binds with the phone code; a phone not in the directory says so', async () => {
    backend.on('POST', '/mp/login', { status: 'unbound', bindToken: 'bt-2', expiresAt: new Date(Date.now() + 600_000).toISOString() });
    backend.on('POST', '/mp/bind', () => ({ status: 404, body: { code: 'person_not_found', message: '未找到该手机号对应的人员', message_en: 'no person' } }));
    const page = render('login');
    page.instance.onLoad();
    await settle();
    await fire(page.querySelector('#phone'), 'getphonenumber', { code: 'phone-code-1', errMsg: 'getPhoneNumber:ok' });
    await settle();
    expect(backend.posts('/mp/bind').map((c) => c.body)).toEqual([{ bindToken: 'bt-2', phoneCode: 'phone-code-1' }]);
    expect(text(page, '#bind-message')).toBe('该手机号不在本厂人员名单中，请联系管理员或改用绑定码');
    expect(w.switchTab).not.toHaveBeenCalled();
  });

  test('a reused/expired login code: a clear message, and 重试 logs in with a FRESH wx.login code', async () => {
    let n = 0;
    backend.on('POST', '/mp/login', () =>
      ++n === 1
        ? { status: 400, body: { code: 'login_code_invalid', message: '登录已失效，请重试', message_en: 'code invalid' } }
        : { body: { status: 'ok', token: 'jwt-2', expiresAt: new Date(Date.now() + 86_400_000).toISOString(), person: { ...P07, enterpriseId: 1, enterpriseName: '示范化工' } } },
    );
    const page = render('login');
    page.instance.onLoad();
    await settle();
    expect(text(page, '#login-error')).toContain('登录已失效，请重试');
    await tap(page, '#retry');
    await settle();
    const codes = backend.posts('/mp/login').map((c) => c.body.code);
    expect(codes).toHaveLength(2);
    expect(codes[1]).not.toBe(codes[0]);
    expect(w.login).toHaveBeenCalledTimes(2);
    expect(w.switchTab).toHaveBeenCalledWith({ url: '/pages/index/index' });
  });
});
