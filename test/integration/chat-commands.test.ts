/**
 * handleChatText (server/services/chat-commands.ts) on the demo plant, one behaviour per test:
 * which alert a line acts on, that the AlertEvent records the channel, and that every refusal
 * (unknown sender, not addressed, role may not clear, cleared, another enterprise's, ambiguous)
 * is a short reply that changes nothing. The fuzz test (chat-commands-fuzz.test.ts) covers the
 * same invariants over random lines.
 *
 * Demo plant at T0 after one cycle (link-page.test.ts): the V-101B hazard_overdue alert went to
 * p16 胡婷 (rectifier, frontline), p06 刘洋, p05 陈志强 (department head), p03 郑丽 (安全总监),
 * p01 周建国; p16 also has the GD-203 hazard_due_soon alert; p17 林峰 has one task_due_soon alert.
 */
import { createTestSystem, T0, type TestSystem } from '../helpers/system';
import { loadDemoPlant, readDemoData } from '../../prisma/seed';
import { handleChatText, type ChatInput } from '../../server/services/chat-commands';
import { HELP_TEXT } from '../../server/domain/chat-commands';

let sys: TestSystem;
let e1: number;
let e2: number;
/** alert ids by role in the story */
let v101b: number; // hazard_overdue, p16 + superiors
let gd203: number; // hazard_due_soon, p16 only
let p17Alert: number; // task_due_soon, p17 only
let foreign: number; // an alert of the second enterprise
const WECHAT_RULE = '\n- - - - - - - - - - - - - - -\n';

const say = async (code: string | null, text: string, extra: Partial<ChatInput> = {}, bind?: (c: string) => Promise<{ reply: string; applied: boolean }>) =>
  handleChatText(
    { prisma: sys.rt.prisma, clock: sys.clock, botNames: ['安全助手'], bind },
    { enterpriseId: e1, personId: code === null ? null : await sys.person(code), channel: 'dingtalk', text, ...extra },
  );

/** Alert + events of one alert, to compare before/after a refusal. */
const state = async (id: number) =>
  JSON.stringify(await sys.rt.prisma.alert.findUnique({ where: { id }, include: { events: { orderBy: { id: 'asc' } } } }));
const allEvents = () => sys.rt.prisma.alertEvent.count();

beforeAll(async () => {
  sys = await createTestSystem({ now: T0 });
  e1 = sys.enterpriseId!;
  const d = readDemoData();
  e2 = (await loadDemoPlant(sys.rt.prisma, { now: T0, data: { ...d, enterprise: { ...d.enterprise, companyCode: '320411903', name: '另一家企业' } } })).enterpriseId;
  await sys.cycle();
  const find = (enterpriseId: number, kind: string, title: string) =>
    sys.rt.prisma.alert.findFirstOrThrow({ where: { enterpriseId, kind, title: { contains: title } } }).then((a) => a.id);
  v101b = await find(e1, 'hazard_overdue', 'V-101B');
  gd203 = await find(e1, 'hazard_due_soon', 'GD-203');
  p17Alert = await find(e1, 'task_due_soon', '防爆电气');
  foreign = await find(e2, 'hazard_overdue', 'V-101B');
});
afterAll(async () => {
  await sys?.close();
});

