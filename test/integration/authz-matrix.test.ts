/**
 * The authorisation matrix (issue #3, done-when: "enumerates every route × every role (and a user
 * of another enterprise) and checks allowed vs 403/404; the regulator can read but never write").
 *
 * Routes come from buildApiRegistry().routes — never from a list written here — so a route added
 * tomorrow is walked too. Each route's path parameters are filled from PATH_FIXTURES (path pattern
 * → which kind of row each parameter names); a route no pattern covers fails the test, by name.
 * Bodies and required query parameters are generated from the route's own zod schemas (JSON
 * Schema), with id-like fields (rectifierId, riskUnitId, photos…) pointing at real rows of the
 * enterprise under test; BODY_OVERRIDES takes a hand-written body where generation is not enough.
 *
 * Actors (columns of the matrix):
 *  - anon: no token → 401 everywhere.
 *  - other: a person of another, empty enterprise holding every staff role → 404 on every route
 *    naming a row of the demo plant, empty lists, a 4xx (never a 2xx) for a write whose body names
 *    demo rows; nothing of the demo plant changes.
 *  - reg: the demo's 园区监管员 r01 (seeded; scope = the demo plant) with ?enterpriseId=<demo> →
 *    every read 2xx, every write 403 (the registry's permission 403: details.permission); ids of a
 *    plant outside the scope → 404; ?enterpriseId=<that plant> → 404.
 *  - reg-: a regulator whose scope is another plant, asking with ?enterpriseId=<demo> → reads 404,
 *    writes 403.
 *  - one person per role of PERSON_ROLES in the demo plant holding exactly that role: without the
 *    permission → 403 `forbidden` with details.permission; with it → anything but 401 and the
 *    permission 403 (a service may still say 403 for a per-record reason, or 400/404/409).
 *  - cross: a demo person with every staff role sends the ids of a second plant → 404.
 * No actor may ever get a 5xx. On failure the matrix is printed (status per cell, `p` = the
 * permission 403, `!` = the failing cells).
 */
import request from 'supertest';
import type { Server } from 'node:http';
import sharp from 'sharp';
import { Workbook } from 'exceljs';
import { z } from 'zod';
import { createTestSystem, T0, type TestSystem } from '../helpers/system';
import { buildApiRegistry } from '../../server/routes/api/index';
import { isProtected, type ProtectedRouteSpec, type RouteSpec } from '../../server/routes/api/registry';
import { PERMISSIONS, can, isWritePermission, type Permission } from '../../server/domain/permissions';
import { PERSON_ROLES } from '../../server/domain/roles';
import { issueApiToken } from '../../server/services/tokens';
import { loadDemoPlant, readDemoData } from '../../prisma/seed';
import { sampleFromSchema, type Json } from '../helpers/schema-sample';
import { unitQrText } from '../../miniprogram/shared/contract';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Route = ProtectedRouteSpec<any, any, any>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyRoute = RouteSpec<any, any, any>;

const ALL_ROUTES: AnyRoute[] = buildApiRegistry().routes;
/** the matrix walks the routes that need a token; `public: true` ones have a test of their own (below) */
const ROUTES: Route[] = ALL_ROUTES.filter(isProtected);
/** Routes that run without a token, on purpose (the mini-program's login and binding). */
const EXPECTED_PUBLIC = ['POST /mp/bind', 'POST /mp/login'];
const keyOf = (r: AnyRoute) => `${r.method.toUpperCase()} ${r.path}`;
const isRead = (r: Route) => r.method === 'get';

// ───────────────────────────── fixtures ─────────────────────────────

/** Kinds of rows a path parameter or body field can name. */
const FIXTURE_KINDS = [
  'alert',
  'hazard',
  'hazardExtension',
  'checkRecord',
  'instance',
  'checkTask',
  'riskObject',
  'riskUnit',
  'riskEvent',
  'controlMeasure',
  'majorHazardSource',
  'shutdown',
  'file',
  'person',
  'department',
  'post',
] as const;
type FixtureKind = (typeof FIXTURE_KINDS)[number];
type Fixtures = Record<FixtureKind, number>;

/**
 * Path pattern → the kind of row each path parameter names (first match wins). A parameter whose
 * schema is an enum is filled with its first value and needs no entry. A route matching none of
 * these fails the test: add its pattern here.
 */
