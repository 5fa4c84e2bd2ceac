/**
 * GET /api/v1/alerts: who sees which alert, paging and filters, evaluated in SQL.
 *
 * Regression: listAlertsFor used to fetch at most 2,000 alerts for a non-oversight person and
 * filter them in memory, so `total` stopped at what fitted in 2,000 rows and later pages were
 * empty. Here 2,150 alerts are addressed to p16 (仪表工, frontline) among 2,400 others, and the
 * numbers must be exact.
 *
 * The demo plant's own alerts are not created (no cycle is run): every alert here is inserted by
 * the test, so every expected number is known.
 */
import request from 'supertest';
import type { Server } from 'node:http';
import { createTestSystem, T0, type TestSystem } from '../helpers/system';
import type { Prisma } from '../../server/db';

let sys: TestSystem;
let http: Server;
const tokens = new Map<string, string>();
const tok = async (code: string) => {
  if (!tokens.has(code)) tokens.set(code, await sys.token(code));
  return tokens.get(code)!;
};
const list = async (code: string, query: string) => request(http).get(`/api/v1/alerts?${query}`).set('authorization', `Bearer ${await tok(code)}`);
let pid: Record<string, number>;

/** 2026-11-30 local (Asia/Shanghai) ends at 2026-11-30T16:00Z. */
const LAST_OF_DAY = new Date('2026-11-30T15:59:59.999Z');
const NEXT_DAY = new Date('2026-11-30T16:00:00.000Z');

function alertRow(i: number, a: { levels: number[][]; level: number; state?: string; kind?: string; createdAt?: Date; subjectId?: number }): Prisma.AlertCreateManyInput {
  const state = a.state ?? 'open';
  return {
    enterpriseId: sys.enterpriseId!,
    kind: a.kind ?? 'task_overdue',
    subjectType: 'check_task',
    subjectId: a.subjectId ?? 100_000 + i,
    openKey: null,
    state,
    level: a.level,
    title: `测试预警 ${i}`,
    detail: {},
    policySnapshot: {},
    recipients: { levels: a.levels, unresolved: [] },
    conditionStartAt: T0,
    createdAt: a.createdAt ?? T0,
    clearedAt: state === 'cleared' ? T0 : null,
  };
}

beforeAll(async () => {
  sys = await createTestSystem({ now: T0 });
  http = sys.app.listen(0, '127.0.0.1');
  pid = Object.fromEntries(await Promise.all(['p01', 'p03', 'p05', 'p06', 'p07', 'p08', 'p11', 'p16'].map(async (c) => [c, await sys.person(c)] as const)));
  const rows: Prisma.AlertCreateManyInput[] = [];
  let i = 0;
  // 2,400 alerts for p11 (氯化操作工) only: noise p16 must not see
  for (let k = 0; k < 2400; k++) rows.push(alertRow(i++, { levels: [[pid.p11]], level: 1 }));
  // 2,000 for p16 at level 1, interleaved after the noise so the newest 2,000 rows are not all p16's
  for (let k = 0; k < 2000; k++) rows.push(alertRow(i++, { levels: [[pid.p16], [pid.p05]], level: 1 }));
  // 100 where p16 is named at level 2, reached (visible) …
  for (let k = 0; k < 100; k++) rows.push(alertRow(i++, { levels: [[pid.p05], [pid.p16]], level: 2, kind: 'hazard_overdue' }));
  // … and 60 where level 2 is not reached yet (not visible to p16), 0 = not notified yet, level 1 is looked at
  for (let k = 0; k < 30; k++) rows.push(alertRow(i++, { levels: [[pid.p05], [pid.p16]], level: 1 }));
  for (let k = 0; k < 30; k++) rows.push(alertRow(i++, { levels: [[pid.p05], [pid.p16]], level: 0 }));
  // 50 for p16 at level 0: level 1 counts as addressed before the first firing
  for (let k = 0; k < 50; k++) rows.push(alertRow(i++, { levels: [[pid.p16]], level: 0, kind: 'abnormal_reading' }));
  // states: 10 acknowledged, 20 cleared for p16
  for (let k = 0; k < 10; k++) rows.push(alertRow(i++, { levels: [[pid.p16]], level: 1, state: 'acknowledged' }));
  for (let k = 0; k < 20; k++) rows.push(alertRow(i++, { levels: [[pid.p16]], level: 1, state: 'cleared' }));
  // dates around the end of the local day 2026-11-30, for p07 (罐区操作工) whose post leader is p06
  rows.push(alertRow(i++, { levels: [[pid.p07]], level: 1, createdAt: LAST_OF_DAY, subjectId: 7 }));
  rows.push(alertRow(i++, { levels: [[pid.p07]], level: 1, createdAt: NEXT_DAY, subjectId: 7 }));
  rows.push(alertRow(i++, { levels: [[pid.p07]], level: 1, createdAt: new Date('2026-11-29T15:59:59.999Z'), subjectId: 8 }));
  await sys.rt.prisma.alert.createMany({ data: rows });
}, 120_000);
afterAll(async () => {
  await new Promise((r) => http?.close(r));
  await sys?.close();
});

