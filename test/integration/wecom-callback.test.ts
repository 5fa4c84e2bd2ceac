/**
 * The WeCom app callback through the real Koa routes (GET/POST /wecom/callback) with the official
 * public test vectors A1, A2, B1, B2 and our derived vector C (protocols.md §2.8), each replayed at
 * its own time on the manual clock; then every way a callback must be refused — tampered
 * signature, another corp, a stale or future timestamp, a replay or WeCom retry — with nothing
 * changed in the database and nothing sent.
 */
import { createHash } from 'node:crypto';
import { createTestSystem, type TestSystem } from '../helpers/system';
import { FakeWecomApp, WECOM_VECTORS as V, WecomCallbackDriver, envelope, vectorRequests, type CallbackRequest } from '../fakes/wecom-app';
import { decryptWecom } from '../../server/services/wecom-crypto';
import type { ReceivedMessage } from '../../server/services/wecom-callback';
import { WecomInbound } from '../../server/services/wecom-inbound';
import { createApp } from '../../server/app';
import { loadConfig, ConfigError } from '../../server/config';
import request from 'supertest';

const at = (unixSeconds: number) => new Date(unixSeconds * 1000);

/** Everything a callback could change, as one string (compared before/after a refused request). */
async function fingerprint(sys: TestSystem): Promise<string> {
  const p = sys.rt.prisma;
  const [alerts, events, identities, codes, notifications] = await Promise.all([
    p.alert.findMany({ select: { id: true, state: true, ackedById: true, ackUntil: true, handledById: true }, orderBy: { id: 'asc' } }),
    p.alertEvent.count(),
    p.chatIdentity.count(),
    p.bindingCode.findMany({ select: { id: true, usedAt: true } }),
    p.notification.count(),
  ]);
  return createHash('sha1').update(JSON.stringify({ alerts, events, identities, codes, notifications })).digest('hex');
}

function wecomEnv(set: { token: string; encodingAesKey: string; corpId: string }, agentId: string, apiBase: string): Record<string, string> {
  return {
    WECOM_CORP_ID: set.corpId,
    WECOM_CALLBACK_TOKEN: set.token,
    WECOM_ENCODING_AES_KEY: set.encodingAesKey,
    WECOM_AGENT_ID: agentId,
    WECOM_SECRET: 'fake-app-secret',
    WECOM_API_BASE: apiBase,
  };
}

