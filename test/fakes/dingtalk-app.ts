/**
 * Local fake of the DingTalk enterprise-internal app robot (protocols.md §3.2, §3.3, §3.5):
 *
 * - a **callback driver** that builds the robot-message JSON DingTalk POSTs to us (with the leading
 *   space DingTalk leaves in `text.content` after cutting out the @robot), the `timestamp` + `sign`
 *   headers, and a `sessionWebhook` pointing at this fake that expires at createAt + 90 min;
 * - `POST /robot/sendBySession?session=…` — after expiry (or for an unknown session)
 *   `{errcode:300001, errmsg:"session 不存在"}` (observed, protocols.md §3.2);
 * - `POST /v1.0/oauth2/accessToken` `{appKey, appSecret}` → `{accessToken, expireIn}`;
 * - `POST /v1.0/robot/groupMessages/send` and `/v1.0/robot/oToMessages/batchSend`, header
 *   `x-acs-dingtalk-access-token` checked (unknown/revoked → HTTP 401 `InvalidAuthentication`),
 *   robotCode, group and msgKey/msgParam checked (HTTP 400 otherwise);
 * - optional **Stream gateway**: `POST /v1.0/gateway/connections/open` → `{endpoint, ticket}` on a
 *   loopback WebSocket that sends SYSTEM frames and CALLBACK frames and records the acks.
 *
 * Everything accepted or refused is recorded. Written independently of server/ (its own HMAC), so
 * a product bug is not mirrored here. The clock is injectable (session expiry, createAt).
 */
import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface FakeDingtalkAppOptions {
  appKey: string;
  appSecret: string;
  /** robotCode the OpenAPI sends must carry; default appKey */
  robotCode?: string;
  /** the corp (chatbotCorpId / senderCorpId of driven messages) */
  corpId?: string;
  /** ms since epoch */
  now?: () => number;
  /** token lifetime announced, seconds (DingTalk: 7200) */
  expireIn?: number;
}

/** What a driven message is made of. */
export interface DriveMessage {
  /** the text after the @robot, WITHOUT the leading space (the driver adds it, like DingTalk) */
  text: string;
  /** '' for an external user */
  senderStaffId?: string;
  /** encrypted sender id; default derived from staffId */
  senderId?: string;
  senderNick?: string;
  /** default 'group' */
  conversationType?: 'single' | 'group';
  /** the group's openConversationId; default `cid-<group>` */
  conversationId?: string;
  conversationTitle?: string;
  msgId?: string;
  /** ms; default now */
  createAt?: number;
  /** the corp the sender belongs to (external users: another one) */
  senderCorpId?: string;
  msgtype?: 'text' | 'picture' | 'richText';
}

export interface SessionPost {
  session: string;
  conversationId: string;
  body: Record<string, unknown>;
  at: { atUserIds: string[]; atMobiles: string[]; isAtAll: boolean };
  /** per @ target: whether `@<id>` is in the text too (a real highlighted @) */
  mentionedInText: Record<string, boolean>;
  receivedAt: number;
}

export interface OpenApiPost {
  path: '/v1.0/robot/groupMessages/send' | '/v1.0/robot/oToMessages/batchSend';
  token: string;
  body: Record<string, unknown>;
  msgKey: string;
  msgParam: Record<string, unknown>;
  openConversationId?: string;
  userIds?: string[];
  receivedAt: number;
}

export interface Rejected {
  path: string;
  status: number;
  body: unknown;
  answer: unknown;
}

/** Required msgParam fields per msgKey (https://open.dingtalk.com/document/orgapp/robot-message-types-and-data-format). */
const MSG_PARAMS: Record<string, string[]> = {
  sampleText: ['content'],
  sampleMarkdown: ['title', 'text'],
  sampleLink: ['text', 'title', 'picUrl', 'messageUrl'],
  sampleActionCard: ['title', 'text', 'singleTitle', 'singleURL'],
  sampleActionCard2: ['title', 'text', 'actionTitle1', 'actionURL1', 'actionTitle2', 'actionURL2'],
  sampleActionCard3: ['title', 'text', 'actionTitle1', 'actionURL1', 'actionTitle2', 'actionURL2', 'actionTitle3', 'actionURL3'],
  sampleActionCard4: ['title', 'text', ...[1, 2, 3, 4].flatMap((i) => [`actionTitle${i}`, `actionURL${i}`])],
  sampleActionCard5: ['title', 'text', ...[1, 2, 3, 4, 5].flatMap((i) => [`actionTitle${i}`, `actionURL${i}`])],
};
const SESSION_TTL_MS = 90 * 60_000;
export const TOPIC_ROBOT = '/v1.0/im/bot/messages/get';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** base64(HmacSHA256(key=appSecret, data=timestamp+"\n"+appSecret)) — protocols.md §3.2. */
export function fakeCallbackSign(timestamp: number | string, appSecret: string): string {
  return createHmac('sha256', appSecret).update(`${timestamp}\n${appSecret}`).digest('base64');
}

