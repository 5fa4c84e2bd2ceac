/**
 * Authenticates WeCom callback requests (回调, protocols.md §2.6;
 * https://developer.work.weixin.qq.com/document/path/90930 configuration,
 * https://developer.work.weixin.qq.com/document/path/90968 crypto) before anything is parsed or done:
 *
 * GET  URL verification: `msg_signature`, `timestamp`, `nonce`, `echostr` — each decoded exactly
 *      once (no `+` → space: base64 keeps its `+`), signature over [token, timestamp, nonce,
 *      echostr] compared in constant time, echostr decrypted, receive id = WECOM_CORP_ID, timestamp
 *      within WECOM_CALLBACK_WINDOW_S of the injected clock → 200 with the plaintext only (no
 *      quotes, BOM or newline).
 * POST messages/events: the same checks over the envelope's `Encrypt`, then replay protection:
 *      the same msg_signature + timestamp + nonce, or the same message (MsgId; for events
 *      FromUserName + CreateTime + Event + EventKey + TaskId) within the window → 200 with an empty
 *      body and nothing done (WeCom retries up to 3 times; a retry must not act twice). The keys
 *      live in Redis (shared by every instance) with a TTL of twice the window, and are claimed
 *      only after the request authenticated, so forged requests cannot poison them.
 *      Then the message is handed to server/services/wecom-inbound.ts; the answer is 200 with an
 *      empty body (replies go out through the API, not as passive replies).
 *
 * Refusals (WeCom itself only cares about 200; these are for people reading logs): malformed → 400
 * `wecom_bad_request`, undecryptable → 400 `wecom_decrypt_failed`, bad signature → 401
 * `wecom_signature_invalid`, stale or future timestamp → 401 `wecom_timestamp_out_of_window`,
 * another corp's message → 403 `wecom_wrong_corp` (-40005). Each is logged with the WeCom library
 * code; nothing is stored. An infrastructure failure while acting → 500 with the replay keys
 * released, so WeCom's retry can do it.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import { WECOM_CRYPTO_ERRORS, WecomCryptoError, decryptWecom, parseWecomXml, signatureMatches, xmlText } from './wecom-crypto';
import type { InboundOutcome, WecomInbound } from './wecom-inbound';

export interface WecomCallbackOptions {
  corpId: string;
  token: string;
  encodingAesKey: string;
  /** accepted distance between a request's timestamp and our clock (ms) */
  windowMs: number;
  redis: Redis;
  /** REDIS_PREFIX */
  prefix: string;
  clock: Clock;
  log: Logger;
  inbound: WecomInbound;
}

/** What the route answers: a status and a plain-text body, or an error `{ code, message, message_en }`. */
export type CallbackReply =
  | { status: 200; text: string }
  | { status: number; error: { code: string; message: string; message_en: string } };

/** A decrypted, authenticated callback, for observers (tests, audit). */
export interface ReceivedMessage {
  /** the decrypted plaintext (XML) exactly as WeCom sent it */
  xml: string;
  fields: Record<string, unknown>;
  outcome: InboundOutcome;
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly zh: string,
    /** English detail (answer and log) */
    detail: string,
    /** the WeCom library return code (doc 90307), for the log */
    readonly wecomCode?: number,
  ) {
    super(detail);
  }
}

const bad = (detail: string) => new Refusal(400, 'wecom_bad_request', '企业微信回调请求格式有误', detail, WECOM_CRYPTO_ERRORS.parse);

/**
 * Splits a raw query string and decodes each name and value exactly once with
 * decodeURIComponent — not as a form (`+` stays `+`: base64 `echostr` must keep it). A parameter
 * given twice is refused rather than guessed. @throws Refusal 400
 */
export function parseCallbackQuery(raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of raw.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
      value = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1));
    } catch {
      throw bad('malformed percent-encoding in the query');
    }
    if (Object.prototype.hasOwnProperty.call(out, name)) throw bad(`query parameter ${name} given twice`);
    out[name] = value;
  }
  return out;
}

export class WecomCallback {
  private readonly observers = new Set<(m: ReceivedMessage) => void>();

  constructor(private readonly o: WecomCallbackOptions) {}

  /** Calls `fn` with every authenticated message and what was done with it. @returns unsubscribe */
  onMessage(fn: (m: ReceivedMessage) => void): () => void {
    this.observers.add(fn);
    return () => this.observers.delete(fn);
  }

  /** Waits for replies and card updates queued by earlier callbacks. */
  idle(): Promise<void> {
    return this.o.inbound.idle();
  }

  /** GET: URL verification. */
  verifyUrl(rawQuery: string): CallbackReply {
    try {
      const q = parseCallbackQuery(rawQuery);
      const { timestamp, nonce } = this.commonParams(q);
      const echostr = q.echostr ?? '';
      if (!echostr) throw bad('echostr is missing');
      const plain = this.open(q.msg_signature ?? '', timestamp, nonce, echostr);
      this.o.log.info({ corpId: this.o.corpId }, 'WeCom callback URL verified');
      return { status: 200, text: plain };
    } catch (e) {
      return this.refuse(e, 'GET');
    }
  }

