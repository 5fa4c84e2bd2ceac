/**
 * The demo plant loader: puts one realistic (fictional) enterprise — its three lists (三清单),
 * people with chat identities, a few open hazards, chat groups and the default escalation
 * policies — into the database, so a fresh install has live conditions to escalate.
 *
 * Data: prisma/demo-enterprise.json (a copy of ../shared/data/demo-enterprise.json; CI has no
 * ../shared). Its shape is `demoDataSchema` below; `readDemoData()` parses and validates it and adds
 * DEMO_SUPPLEMENT (facts the file does not state). Times in the file are offsets from `now`.
 *
 * API
 *   loadDemoPlant(prisma, { now, data? }) → { enterpriseId, created, summary }
 *   isDatabaseEmpty(prisma)               → true when there is no Enterprise row
 *   readDemoData(file?) / parseDemoData(raw) → DemoData, or DemoDataError listing every problem
 *
 * Rules (sources: the seed task brief, domain.md, design.md, schema.prisma comments):
 *  - Idempotent. Every row is keyed by its natural key (`@@unique([enterpriseId, code])`, the
 *    file's `key` as `code`; risk events `<unit key>-E<n>`, hazards `YH-DEMO-<n>`, n 1-based).
 *    A row is updated only when one of its fields differs from the file, so loading twice leaves
 *    every row — `updatedAt` included — as it was.
 *  - One transaction: a failure leaves nothing half-written (the enterprise is created in it too).
 *  - The enterprise is found by `companyCode`. When it exists (created: false): its name and park
 *    follow the file, its time zone is kept (changing a live plant's zone would move every
 *    deadline: an admin decision), the lists are upserted, and hazards are never touched; chat
 *    group members missing from a group are added, none are removed; escalation policies that
 *    exist are left alone (admins may have edited them) and missing kinds are added.
 *  - Check tasks: `taskStartTime` and `activeFrom` are set on creation only (see taskStartAnchor;
 *    activeFrom = now, so no missed checks are invented for the time before the plant was loaded).
 *  - Hazards (created with the enterprise only): reportedAt = now + reportedOffsetDays × 24 h;
 *    foundAt = now + foundOffsetDays × 24 h, else reportedAt; deadlineDate = the LOCAL date of
 *    now + deadlineOffsetDays × 24 h, deadlineAt = the end of that local day (domain.md: a
 *    date-only deadline ends at the end of that local day); 'rectifying' ones are confirmed at
 *    reportedAt; nextCheckAt = now so the engine evaluates them on its first tick. Transitions
 *    'report' (by the reporter) and, for rectifying ones, 'confirm' (by the acceptor — the file
 *    names no confirmer) are logged.
 *  - Department heads, person roles: see deriveOrganisation.
 *  - The demo regulator (DEMO_REGULATOR, unless `regulator: false`): the park authority as its own
 *    organisation (an Enterprise row, companyCode PARK-320411), its 园区监管员 r01 with the role
 *    regulator, and a RegulatorScope row letting r01 read the loaded plant. Synced like the lists
 *    (created when missing, fields kept in step, nothing removed).
 */
import { existsSync, readFileSync } from 'fs';
import path from 'path';
import { z } from 'zod';
import { Prisma, sameStoredValue, type PrismaClient } from '../server/db';
import { DEFAULT_POLICIES, ALERT_KINDS } from '../server/domain/escalation';
import { PERSON_ROLES, type PersonRole } from '../server/domain/roles';
import { taskStartAnchor, validateSchedule, type CycleUnit } from '../server/domain/cycles';
import { assertTimeZone, endOfLocalDay, localDateOf } from '../server/domain/time';

/** The demo file shipped with the repo. */
// compiled to dist/prisma/, the JSON stays in prisma/: look in both places
export const DEMO_DATA_PATH = [path.join(__dirname, 'demo-enterprise.json'), path.resolve(__dirname, '..', '..', 'prisma', 'demo-enterprise.json')].find((f) =>
  existsSync(f),
) ?? path.join(__dirname, 'demo-enterprise.json');

const DAY_MS = 86_400_000;

// ───────────────────────────── the file's shape ─────────────────────────────

const key = z.string().min(1).max(64);
const text = z.string().min(1);
const hhmm = z.string().regex(/^\d{2}:\d{2}$/, "expected 'HH:mm'");
const likelihoodOrSeverity = z.number().int().min(1).max(5);
const cycleUnit = z.enum(['小时', '天', '月', '年']);
const checkMeans = z.enum(['拍照', '现场确认']);

const measureTaskSchema = z.strictObject({
  key,
  content: text,
  /** assigned post (and/or person) */
  post: key.optional(),
  person: key.optional(),
  cycle: z.number().int().positive(),
  unit: cycleUnit,
  /** daily work window ['HH:mm', 'HH:mm' | '24:00'], hourly tasks only */
  work: z.tuple([hhmm, hhmm]).optional(),
  workDayType: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(0),
  workType: z.literal(0).default(0),
  means: checkMeans,
});

const measureSchema = z.strictObject({
  key,
  desc: text,
  /** 管控方式 [1 自动化监控, 2 隐患排查] */
  dataSrc: z.union([z.literal(1), z.literal(2)]),
  /** [1 工程技术, 2 维护保养, 3 操作行为, 4 应急措施] */
  classify1: z.number().int().min(1).max(4),
  /** "a-b" sub-code (domain.md) */
  classify2: z.string().regex(/^[1-4]-[1-5]$/, "expected a sub-code like '1-4'"),
  classify3: z.string().optional(),
  checkContent: z.string().optional(),
  /** key parameter and its safe range */
  parameter: z
    .strictObject({ name: text, unit: z.string().optional(), min: z.number().finite().optional(), max: z.number().finite().optional() })
    .optional(),
  tasks: z.array(measureTaskSchema).default([]),
});