export class FakeDingtalkApp {
  readonly sessionPosts: SessionPost[] = [];
  readonly openApiPosts: OpenApiPost[] = [];
  readonly rejected: Rejected[] = [];
  readonly tokenRequests: Array<{ appKey: string; ok: boolean; at: number }> = [];
  /** Stream: acks received (messageId → parsed ack frame) */
  readonly streamAcks = new Map<string, Record<string, unknown>>();
  readonly streamOpens: Array<Record<string, unknown>> = [];
  private readonly sessions = new Map<string, { conversationId: string; expiresAt: number }>();
  private readonly tokens = new Set<string>();
  private readonly groups = new Set<string>();
  private readonly opts: Required<FakeDingtalkAppOptions>;
  private server?: http.Server;
  private wss?: WebSocketServer;
  private readonly sockets = new Set<WebSocket>();
  private readonly tickets = new Set<string>();
  private seq = 0;
  private lastSigned = 0;
  base = '';

  constructor(options: FakeDingtalkAppOptions) {
    this.opts = { robotCode: options.appKey, corpId: 'dingcorp0001', now: Date.now, expireIn: 7200, ...options };
  }

  async start(): Promise<string> {
    if (this.server) return this.base;
    const server = http.createServer((req, res) => this.onRequest(req, res));
    this.wss = new WebSocketServer({ noServer: true });
    server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const ticket = url.searchParams.get('ticket') ?? '';
      if (url.pathname !== '/connect' || !this.tickets.delete(ticket)) {
        socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
        return;
      }
      this.wss!.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.base;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.terminate();
    this.wss?.close();
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** A group the robot is in (groupMessages/send to others → 400). */
  addGroup(openConversationId: string): void {
    this.groups.add(openConversationId);
  }

  /** Makes every issued token invalid (DingTalk expiring a token early). */
  revokeTokens(): void {
    this.tokens.clear();
  }

  /**
   * The callback DingTalk would POST for a message: `{ headers, body }`. Registers its session
   * webhook (expires createAt + 90 min).
   * @param signAt ms to sign with (default now)
   */
  callback(m: DriveMessage, signAt?: number): { headers: Record<string, string>; body: Record<string, unknown> } {
    const now = this.opts.now();
    const createAt = m.createAt ?? now;
    const n = ++this.seq;
    const session = randomBytes(12).toString('hex');
    const conversationType = m.conversationType ?? 'group';
    const staffId = m.senderStaffId ?? '';
    const conversationId = m.conversationId ?? (conversationType === 'group' ? 'cid-group-d1' : `cid-single-${staffId || n}`);
    this.sessions.set(session, { conversationId, expiresAt: createAt + SESSION_TTL_MS });
    const corp = this.opts.corpId;
    const msgtype = m.msgtype ?? 'text';
    const body: Record<string, unknown> = {
      msgtype,
      ...(msgtype === 'text' ? { text: { content: ` ${m.text}` } } : {}),
      ...(msgtype === 'richText' ? { content: { richText: [{ text: ` ${m.text}` }] } } : {}),
      ...(msgtype === 'picture' ? { content: { downloadCode: 'dlc-1', pictureDownloadCode: 'pdc-1' } } : {}),
      msgId: m.msgId ?? `msg${n}${randomBytes(4).toString('hex')}`,
      createAt,
      conversationType: conversationType === 'group' ? '2' : '1',
      conversationId,
      ...(conversationType === 'group' ? { conversationTitle: m.conversationTitle ?? '生产调度群', isInAtList: true } : {}),
      senderId: m.senderId ?? `$:LWCP_v1:$${Buffer.from(`sender-${staffId || n}`).toString('base64')}`,
      senderNick: m.senderNick ?? '',
      senderCorpId: m.senderCorpId ?? corp,
      senderStaffId: staffId,
      senderPlatform: 'Android',
      isAdmin: false,
      chatbotCorpId: corp,
      chatbotUserId: '$:LWCP_v1:$robot',
      robotCode: this.opts.robotCode,
      atUsers: [{ dingtalkId: '$:LWCP_v1:$robot' }],
      sessionWebhook: `${this.base}/robot/sendBySession?session=${session}`,
      sessionWebhookExpiredTime: createAt + SESSION_TTL_MS,
    };
    // DingTalk's clock moves between two callbacks; a test's manual clock may not: keep them apart
    const ts = signAt ?? Math.max(now, this.lastSigned + 1);
    if (signAt === undefined) this.lastSigned = ts;
    return { headers: { 'content-type': 'application/json; charset=utf-8', timestamp: String(ts), sign: fakeCallbackSign(ts, this.opts.appSecret) }, body };
  }

  // ───────────── HTTP ─────────────

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', this.base);
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        body = undefined;
      }
      const send = (status: number, answer: unknown) => {
        if (status !== 200 || (isObject(answer) && typeof answer.errcode === 'number' && answer.errcode !== 0)) this.rejected.push({ path: url.pathname, status, body: body ?? raw, answer });
        res.writeHead(status, { 'Content-Type': 'application/json;charset=utf-8' }).end(JSON.stringify(answer));
      };
      const token = String(req.headers['x-acs-dingtalk-access-token'] ?? '');
      switch (url.pathname) {
        case '/robot/sendBySession':
          return this.sendBySession(url.searchParams.get('session') ?? '', body, send);
        case '/v1.0/oauth2/accessToken':
          return this.accessToken(body, send);
        case '/v1.0/robot/groupMessages/send':
        case '/v1.0/robot/oToMessages/batchSend':
          return this.openApi(url.pathname, token, body, send);
        case '/v1.0/gateway/connections/open':
          return this.openStream(req, body, send);
        default:
          send(404, { code: 'NotFound', message: 'no such api' });
      }
    });
  }

  private sendBySession(session: string, body: unknown, send: (s: number, a: unknown) => void): void {
    const s = this.sessions.get(session);
    const now = this.opts.now();
    if (!s || now >= s.expiresAt) return send(200, { errcode: 300001, errmsg: 'session 不存在' });
    if (!isObject(body) || typeof body.msgtype !== 'string') return send(200, { errcode: 40035, errmsg: 'missing json' });
    const part = body[body.msgtype];
    if (!isObject(part)) return send(200, { errcode: 40035, errmsg: `missing param ${body.msgtype}` });
    const at = isObject(body.at) ? body.at : {};
    const ids = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
    const atUserIds = ids(at.atUserIds);
    const text = typeof part.content === 'string' ? part.content : typeof part.text === 'string' ? part.text : '';
    this.sessionPosts.push({
      session,
      conversationId: s.conversationId,
      body,
      at: { atUserIds, atMobiles: ids(at.atMobiles), isAtAll: at.isAtAll === true },
      mentionedInText: Object.fromEntries(atUserIds.map((u) => [u, text.includes(`@${u}`)])),
      receivedAt: now,
    });
    send(200, { errcode: 0, errmsg: 'ok' });
  }

  private accessToken(body: unknown, send: (s: number, a: unknown) => void): void {
    const ok = isObject(body) && body.appKey === this.opts.appKey && body.appSecret === this.opts.appSecret;
    this.tokenRequests.push({ appKey: isObject(body) ? String(body.appKey) : '', ok, at: this.opts.now() });
    if (!ok) return send(400, { code: 'invalidClientIdOrSecret', message: '无效的clientId或者clientSecret', requestid: 'r1' });
    const token = `tok-${randomBytes(8).toString('hex')}`;
    this.tokens.add(token);
    send(200, { accessToken: token, expireIn: this.opts.expireIn });
  }

  private openApi(path: OpenApiPost['path'], token: string, body: unknown, send: (s: number, a: unknown) => void): void {
    if (!this.tokens.has(token)) return send(401, { code: 'InvalidAuthentication', message: '不合法的access_token', requestid: 'r2' });
    if (!isObject(body)) return send(400, { code: 'MissingParameter', message: 'body' });
    if (body.robotCode !== this.opts.robotCode) return send(400, { code: 'resource.not.found', message: 'robot 不存在' });
    const msgKey = String(body.msgKey ?? '');
    const fields = MSG_PARAMS[msgKey];
    if (!fields) return send(400, { code: 'param.msgKey.invalid', message: `unknown msgKey ${msgKey}` });
    let msgParam: unknown;
    try {
      msgParam = typeof body.msgParam === 'string' ? JSON.parse(body.msgParam) : undefined;
    } catch {
      msgParam = undefined;
    }
    if (!isObject(msgParam)) return send(400, { code: 'param.msgParam.invalid', message: 'msgParam must be a JSON string' });
    const missing = fields.find((f) => typeof msgParam[f] !== 'string' || !msgParam[f]);
    if (missing) return send(400, { code: 'param.msgParam.invalid', message: `missing ${missing}` });
    const rec: OpenApiPost = { path, token, body, msgKey, msgParam, receivedAt: this.opts.now() };
    if (path === '/v1.0/robot/groupMessages/send') {
      const cid = String(body.openConversationId ?? '');
      if (!this.groups.has(cid)) return send(400, { code: 'param.openConversationId.invalid', message: '机器人不在该群' });
      rec.openConversationId = cid;
      this.openApiPosts.push(rec);
      return send(200, { processQueryKey: `pqk-${++this.seq}` });
    }
    const userIds = Array.isArray(body.userIds) ? body.userIds.filter((u): u is string => typeof u === 'string') : [];
    if (userIds.length === 0 || userIds.length > 20) return send(400, { code: 'param.userIds.invalid', message: '1..20 userIds' });
    rec.userIds = userIds;
    this.openApiPosts.push(rec);
    send(200, { processQueryKey: `pqk-${++this.seq}`, invalidStaffIdList: [], flowControlledStaffIdList: [] });
  }

  // ───────────── Stream ─────────────

  private openStream(req: http.IncomingMessage, body: unknown, send: (s: number, a: unknown) => void): void {
    if (!/json/.test(String(req.headers.accept ?? ''))) return send(200, '<xml>accept header missing</xml>');
    if (!isObject(body) || body.clientId !== this.opts.appKey || body.clientSecret !== this.opts.appSecret) return send(401, { code: 'InvalidAuthentication', message: 'bad client' });
    this.streamOpens.push(body);
    const ticket = randomBytes(8).toString('hex');
    this.tickets.add(ticket);
    send(200, { endpoint: `${this.base.replace(/^http/, 'ws')}/connect`, ticket });
  }

  private onSocket(ws: WebSocket): void {
    this.sockets.add(ws);
    ws.on('close', () => this.sockets.delete(ws));
    ws.on('message', (data) => {
      let frame: unknown;
      try {
        frame = JSON.parse(String(data));
      } catch {
        return;
      }
      if (isObject(frame) && isObject(frame.headers) && typeof frame.headers.messageId === 'string') this.streamAcks.set(frame.headers.messageId, frame);
    });
    const sys = (topic: string) => ws.send(JSON.stringify({ specVersion: '1.0', type: 'SYSTEM', headers: { topic, messageId: `sys-${++this.seq}`, contentType: 'application/json', time: String(this.opts.now()) }, data: '{}' }));
    sys('CONNECTED');
    sys('REGISTERED');
  }

  /** Cuts every Stream connection (network loss, gateway restart). */
  dropStreamConnections(): void {
    for (const ws of this.sockets) ws.terminate();
  }

  /** Number of open Stream connections. */
  get streamConnections(): number {
    return this.sockets.size;
  }

  /** Sends a SYSTEM ping; the client must echo it (same messageId). @returns the messageId */
  streamPing(): string {
    const messageId = `ping-${++this.seq}`;
    for (const ws of this.sockets) ws.send(JSON.stringify({ specVersion: '1.0', type: 'SYSTEM', headers: { topic: 'ping', messageId, contentType: 'application/json', time: String(this.opts.now()) }, data: JSON.stringify({ opaque: messageId }) }));
    return messageId;
  }

  /** Pushes a robot message over Stream as a CALLBACK frame. @returns the frame's messageId */
  streamPush(body: Record<string, unknown>): string {
    const messageId = `cb-${++this.seq}`;
    const frame = {
      specVersion: '1.0',
      type: 'CALLBACK',
      headers: { appId: 'app-1', connectionId: 'conn-1', contentType: 'application/json', messageId, time: String(this.opts.now()), topic: TOPIC_ROBOT },
      data: JSON.stringify(body),
    };
    for (const ws of this.sockets) ws.send(JSON.stringify(frame));
    return messageId;
  }

  /** Resolves when the ack of `messageId` arrived (polls every 20 ms, real time). */
  async waitForAck(messageId: string, timeoutMs = 5000): Promise<Record<string, unknown>> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const ack = this.streamAcks.get(messageId);
      if (ack) return ack;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no ack for ${messageId} within ${timeoutMs} ms`);
  }
}