  /** POST: an encrypted message or event. */
  async receive(rawQuery: string, body: string): Promise<CallbackReply> {
    const claimed: string[] = [];
    try {
      const q = parseCallbackQuery(rawQuery);
      const { timestamp, nonce } = this.commonParams(q);
      const envelope = parseWecomXml(body);
      const encrypted = xmlText(envelope, 'Encrypt');
      if (!encrypted) throw bad('the envelope has no Encrypt');
      const xml = this.open(q.msg_signature ?? '', timestamp, nonce, encrypted);
      const fields = parseWecomXml(xml);

      // replay protection, after authentication (a forged request claims nothing)
      const ttlMs = Math.max(60_000, 2 * this.o.windowMs);
      const keys = [this.key('req', `${q.msg_signature.toLowerCase()}|${timestamp}|${nonce}`), this.key('msg', messageIdentity(fields))];
      for (const k of keys) {
        if ((await this.o.redis.set(k, '1', 'PX', ttlMs, 'NX')) !== 'OK') {
          this.o.log.info({ from: xmlText(fields, 'FromUserName'), msgType: xmlText(fields, 'MsgType'), replayOf: k === keys[0] ? 'request' : 'message' }, 'WeCom callback replayed or retried: already handled, nothing done');
          return { status: 200, text: '' };
        }
        claimed.push(k);
      }

      let outcome: InboundOutcome;
      try {
        outcome = await this.o.inbound.handle(fields);
      } catch (err) {
        // let WeCom's retry do it
        if (claimed.length) await this.o.redis.del(...claimed).catch(() => undefined);
        this.o.log.error({ err }, 'WeCom callback could not be handled; WeCom will retry');
        return { status: 500, error: { code: 'internal_error', message: '服务器内部错误', message_en: 'internal error' } };
      }
      this.o.log.info({ from: outcome.from, kind: outcome.kind, alertId: outcome.alertId, applied: outcome.applied, reason: outcome.reason }, 'WeCom callback handled');
      for (const fn of this.observers) {
        try {
          fn({ xml, fields, outcome });
        } catch (err) {
          this.o.log.warn({ err }, 'WeCom callback observer failed');
        }
      }
      return { status: 200, text: '' };
    } catch (e) {
      return this.refuse(e, 'POST');
    }
  }

  private key(kind: string, id: string): string {
    return `${this.o.prefix}:wecom:seen:${kind}:${createHash('sha1').update(`${this.o.corpId}|${id}`).digest('hex')}`;
  }

  private commonParams(q: Record<string, string>): { timestamp: string; nonce: string } {
    const sig = q.msg_signature ?? '';
    const timestamp = q.timestamp ?? '';
    const nonce = q.nonce ?? '';
    if (!/^[0-9a-fA-F]{40}$/.test(sig)) throw bad('msg_signature is missing or not 40 hex digits');
    if (!/^\d{1,12}$/.test(timestamp)) throw bad('timestamp is missing or not a number of seconds');
    if (!nonce || nonce.length > 128) throw bad('nonce is missing or too long');
    return { timestamp, nonce };
  }

  /** signature → timestamp window → decrypt → receive id. @returns the plaintext message */
  private open(sig: string, timestamp: string, nonce: string, encrypted: string): string {
    if (!signatureMatches(this.o.token, timestamp, nonce, encrypted, sig)) {
      throw new Refusal(401, 'wecom_signature_invalid', '企业微信回调签名不正确', 'msg_signature does not match', WECOM_CRYPTO_ERRORS.signature);
    }
    const skew = Math.abs(this.o.clock.now().getTime() - Number(timestamp) * 1000);
    if (skew > this.o.windowMs) {
      throw new Refusal(401, 'wecom_timestamp_out_of_window', '企业微信回调时间戳超出允许范围（可能是重放）', `timestamp ${timestamp} is ${Math.round(skew / 1000)} s from our clock (window ${this.o.windowMs / 1000} s)`);
    }
    let frame;
    try {
      frame = decryptWecom(this.o.encodingAesKey, encrypted);
    } catch (e) {
      if (e instanceof WecomCryptoError) throw new Refusal(400, 'wecom_decrypt_failed', '企业微信回调无法解密（请核对 EncodingAESKey）', e.message, e.code);
      throw e;
    }
    if (frame.receiveId !== this.o.corpId) {
      throw new Refusal(403, 'wecom_wrong_corp', '企业微信回调不属于本企业（CorpID 不符）', `receive id ${frame.receiveId.slice(0, 64)} is not WECOM_CORP_ID`, WECOM_CRYPTO_ERRORS.receiveId);
    }
    return frame.message;
  }

  private refuse(e: unknown, method: string): CallbackReply {
    if (e instanceof WecomCryptoError) e = new Refusal(400, 'wecom_bad_request', '企业微信回调请求格式有误', e.message, e.code);
    if (!(e instanceof Refusal)) throw e;
    this.o.log.warn({ method, code: e.code, wecomCode: e.wecomCode, detail: e.message }, 'WeCom callback refused; nothing done');
    return { status: e.status, error: { code: e.code, message: e.zh, message_en: e.message } };
  }
}

/** The identity WeCom's own dedup advice uses: MsgId for messages; sender + time (+ what) for events (doc 90930). */
function messageIdentity(f: Record<string, unknown>): string {
  const msgId = xmlText(f, 'MsgId');
  if (msgId) return `m|${msgId}`;
  return ['e', 'FromUserName', 'CreateTime', 'Event', 'EventKey', 'TaskId', 'ChangeType'].map((k) => (k === 'e' ? k : xmlText(f, k))).join('|');
}
