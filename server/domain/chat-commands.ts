/**
 * THE chat command grammar (issue #4, item 4): one parser for every chat channel (WeCom app
 * text, DingTalk robot text, wechaty room/direct messages). Pure: no I/O, no clock (`today` is
 * passed in). The service that applies a parsed command is server/services/chat-commands.ts.
 *
 * A command line is
 *
 *     [@mention…] [code] VERB [code] [argument…] [code]
 *
 * - VERB is one of the words in `VERBS` below (the one table of the grammar). Chinese verbs may be
 *   glued to what follows when the table says so (`处置A12已安排检修`); Latin verbs (`ack`, `ok`)
 *   need a boundary (`okay` is its own word, `ok` does not match `okey`).
 * - code is an alert code as shown in every message: `A123`, `a123`, `Ａ１２３`, `#A123`,
 *   `A 123` (the spaced form only when followed by a separator, so `A 3号泵` is text). The code may
 *   come before the verb, right after it, or at the very end (after a separator: `泵A2` at the end
 *   is an equipment tag, not a code). Codes in the middle of a note stay in the note.
 * - No code at all is allowed (`code: null`): the service then takes the person's only open alert.
 *   A quoted message that carries exactly one code supplies it (WeCom/WeChat quote replies).
 *
 * Normalisation before matching: NFC; control characters, zero-width spaces, BOM, soft hyphens
 * and bidi controls removed (RTL marks pasted from other apps, U+200B from copy/paste); every
 * Unicode space (U+3000 ideographic, U+2005 that wechaty puts after an @mention, NBSP…) becomes a
 * plain space; full-width ASCII (U+FF01–U+FF5E: `Ａ１２３`, `：`, `，`, `？`) is folded to ASCII for
 * matching. Notes and reasons are returned as the person wrote them (after the cleaning, with
 * runs of whitespace collapsed), not folded: `已安排检修，预计下午完成` keeps its `，`.
 *
 * Decisions where the issue was silent (kept here so they are in one place):
 * - `好` / `好的` / `嗯` / `行` alone are NOT acknowledgements (they answer anything in a group); they
 *   are skipped when they lead a real command (`好的，收到` acknowledges). `ok`/`okay`/`ack` are
 *   accepted: they are what people type on a phone keyboard set to Latin.
 * - A question is not a command: `确认？`, `收到?`, `确认了吗` do not acknowledge.
 * - `确认一下A12的情况` is not an acknowledgement: an ack verb must be followed by a separator, a
 *   code, the end, or a particle (`了`, `啦`, `哈`…).
 * - `处理` is accepted for 处置 and `消警` for 销警 (common spellings) but, unlike the domain words,
 *   only with a separator after them (`处理一下` is chat, not a command).
 * - One command acts on one alert: `确认 A12 A13` is refused with a hint to send them separately
 *   (a silent ack of only the first would be worse).
 * - Notes, reasons: at most 500 characters (a chat line is not a report; the store keeps 1024).
 * - 延期申请 dates: 2026-12-20, 2026/12/20, 2026.12.20, 2026年12月20日, 20261220, 12-20, 12/20,
 *   12.20, 12月20日/号; the date may come first (`延期申请 A12 12月20日 备件未到`, `申请延期至12-20，…`)
 *   or last (`延期申请 A12 备件未到 12月20日`). A date without a year is the next such date on or
 *   after `today` (02-29 → the next leap year). A date before `today` is refused.
 * - A code with more than 9 digits is refused as a bad code (it is no alert, and would not fit the
 *   id column) rather than being taken as note text.
 *
 * Channel adapters (not this module) decide whether a message is meant for the bot at all; in a
 * wechaty group every message arrives, so a bare `收到` that neither @mentions the bot nor quotes
 * one of its messages should be ignored there (`hasExplicitCode` / `codeSource` help decide).
 */
import { isLocalDate } from './time';

