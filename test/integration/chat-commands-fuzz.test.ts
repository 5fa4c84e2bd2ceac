/**
 * Fuzz (issue #4 "done when"): 10 000 generated chat lines — mixed scripts (CJK, Latin, Cyrillic,
 * Arabic and Hebrew RTL, Thai, Devanagari), emoji with ZWJ sequences, skin tones and flags,
 * full-width characters, control and bidi characters, lone surrogates, 10 000-character lines,
 * random verbs, and the codes of alerts the sender may not touch (cleared, another enterprise's,
 * not addressed to them, non-existent, too long) — at the parser, and 2 000 of them (every 5th)
 * through handleChatText on the demo plant plus a second enterprise with its own alerts.
 *
 * Asserted:
 * - nothing throws; every parse result is well-formed; every reply is a non-empty string of at
 *   most 500 characters;
 * - per handled line: a refusal stores no AlertEvent; an applied line stores events on the alert it
 *   names only, as the sender, with the line's channel, and only when the oracle below says the
 *   sender may do that (and the alert was not cleared yet);
 * - at the end: the second enterprise's alerts, events and hazards' extension requests, and the
 *   alerts cleared before the run, are byte-for-byte unchanged; every new event on the demo
 *   plant's alerts was made by someone allowed to.
 *
 * The oracle (who may touch what) is written here from the rule in domain/alert-permissions.ts
 * (addressed to them or a subordinate, or an oversight role; clearing needs a clear role) and
 * services/hazard-extensions.ts (an extension is asked for by the hazard's rectifier, their
 * superior or an oversight role — the alert code only names the hazard), not by calling the
 * services' checks, so a chat path that skipped a check would be caught.
 * Seed: CHAT_FUZZ_SEED (default below); a failure message names it.
 */
import { createTestSystem, T0, type TestSystem } from '../helpers/system';
import { loadDemoPlant, readDemoData } from '../../prisma/seed';
import { parseChatCommand, MAX_NOTE_CHARS, type ParseResult } from '../../server/domain/chat-commands';
import { handleChatText, REPLY_MAX_CHARS, type ChatChannel } from '../../server/services/chat-commands';
import { addressedTo, clearAlertByHand, loadActor } from '../../server/services/alert-actions';
import { CLEAR_ROLES, OVERSIGHT_ROLES } from '../../server/domain/alert-permissions';
import { isSuperiorOf, loadOrg } from '../../server/services/org';

const SEED = Number(process.env.CHAT_FUZZ_SEED ?? 20261130);
const LINES = 10_000;
/** every HANDLER_EVERY-th line also goes through handleChatText */
const HANDLER_EVERY = 5;
const HOUR = 3_600_000;
const BOT_NAMES = ['安全助手', 'Safety Bot'];
const CHANNELS: ChatChannel[] = ['wecom', 'dingtalk', 'wechat'];

jest.setTimeout(180_000);

// ───────────────────────────── seeded randomness ─────────────────────────────

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = mulberry32(SEED);
const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
const chance = (p: number) => rnd() < p;
const chars = (s: string) => [...s];

const POOLS = {
  cjk: chars('检修阀门泵罐区巡检已安排完成氯化加氢车间液位压力温度正常异常现场人员确认处置销警延期申请查询待办绑定帮助收到好的嗯吗了'),
  latin: chars('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'),
  cyrillic: chars('АБВГДЕЖЗИКЛМНОПРСТУФабвгдежзА'),
  arabic: chars('مرحبا بالعالم تم الإصلاح ١٢٣'),
  hebrew: chars('שלום עולם תוקן'),
  thai: chars('สวัสดีครับ'),
  devanagari: chars('नमस्ते दुनिया १२३'),
  fullwidth: chars('ＡＢＣａｂｃ１２３４５６７８９０：，。！？＃＠（）　'),
  emoji: ['👍', '👍🏽', '👍🏿', '👨‍👩‍👧‍👦', '👩🏿‍🔧', '🧑‍🚒', '🇨🇳', '🏳️‍🌈', '❤️', '🔥', '✅', '⚠️', '🧯', '😂', '👌'],
  control: chars('\u0000\u0001\u0007\u0008\u000b\u000c\u001b\u007f\u0085\u009f'),
  invisible: chars('\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff\u00ad\u061c'),
  spaces: [' ', '\u3000', '\u2005', '\u00a0', '\t', '\n', '\r\n'],
  combining: ['e\u0301', 'a\u0308', '\u0336', '\u20dd'],
  surrogate: ['\ud83d', '\ude00', '\udfff'],
  punct: chars('：，。、；！？,.:;!?「」“”【】()#@-—…~'),
};
const POOL_NAMES = Object.keys(POOLS) as (keyof typeof POOLS)[];

