/**
 * The storage interface behind uploads: local disk (UPLOAD_DIR) and an S3-compatible bucket
 * (@aws-sdk/client-s3 against the SigV4-checking fake in test/fakes/s3.ts).
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { assertSafeKey, createStorage, LocalDiskStorage, S3Storage, StorageKeyError } from '../../server/services/storage';
import { loadConfig, ConfigError } from '../../server/config';
import { FakeS3 } from '../fakes/s3';

const s3opts = { bucket: 'dualprev-photos', region: 'cn-east-1', accessKeyId: 'AKIDTEST', secretAccessKey: 'secret-of-the-test-bucket' };

describe('storage keys', () => {
  it.each(['../etc/passwd', 'a/../../b', '/etc/passwd', 'a\\..\\b', '..', 'a/./b', 'a//b', '', 'a/b/', 'e1/x\u0000y', 'e1/%2e%2e/x', 'x'.repeat(256)])(
    'refuses %j',
    (key) => {
      expect(() => assertSafeKey(key)).toThrow(StorageKeyError);
    },
  );

  it.each(['e1/2026/11/3f2a.jpg', 'e12/2026/01/abc.thumb.jpg', 'x'])('accepts %j', (key) => {
    expect(() => assertSafeKey(key)).not.toThrow();
  });
});

describe('LocalDiskStorage', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'dualprev-store-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('puts (creating directories), gets and deletes; a missing key reads as null and deletes quietly', async () => {
    const store = new LocalDiskStorage(path.join(root, 'uploads'));
    await store.put('e1/2026/11/a.jpg', Buffer.from('JPEG bytes'), 'image/jpeg');
    expect((await readFile(path.join(root, 'uploads/e1/2026/11/a.jpg'))).toString()).toBe('JPEG bytes');
    expect((await store.get('e1/2026/11/a.jpg'))?.toString()).toBe('JPEG bytes');
    await store.put('e1/2026/11/a.jpg', Buffer.from('replaced'), 'image/jpeg');
    expect((await store.get('e1/2026/11/a.jpg'))?.toString()).toBe('replaced');
    // no temp files left behind
    expect(await readdir(path.join(root, 'uploads/e1/2026/11'))).toEqual(['a.jpg']);
    await store.delete('e1/2026/11/a.jpg');
    expect(await store.get('e1/2026/11/a.jpg')).toBeNull();
    await expect(store.delete('e1/2026/11/a.jpg')).resolves.toBeUndefined();
  });

  it('refuses ../ keys: nothing outside the root is read, written or deleted', async () => {
    const store = new LocalDiskStorage(path.join(root, 'uploads'));
    await writeFile(path.join(root, 'secret.txt'), 'do not touch');
    await expect(store.get('../secret.txt')).rejects.toThrow(StorageKeyError);
    await expect(store.put('../secret.txt', Buffer.from('overwritten'), 'text/plain')).rejects.toThrow(StorageKeyError);
    await expect(store.put('e1/../../secret.txt', Buffer.from('overwritten'), 'text/plain')).rejects.toThrow(StorageKeyError);
    await expect(store.delete('../secret.txt')).rejects.toThrow(StorageKeyError);
    await expect(store.get(path.join(root, 'secret.txt'))).rejects.toThrow(StorageKeyError);
    expect((await readFile(path.join(root, 'secret.txt'))).toString()).toBe('do not touch');
  });
});

describe('S3Storage (against a SigV4-checking fake S3)', () => {
  let fake: FakeS3;
  beforeAll(async () => {
    fake = await new FakeS3(s3opts).start();
  });
  afterAll(async () => {
    await fake.stop();
  });

  it('puts, gets and deletes objects path-style with signed requests', async () => {
    const store = new S3Storage({ ...s3opts, endpoint: fake.url });
    const bytes = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
    await store.put('e1/2026/11/p.jpg', bytes, 'image/jpeg');
    expect(fake.objects.get('e1/2026/11/p.jpg')).toEqual({ body: bytes, contentType: 'image/jpeg' });
    expect(Buffer.compare((await store.get('e1/2026/11/p.jpg'))!, bytes)).toBe(0);
    await store.delete('e1/2026/11/p.jpg');
    expect(fake.objects.has('e1/2026/11/p.jpg')).toBe(false);
    expect(await store.get('e1/2026/11/p.jpg')).toBeNull();
    await expect(store.delete('e1/2026/11/p.jpg')).resolves.toBeUndefined();
    // path-style addressing, every request signed and accepted
    expect(fake.requests.map((r) => [r.method, r.path.split('?')[0], r.authorized])).toEqual([
      ['PUT', '/dualprev-photos/e1/2026/11/p.jpg', true],
      ['GET', '/dualprev-photos/e1/2026/11/p.jpg', true],
      ['DELETE', '/dualprev-photos/e1/2026/11/p.jpg', true],
      ['GET', '/dualprev-photos/e1/2026/11/p.jpg', true],
      ['DELETE', '/dualprev-photos/e1/2026/11/p.jpg', true],
    ]);
    fake.requests.length = 0;
  });

  it('a wrong secret is refused by the store (the fake really checks the signature)', async () => {
    const store = new S3Storage({ ...s3opts, endpoint: fake.url, secretAccessKey: 'not-the-secret' });
    await expect(store.put('e1/x.jpg', Buffer.from('x'), 'image/jpeg')).rejects.toMatchObject({ name: 'SignatureDoesNotMatch' });
    expect(fake.objects.has('e1/x.jpg')).toBe(false);
  });

  it('a wrong region is refused too', async () => {
    const store = new S3Storage({ ...s3opts, endpoint: fake.url, region: 'us-east-1' });
    await expect(store.get('e1/x.jpg')).rejects.toMatchObject({ name: 'SignatureDoesNotMatch' });
  });

  it('store errors surface (after the SDK retries), and keys are checked before any request', async () => {
    const store = new S3Storage({ ...s3opts, endpoint: fake.url });
    fake.failNext('PUT', 500, 3);
    await expect(store.put('e1/y.jpg', Buffer.from('y'), 'image/jpeg')).rejects.toMatchObject({ name: 'InternalError' });
    expect(fake.objects.has('e1/y.jpg')).toBe(false);
    const before = fake.requests.length;
    await expect(store.put('../y.jpg', Buffer.from('y'), 'image/jpeg')).rejects.toThrow(StorageKeyError);
    expect(fake.requests.length).toBe(before);
  });
});

describe('storage configuration', () => {
  it('defaults to local disk under ./uploads with 10 MiB and 9 files', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ storage: 'local', uploadDir: './uploads', uploadMaxBytes: 10 * 1024 * 1024, uploadMaxFiles: 9, s3: undefined });
    expect(createStorage(c)).toBeInstanceOf(LocalDiskStorage);
  });

  it('STORAGE=s3 takes the S3_* variables and lists the missing ones', () => {
    const c = loadConfig({ STORAGE: 's3', S3_ENDPOINT: 'http://127.0.0.1:9000', S3_BUCKET: 'b', S3_ACCESS_KEY_ID: 'k', S3_SECRET_ACCESS_KEY: 's', S3_REGION: 'cn-north-1' });
    expect(c.s3).toEqual({ endpoint: 'http://127.0.0.1:9000', region: 'cn-north-1', bucket: 'b', accessKeyId: 'k', secretAccessKey: 's' });
    expect(createStorage(c)).toBeInstanceOf(S3Storage);
    let err: unknown;
    try {
      loadConfig({ STORAGE: 's3', S3_BUCKET: 'b' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual(['S3_ACCESS_KEY_ID: required when STORAGE=s3', 'S3_SECRET_ACCESS_KEY: required when STORAGE=s3']);
    expect(() => loadConfig({ STORAGE: 'ftp' })).toThrow(ConfigError);
    expect(() => loadConfig({ UPLOAD_MAX_BYTES: '0' })).toThrow(ConfigError);
  });
});