describe('vector set A (企业号 sample: token QDG6eK, corp wx5823bf96d3bd56c7) through the routes', () => {
  let sys: TestSystem;
  let fake: FakeWecomApp;
  const seen: ReceivedMessage[] = [];
  const req = vectorRequests();
  const app = () => sys.app.callback();
  const driver = (over: Partial<{ corpId: string; token: string }> = {}) =>
    new WecomCallbackDriver({ ...V.A, agentId: '218', ...over }, { now: () => sys.clock.now().getTime() });

  beforeAll(async () => {
    fake = new FakeWecomApp({ corpId: V.A.corpId, secret: 'fake-app-secret', agentId: 218, users: ['mycreate', 'zhangsan'], now: () => sys?.clock.now().getTime() ?? Date.now() });
    await fake.start();
    sys = await createTestSystem({ now: at(V.A1.timestamp), env: wecomEnv(V.A, '218', fake.base) });
    sys.rt.wecom!.onMessage((m) => seen.push(m));
  });
  afterAll(async () => {
    await sys?.close();
    await fake.stop();
  });
  beforeEach(() => {
    seen.length = 0;
    fake.reset();
  });

  it('the driver reproduces the official A1 and A2 requests byte for byte', () => {
    const d = driver();
    expect(d.verifyRequest(V.A1.plaintext, { timestamp: V.A1.timestamp, nonce: V.A1.nonce, random: V.A1.random }).url).toBe(req.A1.url);
    const post = d.postRequest(V.A2.plaintext, { timestamp: V.A2.timestamp, nonce: V.A2.nonce, random: V.A2.random });
    expect(post.url).toBe(req.A2.url);
    expect(post.body).toBe(req.A2.body);
    // A2 is the vector with a 30-byte PKCS#7 pad (Node's own unpadding only takes ≤ 16)
    expect(decryptWecom(V.A.encodingAesKey, V.A2.encrypt).pad).toBe(30);
  });

  it('A1: GET URL verification answers exactly the plaintext 1616140317555161061', async () => {
    sys.clock.set(at(V.A1.timestamp));
    const [r] = await driver().deliver(app(), req.A1);
    expect(r.status).toBe(200);
    expect(r.text).toBe('1616140317555161061');
    expect(Buffer.from(r.text)).toEqual(Buffer.from('1616140317555161061', 'ascii')); // no BOM, quotes or newline
    expect(r.contentType).toMatch(/^text\/plain/);
  });

  it('A1 with its + sent literally (not %2B) still verifies: each parameter is decoded once, never as a form', async () => {
    sys.clock.set(at(V.A1.timestamp));
    const literal: CallbackRequest = { method: 'GET', url: req.A1.url.replace(/%2B/g, '+') };
    expect(literal.url).toContain('+');
    const [r] = await driver().deliver(app(), literal);
    expect(r).toMatchObject({ status: 200, text: '1616140317555161061' });
  });

  it('A1 decoded twice (+ turned into a space, as a double decode does) is refused as a bad signature', async () => {
    sys.clock.set(at(V.A1.timestamp));
    const doubled: CallbackRequest = { method: 'GET', url: req.A1.url.replace(/%2B/g, '%20') };
    const [r] = await driver().deliver(app(), doubled);
    expect(r.status).toBe(401);
    expect(JSON.parse(r.text).code).toBe('wecom_signature_invalid');
  });

  it('A2: the POST decrypts to the documented XML; mycreate is nobody here → nothing done, told how to bind', async () => {
    sys.clock.set(at(V.A2.timestamp));
    const before = await fingerprint(sys);
    const [r] = await driver().deliver(app(), req.A2);
    expect(r).toMatchObject({ status: 200, text: '' });
    expect(seen).toHaveLength(1);
    expect(seen[0].xml).toBe(V.A2.plaintext);
    expect(seen[0].fields).toMatchObject({ FromUserName: 'mycreate', MsgType: 'text', Content: 'hello', MsgId: '4561255354251345929', AgentID: '218' });
    expect(seen[0].outcome).toMatchObject({ kind: 'unknown_user', from: 'mycreate', applied: false });
    await sys.rt.wecom!.idle();
    expect(await fingerprint(sys)).toBe(before);
    // the answer goes out through the API (message/send text), not as a passive reply
    expect(fake.sent).toHaveLength(1);
    expect(fake.sent[0]).toMatchObject({ msgtype: 'text', touser: ['mycreate'], delivered: ['mycreate'] });
    expect(fake.sent[0].text).toContain('尚未与系统人员关联');
    expect(fake.sent[0].text).toContain('绑定 123456');
  });

  it('derived vector C: the driver builds the documented ciphertext and signature; a button key that is not ours is ignored', async () => {
    const C = {
      xml: '<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><FromUserName><![CDATA[zhangsan]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[template_card_event]]></Event><EventKey><![CDATA[ack]]></EventKey><TaskId><![CDATA[task_001]]></TaskId><CardType><![CDATA[button_interaction]]></CardType><ResponseCode><![CDATA[RESPCODE_1]]></ResponseCode><AgentID>1000002</AgentID></xml>',
      encrypt:
        'sKqRbbiSUnDhFHOvPjtUMamyED5EGtdM5V/qIA/6R7B/11XA4KiIdBAnJOWgUqHtVrwt5rD+cpXsq8nR+J5BhGEIwF6GP+SDrBiycH/HHEjEJ3ZqcaVku8Cgist6hlv8seBuK9NZSmuz/jNjg85dPO/ybxuI8OmVVLlADw7txTwjGUaTvMF7imYlJh2bJez7suNIyhvUMIO/G0aFeOCremQTN6IMAPrJ697iTbZl/aM6SicGhXmylFkgD1W9+OFr+G88xuTL3QLiT3TpyAlbQJICQSG85Hf55eTss2dVx9sKyUUEQTh6ON7GsjAuxHI0MCg13mChs1tiKhaDhvslwk1d3bkj55+u2BIYJf/n7tZomapXi9Dmn70aubdNthyUvfXGyzsAB51S4Xu4XkHgg1PqH8Di4fF5IVKALhXuHtfM7mPsM2v8IdOvvu5tFV4hqefXbD4UQxI1ssFxddktG3wCWB1SQL5d3UHrRH8yHol7DA+ZqmkvR4ynPOiCYM7uf3cA4eaQZi7q0ggmNN4e6jpKwoz1cKapj+Z6Y3kYe2KFij47IFxfXKUgHfUDl9eUG2fze5hkiO3KdFe32ltAwx9iI7KphrmHJ8WzEWg1Ltnrn55uhbFmkFufHXOah+3Y',
      signature: '67423f59bf9d9c868c7900024239f4efd864ef1b',
    };
    sys.clock.set(at(1700000000));
    const post = driver().postRequest(C.xml, { timestamp: 1700000000, nonce: 1234567890, random: Buffer.from('0123456789abcdef') });
    expect(post.encrypt).toBe(C.encrypt);
    expect(post.msgSignature).toBe(C.signature);
    const before = await fingerprint(sys);
    const [r] = await driver().deliver(app(), post);
    expect(r).toMatchObject({ status: 200, text: '' });
    expect(seen.map((m) => m.xml)).toEqual([C.xml]);
    expect(seen[0].outcome).toMatchObject({ kind: 'ignored', from: 'zhangsan', applied: false });
    await sys.rt.wecom!.idle();
    expect(fake.sent).toHaveLength(0);
    expect(fake.updates).toHaveLength(0);
    expect(await fingerprint(sys)).toBe(before);
  });

  describe('refused with nothing changed', () => {
    const refused = async (r: CallbackRequest, status: number, code: string) => {
      const before = await fingerprint(sys);
      const [res] = await driver().deliver(app(), r);
      expect(res.status).toBe(status);
      expect(JSON.parse(res.text)).toMatchObject({ code, message: expect.any(String), message_en: expect.any(String) });
      await sys.rt.wecom!.idle();
      expect(seen).toHaveLength(0);
      expect(fake.sent).toHaveLength(0);
      expect(await fingerprint(sys)).toBe(before);
    };

    it('a tampered signature (one hex digit changed)', async () => {
      sys.clock.set(at(V.A2.timestamp));
      await refused({ ...req.A2, url: req.A2.url.replace('msg_signature=4777', 'msg_signature=4778') }, 401, 'wecom_signature_invalid');
    });

    it('a tampered ciphertext under the original signature', async () => {
      sys.clock.set(at(V.A2.timestamp));
      const flipped = V.A2.encrypt.replace('RypE', 'RypF');
      await refused({ ...req.A2, body: envelope(V.A.corpId, flipped, '218') }, 401, 'wecom_signature_invalid');
    });

    it('another corp: signed with our token and key but framed for wx0000000000000000 (-40005)', async () => {
      sys.clock.set(at(V.A2.timestamp));
      const other = driver({ corpId: 'wx0000000000000000' }).postRequest(V.A2.plaintext.replace(/wx5823bf96d3bd56c7/g, 'wx0000000000000000'));
      await refused(other, 403, 'wecom_wrong_corp');
      const otherGet = driver({ corpId: 'wx0000000000000000' }).verifyRequest('1616140317555161061');
      await refused(otherGet, 403, 'wecom_wrong_corp');
    });

    it('a stale timestamp (the genuine A2, replayed 301 s later) and one from the future', async () => {
      sys.clock.set(at(V.A2.timestamp + 301));
      await refused(req.A2, 401, 'wecom_timestamp_out_of_window');
      sys.clock.set(at(V.A1.timestamp - 301));
      await refused(req.A1, 401, 'wecom_timestamp_out_of_window');
    });

    it('malformed requests: no signature, no echostr, no envelope, a DOCTYPE, undecryptable ciphertext', async () => {
      sys.clock.set(at(V.A2.timestamp));
      await refused({ method: 'POST', url: '/wecom/callback?timestamp=1409659813&nonce=1', body: req.A2.body }, 400, 'wecom_bad_request');
      await refused({ method: 'GET', url: req.A1.url.replace(/&echostr=.*$/, '') }, 400, 'wecom_bad_request');
      await refused({ ...req.A2, body: '<xml><ToUserName>x</ToUserName></xml>' }, 400, 'wecom_bad_request');
      await refused({ ...req.A2, body: `<!DOCTYPE x [<!ENTITY a "b">]>${req.A2.body}` }, 400, 'wecom_bad_request');
      // a correct signature over something that is not a WeCom ciphertext (e.g. a wrong EncodingAESKey at WeCom's side)
      const d = driver();
      const junk = Buffer.alloc(48, 7).toString('base64');
      const signed = d.postRequest('x', { timestamp: V.A2.timestamp, nonce: 5 });
      const { wecomSignature } = await import('../../server/services/wecom-crypto');
      const sig = wecomSignature(V.A.token, String(V.A2.timestamp), '5', junk);
      await refused({ method: 'POST', url: signed.url.replace(/msg_signature=[0-9a-f]+/, `msg_signature=${sig}`), body: envelope(V.A.corpId, junk, '218') }, 400, 'wecom_decrypt_failed');
    });
  });

  it('a replayed POST and WeCom retries (same request 3 times; the same MsgId under a new nonce) act once', async () => {
    sys.clock.set(at(V.A2.timestamp + 5));
    const d = driver();
    const xml = d.textXml('mycreate', 'hello again', { msgId: '9000000000000000001' });
    const first = d.postRequest(xml);
    const answers = await d.deliver(app(), first, 3);
    expect(answers.map((a) => [a.status, a.text])).toEqual([[200, ''], [200, ''], [200, '']]);
    // WeCom's own retry may come with a fresh timestamp/nonce: the MsgId identifies it
    const retried = d.postRequest(xml);
    expect(retried.url).not.toBe(first.url);
    const [again] = await d.deliver(app(), retried);
    expect(again).toMatchObject({ status: 200, text: '' });
    await sys.rt.wecom!.idle();
    expect(seen).toHaveLength(1);
    expect(fake.sent.filter((s) => s.touser.includes('mycreate'))).toHaveLength(1);
  });
  it('a failure while acting answers 500 and keeps no replay key, so WeCom’s retry of the same request does it', async () => {
    sys.clock.set(at(V.A2.timestamp + 10));
    const d = driver();
    const req1 = d.postRequest(d.textXml('mycreate', 'retry me', { msgId: '9000000000000000777' }));
    const spy = jest.spyOn(WecomInbound.prototype, 'handle').mockRejectedValueOnce(new Error('database unreachable'));
    try {
      const [first] = await d.deliver(app(), req1);
      expect(first.status).toBe(500);
      await sys.rt.wecom!.idle();
      expect(fake.sent).toHaveLength(0);
      const [second] = await d.deliver(app(), req1);
      expect(second).toMatchObject({ status: 200, text: '' });
    } finally {
      spy.mockRestore();
    }
    await sys.rt.wecom!.idle();
    expect(seen).toHaveLength(1);
    expect(fake.sent.map((x) => x.touser)).toEqual([['mycreate']]);
  });

  it('without WECOM_CALLBACK_TOKEN / WECOM_ENCODING_AES_KEY the route answers 404 wecom_not_configured', async () => {
    const bare = createApp({
      prisma: sys.rt.prisma,
      redis: sys.rt.redis,
      clock: sys.clock,
      log: (await import('../../server/logger')).createLogger('silent'),
      metrics: sys.rt.metrics,
      links: sys.rt.links,
      outboxToken: sys.rt.outboxToken,
      publicUrl: sys.config.publicUrl,
      migrationsCurrent: async () => ({ current: true, pending: [] }),
    });
    const r = await request(bare.callback()).get(req.A1.url).expect(404);
    expect(r.body.code).toBe('wecom_not_configured');
  });
});

