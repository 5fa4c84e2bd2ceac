/**
 * Byte/character helpers (protocols.md §6): Chinese (3 bytes), emoji (4 bytes, 2 UTF-16 units),
 * mixed text, cuts exactly at the limit, and seeded random strings checking the invariants.
 */
import {
  charLength,
  fitUtf8,
  splitUtf8,
  truncateChars,
  truncateUtf8,
  utf8Length,
  type TextPart,
} from '../../server/domain/text-bytes';

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');
/** Valid UTF-8 that round-trips: no lone surrogate, no U+FFFD produced by encoding. */
const roundTrips = (s: string): boolean => Buffer.from(s, 'utf8').toString('utf8') === s && !s.includes('\uFFFD');
const isHigh = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;
/** true when cutting `s` at UTF-16 index `i` would separate a surrogate pair */
const splitsPair = (s: string, i: number): boolean => i > 0 && i < s.length && isHigh(s.charCodeAt(i - 1)) && isLow(s.charCodeAt(i));

/** mulberry32: small seeded PRNG so failures are reproducible */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = ['a', 'Z', '7', ' ', '\n', '\r\n', 'é', 'ß', 'Ω', '中', '文', '液', '氯', '…', '【', '】', '😀', '🧪', '⚠️', '👨‍👩‍👧', '𠀀'];
function randomString(rnd: () => number, maxUnits: number): string {
  const n = Math.floor(rnd() * maxUnits);
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(rnd() * ALPHABET.length)];
  return s;
}

describe('utf8Length / charLength', () => {
  it('counts UTF-8 bytes: ASCII 1, Latin-1 2, CJK 3, emoji 4, lone surrogate 3 (U+FFFD)', () => {
    expect(utf8Length('')).toBe(0);
    expect(utf8Length('a')).toBe(1);
    expect(utf8Length('é')).toBe(2);
    expect(utf8Length('中')).toBe(3);
    expect(utf8Length('😀')).toBe(4);
    expect('😀'.length).toBe(2);
    expect(utf8Length('液氯储罐V-101A😀')).toBe(4 * 3 + 6 + 4);
    expect(utf8Length('\uD800')).toBe(3);
  });

  it('counts characters as code points', () => {
    expect(charLength('')).toBe(0);
    expect(charLength('中文')).toBe(2);
    expect(charLength('😀🧪')).toBe(2);
    expect(charLength('a😀b')).toBe(3);
    expect(charLength('\uD800x')).toBe(2); // lone surrogate is one code point
    expect(charLength('👨‍👩‍👧')).toBe(5); // 3 emoji + 2 ZWJ: code points, not graphemes
  });
});

describe('truncateUtf8', () => {
  it('returns a string that fits unchanged, including exactly at the limit', () => {
    expect(truncateUtf8('中文', 6)).toBe('中文');
    expect(truncateUtf8('😀', 4)).toBe('😀');
    expect(truncateUtf8('', 0)).toBe('');
  });

  it('cuts Chinese on a character boundary, ellipsis included in the limit', () => {
    // 4 × 3 = 12 bytes; limit 11 → budget 8 for text → 2 characters + '…' (3 bytes) = 9
    expect(truncateUtf8('液氯储罐', 11)).toBe('液氯…');
    expect(truncateUtf8('液氯储罐', 9)).toBe('液氯…');
    expect(truncateUtf8('液氯储罐', 8)).toBe('液…');
    expect(bytes(truncateUtf8('液氯储罐', 10))).toBeLessThanOrEqual(10);
  });

  it('never splits a 4-byte emoji (surrogate pair)', () => {
    const s = '😀😀😀'; // 12 bytes
    expect(truncateUtf8(s, 11)).toBe('😀😀…'); // 8 + 3
    expect(truncateUtf8(s, 10)).toBe('😀…'); // 7; a half emoji would be 9
    expect(truncateUtf8(s, 6)).toBe('…');
    for (let n = 0; n <= 12; n++) expect(roundTrips(truncateUtf8(s, n))).toBe(true);
  });

  it('mixed text, custom and empty ellipsis', () => {
    expect(truncateUtf8('V-101B 液位偏差😀', 12, '...')).toBe('V-101B ...'); // 7 + 3 = 10; '液' would make 13
    expect(truncateUtf8('V-101B 液位偏差😀', 13, '')).toBe('V-101B 液位');
    expect(truncateUtf8('abcdef', 5, '')).toBe('abcde');
  });

  it('limit smaller than the ellipsis: longest prefix without ellipsis', () => {
    expect(truncateUtf8('ab中', 2)).toBe('ab');
    expect(truncateUtf8('中中', 2)).toBe('');
    expect(truncateUtf8('中中', 0)).toBe('');
  });

  it('rejects a negative or fractional limit', () => {
    expect(() => truncateUtf8('x', -1)).toThrow(RangeError);
    expect(() => truncateUtf8('x', 1.5)).toThrow(RangeError);
  });
});

