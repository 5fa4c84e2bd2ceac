/**
 * WeCom callback crypto (server/services/wecom-crypto.ts) against the official library and
 * hand-made broken frames: the strict decrypt must agree with @wecom/crypto on every valid frame
 * and refuse what the library would silently mis-decode (protocols.md §2.6, §2.9).
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { decrypt as libDecrypt, encrypt as libEncrypt } from '@wecom/crypto';
import { WECOM_CRYPTO_ERRORS, WecomCryptoError, decryptWecom, encryptWecom, parseWecomXml, signatureMatches, wecomSignature, xmlText } from '../../server/services/wecom-crypto';

const KEY = 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C';
const CORP = 'wx5823bf96d3bd56c7';
const aes = Buffer.from(`${KEY}=`, 'base64');

/** Encrypts a raw frame without padding checks (to build broken ones). */
function rawEncrypt(frame: Buffer): string {
  const c = createCipheriv('aes-256-cbc', aes, aes.subarray(0, 16));
  c.setAutoPadding(false);
  return Buffer.concat([c.update(frame), c.final()]).toString('base64');
}
function frame(msg: string, id: string, padTo = 32, padByte?: number): Buffer {
  const m = Buffer.from(msg);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(m.length);
  const body = Buffer.concat([randomBytes(16), len, m, Buffer.from(id)]);
  const pad = padTo - (body.length % padTo);
  return Buffer.concat([body, Buffer.alloc(pad, padByte ?? pad)]);
}
const code = (fn: () => unknown): number | undefined => {
  try {
    fn();
    return undefined;
  } catch (e) {
    return e instanceof WecomCryptoError ? e.code : -1;
  }
};

describe('decryptWecom', () => {
  it('agrees with @wecom/crypto on 300 random messages (ASCII, CJK, emoji; every pad length 1..32)', () => {
    const pads = new Set<number>();
    const alphabet = ['a', 'Z', '0', '<', '&', '中', '隐', '患', '😀', '\n', ' '];
    for (let i = 0; i < 332; i++) {
      // the first 32 are ASCII of every length mod 32, so every pad length occurs
      const msg = i < 32 ? 'x'.repeat(i) : Array.from({ length: i - 32 }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join('');
      const enc = libEncrypt(KEY, msg, CORP);
      const mine = decryptWecom(KEY, enc);
      const lib = libDecrypt(KEY, enc);
      expect([mine.message, mine.receiveId]).toEqual([lib.message, lib.id]);
      pads.add(mine.pad);
      expect(encryptWecom(KEY, msg, CORP, mine.random)).toBe(enc);
    }
    expect(pads.size).toBe(32);
  });

  it('accepts Node-style 16-byte padding too (what a sender using default PKCS#7 produces)', () => {
    expect(decryptWecom(KEY, rawEncrypt(frame('hello', CORP, 16))).message).toBe('hello');
  });

  it('refuses a pad byte above 32 or 0, uneven pad bytes, a msg_len past the frame, and non-UTF-8 text (-40008)', () => {
    const f = frame('hello', CORP);
    f[f.length - 1] = 40;
    expect(code(() => decryptWecom(KEY, rawEncrypt(f)))).toBe(WECOM_CRYPTO_ERRORS.buffer);
    const z = frame('hello', CORP);
    z[z.length - 1] = 0;
    expect(code(() => decryptWecom(KEY, rawEncrypt(z)))).toBe(WECOM_CRYPTO_ERRORS.buffer);
    const uneven = frame('hello!', CORP); // pad > 1
    uneven[uneven.length - 2] ^= 1;
    expect(code(() => decryptWecom(KEY, rawEncrypt(uneven)))).toBe(WECOM_CRYPTO_ERRORS.buffer);
    const long = frame('hello', CORP);
    long.writeUInt32BE(10_000, 16);
    expect(code(() => decryptWecom(KEY, rawEncrypt(long)))).toBe(WECOM_CRYPTO_ERRORS.buffer);
    const bad = Buffer.concat([randomBytes(16), Buffer.from([0, 0, 0, 2, 0xff, 0xfe]), Buffer.from(CORP)]);
    expect(code(() => decryptWecom(KEY, rawEncrypt(Buffer.concat([bad, Buffer.alloc(32 - (bad.length % 32), 32 - (bad.length % 32))]))))).toBe(WECOM_CRYPTO_ERRORS.buffer);
  });

  it('refuses a ciphertext whose + became a space (double URL decode) as not base64, and partial blocks (-40010 / -40007)', () => {
    const enc = libEncrypt(KEY, 'A1 echo', CORP, Buffer.from('c41b64491c2468d0'));
    const withPlus = enc.includes('+') ? enc : libEncrypt(KEY, 'x'.repeat(40), CORP, Buffer.from('c41b64491c2468d0'));
    expect(withPlus).toContain('+');
    expect(code(() => decryptWecom(KEY, withPlus.replace(/\+/g, ' ')))).toBe(WECOM_CRYPTO_ERRORS.base64);
    expect(code(() => decryptWecom(KEY, Buffer.alloc(20).toString('base64')))).toBe(WECOM_CRYPTO_ERRORS.decrypt);
    expect(code(() => decryptWecom(KEY, ''))).toBe(WECOM_CRYPTO_ERRORS.base64);
    expect(code(() => decryptWecom('short', enc))).toBe(WECOM_CRYPTO_ERRORS.aesKey);
  });
});

describe('signatures', () => {
  it('match the official A2 signature, also in upper case; anything else (or another length) does not', () => {
    const enc = 'abc+/=';
    const sig = wecomSignature('QDG6eK', '1409659813', '1372623149', enc);
    expect(signatureMatches('QDG6eK', '1409659813', '1372623149', enc, sig)).toBe(true);
    expect(signatureMatches('QDG6eK', '1409659813', '1372623149', enc, sig.toUpperCase())).toBe(true);
    expect(signatureMatches('QDG6eK', '1409659813', '1372623149', enc, sig.slice(0, 39))).toBe(false);
    expect(signatureMatches('QDG6eK', '1409659813', '1372623149', enc, `${sig.slice(0, 39)}${sig[39] === '0' ? '1' : '0'}`)).toBe(false);
    expect(signatureMatches('QDG6eK', '1409659814', '1372623149', enc, sig)).toBe(false);
  });
});

describe('parseWecomXml', () => {
  it('reads CDATA verbatim, entities in text, keeps long MsgIds as strings, refuses DOCTYPE and non-XML', () => {
    const d = parseWecomXml('<xml><Content><![CDATA[a &amp; <b> 确认 A12]]></Content><X>1&amp;2</X><MsgId>4561255354251345929</MsgId></xml>');
    expect(xmlText(d, 'Content')).toBe('a &amp; <b> 确认 A12');
    expect(xmlText(d, 'X')).toBe('1&2');
    expect(xmlText(d, 'MsgId')).toBe('4561255354251345929');
    expect(xmlText(d, 'Missing')).toBe('');
    expect(code(() => parseWecomXml('<!DOCTYPE x [<!ENTITY e "x">]><xml><A>&e;</A></xml>'))).toBe(WECOM_CRYPTO_ERRORS.parse);
    expect(code(() => parseWecomXml('{"json":true}'))).toBe(WECOM_CRYPTO_ERRORS.parse);
    expect(code(() => parseWecomXml(`<xml><A>${'x'.repeat(70_000)}</A></xml>`))).toBe(WECOM_CRYPTO_ERRORS.parse);
  });
});