describe('which alert', () => {
  test('no code and exactly one open alert: 收到 acknowledges it, the event records the channel; a repeat changes nothing', async () => {
    const r = await say('p17', ' 收到');
    expect(r).toMatchObject({ applied: true, alertId: p17Alert });
    expect(r.reply).toContain(`已确认 A${p17Alert}`);
    expect(r.reply).toMatch(/催办暂停至 \d\d:\d\d/);
    const a = await sys.rt.prisma.alert.findUniqueOrThrow({ where: { id: p17Alert }, include: { events: true } });
    expect(a.state).toBe('acknowledged');
    expect(a.ackedById).toBe(await sys.person('p17'));
    expect(a.events.filter((e) => e.type === 'acknowledged').map((e) => e.channel)).toEqual(['dingtalk']);

    const before = await state(p17Alert);
    const again = await say('p17', '确认');
    expect(again).toMatchObject({ applied: false, alertId: p17Alert });
    expect(again.reply).toContain('您已确认过');
    expect(await state(p17Alert)).toBe(before);
  });

  test('no code and two open alerts: a reply listing both, nothing changed', async () => {
    const n = await allEvents();
    const r = await say('p16', '确认');
    expect(r.applied).toBe(false);
    expect(r.reply).toContain(`A${v101b}`);
    expect(r.reply).toContain(`A${gd203}`);
    expect(r.reply).toMatch(/请写明编号/);
    expect(await allEvents()).toBe(n);
  });

  test('a wechaty quote reply supplies the code; the mention is stripped; the channel is wechat', async () => {
    const text = `「安全助手：【临期未整改·一级】氯化车间可燃气体检测仪 GD-203\n预警编号：A${gd203}（2026-11-30 12:00）」${WECHAT_RULE}@安全助手\u2005收到`;
    const r = await say('p16', text, { channel: 'wechat' });
    expect(r).toMatchObject({ applied: true, alertId: gd203 });
    const ev = await sys.rt.prisma.alertEvent.findFirstOrThrow({ where: { alertId: gd203, type: 'acknowledged' } });
    expect(ev).toMatchObject({ channel: 'wechat', actorId: await sys.person('p16') });
  });

  test('a quote delivered separately (WeCom) supplies the code too', async () => {
    const r = await say('p16', '处置 已安排仪表工重新送检', { channel: 'wecom', quoted: `告警 A${gd203} · 第1级` });
    expect(r).toMatchObject({ applied: true, alertId: gd203 });
    const a = await sys.rt.prisma.alert.findUniqueOrThrow({ where: { id: gd203 } });
    expect(a.handleNote).toBe('已安排仪表工重新送检');
    expect(await sys.rt.prisma.alertEvent.findFirstOrThrow({ where: { alertId: gd203, type: 'handled' } })).toMatchObject({ channel: 'wecom' });
  });

  test('an explicit code in full-width, after the verb, on the rectifier’s alert', async () => {
    const r = await say('p16', '处置：Ａ' + String(v101b).replace(/\d/g, (x) => String.fromCharCode(x.charCodeAt(0) + 0xfee0)) + '　已通知仪表班校验液位计');
    expect(r).toMatchObject({ applied: true, alertId: v101b });
    expect(r.reply).toContain(`已记录 A${v101b} 处置情况`);
  });
});

describe('refusals change nothing', () => {
  test('an alert not addressed to the sender', async () => {
    const before = await state(v101b);
    const r = await say('p07', `确认 A${v101b}`);
    expect(r).toMatchObject({ applied: false, alertId: v101b });
    expect(r.reply).toBe(`预警 A${v101b} 未发给您或您的下属，您不能操作。`);
    expect(await state(v101b)).toBe(before);
  });

  test('a role that may not clear', async () => {
    const before = await state(v101b);
    const r = await say('p16', `销警 A${v101b} 误报`);
    expect(r.applied).toBe(false);
    expect(r.reply).toContain('您的角色不能手动销警');
    expect(r.reply).toContain(`处置 A${v101b}`);
    expect(await state(v101b)).toBe(before);
  });

  test('another enterprise’s alert is not found (its existence is not revealed)', async () => {
    const before = await state(foreign);
    const r = await say('p01', `确认 A${foreign}`);
    expect(r).toEqual({ applied: false, reply: `未找到预警 A${foreign}，请核对编号（发送“查询”查看您的预警）。` });
    expect(await state(foreign)).toBe(before);
  });

  test('an unbound sender never acts and is told how to bind', async () => {
    const n = await allEvents();
    const r = await say(null, `确认 A${v101b}`);
    expect(r.applied).toBe(false);
    expect(r.reply).toMatch(/尚未绑定[\s\S]*绑定 123456/);
    expect(await allEvents()).toBe(n);
  });

  test('a person of another enterprise cannot act in this enterprise’s channel', async () => {
    const other = await sys.rt.prisma.person.findFirstOrThrow({ where: { enterpriseId: e2, code: 'p01' } });
    const before = await state(foreign);
    const r = await handleChatText({ prisma: sys.rt.prisma, clock: sys.clock }, { enterpriseId: e1, personId: other.id, channel: 'wecom', text: `确认 A${foreign}` });
    expect(r).toEqual({ applied: false, reply: '您的账号不属于本企业，不能在此操作预警。' });
    expect(await state(foreign)).toBe(before);
  });

  test('an inactive person', async () => {
    const id = await sys.person('p08');
    await sys.rt.prisma.person.update({ where: { id }, data: { active: false } });
    try {
      const r = await say('p08', '查询');
      expect(r.applied).toBe(false);
      expect(r.reply).toContain('已停用');
    } finally {
      await sys.rt.prisma.person.update({ where: { id }, data: { active: true } });
    }
  });

  test('a malformed line gets the grammar’s hint', async () => {
    const n = await allEvents();
    expect(await say('p16', `处置 A${v101b}`)).toEqual({ applied: false, reply: `请写明处置情况，如：处置 A${v101b} 已安排检修` });
    expect(await say('p16', '今天中午吃什么')).toMatchObject({ applied: false, reply: expect.stringContaining('确认 A123') });
    expect(await say('p16', '')).toMatchObject({ applied: false, reply: expect.stringContaining('帮助') });
    expect(await allEvents()).toBe(n);
  });

  test('a non-existent code', async () => {
    const r = await say('p16', '确认 A999999');
    expect(r).toEqual({ applied: false, reply: '未找到预警 A999999，请核对编号（发送“查询”查看您的预警）。' });
  });
});

