/**
 * WeChat one-time subscribe messages (订阅消息): the alert rendered into a template's keywords,
 * each value fitted to its keyword type BEFORE sending (pure, no I/O).
 *
 * A template keyword is `<type><n>` (e.g. `thing1`, `time2`); WeChat refuses a value that breaks
 * the type's rule with errcode 47003 `argument invalid! data.<key>.value invalid` and the whole
 * message is lost. Rules (protocols.md §4.3, the subscription-message value table;
 * https://developers.weixin.qq.com/miniprogram/dev/server/API/mp-message-management/subscribe-message/api_sendmessage.html):
 *
 * | type             | rule                                                        | what we do                                  |
 * |------------------|-------------------------------------------------------------|---------------------------------------------|
 * | thing            | ≤ 20 characters; Chinese, digits, letters, symbols          | drop emoji/control chars, cut to 19 + `…`   |
 * | number           | ≤ 32 digits, decimals allowed                               | the first number in the text, ≤ 32 digits   |
 * | letter           | ≤ 32 letters                                                | letters only, cut to 32                     |
 * | symbol           | ≤ 5 symbols                                                 | symbols only, cut to 5                      |
 * | character_string | ≤ 32 digits, letters, symbols                               | printable ASCII without spaces, cut to 32   |
 * | time             | 24-hour time, optionally with a date                        | `YYYY年M月D日 HH:mm` in the enterprise zone |
 * | date             | a date, optionally with a 24-hour time                      | `YYYY年M月D日` in the enterprise zone       |
 * | amount           | 1 currency symbol + ≤ 10 digits (decimals ok), may end in 元 | `¥` + the first number, ≤ 10 digits         |
 * | phone_number     | ≤ 17 digits and symbols                                     | digits, + and - only, cut to 17             |
 * | car_number       | ≤ 8 characters                                              | cut to 8                                    |
 * | name             | ≤ 10 Chinese characters, or ≤ 20 letters/symbols            | cut to 10 (any Chinese) or 20               |
 * | phrase           | ≤ 5 PURE Chinese characters (digits/punctuation → 47003)    | Chinese characters only, cut to 5           |
 * | enum             | only the template's declared values                         | passed through (the operator maps it)       |
 *
 * A value that ends up empty gets a safe default of its type (phrase: 待处理), never an empty
 * string. "Characters" are Unicode code points (`[...s].length`); how WeChat counts `thing` is
 * undocumented (protocols.md §9), so emoji and other astral characters are dropped rather than
 * risked.
 */
import type { NeutralMessage } from './message';
import { zoneOffsetMinutes } from './time';

/** Keyword value types of the subscription-message table (protocols.md §4.3). */
export const KEYWORD_TYPES = ['thing', 'number', 'letter', 'symbol', 'character_string', 'time', 'date', 'amount', 'phone_number', 'car_number', 'name', 'phrase', 'enum'] as const;
export type KeywordType = (typeof KEYWORD_TYPES)[number];

/**
 * Where a keyword's value comes from:
 * - `headline`  kind and subject, e.g. 超期未整改：V-101B 远传液位与现场液位计偏差超过5%
 * - `subject`   what the alert is about (the title without its 【…】 tag)
 * - `title`     the whole title, e.g. 【超期未整改·三级·升级】V-101B …
 * - `kind`      the alert kind in ≤ 5 Chinese characters, e.g. 超期未整改, 重大隐患, 逾期录入
 * - `place`     the risk unit (风险单元), or 未指定
 * - `level`     the escalation level, e.g. 三级
 * - `firedAt`   when this reminder was sent (format by the keyword's type: time / date)
 * - `alertCode` the code people type in chat, e.g. A123
 * - `const:<text>` a fixed text, e.g. const:请及时处理
 */
export type FieldSource = 'headline' | 'subject' | 'title' | 'kind' | 'place' | 'level' | 'firedAt' | 'alertCode' | `const:${string}`;

/** The alert template's default keywords (README "WeChat mini-program: server settings"). */
export const DEFAULT_ALERT_FIELDS: Readonly<Record<string, FieldSource>> = {
  thing1: 'headline',
  time2: 'firedAt',
  thing3: 'place',
  phrase4: 'level',
  character_string5: 'alertCode',
};

const SOURCES = ['headline', 'subject', 'title', 'kind', 'place', 'level', 'firedAt', 'alertCode'];

/** The type of a keyword from its name (`thing3` → thing, `character_string5` → character_string); null when unknown. */
export function keywordType(key: string): KeywordType | null {
  const m = /^([a-z_]+?)(\d+)$/.exec(key);
  if (!m) return null;
  return (KEYWORD_TYPES as readonly string[]).includes(m[1]) ? (m[1] as KeywordType) : null;
}

