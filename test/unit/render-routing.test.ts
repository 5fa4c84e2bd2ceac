/**
 * Who gets a firing and what it says: routing (server/domain/routing.ts), recipient resolution
 * (recipients.ts), rendering (render.ts), who may act on an alert (alert-permissions.ts) and the
 * hazard state machine (hazard-state.ts). Pure; dates are read in the enterprise's zone, so the
 * results must not depend on the host TZ (npm test runs the unit tests under UTC and Shanghai).
 */
import { OUTBOX_CHANNEL, routeRecipients, type RoutableDestination } from '../../server/domain/routing';
import { resolveLevels, resolveRole, type RoleHolders, type SubjectPeople } from '../../server/domain/recipients';
import { alertCode, detailLines, parseAlertCode, renderAlertMessage, type AlertDetail } from '../../server/domain/render';
import { alertActionDenied, type ActorFacts, type AlertAction } from '../../server/domain/alert-permissions';
import { HAZARD_STATES, nationalHazardState, nextHazardState, type HazardAction, type HazardState } from '../../server/domain/hazard-state';
import { DEFAULT_POLICIES } from '../../server/domain/escalation';
import type { RecipientRole } from '../../server/domain/roles';

const SH = 'Asia/Shanghai';

// ─────────────────────────────────────────────────────────────────────────────────────────────
describe('routeRecipients', () => {
  const g1: RoutableDestination = { id: 11, code: 'g1', channel: 'wecom_robot', memberIds: [5, 6, 7, 8, 4] };
  const g2: RoutableDestination = { id: 12, code: 'g2', channel: 'wecom_robot', memberIds: [1, 2, 3, 4, 5] };
  const d1: RoutableDestination = { id: 21, code: 'd1', channel: 'dingtalk_robot', memberIds: [2, 9, 10] };
  const all = new Set(['g1', 'g2', 'd1']);

  test('group members go to the group (to be @mentioned there), the rest to the outbox', () => {
    expect(routeRecipients([7, 16, 6], [g1], all)).toEqual([
      { channel: 'wecom_robot', destinationId: 11, recipientIds: [7, 6] },
      { channel: OUTBOX_CHANNEL, destinationId: null, recipientIds: [16] },
    ]);
  });

  test('everyone reached by some group: no outbox entry', () => {
    expect(routeRecipients([7, 9], [g1, d1], all)).toEqual([
      { channel: 'wecom_robot', destinationId: 11, recipientIds: [7] },
      { channel: 'dingtalk_robot', destinationId: 21, recipientIds: [9] },
    ]);
  });

  test('a person in two groups is @mentioned in both; groups holding no recipient get nothing', () => {
    expect(routeRecipients([5, 16], [g1, g2, d1], all)).toEqual([
      { channel: 'wecom_robot', destinationId: 11, recipientIds: [5] },
      { channel: 'wecom_robot', destinationId: 12, recipientIds: [5] },
      { channel: OUTBOX_CHANNEL, destinationId: null, recipientIds: [16] },
    ]);
  });

  test('nobody to notify (every role unresolved): an outbox entry still exists, saying so', () => {
    expect(routeRecipients([], [g1, g2], all)).toEqual([{ channel: OUTBOX_CHANNEL, destinationId: null, recipientIds: [] }]);
    expect(routeRecipients([], [], new Set())).toEqual([{ channel: OUTBOX_CHANNEL, destinationId: null, recipientIds: [] }]);
  });

  test('groups whose robot is not configured are ignored: their members go to the outbox', () => {
    expect(routeRecipients([7, 1], [g1, g2], new Set(['g2']))).toEqual([
      { channel: 'wecom_robot', destinationId: 12, recipientIds: [1] },
      { channel: OUTBOX_CHANNEL, destinationId: null, recipientIds: [7] },
    ]);
    expect(routeRecipients([7, 1], [g1, g2], new Set())).toEqual([{ channel: OUTBOX_CHANNEL, destinationId: null, recipientIds: [7, 1] }]);
  });

  describe('with a per-person channel (the WeCom app)', () => {
    // 7, 16 and 5 have a WeCom userid; 6 and 9 do not
    const app = { channel: 'wecom_app', reaches: (id: number) => [7, 16, 5].includes(id) };

    test('each person it reaches gets a route of their own; only the others go to the outbox', () => {
      expect(routeRecipients([7, 16, 6], [], new Set(), app)).toEqual([
        { channel: 'wecom_app', destinationId: null, recipientIds: [7] },
        { channel: 'wecom_app', destinationId: null, recipientIds: [16] },
        { channel: OUTBOX_CHANNEL, destinationId: null, recipientIds: [6] },
      ]);
    });

    test('group robots stay as they are (still @mentioning app users); no outbox when everyone is reached', () => {
      expect(routeRecipients([7, 16, 9], [g1, d1], all, app)).toEqual([
        { channel: 'wecom_robot', destinationId: 11, recipientIds: [7] },
        { channel: 'dingtalk_robot', destinationId: 21, recipientIds: [9] },
        { channel: 'wecom_app', destinationId: null, recipientIds: [7] },
        { channel: 'wecom_app', destinationId: null, recipientIds: [16] },
      ]);
    });

    test('a person listed twice gets one card; nobody reachable and no group → outbox as before', () => {
      expect(routeRecipients([5, 5], [], new Set(), app)).toEqual([{ channel: 'wecom_app', destinationId: null, recipientIds: [5] }]);
      expect(routeRecipients([6, 9], [], new Set(), app)).toEqual([{ channel: OUTBOX_CHANNEL, destinationId: null, recipientIds: [6, 9] }]);
      expect(routeRecipients([], [], new Set(), app)).toEqual([{ channel: OUTBOX_CHANNEL, destinationId: null, recipientIds: [] }]);
    });

    test('without the option nothing changes (the app is not configured)', () => {
      expect(routeRecipients([7, 16], [], new Set())).toEqual([{ channel: OUTBOX_CHANNEL, destinationId: null, recipientIds: [7, 16] }]);
    });

    test('several personal channels in order of preference: each person gets the first that reaches them, only one', () => {
      // 16 and 9 have a subscribe consent left; 16 also has a WeCom userid
      const subscribe = { channel: 'wechat_subscribe', reaches: (id: number) => [16, 9].includes(id) };
      expect(routeRecipients([7, 16, 9, 13], [g1], all, [app, subscribe])).toEqual([
        { channel: 'wecom_robot', destinationId: 11, recipientIds: [7] },
        { channel: 'wecom_app', destinationId: null, recipientIds: [7] },
        { channel: 'wecom_app', destinationId: null, recipientIds: [16] },
        { channel: 'wechat_subscribe', destinationId: null, recipientIds: [9] },
        { channel: OUTBOX_CHANNEL, destinationId: null, recipientIds: [13] },
      ]);
      expect(routeRecipients([16, 9], [], new Set(), [subscribe, app])).toEqual([
        { channel: 'wechat_subscribe', destinationId: null, recipientIds: [16] },
        { channel: 'wechat_subscribe', destinationId: null, recipientIds: [9] },
      ]);
      expect(routeRecipients([6], [], new Set(), [])).toEqual([{ channel: OUTBOX_CHANNEL, destinationId: null, recipientIds: [6] }]);
    });
  });
});

