/**
 * The engine's scan rules (server/domain/scan.ts): what a due task instance or hazard means at
 * `now`, and how several rows' steps on one alert fold into one clear + one open. Pure: every `now`
 * and every policy parameter is passed in.
 *
 * Sources: domain.md "Alerts and escalation" (临期/逾期未排查, 临期/超期未整改 with −3 d / −7 d leads,
 * 重大隐患, a government finding entered later than 7 local days), "RiskUnit" (停用检修).
 */
import { DEFAULT_POLICIES, type AlertKind } from '../../server/domain/escalation';
import { decideHazard, decideInstance, missedCountAfter, netAlertChange, type AlertStep, type HazardContext, type HazardFacts, type InstanceFacts } from '../../server/domain/scan';

const H = 3_600_000;
const DAY = 24 * H;
const NOW = new Date('2026-11-30T04:00:00.000Z'); // 12:00 Asia/Shanghai
const at = (ms: number) => new Date(NOW.getTime() + ms);

describe('decideInstance', () => {
  const pending = (p: Partial<InstanceFacts> = {}): InstanceFacts => ({ state: 'pending', taskEnabled: true, suspended: false, endAt: at(H), nextCheckAt: at(-H / 2), ...p });

  test('before the window ends: 临期未排查 from the due-soon moment the generator set, look again at the end, state unchanged', () => {
    expect(decideInstance(pending(), NOW)).toEqual({ nextCheckAt: at(H), clear: null, open: { kind: 'task_due_soon', conditionStartAt: at(-H / 2) } });
  });

  test('a due-soon moment unknown (nextCheckAt null) starts the condition now', () => {
    expect(decideInstance(pending({ nextCheckAt: null }), NOW).open).toEqual({ kind: 'task_due_soon', conditionStartAt: NOW });
  });

  test('at the end of the window (not a millisecond later needed): missed, reminder ends, 逾期未排查 from the end', () => {
    for (const endAt of [NOW, at(-DAY)]) {
      expect(decideInstance(pending({ endAt }), NOW)).toEqual({
        state: 'missed',
        nextCheckAt: null,
        clear: { kinds: ['task_due_soon'], reason: '排查时段已结束，转为逾期未排查' },
        open: { kind: 'task_overdue', conditionStartAt: endAt },
      });
    }
    expect(decideInstance(pending({ endAt: at(1) }), NOW).state).toBeUndefined();
  });

  test('a unit shut down (停用检修): a pending instance is suspended, never overdue, and its reminder ends — even past the window', () => {
    for (const endAt of [at(H), at(-H)]) {
      expect(decideInstance(pending({ suspended: true, endAt }), NOW)).toEqual({
        state: 'suspended',
        nextCheckAt: null,
        clear: { kinds: ['task_due_soon'], reason: '风险单元停用检修，排查任务暂停' },
        open: null,
      });
    }
  });

  test('a disabled task: stop watching, the reminder ends, the state stays pending (a shutdown still names the reason and suspends)', () => {
    expect(decideInstance(pending({ taskEnabled: false }), NOW)).toEqual({ nextCheckAt: null, clear: { kinds: ['task_due_soon'], reason: '排查任务已停用' }, open: null });
    expect(decideInstance(pending({ taskEnabled: false, suspended: true }), NOW)).toMatchObject({ state: 'suspended', clear: { reason: '风险单元停用检修，排查任务暂停' } });
  });

  test('an instance no longer pending (done, missed, suspended): only stop watching — its alerts are not the engine\'s to touch', () => {
    for (const state of ['done', 'missed', 'suspended']) {
      expect(decideInstance(pending({ state, endAt: at(-H) }), NOW)).toEqual({ nextCheckAt: null, clear: null, open: null });
      expect(decideInstance(pending({ state, suspended: true, taskEnabled: false }), NOW)).toEqual({ nextCheckAt: null, clear: null, open: null });
    }
  });

  test('missed count on an open task_overdue: the stored count (1 when absent) plus the windows missed now', () => {
    expect(missedCountAfter(undefined, 1)).toBe(2);
    expect(missedCountAfter(null, 3)).toBe(4);
    expect(missedCountAfter(5, 2)).toBe(7);
  });
});