// ───────────────────────────── result shapes ─────────────────────────────

export type ChatCommandKind = 'acknowledge' | 'handle' | 'clear' | 'extension' | 'query' | 'bind' | 'help';

/** Where the alert code came from: the line itself, the quoted message, or nowhere. */
export type CodeSource = 'text' | 'quote' | null;

interface WithCode {
  /** alert id (the number in `A123`), or null when the line names none */
  code: number | null;
  codeSource: CodeSource;
  /** the verb as matched (e.g. `收到`, `ack`), for replies */
  verb: string;
}

export type ChatCommand =
  | ({ kind: 'acknowledge'; note: string | null } & WithCode)
  | ({ kind: 'handle'; note: string } & WithCode)
  | ({ kind: 'clear'; reason: string } & WithCode)
  | ({ kind: 'extension'; /** local date YYYY-MM-DD */ date: string; reason: string } & WithCode)
  | ({ kind: 'query' } & WithCode)
  | { kind: 'bind'; /** the 6-digit one-time binding code */ bindCode: string; verb: string }
  | { kind: 'help'; verb: string };

export type ParseFailure =
  /** nothing left after cleaning (only spaces, mentions, control characters) */
  | 'empty'
  /** no command word at the start */
  | 'unknown'
  /** the command needs an argument that is missing (处置 without a note…) */
  | 'missing_argument'
  /** an argument is malformed (date, binding code, alert code) */
  | 'bad_argument'
  /** several different alert codes where one is expected */
  | 'ambiguous_code'
  /** the line or the note is too long */
  | 'too_long';

export type ParseResult =
  | { ok: true; command: ChatCommand }
  | {
      ok: false;
      reason: ParseFailure;
      /** short Chinese text saying how to write it, ready to send back */
      hint: string;
      /** the command the line was meant to be, when a verb was recognised */
      kind?: ChatCommandKind;
      /** the alert codes involved (ambiguous_code) */
      codes?: number[];
    };

export interface ParseOptions {
  /** the quoted message's text, when the channel delivers a quote separately (WeCom, puppets) */
  quoted?: string;
  /** the bot's own display names, so `@Safety Bot 确认` is stripped even with a space in the name */
  botNames?: string[];
  /** the enterprise's local date 'YYYY-MM-DD'; needed to resolve 延期 dates written without a year */
  today?: string;
}

// ───────────────────────────── the grammar table ─────────────────────────────

interface VerbSpec {
  kind: ChatCommandKind;
  /** spellings; Chinese compared as is, Latin case-insensitively */
  words: string[];
  /** may be glued to the text that follows (`处置已安排检修`) */
  glued: boolean;
  /** words that may follow the verb directly and are dropped (`收到了`, `延期至`) */
  particles?: string[];
  /** what may follow a non-glued verb directly besides a separator or a code (`延期12月20日`) */
  followedBy?: RegExp;
  /** how to write it (hints, help) */
  usage: string;
}

/** The one table of the grammar. Order does not matter: the longest spelling wins. */
export const VERBS: readonly VerbSpec[] = [
  {
    kind: 'acknowledge',
    words: ['确认收到', '确认', '已确认', '收到', '已收到', '收悉', 'ack', 'ok', 'okay'],
    glued: false,
    particles: ['了', '啦', '哈', '的', '嗯', '哦', '~'],
    usage: '确认 A123',
  },
  { kind: 'handle', words: ['处置', '已处置'], glued: true, usage: '处置 A123 已安排检修' },
  { kind: 'handle', words: ['处理', 'handle'], glued: false, usage: '处置 A123 已安排检修' },
  { kind: 'clear', words: ['销警'], glued: true, usage: '销警 A123 误报，现场正常' },
  { kind: 'clear', words: ['消警', 'clear'], glued: false, usage: '销警 A123 误报，现场正常' },
  { kind: 'extension', words: ['延期申请', '申请延期'], glued: true, particles: ['至', '到'], usage: '延期申请 A123 12月20日 备件未到' },
  { kind: 'extension', words: ['延期'], glued: false, particles: ['至', '到'], followedBy: /[0-9]/, usage: '延期申请 A123 12月20日 备件未到' },
  { kind: 'query', words: ['查询', '我的待办', '待办', '我的预警', 'list', 'todo'], glued: false, usage: '查询（或 查询 A123）' },
  { kind: 'bind', words: ['绑定', 'bind'], glued: true, usage: '绑定 123456' },
  { kind: 'help', words: ['帮助', '命令', '指令', 'help', '菜单'], glued: false, usage: '帮助' },
];

