/**
 * WeChat subscribe-message keywords (server/domain/subscribe-fields.ts): every value fitted to its
 * keyword type by the value table of protocols.md §4.3. Each fitted value is checked with the fake
 * WeChat's own, independent reading of that table (test/fakes/wechat.ts wechatAcceptsValue), and
 * the raw values are shown to be refused by it — so a rule not applied makes these tests fail.
 */
import { DEFAULT_ALERT_FIELDS, fieldMappingProblems, fitValue, keywordType, KIND_PHRASES, messageFacts, subscribeData, subscribeTime, type KeywordType } from '../../server/domain/subscribe-fields';
import { renderAlertMessage } from '../../server/domain/render';
import type { NeutralMessage } from '../../server/domain/message';
import { wechatAcceptsValue } from '../fakes/wechat';

const TZ = 'Asia/Shanghai';
const cps = (s: string) => [...s].length;
const fit = (type: KeywordType, raw: string, instant?: Date) => fitValue(type, raw, { tz: TZ, instant });
const PLACE_35 = '一号罐区液氯储罐V-101A及V-101B区域东侧装卸栈台紧急切断阀组'; // 35 characters

describe('keywordType', () => {
  test.each([
    ['thing1', 'thing'],
    ['thing13', 'thing'],
    ['time2', 'time'],
    ['character_string5', 'character_string'],
    ['phone_number7', 'phone_number'],
    ['car_number2', 'car_number'],
    ['phrase4', 'phrase'],
    ['amount3', 'amount'],
    ['date9', 'date'],
    ['name1', 'name'],
  ])('%s → %s', (key, type) => expect(keywordType(key)).toBe(type));
  test('unknown types and malformed keys → null', () => {
    expect(keywordType('things1')).toBeNull();
    expect(keywordType('thing')).toBeNull();
    expect(keywordType('1thing')).toBeNull();
  });
});

describe('fitValue: one row per keyword type of the table (protocols.md §4.3)', () => {
  const at = new Date('2026-11-30T04:05:00.000Z'); // 12:05 in Shanghai

  // [type, key, raw, expected]
  const rows: Array<[KeywordType, string, string, string]> = [
    ['thing', 'thing3', PLACE_35, '一号罐区液氯储罐V-101A及V-10…'],
    ['thing', 'thing1', 'V-101B 液位计偏差', 'V-101B 液位计偏差'],
    ['thing', 'thing1', '储罐 🔥 泄漏\u200b 报警', '储罐 泄漏 报警'],
    ['number', 'number1', '压力 0.95 MPa', '0.95'],
    ['number', 'number1', '１２３ 个', '123'],
    ['letter', 'letter1', 'ABC-123 def', 'ABCdef'],
    ['symbol', 'symbol1', 'a+b-c*d/e%f', '+-*/%'],
    ['character_string', 'character_string5', 'A123（已超期）', 'A123()'.replace('()', '')],
    ['character_string', 'character_string5', 'YH20261130000100000000000000000012345', 'YH202611300001000000000000000000'],
    ['time', 'time2', 'ignored', '2026年11月30日 12:05'],
    ['date', 'date2', 'ignored', '2026年11月30日'],
    ['amount', 'amount1', '整改费用 12500.50 元', '¥12500.50'],
    ['phone_number', 'phone_number1', '+86 138-0000-0007', '+86138-0000-0007'],
    ['car_number', 'car_number1', '苏D 12345', '苏D12345'],
    ['name', 'name1', '欧阳娜娜娜娜娜娜娜娜娜', '欧阳娜娜娜娜娜娜娜娜'],
    ['name', 'name1', 'Alexander Christopher Smith', 'Alexander Christophe'],
    ['phrase', 'phrase4', '整改超期提醒', '整改超期提'],
    ['phrase', 'phrase4', '3级', '级'],
    ['phrase', 'phrase4', 'level 3!', '待处理'],
  ];

  test.each(rows)('%s %s: %j → %j, accepted by WeChat', (type, key, raw, expected) => {
    const v = fit(type, raw, type === 'time' || type === 'date' ? at : undefined);
    expect(v).toBe(expected);
    expect({ key, v, accepted: wechatAcceptsValue(key, v) }).toEqual({ key, v, accepted: true });
  });

  test('the raw values that needed fitting are refused by WeChat as they are (the fitting matters)', () => {
    expect(wechatAcceptsValue('thing3', PLACE_35)).toBe(false);
    expect(wechatAcceptsValue('phrase4', '整改超期提醒')).toBe(false);
    expect(wechatAcceptsValue('phrase4', '3级')).toBe(false);
    expect(wechatAcceptsValue('character_string5', 'A123（已超期）')).toBe(false);
    expect(wechatAcceptsValue('time2', '2026-11-30T04:05:00.000Z')).toBe(false);
    expect(wechatAcceptsValue('thing1', '储罐 🔥 泄漏')).toBe(false);
    expect(wechatAcceptsValue('number1', '压力 0.95 MPa')).toBe(false);
  });

  test('thing: exactly 20 code points stay; 21 become 19 + …; an emoji counts as one code point but is dropped', () => {
    const twenty = '一二三四五六七八九十一二三四五六七八九十';
    expect(fit('thing', twenty)).toBe(twenty);
    const v = fit('thing', twenty + '多');
    expect(cps(v)).toBe(20);
    expect(v.endsWith('…')).toBe(true);
    expect(fit('thing', '😀'.repeat(30))).toBe('详见小程序');
  });

  test('never empty: each type falls back to a safe value WeChat accepts', () => {
    for (const [type, key] of [
      ['thing', 'thing1'],
      ['number', 'number1'],
      ['letter', 'letter1'],
      ['symbol', 'symbol1'],
      ['character_string', 'character_string1'],
      ['amount', 'amount1'],
      ['phone_number', 'phone_number1'],
      ['name', 'name1'],
      ['phrase', 'phrase1'],
    ] as Array<[KeywordType, string]>) {
      const v = fit(type, '   ');
      expect({ type, v, accepted: wechatAcceptsValue(key, v) }).toEqual({ type, v, accepted: true });
    }
    expect(fitValue('phrase', '123', { tz: TZ, fallback: '待确认' })).toBe('待确认');
  });

  test('time is the local time of the enterprise zone, whatever the host TZ', () => {
    const instant = new Date('2026-03-29T00:30:00.000Z');
    expect(subscribeTime(instant, 'Asia/Shanghai')).toBe('2026年3月29日 08:30');
    expect(subscribeTime(instant, 'Europe/Berlin')).toBe('2026年3月29日 01:30');
    expect(subscribeTime(new Date('2026-03-29T01:30:00.000Z'), 'Europe/Berlin')).toBe('2026年3月29日 03:30'); // after the DST change
    expect(subscribeTime(new Date('2026-12-31T16:00:00.000Z'), 'Asia/Shanghai')).toBe('2027年1月1日 00:00');
  });
});