const PATH_FIXTURES: Array<[RegExp, Record<string, FixtureKind>]> = [
  [/^\/alerts\/:id(\/|$)/, { id: 'alert' }],
  [/^\/hazards\/:id\/extensions\/:extId(\/|$)/, { id: 'hazard', extId: 'hazardExtension' }],
  [/^\/hazards\/:id(\/|$)/, { id: 'hazard' }],
  [/^\/(hazard-)?extensions\/:id(\/|$)/, { id: 'hazardExtension' }],
  [/^\/check-records\/:id(\/|$)/, { id: 'checkRecord' }],
  [/^\/(task-|check-task-)?instances\/:id(\/|$)/, { id: 'instance' }],
  [/^\/(lists\/)?(check-)?tasks\/:id(\/|$)/, { id: 'checkTask' }],
  [/^\/(lists\/)?(risk-)?objects\/:id(\/|$)/, { id: 'riskObject' }],
  [/^\/(lists\/)?(risk-)?units\/:id\/shutdowns\/:\w+(\/|$)/, { id: 'riskUnit', sid: 'shutdown', shutdownId: 'shutdown' }],
  [/^\/(lists\/)?(risk-)?units\/:id(\/|$)/, { id: 'riskUnit' }],
  [/^\/shutdowns\/:id(\/|$)/, { id: 'shutdown' }],
  [/^\/(lists\/)?(risk-)?events\/:id(\/|$)/, { id: 'riskEvent' }],
  [/^\/(lists\/)?(control-)?measures\/:id(\/|$)/, { id: 'controlMeasure' }],
  [/^\/(lists\/)?major-hazard-sources\/:id(\/|$)/, { id: 'majorHazardSource' }],
  [/^\/files\/:id(\/|$)/, { id: 'file' }],
  [/^\/(people|persons)\/:id(\/|$)/, { id: 'person' }],
  [/^\/departments\/:id(\/|$)/, { id: 'department' }],
  [/^\/posts\/:id(\/|$)/, { id: 'post' }],
];

/** Body fields that name a row (single id, or an array of ids for the plural ones). */
const FIELD_FIXTURES: Record<string, FixtureKind> = {
  rectifierId: 'person',
  acceptorId: 'person',
  personId: 'person',
  reporterId: 'person',
  headPersonId: 'person',
  principalId: 'person',
  technicalId: 'person',
  operationalId: 'person',
  instanceId: 'instance',
  checkTaskId: 'checkTask',
  riskObjectId: 'riskObject',
  riskUnitId: 'riskUnit',
  riskEventId: 'riskEvent',
  controlMeasureId: 'controlMeasure',
  majorHazardSourceId: 'majorHazardSource',
  checkRecordId: 'checkRecord',
  hazardId: 'hazard',
  alertId: 'alert',
  departmentId: 'department',
  postId: 'post',
  photos: 'file',
  afterPhotos: 'file',
  fileIds: 'file',
};

/** Hand-written bodies for routes whose schema generation is not enough (key: 'POST /path'). */
const BODY_OVERRIDES: Record<string, (fx: Fixtures) => unknown> = {};

/** The QR label text of each enterprise's fixture unit (RU1), by unit id (filled by fixturesOf). */
const qrOfUnit = new Map<number, string>();
/**
 * Routes naming a row in the QUERY (not the path): the query for one enterprise's fixtures. They are
 * walked like routes with path parameters (another enterprise's row → 404).
 */
const QUERY_FIXTURES: Record<string, (fx: Fixtures) => Json> = {
  'GET /risk-units/by-qr': (fx) => ({ code: qrOfUnit.get(fx.riskUnit)! }),
};
/** Does the request name a row of the enterprise under test (in its path or its query)? */
const namesRow = (r: Route) => r.path.includes(':') || !!QUERY_FIXTURES[keyOf(r)];

/** Path parameters of a route for one enterprise's fixtures. @returns null when not covered */
function pathParams(r: Route, fx: Fixtures): Record<string, string | number> | null {
  const names = [...r.path.matchAll(/:(\w+)/g)].map((m) => m[1]);
  if (names.length === 0) return {};
  const schema = r.params ? (z.toJSONSchema(r.params, { io: 'input', unrepresentable: 'any' }) as Json) : {};
  const props = (schema.properties ?? {}) as Record<string, Json>;
  const entry = PATH_FIXTURES.find(([re]) => re.test(r.path))?.[1] ?? {};
  const out: Record<string, string | number> = {};
  for (const n of names) {
    const en = props[n]?.enum as unknown[] | undefined;
    if (en?.length) out[n] = String(en[0]);
    else if (entry[n]) out[n] = fx[entry[n]];
    else return null;
  }
  return out;
}

const hasFixtures = (r: Route) => pathParams(r, Object.fromEntries(FIXTURE_KINDS.map((k) => [k, 1])) as Fixtures) !== null;

const url = (r: Route, params: Record<string, string | number>, query: Record<string, unknown>) => {
  const path = r.path.replace(/:(\w+)/g, (_m, n: string) => encodeURIComponent(String(params[n])));
  const qs = new URLSearchParams(Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)]))).toString();
  return `/api/v1${path}${qs ? `?${qs}` : ''}`;
};