describe('splitUtf8', () => {
  it('prefers line breaks', () => {
    expect(splitUtf8('第一行\n第二行\n第三行', 14)).toEqual(['第一行\n', '第二行\n', '第三行']);
    expect(splitUtf8('第一行\n第二行\n第三行', 21)).toEqual(['第一行\n第二行\n', '第三行']);
    expect(splitUtf8('ab\r\ncd', 4)).toEqual(['ab\r\n', 'cd']);
  });

  it('cuts a long line at the last character that fits, chunks exactly at the limit', () => {
    expect(splitUtf8('中文字符号', 6)).toEqual(['中文', '字符', '号']);
    expect(splitUtf8('中文字符号', 7)).toEqual(['中文', '字符', '号']);
    expect(splitUtf8('😀😀😀', 4)).toEqual(['😀', '😀', '😀']);
    expect(splitUtf8('😀😀😀', 7)).toEqual(['😀', '😀', '😀']);
    expect(splitUtf8('a😀b', 4)).toEqual(['a', '😀', 'b']);
  });

  it('whole string when it fits; [] for the empty string', () => {
    expect(splitUtf8('中文', 6)).toEqual(['中文']);
    expect(splitUtf8('', 10)).toEqual([]);
  });

  it('rejects limits below 4 bytes (a character must always fit)', () => {
    expect(() => splitUtf8('x', 3)).toThrow(RangeError);
  });
});

describe('truncateChars', () => {
  it('counts code points: an emoji is one character', () => {
    expect(truncateChars('😀😀😀', 3)).toBe('😀😀😀');
    expect(truncateChars('😀😀😀', 2)).toBe('😀…');
    expect(truncateChars('液氯储罐液位偏差', 5)).toBe('液氯储罐…');
    expect(truncateChars('液氯储罐', 4)).toBe('液氯储罐');
    expect(truncateChars('液氯储罐', 0)).toBe('');
    expect(truncateChars('液氯储罐', 2, '')).toBe('液氯');
  });

  it('rejects a negative limit', () => {
    expect(() => truncateChars('x', -1)).toThrow(RangeError);
  });
});

describe('fitUtf8', () => {
  const line = (n: number, ch = '中'): string => ch.repeat(n);

  it('returns everything unchanged when it fits (exactly at the limit too)', () => {
    const parts: TextPart[] = [{ text: 'ab' }, { text: '中', dropRank: 1 }];
    expect(fitUtf8(parts, 6)).toEqual({ text: 'ab\n中', shortened: false, dropped: 0 });
  });

  it('drops the least important (highest rank, then last) parts first and ends with the overflow line', () => {
    const parts: TextPart[] = [
      { prefix: '**', text: '标题', suffix: '**', shrinkable: true },
      { text: line(10, '甲'), dropRank: 2 },
      { text: line(10, '乙'), dropRank: 2 },
      { text: 'link-1', dropRank: 1 },
      { text: '<@u1>' },
    ];
    const full = fitUtf8(parts, 1000).text;
    const r = fitUtf8(parts, bytes(full) - 1, { overflowLine: 'MORE' });
    expect(r.shortened).toBe(true);
    expect(r.dropped).toBe(1);
    expect(r.text).toBe(`**标题**\n${line(10, '甲')}\nlink-1\n<@u1>\nMORE`);
  });

  it('keeps the boundary line shortened when enough of it fits', () => {
    const parts: TextPart[] = [{ text: 'T' }, { text: line(100), dropRank: 1, shrinkable: true }, { text: 'END' }];
    const r = fitUtf8(parts, 100, { overflowLine: 'MORE' });
    expect(bytes(r.text)).toBeLessThanOrEqual(100);
    expect(r.text).toMatch(/^T\n中+…\nEND\nMORE$/);
    expect(r.dropped).toBe(0);
  });

  it('shortens an essential shrinkable title, keeping its markup', () => {
    const parts: TextPart[] = [{ prefix: '**', text: line(200), suffix: '**', shrinkable: true }, { text: '<@u1>' }];
    const r = fitUtf8(parts, 120, { overflowLine: '[full](https://x/a)' });
    expect(bytes(r.text)).toBeLessThanOrEqual(120);
    expect(r.text).toMatch(/^\*\*中+…\*\*\n<@u1>\n\[full\]\(https:\/\/x\/a\)$/);
  });

  it('last resort cuts the whole text and still ends with the overflow line', () => {
    const parts: TextPart[] = [{ text: line(50) }, { text: line(50, '乙') }];
    const r = fitUtf8(parts, 60, { overflowLine: 'MORE' });
    expect(bytes(r.text)).toBeLessThanOrEqual(60);
    expect(r.text.endsWith('\nMORE')).toBe(true);
    expect(roundTrips(r.text)).toBe(true);
    expect(fitUtf8(parts, 2, { overflowLine: 'MORE' }).text).toBe(''); // overflow line itself too long
  });
});