describe('WECOM_* configuration', () => {
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(env);
      return [];
    } catch (e) {
      if (e instanceof ConfigError) return e.problems;
      throw e;
    }
  };

  it('pairs go together, the corp id is required with them, and the key/token shapes are checked', () => {
    expect(problems({ WECOM_CORP_ID: 'ww1', WECOM_SECRET: 's' }).join()).toContain('WECOM_AGENT_ID');
    expect(problems({ WECOM_CORP_ID: 'ww1', WECOM_CALLBACK_TOKEN: 'abc' }).join()).toContain('WECOM_ENCODING_AES_KEY');
    expect(problems({ WECOM_SECRET: 's', WECOM_AGENT_ID: '1000002' }).join()).toContain('WECOM_CORP_ID');
    expect(problems({ WECOM_CORP_ID: 'ww1' }).join()).toContain('WECOM_CORP_ID');
    expect(problems({ WECOM_CORP_ID: 'ww1', WECOM_CALLBACK_TOKEN: 'abc', WECOM_ENCODING_AES_KEY: 'tooshort' }).join()).toContain('WECOM_ENCODING_AES_KEY');
    expect(problems({ WECOM_CORP_ID: 'ww1', WECOM_CALLBACK_TOKEN: 'has space', WECOM_ENCODING_AES_KEY: V.A.encodingAesKey }).join()).toContain('WECOM_CALLBACK_TOKEN');
    expect(problems({ WECOM_CORP_ID: 'ww1', WECOM_SECRET: 's', WECOM_AGENT_ID: 'abc' }).join()).toContain('WECOM_AGENT_ID');
  });

  it('a valid set: the app sends when secret + agent id are set, the callback runs when token + key are', () => {
    const c = loadConfig({ WECOM_CORP_ID: V.A.corpId, WECOM_AGENT_ID: '218', WECOM_SECRET: 's', WECOM_CALLBACK_TOKEN: V.A.token, WECOM_ENCODING_AES_KEY: V.A.encodingAesKey });
    expect(c.wecom).toEqual({
      corpId: V.A.corpId,
      apiBase: 'https://qyapi.weixin.qq.com',
      app: { agentId: 218, secret: 's' },
      callback: { token: V.A.token, encodingAesKey: V.A.encodingAesKey, windowMs: 300_000 },
      enterpriseCode: undefined,
    });
    expect(loadConfig({}).wecom).toBeUndefined();
    expect(loadConfig({ WECOM_CORP_ID: 'ww1', WECOM_CALLBACK_TOKEN: 'abc', WECOM_ENCODING_AES_KEY: V.A.encodingAesKey }).wecom?.app).toBeUndefined();
  });
});

