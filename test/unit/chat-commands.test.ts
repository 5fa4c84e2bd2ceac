/**
 * The chat command grammar (server/domain/chat-commands.ts): one table of concrete chat lines as
 * WeCom, DingTalk (leading space after the stripped @robot) and wechaty (`@Name\u2005`, quoted
 * replies `「Name：…」\n- - - …\n`) deliver them → the exact parse. Pure; `today` is passed in.
 */
import { HELP_TEXT, VERBS, cleanChatText, codesIn, foldWidth, parseChatCommand, splitInlineQuote, stripMentions, type ChatCommand, type ParseOptions, type ParseFailure } from '../../server/domain/chat-commands';

const TODAY = '2026-11-30';
const WECHAT_RULE = '\n- - - - - - - - - - - - - - -\n';

type Expected = ChatCommand | { fail: ParseFailure; kind?: ChatCommand['kind']; hint?: RegExp };

const ack = (code: number | null, extra: Partial<{ note: string | null; verb: string; codeSource: 'text' | 'quote' | null }> = {}): ChatCommand => ({
  kind: 'acknowledge',
  code,
  codeSource: extra.codeSource !== undefined ? extra.codeSource : code === null ? null : 'text',
  verb: extra.verb ?? '确认',
  note: extra.note ?? null,
});
const handle = (code: number | null, note: string, verb = '处置', codeSource: 'text' | 'quote' | null = code === null ? null : 'text'): ChatCommand => ({ kind: 'handle', code, codeSource, verb, note });
const clear = (code: number | null, reason: string, verb = '销警'): ChatCommand => ({ kind: 'clear', code, codeSource: code === null ? null : 'text', verb, reason });
const ext = (code: number | null, date: string, reason: string, verb = '延期申请'): ChatCommand => ({ kind: 'extension', code, codeSource: code === null ? null : 'text', verb, date, reason });
const query = (code: number | null, verb = '查询', codeSource: 'text' | 'quote' | null = code === null ? null : 'text'): ChatCommand => ({ kind: 'query', code, codeSource, verb });

