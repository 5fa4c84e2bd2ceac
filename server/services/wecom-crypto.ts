/**
 * WeCom callback crypto (加解密方案, https://developer.work.weixin.qq.com/document/path/90968;
 * return codes https://developer.work.weixin.qq.com/document/path/90307; protocols.md §2.6, §2.9).
 *
 * - signature = sha1 of the four strings [token, timestamp, nonce, encrypt] sorted and joined,
 *   lowercase hex — computed with `@wecom/crypto` (the official Node library) and compared in
 *   constant time here (the library does not compare);
 * - AESKey = base64(EncodingAESKey + "=") (32 bytes), AES-256-CBC, IV = AESKey[0..16);
 * - plaintext frame = random(16) ‖ msg_len (uint32 big-endian, bytes) ‖ msg (UTF-8) ‖ receiveid,
 *   PKCS#7-padded to a multiple of **32** bytes (pad values 1..32).
 *
 * Why our own decrypt rather than `@wecom/crypto.decrypt`: the library silently keeps the padding
 * when the last byte is out of 1..32 and never checks the pad bytes or msg_len against the buffer,
 * so a corrupt or forged ciphertext decodes to garbage instead of failing; Node's own unpadding
 * (`setAutoPadding(true)`) accepts pads ≤ 16 only and fails on official vector A2 (pad 30). Here:
 * auto-padding off, the pad is stripped by hand (1..32, every pad byte equal), msg_len must fit,
 * and the message must be valid UTF-8. Encryption (used by the fake and by tests) is the library's.
 */
import { createDecipheriv, createHash, timingSafeEqual } from 'node:crypto';
import { encrypt as wecomEncrypt, getSignature } from '@wecom/crypto';
import { XMLParser } from 'fast-xml-parser';

/** Error codes of the official libraries (doc 90307), kept so logs read like WeCom's own. */
export const WECOM_CRYPTO_ERRORS = {
  signature: -40001,
  parse: -40002,
  aesKey: -40004,
  receiveId: -40005,
  decrypt: -40007,
  buffer: -40008,
  base64: -40010,
} as const;