/** A minimal valid value of a JSON Schema whose row fields name the rows of `fx`. */
const sample = (s: Json, _name: string, fx: Fixtures): unknown =>
  sampleFromSchema(s, { idFor: (f) => (FIELD_FIXTURES[f] ? fx[FIELD_FIXTURES[f]] : undefined), instant: new Date(T0.getTime() - 3_600_000).toISOString() });

/** Does the generated body name any row (so a foreign actor's write must fail)? */
const namesRows = (body: unknown): boolean =>
  body !== null && typeof body === 'object' && Object.entries(body as Json).some(([k, v]) => (FIELD_FIXTURES[k] && v !== undefined) || namesRows(v));

/**
 * The other enterprise's write naming our rows, once per optional row field (with only the required
 * fields besides), so each reference is shown to be refused, not just the first one a service checks.
 * @returns a failure text, or undefined
 */
async function eachRowFieldRefused(r: Route, full: Json): Promise<string | undefined> {
  const required = new Set(((r.body ? (z.toJSONSchema(r.body, { io: 'input', unrepresentable: 'any' }) as Json) : {}).required ?? []) as string[]);
  const optionalRows = Object.keys(full).filter((k) => FIELD_FIXTURES[k] && !required.has(k));
  if (optionalRows.length < 2) return undefined;
  for (const f of optionalRows) {
    const variant = Object.fromEntries(Object.entries(full).filter(([k]) => k === f || !optionalRows.includes(k)));
    const res = await request(http)[r.method](url(r, {}, {})).set('authorization', `Bearer ${token.other}`).send(variant);
    const code = (res.body as { code?: string }).code;
    if (res.status < 400) return `a write naming only our ${f} succeeded (${res.status})`;
    if (res.status >= 500) return `server error ${res.status} with our ${f}`;
    if (code === 'invalid_input' && !refusesEveryRowField({ [f]: variant[f] }, (res.body as Json).details))
      return `with only our ${f}: 400 invalid_input for another reason, the isolation check proves nothing (${JSON.stringify((res.body as Json).details)})`;
  }
  return undefined;
}

/** Whether a 400's details name every top-level row field of `body` (e.g. riskUnitId: "not found in this enterprise"). */
function refusesEveryRowField(body: unknown, details: unknown): boolean {
  const fields = Object.keys((body ?? {}) as Json).filter((k) => FIELD_FIXTURES[k]);
  // paths say where the field was: body.<field>[.<more>]
  const paths = new Set((Array.isArray(details) ? details : []).map((d: { path?: unknown }) => String(d.path ?? '').replace(/^body\./, '').split('.')[0]));
  return fields.length > 0 && fields.every((f) => paths.has(f));
}

function bodyFor(r: Route, fx: Fixtures): unknown {
  const o = BODY_OVERRIDES[keyOf(r)];
  if (o) return o(fx);
  if (!r.body) return undefined;
  return sample(z.toJSONSchema(r.body, { io: 'input', unrepresentable: 'any' }) as Json, '', fx);
}

function queryFor(r: Route, fx: Fixtures): Json {
  if (!r.query) return {};
  const q = sample(z.toJSONSchema(r.query, { io: 'input', unrepresentable: 'any' }) as Json, '', fx) as Json;
  delete q.enterpriseId;
  return { ...q, ...QUERY_FIXTURES[keyOf(r)]?.(fx) };
}

// ───────────────────────────── the system ─────────────────────────────

let sys: TestSystem;
let http: Server;
let demoId: number;
let secondId: number;
let demo: Fixtures;
let second: Fixtures;
const token: Record<string, string> = {};

/** Every row of an enterprise a request could change, for "nothing changed" checks. */
async function snapshot(enterpriseId: number) {
  const p = sys.rt.prisma;
  const where = { where: { enterpriseId }, orderBy: { id: 'asc' as const } };
  const hazards = await p.hazard.findMany(where);
  const hz = { where: { hazardId: { in: hazards.map((h) => h.id) } }, orderBy: { id: 'asc' as const } };
  const units = await p.riskUnit.findMany(where);
  const alerts = await p.alert.findMany(where);
  const records = await p.checkRecord.findMany(where);
  return {
    hazards,
    transitions: await p.hazardTransition.findMany(hz),
    extensions: await p.hazardExtension.findMany(hz),
    records,
    readings: await p.checkReading.findMany({ where: { checkRecordId: { in: records.map((r) => r.id) } }, orderBy: { id: 'asc' } }),
    instances: await p.checkTaskInstance.findMany(where),
    alerts,
    alertEvents: await p.alertEvent.findMany({ where: { alertId: { in: alerts.map((a) => a.id) } }, orderBy: { id: 'asc' } }),
    notifications: await p.notification.count({ where: { enterpriseId } }),
    units,
    shutdowns: await p.riskUnitShutdown.findMany({ where: { riskUnitId: { in: units.map((u) => u.id) } }, orderBy: { id: 'asc' } }),
    objects: await p.riskObject.findMany(where),
    events: await p.riskEvent.findMany(where),
    measures: await p.controlMeasure.findMany(where),
    tasks: await p.checkTask.findMany(where),
    mhs: await p.majorHazardSource.findMany(where),
    files: await p.storedFile.findMany(where),
    people: await p.person.findMany(where),
    departments: await p.department.findMany(where),
    posts: await p.post.findMany(where),
    enterprise: await p.enterprise.findUniqueOrThrow({ where: { id: enterpriseId } }),
  };
}