describe('invariants over seeded random strings', () => {
  const rnd = prng(20261130);
  const N = 3000;

  it('truncateUtf8: ≤ limit, valid UTF-8, maximal prefix + ellipsis, unchanged when it fits', () => {
    for (let k = 0; k < N; k++) {
      const s = randomString(rnd, 40);
      const max = Math.floor(rnd() * (bytes(s) + 6));
      const t = truncateUtf8(s, max);
      expect(bytes(t)).toBeLessThanOrEqual(max);
      expect(roundTrips(t)).toBe(true);
      if (bytes(s) <= max) {
        expect(t).toBe(s);
        continue;
      }
      const prefix = t.endsWith('…') && max >= 3 ? t.slice(0, -1) : t;
      expect(s.startsWith(prefix)).toBe(true);
      expect(splitsPair(s, prefix.length)).toBe(false);
      // maximal: the next code point would not have fitted
      const next = String.fromCodePoint(s.codePointAt(prefix.length) as number);
      expect(bytes(prefix) + bytes(next) + (max >= 3 ? 3 : 0)).toBeGreaterThan(max);
    }
  });

  it('splitUtf8: join == s, every chunk non-empty, ≤ limit, valid, never splits a pair, prefers line breaks', () => {
    // plain checks collected into one assertion: thousands of expect() calls per case are slow
    const failures: string[] = [];
    for (let k = 0; k < N; k++) {
      const s = randomString(rnd, 80);
      const max = 4 + Math.floor(rnd() * 40);
      const chunks = splitUtf8(s, max);
      const fail = (why: string): void => void failures.push(`${why}: ${JSON.stringify({ s, max, chunks })}`);
      if (chunks.join('') !== s) fail('join');
      let at = 0;
      chunks.forEach((c, i) => {
        if (c.length === 0) fail('empty chunk');
        if (bytes(c) > max) fail('too long');
        if (!roundTrips(c)) fail('invalid UTF-8');
        at += c.length;
        if (splitsPair(s, at)) fail('split a surrogate pair');
        if (i < chunks.length - 1 && !c.endsWith('\n')) {
          // cut inside a line only when the window held no line break, and only when full
          if (c.includes('\n')) fail('did not prefer the line break');
          const next = String.fromCodePoint(s.codePointAt(at) as number);
          if (bytes(c) + bytes(next) <= max) fail('chunk not full');
        }
      });
    }
    expect(failures.slice(0, 5)).toEqual([]);
  });

  it('truncateChars: ≤ limit in code points, valid, prefix of the input', () => {
    for (let k = 0; k < N; k++) {
      const s = randomString(rnd, 40);
      const max = Math.floor(rnd() * (charLength(s) + 3));
      const t = truncateChars(s, max);
      expect(charLength(t)).toBeLessThanOrEqual(max);
      expect(roundTrips(t)).toBe(true);
      if (charLength(s) <= max) expect(t).toBe(s);
      else expect(s.startsWith(t.endsWith('…') && max >= 1 ? t.slice(0, -1) : t)).toBe(true);
    }
  });

  it('fitUtf8: always ≤ limit and valid; unchanged when it fits', () => {
    for (let k = 0; k < N / 3; k++) {
      const parts: TextPart[] = Array.from({ length: 1 + Math.floor(rnd() * 8) }, (_, i) => ({
        text: randomString(rnd, 30),
        dropRank: i === 0 ? 0 : Math.floor(rnd() * 3),
        shrinkable: rnd() < 0.5,
        ...(i === 0 ? { prefix: '**', suffix: '**' } : {}),
      }));
      const max = Math.floor(rnd() * 150);
      const r = fitUtf8(parts, max, { overflowLine: rnd() < 0.8 ? '[查看完整告警](https://x/A1)' : undefined });
      expect(bytes(r.text)).toBeLessThanOrEqual(max);
      expect(roundTrips(r.text)).toBe(true);
      const joined = parts.map((p) => `${p.prefix ?? ''}${p.text}${p.suffix ?? ''}`).join('\n');
      if (bytes(joined) <= max) expect(r).toEqual({ text: joined, shortened: false, dropped: 0 });
    }
  });
});
