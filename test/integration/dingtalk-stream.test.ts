/**
 * DingTalk Stream mode (protocols.md §3.3) through the official SDK `dingtalk-stream` against the
 * fake gateway (test/fakes/dingtalk-app.ts): the connection is opened with our gateway call, robot
 * CALLBACK frames go through the same handler as the HTTP callback, frames are acknowledged with
 * their messageId, pings are echoed, and stop() closes for good.
 */
import { createTestSystem, type TestSystem } from '../helpers/system';
import { FakeDingtalkApp, TOPIC_ROBOT } from '../fakes/dingtalk-app';
import { createLogger } from '../../server/logger';
import { DingtalkStream } from '../../server/services/dingtalk-stream';
import { addressedTo } from '../../server/services/alert-actions';
import { alertCode } from '../../server/domain/render';

const APP_KEY = 'dingstreamkey';
const APP_SECRET = 'stream-secret-0001';

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

let sys: TestSystem | undefined;
let fake: FakeDingtalkApp | undefined;
let stream: DingtalkStream | undefined;
// the SDK prints "connect success" / "Disconnecting." with console.info
let info: jest.SpyInstance;

beforeEach(() => {
  info = jest.spyOn(console, 'info').mockImplementation(() => undefined);
});
afterEach(async () => {
  await stream?.stop();
  await sys?.close();
  await fake?.stop();
  info.mockRestore();
  stream = sys = fake = undefined;
});

test('Stream: robot message → same handler (acknowledged as p12, channel dingtalk, reply via session) → frame acked with its messageId; duplicate acked and ignored; ping echoed; a dropped connection is reopened; stop closes for good', async () => {
  let now: () => number = Date.now;
  fake = new FakeDingtalkApp({ appKey: APP_KEY, appSecret: APP_SECRET, now: () => now() });
  const base = await fake.start();
  sys = await createTestSystem({
    env: { DINGTALK_APP_KEY: APP_KEY, DINGTALK_APP_SECRET: APP_SECRET, DINGTALK_API_BASE: base, DINGTALK_OAPI_BASE: base, DINGTALK_STREAM: 'true' },
  });
  now = () => sys!.clock.now().getTime();
  expect(sys.config.dingtalk?.stream).toBe(true);
  await sys.cycle();
  const p12 = await sys.person('p12');
  const alert = (await sys.rt.prisma.alert.findMany({ where: { state: 'open' } })).find((a) => a.title.includes('紧急停车系统旁路') && addressedTo(a.recipients, a.level).includes(p12))!;
  expect(alert).toBeDefined();

  stream = new DingtalkStream({ config: sys.config.dingtalk!, robot: sys.rt.dingtalk!, log: createLogger('silent') });
  stream.start();
  await until(() => fake!.streamConnections === 1 && stream!.connected);
  // our gateway call: credentials, JSON, only the robot callback topic
  expect(fake.streamOpens).toHaveLength(1);
  expect(fake.streamOpens[0]).toMatchObject({ clientId: APP_KEY, clientSecret: APP_SECRET, subscriptions: [{ type: 'CALLBACK', topic: TOPIC_ROBOT }] });

  const body = fake.callback({ text: `确认 ${alertCode(alert.id)}`, senderStaffId: 'dt0012', senderNick: '黄涛' }).body;
  const id = fake.streamPush(body);
  const ack = await fake.waitForAck(id);
  expect(ack).toMatchObject({ code: 200, message: 'OK', headers: { messageId: id, contentType: 'application/json' } });
  expect(JSON.parse(String(ack.data))).toEqual({ response: {} });

  const after = await sys.rt.prisma.alert.findUniqueOrThrow({ where: { id: alert.id } });
  expect(after.state).toBe('acknowledged');
  expect(after.ackedById).toBe(p12);
  const events = await sys.rt.prisma.alertEvent.findMany({ where: { alertId: alert.id, type: 'acknowledged' } });
  expect(events).toMatchObject([{ actorId: p12, channel: 'dingtalk' }]);
  expect(fake.sessionPosts).toHaveLength(1);
  expect(JSON.stringify(fake.sessionPosts[0].body)).toContain(`已确认 ${alertCode(alert.id)}`);

  // DingTalk re-delivers the same message (as it does when an ack is late): acked, nothing more
  const again = fake.streamPush(body);
  await fake.waitForAck(again);
  expect(fake.sessionPosts).toHaveLength(1);
  expect(await sys.rt.prisma.alertEvent.count({ where: { alertId: alert.id, type: 'acknowledged' } })).toBe(1);

  // SYSTEM ping is echoed with the same messageId and data
  const ping = fake.streamPing();
  const pong = await fake.waitForAck(ping);
  expect(pong).toMatchObject({ code: 200, headers: { messageId: ping, topic: 'ping' } });
  expect(JSON.parse(String(pong.data))).toEqual({ opaque: ping });

  // the connection drops: a new ticket is fetched and the socket reopened (5 s later), messages flow again
  fake.dropStreamConnections();
  await until(() => fake!.streamOpens.length === 2 && fake!.streamConnections === 1 && stream!.connected, 15_000);
  const q = fake.streamPush(fake.callback({ text: '查询', senderStaffId: 'dt0012', senderNick: '黄涛' }).body);
  await fake.waitForAck(q);
  expect(fake.sessionPosts).toHaveLength(2);

  await stream.stop();
  await until(() => fake!.streamConnections === 0);
  await new Promise((r) => setTimeout(r, 300));
  expect(fake.streamConnections).toBe(0);
  expect(fake.streamOpens).toHaveLength(2);
});

test('Stream: a gateway that refuses the credentials is retried, not fatal; nothing connects', async () => {
  fake = new FakeDingtalkApp({ appKey: APP_KEY, appSecret: 'the-real-secret' });
  const base = await fake.start();
  sys = await createTestSystem({ env: { DINGTALK_APP_KEY: APP_KEY, DINGTALK_APP_SECRET: 'a-wrong-secret', DINGTALK_API_BASE: base, DINGTALK_OAPI_BASE: base } });
  stream = new DingtalkStream({ config: sys.config.dingtalk!, robot: sys.rt.dingtalk!, log: createLogger('silent') });
  stream.start();
  await until(() => fake!.rejected.some((r) => r.path === '/v1.0/gateway/connections/open' && r.status === 401));
  expect(stream.connected).toBe(false);
  expect(fake.streamConnections).toBe(0);
});

test('DINGTALK_STREAM=true: the runtime opens the Stream connection when it starts the api role and closes it at stop', async () => {
  fake = new FakeDingtalkApp({ appKey: APP_KEY, appSecret: APP_SECRET });
  const base = await fake.start();
  sys = await createTestSystem({
    seed: false,
    env: { ROLES: 'api', PORT: '0', HOST: '127.0.0.1', DINGTALK_APP_KEY: APP_KEY, DINGTALK_APP_SECRET: APP_SECRET, DINGTALK_API_BASE: base, DINGTALK_OAPI_BASE: base, DINGTALK_STREAM: 'true' },
  });
  expect(sys.rt.dingtalkStream).toBeUndefined();
  await sys.rt.start();
  await until(() => fake!.streamConnections === 1 && sys!.rt.dingtalkStream?.connected === true);
  await sys.rt.stop();
  await until(() => fake!.streamConnections === 0);
});