async function jpeg(): Promise<Buffer> {
  return sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 40, b: 40 } } }).jpeg().toBuffer();
}

/** Rows of one plant every route can name (the plant is the demo file, loaded under `enterpriseId`). */
async function fixturesOf(enterpriseId: number): Promise<Fixtures> {
  const p = sys.rt.prisma;
  const byCode = { enterpriseId_code: { enterpriseId, code: '' } };
  const code = (c: string) => ({ where: { enterpriseId_code: { ...byCode.enterpriseId_code, code: c } }, select: { id: true } });
  const person = async (c: string) => (await p.person.findUniqueOrThrow(code(c))).id;
  const hazard = await p.hazard.findUniqueOrThrow({ where: { enterpriseId_code: { enterpriseId, code: 'YH-DEMO-1' } } });
  const t1 = (await p.checkTask.findUniqueOrThrow(code('T1'))).id;
  const instance = await p.checkTaskInstance.findFirstOrThrow({ where: { checkTaskId: t1, state: 'pending', startAt: { lte: sys.clock.now() }, endAt: { gt: sys.clock.now() } } });
  // a record of another task's instance (the open T1 instance stays open for check submissions)
  const t2 = (await p.checkTask.findUniqueOrThrow(code('T2'))).id;
  const otherInstance = await p.checkTaskInstance.findFirstOrThrow({ where: { checkTaskId: t2 }, orderBy: { startAt: 'asc' } });
  const record = await p.checkRecord.create({ data: { enterpriseId, instanceId: otherInstance.id, personId: await person('p07'), checkedAt: sys.clock.now(), result: 0, note: '矩阵测试记录' } });
  const extension = await p.hazardExtension.create({
    data: { hazardId: hazard.id, requestedById: hazard.rectifierId!, fromDeadlineDate: hazard.deadlineDate, requestedDate: '2026-12-31', reason: '等待备件（矩阵测试）', createdAt: sys.clock.now() },
  });
  const ru2 = (await p.riskUnit.findUniqueOrThrow(code('RU2'))).id;
  const shutdown = await p.riskUnitShutdown.create({ data: { riskUnitId: ru2, startAt: new Date(sys.clock.now().getTime() + 10 * 86_400_000), reason: '计划检修（矩阵测试）' } });
  const uploader = await issueApiToken(p, await person('p07'), 'matrix upload');
  const up = await request(http).post('/api/v1/files').set('authorization', `Bearer ${uploader}`).attach('files', await jpeg(), 'photo.jpg');
  if (up.status !== 201) throw new Error(`fixture upload failed: ${up.status} ${JSON.stringify(up.body)}`);
  const alert = await p.alert.findFirstOrThrow({ where: { enterpriseId, state: { not: 'cleared' } }, orderBy: { id: 'asc' } });
  const ru1 = await p.riskUnit.findUniqueOrThrow({ where: { enterpriseId_code: { enterpriseId, code: 'RU1' } }, include: { enterprise: { select: { companyCode: true } } } });
  qrOfUnit.set(ru1.id, unitQrText(ru1.enterprise.companyCode, ru1.code));
  return {
    alert: alert.id,
    hazard: hazard.id,
    hazardExtension: extension.id,
    checkRecord: record.id,
    instance: instance.id,
    checkTask: t1,
    riskObject: (await p.riskObject.findUniqueOrThrow(code('RO1'))).id,
    riskUnit: (await p.riskUnit.findUniqueOrThrow(code('RU1'))).id,
    riskEvent: (await p.riskEvent.findUniqueOrThrow(code('RU1-E1'))).id,
    controlMeasure: (await p.controlMeasure.findUniqueOrThrow(code('CM1'))).id,
    majorHazardSource: (await p.majorHazardSource.findUniqueOrThrow(code('MHS1'))).id,
    shutdown: shutdown.id,
    file: up.body.items[0].id,
    person: await person('p16'),
    department: (await p.department.findUniqueOrThrow(code('TANK'))).id,
    post: (await p.post.findUniqueOrThrow(code('TANK_OP'))).id,
  };
}