/** Words that lead a command without meaning anything (`好的，收到`); alone they are no command. */
const FILLERS = ['好的', '好', '嗯嗯', '嗯', '行', '那个'];

const USAGE: Record<ChatCommandKind, string> = Object.fromEntries(VERBS.map((v) => [v.kind, v.usage])) as Record<ChatCommandKind, string>;

/** The help text every channel sends for 帮助 (≤ 500 characters). */
export const HELP_TEXT = [
  '可用指令（预警编号如 A123，写在指令前后均可；只有一条待处理预警时可省略）：',
  '确认 A123 —— 已看到，暂停催办',
  '处置 A123 已安排检修 —— 记录处置情况',
  '销警 A123 误报，现场正常 —— 手动销警（限有权限的角色）',
  '延期申请 A123 12月20日 备件未到 —— 申请隐患整改延期',
  '查询 / 我的待办 —— 我的预警和待排查任务',
  '绑定 123456 —— 绑定账号（绑定码见预警链接页面）',
  '帮助 —— 显示本说明',
  '也可以引用预警消息直接回复“确认”。',
].join('\n');

/** Longest note / reason accepted, in characters (code points). */
export const MAX_NOTE_CHARS = 500;
/** Longer input is refused before any matching (a chat line, not a document). */
export const MAX_INPUT_CHARS = 20_000;
/** Alert ids are at most 9 digits (fits the INT id column with room). */
const MAX_CODE_DIGITS = 9;

// ───────────────────────────── normalisation ─────────────────────────────

// Removed outright: C0/C1 controls except tab/newlines, soft hyphen, Arabic letter mark, Mongolian
// vowel separator, zero-width space, LRM/RLM, bidi embeddings/overrides/isolates, word joiner and
// invisible operators, BOM. ZWJ/ZWNJ stay: they are parts of emoji sequences and Indic words.
const REMOVED = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u00AD\u061C\u180E\u200B\u200E\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const SPACES = /[\t\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]/g;
const NEWLINES = /\r\n?|[\u2028\u2029\u0085]/g;

/** Cleans a chat text: what is kept is what the person meant to write. Length may shrink. */
export function cleanChatText(text: string): string {
  return text.normalize('NFC').replace(NEWLINES, '\n').replace(LONE_SURROGATE, '').replace(REMOVED, '').replace(SPACES, ' ');
}

/** Folds full-width ASCII (U+FF01–U+FF5E) to ASCII. Keeps the length (one UTF-16 unit each). */
export function foldWidth(s: string): string {
  return s.replace(/[\uFF01-\uFF5E]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) - 0xfee0));
}

/** Separators between words, after folding: spaces, ASCII and CJK punctuation, brackets, quotes. */
const SEP_CHARS = ' \n,.:;!?~`\'"()[]{}<>|\\/-_=+*、。，：；！？…—–·「」『』“”‘’【】（）《》〈〉〔〕';
const SEP = new Set([...SEP_CHARS]);
const SEP_CLASS = `[${SEP_CHARS.replace(/[\\\]\[\-^]/g, (c) => `\\${c}`)}]`;
const isSep = (ch: string | undefined) => ch !== undefined && SEP.has(ch);
const isLatinOrDigit = (ch: string | undefined) => ch !== undefined && /[0-9A-Za-z]/.test(ch);