const CASES: Array<[string, string, Expected, ParseOptions?]> = [
  // ── 确认 / 收到 / ack, code before, after, glued, full-width, #, spaced
  ['plain', '确认 A123', ack(123)],
  ['lower-case code', '确认 a123', ack(123)],
  ['code glued after the verb', '确认A123', ack(123)],
  ['code before the verb', 'A123 确认', ack(123)],
  ['code glued before the verb', 'A123确认', ack(123)],
  ['full-width code and ideographic space', 'Ａ１２３　确认', ack(123)],
  ['full-width lower-case code', '确认ａ１２３', ack(123)],
  ['#A123', '#A123 收到了', ack(123, { verb: '收到' })],
  ['full-width ＃', '收到 ＃Ａ１２', ack(12, { verb: '收到' })],
  ['spaced code A 123', 'A 123 确认', ack(123)],
  ['spaced code after the verb', '确认 A 123', ack(123)],
  ['code at the end after a note separator', '收到，马上到现场 A12', ack(12, { verb: '收到', note: '马上到现场' })],
  ['收到', '收到', ack(null, { verb: '收到' })],
  ['已收到', '已收到 A7', ack(7, { verb: '已收到' })],
  ['确认收到', '确认收到 A7', ack(7, { verb: '确认收到' })],
  ['已确认', '已确认A7', ack(7, { verb: '已确认' })],
  ['收悉', '收悉', ack(null, { verb: '收悉' })],
  ['ack', 'ack A5', ack(5, { verb: 'ack' })],
  ['ACK upper case', 'ACK a5', ack(5, { verb: 'ack' })],
  ['OK', 'OK', ack(null, { verb: 'ok' })],
  ['ok with code', 'ok A9', ack(9, { verb: 'ok' })],
  ['okay', 'Okay!', ack(null, { verb: 'okay' })],
  ['OK了', 'OK了', ack(null, { verb: 'ok' })],
  ['full-width ＯＫ', 'ＯＫ', ack(null, { verb: 'ok' })],
  ['particles 了/啦', '收到啦', ack(null, { verb: '收到' })],
  ['ack with a note', '收到 A12 马上到现场', ack(12, { verb: '收到', note: '马上到现场' })],
  ['ack + emoji', '收到👍🏻', ack(null, { verb: '收到', note: '👍🏻' })],
  ['filler 好的 before the verb', '好的，收到', ack(null, { verb: '收到' })],
  ['filler and code', '嗯，确认 A3', ack(3)],
  ['whole line in quotes', '“确认”', ack(null)],
  ['Chinese punctuation after the verb', '确认：A12。', ack(12)],
  ['leading zeros', '确认 A007', ack(7)],
  // ── not acknowledgements
  ['好 alone is not an ack', '好', { fail: 'unknown' }],
  ['好的 alone is not an ack', '好的', { fail: 'unknown' }],
  ['a question is not an ack', '确认？', { fail: 'unknown', kind: 'acknowledge', hint: /确认 A123/ }],
  ['a question with a code', '收到 A12?', { fail: 'unknown', kind: 'acknowledge', hint: /确认 A12/ }],
  ['收到吗', '收到吗', { fail: 'unknown' }],
  ['确认了吗', '确认了吗', { fail: 'unknown' }],
  ['verb glued to chat', '确认一下A12的情况', { fail: 'unknown' }],
  ['okey is no word', 'okey', { fail: 'unknown' }],
  ['acknowledge is no word', 'acknowledge A1', { fail: 'unknown' }],
  ['a verb in the middle of a sentence', '老板说确认 A12', { fail: 'unknown' }],
  ['a code alone', 'A123', { fail: 'unknown', hint: /确认 A123/ }],
  ['plain chat', '今天中午吃什么', { fail: 'unknown', hint: /确认 A123/ }],
  ['empty', '', { fail: 'empty' }],
  ['only spaces and controls', ' \u3000\u200b\u0007\n ', { fail: 'empty' }],
  ['only a mention', '@安全助手\u2005', { fail: 'empty' }],
  // ── one alert per command; bad codes
  ['two codes after the verb', '确认 A12 A13', { fail: 'ambiguous_code', kind: 'acknowledge', hint: /A12、A13/ }],
  ['code before and another after', 'A12 确认 A13', { fail: 'ambiguous_code' }],
  ['same code twice is one', 'A12 确认 A12', ack(12)],
  ['ten digits', '确认 A1234567890', { fail: 'bad_argument', kind: 'acknowledge' }],
  ['A0', '确认 A0', { fail: 'bad_argument' }],
  // ── 处置
  ['处置 with note', '处置 A123 已安排检修', handle(123, '已安排检修')],
  ['处置 glued', '处置A123已安排检修', handle(123, '已安排检修')],
  ['处置 code last', '处置 已更换阀门 A12', handle(12, '已更换阀门')],
  ['an equipment tag at the end is not a code', '处置 更换了泵A2', handle(null, '更换了泵A2')],
  ['a spaced A before a CJK word is text', '处置 A 3号泵已停', handle(null, 'A 3号泵已停')],
  ['other codes inside the note stay', '处置 A12 与 A13 同一原因，已停泵', handle(12, '与 A13 同一原因，已停泵')],
  ['note keeps its full-width punctuation', '处置：A12：已安排检修，预计１５：００完成。', handle(12, '已安排检修，预计１５：００完成。')],
  ['note keeps emoji (ZWJ sequence)', '处置 A1 已通知👨‍🔧到场', handle(1, '已通知👨‍🔧到场')],
  ['处理 (with a separator)', '处理 A5 已关阀', handle(5, '已关阀', '处理')],
  ['处理一下 is chat', '处理一下', { fail: 'unknown' }],
  ['handle (Latin)', 'handle A5 valve closed', handle(5, 'valve closed', 'handle')],
  ['处置 without a note', '处置 A12', { fail: 'missing_argument', kind: 'handle', hint: /处置 A12 / }],
  ['处置 with only an emoji', '处置 A12 👍', { fail: 'missing_argument', kind: 'handle' }],
  ['处置 with a 501-character note', `处置 A1 ${'检'.repeat(501)}`, { fail: 'too_long', kind: 'handle' }],
  ['处置 with a 500-character note', `处置 A1 ${'检'.repeat(500)}`, handle(1, '检'.repeat(500))],
  ['note whitespace collapsed', '处置 A1  已安排\n\n检修', handle(1, '已安排 检修')],
  // ── 销警
  ['销警 with reason', '销警 A12 误报，现场正常', clear(12, '误报，现场正常')],
  ['消警 spelling', '消警 A12 误报', clear(12, '误报', '消警')],
  ['销警 glued', '销警A12误报', clear(12, '误报')],
  ['销警 without reason', '销警 A12', { fail: 'missing_argument', kind: 'clear', hint: /销警 A12/ }],
  ['销警 without anything', '销警', { fail: 'missing_argument', kind: 'clear' }],
  // ── 延期申请: date forms, year resolution, order
  ['ISO date', '延期申请 A12 2026-12-20 备件未到', ext(12, '2026-12-20', '备件未到')],
  ['slashes', '延期申请 A12 2026/12/20 备件未到', ext(12, '2026-12-20', '备件未到')],
  ['年月日', '延期申请 A12 2027年1月5日 备件未到', ext(12, '2027-01-05', '备件未到')],
  ['8 digits', '延期申请 A12 20261220 备件未到', ext(12, '2026-12-20', '备件未到')],
  ['month-day this year', '延期申请 A12 12-20 备件未到', ext(12, '2026-12-20', '备件未到')],
  ['月日 this year', '延期申请 A12 12月20日 备件未到', ext(12, '2026-12-20', '备件未到')],
  ['12/20', '延期申请 A12 12/20 备件未到', ext(12, '2026-12-20', '备件未到')],
  ['month-day already past → next year', '延期申请 A12 1月5号 备件未到', ext(12, '2027-01-05', '备件未到')],
  ['today itself stays this year', '延期申请 A12 11-30 备件未到', ext(12, '2026-11-30', '备件未到')],
  ['02-29 → next leap year', '延期申请 A12 02-29 设备到货', ext(12, '2028-02-29', '设备到货')],
  ['full-width digits', '延期申请 Ａ１２ １２月２０日 备件未到', ext(12, '2026-12-20', '备件未到')],
  ['申请延期至, code last', '申请延期至12-20，备件未到 A12', ext(12, '2026-12-20', '备件未到', '申请延期')],
  ['延期 glued to a date', '延期12月20日 备件未到', ext(null, '2026-12-20', '备件未到', '延期')],
  ['date last', '延期申请 A12 备件未到 2027/1/5', ext(12, '2027-01-05', '备件未到')],
  ['date last after 延期至', '延期申请 A12 备件未到 延期至2027/1/5', ext(12, '2027-01-05', '备件未到')],
  ['invalid date', '延期申请 A12 2026-02-30 备件未到', { fail: 'bad_argument', kind: 'extension', hint: /2026-02-30/ }],
  ['past full date', '延期申请 A12 2026-11-01 备件未到', { fail: 'bad_argument', kind: 'extension', hint: /已过/ }],
  ['no date', '延期申请 A12 备件未到', { fail: 'bad_argument', kind: 'extension', hint: /日期/ }],
  ['no reason', '延期申请 A12 12月20日', { fail: 'missing_argument', kind: 'extension', hint: /原因/ }],
  ['nothing', '延期申请', { fail: 'missing_argument', kind: 'extension' }],
  ['month-day without today', '延期申请 A12 12-20 备件未到', { fail: 'bad_argument', kind: 'extension', hint: /完整日期/ }, {}],
  // ── 查询 / 我的待办
  ['查询', '查询', query(null)],
  ['我的待办', '我的待办', query(null, '我的待办')],
  ['待办', '待办', query(null, '待办')],
  ['查询 A12', '查询 A12', query(12)],
  ['查询 with extra words', '查询 我的', query(null)],
  // ── 绑定
  ['绑定', '绑定 123456', { kind: 'bind', bindCode: '123456', verb: '绑定' }],
  ['绑定 full-width glued', '绑定１２３４５６', { kind: 'bind', bindCode: '123456', verb: '绑定' }],
  ['绑定 spaced digits', '绑定 123 456', { kind: 'bind', bindCode: '123456', verb: '绑定' }],
  ['绑定 5 digits', '绑定 12345', { fail: 'bad_argument', kind: 'bind', hint: /6 位/ }],
  ['绑定 without code', '绑定', { fail: 'missing_argument', kind: 'bind' }],
  // ── 帮助
  ['帮助', '帮助', { kind: 'help', verb: '帮助' }],
  ['help', 'HELP', { kind: 'help', verb: 'help' }],
  ['question mark', '？', { kind: 'help', verb: '?' }],
  // ── mentions (DingTalk leading space, wechaty U+2005, several, bot names with spaces)
  ['DingTalk leading space', ' 确认 A12', ack(12)],
  ['wechaty mention', '@安全助手\u2005确认 A12', ack(12)],
  ['several mentions', '@张三 @李四\u2005收到 A5', ack(5, { verb: '收到' })],
  ['bot name with a space', '@Safety Bot\u2005确认', ack(null), { botNames: ['Safety Bot'] }],
  ['full-width @ and bot name glued to the verb', '＠安全助手确认Ａ３', ack(3), { botNames: ['安全助手'] }],
  ['bot mention at the end', '确认 A12 @安全助手', ack(12), { botNames: ['安全助手'] }],
  ['other mentions in a note stay', '处置 A5 已通知@张三 处理', handle(5, '已通知@张三 处理')],
  // ── quotes
  ['wechaty quote supplies the code', `「周建国：【超期未整改·三级】V-101B…\n预警编号：A77（2026-11-30 12:00）」${WECHAT_RULE}收到`, ack(77, { verb: '收到', codeSource: 'quote' })],
  ['wechaty quote and a mention', `「安全助手：告警 A77 · 第3级」${WECHAT_RULE}@安全助手\u2005处置 已关阀`, handle(77, '已关阀', '处置', 'quote')],
  ['the line’s own code wins over the quote', `「安全助手：告警 A77 · 第3级」${WECHAT_RULE}确认 A78`, ack(78)],
  ['quote with two codes is ambiguous', `「安全助手：A77 与 A78」${WECHAT_RULE}确认`, { fail: 'ambiguous_code', kind: 'acknowledge', hint: /A77、A78/ }],
  ['quote with two codes: 查询 lists', `「安全助手：A77 与 A78」${WECHAT_RULE}查询`, query(null)],
  ['quote passed separately (WeCom)', '确认', ack(55, { codeSource: 'quote' }), { quoted: '【临期未排查·一级】… 预警编号：A55' }],
  ['separate quote with a full-width code', '收到', ack(55, { verb: '收到', codeSource: 'quote' }), { quoted: 'Ａ５５ 临期未排查' }],
  ['inline 「A123 …」 before the verb', '「A123 超期未整改」确认', ack(123, { codeSource: 'quote' })],
  ['quote on its own last line', '确认\n「A123 超期未整改」', ack(123, { codeSource: 'quote' })],
  ['quote names no code', `「张三：[图片]」${WECHAT_RULE}收到`, ack(null, { verb: '收到' })],
  ['the quoted name is not read for codes', `「A9：看一下」${WECHAT_RULE}收到`, ack(null, { verb: '收到' })],
  // ── cleaning
  ['bidi and zero-width characters', '\u202B确\u200B认\u202C A12\uFEFF', ack(12)],
  ['control characters', '\u0001确认\u0007 A12\u001B', ack(12)],
  ['CRLF and tabs', '处置\tA12\r\n已关阀', handle(12, '已关阀')],
  ['lone surrogate dropped', '处置 A12 已关阀\uD83D', handle(12, '已关阀')],
  ['NFC', '处置 A12 Cafe\u0301', handle(12, 'Café')],
];