describe('subscribeData: an alert message into the template keywords', () => {
  const rendered = (unitName: string | null, kind: 'hazard_overdue' | 'hazard_late_entry' = 'hazard_overdue', level = 3) =>
    renderAlertMessage({
      alertId: 123,
      kind,
      detail: { type: 'hazard', tz: TZ, hazardCode: 'YH202611200001', hazardName: 'V-101B 远传液位与现场液位计偏差超过5%', unitName, dangerLevel: 0, deadlineDate: '2026-11-25' },
      level,
      reason: 'escalate',
      now: new Date('2026-11-30T04:00:00.000Z'),
      recipients: [{ personId: 16, name: '胡婷' }],
    });

  test('the default mapping: headline, local time, place, level, alert code — all accepted by WeChat', () => {
    const data = subscribeData(rendered(PLACE_35));
    expect(Object.keys(data)).toEqual(Object.keys(DEFAULT_ALERT_FIELDS));
    expect(data).toEqual({
      thing1: { value: '超期未整改：V-101B 远传液位与现…' },
      time2: { value: '2026年11月30日 12:00' },
      thing3: { value: '一号罐区液氯储罐V-101A及V-10…' },
      phrase4: { value: '三级' },
      character_string5: { value: 'A123' },
    });
    for (const [k, v] of Object.entries(data)) expect({ k, accepted: wechatAcceptsValue(k, v.value) }).toEqual({ k, accepted: true });
  });

  test('no unit → 未指定; a long kind name is a ≤ 5-character phrase; const: sources; unknown level names', () => {
    const data = subscribeData(rendered(null, 'hazard_late_entry', 12), { thing3: 'place', phrase4: 'kind', phrase5: 'level', thing6: 'const:请及时处理', thing7: 'subject' });
    expect(data).toEqual({
      thing3: { value: '未指定' },
      phrase4: { value: '逾期录入' },
      phrase5: { value: '级' },
      thing6: { value: '请及时处理' },
      thing7: { value: 'V-101B 远传液位与现场液位计偏差…' },
    });
    for (const p of Object.values(KIND_PHRASES)) expect(wechatAcceptsValue('phrase1', p)).toBe(true);
  });

  test('a payload written before `facts` existed: subject, kind and place recovered from the title and lines', () => {
    const m = rendered('液氯储罐 V-101A/B');
    const old: NeutralMessage = { ...m, facts: undefined };
    expect(messageFacts(old, TZ)).toEqual({ kind: null, kindName: '超期未整改', subject: 'V-101B 远传液位与现场液位计偏差超过5%', place: '液氯储罐 V-101A/B', tz: TZ });
    expect(subscribeData(old)).toEqual(subscribeData(m));
  });

  test('field mapping problems are named (config WECHAT_SUBSCRIBE_FIELDS)', () => {
    expect(fieldMappingProblems(DEFAULT_ALERT_FIELDS)).toEqual([]);
    expect(fieldMappingProblems({ thing1: 'const:x', things2: 'place', thing3: 'nowhere' })).toEqual([
      'things2: not a keyword type of subscribe messages (thing, number, letter, symbol, character_string, time, date, amount, phone_number, car_number, name, phrase, enum)',
      'thing3: unknown source "nowhere" (headline, subject, title, kind, place, level, firedAt, alertCode or const:<text>)',
    ]);
    expect(fieldMappingProblems({})).toEqual(['no keyword mapped']);
  });
});