// ───────────────────────────── quotes and mentions ─────────────────────────────

/** A line of dashes (≥ 3, spaced or not) between a quote and the reply, as WeChat renders it. */
const QUOTE_RULE = /\n[ ]*(?:[-—–－][ ]*){3,}\n/;
const OPEN_QUOTES = '「『“"';
const CLOSE_QUOTES = '」』”"';

/**
 * Splits a reply that carries its quote inline:
 * - WeChat / wechaty puppets: `「Name：quoted text」\n- - - - - - - - - - - - - - -\nreply`;
 * - a quote on its own first or last line: `「A123 超期未整改…」\n确认` / `确认\n「…」`;
 * - a leading bracketed segment that holds an alert code: `「A123 超期未整改」 确认`.
 */
export function splitInlineQuote(clean: string): { body: string; quote: string | null } {
  const rule = QUOTE_RULE.exec(clean);
  if (rule) {
    const head = clean.slice(0, rule.index).trim();
    if (head && OPEN_QUOTES.includes(head[0])) {
      let q = head.slice(1);
      if (CLOSE_QUOTES.includes(q[q.length - 1] ?? '')) q = q.slice(0, -1);
      // drop the quoted person's display name ("Name：")
      q = q.replace(/^[^：:\n]{1,64}[：:]/, '');
      return { body: clean.slice(rule.index + rule[0].length), quote: q };
    }
  }
  const t = clean.trim();
  const open = OPEN_QUOTES.indexOf(t[0] ?? '');
  if (open >= 0) {
    const close = t.indexOf(CLOSE_QUOTES[open], 1);
    if (close > 0) {
      const inner = t.slice(1, close);
      const after = t.slice(close + 1);
      const ownLine = /^[ ]*\n/.test(after);
      const leadsCommand = codesIn(inner).length > 0 && (/^[ ]/.test(after) || verbAt(foldWidth(after), 0) !== null);
      if (after.trim() && (ownLine || leadsCommand)) return { body: after, quote: inner };
    }
  }
  const lastNl = t.lastIndexOf('\n');
  if (lastNl > 0) {
    const last = t.slice(lastNl + 1).trim();
    const open2 = OPEN_QUOTES.indexOf(last[0] ?? '');
    if (open2 >= 0 && last.endsWith(CLOSE_QUOTES[open2]) && last.length > 2) return { body: t.slice(0, lastNl), quote: last.slice(1, -1) };
  }
  return { body: clean, quote: null };
}

const escapeRe = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Strips @mentions at the start (any number: `@安全助手 @张三 确认`) and mentions of the bot's own
 * names anywhere (`确认 A12 @安全助手`). A bot name may contain spaces (`@Safety Bot`), which is why
 * the adapter passes the names; other mentions end at the first space (wechaty puts U+2005 there,
 * cleaned to a space).
 */
export function stripMentions(s: string, botNames: string[] = []): string {
  const names = [...new Set(botNames.map((x) => foldWidth(cleanChatText(x)).trim()).filter(Boolean))].sort((a, b) => b.length - a.length);
  let out = s;
  for (const name of names) {
    // matched on the folded text (same length as `out`), cut from `out`
    const re = new RegExp(`@${escapeRe(name)}(?![0-9A-Za-z])`, 'gi');
    const folded = foldWidth(out);
    let next = '';
    let last = 0;
    for (const m of folded.matchAll(re)) {
      next += `${out.slice(last, m.index)} `;
      last = m.index! + m[0].length;
    }
    out = next + out.slice(last);
  }
  // leading mentions of anyone
  for (let guard = 0; guard < 20; guard++) {
    const t = out.replace(/^[ \n]+/, '');
    const m = /^[@＠][^ \n@＠]{1,64}(?:[ \n]|$)/.exec(t);
    if (!m) return t;
    out = t.slice(m[0].length);
  }
  return out.replace(/^[ \n]+/, '');
}