/**
 * Problems of a field mapping (config WECHAT_SUBSCRIBE_FIELDS), for the start-up check.
 * @returns one text per bad entry; empty when the mapping is usable
 */
export function fieldMappingProblems(fields: Record<string, string>): string[] {
  const problems: string[] = [];
  if (Object.keys(fields).length === 0) problems.push('no keyword mapped');
  for (const [key, source] of Object.entries(fields)) {
    if (!keywordType(key)) problems.push(`${key}: not a keyword type of subscribe messages (${KEYWORD_TYPES.join(', ')})`);
    if (!SOURCES.includes(source) && !source.startsWith('const:')) problems.push(`${key}: unknown source "${source}" (${SOURCES.join(', ')} or const:<text>)`);
  }
  return problems;
}

/** Short alert-kind names for `phrase` keywords (≤ 5 Chinese characters each). */
export const KIND_PHRASES: Readonly<Record<string, string>> = {
  task_due_soon: '临期未排查',
  task_overdue: '逾期未排查',
  hazard_due_soon: '临期未整改',
  hazard_overdue: '超期未整改',
  major_hazard: '重大隐患',
  abnormal_reading: '异常读数',
  hazard_late_entry: '逾期录入',
};

const LEVEL_NAMES = ['', '一级', '二级', '三级', '四级', '五级', '六级', '七级', '八级', '九级'];

/** Safe value of each type when nothing usable is left after fitting. */
export const TYPE_DEFAULTS: Readonly<Record<KeywordType, string>> = {
  thing: '详见小程序',
  number: '0',
  letter: 'A',
  symbol: '-',
  character_string: '-',
  // unreachable through subscribeData (it always passes the instant): still a valid value
  time: '00:00',
  date: '2000年1月1日',
  amount: '¥0',
  phone_number: '-',
  car_number: '-',
  name: '未指定',
  phrase: '待处理',
  enum: '-',
};

const HAN = /\p{Script=Han}/u;
/** code points WeChat may count oddly or refuse: astral (emoji…), controls, variation selectors, zero-width */
const RISKY = /[\u{10000}-\u{10FFFF}\p{Cc}\p{Cf}\u{FE00}-\u{FE0F}\u{20E3}]/gu;

const codePoints = (s: string): string[] => [...s];
const cut = (s: string, max: number, ellipsis = false): string => {
  const cps = codePoints(s);
  if (cps.length <= max) return s;
  return ellipsis ? cps.slice(0, max - 1).join('') + '…' : cps.slice(0, max).join('');
};

/** Local wall-clock parts of an instant in `tz` (host-independent). */
function localParts(instant: Date, tz: string) {
  const d = new Date(instant.getTime() + zoneOffsetMinutes(instant, tz) * 60_000);
  return { y: d.getUTCFullYear(), mo: d.getUTCMonth() + 1, day: d.getUTCDate(), h: d.getUTCHours(), mi: d.getUTCMinutes() };
}

/** `2026年11月30日 12:00` in `tz` (the `time` form with a date). */
export function subscribeTime(instant: Date, tz: string): string {
  const p = localParts(instant, tz);
  return `${p.y}年${p.mo}月${p.day}日 ${String(p.h).padStart(2, '0')}:${String(p.mi).padStart(2, '0')}`;
}

/** `2026年11月30日` in `tz`. */
export function subscribeDate(instant: Date, tz: string): string {
  const p = localParts(instant, tz);
  return `${p.y}年${p.mo}月${p.day}日`;
}

/**
 * One value fitted to its keyword type (table in the module comment): shortened or cleaned,
 * never refused; `fallback` (else the type's default) when nothing usable remains.
 * @param instant for `time` / `date`: the instant to show (text that is not one is replaced by it)
 */