describe('vector set B (current WeCom python sample: corp ww1436e0e65a779aee) through the routes', () => {
  let sys: TestSystem;
  let fake: FakeWecomApp;
  const seen: ReceivedMessage[] = [];
  const req = vectorRequests();

  beforeAll(async () => {
    fake = new FakeWecomApp({ corpId: V.B.corpId, secret: 'fake-app-secret', agentId: 1000002, users: ['ChenJiaShun'], now: () => sys?.clock.now().getTime() ?? Date.now() });
    await fake.start();
    sys = await createTestSystem({ now: at(V.B1.timestamp), seed: false, env: wecomEnv(V.B, '1000002', fake.base) });
    sys.rt.wecom!.onMessage((m) => seen.push(m));
  });
  afterAll(async () => {
    await sys?.close();
    await fake.stop();
  });

  it('the driver reproduces B1 and B2 from their plaintexts', () => {
    const d = new WecomCallbackDriver({ ...V.B, agentId: '1000002' });
    expect(d.verifyRequest(V.B1.plaintext, { timestamp: V.B1.timestamp, nonce: V.B1.nonce, random: V.B1.random }).url).toBe(req.B1.url);
    const post = d.postRequest(V.B2.plaintext, { timestamp: V.B2.timestamp, nonce: V.B2.nonce, random: V.B2.random });
    expect([post.url, post.body]).toEqual([req.B2.url, req.B2.body]);
  });

  it('B1: GET URL verification answers exactly 1288432023552776189', async () => {
    sys.clock.set(at(V.B1.timestamp));
    const [r] = await new WecomCallbackDriver(V.B).deliver(sys.app.callback(), req.B1);
    expect(r).toMatchObject({ status: 200, text: '1288432023552776189' });
    expect(Buffer.byteLength(r.text)).toBe(19);
  });

  it('B2: decrypts to the documented XML (no CDATA, 你好 counted in bytes); ChenJiaShun is unknown → told how to bind', async () => {
    sys.clock.set(at(V.B2.timestamp));
    const before = await fingerprint(sys);
    const [r] = await new WecomCallbackDriver(V.B).deliver(sys.app.callback(), req.B2);
    expect(r).toMatchObject({ status: 200, text: '' });
    expect(seen.map((m) => m.xml)).toEqual([V.B2.plaintext]);
    expect(Buffer.byteLength(seen[0].xml)).toBe(228);
    expect(seen[0].fields).toMatchObject({ FromUserName: 'ChenJiaShun', Content: '你好', MsgId: '1456453720' });
    expect(seen[0].outcome).toMatchObject({ kind: 'unknown_user', applied: false });
    await sys.rt.wecom!.idle();
    expect(await fingerprint(sys)).toBe(before);
    expect(fake.sent.map((s) => [s.touser, s.msgtype])).toEqual([[['ChenJiaShun'], 'text']]);
    expect(fake.sent[0].text).toContain('ChenJiaShun');
  });

  it('B2 sent again (a replay inside the window) is answered 200 and does nothing', async () => {
    const [r] = await new WecomCallbackDriver(V.B).deliver(sys.app.callback(), req.B2);
    expect(r).toMatchObject({ status: 200, text: '' });
    await sys.rt.wecom!.idle();
    expect(seen).toHaveLength(1);
    expect(fake.sent).toHaveLength(1);
  });
});