// ───────────────────────────── codes ─────────────────────────────

const CODE_ANYWHERE = /(?<![0-9A-Za-z_\-])#?[Aa](\d{1,9})(?![0-9A-Za-z])/g;

/** Distinct alert codes (ids) named anywhere in a text (a quoted message), in order of appearance. */
export function codesIn(text: string): number[] {
  const n = foldWidth(cleanChatText(text));
  const out: number[] = [];
  for (const m of n.matchAll(CODE_ANYWHERE)) {
    const id = Number(m[1]);
    if (id > 0 && !out.includes(id)) out.push(id);
  }
  return out;
}

type CodeMatch = { end: number; id: number } | { end: number; invalid: true };

/** An alert code starting exactly at `pos` of the folded text, or null. */
function codeAt(n: string, pos: number): CodeMatch | null {
  const re = /#?[Aa](?:(\d+)|( )(\d+))/y;
  re.lastIndex = pos;
  const m = re.exec(n);
  if (!m) return null;
  const end = pos + m[0].length;
  const next = n[end];
  const digits = m[1] ?? m[3];
  if (m[2] !== undefined) {
    // spaced form "A 123": only when a separator or the end follows
    if (next !== undefined && !isSep(next)) return null;
  } else if (isLatinOrDigit(next)) return null;
  if (digits.length > MAX_CODE_DIGITS || Number(digits) === 0) return { end, invalid: true };
  return { end, id: Number(digits) };
}

function skipSeps(n: string, pos: number): number {
  while (pos < n.length && isSep(n[pos])) pos++;
  return pos;
}

// ───────────────────────────── verbs ─────────────────────────────

const ALL_WORDS = VERBS.flatMap((v) => v.words.map((w) => ({ word: w, spec: v, latin: /^[\x00-\x7F]+$/.test(w) }))).sort((a, b) => b.word.length - a.word.length);

interface VerbMatch {
  spec: VerbSpec;
  word: string;
  /** position after the verb and its particles */
  end: number;
}

const EMOJI = /^\p{Extended_Pictographic}/u;

function verbAt(n: string, pos: number): VerbMatch | null {
  for (const { word, spec, latin } of ALL_WORDS) {
    const piece = n.slice(pos, pos + word.length);
    if (latin ? piece.toLowerCase() !== word : piece !== word) continue;
    let end = pos + word.length;
    // Latin words end at a non-letter ("okay" is not "ok" + "ay")
    if (latin && /[A-Za-z]/.test(n[end] ?? '') && !codeAt(n, end)) continue;
    if (latin && /[0-9]/.test(n[end] ?? '')) continue;
    for (let moved = true; moved && spec.particles; ) {
      moved = false;
      for (const p of spec.particles) {
        if (n.startsWith(p, end)) {
          end += p.length;
          moved = true;
        }
      }
    }
    const next = n[end];
    const boundary = next === undefined || isSep(next) || codeAt(n, end) !== null || next === '@' || EMOJI.test(String.fromCodePoint(n.codePointAt(end)!));
    if (!boundary && !spec.glued && !(next !== undefined && spec.followedBy?.test(next))) continue;
    return { spec, word, end };
  }
  return null;
}

function skipFillers(n: string, pos: number): number {
  for (let guard = 0; guard < 5; guard++) {
    const f = FILLERS.find((w) => n.startsWith(w, pos));
    if (!f) return pos;
    const after = pos + f.length;
    // a filler counts only when something follows it after a separator ("好的，收到")
    if (after >= n.length || !isSep(n[after])) return pos;
    pos = skipSeps(n, after);
  }
  return pos;
}

// ───────────────────────────── dates (延期申请) ─────────────────────────────

