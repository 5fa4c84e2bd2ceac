/**
 * DingTalk Stream mode (protocols.md §3.3; official SDK `dingtalk-stream`,
 * https://github.com/open-dingtalk/dingtalk-stream-sdk-nodejs): for plants with no public address,
 * the process opens an outbound WebSocket to DingTalk and receives the robot's messages over it
 * (topic `/v1.0/im/bot/messages/get`, the same JSON as the HTTP callback) instead of
 * `POST /dingtalk/callback`. Each message goes through the same handler
 * ({@link DingtalkRobot.handleMessage}: msgId dedupe, sender mapping, commands, reply).
 *
 * Acknowledgement: the frame is acknowledged (`{code:200, headers:{messageId}, data:{response:{}}}`)
 * once it is handled or deliberately ignored. When handling fails for an infrastructure reason
 * (database down) it is not acknowledged: DingTalk delivers it again (about 60 s later) and the
 * released msgId lets the retry through.
 *
 * What we change in the SDK (by subclassing, nothing patched):
 * - the gateway `POST {DINGTALK_API_BASE}/v1.0/gateway/connections/open` is called with our own
 *   fetch and a timeout (the SDK uses a fixed URL and no timeout — a caveat noted in protocols.md
 *   §3.3), and only the robot CALLBACK topic is subscribed (the SDK adds `EVENT *` by default);
 * - reconnecting is ours (the SDK's own, `autoReconnect`, is turned off): 5 s apart instead of 1 s,
 *   on a failed open and on a closed socket, with a timer that stop() cancels (the SDK's timers
 *   cannot be cancelled and kept the process alive after stop).
 * Connection drops are handled by the SDK (keepAlive ping/pong, reconnect with a new ticket).
 */
import { DWClient, TOPIC_ROBOT, type DWClientDownStream } from 'dingtalk-stream';
import type { DingtalkAppConfig } from '../config';
import type { Logger } from '../logger';
import type { DingtalkRobot } from './dingtalk-robot';

const GATEWAY_TIMEOUT_MS = 10_000;
const RECONNECT_MS = 5_000;

class GatewayClient extends DWClient {
  private stopped = false;
  private retry?: NodeJS.Timeout;

  constructor(
    private readonly app: DingtalkAppConfig,
    private readonly fetchImpl: typeof fetch,
    private readonly gatewayLog: Logger,
  ) {
    super({ clientId: app.appKey, clientSecret: app.appSecret, keepAlive: true, ua: 'dualprev' });
    this.config.autoReconnect = false;
  }

  override async getEndpoint(): Promise<this> {
    const subscriptions = this.config.subscriptions.filter((s) => s.type === 'CALLBACK');
    const res = await this.fetchImpl(`${this.app.apiBase}/v1.0/gateway/connections/open`, {
      method: 'POST',
      // without Accept: application/json the gateway answers XML (SDK comment)
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ clientId: this.app.appKey, clientSecret: this.app.appSecret, ua: this.config.ua ?? 'dualprev', subscriptions }),
      signal: AbortSignal.timeout(GATEWAY_TIMEOUT_MS),
    });
    const raw = await res.text();
    let json: { endpoint?: unknown; ticket?: unknown } = {};
    try {
      json = JSON.parse(raw) as typeof json;
    } catch {
      /* reported below */
    }
    if (!res.ok || typeof json.endpoint !== 'string' || typeof json.ticket !== 'string') {
      this.gatewayLog.warn({ status: res.status, body: raw.slice(0, 200) }, 'dingtalk stream: gateway refused to open a connection');
      throw new Error(`dingtalk stream gateway: HTTP ${res.status}`);
    }
    (this as unknown as { dw_url: string }).dw_url = `${json.endpoint}?ticket=${encodeURIComponent(json.ticket)}`;
    return this;
  }

  /** Opens the connection; on failure tries again {@link RECONNECT_MS} later. Never throws. */
  override async connect(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.getEndpoint();
      await this._connect();
    } catch (err) {
      this.gatewayLog.warn({ err: (err as Error).message }, 'dingtalk stream: connection failed; retrying');
      this.reconnectLater();
      return;
    }
    // the socket is private in the SDK's typings; a closed socket (network, DingTalk's "disconnect") → new ticket
    const socket = (this as unknown as { socket?: { once(ev: 'close', fn: () => void): void } }).socket;
    socket?.once('close', () => {
      // the SDK starts a keep-alive interval per socket and clears only the last one in disconnect():
      // left running, the old one pings (and may terminate) the next socket
      clearInterval((this as unknown as { heartbeatIntervallId?: NodeJS.Timeout }).heartbeatIntervallId);
      if (this.stopped) return;
      this.gatewayLog.warn('dingtalk stream: connection closed; reconnecting');
      this.reconnectLater();
    });
  }

  private reconnectLater(): void {
    if (this.stopped || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.connect();
    }, RECONNECT_MS);
  }

  /** Closes for good: no reconnect after this. */
  stop(): void {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
    this.disconnect();
  }
}

export interface DingtalkStreamDeps {
  config: DingtalkAppConfig;
  robot: DingtalkRobot;
  log: Logger;
  fetch?: typeof fetch;
}

/** One Stream connection for this process. */
export class DingtalkStream {
  private readonly client: GatewayClient;
  /** handlers in progress (stop() waits for them) */
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly d: DingtalkStreamDeps) {
    this.client = new GatewayClient(d.config, d.fetch ?? fetch, d.log);
    this.client.registerCallbackListener(TOPIC_ROBOT, (frame) => {
      const p = this.onRobotFrame(frame).finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    });
  }

  /** Whether the socket is open and registered (for tests and /readyz-like checks). */
  get connected(): boolean {
    return this.client.connected;
  }

  /** Starts connecting; never throws (the SDK keeps retrying, 5 s apart). */
  start(): void {
    this.d.log.info({ apiBase: this.d.config.apiBase }, 'dingtalk stream: connecting');
    void this.client.connect();
  }

  /** Closes the connection, stops reconnecting and waits for messages being handled. */
  async stop(): Promise<void> {
    this.client.stop();
    await Promise.allSettled([...this.inFlight]);
  }

  private async onRobotFrame(frame: DWClientDownStream): Promise<void> {
    const messageId = frame.headers?.messageId;
    let body: unknown;
    try {
      body = JSON.parse(frame.data);
    } catch {
      this.d.log.warn({ messageId }, 'dingtalk stream: robot frame with invalid JSON; acknowledged and ignored');
      if (messageId) this.client.socketCallBackResponse(messageId, {});
      return;
    }
    try {
      await this.d.robot.handleMessage(body);
      if (messageId) this.client.socketCallBackResponse(messageId, {});
    } catch (err) {
      this.d.log.error({ err, messageId }, 'dingtalk stream: handling failed; not acknowledged, DingTalk will deliver it again');
    }
  }
}
