/**
 * Pure rules of the hazard loop and inspections (server/domain/hazard-rules.ts, inspection.ts,
 * major-criteria.ts, shutdown.ts, hazard-state.ts): tables of inputs → verdicts.
 */
import {
  afterPhotoProblem,
  acceptorDenied,
  classificationProblem,
  confirmProblem,
  hazardManagerDenied,
  shutdownDenied,
  effectiveDangerLevel,
  extensionDateProblem,
  extensionDecisionDenied,
  hazardPlanSchema,
  isCompletePlan,
  quickFixProblem,
  type ExtensionDeciderFacts,
  FOUND_AT_CLOCK_SKEW_MS,
} from '../../server/domain/hazard-rules';
import { MAJOR_CRITERIA, isMajorCriterion } from '../../server/domain/major-criteria';
import { formatNumber, isAbnormalReading, photoRequired, prefillDangerType, readingDraftName, safeRangeText, hazardCategoryOf } from '../../server/domain/inspection';
import { isSuspendedBy, shutdownOverlaps, shutdownsOverlap } from '../../server/domain/shutdown';
import { HAZARD_STATES, nextHazardState, type HazardAction } from '../../server/domain/hazard-state';

const NOW = new Date('2026-11-30T04:00:00.000Z');
const TODAY = '2026-11-30';

describe('classification of a report', () => {
  const ok = { dangerSrc: 1 };
  test.each<[string, Parameters<typeof classificationProblem>[0], string | null]>([
    ['plain', ok, null],
    ['criterion without a level', { ...ok, majorCriterion: 4 }, null],
    ['criterion with level 1', { ...ok, majorCriterion: 4, dangerLevel: 1 }, null],
    ['criterion with level 0', { ...ok, majorCriterion: 4, dangerLevel: 0 }, 'criterion_requires_major'],
    ['criterion 0', { ...ok, majorCriterion: 0 }, 'invalid_major_criterion'],
    ['criterion 21', { ...ok, majorCriterion: 21 }, 'invalid_major_criterion'],
    ['government-found, complete', { dangerSrc: 10, enforcementId: '执-1', foundDate: '2026-11-20' }, null],
    ['government-found, no 执法编号', { dangerSrc: 10, foundDate: '2026-11-20' }, 'enforcement_id_required'],
    ['government-found, blank 执法编号', { dangerSrc: 10, enforcementId: '  ', foundDate: '2026-11-20' }, 'enforcement_id_required'],
    ['government-found, no date', { dangerSrc: 10, enforcementId: '执-1' }, 'found_at_required'],
    ['government-found, found today', { dangerSrc: 10, enforcementId: '执-1', foundDate: TODAY }, null],
    ['government-found, found tomorrow', { dangerSrc: 10, enforcementId: '执-1', foundDate: '2026-12-01' }, 'found_in_future'],
    ['found just ahead of our clock (a phone clock running fast)', { ...ok, foundAt: new Date(NOW.getTime() + FOUND_AT_CLOCK_SKEW_MS) }, null],
    ['found beyond the tolerated clock skew', { ...ok, foundAt: new Date(NOW.getTime() + FOUND_AT_CLOCK_SKEW_MS + 1) }, 'found_in_future'],
    ['found now', { ...ok, foundAt: NOW }, null],
    ['执法编号 on a self-found hazard', { ...ok, enforcementId: '执-1' }, 'enforcement_id_requires_src10'],
  ])('%s', (_name, input, code) => {
    expect(classificationProblem(input, NOW, TODAY)?.code ?? null).toBe(code);
  });

  test('a criterion forces level 1', () => {
    expect([effectiveDangerLevel(undefined, 3), effectiveDangerLevel(1, null), effectiveDangerLevel(undefined, null), effectiveDangerLevel(0, undefined)]).toEqual([1, 1, 0, 0]);
  });

  test('violations carry Chinese and English texts', () => {
    const v = classificationProblem({ dangerSrc: 10 }, NOW, TODAY)!;
    expect(v.zh).toMatch(/执法编号/);
    expect(v.en).toMatch(/enforcementId/);
  });
});