const pad2 = (x: number) => String(x).padStart(2, '0');
const DATE_BODY = String.raw`(?:(\d{4})(\d{2})(\d{2})|(?:(\d{4})[ ]*[-/.年][ ]*)?(\d{1,2})[ ]*[-/.月][ ]*(\d{1,2})[ ]*[日号]?)(?![0-9])`;
const DATE_AT_START = new RegExp(`^(?:[至到][ ]*)?${DATE_BODY}`);
const DATE_AT_END = new RegExp(`(?:^|${SEP_CLASS}|[至到])${DATE_BODY}${SEP_CLASS}*$`);

/** Resolves y/m/d parts to a local date; a date without a year is the next one on or after `today`. */
function resolveDate(y: number | null, m: number, d: number, today: string | undefined): { date: string } | { error: string } {
  if (y === null) {
    if (!today || !isLocalDate(today)) return { error: '请写完整日期，如 2026-12-20' };
    const ty = Number(today.slice(0, 4));
    for (let year = ty; year <= ty + 8; year++) {
      const cand = `${year}-${pad2(m)}-${pad2(d)}`;
      if (isLocalDate(cand) && cand >= today) return { date: cand };
    }
    return { error: `日期 ${m}月${d}日 无效` };
  }
  const cand = `${y}-${pad2(m)}-${pad2(d)}`;
  if (!isLocalDate(cand)) return { error: `日期 ${cand} 无效` };
  if (today && isLocalDate(today) && cand < today) return { error: `延期日期 ${cand} 已过，请写今天以后的日期` };
  return { date: cand };
}

function dateFromMatch(m: RegExpExecArray, today: string | undefined) {
  if (m[1] !== undefined) return resolveDate(Number(m[1]), Number(m[2]), Number(m[3]), today);
  return resolveDate(m[4] !== undefined ? Number(m[4]) : null, Number(m[5]), Number(m[6]), today);
}

// ───────────────────────────── the parser ─────────────────────────────

const LEADING_SEPS = new RegExp(`^${SEP_CLASS}+`);
const TRAILING_SEPS = new RegExp(`${SEP_CLASS}+$`);
const ONLY_SEPS = new RegExp(`^${SEP_CLASS}+$`);
/** a code at the very end of the rest, after a separator ("处置 已关阀 A12。") */
const TAIL_CODE = new RegExp(`(?:^|${SEP_CLASS})#?[Aa](?:(\\d+)|[ ](\\d+))${SEP_CLASS}*$`);
const HELP_SHORT = '请发送指令，如：确认 A123。发送“帮助”查看全部指令';

const fail = (reason: ParseFailure, hint: string, extra: { kind?: ChatCommandKind; codes?: number[] } = {}): ParseResult => ({ ok: false, reason, hint, ...extra });

const UNKNOWN_HINT = '没看懂这条指令。可发送：确认 A123｜处置 A123 说明｜销警 A123 原因｜延期申请 A123 12月20日 原因｜查询｜帮助';

/** Code points, not UTF-16 units (an emoji is one character to the person who typed it). */
const charCount = (s: string) => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

const tidy = (s: string) => s.replace(/\s+/g, ' ').trim();

/**
 * Parses one chat text into a command. Never throws (any string in, a result out).
 * @param text the message text as the platform delivered it (mentions, quotes, full-width…)
 * @param opts quoted text delivered separately, the bot's names, the enterprise's local `today`
 * @returns `{ ok: true, command }` or `{ ok: false, reason, hint }` with a short Chinese hint
 */