// ─────────────────────────────────────────────────────────────────────────────────────────────
describe('resolveRole / resolveLevels', () => {
  // demo-like ids: 1 主要负责人, 2 技术负责人, 3 安全总监, 4 安全员, 5 罐区主管 (操作负责人), 6 班长, 7/8 操作工
  const holders: RoleHolders = { principal: [1], technicalHead: [2], safetyDept: [3, 4], safetyDirector: [3] };
  const tankTask: SubjectPeople = {
    assignee: [7, 8],
    postLeader: [6],
    departmentHead: [5],
    rectifier: [],
    acceptor: [],
    reporter: [],
    mhs: { principal: 1, technical: 2, operational: 5 },
    baobao: false,
  };
  const roles = (p: typeof DEFAULT_POLICIES.task_overdue, baobao: boolean): RecipientRole[][] =>
    p.levels.map((l) => (baobao && l.notifyForBaobao ? l.notifyForBaobao : l.notify));

  test('each level adds only people not named at a lower level', () => {
    const r = resolveLevels(roles(DEFAULT_POLICIES.task_overdue, false), tankTask, holders);
    // L1 assignee + post leader; L2 department head; L3 safety dept (3, 4) + technical head (the MHS's 2)
    expect(r).toEqual({ levels: [[7, 8, 6], [5], [3, 4, 2]], unresolved: [] });
  });

  test('a 包保 task: level 2 names the 包保责任人 and the 主要负责人, deduplicated against level 1', () => {
    const baobao: SubjectPeople = { ...tankTask, assignee: [5], postLeader: [], departmentHead: [], baobao: true };
    const r = resolveLevels(roles(DEFAULT_POLICIES.task_overdue, true), baobao, holders);
    expect(r.levels).toEqual([[5], [1, 2], [3, 4]]);
    expect(r.unresolved).toEqual([{ level: 1, role: 'post_leader' }]);
  });

  test('the same person under several roles and levels appears once, at the lowest level', () => {
    const p: SubjectPeople = { ...tankTask, assignee: [5], postLeader: [5], departmentHead: [5, 6] };
    const r = resolveLevels([['assignee', 'post_leader'], ['department_head', 'assignee'], ['principal']], p, holders);
    expect(r.levels).toEqual([[5], [6], [1]]);
  });

  test('roles that resolve to nobody are reported with their level, never silently dropped', () => {
    const orphan: SubjectPeople = { ...tankTask, postLeader: [], departmentHead: [], mhs: null };
    const r = resolveLevels(roles(DEFAULT_POLICIES.task_overdue, false), orphan, { principal: [], technicalHead: [], safetyDept: [], safetyDirector: [] });
    expect(r.levels).toEqual([[7, 8], [], []]);
    expect(r.unresolved).toEqual([
      { level: 1, role: 'post_leader' },
      { level: 2, role: 'department_head' },
      { level: 3, role: 'safety_dept' },
      { level: 3, role: 'technical_head' },
    ]);
  });

  test('principal / technical_head: the subject\'s 重大危险源 person, else the enterprise\'s role holders', () => {
    const noMhs: SubjectPeople = { ...tankTask, mhs: null };
    const holders2: RoleHolders = { principal: [1, 31], technicalHead: [2, 32], safetyDept: [], safetyDirector: [] };
    expect(resolveRole('principal', tankTask, holders2)).toEqual([1]);
    expect(resolveRole('principal', noMhs, holders2)).toEqual([1, 31]);
    expect(resolveRole('technical_head', noMhs, holders2)).toEqual([2, 32]);
    // a 重大危险源 without a 主要负责人 on record also falls back
    const vacant: SubjectPeople = { ...tankTask, mhs: { principal: null, technical: 42, operational: null } };
    expect(resolveRole('principal', vacant, holders2)).toEqual([1, 31]);
    expect(resolveRole('technical_head', vacant, holders2)).toEqual([42]);
    expect(resolveRole('mhs_responsible', vacant, holders2)).toEqual([42]);
    expect(resolveRole('mhs_responsible', noMhs, holders2)).toEqual([]);
    const r = resolveLevels(roles(DEFAULT_POLICIES.hazard_overdue, false), { ...noMhs, rectifier: [16], acceptor: [6] }, holders2);
    expect(r.levels).toEqual([[16, 6], [5], [1, 31]]);
    expect(r.unresolved).toEqual([{ level: 3, role: 'safety_director' }]);
  });
});