describe('the 20 重大隐患 criteria', () => {
  test('numbered 1..20, each a short text', () => {
    expect(Object.keys(MAJOR_CRITERIA).map(Number)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    for (const t of Object.values(MAJOR_CRITERIA)) expect(t.length).toBeGreaterThan(5);
    expect(MAJOR_CRITERIA[15]).toMatch(/安全阀/);
    expect([isMajorCriterion(1), isMajorCriterion(20), isMajorCriterion(0), isMajorCriterion(21), isMajorCriterion(2.5), isMajorCriterion('3')]).toEqual([true, true, false, false, false, false]);
  });
});

describe('confirmation, 治理方案 and 即查即改', () => {
  const plan = { goals: 'g', measures: 'm', funds: 0, people: 'p', timeLimit: '2026-12-31', safetyMeasures: 's', emergencyMeasures: 'e' };
  test('a 重大隐患 needs a plan and is never 即查即改', () => {
    expect(confirmProblem({ level: 1, hasPlan: false, dangerManageType: 1 })?.code).toBe('plan_required');
    expect(confirmProblem({ level: 1, hasPlan: true, dangerManageType: 0 })?.code).toBe('major_no_quick_fix');
    expect(confirmProblem({ level: 1, hasPlan: true, dangerManageType: 1 })).toBeNull();
    expect(confirmProblem({ level: 0, hasPlan: false, dangerManageType: 0 })).toBeNull();
    expect(quickFixProblem(1)?.code).toBe('major_no_quick_fix');
    expect(quickFixProblem(0)).toBeNull();
  });

  test('every part of the plan is required (五到位)', () => {
    expect(hazardPlanSchema.safeParse(plan).success).toBe(true);
    for (const k of Object.keys(plan)) {
      const { [k]: _drop, ...rest } = plan as Record<string, unknown>;
      expect([k, hazardPlanSchema.safeParse(rest).success]).toEqual([k, false]);
    }
    expect(hazardPlanSchema.safeParse({ ...plan, timeLimit: '2026-02-30' }).success).toBe(false);
    expect(hazardPlanSchema.safeParse({ ...plan, funds: -1 }).success).toBe(false);
    expect(hazardPlanSchema.safeParse({ ...plan, goals: '   ' }).success).toBe(false);
    // the input rules of domain/inputs.ts: only invisible characters, a NUL, a year past 2099
    expect(hazardPlanSchema.safeParse({ ...plan, goals: '\u200b\ufeff' }).success).toBe(false);
    expect(hazardPlanSchema.safeParse({ ...plan, people: '安全部\u0000' }).success).toBe(false);
    expect(hazardPlanSchema.safeParse({ ...plan, timeLimit: '9999-12-31' }).success).toBe(false);
    expect(hazardPlanSchema.safeParse({ ...plan, extra: 1 }).success).toBe(false);
  });

  test('a stored plan (with who/when) counts as complete; a partial or missing one does not', () => {
    expect(isCompletePlan({ ...plan, updatedAt: NOW.toISOString(), updatedById: 3 })).toBe(true);
    expect(isCompletePlan({ ...plan, people: '' })).toBe(false);
    expect(isCompletePlan(null)).toBe(false);
  });
});

describe('extensions', () => {
  test.each<[string, string, string | null, string | null]>([
    ['later, from today', '2026-12-10', '2026-12-05', null],
    ['the same day', '2026-12-05', '2026-12-05', 'extension_not_later'],
    ['earlier', '2026-12-04', '2026-12-05', 'extension_not_later'],
    ['overdue hazard, to today', TODAY, '2026-11-25', null],
    ['overdue hazard, still in the past', '2026-11-28', '2026-11-25', 'extension_in_past'],
    ['no deadline', '2026-12-10', null, 'no_deadline'],
    ['not a date', '2026-13-01', '2026-12-05', 'invalid_date'],
  ])('requested date: %s', (_n, requested, current, code) => {
    expect(extensionDateProblem(requested, current, TODAY)?.code ?? null).toBe(code);
  });

  const f = (x: Partial<ExtensionDeciderFacts>): ExtensionDeciderFacts => ({ dangerLevel: 0, roles: [], actorId: 1, requesterId: 2, headsUnit: false, ...x });
  test.each<[string, Partial<ExtensionDeciderFacts>, string | null]>([
    ['一般: the unit head', { roles: ['department_head'], headsUnit: true }, null],
    ['一般: another department head', { roles: ['department_head'] }, 'not_decider'],
    ['一般: safety department', { roles: ['safety_dept'] }, null],
    ['一般: safety director', { roles: ['safety_director'] }, null],
    ['一般: 主要负责人', { roles: ['principal'] }, null],
    ['一般: 技术负责人 not heading the unit', { roles: ['technical_head'] }, 'not_decider'],
    ['一般: the requester, even a safety officer', { roles: ['safety_dept'], actorId: 2 }, 'own_request'],
    ['重大: 主要负责人', { dangerLevel: 1, roles: ['principal'] }, null],
    ['重大: the unit head', { dangerLevel: 1, roles: ['department_head'], headsUnit: true }, 'principal_only'],
    ['重大: safety director', { dangerLevel: 1, roles: ['safety_director', 'safety_dept'] }, 'principal_only'],
    ['重大: the 主要负责人 deciding their own request', { dangerLevel: 1, roles: ['principal'], actorId: 2 }, 'own_request'],
  ])('who decides: %s', (_n, facts, code) => {
    expect(extensionDecisionDenied(f(facts))?.code ?? null).toBe(code);
  });
});

describe('who manages a hazard, a unit shutdown, an acceptance', () => {
  test.each<[string[], boolean, boolean]>([
    [['department_head'], true, true],
    [['department_head'], false, false],
    [['operational_head'], false, false],
    [['technical_head'], false, true],
    [['safety_dept'], false, true],
    [['safety_director'], false, true],
    [['principal'], false, true],
    [['enterprise_admin'], false, true],
    [['frontline'], false, false],
    [['post_leader'], true, true],
  ])('manager %j heading the unit: %s → allowed %s', (roles, headsUnit, allowed) => {
    expect(hazardManagerDenied({ roles, headsUnit }) === null).toBe(allowed);
  });

  test('shutdown: oversight, the unit head, the 包保责任人; not the 技术负责人 by role alone', () => {
    expect(shutdownDenied({ roles: ['department_head'], headsUnit: true, mhsResponsible: false })).toBeNull();
    expect(shutdownDenied({ roles: ['operational_head'], headsUnit: false, mhsResponsible: true })).toBeNull();
    expect(shutdownDenied({ roles: ['safety_dept'], headsUnit: false, mhsResponsible: false })).toBeNull();
    expect(shutdownDenied({ roles: ['department_head'], headsUnit: false, mhsResponsible: false })?.code).toBe('forbidden');
    expect(shutdownDenied({ roles: ['technical_head'], headsUnit: false, mhsResponsible: false })?.code).toBe('forbidden');
  });

  test('acceptance: the acceptor or who acts for them; never the rectifier on their own fix, unless also the acceptor', () => {
    expect(acceptorDenied({ actorId: 1, rectifierId: 2, acceptorId: 1, actsForAcceptor: true })).toBeNull();
    expect(acceptorDenied({ actorId: 1, rectifierId: 1, acceptorId: 3, actsForAcceptor: true })?.en).toMatch(/own rectification/);
    expect(acceptorDenied({ actorId: 1, rectifierId: 1, acceptorId: 1, actsForAcceptor: true })).toBeNull();
    expect(acceptorDenied({ actorId: 4, rectifierId: 2, acceptorId: 3, actsForAcceptor: false })?.code).toBe('forbidden');
  });
});

describe('readings and drafts', () => {
  test('outside [min, max] is abnormal; the bounds themselves are safe; a missing bound does not limit', () => {
    expect([0.95, 0.8, 0.2, 0.19, 0.5].map((v) => isAbnormalReading(v, 0.2, 0.8))).toEqual([true, false, false, true, false]);
    expect([isAbnormalReading(-5, null, 1), isAbnormalReading(2, null, 1), isAbnormalReading(1e9, 15, null)]).toEqual([false, true, false]);
  });

  test('the draft name and range texts', () => {
    expect(readingDraftName('储罐压力', 0.95, 'MPa', 0.2, 0.8)).toBe('储罐压力 0.95 MPa 超出安全范围（0.2～0.8 MPa）');
    expect(readingDraftName('现场氯气浓度', 3, 'ppm', null, 1)).toBe('现场氯气浓度 3 ppm 超出安全范围（≤ 1 ppm）');
    expect(safeRangeText(15, null, 'm³/h')).toBe('≥ 15 m³/h');
    expect(safeRangeText(null, null, null)).toBe('未设定');
    expect(formatNumber(0.1 + 0.2)).toBe('0.3');
  });

  test('photo by check means; prefilled type and category', () => {
    expect([photoRequired('拍照'), photoRequired('现场确认')]).toEqual([true, false]);
    expect([prefillDangerType(1, '1-1'), prefillDangerType(1, '1-4'), prefillDangerType(2, '2-2'), prefillDangerType(4, '4-3'), prefillDangerType(3, '3-2'), prefillDangerType(null, null)]).toEqual([2, 4, 7, 5, 1, 1]);
    expect([0, 1, 2, 3, 4].map(hazardCategoryOf)).toEqual([0, 1, 2, 3, 0]);
  });
});

describe('shutdown overlap (one rule for the engine and the service)', () => {
  const t = (h: number) => new Date(Date.UTC(2026, 11, 1, h));
  const w = { startAt: t(2), endAt: t(4) };
  test.each<[string, { startAt: Date; endAt: Date | null }, boolean]>([
    ['covers it', { startAt: t(1), endAt: t(5) }, true],
    ['inside it', { startAt: t(2), endAt: t(3) }, true],
    ['begins in it, open-ended', { startAt: t(3), endAt: null }, true],
    ['ends as it starts', { startAt: t(0), endAt: t(2) }, false],
    ['starts as it ends', { startAt: t(4), endAt: null }, false],
    ['ends a millisecond into it', { startAt: t(0), endAt: new Date(t(2).getTime() + 1) }, true],
  ])('%s', (_n, s, expected) => {
    expect(shutdownOverlaps(w, s)).toBe(expected);
    expect(isSuspendedBy(w, [{ startAt: t(20), endAt: t(21) }, s])).toBe(expected);
  });

  test('two shutdowns of a unit overlap when they share any instant (open-ended reaches forever)', () => {
    expect(shutdownsOverlap({ startAt: t(0), endAt: t(2) }, { startAt: t(2), endAt: null })).toBe(false);
    expect(shutdownsOverlap({ startAt: t(0), endAt: null }, { startAt: t(100), endAt: t(101) })).toBe(true);
    expect(shutdownsOverlap({ startAt: t(5), endAt: t(6) }, { startAt: t(0), endAt: t(5) })).toBe(false);
  });
});

describe('hazard state machine: every action from every state', () => {
  const ACTIONS: HazardAction[] = ['draft', 'report', 'confirm', 'reject', 'plan', 'rectify', 'accept', 'send_back', 'extension_request', 'extend', 'extension_reject'];
  test('the full table', () => {
    const table: Record<string, string> = {};
    for (const from of [null, ...HAZARD_STATES]) for (const a of ACTIONS) {
      const to = nextHazardState(from, a);
      if (to) table[`${from} ${a}`] = to;
    }
    expect(table).toEqual({
      'null draft': 'draft',
      'null report': 'reported',
      'draft report': 'reported',
      'draft reject': 'rejected',
      'reported confirm': 'rectifying',
      'reported reject': 'rejected',
      'reported plan': 'reported',
      'rectifying plan': 'rectifying',
      'awaiting_acceptance plan': 'awaiting_acceptance',
      'rectifying rectify': 'awaiting_acceptance',
      'awaiting_acceptance accept': 'accepted',
      'awaiting_acceptance send_back': 'rectifying',
      'rectifying extension_request': 'rectifying',
      'rectifying extend': 'rectifying',
      'awaiting_acceptance extend': 'awaiting_acceptance',
      'rectifying extension_reject': 'rectifying',
      'awaiting_acceptance extension_reject': 'awaiting_acceptance',
    });
  });
});

describe('afterPhotoProblem (after-photos are new evidence)', () => {
  const at = (iso: string) => new Date(iso);
  const p = (id: number, sha256: string, createdAt: string) => ({ id, sha256, createdAt: at(createdAt) });
  const before = [p(1, 'aa', '2026-11-30T01:00:00Z')];

  test('a new picture after the report passes', () => {
    expect(afterPhotoProblem({ before, after: [p(2, 'bb', '2026-11-30T03:00:00Z')], notBefore: at('2026-11-30T02:00:00Z') })).toBeNull();
  });
  test('the before-photo itself, or the same bytes under another id', () => {
    expect(afterPhotoProblem({ before, after: [p(1, 'aa', '2026-11-30T01:00:00Z')], notBefore: null })?.code).toBe('after_photo_is_before_photo');
    expect(afterPhotoProblem({ before, after: [p(9, 'aa', '2026-11-30T05:00:00Z')], notBefore: null })?.code).toBe('after_photo_is_before_photo');
  });
  test('uploaded before notBefore (the report, or for 即查即改 the earliest before-photo); the same instant is fine', () => {
    expect(afterPhotoProblem({ before, after: [p(2, 'bb', '2026-11-30T01:59:59Z')], notBefore: at('2026-11-30T02:00:00Z') })?.code).toBe('after_photo_too_early');
    expect(afterPhotoProblem({ before, after: [p(2, 'bb', '2026-11-30T02:00:00Z')], notBefore: at('2026-11-30T02:00:00Z') })).toBeNull();
  });
});
