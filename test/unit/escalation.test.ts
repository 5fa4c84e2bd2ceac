/**
 * Escalation rules (server/domain/escalation.ts): planFiring, the policy schema, rolesUpTo and the
 * condition moments (task / hazard due soon, late entry). Pure: every `now` is passed in.
 *
 * Expected values come from ../shared/domain.md "Alerts and escalation" (the default table) and
 * design.md "Ack → handle → clear"; repeat intervals and ack timeouts are the project's defaults
 * (DEFAULT_POLICIES), restated here as numbers so a silent change of a default fails a test.
 */
import {
  DEFAULT_POLICIES,
  ALERT_KINDS,
  hazardDueSoonAt,
  isLateEntry,
  parsePolicy,
  planFiring,
  policySchema,
  rolesUpTo,
  taskDueSoonAt,
  type AlertTiming,
  type EscalationPolicyData,
  type FiringPlan,
} from '../../server/domain/escalation';

const MIN = 60_000;
const H = 3_600_000;
const DAY = 24 * H;
/** condition start used throughout: 2026-11-25 16:00Z = 2026-11-26 00:00 Asia/Shanghai */
const START = Date.parse('2026-11-25T16:00:00.000Z');
const at = (ms: number) => new Date(START + ms);

const overdue = DEFAULT_POLICIES.hazard_overdue; // L1 0 / L2 +1 d / L3 +3 d, repeats daily, ack 24 h
const taskOverdue = DEFAULT_POLICIES.task_overdue; // L1 0 (4 h) / L2 +24 h (12 h) / L3 +72 h (24 h)

function timing(p: Partial<AlertTiming> = {}): AlertTiming {
  return { state: 'open', level: 0, conditionStartAt: new Date(START), lastNotifiedAt: null, ackUntil: null, ...p };
}

/** Applies a plan the way the engine does (tick.ts fireDueAlerts → applyAlertUpdates). */
function apply(a: AlertTiming, plan: FiringPlan, now: Date): AlertTiming {
  return {
    ...a,
    level: plan.level,
    lastNotifiedAt: plan.notifyUpTo ? now : a.lastNotifiedAt,
    ackUntil: plan.ackExpired ? null : a.ackUntil,
  };
}

interface Fired {
  /** ms after START */
  t: number;
  upTo: number;
  reason: string;
}

/**
 * Drives an alert like the engine: look at it whenever nextFireAt is due (or at every extra `polls`
 * instant), until `endMs`. Returns every notification.
 */
function simulate(policy: EscalationPolicyData, endMs: number, opts: { a?: AlertTiming; polls?: number[] } = {}): Fired[] {
  let a = opts.a ?? timing();
  let next: number | null = START; // an alert fires at the first tick after it opens
  const polls = [...(opts.polls ?? [])].map((p) => START + p).sort((x, y) => x - y);
  const fired: Fired[] = [];
  for (let guard = 0; guard < 10_000; guard++) {
    const candidates = [next, ...polls].filter((x): x is number => x !== null && x <= START + endMs);
    if (candidates.length === 0) break;
    const t = Math.min(...candidates);
    while (polls.length && polls[0] <= t) polls.shift();
    const plan = planFiring(policy, a, new Date(t));
    if (plan.notifyUpTo) fired.push({ t: t - START, upTo: plan.notifyUpTo, reason: plan.reason! });
    a = apply(a, plan, new Date(t));
    next = plan.nextFireAt ? plan.nextFireAt.getTime() : null;
    if (next !== null) expect(next).toBeGreaterThan(t); // never in the past, never "now" again
  }
  return fired;
}