function noise(len: number, pools: (keyof typeof POOLS)[] = POOL_NAMES): string {
  if (len > 1000) {
    // long lines: a random chunk repeated with random splices (generating 10 000 picks per line is slow)
    const parts: string[] = [];
    const chunk = noise(500, pools);
    while (parts.length * 500 < len) parts.push(chance(0.3) ? noise(500, pools) : chunk);
    return parts.join('');
  }
  const out: string[] = [];
  for (let i = 0; i < len; i++) out.push(pick(POOLS[pick(pools)]));
  return out.join('');
}

const toFull = (s: string) => s.replace(/[0-9A-Za-z#@]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));

function formatCode(id: number): string {
  switch (int(0, 9)) {
    case 0: return `a${id}`;
    case 1: return toFull(`A${id}`);
    case 2: return `#A${id}`;
    case 3: return `A ${id}`;
    case 4: return `A0${id}`;
    case 5: return `A${id}${int(100000000, 999999999)}`; // too long
    case 6: return toFull(`#a${id}`);
    default: return `A${id}`;
  }
}

const VERB_WORDS = ['确认', '收到', '已收到', '确认收到', 'ack', 'ok', 'OK', 'okay', '处置', '处理', '销警', '消警', '延期申请', '申请延期', '延期', '查询', '我的待办', '待办', '绑定', '帮助', 'help', '?'];
const BAD_VERBS = ['确 认', '確認', 'confirm', 'ackk', '好', '好的', '嗯', '收', '处', '销', '👍', 'Ａｃｋ', 'АСК', 'ok?', '确认吗', '确认一下'];
const NAMES = ['张三', '李四', '周建国', 'Alice', 'A12', '👷', 'Безымянный', 'مهندس'];

// ───────────────────────────── the plant ─────────────────────────────

interface AlertSnap {
  id: number;
  enterpriseId: number;
  state: string;
  recipients: unknown;
  level: number;
  subjectType: string;
  subjectId: number;
}

interface Line {
  text: string;
  quoted?: string;
  personId: number | null;
  channel: ChatChannel;
  /** which pool the named code came from (for the coverage counts) */
  codeKind: 'own' | 'other' | 'cleared' | 'foreign' | 'bogus' | 'none';
}

let sys: TestSystem;
let e1: number;
let e2: number;
let alerts: AlertSnap[];
const e1People: Array<{ id: number; roles: string[] }> = [];
const e2People: number[] = [];
/** alert ids a sender may acknowledge/handle, and may clear (oracle) */
const mayAct = new Map<number, Set<number>>();
const mayClear = new Map<number, Set<number>>();
/** hazard ids a sender may ask an extension for: their own as rectifier, their subordinates', or any (oversight) */
const mayExtend = new Map<number, Set<number>>();
let clearedBefore: number[] = [];

beforeAll(async () => {
  sys = await createTestSystem({ now: T0 });
  const prisma = sys.rt.prisma;
  e1 = sys.enterpriseId!;
  const d = readDemoData();
  e2 = (await loadDemoPlant(prisma, { now: T0, data: { ...d, enterprise: { ...d.enterprise, companyCode: '320411902', name: '第二示范化工（演示）有限公司' } } })).enterpriseId;
  // alerts in both enterprises: due-soon at T0, then overdue tasks and escalations three hours later
  await sys.cycle();
  sys.clock.advance(3 * HOUR);
  await sys.cycle();
  // some alerts are closed before the run, in both enterprises
  for (const ent of [e1, e2]) {
    const open = await prisma.alert.findMany({ where: { enterpriseId: ent, state: { not: 'cleared' } }, orderBy: { id: 'asc' } });
    const director = await prisma.person.findFirstOrThrow({ where: { enterpriseId: ent, code: 'p03' } });
    for (const a of open.filter((_, i) => i % 4 === 1)) {
      await clearAlertByHand(prisma, sys.clock, await loadActor(prisma, director.id), a.id, { channel: 'api' }, '演练：关闭部分预警');
    }
  }
  alerts = await prisma.alert.findMany({ select: { id: true, enterpriseId: true, state: true, recipients: true, level: true, subjectType: true, subjectId: true }, orderBy: { id: 'asc' } });
  clearedBefore = alerts.filter((a) => a.state === 'cleared').map((a) => a.id);

  const people = await prisma.person.findMany({ select: { id: true, enterpriseId: true, roles: true }, orderBy: { id: 'asc' } });
  for (const p of people) {
    if (p.enterpriseId === e1) e1People.push({ id: p.id, roles: p.roles as string[] });
    else e2People.push(p.id);
  }
  // the oracle
  const org = await loadOrg(prisma, e1);
  const hazards = await prisma.hazard.findMany({ where: { enterpriseId: e1 }, select: { id: true, rectifierId: true } });
  for (const p of e1People) {
    const act = new Set<number>();
    const clr = new Set<number>();
    const oversight = p.roles.some((r) => (OVERSIGHT_ROLES as readonly string[]).includes(r));
    const clears = p.roles.some((r) => (CLEAR_ROLES as readonly string[]).includes(r));
    for (const a of alerts) {
      if (a.enterpriseId !== e1 || a.state === 'cleared') continue;
      const to = addressedTo(a.recipients, a.level);
      if (oversight || to.includes(p.id) || to.some((x) => isSuperiorOf(org, p.id, x))) {
        act.add(a.id);
        if (clears) clr.add(a.id);
      }
    }
    mayAct.set(p.id, act);
    mayClear.set(p.id, clr);
    mayExtend.set(p.id, new Set(hazards.filter((h) => oversight || h.rectifierId === p.id || (h.rectifierId !== null && isSuperiorOf(org, p.id, h.rectifierId))).map((h) => h.id)));
  }
});

afterAll(async () => {
  await sys?.close();
});

// ───────────────────────────── the generator ─────────────────────────────

function codeFor(personId: number | null): { id: number | null; kind: Line['codeKind'] } {
  const own = personId === null ? [] : alerts.filter((a) => a.enterpriseId === e1 && a.state !== 'cleared' && addressedTo(a.recipients, a.level).includes(personId)).map((a) => a.id);
  const other = alerts.filter((a) => a.enterpriseId === e1 && a.state !== 'cleared' && !own.includes(a.id)).map((a) => a.id);
  const maxId = alerts[alerts.length - 1].id;
  const r = rnd();
  if (r < 0.12) return { id: null, kind: 'none' };
  if (r < 0.35 && own.length) return { id: pick(own), kind: 'own' };
  if (r < 0.55 && other.length) return { id: pick(other), kind: 'other' };
  if (r < 0.7 && clearedBefore.length) return { id: pick(clearedBefore), kind: 'cleared' };
  if (r < 0.88) return { id: pick(alerts.filter((a) => a.enterpriseId === e2)).id, kind: 'foreign' };
  return { id: pick([0, maxId + int(1, 1000), 999_999_999, 2_147_483_647, 4_294_967_296]), kind: 'bogus' };
}

function dateText(): string {
  const y = pick(['', '2026-', '2027/', '2025-', '2026年', '９９９９-']);
  const m = int(0, 13);
  const d = int(0, 32);
  return pick([`${y}${m}-${d}`, `${y}${m}/${d}`, `${m}月${d}日`, `${m}月${d}号`, toFull(`${m}-${d}`), `${y}${m}.${d}`, '明天', '20261231', `${int(1, 99999999)}`]);
}

function noteText(): string {
  const r = rnd();
  if (r < 0.15) return '';
  if (r < 0.02 + 0.15) return noise(10_000);
  if (r < 0.05 + 0.15) return noise(int(480, 520), ['cjk', 'emoji']);
  if (r < 0.5) return noise(int(1, 20), ['cjk', 'punct', 'spaces']);
  return noise(int(1, 60));
}

function line(i: number): Line {
  const channel = pick(CHANNELS);
  const who = rnd();
  const personId = who < 0.8 ? pick(e1People).id : who < 0.9 ? null : pick(e2People);
  const { id, kind } = codeFor(personId);
  const code = id === null ? '' : formatCode(id);
  const r = rnd();
  const mention = chance(0.3) ? `${pick(['@安全助手', '@Safety Bot', '＠安全助手', `@${pick(NAMES)}`])}${pick(['\u2005', ' ', '\u3000', ''])}` : '';
  const lead = chance(0.1) ? pick([' ', '\u200b', '\u202e', '\ufeff', '\u0007']) : '';

  if (r < 0.06) return { text: noise(int(0, 120)), personId, channel, codeKind: 'none' };
  if (r < 0.08) return { text: noise(10_000), personId, channel, codeKind: 'none' };
  if (r < 0.11) return { text: `${lead}${mention}${pick(['查询', '我的待办', '待办', '帮助', 'help', '?', '？'])}${chance(0.5) ? ` ${code}` : ''}`, personId, channel, codeKind: kind };
  if (r < 0.14) return { text: `${mention}绑定 ${pick(['123456', '１２３４５６', '12345', '1234567', noise(6)])}`, personId, channel, codeKind: 'none' };

  const verb = chance(0.9) ? pick(VERB_WORDS) : pick(BAD_VERBS);
  const isExt = verb.includes('延期');
  const arg = isExt ? `${dateText()}${pick([' ', '，', ''])}${noteText()}` : noteText();
  const sep = () => pick([' ', '', '：', '，', '\u3000', '\n', ' - ']);
  // where the code goes: before, after, at the end, in a quote, nowhere
  const where = pick(['before', 'after', 'after', 'end', 'quote-inline', 'quote-opt', 'none']);
  let body: string;
  let quoted: string | undefined;
  switch (where) {
    case 'before':
      body = `${code}${sep()}${verb}${sep()}${arg}`;
      break;
    case 'after':
      body = `${verb}${sep()}${code}${sep()}${arg}`;
      break;
    case 'end':
      body = `${verb}${sep()}${arg}${pick([' ', '，', '\n'])}${code}`;
      break;
    case 'quote-inline':
      body = `${verb}${sep()}${arg}`;
      return {
        text: `「${pick(NAMES)}：【超期未整改·三级】${noise(int(0, 30), ['cjk', 'emoji'])} 预警编号：${code}」\n- - - - - - - - - - - - - - -\n${mention}${body}`,
        personId,
        channel,
        codeKind: kind,
      };
    case 'quote-opt':
      body = `${verb}${sep()}${arg}`;
      quoted = `${noise(int(0, 40), ['cjk', 'emoji', 'latin'])} 告警 ${code} · 第${int(1, 3)}级`;
      break;
    default:
      body = `${verb}${sep()}${arg}`;
  }
  // sometimes a second, different code (ambiguous), sometimes noise glued at the end
  if (chance(0.05)) body += ` ${formatCode(pick(alerts).id)}`;
  if (chance(0.05)) body += noise(int(1, 5), ['emoji', 'invisible', 'control']);
  void i;
  return { text: `${lead}${mention}${body}`, quoted, personId, channel, codeKind: where === 'none' ? 'none' : kind };
}

// ───────────────────────────── checks ─────────────────────────────

const cpLen = (s: string) => [...s].length;

function checkParse(r: ParseResult, ctx: string) {
  if (r.ok) {
    const c = r.command;
    expect(['acknowledge', 'handle', 'clear', 'extension', 'query', 'bind', 'help']).toContain(c.kind);
    if ('code' in c && c.code !== null) {
      if (!(Number.isInteger(c.code) && c.code > 0 && c.code <= 999_999_999)) throw new Error(`bad code ${c.code} from ${ctx}`);
    }
    if (c.kind === 'handle' && !(c.note.length > 0 && cpLen(c.note) <= MAX_NOTE_CHARS)) throw new Error(`bad note from ${ctx}`);
    if ((c.kind === 'clear' || c.kind === 'extension') && !(c.reason.length > 0 && cpLen(c.reason) <= MAX_NOTE_CHARS)) throw new Error(`bad reason from ${ctx}`);
    if (c.kind === 'extension' && !/^\d{4}-\d{2}-\d{2}$/.test(c.date)) throw new Error(`bad date from ${ctx}`);
    if (c.kind === 'bind' && !/^\d{6}$/.test(c.bindCode)) throw new Error(`bad bind code from ${ctx}`);
  } else if (!(typeof r.hint === 'string' && r.hint.length > 0 && cpLen(r.hint) <= 300)) {
    throw new Error(`bad hint from ${ctx}`);
  }
}

const snapshot = async (alertIds: number[]) => {
  const prisma = sys.rt.prisma;
  const [a, ev] = await Promise.all([
    prisma.alert.findMany({ where: { id: { in: alertIds } }, orderBy: { id: 'asc' } }),
    prisma.alertEvent.findMany({ where: { alertId: { in: alertIds } }, orderBy: { id: 'asc' } }),
  ]);
  return JSON.stringify({ a, ev });
};

test(`chat fuzz (seed ${SEED}): ${LINES} lines at the parser, every ${HANDLER_EVERY}th through handleChatText; nothing crashes, nothing untouchable changes`, async () => {
  const prisma = sys.rt.prisma;
  const deps = { prisma, clock: sys.clock, botNames: BOT_NAMES };
  const today = '2026-11-30';
  const foreignIds = alerts.filter((a) => a.enterpriseId === e2).map((a) => a.id);
  const untouchable = [...foreignIds, ...clearedBefore];
  expect(foreignIds.length).toBeGreaterThan(3);
  expect(clearedBefore.length).toBeGreaterThan(1);
  const before = await snapshot(untouchable);
  const e2HazardIds = (await prisma.hazard.findMany({ where: { enterpriseId: e2 }, select: { id: true } })).map((h) => h.id);
  const extBefore = (await prisma.hazardExtension.aggregate({ _max: { id: true } }))._max.id ?? 0;
  const eventsBefore = (await prisma.alertEvent.aggregate({ _max: { id: true } }))._max.id ?? 0;
  const expected: string[] = [];
  const expectedExtensions: string[] = [];
  const counts = { parsed: 0, ok: 0, handled: 0, applied: 0, refusedForeign: 0, refusedCleared: 0, refusedOther: 0, unbound: 0, extensions: 0 };
  const started = Date.now();

  for (let i = 0; i < LINES; i++) {
    const l = line(i);
    const ctx = `seed ${SEED} line ${i}: ${JSON.stringify(l.text.slice(0, 200))}`;
    let parsed: ParseResult;
    try {
      parsed = parseChatCommand(l.text, { quoted: l.quoted, botNames: BOT_NAMES, today });
    } catch (e) {
      throw new Error(`parser threw on ${ctx}: ${(e as Error).message}`);
    }
    checkParse(parsed, ctx);
    counts.parsed++;
    if (parsed.ok) counts.ok++;
    if (i % HANDLER_EVERY !== 0) continue;

    sys.clock.advance(1_000);
    let out;
    try {
      out = await handleChatText(deps, { enterpriseId: e1, personId: l.personId, channel: l.channel, text: l.text, quoted: l.quoted });
    } catch (e) {
      throw new Error(`handleChatText threw on ${ctx}: ${(e as Error).stack}`);
    }
    counts.handled++;
    if (!(typeof out.reply === 'string' && out.reply.trim().length > 0 && cpLen(out.reply) <= REPLY_MAX_CHARS)) throw new Error(`bad reply ${JSON.stringify(out.reply)} for ${ctx}`);

    if (!out.applied) {
      if (l.personId === null) counts.unbound++;
      else if (parsed.ok && 'code' in parsed.command && parsed.command.code !== null) {
        if (l.codeKind === 'foreign') counts.refusedForeign++;
        if (l.codeKind === 'cleared') counts.refusedCleared++;
        if (l.codeKind === 'other') counts.refusedOther++;
      }
      continue;
    }
    // applied: only a bound person of this enterprise, on an alert they may touch (oracle)
    counts.applied++;
    if (l.personId === null || !mayAct.has(l.personId)) throw new Error(`applied for an unbound or foreign sender: ${ctx}`);
    if (!parsed.ok) throw new Error(`applied a line the parser refused: ${ctx}`);
    if (parsed.command.kind === 'extension') {
      counts.extensions++;
      const a = alerts.find((x) => x.id === out.alertId);
      if (!a || a.enterpriseId !== e1 || a.subjectType !== 'hazard' || !mayExtend.get(l.personId)!.has(a.subjectId)) throw new Error(`extension requested through alert ${out.alertId}: ${ctx}`);
      expectedExtensions.push(`${a.subjectId}|${l.personId}|${parsed.command.date}`);
      continue;
    }
    if (out.alertId === undefined) throw new Error(`applied without an alert: ${ctx}`);
    const allowed = parsed.command.kind === 'clear' ? mayClear.get(l.personId)! : mayAct.get(l.personId)!;
    if (!allowed.has(out.alertId)) throw new Error(`sender ${l.personId} changed alert ${out.alertId} they may not ${parsed.command.kind}: ${ctx}`);
    const type = { acknowledge: 'acknowledged', handle: 'handled', clear: 'cleared' }[parsed.command.kind as 'acknowledge' | 'handle' | 'clear'];
    if (!type) throw new Error(`applied a ${parsed.command.kind}: ${ctx}`);
    expected.push(`${out.alertId}|${l.personId}|${l.channel}|${type}`);
  }

  // untouchable rows are byte-for-byte as they were
  expect(await snapshot(untouchable)).toBe(before);
  // the events stored are exactly those of the applied lines (alert, actor, channel, type): a
  // refusal that stored something, a double write or a wrong actor/channel would show here
  const newEvents = await prisma.alertEvent.findMany({ where: { id: { gt: eventsBefore } }, orderBy: { id: 'asc' } });
  const actual = newEvents.map((ev) => `${ev.alertId}|${ev.actorId}|${ev.channel}|${ev.type}`).sort();
  expect(actual).toEqual(expected.sort());
  for (const ev of newEvents) {
    const allowed = ev.type === 'cleared' ? mayClear.get(ev.actorId!) : mayAct.get(ev.actorId!);
    expect(allowed?.has(ev.alertId)).toBe(true);
  }
  // nothing happens to an alert after it is cleared
  const clearedAt = new Map<number, number>();
  for (const ev of newEvents) {
    if (clearedAt.has(ev.alertId)) throw new Error(`event ${ev.id} (${ev.type}) on alert ${ev.alertId} after it was cleared by event ${clearedAt.get(ev.alertId)}`);
    if (ev.type === 'cleared') clearedAt.set(ev.alertId, ev.id);
  }
  // extension requests: only through applied lines, never on the other enterprise's hazards
  const newExtensions = await prisma.hazardExtension.findMany({ where: { id: { gt: extBefore } } });
  expect(newExtensions.map((x) => `${x.hazardId}|${x.requestedById}|${x.requestedDate}`).sort()).toEqual(expectedExtensions.sort());
  expect(await prisma.hazardExtension.count({ where: { hazardId: { in: e2HazardIds } } })).toBe(0);

  // the run meant something: lines of every kind reached the handler, some applied, many refused
  const elapsed = Date.now() - started;
  // eslint-disable-next-line no-console
  console.log(`chat fuzz seed ${SEED}: ${JSON.stringify(counts)} in ${elapsed} ms`);
  expect(counts.parsed).toBe(LINES);
  expect(counts.parsed + counts.handled).toBeGreaterThanOrEqual(10_000);
  expect(counts.handled).toBeGreaterThanOrEqual(2_000);
  expect(counts.applied).toBeGreaterThan(20);
  expect(counts.refusedForeign).toBeGreaterThan(20);
  expect(counts.refusedCleared).toBeGreaterThan(20);
  expect(counts.refusedOther).toBeGreaterThan(20);
  expect(counts.unbound).toBeGreaterThan(20);
  expect(newEvents.length).toBe(counts.applied - counts.extensions);
  expect(clearedAt.size).toBeGreaterThan(0);
});