describe('decideHazard', () => {
  const DEADLINE = at(10 * DAY);
  const hazard = (p: Partial<HazardFacts> = {}): HazardFacts => ({ state: 'rectifying', dangerLevel: 0, dangerSrc: 1, foundAt: at(-DAY), reportedAt: at(-DAY), deadlineAt: DEADLINE, ...p });
  const ctx = (p: Partial<HazardContext> = {}): HazardContext => ({
    tz: 'Asia/Shanghai',
    raised: new Set(),
    params: (kind) => DEFAULT_POLICIES[kind].params ?? {},
    ...p,
  });

  test('a draft: stop watching, nothing opened or cleared (not in the loop until reported)', () => {
    expect(decideHazard(hazard({ state: 'draft', dangerLevel: 1, deadlineAt: at(-DAY) }), ctx(), NOW)).toEqual({ nextCheckAt: null, open: [], clear: null });
  });

  test('before the due-soon moment (一般: deadline − 3 d): no deadline alert (an overdue or due-soon one left from before the extension ends), look again at it', () => {
    expect(decideHazard(hazard(), ctx(), NOW)).toEqual({ nextCheckAt: at(7 * DAY), open: [], clear: { kinds: ['hazard_overdue', 'hazard_due_soon'], reason: '整改期限已延后' } });
  });

  test('from the due-soon moment: 临期未整改 from it, any overdue alert ends (deadline extended), look again at the deadline', () => {
    for (const now of [at(7 * DAY), at(10 * DAY - 1)]) {
      expect(decideHazard(hazard(), ctx(), now)).toEqual({
        nextCheckAt: DEADLINE,
        open: [{ kind: 'hazard_due_soon', conditionStartAt: at(7 * DAY) }],
        clear: { kinds: ['hazard_overdue'], reason: '整改期限已延后，不再超期' },
      });
    }
  });

  test('重大隐患 lead is 7 days, and the policy parameter decides it', () => {
    expect(decideHazard(hazard({ dangerLevel: 1 }), ctx({ raised: new Set(['major_hazard']) }), NOW).nextCheckAt).toEqual(at(3 * DAY));
    expect(decideHazard(hazard(), ctx({ params: () => ({ leadMs: DAY }) }), NOW).nextCheckAt).toEqual(at(9 * DAY));
  });

  test('at the deadline: 超期未整改 from it, the due-soon reminder ends, nothing more to watch', () => {
    expect(decideHazard(hazard(), ctx(), DEADLINE)).toEqual({
      nextCheckAt: null,
      open: [{ kind: 'hazard_overdue', conditionStartAt: DEADLINE }],
      clear: { kinds: ['hazard_due_soon'], reason: '已超过整改期限，转为超期未整改' },
    });
  });

  test('reported and awaiting acceptance are open states too (a rectified hazard stays overdue until accepted)', () => {
    for (const state of ['reported', 'awaiting_acceptance']) expect(decideHazard(hazard({ state }), ctx(), DEADLINE).open).toEqual([{ kind: 'hazard_overdue', conditionStartAt: DEADLINE }]);
  });

  test('open without a deadline: the deadline alerts end, nothing to watch', () => {
    expect(decideHazard(hazard({ deadlineAt: null }), ctx(), NOW)).toEqual({ nextCheckAt: null, open: [], clear: { kinds: ['hazard_due_soon', 'hazard_overdue'], reason: '隐患已无整改期限' } });
  });

  test('closed: every alert of the hazard ends, with the reason of how it closed; no event alert is raised any more', () => {
    const closedMajor = { dangerLevel: 1, dangerSrc: 10, foundAt: at(-30 * DAY), deadlineAt: at(-DAY) };
    expect(decideHazard(hazard({ state: 'accepted', ...closedMajor }), ctx(), NOW)).toEqual({
      nextCheckAt: null,
      open: [],
      clear: { kinds: ['hazard_due_soon', 'hazard_overdue', 'major_hazard', 'hazard_late_entry'], reason: '隐患已验收销号' },
    });
    expect(decideHazard(hazard({ state: 'rejected', ...closedMajor }), ctx(), NOW).clear?.reason).toBe('已判定不属于隐患');
  });

  test('重大隐患 and a late government finding are raised from the report, once: not again once the hazard had one (a manual 销警 stays)', () => {
    const h = hazard({ dangerLevel: 1, dangerSrc: 10, foundAt: at(-10 * DAY), reportedAt: at(-DAY), deadlineAt: at(-H) });
    expect(decideHazard(h, ctx(), NOW).open).toEqual([
      { kind: 'major_hazard', conditionStartAt: at(-DAY) },
      { kind: 'hazard_late_entry', conditionStartAt: at(-DAY) },
      { kind: 'hazard_overdue', conditionStartAt: at(-H) },
    ]);
    const raised = new Set<AlertKind>(['major_hazard', 'hazard_late_entry']);
    expect(decideHazard(h, ctx({ raised }), NOW).open).toEqual([{ kind: 'hazard_overdue', conditionStartAt: at(-H) }]);
  });

  test('a government finding entered within 7 local days is not late; its policy can shorten the limit', () => {
    const h = hazard({ dangerSrc: 10, foundAt: at(-7 * DAY), reportedAt: NOW });
    expect(decideHazard(h, ctx(), NOW).open).toEqual([]);
    expect(decideHazard(h, ctx({ params: (k) => (k === 'hazard_late_entry' ? { entryLimitDays: 3 } : {}) }), NOW).open).toEqual([{ kind: 'hazard_late_entry', conditionStartAt: NOW }]);
    // the same delay from another source is not a late entry
    expect(decideHazard(hazard({ dangerSrc: 1, foundAt: at(-30 * DAY) }), ctx(), NOW).open).toEqual([]);
  });
});

describe('netAlertChange: several rows of a batch on one (kind, subject)', () => {
  const open = (p: string): AlertStep<string> => ({ op: 'open', payload: p });
  const clear = (reason: string): AlertStep<string> => ({ op: 'clear', reason });

  test('nothing asked: nothing done', () => {
    expect(netAlertChange<string>([])).toEqual({ clearReason: null, open: null, opens: 0 });
  });

  test('opens only: the first row opens it (when none is open), every row counts — three windows of a task missed at once', () => {
    expect(netAlertChange([open('a'), open('b'), open('c')])).toEqual({ clearReason: null, open: 'a', opens: 3 });
  });

  test('clear then open (a missed window ends the reminder, a later window is due soon): the old alert ends, a new one opens', () => {
    expect(netAlertChange([clear('r1'), open('b')])).toEqual({ clearReason: 'r1', open: 'b', opens: 1 });
  });

  test('the first clear names why the alert open before the batch ended; later clears find nothing open', () => {
    expect(netAlertChange([clear('r1'), clear('r2')])).toEqual({ clearReason: 'r1', open: null, opens: 0 });
  });

  test('an alert opened and cleared again within the batch is not created (it would never have fired); the one opened after the last clear stays', () => {
    expect(netAlertChange([open('a'), clear('r1')])).toEqual({ clearReason: 'r1', open: null, opens: 0 });
    expect(netAlertChange([open('a'), clear('r1'), open('b'), open('c')])).toEqual({ clearReason: 'r1', open: 'b', opens: 2 });
  });
});
