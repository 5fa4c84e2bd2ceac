/**
 * The phone's offline queue of hazard reports (miniprogram/lib/queue.ts, compiled) against the REAL
 * server: the network fails twice, then works → exactly one hazard is created, with its photos;
 * the queue ends empty and the waiting list the user sees goes 1 → 1 → 1 → 0.
 *
 * The two failures are the hard ones:
 *  1. the second photo's upload never reaches the server (the first one did): the retry must
 *     upload only the second photo;
 *  2. the report reaches the server and is stored, but the answer is lost on the way back: the
 *     retry must not create a second hazard (clientRequestId → the server answers the first
 *     result, `duplicate: true`) and must not upload the photos again.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createTestSystem, type TestSystem } from '../helpers/system';
import { jpeg } from '../helpers/photos';
import { FakeWechat } from '../fakes/wechat';
import { buildMp, type MpBuild } from './mp-build';
import { httpPhone, use, type Phone } from './http-wx';

type Queue = typeof import('../../miniprogram/lib/queue');

const APPID = 'wx00112233445566ff';
const SECRET = 'fake-app-secret';
const NAME = '甲醇储罐防火堤排水阀未关闭';

describe('offline queue: fails twice, then works → one hazard with its photos', () => {
  let sys: TestSystem;
  let fake: FakeWechat;
  let server: Server;
  let mp: MpBuild;
  let phone: Phone;
  let queue: Queue;
  let p07: number;

  beforeAll(async () => {
    fake = new FakeWechat({ appId: APPID, secret: SECRET });
    const base = await fake.start();
    sys = await createTestSystem({ env: { WECHAT_APPID: APPID, WECHAT_SECRET: SECRET, WECHAT_API_BASE: base } });
    server = sys.app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    mp = buildMp();
    mp.lib<typeof import('../../miniprogram/lib/config')>('lib/config').configure({ apiBase: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1` });
    queue = mp.lib('lib/queue');
    phone = httpPhone(() => fake.issueCode('openid-p07-offline'));
    use(phone);
    const auth = mp.lib<typeof import('../../miniprogram/lib/auth')>('lib/auth');
    const first = await auth.login();
    if (first.status !== 'unbound') throw new Error('expected an unbound first login');
    p07 = (await auth.bindWithPhone(first.bindToken, fake.issuePhoneCode('13800000007'))).id;
  });

  afterAll(async () => {
    phone?.close();
    server?.closeAllConnections();
    await new Promise((r) => (server ? server.close(r) : r(null)));
    await sys?.close();
    await fake?.stop();
    mp?.cleanup();
  });

  const hazardsNamed = () => sys.rt.prisma.hazard.findMany({ where: { name: NAME, enterpriseId: sys.enterpriseId! } });
  const waitingList = () => queue.queueRows((iso) => iso);
  const uploads = () => phone.calls.filter((c) => c.kind === 'upload');

  test('no signal, lost answer, then signal: exactly one hazard, two photos, no re-upload, queue empty', async () => {
    // the place from the unit's QR label (resolved by the server while there is signal)
    const units = mp.lib<typeof import('../../miniprogram/lib/units')>('lib/units');
    const contract = mp.lib<typeof import('../../miniprogram/shared/contract')>('shared/contract');
    const unit = await units.resolveScanned(contract.unitQrText('320411901', (await sys.rt.prisma.riskUnit.findFirstOrThrow({ where: { name: { contains: '甲醇储罐' } } })).code));
    expect(unit.name).toContain('甲醇储罐');

    const photos = [path.join(phone.dir, 'a.jpg'), path.join(phone.dir, 'b.jpg')];
    for (const p of photos) writeFileSync(p, await jpeg(200, 150));
    const item = await queue.enqueueReport({ name: NAME, riskUnitId: unit.id, riskUnitName: unit.name }, photos);
    expect(waitingList()).toHaveLength(1);
    expect(waitingList()[0]).toMatchObject({ name: NAME, photos: '2 张照片', status: '等待发送', failed: false });

    // 1st try: the first photo goes up, the second never reaches the server
    let n = 0;
    phone.net.fail(1, 'before', (m, p) => m === 'POST' && p === '/files' && ++n === 2);
    const r1 = await queue.flushQueue();
    expect(r1).toMatchObject({ sent: [], failed: [], remaining: 1 });
    expect(r1.stopped).toMatchObject({ kind: 'network', retryable: true });
    expect(uploads().map((c) => c.fault)).toEqual([null, 'before']);
    expect(await hazardsNamed()).toHaveLength(0);
    expect(waitingList()).toHaveLength(1);
    expect(waitingList()[0]).toMatchObject({ photos: '照片已上传 1/2', status: '等待信号（已尝试 1 次）' });

    // 2nd try: only the second photo is uploaded; the report is stored, its answer is lost
    phone.net.fail(1, 'after', (m, p) => m === 'POST' && p === '/hazards');
    const r2 = await queue.flushQueue();
    expect(r2.sent).toEqual([]);
    expect(r2.stopped).toMatchObject({ kind: 'network' });
    expect(phone.net.pending()).toBe(0);
    expect(uploads().map((c) => c.fault)).toEqual([null, 'before', null]);
    const stored = await hazardsNamed();
    expect(stored).toHaveLength(1); // the server has it — the phone does not know
    expect(waitingList()).toHaveLength(1);
    expect(waitingList()[0]).toMatchObject({ photos: '照片已上传 2/2', status: '等待信号（已尝试 2 次）' });

    // 3rd try: signal — the same clientRequestId answers the first hazard; nothing uploaded again
    const r3 = await queue.flushQueue();
    expect(r3.stopped).toBeNull();
    expect(r3.remaining).toBe(0);
    expect(r3.sent).toEqual([{ clientRequestId: item.clientRequestId, hazardId: stored[0].id, code: stored[0].code, duplicate: true, dangerLevel: 0 }]);
    expect(uploads()).toHaveLength(3);
    expect(phone.calls.filter((c) => c.method === 'POST' && c.path === '/hazards').map((c) => [c.status, c.fault])).toEqual([
      [201, 'after'],
      [200, null],
    ]);

    // exactly one hazard, with its two photos, reported by 赵小军 at the unit
    const after = await hazardsNamed();
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ reporterId: p07, riskUnitId: unit.id, state: 'reported' });
    const photoIds = after[0].photos as number[];
    expect(photoIds).toHaveLength(2);
    const files = await sys.rt.prisma.storedFile.findMany({ where: { id: { in: photoIds } } });
    expect(files).toHaveLength(2);
    // no stray uploads: the 2 photos on the hazard are the only files this person stored
    expect(await sys.rt.prisma.storedFile.count({ where: { uploadedById: p07 } })).toBe(2);

    // the queue is empty, and the user's waiting list with it
    expect(queue.listQueue()).toEqual([]);
    expect(waitingList()).toEqual([]);
    expect(queue.pendingCount()).toBe(0);

    // flushing again sends nothing
    const r4 = await queue.flushQueue();
    expect(r4).toMatchObject({ sent: [], remaining: 0, stopped: null });
    expect(await hazardsNamed()).toHaveLength(1);
  });

  test('a report the server refuses is marked failed with its reason, not retried forever; the user can delete it', async () => {
    const item = await queue.enqueueReport({ name: '不存在的单元上的隐患', riskUnitId: 999_999 }, []);
    const r = await queue.flushQueue();
    expect(r.failed).toEqual([item.clientRequestId]);
    expect(r.stopped).toBeNull();
    const row = waitingList().find((x) => x.id === item.clientRequestId)!;
    expect(row.failed).toBe(true);
    expect(row.status).toMatch(/^发送失败：/);
    // a failed item is skipped by later flushes until the user retries it
    const again = await queue.flushQueue();
    expect(again.failed).toEqual([]);
    queue.removeFromQueue(item.clientRequestId);
    expect(queue.pendingCount()).toBe(0);
  });
});