beforeAll(async () => {
  sys = await createTestSystem({ now: T0 });
  http = sys.app.listen(0, '127.0.0.1');
  const p = sys.rt.prisma;
  demoId = sys.enterpriseId!;
  // a second plant of the same shape, outside the regulator's scope (its ids must never be reachable from the demo)
  const data = structuredClone(readDemoData());
  data.enterprise.companyCode = '320411902';
  data.enterprise.name = '第二化工（演示）有限公司';
  secondId = (await loadDemoPlant(p, { now: T0, data, regulator: false })).enterpriseId;
  await sys.cycle(); // instances and alerts in both plants
  demo = await fixturesOf(demoId);
  second = await fixturesOf(secondId);

  const staffRoles = PERSON_ROLES.filter((r) => r !== 'regulator');
  const person = async (enterpriseId: number, code: string, roles: string[]) => (await p.person.create({ data: { enterpriseId, code, name: `矩阵-${code}`, roles } })).id;
  for (const role of PERSON_ROLES) token[role] = await issueApiToken(p, await person(demoId, `m-${role}`, [role]), 'matrix');
  // another enterprise, empty, whose person holds every staff role (permissions never stop them)
  const other = await p.enterprise.create({ data: { companyCode: '320411998', name: '另一家化工有限公司' } });
  token.other = await issueApiToken(p, await person(other.id, 'x01', staffRoles), 'matrix');
  // the seeded park regulator (scope: the demo plant), and one of the same park whose scope is the second plant
  const r01 = await p.person.findFirstOrThrow({ where: { code: 'r01' } });
  expect(await p.regulatorScope.findMany({ where: { personId: r01.id } })).toEqual([{ personId: r01.id, enterpriseId: demoId }]);
  token.reg = await issueApiToken(p, r01.id, 'matrix');
  const r02 = await person(r01.enterpriseId, 'r02', ['regulator']);
  await p.regulatorScope.create({ data: { personId: r02, enterpriseId: secondId } });
  token.regOut = await issueApiToken(p, r02, 'matrix');
  token.cross = await issueApiToken(p, await person(demoId, 'm-all', staffRoles), 'matrix');
}, 180_000);

afterAll(async () => {
  await new Promise((r) => http?.close(r));
  await sys?.close();
});

// ───────────────────────────── requests and the matrix ─────────────────────────────

interface Cell {
  status: number;
  code?: string;
  /** the registry's permission 403 */
  perm: boolean;
  failure?: string;
}
const matrix = new Map<string, Map<string, Cell>>();
const failures: Array<{ column: string; text: string }> = [];

async function send(r: Route, who: string | null, opts: { fx: Fixtures; enterpriseId?: number; params?: Record<string, string | number> }) {
  const params = opts.params ?? pathParams(r, opts.fx);
  if (!params) throw new Error(`no fixture for ${keyOf(r)}: add its path pattern to PATH_FIXTURES`);
  const query = { ...queryFor(r, opts.fx), ...(opts.enterpriseId ? { enterpriseId: opts.enterpriseId } : {}) };
  const body = bodyFor(r, opts.fx);
  let req = request(http)[r.method](url(r, params, query));
  if (who) req = req.set('authorization', `Bearer ${token[who]}`);
  const res = body === undefined ? await req : await req.send(body as object);
  const b = (res.body ?? {}) as { code?: string; details?: { permission?: string } };
  return { res, body, code: b.code, perm: res.status === 403 && b.code === 'forbidden' && b.details?.permission === r.permission };
}

function record(r: Route, column: string, c: Cell): void {
  if (!matrix.has(keyOf(r))) matrix.set(keyOf(r), new Map());
  matrix.get(keyOf(r))!.set(column, c);
  if (c.failure) failures.push({ column, text: `${keyOf(r)} [${column}]: ${c.failure}` });
}

const COLUMNS = ['anon', 'other', 'reg', 'reg-', 'cross', ...PERSON_ROLES];
const SHORT: Record<string, string> = {
  frontline: 'fl',
  post_leader: 'pl',
  department_head: 'dh',
  safety_dept: 'sd',
  safety_director: 'sdir',
  principal: 'pr',
  technical_head: 'th',
  operational_head: 'oh',
  enterprise_admin: 'ea',
  regulator: 'rg',
};