const eventSchema = z.strictObject({
  name: text,
  description: z.string().optional(),
  L0: likelihoodOrSeverity,
  S0: likelihoodOrSeverity,
  L: likelihoodOrSeverity,
  S: likelihoodOrSeverity,
  measures: z.array(measureSchema).default([]),
});

const unitSchema = z.strictObject({ key, name: text, dept: key, head: key, events: z.array(eventSchema).default([]) });

const riskObjectSchema = z.strictObject({
  key,
  name: text,
  type: text,
  majorHazardSource: key.optional(),
  dept: key,
  units: z.array(unitSchema).default([]),
});

const baobaoRoles = ['principal', 'technical', 'operational'] as const;
/** national workType of a 包保 task per responsible role */
const BAOBAO_WORK_TYPE = { principal: 1, technical: 2, operational: 3 } as const;
/** highest item number of the national 包保 checklist per role (domain.md: 1–9, 1–9, 1–10) */
const BAOBAO_MAX_TASK_NUM = { principal: 9, technical: 9, operational: 10 } as const;

const baobaoTaskSchema = z.strictObject({
  key,
  majorHazardSource: key,
  role: z.enum(baobaoRoles),
  person: key,
  taskNum: z.number().int().min(1).max(10),
  content: text,
  cycle: z.number().int().positive(),
  unit: cycleUnit,
  workType: z.union([z.literal(1), z.literal(2), z.literal(3)]),
  /** 包保 tasks are confirmed on site, every day (brief) */
  means: checkMeans.default('现场确认'),
  workDayType: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(0),
});

const hazardSchema = z.strictObject({
  name: text,
  description: z.string().optional(),
  location: z.string().optional(),
  riskUnit: key,
  measure: key.optional(),
  /** [0 一般, 1 重大] */
  dangerLevel: z.union([z.literal(0), z.literal(1)]),
  /** 1..20: which 重大隐患判定标准 situation applies (forces dangerLevel 1) */
  majorCriterion: z.number().int().min(1).max(20).optional(),
  dangerSrc: z.number().int().min(1).max(10),
  enforcementId: z.string().min(1).optional(),
  hazardDangerType: z.number().int().min(1).max(8),
  dangerManageType: z.union([z.literal(0), z.literal(1)]),
  reporter: key,
  rectifier: key,
  acceptor: key,
  foundOffsetDays: z.number().finite().optional(),
  reportedOffsetDays: z.number().finite(),
  deadlineOffsetDays: z.number().finite(),
  state: z.enum(['reported', 'rectifying']),
  /** what the hazard demonstrates; not stored */
  note: z.string().optional(),
});

const chatGroupSchema = z.strictObject({ key, name: text, members: z.array(key) });

/**
 * Shape of prisma/demo-enterprise.json. Keys (`key`) are codes: unique per kind (check tasks and
 * 包保 tasks share one code space, as do WeCom and DingTalk groups) and referenced by other
 * entries. Column lengths are left to the database (a too-long value fails the whole load).
 * Two fields are not in the shared file and are supplied by DEMO_SUPPLEMENT: `departments[].headPost`
 * and `people[].roles`.
 */
const demoDataObject = z.strictObject({
  _about: z.string().optional(),
  enterprise: z.strictObject({
    name: text,
    /** 9-digit 危化品登记 code (domain.md) */
    companyCode: z.string().regex(/^\d{9}$/, 'expected the 9-digit 危化品登记 code'),
    timezone: z
      .string()
      .default('Asia/Shanghai')
      .refine(
        (tz) => {
          try {
            assertTimeZone(tz);
            return true;
          } catch {
            return false;
          }
        },
        { message: 'unknown IANA time zone' },
      ),
    park: z.string().optional(),
  }),
  departments: z.array(
    z.strictObject({
      key,
      name: text,
      parent: key.optional(),
      /** the post whose holder heads the department (default: derived, see deriveOrganisation) */
      headPost: key.optional(),
    }),
  ),
  posts: z.array(z.strictObject({ key, name: text, dept: key.optional(), leader: key.optional() })),
  people: z.array(
    z.strictObject({
      key,
      name: text,
      post: key.optional(),
      mobile: z.string().optional(),
      wecomUserId: z.string().optional(),
      dingtalkUserId: z.string().optional(),
      wechatOpenId: z.string().optional(),
      /** explicit roles (default: derived, see deriveOrganisation) */
      roles: z.array(z.enum(PERSON_ROLES)).min(1).optional(),
    }),
  ),
  majorHazardSources: z.array(
    z.strictObject({
      key,
      name: text,
      hazardCode: text,
      level: z.number().int().min(1).max(4),
      rValue: z.number().finite().min(0).optional(),
      principal: key,
      technical: key,
      operational: key,
    }),
  ),
  riskObjects: z.array(riskObjectSchema),
  baobaoTasks: z.array(baobaoTaskSchema).default([]),
  hazards: z.array(hazardSchema).default([]),
  chat: z
    .strictObject({ wecomGroups: z.array(chatGroupSchema).default([]), dingtalkGroups: z.array(chatGroupSchema).default([]) })
    .default({ wecomGroups: [], dingtalkGroups: [] }),
});

/** The validated file (defaults filled in). */
export type DemoData = z.output<typeof demoDataObject>;