// ─────────────────────────────────────────────────────────────────────────────────────────────
describe('planFiring', () => {
  test('a fresh start 5 days into the condition jumps straight to level 3 with ONE notification', () => {
    const now = at(5 * DAY);
    const plan = planFiring(overdue, timing(), now);
    expect(plan).toEqual({ notifyUpTo: 3, reason: 'open', level: 3, nextFireAt: at(6 * DAY), ackExpired: false });
    // looking again at the same instant (a second scheduler, a retry) sends nothing more
    const again = planFiring(overdue, apply(timing(), plan, now), now);
    expect(again.notifyUpTo).toBeNull();
    expect(again.nextFireAt).toEqual(at(6 * DAY));
  });

  test('the jump is not a burst: polling every hour after a fresh start never replays levels 1 and 2', () => {
    let a = timing();
    const out: Fired[] = [];
    for (let h = 0; h <= 30; h++) {
      const now = at(5 * DAY + h * H);
      const p = planFiring(overdue, a, now);
      if (p.notifyUpTo) out.push({ t: now.getTime() - START, upTo: p.notifyUpTo, reason: p.reason! });
      a = apply(a, p, now);
    }
    expect(out).toEqual([
      { t: 5 * DAY, upTo: 3, reason: 'open' },
      { t: 6 * DAY, upTo: 3, reason: 'repeat' },
    ]);
  });

  test('hazard overdue escalates 1 → 2 → 3 at 0 / +1 d / +3 d with daily repeats in between', () => {
    expect(simulate(overdue, 5 * DAY)).toEqual([
      { t: 0, upTo: 1, reason: 'open' },
      // the level-1 repeat (+1 d) coincides with level 2: one message, not two
      { t: 1 * DAY, upTo: 2, reason: 'escalate' },
      { t: 2 * DAY, upTo: 2, reason: 'repeat' },
      { t: 3 * DAY, upTo: 3, reason: 'escalate' },
      { t: 4 * DAY, upTo: 3, reason: 'repeat' },
      { t: 5 * DAY, upTo: 3, reason: 'repeat' },
    ]);
  });

  test('task overdue: level 1 repeats every 4 h, level 2 at +24 h repeats every 12 h, level 3 at +72 h daily', () => {
    const fired = simulate(taskOverdue, 4 * DAY);
    expect(fired.map((f) => [f.t / H, f.upTo, f.reason])).toEqual([
      [0, 1, 'open'],
      [4, 1, 'repeat'],
      [8, 1, 'repeat'],
      [12, 1, 'repeat'],
      [16, 1, 'repeat'],
      [20, 1, 'repeat'],
      [24, 2, 'escalate'],
      [36, 2, 'repeat'],
      [48, 2, 'repeat'],
      [60, 2, 'repeat'],
      [72, 3, 'escalate'],
      [96, 3, 'repeat'],
    ]);
  });

  test('polling more often than needed changes nothing (the schedule depends on time, not on ticks)', () => {
    const everyTenMinutes = Array.from({ length: (4 * DAY) / (10 * MIN) }, (_, i) => i * 10 * MIN);
    expect(simulate(taskOverdue, 4 * DAY, { polls: everyTenMinutes })).toEqual(simulate(taskOverdue, 4 * DAY));
  });

  test('a level repeats only after its own repeat interval', () => {
    const a = timing({ level: 1, lastNotifiedAt: at(0) });
    expect(planFiring(overdue, a, at(DAY - 1)).notifyUpTo).toBeNull();
    expect(planFiring(overdue, a, at(DAY - 1)).nextFireAt).toEqual(at(DAY));
    const l3 = timing({ level: 3, lastNotifiedAt: at(3 * DAY + 5 * H) });
    expect(planFiring(overdue, l3, at(4 * DAY + 5 * H - 1)).notifyUpTo).toBeNull();
    expect(planFiring(overdue, l3, at(4 * DAY + 5 * H))).toEqual({ notifyUpTo: 3, reason: 'repeat', level: 3, nextFireAt: at(5 * DAY + 5 * H), ackExpired: false });
  });

  test('no repeat when repeatMs is null: one message, then nothing is scheduled', () => {
    const dueSoon = DEFAULT_POLICIES.task_due_soon;
    expect(dueSoon.levels[0].repeatMs).toBeNull();
    const first = planFiring(dueSoon, timing(), at(0));
    expect(first).toEqual({ notifyUpTo: 1, reason: 'open', level: 1, nextFireAt: null, ackExpired: false });
    const later = planFiring(dueSoon, apply(timing(), first, at(0)), at(30 * DAY));
    expect(later.notifyUpTo).toBeNull();
    expect(later.nextFireAt).toBeNull();
    expect(simulate(dueSoon, 10 * DAY)).toEqual([{ t: 0, upTo: 1, reason: 'open' }]);
  });

  test('no repeat at a lower level with repeatMs null, but the next level is still scheduled', () => {
    const p = parsePolicy({
      kind: 'task_overdue',
      name: 'x',
      ackTimeoutMs: H,
      levels: [
        { level: 1, delayMs: 0, repeatMs: null, notify: ['assignee'] },
        { level: 2, delayMs: 6 * H, repeatMs: null, notify: ['department_head'] },
      ],
    });
    const first = planFiring(p, timing(), at(0));
    expect(first.nextFireAt).toEqual(at(6 * H));
    expect(simulate(p, 3 * DAY)).toEqual([
      { t: 0, upTo: 1, reason: 'open' },
      { t: 6 * H, upTo: 2, reason: 'escalate' },
    ]);
  });

  describe('确认 / 处置 pause', () => {
    // level 1 notified at 0, acknowledged at +2 h: ackUntil = +2 h + 24 h (hazard_overdue ackTimeout)
    const ackUntil = at(26 * H);
    const acked = timing({ state: 'acknowledged', level: 1, lastNotifiedAt: at(0), ackUntil });

    test('during the pause nothing is sent — neither the repeat (+24 h) nor the escalation (+24 h) — and the alert is looked at again at ackUntil', () => {
      for (const t of [2 * H, 23 * H, 24 * H, 25 * H, 26 * H - 1]) {
        expect(planFiring(overdue, acked, at(t))).toEqual({ notifyUpTo: null, reason: null, level: 1, nextFireAt: ackUntil, ackExpired: false });
      }
    });

    test('after the pause, escalation resumes: level 2 (due at +24 h) is sent at once, and the resumption is recorded', () => {
      const p = planFiring(overdue, acked, ackUntil);
      expect(p).toEqual({ notifyUpTo: 2, reason: 'escalate', level: 2, nextFireAt: at(26 * H + DAY), ackExpired: true });
    });

    test('after the pause, a repeat that fell due during it is sent at once', () => {
      // level 3 reached at +3 d; acked at +3 d 1 h for 24 h; the daily repeat was due at +4 d
      const a = timing({ state: 'acknowledged', level: 3, lastNotifiedAt: at(3 * DAY), ackUntil: at(4 * DAY + H) });
      expect(planFiring(overdue, a, at(4 * DAY)).notifyUpTo).toBeNull();
      const p = planFiring(overdue, a, at(4 * DAY + H));
      expect(p).toEqual({ notifyUpTo: 3, reason: 'repeat', level: 3, nextFireAt: at(5 * DAY + H), ackExpired: true });
    });

    test('a short pause that ends before anything is due resumes the normal schedule (no extra message)', () => {
      const a = timing({ state: 'acknowledged', level: 1, lastNotifiedAt: at(0), ackUntil: at(3 * H) });
      const p = planFiring(overdue, a, at(3 * H));
      expect(p).toEqual({ notifyUpTo: null, reason: null, level: 1, nextFireAt: at(DAY), ackExpired: true });
      const after = apply(a, p, at(3 * H));
      expect(after.ackUntil).toBeNull();
      expect(planFiring(overdue, after, at(DAY)).notifyUpTo).toBe(2);
    });

    test('the whole timeline with an ack: open, pause, resume at ackUntil, then the normal schedule again', () => {
      const a = timing({ state: 'acknowledged', level: 1, lastNotifiedAt: at(0), ackUntil });
      let cur = a;
      let next: number = START + 2 * H;
      const fired: Array<[number, number, string]> = [];
      while (next <= START + 5 * DAY) {
        const now = new Date(next);
        const p = planFiring(overdue, cur, now);
        if (p.notifyUpTo) fired.push([(next - START) / H, p.notifyUpTo, p.reason!]);
        cur = apply(cur, p, now);
        next = p.nextFireAt!.getTime();
      }
      expect(fired).toEqual([
        [26, 2, 'escalate'], // held from +24 h to the end of the pause
        [50, 2, 'repeat'],
        [72, 3, 'escalate'], // level 3's delay counts from the condition's start, not from the pause
        [96, 3, 'repeat'],
        [120, 3, 'repeat'],
      ]);
    });
  });

  test('cleared → nothing, and nothing scheduled, whatever the timing says', () => {
    for (const a of [timing({ state: 'cleared' }), timing({ state: 'cleared', level: 2, lastNotifiedAt: at(0), ackUntil: at(10 * DAY) })]) {
      expect(planFiring(overdue, a, at(5 * DAY))).toEqual({ notifyUpTo: null, reason: null, level: a.level, nextFireAt: null, ackExpired: false });
    }
  });

  test('a condition that starts in the future is scheduled for its start, not fired', () => {
    const p = planFiring(overdue, timing(), at(-H));
    expect(p.notifyUpTo).toBeNull();
    expect(p.nextFireAt).toEqual(at(0));
  });

  test('nextFireAt is never in the past and never null while a level or a repeat is still ahead (sweep over states)', () => {
    const policies = [overdue, taskOverdue, DEFAULT_POLICIES.task_due_soon, DEFAULT_POLICIES.hazard_due_soon, DEFAULT_POLICIES.hazard_late_entry];
    const times = [-DAY, -1, 0, 1, H, 4 * H, DAY - 1, DAY, DAY + 1, 2 * DAY, 3 * DAY - 1, 3 * DAY, 3 * DAY + 7 * H, 10 * DAY];
    let checked = 0;
    for (const policy of policies) {
      const n = policy.levels.length;
      for (let level = 0; level <= n; level++) {
        for (const last of level === 0 ? [null] : [0, H, DAY, 3 * DAY, 9 * DAY]) {
          for (const ack of [null, 2 * H, 2 * DAY]) {
            for (const t of times) {
              if (last !== null && last > t) continue; // cannot have been notified in the future
              const a = timing({ level, lastNotifiedAt: last === null ? null : at(last), ackUntil: ack === null ? null : at(ack), state: ack === null ? 'open' : 'acknowledged' });
              const now = at(t);
              const p = planFiring(policy, a, now);
              checked++;
              if (p.nextFireAt !== null) expect(p.nextFireAt.getTime()).toBeGreaterThan(now.getTime());
              // still something ahead: a higher level, or a repeat of the level the alert is at
              const lvl = p.level;
              const moreLevels = lvl < n;
              const repeats = lvl > 0 && policy.levels[lvl - 1].repeatMs !== null;
              const paused = ack !== null && t < ack;
              if (moreLevels || repeats || paused) expect(p.nextFireAt).not.toBeNull();
              else expect(p.nextFireAt).toBeNull();
              expect(p.level).toBeGreaterThanOrEqual(level); // levels never go down
            }
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(500);
  });
});

// ─────────────────────────────────────────────────────────────────────────────────────────────
describe('policy schema', () => {
  const base = {
    kind: 'hazard_overdue',
    name: '超期未整改逐级提醒',
    ackTimeoutMs: DAY,
    levels: [
      { level: 1, delayMs: 0, repeatMs: DAY, notify: ['rectifier'] },
      { level: 2, delayMs: DAY, repeatMs: DAY, notify: ['department_head'] },
      { level: 3, delayMs: 3 * DAY, repeatMs: null, notify: ['principal'] },
    ],
  };
  const withLevels = (levels: unknown[]) => ({ ...base, levels });
  const issues = (data: unknown) => {
    const r = policySchema.safeParse(data);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  test('every default policy parses, one per alert kind, named by its kind', () => {
    for (const kind of ALERT_KINDS) {
      expect(parsePolicy(DEFAULT_POLICIES[kind])).toEqual(DEFAULT_POLICIES[kind]);
      expect(DEFAULT_POLICIES[kind].kind).toBe(kind);
    }
  });

  test('a valid policy parses; params default to {}', () => {
    expect(parsePolicy(base).params).toEqual({});
  });

  test('rejects levels not numbered 1..n in order', () => {
    expect(issues(withLevels([{ ...base.levels[0], level: 2 }]))).toEqual([expect.stringMatching(/^levels\.0\.level: levels must be numbered 1\.\.n/)]);
    expect(issues(withLevels([base.levels[0], { ...base.levels[1], level: 3 }]))).toEqual([expect.stringMatching(/^levels\.1\.level: /)]);
    expect(issues(withLevels([base.levels[0], { ...base.levels[1], level: 1 }]))).toEqual([expect.stringMatching(/^levels\.1\.level: /)]);
    expect(issues(withLevels([base.levels[1], base.levels[0]]))).toContainEqual(expect.stringMatching(/^levels\.0\.level: /));
    expect(issues(withLevels([{ ...base.levels[0], level: 0 }]))).not.toEqual([]);
    expect(issues(withLevels([]))).not.toEqual([]);
  });

  test('rejects delays that decrease from one level to the next (equal delays are allowed)', () => {
    expect(issues(withLevels([base.levels[0], { ...base.levels[1], delayMs: 3 * DAY }, base.levels[2]]))).toEqual([]);
    expect(issues(withLevels([base.levels[0], { ...base.levels[1], delayMs: 4 * DAY }, base.levels[2]]))).toEqual([
      'levels.2.delayMs: delays must not decrease from one level to the next',
    ]);
    expect(issues(withLevels([{ ...base.levels[0], delayMs: H }, { ...base.levels[1], delayMs: 0 }]))).toEqual([
      'levels.1.delayMs: delays must not decrease from one level to the next',
    ]);
  });

  test('rejects other bad values: unknown role, no role, repeat under a minute, negative delay, unknown param, short ack timeout', () => {
    expect(issues(withLevels([{ ...base.levels[0], notify: ['janitor'] }]))).not.toEqual([]);
    expect(issues(withLevels([{ ...base.levels[0], notify: [] }]))).not.toEqual([]);
    expect(issues(withLevels([{ ...base.levels[0], repeatMs: 59_999 }]))).not.toEqual([]);
    expect(issues(withLevels([{ ...base.levels[0], delayMs: -1 }]))).not.toEqual([]);
    expect(issues({ ...base, params: { leadDays: 3 } })).not.toEqual([]);
    expect(issues({ ...base, ackTimeoutMs: 1000 })).not.toEqual([]);
    expect(issues({ ...base, kind: 'coffee_break' })).not.toEqual([]);
  });
});

// ─────────────────────────────────────────────────────────────────────────────────────────────
describe('rolesUpTo', () => {
  test('collects the roles of levels 1..upTo in order, without duplicates', () => {
    expect(rolesUpTo(taskOverdue, 0, false)).toEqual([]);
    expect(rolesUpTo(taskOverdue, 1, false)).toEqual(['assignee', 'post_leader']);
    expect(rolesUpTo(taskOverdue, 2, false)).toEqual(['assignee', 'post_leader', 'department_head']);
    expect(rolesUpTo(taskOverdue, 3, false)).toEqual(['assignee', 'post_leader', 'department_head', 'safety_dept', 'technical_head']);
    expect(rolesUpTo(overdue, 3, false)).toEqual(['rectifier', 'acceptor', 'department_head', 'safety_director', 'principal']);
  });

  test('a 包保 task uses notifyForBaobao where a level has it (task overdue L2: 包保责任人 + 主要负责人)', () => {
    expect(rolesUpTo(taskOverdue, 1, true)).toEqual(['assignee', 'post_leader']);
    expect(rolesUpTo(taskOverdue, 2, true)).toEqual(['assignee', 'post_leader', 'mhs_responsible', 'principal']);
    expect(rolesUpTo(taskOverdue, 3, true)).toEqual(['assignee', 'post_leader', 'mhs_responsible', 'principal', 'safety_dept', 'technical_head']);
    // policies without notifyForBaobao are the same for 包保 subjects
    expect(rolesUpTo(overdue, 3, true)).toEqual(rolesUpTo(overdue, 3, false));
  });

  test('duplicates across levels are dropped', () => {
    const p = parsePolicy({
      kind: 'task_overdue',
      name: 'x',
      ackTimeoutMs: H,
      levels: [
        { level: 1, delayMs: 0, repeatMs: null, notify: ['assignee', 'principal'] },
        { level: 2, delayMs: H, repeatMs: null, notify: ['principal', 'safety_dept', 'assignee'] },
      ],
    });
    expect(rolesUpTo(p, 2, false)).toEqual(['assignee', 'principal', 'safety_dept']);
  });
});

// ─────────────────────────────────────────────────────────────────────────────────────────────
describe('taskDueSoonAt (default: 20 % of the window or 1 h before the end, never before mid-window)', () => {
  const params = DEFAULT_POLICIES.task_due_soon.params;
  const s = new Date('2026-11-30T04:00:00.000Z'); // 12:00 Asia/Shanghai
  const due = (windowMs: number) => taskDueSoonAt(s, new Date(s.getTime() + windowMs), params).getTime() - s.getTime();

  test('1 h window: the 1 h lead would be the whole window — due soon at mid-window (+30 min)', () => {
    expect(due(H)).toBe(30 * MIN);
  });
  test('2 h window: 1 h before the end (+1 h), which is also mid-window', () => {
    expect(due(2 * H)).toBe(H);
  });
  test('12 h window (08:00–20:00): 20 % = 2 h 24 min before the end → +9 h 36 min (17:36)', () => {
    expect(due(12 * H)).toBe(9 * H + 36 * MIN);
    expect(taskDueSoonAt(new Date('2026-11-30T00:00:00.000Z'), new Date('2026-11-30T12:00:00.000Z'), params).toISOString()).toBe('2026-11-30T09:36:00.000Z');
  });
  test('7-day window: 20 % = 33 h 36 min before the end → +5 d 14 h 24 min', () => {
    expect(due(7 * DAY)).toBe(5 * DAY + 14 * H + 24 * MIN);
  });
  test('30-minute window: mid-window (+15 min)', () => {
    expect(due(30 * MIN)).toBe(15 * MIN);
  });
  test('params are honoured (fraction 0.1, min lead 0) and the defaults apply when params are empty', () => {
    expect(taskDueSoonAt(s, new Date(s.getTime() + 10 * H), { dueSoonFraction: 0.1, dueSoonMinLeadMs: 0 }).getTime() - s.getTime()).toBe(9 * H);
    expect(taskDueSoonAt(s, new Date(s.getTime() + 12 * H), {}).getTime() - s.getTime()).toBe(9 * H + 36 * MIN);
  });
});

describe('hazardDueSoonAt', () => {
  const params = DEFAULT_POLICIES.hazard_due_soon.params;
  // deadline 2026-12-05 in Asia/Shanghai ends at 2026-12-05T16:00Z
  const deadline = new Date('2026-12-05T16:00:00.000Z');
  test('一般隐患: 3 days before the deadline', () => {
    expect(hazardDueSoonAt(deadline, 0, params).toISOString()).toBe('2026-12-02T16:00:00.000Z');
  });
  test('重大隐患: 7 days before the deadline', () => {
    expect(hazardDueSoonAt(deadline, 1, params).toISOString()).toBe('2026-11-28T16:00:00.000Z');
  });
  test('defaults without params; overrides with params', () => {
    expect(hazardDueSoonAt(deadline, 0, {}).toISOString()).toBe('2026-12-02T16:00:00.000Z');
    expect(hazardDueSoonAt(deadline, 1, {}).toISOString()).toBe('2026-11-28T16:00:00.000Z');
    expect(hazardDueSoonAt(deadline, 0, { leadMs: DAY, majorLeadMs: 2 * DAY }).toISOString()).toBe('2026-12-04T16:00:00.000Z');
    expect(hazardDueSoonAt(deadline, 1, { leadMs: DAY, majorLeadMs: 2 * DAY }).toISOString()).toBe('2026-12-03T16:00:00.000Z');
  });
});

describe('isLateEntry (government-found hazard entered more than 7 local days after it was found)', () => {
  const params = DEFAULT_POLICIES.hazard_late_entry.params;
  const tz = 'Asia/Shanghai';
  // found on 2026-11-21 (local; stored as the start of that day)
  const found = new Date('2026-11-20T16:00:00.000Z');
  const at = (iso: string) => new Date(iso);
  test('entered by the end of D+7 is in time; on D+8 it is late (local calendar days, not instants)', () => {
    expect(isLateEntry(10, found, at('2026-11-28T10:00:00+08:00'), params, tz)).toBe(false);
    expect(isLateEntry(10, found, at('2026-11-28T23:59:59+08:00'), params, tz)).toBe(false);
    expect(isLateEntry(10, found, at('2026-11-29T00:00:00+08:00'), params, tz)).toBe(true);
    expect(isLateEntry(10, found, at('2026-11-30T12:00:00+08:00'), params, tz)).toBe(true);
  });
  test('the day boundary is the enterprise zone\'s, not UTC', () => {
    // 2026-11-28T20:00Z is already 11-29 04:00 in Shanghai: late there, in time in UTC
    expect(isLateEntry(10, found, at('2026-11-28T20:00:00Z'), params, 'Asia/Shanghai')).toBe(true);
    expect(isLateEntry(10, new Date('2026-11-21T00:00:00Z'), at('2026-11-28T20:00:00Z'), params, 'UTC')).toBe(false);
  });
  test('only dangerSrc 10 (government inspection) counts', () => {
    for (const src of [1, 2, 3, 8, 9]) expect(isLateEntry(src, found, at('2026-12-30T00:00:00Z'), params, tz)).toBe(false);
  });
  test('the limit is a parameter (days; an older ms value is read as days)', () => {
    expect(isLateEntry(10, found, at('2026-11-24T12:00:00+08:00'), { entryLimitDays: 2 }, tz)).toBe(true);
    expect(isLateEntry(10, found, at('2026-11-23T12:00:00+08:00'), { entryLimitDays: 2 }, tz)).toBe(false);
    expect(isLateEntry(10, found, at('2026-11-24T12:00:00+08:00'), { entryLimitMs: 2 * DAY }, tz)).toBe(true);
    expect(isLateEntry(10, found, at('2026-11-29T12:00:00+08:00'), {}, tz)).toBe(true);
  });
});
