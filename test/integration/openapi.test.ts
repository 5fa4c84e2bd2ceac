/**
 * GET /api/v1/openapi.json: served without a token, a valid OpenAPI 3.1 document
 * (@apidevtools/swagger-parser), listing every route of buildApiRegistry() with its method,
 * summary, permission (x-permission, x-roles), parameters and request body — and its schemas
 * accept exactly what the routes accept: for each route with a JSON body, candidate bodies (a
 * valid sample, {}, each required field dropped, each field of the wrong type) are judged by the
 * document's schema (ajv, JSON Schema 2020-12) and by the route's zod schema, and must agree.
 */
import request from 'supertest';
import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv2020 from 'ajv/dist/2020';
import { z } from 'zod';
import { createTestSystem, type TestSystem } from '../helpers/system';
import { buildApiRegistry } from '../../server/routes/api/index';
import type { RouteSpec } from '../../server/routes/api/registry';
import { PERMISSIONS } from '../../server/domain/permissions';
import { sampleFromSchema, type Json } from '../helpers/schema-sample';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Route = RouteSpec<any, any, any>;
interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: Json;
}
interface Operation {
  summary?: string;
  operationId?: string;
  tags?: string[];
  security?: unknown[];
  'x-permission'?: string;
  'x-roles'?: string[];
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: Json }> };
  responses: Record<string, unknown>;
}

const ROUTES: Route[] = buildApiRegistry().routes;
const keyOf = (r: Route) => `${r.method.toUpperCase()} ${r.path}`;
const docPath = (r: Route) => r.path.replace(/:(\w+)/g, '{$1}');

let sys: TestSystem;
let doc: { openapi: string; info: Json; paths: Record<string, Record<string, Operation>>; components: Json };
let status: number;
let contentType: string;

beforeAll(async () => {
  sys = await createTestSystem({ seed: false });
  const res = await request(sys.app.callback()).get('/api/v1/openapi.json');
  status = res.status;
  contentType = String(res.headers['content-type']);
  doc = res.body;
}, 60_000);
afterAll(async () => {
  await sys?.close();
});

const op = (r: Route): Operation | undefined => doc.paths[docPath(r)]?.[r.method];

test('served without a token, as JSON', () => {
  expect(status).toBe(200);
  expect(contentType).toMatch(/^application\/json/);
  expect(doc.openapi).toBe('3.1.0');
});

test('the same document at /api/openapi.json, where the API is mounted too', async () => {
  const res = await request(sys.app.callback()).get('/api/openapi.json').expect(200);
  expect(res.body).toEqual(doc);
});

test('a valid OpenAPI 3.1 document (swagger-parser)', async () => {
  await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeTruthy();
});

test('the validator is not a rubber stamp: a broken copy is refused', async () => {
  const broken = structuredClone(doc) as unknown as { info: Json; paths: Record<string, Record<string, Json>> };
  delete broken.info.version;
  const first = Object.values(broken.paths)[0];
  Object.values(first)[0].responses = { '200': {} };
  await expect(SwaggerParser.validate(broken as never)).rejects.toThrow(/version|description/);
});

test('every route is in the document, and nothing else', () => {
  const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
  expect(documented.sort()).toEqual(ROUTES.map((r) => `${r.method.toUpperCase()} ${docPath(r)}`).sort());
});

test('method, summary, tags, permission and roles, security, a unique operationId', () => {
  const ids = new Set<string>();
  for (const r of ROUTES) {
    const o = op(r)!;
    expect({ route: keyOf(r), summary: o.summary, tags: o.tags, permission: o['x-permission'], roles: o['x-roles'] }).toEqual({
      route: keyOf(r),
      summary: r.summary,
      tags: r.tags,
      permission: r.permission,
      roles: r.permission ? [...PERMISSIONS[r.permission]] : undefined,
    });
    // `public: true` routes (the mini-program's login and binding) need no token
    expect({ route: keyOf(r), security: o.security }).toEqual({ route: keyOf(r), security: r.public ? [] : [{ bearer: [] }] });
    expect(ids.has(o.operationId!)).toBe(false);
    ids.add(o.operationId!);
    for (const code of ['400', '401', '403', '404']) expect(o.responses[code]).toBeDefined();
    expect(Object.keys(o.responses)).toContain(String(r.successStatus ?? 200));
  }
});

test('path parameters: every :name of the path, required, with the schema the route parses', () => {
  for (const r of ROUTES) {
    const names = [...r.path.matchAll(/:(\w+)/g)].map((m) => m[1]).sort();
    const inPath = (op(r)!.parameters ?? []).filter((p) => p.in === 'path');
    expect({ route: keyOf(r), names: inPath.map((p) => p.name).sort(), required: inPath.every((p) => p.required) }).toEqual({ route: keyOf(r), names, required: true });
    for (const p of inPath) {
      // a path parameter the route reads as a positive integer is documented as one
      const zodProp = r.params ? ((z.toJSONSchema(r.params, { io: 'input' }) as Json).properties as Record<string, Json>)[p.name] : undefined;
      if (zodProp) expect({ route: keyOf(r), p: p.name, schema: p.schema }).toEqual({ route: keyOf(r), p: p.name, schema: zodProp });
    }
  }
});