/** Cross-entry rules: unique keys, known references, consistent 包保 assignments, valid schedules. */
function checkReferences(d: DemoData, ctx: z.RefinementCtx<DemoData>): void {
  const issue = (p: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path: p, message });
  const keySet = (items: { key: string }[], p: string, what: string, seen = new Set<string>()) => {
    items.forEach((it, i) => {
      if (seen.has(it.key)) issue([p, i, 'key'], `duplicate ${what} key '${it.key}'`);
      seen.add(it.key);
    });
    return seen;
  };
  const depts = keySet(d.departments, 'departments', 'department');
  const posts = keySet(d.posts, 'posts', 'post');
  const people = keySet(d.people, 'people', 'person');
  const mhs = keySet(d.majorHazardSources, 'majorHazardSources', 'major hazard source');
  keySet(d.riskObjects, 'riskObjects', 'risk object');
  const ref = (set: Set<string>, v: string | undefined, p: (string | number)[], what: string) => {
    if (v !== undefined && !set.has(v)) issue(p, `unknown ${what} '${v}'`);
  };

  d.departments.forEach((x, i) => {
    ref(depts, x.parent, ['departments', i, 'parent'], 'department');
    ref(posts, x.headPost, ['departments', i, 'headPost'], 'post');
  });
  d.posts.forEach((x, i) => {
    ref(depts, x.dept, ['posts', i, 'dept'], 'department');
    ref(posts, x.leader, ['posts', i, 'leader'], 'post');
    if (x.leader === x.key) issue(['posts', i, 'leader'], 'a post cannot lead itself');
  });
  d.people.forEach((x, i) => ref(posts, x.post, ['people', i, 'post'], 'post'));
  d.majorHazardSources.forEach((x, i) => {
    for (const r of baobaoRoles) ref(people, x[r], ['majorHazardSources', i, r], 'person');
  });

  const units = new Set<string>();
  const measures = new Set<string>();
  const tasks = new Set<string>();
  const measuresOfUnit = new Map<string, Set<string>>();
  const scheduleProblems = (p: (string | number)[], t: { cycle: number; unit: CycleUnit; work?: [string, string]; workDayType: number }) => {
    const problems = validateSchedule({
      checkCycle: t.cycle,
      checkCycleUnit: t.unit,
      taskStartTime: new Date(0),
      workStartTime: t.work?.[0],
      workEndTime: t.work?.[1],
      workDayType: t.workDayType as 0 | 1 | 2,
    });
    for (const m of problems) issue(p, m);
  };
  d.riskObjects.forEach((o, oi) => {
    const po = ['riskObjects', oi];
    ref(mhs, o.majorHazardSource, [...po, 'majorHazardSource'], 'major hazard source');
    ref(depts, o.dept, [...po, 'dept'], 'department');
    o.units.forEach((u, ui) => {
      const pu = [...po, 'units', ui];
      if (units.has(u.key)) issue([...pu, 'key'], `duplicate risk unit key '${u.key}'`);
      units.add(u.key);
      const own = new Set<string>();
      measuresOfUnit.set(u.key, own);
      ref(depts, u.dept, [...pu, 'dept'], 'department');
      ref(people, u.head, [...pu, 'head'], 'person');
      u.events.forEach((e, ei) => {
        e.measures.forEach((m, mi) => {
          const pm = [...pu, 'events', ei, 'measures', mi];
          if (measures.has(m.key)) issue([...pm, 'key'], `duplicate control measure key '${m.key}'`);
          measures.add(m.key);
          own.add(m.key);
          const prm = m.parameter;
          if (prm?.min !== undefined && prm.max !== undefined && prm.min > prm.max) issue([...pm, 'parameter'], 'min is above max');
          m.tasks.forEach((t, ti) => {
            const pt = [...pm, 'tasks', ti];
            if (tasks.has(t.key)) issue([...pt, 'key'], `duplicate check task key '${t.key}'`);
            tasks.add(t.key);
            if (t.post === undefined && t.person === undefined) issue(pt, 'a check task needs a post or a person');
            ref(posts, t.post, [...pt, 'post'], 'post');
            ref(people, t.person, [...pt, 'person'], 'person');
            scheduleProblems(pt, t);
          });
        });
      });
    });
  });

  d.baobaoTasks.forEach((t, i) => {
    const pt = ['baobaoTasks', i];
    if (tasks.has(t.key)) issue([...pt, 'key'], `duplicate check task key '${t.key}'`);
    tasks.add(t.key);
    ref(people, t.person, [...pt, 'person'], 'person');
    const source = d.majorHazardSources.find((m) => m.key === t.majorHazardSource);
    if (!source) issue([...pt, 'majorHazardSource'], `unknown major hazard source '${t.majorHazardSource}'`);
    else if (source[t.role] !== t.person)
      issue([...pt, 'person'], `'${t.person}' is not the ${t.role} responsible person of ${source.key} (that is '${source[t.role]}')`);
    if (t.workType !== BAOBAO_WORK_TYPE[t.role]) issue([...pt, 'workType'], `workType of a ${t.role} task is ${BAOBAO_WORK_TYPE[t.role]}`);
    if (t.taskNum > BAOBAO_MAX_TASK_NUM[t.role]) issue([...pt, 'taskNum'], `the ${t.role} checklist has items 1–${BAOBAO_MAX_TASK_NUM[t.role]}`);
    scheduleProblems(pt, t);
  });

  d.hazards.forEach((h, i) => {
    const ph = ['hazards', i];
    if (!units.has(h.riskUnit)) issue([...ph, 'riskUnit'], `unknown risk unit '${h.riskUnit}'`);
    else if (h.measure !== undefined && !measuresOfUnit.get(h.riskUnit)?.has(h.measure))
      issue([...ph, 'measure'], measures.has(h.measure) ? `control measure '${h.measure}' does not belong to risk unit '${h.riskUnit}'` : `unknown control measure '${h.measure}'`);
    for (const r of ['reporter', 'rectifier', 'acceptor'] as const) ref(people, h[r], [...ph, r], 'person');
    if (h.majorCriterion !== undefined && h.dangerLevel !== 1) issue([...ph, 'dangerLevel'], 'a hazard matching a 重大隐患 criterion is dangerLevel 1');
    if (h.foundOffsetDays !== undefined && h.foundOffsetDays > h.reportedOffsetDays) issue([...ph, 'foundOffsetDays'], 'found after it was reported');
    if (h.enforcementId !== undefined && h.dangerSrc !== 10) issue([...ph, 'enforcementId'], 'an enforcementId (执法编号) belongs to dangerSrc 10 (government inspection)');
  });

  const groups = new Set<string>();
  (['wecomGroups', 'dingtalkGroups'] as const).forEach((kind) =>
    d.chat[kind].forEach((g, i) => {
      if (groups.has(g.key)) issue(['chat', kind, i, 'key'], `duplicate chat group key '${g.key}'`);
      groups.add(g.key);
      g.members.forEach((m, mi) => ref(people, m, ['chat', kind, i, 'members', mi], 'person'));
    }),
  );
}