export function fitValue(type: KeywordType | null, raw: string, opts: { tz: string; instant?: Date; fallback?: string }): string {
  const text = String(raw ?? '').replace(RISKY, '').replace(/\s+/g, ' ').trim();
  const orDefault = (v: string) => v || (opts.fallback ? fitValue(type, opts.fallback, { tz: opts.tz, instant: opts.instant }) : TYPE_DEFAULTS[type ?? 'thing']);
  switch (type) {
    case 'time':
    case 'date': {
      const at = opts.instant ?? (Number.isFinite(Date.parse(text)) ? new Date(text) : null);
      if (!at) return orDefault('');
      return type === 'time' ? subscribeTime(at, opts.tz) : subscribeDate(at, opts.tz);
    }
    case 'number': {
      const m = /-?\d+(?:\.\d+)?/.exec(text.replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0)));
      if (!m) return orDefault('');
      // ≤ 32 digits in all (decimals count): drop fraction digits first
      let v = m[0];
      while (v.replace(/\D/g, '').length > 32) v = v.includes('.') ? v.slice(0, -1).replace(/\.$/, '') : v.slice(0, -1);
      return v;
    }
    case 'letter':
      return orDefault(cut(text.replace(/[^A-Za-z]/g, ''), 32));
    case 'symbol':
      return orDefault(cut(text.replace(/[\p{L}\p{N}\s]/gu, ''), 5));
    case 'character_string':
      return orDefault(cut(text.replace(/[０-９Ａ-Ｚａ-ｚ]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0)).replace(/[^\x21-\x7e]/g, ''), 32));
    case 'amount': {
      const m = /\d+(?:\.\d+)?/.exec(text);
      if (!m) return orDefault('');
      const [int, frac] = m[0].split('.');
      const intPart = int.slice(0, 10);
      const fracPart = frac ? frac.slice(0, Math.max(0, 10 - intPart.length)) : '';
      return `¥${intPart}${fracPart ? `.${fracPart}` : ''}`;
    }
    case 'phone_number':
      return orDefault(cut(text.replace(/[^\d+-]/g, ''), 17));
    case 'car_number':
      return orDefault(cut(text.replace(/\s/g, ''), 8));
    case 'name':
      return orDefault(HAN.test(text) ? cut(text, 10) : cut(text, 20));
    case 'phrase':
      return orDefault(cut(codePoints(text).filter((c) => HAN.test(c)).join(''), 5));
    case 'enum':
      return orDefault(text);
    case 'thing':
    default:
      return orDefault(cut(text, 20, true));
  }
}

/** What the message says, structured (NeutralMessage.facts, or recovered from the title and lines of an older payload). */
export function messageFacts(m: NeutralMessage, defaultTz: string): { kind: string | null; kindName: string; subject: string; place: string | null; tz: string } {
  const tag = /^【([^】]*)】/.exec(m.title);
  const kindName = m.facts?.kindName ?? (tag ? tag[1].split('·')[0] : '');
  const subject = m.facts?.subject ?? m.title.replace(/^【[^】]*】/, '').trim();
  const placeLine = m.lines.find((l) => l.startsWith('风险单元：'));
  const place = m.facts ? m.facts.place ?? null : placeLine ? placeLine.slice('风险单元：'.length).trim() || null : null;
  return { kind: m.facts?.kind ?? null, kindName, subject, place, tz: m.facts?.tz ?? defaultTz };
}

/** The raw text of one source for a message (before fitting). */
function sourceText(source: string, m: NeutralMessage, facts: ReturnType<typeof messageFacts>): { text: string; fallback?: string } {
  if (source.startsWith('const:')) return { text: source.slice('const:'.length) };
  switch (source) {
    case 'headline': {
      const kind = (facts.kind && KIND_PHRASES[facts.kind]) || facts.kindName;
      return { text: kind ? `${kind}：${facts.subject}` : facts.subject, fallback: '安全预警' };
    }
    case 'subject':
      return { text: facts.subject, fallback: '安全预警' };
    case 'title':
      return { text: m.title, fallback: '安全预警' };
    case 'kind':
      return { text: (facts.kind && KIND_PHRASES[facts.kind]) || facts.kindName, fallback: '预警' };
    case 'place':
      return { text: facts.place ?? '', fallback: '未指定' };
    case 'level':
      return { text: LEVEL_NAMES[m.level] ?? `${m.level}级`, fallback: '待处理' };
    case 'firedAt':
      return { text: m.firedAt };
    case 'alertCode':
      return { text: m.alertCode };
    default:
      return { text: '' };
  }
}

/**
 * The `data` of subscribeMessage.send for one alert message: every mapped keyword with its value
 * fitted to the keyword's type (never rejected by WeChat for length or character class).
 * @param fields keyword → source (DEFAULT_ALERT_FIELDS when not configured)
 * @param defaultTz the zone for `time`/`date` when the message carries none (older payloads)
 * @returns e.g. `{ thing1: { value: '超期未整改：V-101B 远传液位与现场液位…' }, time2: { value: '2026年11月30日 12:00' }, … }`
 */
export function subscribeData(m: NeutralMessage, fields: Readonly<Record<string, string>> = DEFAULT_ALERT_FIELDS, defaultTz = 'Asia/Shanghai'): Record<string, { value: string }> {
  const facts = messageFacts(m, defaultTz);
  const firedAt = new Date(m.firedAt);
  const data: Record<string, { value: string }> = {};
  for (const [key, source] of Object.entries(fields)) {
    const type = keywordType(key);
    const { text, fallback } = sourceText(source, m, facts);
    // a time/date keyword shows the instant of its source (firedAt) — other sources fall back to firedAt too
    const instant = type === 'time' || type === 'date' ? (source === 'firedAt' || !Number.isFinite(Date.parse(text)) ? firedAt : new Date(text)) : undefined;
    data[key] = { value: fitValue(type, text, { tz: facts.tz, instant, fallback }) };
  }
  return data;
}