export class WecomCryptoError extends Error {
  constructor(
    /** one of {@link WECOM_CRYPTO_ERRORS} */
    public readonly code: number,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/** sha1(sort([token, timestamp, nonce, encrypt]).join('')) as lowercase hex (doc 90968). */
export function wecomSignature(token: string, timestamp: string, nonce: string, encrypt: string): string {
  return getSignature(token, timestamp, nonce, encrypt);
}

/**
 * Whether `given` is the signature of the four values, compared in constant time (both sides are
 * hashed first, so neither the length nor a prefix of the expected value leaks through timing).
 */
export function signatureMatches(token: string, timestamp: string, nonce: string, encrypt: string, given: string): boolean {
  const expected = createHash('sha256').update(wecomSignature(token, timestamp, nonce, encrypt)).digest();
  const actual = createHash('sha256').update(given.toLowerCase()).digest();
  return timingSafeEqual(expected, actual);
}

/** The 32-byte AES key of an EncodingAESKey. @throws WecomCryptoError -40004 when it is not 43 base64 characters */
export function aesKeyOf(encodingAesKey: string): Buffer {
  if (!/^[A-Za-z0-9+/]{43}$/.test(encodingAesKey)) throw new WecomCryptoError(WECOM_CRYPTO_ERRORS.aesKey, 'EncodingAESKey must be 43 characters');
  const key = Buffer.from(`${encodingAesKey}=`, 'base64');
  if (key.length !== 32) throw new WecomCryptoError(WECOM_CRYPTO_ERRORS.aesKey, 'EncodingAESKey does not decode to 32 bytes');
  return key;
}

export interface DecryptedFrame {
  /** the message (XML for callbacks, the echo string for URL verification) */
  message: string;
  /** corpid for a self-built app (suiteid for suites, '' for personal third-party apps) */
  receiveId: string;
  random: Buffer;
  /** the PKCS#7 pad length that was stripped (1..32) */
  pad: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decrypts a `msg_encrypt` / `echostr` (base64) into its frame.
 * @throws WecomCryptoError -40004 bad key, -40010 not base64, -40007 AES failure or a length that
 *   is not a whole number of blocks, -40008 bad padding / msg_len / UTF-8
 */
export function decryptWecom(encodingAesKey: string, encrypted: string): DecryptedFrame {
  const key = aesKeyOf(encodingAesKey);
  // strict base64: a '+' turned into ' ' by a double URL-decode must fail here, not decode to junk
  if (encrypted.length === 0 || encrypted.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(encrypted)) {
    throw new WecomCryptoError(WECOM_CRYPTO_ERRORS.base64, 'ciphertext is not base64');
  }
  const data = Buffer.from(encrypted, 'base64');
  if (data.length === 0 || data.length % 16 !== 0) throw new WecomCryptoError(WECOM_CRYPTO_ERRORS.decrypt, `ciphertext of ${data.length} bytes is not whole AES blocks`);
  let plain: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
    decipher.setAutoPadding(false); // Node's unpadding only knows pads ≤ 16; WeCom pads to 32
    plain = Buffer.concat([decipher.update(data), decipher.final()]);
  } catch (e) {
    throw new WecomCryptoError(WECOM_CRYPTO_ERRORS.decrypt, `AES decrypt failed: ${(e as Error).message}`);
  }
  const pad = plain[plain.length - 1];
  if (pad < 1 || pad > 32 || pad > plain.length) throw new WecomCryptoError(WECOM_CRYPTO_ERRORS.buffer, `bad PKCS#7 pad ${pad}`);
  for (let i = plain.length - pad; i < plain.length; i++) {
    if (plain[i] !== pad) throw new WecomCryptoError(WECOM_CRYPTO_ERRORS.buffer, 'bad PKCS#7 padding bytes');
  }
  const body = plain.subarray(0, plain.length - pad);
  if (body.length < 20) throw new WecomCryptoError(WECOM_CRYPTO_ERRORS.buffer, 'frame shorter than random + length');
  const len = body.readUInt32BE(16);
  if (20 + len > body.length) throw new WecomCryptoError(WECOM_CRYPTO_ERRORS.buffer, `msg_len ${len} exceeds the frame`);
  try {
    return { message: utf8.decode(body.subarray(20, 20 + len)), receiveId: utf8.decode(body.subarray(20 + len)), random: Buffer.from(body.subarray(0, 16)), pad };
  } catch {
    throw new WecomCryptoError(WECOM_CRYPTO_ERRORS.buffer, 'message is not UTF-8');
  }
}

/**
 * Encrypts a message the way WeCom does (pad to 32), e.g. for passive replies, the fake and tests.
 * @param random 16 bytes (fixed in fixtures so the output is reproducible); random when omitted
 */
export function encryptWecom(encodingAesKey: string, message: string, receiveId: string, random?: Buffer): string {
  aesKeyOf(encodingAesKey);
  if (random && random.length !== 16) throw new WecomCryptoError(WECOM_CRYPTO_ERRORS.aesKey, 'random must be 16 bytes');
  return wecomEncrypt(encodingAesKey, message, receiveId, random);
}

const parser = new XMLParser({
  ignoreAttributes: true,
  // MsgId / CreateTime stay strings (MsgIds exceed 2^53); CDATA text is taken verbatim
  parseTagValue: false,
  processEntities: true,
  trimValues: true,
});

/** Callback XML is at most a few kB; anything much larger is not from WeCom. */
export const WECOM_XML_MAX_BYTES = 64 * 1024;

/**
 * The children of the root `<xml>` element as strings (nested elements such as SelectedItems are
 * returned as parsed objects). WeCom never sends a DOCTYPE; one is refused rather than expanded.
 * @throws WecomCryptoError -40002 when the text is not a WeCom XML document
 */
export function parseWecomXml(xml: string): Record<string, unknown> {
  if (Buffer.byteLength(xml, 'utf8') > WECOM_XML_MAX_BYTES) throw new WecomCryptoError(WECOM_CRYPTO_ERRORS.parse, 'XML too large');
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new WecomCryptoError(WECOM_CRYPTO_ERRORS.parse, 'DOCTYPE/ENTITY not allowed');
  let doc: unknown;
  try {
    doc = parser.parse(xml, true);
  } catch (e) {
    throw new WecomCryptoError(WECOM_CRYPTO_ERRORS.parse, `XML parse failed: ${(e as Error).message}`);
  }
  const root = (doc as { xml?: unknown } | null)?.xml;
  if (typeof root !== 'object' || root === null || Array.isArray(root)) throw new WecomCryptoError(WECOM_CRYPTO_ERRORS.parse, 'no <xml> root element');
  return root as Record<string, unknown>;
}

/** A field of parsed WeCom XML as a string ('' when absent or not text; the first of repeated tags). */
export function xmlText(doc: Record<string, unknown>, name: string): string {
  const v = doc[name];
  const first = Array.isArray(v) ? v[0] : v;
  return typeof first === 'string' ? first : typeof first === 'number' ? String(first) : '';
}