describe('a frontline person sees what is addressed to them, counted exactly (beyond 2,000)', () => {
  // p16: 2,000 + 100 (level 2 reached) + 50 (level 0) + 10 acknowledged = 2,160 not cleared; 20 cleared
  it('total and pages', async () => {
    const first = await list('p16', 'limit=200');
    expect(first.status).toBe(200);
    expect(first.body.total).toBe(2160);
    expect(first.body.items).toHaveLength(200);
    const ids = first.body.items.map((a: { id: number }) => a.id);
    expect([...ids].sort((a, b) => b - a)).toEqual(ids); // newest first
    const last = await list('p16', 'limit=200&offset=2100');
    expect(last.body.total).toBe(2160);
    expect(last.body.items).toHaveLength(60);
    const beyond = await list('p16', 'limit=50&offset=2160');
    expect(beyond.body).toEqual({ total: 2160, items: [] });
  });

  it('every item is addressed to p16 at a level already reached (checked on the rows)', async () => {
    const all = [];
    for (let offset = 0; ; offset += 200) {
      const r = await list('p16', `limit=200&offset=${offset}&state=all`);
      all.push(...r.body.items);
      if (r.body.items.length < 200) break;
    }
    expect(all).toHaveLength(2180);
    expect(new Set(all.map((a: { id: number }) => a.id)).size).toBe(2180);
    const rows = await sys.rt.prisma.alert.findMany({ where: { id: { in: all.map((a: { id: number }) => a.id) } } });
    for (const a of rows) {
      const levels = (a.recipients as { levels: number[][] }).levels;
      expect(levels.slice(0, Math.max(1, a.level)).flat()).toContain(pid.p16);
    }
  });

  it('state filters', async () => {
    expect((await list('p16', 'state=acknowledged')).body.total).toBe(10);
    expect((await list('p16', 'state=unacknowledged')).body.total).toBe(2150);
    expect((await list('p16', 'state=cleared')).body.total).toBe(20);
    expect((await list('p16', 'state=all')).body.total).toBe(2180);
  });

  it('kind, level and minLevel filters', async () => {
    expect((await list('p16', 'kind=hazard_overdue')).body.total).toBe(100);
    expect((await list('p16', 'kind=abnormal_reading&level=0')).body.total).toBe(50);
    expect((await list('p16', 'level=2')).body.total).toBe(100);
    expect((await list('p16', 'minLevel=1')).body.total).toBe(2110);
    const items = (await list('p16', 'kind=hazard_overdue&limit=5')).body.items;
    expect(items.every((a: { kind: string; level: number }) => a.kind === 'hazard_overdue' && a.level === 2)).toBe(true);
  });

  it('p11 sees its own 2,400 and none of p16’s', async () => {
    expect((await list('p11', 'limit=1')).body.total).toBe(2400);
  });
});

describe('superiors and oversight', () => {
  it('a post leader (p06) sees the alerts of the people of the posts they lead (p07), not others', async () => {
    const r = await list('p06', 'state=all&limit=200');
    expect(r.body.total).toBe(3);
    expect(r.body.items.map((a: { subjectId: number }) => a.subjectId).sort()).toEqual([7, 7, 8]);
  });

  it('a department head (p05, 罐区) sees alerts naming them at a level reached, and those of their department’s people (p07)', async () => {
    // p05 is named at level 2 of the 2,000 (not reached: level 1) → not visible; at level 1 of 100 + 30 + 30 → visible
    const r = await list('p05', 'state=all&limit=1');
    expect(r.body.total).toBe(160 + 3);
  });

  it('an oversight role (p03) sees every alert of the enterprise', async () => {
    const all = await sys.rt.prisma.alert.count({ where: { enterpriseId: sys.enterpriseId! } });
    expect((await list('p03', 'state=all&limit=1')).body.total).toBe(all);
    expect((await list('p03', 'state=cleared&limit=1')).body.total).toBe(20);
  });
});

describe('date range on when the alert was raised, in the enterprise’s local days', () => {
  it('to=2026-11-30 ends at local midnight (16:00Z), from is inclusive from local 00:00', async () => {
    const subj = (r: request.Response) => r.body.items.map((a: { createdAt: string }) => a.createdAt).sort();
    expect(subj(await list('p06', 'state=all&from=2026-11-30&to=2026-11-30'))).toEqual([LAST_OF_DAY.toISOString()]);
    expect(subj(await list('p06', 'state=all&from=2026-12-01'))).toEqual([NEXT_DAY.toISOString()]);
    expect(subj(await list('p06', 'state=all&to=2026-11-29'))).toEqual(['2026-11-29T15:59:59.999Z']);
    expect((await list('p06', 'state=all&from=2026-11-29&to=2026-12-01')).body.total).toBe(3);
  });

  it('subject filter', async () => {
    expect((await list('p06', 'state=all&subjectType=check_task&subjectId=7')).body.total).toBe(2);
    expect((await list('p06', 'state=all&subjectType=hazard&subjectId=7')).body.total).toBe(0);
  });

  it('bad filters are a 400 with a code', async () => {
    const r1 = await list('p06', 'from=2026-12-02&to=2026-12-01');
    expect(r1.status).toBe(400);
    expect(r1.body.code).toBe('invalid_date_range');
    for (const q of ['from=30.11.2026', 'kind=fire', 'state=open,cleared', 'level=-1', 'limit=201', 'offset=-1', 'subjectId=x']) {
      const r = await list('p06', q);
      expect({ q, status: r.status, code: r.body.code }).toEqual({ q, status: 400, code: 'invalid_input' });
    }
  });
});