// ─────────────────────────────────────────────────────────────────────────────────────────────
describe('parseAlertCode', () => {
  test.each([
    ['A123', 123],
    ['a123', 123],
    [' A123 ', 123],
    ['123', 123],
    ['１２３', 123],
    ['Ａ１２３', 123],
    ['ａ７', 7],
    ['A000123', 123],
    ['A999999999', 999999999],
  ])('%j → %p', (s, n) => expect(parseAlertCode(s)).toBe(n));

  test.each(['', 'A', 'B123', 'AA123', 'A12x', 'A-1', 'A1.5', '确认 A123', 'A 123', 'A1234567890', '一二三'])('%j → null', (s) => {
    expect(parseAlertCode(s)).toBeNull();
  });

  test('round-trips alertCode', () => {
    for (const id of [1, 42, 123456]) expect(parseAlertCode(alertCode(id))).toBe(id);
  });
});

// ─────────────────────────────────────────────────────────────────────────────────────────────
describe('detailLines', () => {
  const hazard = (p: Partial<Extract<AlertDetail, { type: 'hazard' }>> = {}): AlertDetail => ({
    type: 'hazard',
    tz: SH,
    hazardCode: 'YH-DEMO-1',
    hazardName: 'V-101B 远传液位与现场液位计偏差超过5%',
    unitName: '液氯储罐 V-101A/B',
    dangerLevel: 0,
    deadlineDate: '2026-11-25',
    rectifierName: '胡婷',
    acceptorName: '刘洋',
    ...p,
  });
  const deadlineLine = (now: string, d = hazard()) => detailLines('hazard_overdue', d, new Date(now)).find((l) => l.startsWith('整改期限'));

  test('overdue days are local calendar days: deadline 11-25 read at 11-30 00:30 (+08:00) → 已超期 5 天', () => {
    // 2026-11-29T16:30Z: in UTC still the 29th (a UTC reading would say 4)
    expect(deadlineLine('2026-11-30T00:30:00+08:00')).toBe('整改期限：2026-11-25（已超期 5 天）');
  });

  test('… and at 11-29 23:59 (+08:00) → 已超期 4 天', () => {
    expect(deadlineLine('2026-11-29T23:59:00+08:00')).toBe('整改期限：2026-11-25（已超期 4 天）');
  });

  test('the same instant in another enterprise zone counts that zone\'s days', () => {
    // 2026-11-29T16:30Z is still the 29th in Berlin
    expect(deadlineLine('2026-11-29T16:30:00Z', hazard({ tz: 'Europe/Berlin' }))).toBe('整改期限：2026-11-25（已超期 4 天）');
  });

  test('on the deadline day: 今日到期; before it: 剩余 N 天', () => {
    expect(deadlineLine('2026-11-25T23:59:59+08:00')).toBe('整改期限：2026-11-25（今日到期）');
    expect(deadlineLine('2026-11-25T00:00:00+08:00')).toBe('整改期限：2026-11-25（今日到期）');
    expect(deadlineLine('2026-11-24T23:59:59+08:00')).toBe('整改期限：2026-11-25（剩余 1 天）');
    expect(deadlineLine('2026-11-22T08:00:00+08:00')).toBe('整改期限：2026-11-25（剩余 3 天）');
  });

  test('late entry: days between the local found and entered dates', () => {
    const d = hazard({
      enforcementId: '演示执法-2024-017',
      // found 11-21 07:30 Shanghai (= 11-20 23:30Z), entered 11-30 09:00 Shanghai: 9 local days (10 UTC dates apart)
      foundAt: '2026-11-20T23:30:00.000Z',
      reportedAt: '2026-11-30T01:00:00.000Z',
      deadlineDate: '2026-12-10',
    });
    const lines = detailLines('hazard_late_entry', d, new Date('2026-11-30T01:00:00.000Z'));
    expect(lines).toContain('发现日期：2026-11-21，录入日期：2026-11-30（9 天后录入，超过 7 天时限）');
    expect(lines).toContain('执法编号：演示执法-2024-017');
    // the found/entered line belongs to the late-entry alert only
    expect(detailLines('hazard_overdue', d, new Date('2026-11-30T01:00:00.000Z')).some((l) => l.startsWith('发现日期'))).toBe(false);
  });

  test('hazard lines: level, people and code, most important first', () => {
    const lines = detailLines('hazard_overdue', hazard({ dangerLevel: 1, majorCriterion: 4 }), new Date('2026-11-30T04:00:00Z'));
    expect(lines).toEqual([
      '风险单元：液氯储罐 V-101A/B',
      '隐患等级：重大隐患（判定标准第 4 条）',
      '整改期限：2026-11-25（已超期 5 天）',
      '整改责任人：胡婷',
      '验收人：刘洋',
      '隐患编号：YH-DEMO-1',
    ]);
  });

  test('task lines: the window in local time and how long it is overdue', () => {
    const task: AlertDetail = {
      type: 'task',
      tz: SH,
      taskCode: 'T10',
      taskContent: '记录反应压力、温度',
      unitName: '加氢反应器 R-301',
      postName: '加氢操作工',
      windowStart: '2026-11-30T04:00:00.000Z',
      windowEnd: '2026-11-30T05:00:00.000Z',
      instanceId: 9,
      missedCount: 3,
    };
    expect(detailLines('task_overdue', task, new Date('2026-12-01T07:05:00.000Z'))).toEqual([
      '风险单元：加氢反应器 R-301',
      '排查时段：2026-11-30 12:00 ～ 2026-11-30 13:00',
      '状态：已逾期 1 天 2 小时（累计漏检 3 次）',
      '责任岗位：加氢操作工',
      '任务编号：T10',
    ]);
    expect(detailLines('task_due_soon', task, new Date('2026-11-30T04:35:30.000Z'))[2]).toBe('状态：距截止还有 25 分钟');
  });

  test('renderAlertMessage: title with level and reason, alert code with the local time, unresolved roles', () => {
    const m = renderAlertMessage({
      alertId: 123,
      kind: 'hazard_overdue',
      detail: hazard(),
      level: 3,
      reason: 'escalate',
      now: new Date('2026-11-29T16:30:00.000Z'),
      recipients: [{ personId: 16, name: '胡婷' }],
      unresolvedRoles: ['安全总监'],
    });
    expect(m.alertCode).toBe('A123');
    expect(m.title).toBe('【超期未整改·三级·升级】V-101B 远传液位与现场液位计偏差超过5%');
    expect(m.lines).toContain('整改期限：2026-11-25（已超期 5 天）');
    expect(m.lines).toContain('预警编号：A123（2026-11-30 00:30）');
    expect(m.lines[m.lines.length - 1]).toBe('注意：未找到以下角色的人员：安全总监');
    expect(m.firedAt).toBe('2026-11-29T16:30:00.000Z');
    const repeat = renderAlertMessage({ alertId: 7, kind: 'hazard_due_soon', detail: hazard(), level: 1, reason: 'repeat', now: new Date('2026-11-24T00:00:00Z'), recipients: [] });
    expect(repeat.title).toBe('【临期未整改·一级·再次提醒】V-101B 远传液位与现场液位计偏差超过5%');
    const open = renderAlertMessage({ alertId: 7, kind: 'hazard_due_soon', detail: hazard(), level: 1, reason: 'open', now: new Date('2026-11-24T00:00:00Z'), recipients: [] });
    expect(open.title).toBe('【临期未整改·一级】V-101B 远传液位与现场液位计偏差超过5%');
  });
});