describe('parseChatCommand', () => {
  test('the table is big enough to mean something', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(60);
  });

  // rows as objects: a row callback with more parameters than the row has would be taken for `done`
  test.each(CASES.map(([name, text, expected, opts]) => ({ name, text, expected, opts })))('$name: $text', ({ text, expected, opts }) => {
    const r = parseChatCommand(text, opts ?? { today: TODAY, botNames: ['安全助手'] });
    if ('fail' in expected) {
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.reason).toBe(expected.fail);
      if (expected.kind) expect(r.kind).toBe(expected.kind);
      if (expected.hint) expect(r.hint).toMatch(expected.hint);
      // every hint is short Chinese text saying what to write
      expect(r.hint.length).toBeGreaterThan(4);
      expect(r.hint.length).toBeLessThanOrEqual(200);
      expect(r.hint).toMatch(/[\u4e00-\u9fff]/);
    } else {
      expect(r).toEqual({ ok: true, command: expected });
    }
  });

  test('never throws on non-strings and huge inputs', () => {
    expect(parseChatCommand(undefined as unknown as string).ok).toBe(false);
    expect(parseChatCommand(42 as unknown as string).ok).toBe(false);
    const huge = parseChatCommand(`确认 A1 ${'x'.repeat(25_000)}`);
    expect(huge).toMatchObject({ ok: false, reason: 'too_long' });
  });

  test('a 10 000-character line parses quickly (no catastrophic backtracking)', () => {
    const lines = [
      `处置 A1 ${'。'.repeat(10_000)}`,
      `处置 ${'A1。'.repeat(3_000)}`,
      `延期申请 A1 ${'1-'.repeat(5_000)}`,
      `确认 ${'A'.repeat(10_000)}`,
      `处置 ${'A1'.repeat(5_000)}x`,
      `${'@x '.repeat(3_000)}确认`,
      `「${'A1 '.repeat(3_000)}」${WECHAT_RULE}确认`,
    ];
    for (const l of lines) {
      const t = Date.now();
      parseChatCommand(l, { today: TODAY, botNames: ['安全助手'] });
      expect(Date.now() - t).toBeLessThan(200);
    }
  });
});