/** The file's schema: demoDataObject's shape plus the cross-entry rules of checkReferences. */
export const demoDataSchema = demoDataObject.superRefine(checkReferences);

/** The demo data file is unreadable or invalid; `issues` lists every problem as "path: message". */
export class DemoDataError extends Error {
  constructor(
    public readonly source: string,
    public readonly issues: string[],
  ) {
    super(`invalid demo data (${source}):\n  ${issues.join('\n  ')}`);
    this.name = 'DemoDataError';
  }
}

function formatPath(p: readonly PropertyKey[]): string {
  let out = '';
  for (const s of p) out += typeof s === 'number' ? `[${s}]` : out === '' ? String(s) : `.${String(s)}`;
  return out || '(root)';
}

/** Validates parsed JSON against demoDataSchema. @throws DemoDataError listing every problem. */
export function parseDemoData(raw: unknown, source = 'data'): DemoData {
  const r = demoDataSchema.safeParse(raw);
  if (!r.success) throw new DemoDataError(source, r.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`));
  return r.data;
}

/**
 * What the shared demo file does not say, from the seed brief. Applied by readDemoData to entries
 * that exist in the file and have no value of their own.
 *  - headPost: the 安全环保部 has two posts without a leader (安全员, 安全总监), so the derivation
 *    is ambiguous — its head is the 安全总监; the 生产部 has no post at all — its head is the
 *    生产副总经理 (whose post has no department).
 *  - roles: the enterprise-level people (主要负责人 + admin, 技术负责人, 安全总监, 安全员).
 */
export const DEMO_SUPPLEMENT: {
  headPosts: Record<string, string>;
  roles: Record<string, PersonRole[]>;
} = {
  headPosts: { SAFE: 'SAFETY_DIRECTOR', PROD: 'VP_PROD' },
  roles: {
    p01: ['principal', 'enterprise_admin'],
    p02: ['technical_head'],
    p03: ['safety_director', 'safety_dept'],
    p04: ['safety_dept'],
  },
};

/**
 * The demo's regulator (issue #3: "a regulator role that reads several enterprises but writes
 * nothing"): the park's safety authority, kept as its own organisation so its people belong to no
 * plant, and one 园区监管员 whose scope is the demo plant. Not in the shared demo file: a plant's
 * data does not name who regulates it. More enterprises: `npm run regulator -- add r01 <code…>`.
 */
export const DEMO_REGULATOR = {
  authority: { companyCode: 'PARK-320411', name: '常州新北区化工园区安全监管局（演示）' },
  person: { code: 'r01', name: '园区监管员', mobile: '13800000099' },
} as const;

/**
 * Reads, validates and supplements a demo data file (default: prisma/demo-enterprise.json).
 * @throws DemoDataError when the file cannot be read, is not JSON, or does not match the schema.
 */
export function readDemoData(file: string = DEMO_DATA_PATH): DemoData {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new DemoDataError(file, [(e as Error).message]);
  }
  const data = parseDemoData(raw, file);
  const postKeys = new Set(data.posts.map((p) => p.key));
  for (const d of data.departments) {
    const hp = DEMO_SUPPLEMENT.headPosts[d.key];
    if (d.headPost === undefined && hp !== undefined && postKeys.has(hp)) d.headPost = hp;
  }
  for (const p of data.people) {
    const roles = DEMO_SUPPLEMENT.roles[p.key];
    if (p.roles === undefined && roles !== undefined) p.roles = [...roles];
  }
  return data;
}

// ───────────────────────────── derived facts ─────────────────────────────

/**
 * Department heads and person roles, from the data (brief):
 *  - head post of a department: its `headPost`, else the single post of the department with no
 *    leader post inside the department that leads at least one post of it (罐区主管, 氯化/加氢车间
 *    主任); none otherwise (设备部, 仪表电气部: staff posts, nobody leads anyone). Head person:
 *    the (first) holder of the head post. Demo: TANK→p05, CL→p09, HY→p12, SAFE→p03, PROD→p02.
 *  - roles: `roles` when given (DEMO_SUPPLEMENT gives p01–p04), else ['department_head'] for a
 *    department head, ['post_leader'] for someone whose post leads another post, ['frontline']
 *    for everyone else; plus 'principal' / 'technical_head' / 'operational_head' for a 重大危险源's
 *    包保责任人 (p05 → ['department_head', 'operational_head']).
 */
export function deriveOrganisation(d: DemoData): { headByDept: Map<string, string | null>; rolesByPerson: Map<string, PersonRole[]> } {
  const holders = new Map<string, string[]>();
  for (const p of d.people) if (p.post) holders.set(p.post, [...(holders.get(p.post) ?? []), p.key]);
  const postByKey = new Map(d.posts.map((p) => [p.key, p]));
  const leaderPosts = new Set(d.posts.flatMap((p) => (p.leader ? [p.leader] : [])));

  const headByDept = new Map<string, string | null>();
  for (const dept of d.departments) {
    let headPost = dept.headPost;
    if (headPost === undefined) {
      const own = d.posts.filter((p) => p.dept === dept.key);
      const tops = own.filter(
        (p) => (p.leader === undefined || postByKey.get(p.leader)?.dept !== dept.key) && own.some((q) => q.leader === p.key),
      );
      if (tops.length === 1) headPost = tops[0].key;
    }
    headByDept.set(dept.key, headPost ? holders.get(headPost)?.[0] ?? null : null);
  }

  const heads = new Set([...headByDept.values()].filter((v): v is string => v !== null));
  const rolesByPerson = new Map<string, PersonRole[]>();
  for (const p of d.people) {
    if (p.roles) {
      rolesByPerson.set(p.key, [...p.roles]);
      continue;
    }
    const roles: PersonRole[] = heads.has(p.key) ? ['department_head'] : p.post && leaderPosts.has(p.post) ? ['post_leader'] : ['frontline'];
    const duty = (r: PersonRole, is: boolean) => is && !roles.includes(r) && roles.push(r);
    duty('principal', d.majorHazardSources.some((m) => m.principal === p.key));
    duty('technical_head', d.majorHazardSources.some((m) => m.technical === p.key));
    duty('operational_head', d.majorHazardSources.some((m) => m.operational === p.key));
    rolesByPerson.set(p.key, roles);
  }
  return { headByDept, rolesByPerson };
}

/** A new task's `taskStartTime` (moved to server/domain/cycles.ts; re-exported for existing callers). */
export { taskStartAnchor };

// ───────────────────────────── loading ─────────────────────────────

export type Outcome = 'created' | 'updated' | 'unchanged';
export interface Counts {
  created: number;
  updated: number;
  unchanged: number;
}

/** What a load did, per table (hazards: created ones, or `unchanged` = hazards left as they were). */
export type LoadSummary = Record<
  | 'departments'
  | 'posts'
  | 'people'
  | 'majorHazardSources'
  | 'riskObjects'
  | 'riskUnits'
  | 'riskEvents'
  | 'controlMeasures'
  | 'checkTasks'
  | 'hazards'
  | 'chatDestinations'
  | 'chatDestinationMembers'
  | 'escalationPolicies'
  /** the park authority, its regulator and the regulator's scope over the plant (rows) */
  | 'regulators',
  Counts
>;

export interface LoadResult {
  enterpriseId: number;
  /** false: the enterprise existed; lists were upserted, hazards left alone */
  created: boolean;
  summary: LoadSummary;
}

export interface LoadOptions {
  /** the load instant: anchors task start times and hazard offsets (inject a clock's now) */
  now: Date;
  /** the plant (default readDemoData()); validated again before anything is written */
  data?: DemoData;
  /** load DEMO_REGULATOR with the plant in its scope (default: true) */
  regulator?: boolean;
}

/** Per-table outcomes keyed by code; a row touched twice keeps its strongest outcome. */
class Tally {
  private readonly rank: Record<Outcome, number> = { unchanged: 0, updated: 1, created: 2 };
  private readonly m = new Map<string, Outcome>();
  mark(code: string, o: Outcome): void {
    const prev = this.m.get(code);
    if (prev === undefined || this.rank[o] > this.rank[prev]) this.m.set(code, o);
  }
  counts(): Counts {
    const c: Counts = { created: 0, updated: 0, unchanged: 0 };
    for (const o of this.m.values()) c[o]++;
    return c;
  }
}

/** The fields of `desired` whose value differs from `row`, or null when none does. */
function changedFields<D extends object>(row: object, desired: D): Partial<D> | null {
  const out: Partial<D> = {};
  let any = false;
  for (const k of Object.keys(desired) as (keyof D)[]) {
    if (!sameStoredValue((row as Record<keyof D, unknown>)[k], desired[k])) {
      out[k] = desired[k];
      any = true;
    }
  }
  return any ? out : null;
}

/**
 * Creates the row when missing, updates only the differing fields when present, does nothing
 * when equal (so `updatedAt` stays put on a re-load).
 */
async function sync<R extends { id: number }, D extends object>(
  tally: Tally,
  code: string,
  existing: R | undefined,
  desired: D,
  create: () => Promise<R>,
  update: (id: number, changed: Partial<D>) => Promise<R>,
): Promise<R> {
  if (!existing) {
    tally.mark(code, 'created');
    return create();
  }
  const changed = changedFields(existing, desired);
  if (!changed) {
    tally.mark(code, 'unchanged');
    return existing;
  }
  tally.mark(code, 'updated');
  return update(existing.id, changed);
}

const byCode = <R extends { code: string }>(rows: R[]) => new Map(rows.map((r) => [r.code, r]));
const dec = (v: number | undefined, places: number) => (v === undefined ? null : new Prisma.Decimal(v).toDecimalPlaces(places));
const must = <V>(m: Map<string, V>, k: string, what: string): V => {
  const v = m.get(k);
  if (v === undefined) throw new Error(`internal: ${what} '${k}' was not loaded`);
  return v;
};

/** True when the database holds no enterprise (a fresh install the demo plant may be loaded into). */
export async function isDatabaseEmpty(prisma: PrismaClient): Promise<boolean> {
  return (await prisma.enterprise.findFirst({ select: { id: true } })) === null;
}

/**
 * Loads (or re-loads) the demo plant in one transaction. See the module comment for the rules.
 * Two processes loading at once: the loser's insert of the enterprise hits the unique
 * companyCode, and it retries once, finding the enterprise (created: false).
 * @throws DemoDataError when `data` is invalid (nothing written); the database's error otherwise
 *         (nothing written either).
 */
export async function loadDemoPlant(prisma: PrismaClient, opts: LoadOptions): Promise<LoadResult> {
  const data = parseDemoData(opts.data ?? readDemoData(), 'data');
  const now = new Date(opts.now.getTime());
  if (Number.isNaN(now.getTime())) throw new RangeError('loadDemoPlant: opts.now is not a valid Date');
  for (let attempt = 0; ; attempt++) {
    try {
      return await prisma.$transaction((tx) => loadInTransaction(tx, data, now, opts.regulator ?? true), { maxWait: 30_000, timeout: 300_000 });
    } catch (e) {
      if (attempt === 0 && (e as { code?: unknown }).code === 'P2002') continue;
      throw e;
    }
  }
}

/** The CheckTask fields a load keeps in step with the file (not taskStartTime / activeFrom). */
interface TaskFields {
  controlMeasureId: number | null;
  majorHazardSourceId: number | null;
  content: string;
  checkCycle: number;
  checkCycleUnit: CycleUnit;
  workStartTime: string | null;
  workEndTime: string | null;
  workDayType: number;
  workType: number;
  taskNum: number | null;
  postId: number | null;
  personId: number | null;
  checkMeans: string;
}

async function loadInTransaction(tx: Prisma.TransactionClient, d: DemoData, now: Date, withRegulator: boolean): Promise<LoadResult> {
  const tallies = {
    departments: new Tally(),
    posts: new Tally(),
    people: new Tally(),
    majorHazardSources: new Tally(),
    riskObjects: new Tally(),
    riskUnits: new Tally(),
    riskEvents: new Tally(),
    controlMeasures: new Tally(),
    checkTasks: new Tally(),
    hazards: new Tally(),
    chatDestinations: new Tally(),
    chatDestinationMembers: new Tally(),
    escalationPolicies: new Tally(),
    regulators: new Tally(),
  } satisfies Record<keyof LoadSummary, Tally>;

  // Enterprise (by companyCode). The zone of an existing enterprise is kept.
  const found = await tx.enterprise.findUnique({ where: { companyCode: d.enterprise.companyCode } });
  const created = found === null;
  const entDesired = { name: d.enterprise.name, park: d.enterprise.park ?? null };
  let enterprise;
  if (found === null) {
    enterprise = await tx.enterprise.create({ data: { companyCode: d.enterprise.companyCode, timezone: d.enterprise.timezone, ...entDesired } });
  } else {
    const changed = changedFields(found, entDesired);
    enterprise = changed ? await tx.enterprise.update({ where: { id: found.id }, data: changed }) : found;
  }
  const enterpriseId = enterprise.id;
  const tz = enterprise.timezone;
  const where = { where: { enterpriseId } };

  // Departments, first pass (name); parent and head after the people exist.
  const deptRows = byCode(await tx.department.findMany(where));
  const deptId = new Map<string, number>();
  for (const x of d.departments) {
    const row = await sync(
      tallies.departments,
      x.key,
      deptRows.get(x.key),
      { name: x.name },
      () => tx.department.create({ data: { enterpriseId, code: x.key, name: x.name } }),
      (id, data) => tx.department.update({ where: { id }, data }),
    );
    deptRows.set(x.key, row);
    deptId.set(x.key, row.id);
  }

  // Posts, first pass (name, department); leader posts second.
  const postRows = byCode(await tx.post.findMany(where));
  const postId = new Map<string, number>();
  for (const x of d.posts) {
    const desired = { name: x.name, departmentId: x.dept ? must(deptId, x.dept, 'department') : null };
    const row = await sync(
      tallies.posts,
      x.key,
      postRows.get(x.key),
      desired,
      () => tx.post.create({ data: { enterpriseId, code: x.key, ...desired } }),
      (id, data) => tx.post.update({ where: { id }, data }),
    );
    postRows.set(x.key, row);
    postId.set(x.key, row.id);
  }
  for (const x of d.posts) {
    const desired = { leaderPostId: x.leader ? must(postId, x.leader, 'post') : null };
    await sync(tallies.posts, x.key, postRows.get(x.key), desired, () => Promise.reject(new Error('unreachable')), (id, data) =>
      tx.post.update({ where: { id }, data }),
    );
  }

  // People: post, department from the post, chat identities, roles.
  const org = deriveOrganisation(d);
  const postDept = new Map(d.posts.map((p) => [p.key, p.dept]));
  const personRows = byCode(await tx.person.findMany(where));
  const personId = new Map<string, number>();
  for (const x of d.people) {
    const dept = x.post ? postDept.get(x.post) : undefined;
    const desired = {
      name: x.name,
      postId: x.post ? must(postId, x.post, 'post') : null,
      departmentId: dept ? must(deptId, dept, 'department') : null,
      mobile: x.mobile ?? null,
      wecomUserId: x.wecomUserId ?? null,
      dingtalkUserId: x.dingtalkUserId ?? null,
      wechatOpenId: x.wechatOpenId ?? null,
      roles: must(org.rolesByPerson, x.key, 'roles of person'),
    };
    const row = await sync(
      tallies.people,
      x.key,
      personRows.get(x.key),
      desired,
      () => tx.person.create({ data: { enterpriseId, code: x.key, ...desired } }),
      (id, data) => tx.person.update({ where: { id }, data }),
    );
    personId.set(x.key, row.id);
  }
  const pid = (k: string) => must(personId, k, 'person');

  // Departments, second pass: parent and head.
  for (const x of d.departments) {
    const head = org.headByDept.get(x.key) ?? null;
    const desired = { parentId: x.parent ? must(deptId, x.parent, 'department') : null, headPersonId: head ? pid(head) : null };
    await sync(tallies.departments, x.key, deptRows.get(x.key), desired, () => Promise.reject(new Error('unreachable')), (id, data) =>
      tx.department.update({ where: { id }, data }),
    );
  }

  // 重大危险源 with their three 包保责任人.
  const mhsRows = byCode(await tx.majorHazardSource.findMany(where));
  const mhsId = new Map<string, number>();
  const mhsHazardCode = new Map<string, string>();
  for (const x of d.majorHazardSources) {
    const desired = {
      name: x.name,
      hazardCode: x.hazardCode,
      level: x.level,
      rValue: dec(x.rValue, 2),
      principalId: pid(x.principal),
      technicalId: pid(x.technical),
      operationalId: pid(x.operational),
    };
    const row = await sync(
      tallies.majorHazardSources,
      x.key,
      mhsRows.get(x.key),
      desired,
      () => tx.majorHazardSource.create({ data: { enterpriseId, code: x.key, ...desired } }),
      (id, data) => tx.majorHazardSource.update({ where: { id }, data }),
    );
    mhsId.set(x.key, row.id);
    mhsHazardCode.set(x.key, x.hazardCode);
  }

  // Risk objects → units → events → control measures → check tasks.
  const [roRows, ruRows, reRows, cmRows, taskRows] = await Promise.all([
    tx.riskObject.findMany(where).then(byCode),
    tx.riskUnit.findMany(where).then(byCode),
    tx.riskEvent.findMany(where).then(byCode),
    tx.controlMeasure.findMany(where).then(byCode),
    tx.checkTask.findMany(where).then(byCode),
  ]);
  const unitId = new Map<string, number>();
  const measureId = new Map<string, number>();
  const createTask = (code: string, unit: CycleUnit, cycle: number, desired: TaskFields) =>
    sync(
      tallies.checkTasks,
      code,
      taskRows.get(code),
      desired,
      // taskStartTime / activeFrom: on creation only (a re-load must not move a running schedule)
      () => tx.checkTask.create({ data: { enterpriseId, code, ...desired, taskStartTime: taskStartAnchor(unit, cycle, now, tz), activeFrom: now } }),
      (id, data) => tx.checkTask.update({ where: { id }, data }),
    );

  for (const o of d.riskObjects) {
    const roDesired = {
      name: o.name,
      type: o.type,
      majorHazardSourceId: o.majorHazardSource ? must(mhsId, o.majorHazardSource, 'major hazard source') : null,
      hazardCode: o.majorHazardSource ? must(mhsHazardCode, o.majorHazardSource, 'major hazard source') : null,
      departmentId: must(deptId, o.dept, 'department'),
    };
    const ro = await sync(
      tallies.riskObjects,
      o.key,
      roRows.get(o.key),
      roDesired,
      () => tx.riskObject.create({ data: { enterpriseId, code: o.key, ...roDesired } }),
      (id, data) => tx.riskObject.update({ where: { id }, data }),
    );
    for (const u of o.units) {
      const ruDesired = { riskObjectId: ro.id, name: u.name, departmentId: must(deptId, u.dept, 'department'), headPersonId: pid(u.head) };
      const ru = await sync(
        tallies.riskUnits,
        u.key,
        ruRows.get(u.key),
        ruDesired,
        () => tx.riskUnit.create({ data: { enterpriseId, code: u.key, ...ruDesired } }),
        (id, data) => tx.riskUnit.update({ where: { id }, data }),
      );
      unitId.set(u.key, ru.id);
      for (const [ei, e] of u.events.entries()) {
        const code = `${u.key}-E${ei + 1}`;
        const reDesired = { riskUnitId: ru.id, name: e.name, description: e.description ?? null, l0: e.L0, s0: e.S0, l: e.L, s: e.S };
        const re = await sync(
          tallies.riskEvents,
          code,
          reRows.get(code),
          reDesired,
          () => tx.riskEvent.create({ data: { enterpriseId, code, ...reDesired } }),
          (id, data) => tx.riskEvent.update({ where: { id }, data }),
        );
        for (const m of e.measures) {
          const cmDesired = {
            riskEventId: re.id,
            description: m.desc,
            dataSrc: m.dataSrc,
            classify1: m.classify1,
            classify2: m.classify2,
            classify3: m.classify3 ?? null,
            checkContent: m.checkContent ?? null,
            paramName: m.parameter?.name ?? null,
            paramUnit: m.parameter?.unit ?? null,
            paramMin: dec(m.parameter?.min, 4),
            paramMax: dec(m.parameter?.max, 4),
          };
          const cm = await sync(
            tallies.controlMeasures,
            m.key,
            cmRows.get(m.key),
            cmDesired,
            () => tx.controlMeasure.create({ data: { enterpriseId, code: m.key, ...cmDesired } }),
            (id, data) => tx.controlMeasure.update({ where: { id }, data }),
          );
          measureId.set(m.key, cm.id);
          for (const t of m.tasks) {
            await createTask(t.key, t.unit, t.cycle, {
              controlMeasureId: cm.id,
              majorHazardSourceId: null,
              content: t.content,
              checkCycle: t.cycle,
              checkCycleUnit: t.unit,
              workStartTime: t.work?.[0] ?? null,
              workEndTime: t.work?.[1] ?? null,
              workDayType: t.workDayType,
              workType: t.workType,
              taskNum: null,
              postId: t.post ? must(postId, t.post, 'post') : null,
              personId: t.person ? pid(t.person) : null,
              checkMeans: t.means,
            });
          }
        }
      }
    }
  }

  // 包保 tasks: attached to the 重大危险源 and its responsible person, no measure.
  for (const t of d.baobaoTasks) {
    await createTask(t.key, t.unit, t.cycle, {
      controlMeasureId: null,
      majorHazardSourceId: must(mhsId, t.majorHazardSource, 'major hazard source'),
      content: t.content,
      checkCycle: t.cycle,
      checkCycleUnit: t.unit,
      workStartTime: null,
      workEndTime: null,
      workDayType: t.workDayType,
      workType: t.workType,
      taskNum: t.taskNum,
      postId: null,
      personId: pid(t.person),
      checkMeans: t.means,
    });
  }

  // Hazards: only with a new enterprise; an existing plant's hazards are live records.
  if (created) {
    for (const [i, h] of d.hazards.entries()) {
      const code = `YH-DEMO-${i + 1}`;
      const reportedAt = new Date(now.getTime() + h.reportedOffsetDays * DAY_MS);
      const foundAt = h.foundOffsetDays === undefined ? reportedAt : new Date(now.getTime() + h.foundOffsetDays * DAY_MS);
      const deadlineDate = localDateOf(new Date(now.getTime() + h.deadlineOffsetDays * DAY_MS), tz);
      const rectifying = h.state === 'rectifying';
      const hazard = await tx.hazard.create({
        data: {
          enterpriseId,
          code,
          name: h.name,
          description: h.description ?? null,
          location: h.location ?? null,
          riskUnitId: must(unitId, h.riskUnit, 'risk unit'),
          controlMeasureId: h.measure ? must(measureId, h.measure, 'control measure') : null,
          dangerLevel: h.dangerLevel,
          dangerSrc: h.dangerSrc,
          enforcementId: h.enforcementId ?? null,
          hazardDangerType: h.hazardDangerType,
          dangerManageType: h.dangerManageType,
          majorCriterion: h.majorCriterion ?? null,
          foundAt,
          reportedAt,
          reporterId: pid(h.reporter),
          rectifierId: pid(h.rectifier),
          acceptorId: pid(h.acceptor),
          deadlineDate,
          deadlineAt: endOfLocalDay(deadlineDate, tz),
          state: h.state,
          confirmedAt: rectifying ? reportedAt : null,
          nextCheckAt: now,
        },
      });
      const transitions: Prisma.HazardTransitionCreateManyInput[] = [
        { hazardId: hazard.id, action: 'report', fromState: null, toState: 'reported', actorId: pid(h.reporter), at: reportedAt },
      ];
      if (rectifying) {
        transitions.push({
          hazardId: hazard.id,
          action: 'confirm',
          fromState: 'reported',
          toState: 'rectifying',
          actorId: pid(h.acceptor),
          at: reportedAt,
          data: { rectifierId: pid(h.rectifier), acceptorId: pid(h.acceptor), deadlineDate },
        });
      }
      await tx.hazardTransition.createMany({ data: transitions });
      tallies.hazards.mark(code, 'created');
    }
  } else {
    for (const h of await tx.hazard.findMany({ ...where, select: { code: true } })) tallies.hazards.mark(h.code, 'unchanged');
  }

  // Chat groups (webhook URLs are configuration, matched by code) and their members (added, never removed).
  const destRows = byCode(await tx.chatDestination.findMany(where));
  const groups = [
    ...d.chat.wecomGroups.map((g) => ({ ...g, channel: 'wecom_robot' })),
    ...d.chat.dingtalkGroups.map((g) => ({ ...g, channel: 'dingtalk_robot' })),
  ];
  for (const g of groups) {
    const desired = { name: g.name, channel: g.channel };
    const dest = await sync(
      tallies.chatDestinations,
      g.key,
      destRows.get(g.key),
      desired,
      () => tx.chatDestination.create({ data: { enterpriseId, code: g.key, ...desired } }),
      (id, data) => tx.chatDestination.update({ where: { id }, data }),
    );
    const present = new Set((await tx.chatDestinationMember.findMany({ where: { destinationId: dest.id } })).map((m) => m.personId));
    const missing = [...new Set(g.members.map(pid))].filter((p) => !present.has(p));
    // plain INSERT (no skipDuplicates): MySQL's INSERT IGNORE would also swallow foreign-key errors
    if (missing.length > 0) await tx.chatDestinationMember.createMany({ data: missing.map((personId) => ({ destinationId: dest.id, personId })) });
    for (const p of g.members.map(pid)) tallies.chatDestinationMembers.mark(`${g.key}/${p}`, present.has(p) ? 'unchanged' : 'created');
  }

  // Escalation policies: the defaults for every kind that has none (an existing one may have been edited).
  const policyKinds = new Set((await tx.escalationPolicy.findMany({ ...where, select: { kind: true } })).map((p) => p.kind));
  for (const kind of ALERT_KINDS) {
    if (policyKinds.has(kind)) {
      tallies.escalationPolicies.mark(kind, 'unchanged');
      continue;
    }
    const p = DEFAULT_POLICIES[kind];
    await tx.escalationPolicy.create({
      data: {
        enterpriseId,
        kind,
        name: p.name,
        levels: p.levels as unknown as Prisma.InputJsonValue,
        ackTimeoutMs: p.ackTimeoutMs,
        params: p.params as Prisma.InputJsonValue,
      },
    });
    tallies.escalationPolicies.mark(kind, 'created');
  }

  if (withRegulator) await loadRegulator(tx, tallies.regulators, enterprise);

  const summary = Object.fromEntries(Object.entries(tallies).map(([k, t]) => [k, t.counts()])) as LoadSummary;
  return { enterpriseId, created, summary };
}

/**
 * DEMO_REGULATOR: the park authority (found by companyCode; a new one takes the plant's zone),
 * its regulator (found by code inside the authority) and the scope row over `plant`.
 */
async function loadRegulator(tx: Prisma.TransactionClient, tally: Tally, plant: { id: number; timezone: string; park: string | null }): Promise<void> {
  const { authority: a, person: r } = DEMO_REGULATOR;
  const found = await tx.enterprise.findUnique({ where: { companyCode: a.companyCode } });
  const authority = await sync(
    tally,
    `authority:${a.companyCode}`,
    found ?? undefined,
    { name: a.name, park: plant.park },
    () => tx.enterprise.create({ data: { companyCode: a.companyCode, name: a.name, park: plant.park, timezone: plant.timezone } }),
    (id, data) => tx.enterprise.update({ where: { id }, data }),
  );
  const existing = await tx.person.findUnique({ where: { enterpriseId_code: { enterpriseId: authority.id, code: r.code } } });
  // roles: regulator added when missing, others kept (an admin may have given more)
  const roles = Array.isArray(existing?.roles) ? (existing.roles as unknown[]).filter((x): x is string => typeof x === 'string') : [];
  const desired = { name: r.name, mobile: r.mobile, roles: roles.includes('regulator') ? roles : [...roles, 'regulator'] };
  const person = await sync(
    tally,
    `person:${r.code}`,
    existing ?? undefined,
    desired,
    () => tx.person.create({ data: { enterpriseId: authority.id, code: r.code, ...desired } }),
    (id, data) => tx.person.update({ where: { id }, data }),
  );
  const scope = { personId: person.id, enterpriseId: plant.id };
  const has = await tx.regulatorScope.findUnique({ where: { personId_enterpriseId: scope } });
  if (!has) await tx.regulatorScope.create({ data: scope });
  tally.mark(`scope:${r.code}:${plant.id}`, has ? 'unchanged' : 'created');
}