export function parseChatCommand(text: string, opts: ParseOptions = {}): ParseResult {
  if (typeof text !== 'string') return fail('empty', HELP_SHORT);
  if (text.length > MAX_INPUT_CHARS) return fail('too_long', `消息太长（超过 ${MAX_INPUT_CHARS} 字），请只发送指令，如：确认 A123`);
  const cleaned = cleanChatText(text);
  const { body, quote } = splitInlineQuote(cleaned);
  const c = tidy(stripMentions(body, opts.botNames ?? []));
  if (!c) return fail('empty', HELP_SHORT);
  const n = foldWidth(c);
  // a bare question mark asks for help
  if (/^[?]+$/.test(n)) return { ok: true, command: { kind: 'help', verb: '?' } };

  let pos = skipSeps(n, 0);
  pos = skipFillers(n, pos);
  const codes: number[] = [];
  let badCode = false;
  const takeCode = (at: number): number | null => {
    const m = codeAt(n, at);
    if (!m) return null;
    if ('invalid' in m) badCode = true;
    else if (!codes.includes(m.id)) codes.push(m.id);
    return m.end;
  };

  // [code] before the verb ("A123 确认", "A123确认")
  const headEnd = takeCode(pos);
  if (headEnd !== null) pos = skipFillers(n, skipSeps(n, headEnd));

  const verb = verbAt(n, pos);
  if (!verb) {
    if (headEnd !== null && skipSeps(n, pos) >= n.length) return fail('unknown', `请在编号前写上指令，如：确认 ${codes.length ? `A${codes[0]}` : 'A123'}`);
    return fail('unknown', UNKNOWN_HINT);
  }
  const spec = verb.spec;
  const kind = spec.kind;
  pos = skipSeps(n, verb.end);

  if (kind === 'help') return { ok: true, command: { kind: 'help', verb: verb.word } };
  if (kind === 'bind') {
    const digits = n.slice(pos).replace(/[ \-]/g, '').replace(TRAILING_SEPS, '');
    if (!digits) return fail('missing_argument', '请发送：绑定 + 6 位绑定码（见预警链接页面），如：绑定 123456', { kind });
    if (!/^\d{6}$/.test(digits)) return fail('bad_argument', '绑定码是 6 位数字（见预警链接页面），如：绑定 123456', { kind });
    return { ok: true, command: { kind: 'bind', bindCode: digits, verb: verb.word } };
  }

  // [code] right after the verb
  const afterEnd = takeCode(pos);
  if (afterEnd !== null) pos = skipSeps(n, afterEnd);
  // a second code right after the first: one alert per command
  const secondEnd = codeAt(n, pos);
  if (secondEnd && 'id' in secondEnd && !codes.includes(secondEnd.id) && codes.length) {
    codes.push(secondEnd.id);
  }
  if (badCode) return fail('bad_argument', `预警编号无效（应为 A 加数字，如 A123）。格式：${USAGE[kind]}`, { kind });
  if (codes.length > 1) return fail('ambiguous_code', `一次只能处理一条预警（${codes.map((x) => `A${x}`).join('、')}），请分开发送，如：${USAGE[kind].replace('A123', `A${codes[0]}`)}`, { kind, codes });

  // the rest, as written (not folded); a question is not a command
  let restN = n.slice(pos);
  let restC = c.slice(pos);
  if (kind === 'acknowledge' && /[?][\s?]*$/.test(n)) return fail('unknown', `如需确认，请发送：确认 ${codes.length ? `A${codes[0]}` : 'A123'}`, { kind });

  // [code] at the very end, after a separator
  if (codes.length === 0) {
    const tail = TAIL_CODE.exec(restN);
    if (tail) {
      const digits = tail[1] ?? tail[2];
      if (digits.length > MAX_CODE_DIGITS || Number(digits) === 0) return fail('bad_argument', `预警编号无效（应为 A 加数字，如 A123）。格式：${USAGE[kind]}`, { kind });
      codes.push(Number(digits));
      restN = restN.slice(0, tail.index);
      restC = restC.slice(0, tail.index);
    }
  }

  // no code in the line: the quoted message may carry one
  let code: number | null = codes[0] ?? null;
  let codeSource: CodeSource = code === null ? null : 'text';
  if (code === null) {
    const quoted = [...codesIn(opts.quoted ?? ''), ...(quote ? codesIn(quote) : [])].filter((x, i, a) => a.indexOf(x) === i);
    if (quoted.length === 1) {
      code = quoted[0];
      codeSource = 'quote';
    } else if (quoted.length > 1 && kind !== 'query') {
      return fail('ambiguous_code', `引用的消息里有多条预警（${quoted.slice(0, 6).map((x) => `A${x}`).join('、')}），请写明编号，如：${USAGE[kind].replace('A123', `A${quoted[0]}`)}`, { kind, codes: quoted });
    }
  }
  const base = { code, codeSource, verb: verb.word };
  const arg = tidy(restC.replace(LEADING_SEPS, ''));
  const tooLong = (what: string) => fail('too_long', `${what}太长（最多 ${MAX_NOTE_CHARS} 字），请精简后重发`, { kind });

  switch (kind) {
    case 'acknowledge': {
      const note = arg.replace(ONLY_SEPS, '');
      if (charCount(note) > MAX_NOTE_CHARS) return tooLong('备注');
      return { ok: true, command: { kind, ...base, note: note || null } };
    }
    case 'handle': {
      if (!/[^\s\p{P}\p{S}]/u.test(arg)) return fail('missing_argument', `请写明处置情况，如：${USAGE.handle.replace('A123', code ? `A${code}` : 'A123')}`, { kind });
      if (charCount(arg) > MAX_NOTE_CHARS) return tooLong('处置说明');
      return { ok: true, command: { kind, ...base, note: arg } };
    }
    case 'clear': {
      if (!/[^\s\p{P}\p{S}]/u.test(arg)) return fail('missing_argument', `请写明销警原因，如：${USAGE.clear.replace('A123', code ? `A${code}` : 'A123')}`, { kind });
      if (charCount(arg) > MAX_NOTE_CHARS) return tooLong('销警原因');
      return { ok: true, command: { kind, ...base, reason: arg } };
    }
    case 'extension': {
      const example = USAGE.extension.replace('A123', code ? `A${code}` : 'A123');
      const restArg = foldWidth(arg);
      let reason: string;
      let resolved: { date: string } | { error: string };
      const first = DATE_AT_START.exec(restArg);
      if (first) {
        resolved = dateFromMatch(first, opts.today);
        reason = tidy(arg.slice(first[0].length).replace(LEADING_SEPS, ''));
      } else {
        const last = DATE_AT_END.exec(restArg);
        if (!last) return fail(arg ? 'bad_argument' : 'missing_argument', `请写明延期到的日期和原因，如：${example}`, { kind });
        resolved = dateFromMatch(last, opts.today);
        // "…延期至2027/1/5": the 至/到 before the date was taken by the match; drop the 延期 before it
        const glued = /[至到]/.test(restArg[last.index]);
        reason = tidy(arg.slice(0, last.index)).replace(TRAILING_SEPS, '');
        reason = (glued ? reason.replace(/(?:延期|推迟|顺延)$/, '') : reason.replace(/(?:延期|推迟|顺延)?至$|(?:延期|推迟|顺延)到$/, '')).trim();
      }
      if ('error' in resolved) return fail('bad_argument', `${resolved.error}。格式：${example}`, { kind });
      if (!/[^\s\p{P}\p{S}]/u.test(reason)) return fail('missing_argument', `请写明延期原因，如：${example}`, { kind });
      if (charCount(reason) > MAX_NOTE_CHARS) return tooLong('延期原因');
      return { ok: true, command: { kind, ...base, date: resolved.date, reason } };
    }
    case 'query':
      return { ok: true, command: { kind, ...base } };
    default:
      return fail('unknown', UNKNOWN_HINT);
  }
}

/** True when the command names its alert itself (in the line or by the quoted message). */
export function hasExplicitCode(c: ChatCommand): boolean {
  return 'code' in c && c.code !== null;
}