describe('helpers', () => {
  test('cleanChatText: spaces unified, invisible characters removed, ZWJ kept', () => {
    expect(cleanChatText('a\u3000b\u2005c\u00a0d')).toBe('a b c d');
    expect(cleanChatText('\u200e确认\u200f')).toBe('确认');
    expect(cleanChatText('👨\u200d🔧')).toBe('👨\u200d🔧');
  });

  test('foldWidth keeps the length', () => {
    const s = 'Ａ１２３：，？　x';
    expect(foldWidth(s)).toBe('A123:,?　x');
    expect(foldWidth(s).length).toBe(s.length);
  });

  test('codesIn finds distinct codes with word boundaries', () => {
    expect(codesIn('告警 A12 · 第3级，预警编号：A12；另见 #a13')).toEqual([12, 13]);
    expect(codesIn('V-101A2 TANK_A1 PA12 A12b')).toEqual([]);
  });

  test('splitInlineQuote: WeChat form, first-line and last-line quotes, plain text', () => {
    expect(splitInlineQuote(`「张三：A1 超期」${WECHAT_RULE}收到`)).toEqual({ body: '收到', quote: 'A1 超期' });
    expect(splitInlineQuote('「A1 超期」\n收到')).toEqual({ body: '\n收到', quote: 'A1 超期' });
    expect(splitInlineQuote('收到\n「A1 超期」')).toEqual({ body: '收到', quote: 'A1 超期' });
    expect(splitInlineQuote('处置 按「规程」处理')).toEqual({ body: '处置 按「规程」处理', quote: null });
  });

  test('stripMentions: leading mentions and the bot anywhere', () => {
    expect(stripMentions('@a @b 确认', [])).toBe('确认');
    expect(stripMentions('确认 @Safety Bot', ['Safety Bot']).trim()).toBe('确认');
    expect(stripMentions('确认 @张三', ['安全助手'])).toBe('确认 @张三');
  });

  test('HELP_TEXT names every command and fits one chat bubble', () => {
    for (const w of ['确认', '处置', '销警', '延期申请', '查询', '绑定', '帮助']) expect(HELP_TEXT).toContain(w);
    expect([...HELP_TEXT].length).toBeLessThanOrEqual(500);
    // every verb in the table parses as its kind
    for (const v of VERBS) {
      for (const w of v.words) {
        const line = v.kind === 'bind' ? `${w} 123456` : v.kind === 'extension' ? `${w} A1 12-20 原因` : v.kind === 'handle' || v.kind === 'clear' ? `${w} A1 说明` : `${w} A1`;
        const r = parseChatCommand(line, { today: TODAY });
        expect(r.ok && r.command.kind).toBe(v.kind);
      }
    }
  });
});