function printMatrix(): string {
  const w = Math.max(...ROUTES.map((r) => keyOf(r).length), 5);
  const head = `${'route'.padEnd(w)}  ${COLUMNS.map((c) => (SHORT[c] ?? c).padEnd(5)).join('')}`;
  const lines = ROUTES.map((r) => {
    const row = matrix.get(keyOf(r));
    return `${keyOf(r).padEnd(w)}  ${COLUMNS.map((c) => {
      const cell = row?.get(c);
      return (cell ? `${cell.status}${cell.perm ? 'p' : ''}${cell.failure ? '!' : ''}` : '-').padEnd(5);
    }).join('')}`;
  });
  // PRINT_AUTHZ_MATRIX=codes: the error code of every 4xx cell of the other enterprise and the cross column too
  const codes =
    process.env.PRINT_AUTHZ_MATRIX === 'codes'
      ? ROUTES.flatMap((r) => ['other', 'cross'].flatMap((c) => {
          const cell = matrix.get(keyOf(r))?.get(c);
          return cell && cell.status >= 400 ? [`${keyOf(r)} [${c}] ${cell.status} ${cell.code ?? ''}`] : [];
        }))
      : [];
  return [head, ...lines, '', ...codes, `p = the registry's permission 403; ! = failing cell (${failures.length}):`, ...failures.map((f) => f.text)].join('\n');
}

/** Fails with the printed matrix when a cell of these columns failed. */
function assertNoFailures(...columns: string[]): void {
  if (failures.some((f) => columns.includes(f.column))) throw new Error(`authorisation matrix:\n${printMatrix()}`);
}

/** Every cell of an Excel answer (e.g. the three-lists export), as one text. */
async function workbookText(r: Route, who: string): Promise<string> {
  const res = await request(http)
    .get(url(r, {}, {}))
    .set('authorization', `Bearer ${token[who]}`)
    .buffer(true)
    .parse((stream, done) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => done(null, Buffer.concat(chunks)));
    });
  const wb = new Workbook();
  await wb.xlsx.load(res.body as never);
  const cells: string[] = [];
  wb.eachSheet((ws) => ws.eachRow((row) => row.eachCell((c) => cells.push(String(c.text ?? '')))));
  return cells.join('|');
}

/**
 * Lists that are not paged, and why. Every other answer with `items` is a page: `{ total, items }`,
 * `?limit=&offset=` accepted (server/routes/api/paging.ts).
 */
const NOT_PAGED: Record<string, string> = {
  // a person's to-do list of open instances right now (the service caps it at 200 and drops
  // instances of shut-down units in memory, so an exact total needs that filter in SQL first)
  'GET /me/tasks': 'to-do list of the instances open now',
};

/** Paging conventions of a list answer. @returns a failure text, or undefined */
async function pagingProblem(r: Route, body: Json): Promise<string | undefined> {
  if (NOT_PAGED[keyOf(r)]) return undefined;
  const q = r.query ? ((z.toJSONSchema(r.query, { io: 'input', unrepresentable: 'any' }) as Json).properties as Json) ?? {} : {};
  if (typeof body.total !== 'number') return 'a list answer without `total` (use pageOf / { total, items })';
  if (!('limit' in q && 'offset' in q)) return 'a list without ?limit=&offset= (use pageQuery)';
  const params = pathParams(r, demo)!;
  const one = await request(http).get(url(r, params, { ...queryFor(r, demo), enterpriseId: demoId, limit: 1 })).set('authorization', `Bearer ${token.reg}`);
  const items = (one.body as Json).items as unknown[];
  if (one.status !== 200 || items.length > 1 || (one.body as Json).total !== body.total) return `?limit=1 gave ${one.status}, ${items?.length} items, total ${String((one.body as Json).total)} (expected ≤ 1 item, total ${String(body.total)})`;
  return undefined;
}

const DEMO_MARKERS = ['320411901', 'YH-DEMO-', '示范化工'];

// ───────────────────────────── the tests ─────────────────────────────

describe('the permission table and the routes', () => {
  test('the registry has routes, each with a known permission', () => {
    expect(ROUTES.length).toBeGreaterThan(5);
    for (const r of ROUTES) expect({ route: keyOf(r), known: r.permission in PERMISSIONS }).toEqual({ route: keyOf(r), known: true });
  });

  test('the regulator role appears in no write permission', () => {
    const writes = (Object.keys(PERMISSIONS) as Permission[]).filter(isWritePermission);
    expect(writes.length).toBeGreaterThan(0);
    expect(writes.filter((p) => (PERMISSIONS[p] as readonly string[]).includes('regulator'))).toEqual([]);
  });

  test('every route that is not a GET declares a write permission (so no regulator can reach it)', () => {
    expect(ROUTES.filter((r) => !isRead(r) && !isWritePermission(r.permission)).map(keyOf)).toEqual([]);
  });

  test('public routes (no token, no permission) are exactly the expected ones; without a token they answer, never 401 or 5xx', async () => {
    const pub = ALL_ROUTES.filter((r) => !isProtected(r));
    expect(pub.map(keyOf).sort()).toEqual(EXPECTED_PUBLIC);
    for (const r of pub) {
      const body = r.body ? sample(z.toJSONSchema(r.body, { io: 'input', unrepresentable: 'any' }) as Json, '', demo) : undefined;
      const res = await request(http)[r.method](`/api/v1${r.path}`).send((body ?? {}) as object);
      expect({ route: keyOf(r), status: res.status, unauthorized: res.status === 401, serverError: res.status >= 500 }).toEqual({ route: keyOf(r), status: res.status, unauthorized: false, serverError: false });
    }
  });

  test('every route has fixtures for its path parameters', () => {
    const missing = ROUTES.filter((r) => !hasFixtures(r)).map(keyOf);
    expect({ missingFixturesFor: missing }).toEqual({ missingFixturesFor: [] });
  });
});