describe('查询, 帮助, 绑定', () => {
  test('查询 lists the sender’s open alerts and due checks', async () => {
    const r = await say('p16', '我的待办');
    expect(r.applied).toBe(false);
    expect(r.reply).toMatch(/待处理预警 \d+ 条/);
    expect(r.reply).toContain(`A${v101b}`);
    expect(r.reply).toMatch(/待排查任务 \d+ 项：\nT\d+ /);
    expect([...r.reply].length).toBeLessThanOrEqual(500);
  });

  test('查询 A… shows one alert to those who may read it, and not to others', async () => {
    const mine = await say('p16', `查询 A${v101b}`);
    expect(mine.reply).toContain(`A${v101b} 超期未整改：V-101B`);
    expect(mine.reply).toMatch(/处置：胡婷 \d\d:\d\d 已通知仪表班校验液位计/);
    const theirs = await say('p07', `查询 A${v101b}`);
    expect(theirs.reply).toBe(`预警 A${v101b} 未发给您或您的下属，您不能查看。`);
  });

  test('帮助 sends the help text, to anyone', async () => {
    expect(await say(null, '帮助')).toEqual({ applied: false, reply: HELP_TEXT });
  });

  test('绑定 goes to the channel’s binding flow; without one, the reply says so', async () => {
    const seen: string[] = [];
    const r = await say(null, '绑定 １２３４５６', {}, async (c) => {
      seen.push(c);
      return { reply: '绑定成功：胡婷', applied: true };
    });
    expect(seen).toEqual(['123456']);
    expect(r).toEqual({ reply: '绑定成功：胡婷', applied: true });
    expect((await say(null, '绑定 123456')).reply).toContain('暂不支持绑定');
  });
});

describe('销警 and 延期申请', () => {
  test('延期申请 from the rectifier creates a pending request on the alert’s hazard; a second one is refused', async () => {
    const a = await sys.rt.prisma.alert.findUniqueOrThrow({ where: { id: v101b } });
    const r = await say('p16', `延期申请 A${v101b} 12月20日 备件未到货`);
    expect(r).toMatchObject({ applied: true, alertId: v101b });
    expect(r.reply).toContain('→ 2026-12-20');
    const ext = await sys.rt.prisma.hazardExtension.findMany({ where: { hazardId: a.subjectId } });
    expect(ext).toHaveLength(1);
    expect(ext[0]).toMatchObject({ state: 'pending', requestedDate: '2026-12-20', reason: '备件未到货', requestedById: await sys.person('p16') });

    const again = await say('p16', `延期申请 A${v101b} 12-25 备件未到货`);
    expect(again.applied).toBe(false);
    expect(again.reply).toContain('已有待审批的延期申请');
    expect(await sys.rt.prisma.hazardExtension.count({ where: { hazardId: a.subjectId } })).toBe(1);
  });

  test('延期申请 on a task alert is refused', async () => {
    const r = await say('p17', `延期申请 A${p17Alert} 12-20 人手不足`);
    expect(r).toEqual({ applied: false, alertId: p17Alert, reply: `预警 A${p17Alert} 不是隐患整改预警，不能申请延期。` });
  });

  test('销警 by the department head clears the alert (channel recorded); afterwards the alert takes no more actions', async () => {
    const r = await say('p05', `销警 A${v101b} 液位计已校准，偏差消除`, { channel: 'wecom' });
    expect(r).toMatchObject({ applied: true, alertId: v101b });
    const a = await sys.rt.prisma.alert.findUniqueOrThrow({ where: { id: v101b } });
    expect(a).toMatchObject({ state: 'cleared', clearKind: 'manual', clearReason: '液位计已校准，偏差消除', clearedById: await sys.person('p05') });
    expect(await sys.rt.prisma.alertEvent.findFirstOrThrow({ where: { alertId: v101b, type: 'cleared' } })).toMatchObject({ channel: 'wecom' });

    const before = await state(v101b);
    for (const text of [`确认 A${v101b}`, `处置 A${v101b} 再看看`, `销警 A${v101b} 重复`]) {
      const x = await say('p16', text);
      expect(x.applied).toBe(false);
      expect(x.reply).toContain('已销警');
    }
    expect(await state(v101b)).toBe(before);
  });
});