test('query parameters: every field of the route’s query schema, required exactly when the route requires it', () => {
  for (const r of ROUTES) {
    const inQuery = new Map((op(r)!.parameters ?? []).filter((p) => p.in === 'query').map((p) => [p.name, p]));
    if (r.enterpriseScoped !== false && !r.public) expect({ route: keyOf(r), enterpriseId: inQuery.has('enterpriseId') }).toEqual({ route: keyOf(r), enterpriseId: true });
    if (!r.query) continue;
    const s = z.toJSONSchema(r.query, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, unknown>; required?: string[] };
    for (const name of Object.keys(s.properties ?? {})) {
      const p = inQuery.get(name);
      expect({ route: keyOf(r), name, documented: !!p, required: p?.required ?? false }).toEqual({ route: keyOf(r), name, documented: true, required: (s.required ?? []).includes(name) });
      expect({ route: keyOf(r), name, schema: p?.schema }).toEqual({ route: keyOf(r), name, schema: (s.properties ?? {})[name] });
    }
  }
});

test('GET /alerts documents its filters and paging', () => {
  const names = (op(ROUTES.find((r) => keyOf(r) === 'GET /alerts')!)!.parameters ?? []).map((p) => p.name);
  expect(names).toEqual(expect.arrayContaining(['state', 'kind', 'level', 'minLevel', 'from', 'to', 'limit', 'offset', 'enterpriseId']));
});

test('request bodies: JSON routes carry the route’s schema; uploads are multipart', () => {
  for (const r of ROUTES) {
    const body = op(r)!.requestBody;
    if (r.multipart) {
      expect({ route: keyOf(r), type: Object.keys(body?.content ?? {}) }).toEqual({ route: keyOf(r), type: ['multipart/form-data'] });
      const props = (body!.content['multipart/form-data'].schema.properties ?? {}) as Record<string, Json>;
      expect(props[r.multipart.field]).toMatchObject({ type: 'array', maxItems: r.multipart.maxFiles });
    } else if (r.body) {
      expect({ route: keyOf(r), type: Object.keys(body?.content ?? {}), required: body?.required }).toEqual({ route: keyOf(r), type: ['application/json'], required: true });
    } else {
      expect({ route: keyOf(r), body }).toEqual({ route: keyOf(r), body: undefined });
    }
  }
});

test('POST /alerts/{id}/handle requires note (the example of the issue)', () => {
  const schema = op(ROUTES.find((r) => keyOf(r) === 'POST /alerts/:id/handle')!)!.requestBody!.content['application/json'].schema;
  expect(schema.required).toEqual(['note']);
  expect((schema.properties as Json).note).toMatchObject({ type: 'string', maxLength: 1000 });
});

/** Candidate bodies: a valid sample, {}, each required field dropped, each field with a value of the wrong type. */
function candidates(schema: Json): Array<{ what: string; body: unknown }> {
  const sample = sampleFromSchema(schema) as Json;
  const out: Array<{ what: string; body: unknown }> = [
    { what: 'sample', body: sample },
    { what: '{}', body: {} },
    { what: 'not an object', body: ['x'] },
  ];
  for (const k of (schema.required ?? []) as string[]) {
    const { [k]: _drop, ...rest } = sample;
    out.push({ what: `without ${k}`, body: rest });
  }
  for (const [k, v] of Object.entries(sample)) {
    const wrong = typeof v === 'string' ? 12345 : typeof v === 'number' ? '不是数字' : Array.isArray(v) ? '不是数组' : typeof v === 'boolean' ? 'yes' : 7;
    out.push({ what: `${k} of the wrong type`, body: { ...sample, [k]: wrong } });
  }
  return out;
}

test('the document accepts exactly the bodies the route accepts (ajv on the document vs the route’s zod schema)', () => {
  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
  const disagreements: string[] = [];
  let compared = 0;
  for (const r of ROUTES.filter((x) => x.body)) {
    const schema = op(r)!.requestBody!.content['application/json'].schema;
    const validate = ajv.compile(schema);
    for (const c of candidates(schema)) {
      const byDoc = validate(c.body);
      const byRoute = r.body!.safeParse(c.body).success;
      compared++;
      if (byDoc !== byRoute) disagreements.push(`${keyOf(r)} ${c.what}: document says ${byDoc ? 'valid' : 'invalid'}, route says ${byRoute ? 'valid' : 'invalid'} (${JSON.stringify(c.body).slice(0, 160)})`);
    }
  }
  expect(compared).toBeGreaterThan(20);
  expect(disagreements).toEqual([]);
});

test('the comparison can fail: a schema that drops a required field is caught', () => {
  const route = z.object({ note: z.string().max(1000) });
  const documented = z.toJSONSchema(z.object({ note: z.string().max(1000).optional() }), { io: 'input' }) as Json;
  const validate = new Ajv2020({ strict: false }).compile(documented);
  expect(validate({})).toBe(true);
  expect(route.safeParse({}).success).toBe(false);
});