// ─────────────────────────────────────────────────────────────────────────────────────────────
describe('alert permissions', () => {
  const facts = (p: Partial<ActorFacts>): ActorFacts => ({ roles: ['frontline'], addressed: false, addressedToSubordinate: false, sameEnterprise: true, ...p });
  const verdict = (f: ActorFacts) =>
    (['acknowledge', 'handle', 'clear'] as AlertAction[]).map((a) => (alertActionDenied(a, f) === null ? 'ok' : alertActionDenied(a, f)!.en));

  const NOT_MINE = 'alert is not addressed to you or your subordinates';
  const NO_CLEAR = 'your role may not clear alerts by hand';
  const READ_ONLY = 'regulator accounts are read-only';
  const OTHER = 'alert belongs to another enterprise';

  test.each<[string, Partial<ActorFacts>, string[]]>([
    ['addressed frontline worker: ack/handle, not clear', { addressed: true }, ['ok', 'ok', NO_CLEAR]],
    ['addressed post leader: ack/handle, not clear', { roles: ['post_leader'], addressed: true }, ['ok', 'ok', NO_CLEAR]],
    ['addressed department head: everything', { roles: ['department_head'], addressed: true }, ['ok', 'ok', 'ok']],
    ['department head, alert addressed to a subordinate: everything', { roles: ['department_head'], addressedToSubordinate: true }, ['ok', 'ok', 'ok']],
    ['post leader, alert addressed to a subordinate: ack/handle, not clear', { roles: ['post_leader'], addressedToSubordinate: true }, ['ok', 'ok', NO_CLEAR]],
    ['operational head (操作负责人) addressed: may clear', { roles: ['frontline', 'operational_head'], addressed: true }, ['ok', 'ok', 'ok']],
    ['frontline, not addressed: nothing', {}, [NOT_MINE, NOT_MINE, NOT_MINE]],
    ['department head of another department, not addressed: nothing', { roles: ['department_head'] }, [NOT_MINE, NOT_MINE, NOT_MINE]],
    ['安全管理部门 (oversight), not addressed: everything', { roles: ['safety_dept'] }, ['ok', 'ok', 'ok']],
    ['安全总监 (oversight): everything', { roles: ['safety_director'] }, ['ok', 'ok', 'ok']],
    ['主要负责人 (oversight): everything', { roles: ['principal'] }, ['ok', 'ok', 'ok']],
    ['enterprise admin (oversight): everything', { roles: ['enterprise_admin'] }, ['ok', 'ok', 'ok']],
    ['regulator: read-only even when addressed', { roles: ['regulator'], addressed: true }, [READ_ONLY, READ_ONLY, READ_ONLY]],
    ['regulator with another role: still read-only', { roles: ['regulator', 'principal'] }, [READ_ONLY, READ_ONLY, READ_ONLY]],
    ['another enterprise\'s 主要负责人, even if ids collide: nothing', { roles: ['principal'], addressed: true, sameEnterprise: false }, [OTHER, OTHER, OTHER]],
  ])('%s', (_name, f, expected) => {
    expect(verdict(facts(f))).toEqual(expected);
  });

  test('denials carry a Chinese reason for the page and the chat reply', () => {
    expect(alertActionDenied('clear', facts({ addressed: true }))).toEqual({ reason: 'clear_role', zh: '您的角色不能手动销警', en: NO_CLEAR });
    expect(alertActionDenied('acknowledge', facts({ roles: ['regulator'] }))!.zh).toBe('监管账号只读');
  });
});

// ─────────────────────────────────────────────────────────────────────────────────────────────
describe('hazard state machine', () => {
  const ACTIONS: HazardAction[] = ['confirm', 'reject', 'rectify', 'accept', 'send_back'];
  test('the allowed transitions, and only those', () => {
    const table: Record<string, string> = {};
    for (const from of HAZARD_STATES) for (const a of ACTIONS) {
      const to = nextHazardState(from, a);
      if (to) table[`${from} ${a}`] = to;
    }
    expect(table).toEqual({
      'draft reject': 'rejected',
      'reported confirm': 'rectifying',
      'reported reject': 'rejected',
      'rectifying rectify': 'awaiting_acceptance',
      'awaiting_acceptance accept': 'accepted',
      'awaiting_acceptance send_back': 'rectifying',
    });
  });

  test('national state codes: 整改中 0, 待验收 1, 已验收 9, none otherwise', () => {
    const codes = Object.fromEntries(HAZARD_STATES.map((s: HazardState) => [s, nationalHazardState(s)]));
    expect(codes).toEqual({ draft: null, reported: null, rectifying: 0, awaiting_acceptance: 1, accepted: 9, rejected: null });
  });
});