describe('the matrix', () => {
  // reads first, writes after (a write may change what a later request finds); deletes last
  const order = (r: Route) => (isRead(r) ? 0 : r.method === 'delete' ? 2 : 1);
  // a route without fixtures fails 'every route has fixtures' (and the coverage test below), by name
  const routes = [...ROUTES].filter(hasFixtures).sort((a, b) => order(a) - order(b));

  test('no token → 401 on every route', async () => {
    for (const r of routes) {
      const { res, code } = await send(r, null, { fx: demo });
      record(r, 'anon', { status: res.status, code, perm: false, failure: res.status === 401 && code === 'unauthorized' ? undefined : `expected 401 unauthorized, got ${res.status} ${code}` });
    }
    assertNoFailures('anon');
  });

  test('a person of another enterprise (every staff role): 404 on our rows, empty lists, no write lands', async () => {
    const before = await snapshot(demoId);
    // the markers are there to be found: the demo plant's own Excel answers show them
    for (const r of routes.filter((x) => isRead(x) && !x.path.includes(':') && /export/.test(x.path))) {
      const text = await workbookText(r, 'enterprise_admin');
      expect({ route: keyOf(r), marked: DEMO_MARKERS.some((m) => text.includes(m)) }).toEqual({ route: keyOf(r), marked: true });
    }
    for (const r of routes) {
      const { res, code, body, perm } = await send(r, 'other', { fx: demo });
      const hasParams = namesRow(r);
      let failure: string | undefined;
      if (res.status >= 500) failure = `server error ${res.status}`;
      else if (perm || res.status === 401) failure = `refused by authentication/permission (${res.status}), though they hold every staff role`;
      else if (hasParams) {
        if (res.status !== 404) failure = `expected 404 for a row of another enterprise, got ${res.status} ${code}${code === 'invalid_input' ? ' (generated body invalid: add BODY_OVERRIDES)' : ''}`;
      } else if (isRead(r)) {
        if (res.status !== 200) failure = `expected 200, got ${res.status} ${code}`;
        else if (res.type === 'application/json') {
          const b = res.body as { total?: unknown; items?: unknown };
          const text = JSON.stringify(b);
          if (b.total !== undefined && b.total !== 0) failure = `list total ${String(b.total)} (expected 0)`;
          else if (Array.isArray(b.items) && b.items.length) failure = `list has ${b.items.length} items (expected none)`;
          else if (DEMO_MARKERS.some((m) => text.includes(m))) failure = `answer mentions the demo plant: ${text.slice(0, 200)}`;
        } else if (/spreadsheetml/.test(res.type)) {
          const text = await workbookText(r, 'other');
          if (DEMO_MARKERS.some((m) => text.includes(m))) failure = `the workbook holds rows of the demo plant: ${text.slice(0, 200)}`;
        }
      } else if (namesRows(body)) {
        if (res.status < 400) failure = `a write naming our rows succeeded (${res.status})`;
        else if (!failure) failure = await eachRowFieldRefused(r, body as Json);
        // a 400 invalid_input proves the isolation only when it names every row field we sent as the problem
        if (!failure && code === 'invalid_input' && !refusesEveryRowField(body, (res.body as Json).details)) failure = `generated body invalid, the isolation check proves nothing: add BODY_OVERRIDES (${JSON.stringify(body)} → ${JSON.stringify((res.body as Json).details)})`;
      }
      record(r, 'other', { status: res.status, code, perm, failure });
    }
    assertNoFailures('other');
    expect(await snapshot(demoId)).toEqual(before);
  });

  test('the regulator (scope: the demo plant) reads everything with ?enterpriseId=, writes nothing', async () => {
    const before = await snapshot(demoId);
    for (const r of routes) {
      const { res, code, perm } = await send(r, 'reg', { fx: demo, enterpriseId: demoId });
      let failure: string | undefined;
      if (res.status >= 500) failure = `server error ${res.status}`;
      else if (isRead(r) && (res.status < 200 || res.status >= 300)) failure = `a read was refused: ${res.status} ${code}`;
      else if (!isRead(r) && !perm) failure = `a write was not refused by the permission check: ${res.status} ${code}`;
      else if (isRead(r) && Array.isArray((res.body as Json)?.items)) failure = await pagingProblem(r, res.body as Json);
      record(r, 'reg', { status: res.status, code, perm, failure });
    }
    assertNoFailures('reg');
    expect(await snapshot(demoId)).toEqual(before);
  });

  test('the regulator cannot reach a plant outside the scope: its ids → 404, ?enterpriseId= of it → 404', async () => {
    const bad: string[] = [];
    for (const r of routes.filter(isRead)) {
      if (namesRow(r)) {
        const viaDemo = await send(r, 'reg', { fx: second, enterpriseId: demoId });
        if (viaDemo.res.status !== 404) bad.push(`${keyOf(r)} with the second plant's ids: ${viaDemo.res.status} ${viaDemo.code}`);
      }
      const direct = await send(r, 'reg', { fx: second, enterpriseId: secondId });
      if (r.enterpriseScoped !== false && direct.res.status !== 404) bad.push(`${keyOf(r)} ?enterpriseId=<second plant>: ${direct.res.status} ${direct.code}`);
    }
    expect(bad).toEqual([]);
  });

  test('a regulator of another plant asking for the demo plant: reads 404, writes 403', async () => {
    for (const r of routes) {
      const { res, code, perm } = await send(r, 'regOut', { fx: demo, enterpriseId: demoId });
      let failure: string | undefined;
      if (res.status >= 500) failure = `server error ${res.status}`;
      else if (isRead(r) && r.enterpriseScoped !== false && res.status !== 404) failure = `expected 404, got ${res.status} ${code}`;
      else if (!isRead(r) && !perm) failure = `a write was not refused by the permission check: ${res.status} ${code}`;
      record(r, 'reg-', { status: res.status, code, perm, failure });
    }
    assertNoFailures('reg-');
  });

  test('a demo person with every staff role, naming the rows of a second plant: 404, nothing there changes', async () => {
    const before = await snapshot(secondId);
    for (const r of routes.filter(namesRow)) {
      const { res, code, perm } = await send(r, 'cross', { fx: second });
      let failure: string | undefined;
      if (res.status !== 404) failure = `expected 404, got ${res.status} ${code}${code === 'invalid_input' ? ' (generated body invalid: add BODY_OVERRIDES)' : ''}`;
      // a route naming a row inside a row (extension of a hazard, shutdown of a unit): our parent, their child
      const names = [...r.path.matchAll(/:(\w+)/g)].map((m) => m[1]);
      if (!failure && names.length > 1) {
        const ours = pathParams(r, demo)!;
        const theirs = pathParams(r, second)!;
        const mixed = { ...theirs, [names[0]]: ours[names[0]] };
        const m = await send(r, 'cross', { fx: demo, params: mixed });
        if (m.res.status !== 404) failure = `our ${names[0]} with the second plant's ${names.slice(1).join(', ')}: expected 404, got ${m.res.status} ${m.code}`;
      }
      record(r, 'cross', { status: res.status, code, perm, failure });
    }
    assertNoFailures('cross');
    expect(await snapshot(secondId)).toEqual(before);
  });

  test('every role of the demo plant: without the permission → 403 forbidden (details.permission), with it → past the permission check', async () => {
    for (const r of routes) {
      for (const role of PERSON_ROLES) {
        const { res, code, perm } = await send(r, role, { fx: demo, enterpriseId: role === 'regulator' ? demoId : undefined });
        const allowed = can([role], r.permission);
        let failure: string | undefined;
        if (res.status >= 500) failure = `server error ${res.status}`;
        else if (res.status === 401) failure = 'unauthenticated';
        else if (!allowed && !perm) failure = `lacks ${r.permission} but got ${res.status} ${code}`;
        else if (allowed && perm) failure = `holds ${r.permission} but the registry refused`;
        record(r, role, { status: res.status, code, perm, failure });
      }
    }
    assertNoFailures(...PERSON_ROLES);
  });

  test('the matrix covers every route × every column', () => {
    for (const r of ROUTES) {
      const row = matrix.get(keyOf(r));
      const expected = COLUMNS.filter((c) => c !== 'cross' || namesRow(r));
      expect({ route: keyOf(r), columns: expected.filter((c) => row?.has(c)) }).toEqual({ route: keyOf(r), columns: expected });
    }
    if (process.env.PRINT_AUTHZ_MATRIX) console.log(printMatrix());
  });
});
