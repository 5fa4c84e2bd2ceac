/**
 * Photos and files over HTTP (issue #3 item 3, done-when "Uploads"), on the demo plant with real
 * MariaDB and local-disk storage in a temp directory (plus the S3 adapter against the fake S3):
 * - a phone JPEG with EXIF orientation 6 is stored upright, without EXIF/GPS, with a thumbnail, and
 *   its GPS comes back in the answer;
 * - a 30 MB file → 413, a text file renamed .jpg → 415, 10 files in one request → 400, 20 photo ids
 *   on one record → 400 (assertFilesUsable); each with nothing stored;
 * - another enterprise's people get 404; nothing is half-saved when storage or the database fails.
 */
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import path from 'node:path';
import request from 'supertest';
import sharp from 'sharp';
import { createTestSystem, type TestSystem } from '../helpers/system';
import { gpsExifBlock, heicContainer, phoneJpeg, TEST_GPS } from '../helpers/images';
import { FakeS3 } from '../fakes/s3';
import { issueApiToken } from '../../server/services/tokens';
import { assertFilesUsable, readStoredFile, storeUploads } from '../../server/services/files';
import { MAX_PHOTOS_PER_HAZARD } from '../../server/domain/files';
import { LocalDiskStorage, S3Storage, type Storage } from '../../server/services/storage';
import { AppError } from '../../server/errors';

const HAN = /[\u4e00-\u9fff]/;

let sys: TestSystem;
let http: Server;
let p07: string;
let outsider: string;

beforeAll(async () => {
  sys = await createTestSystem();
  http = sys.app.listen(0, '127.0.0.1');
  p07 = await sys.token('p07');
  const e = await sys.rt.prisma.enterprise.create({ data: { companyCode: '320411998', name: '另一家化工有限公司' } });
  const p = await sys.rt.prisma.person.create({ data: { enterpriseId: e.id, code: 'x01', name: '外企负责人', roles: ['principal', 'enterprise_admin'] } });
  outsider = await issueApiToken(sys.rt.prisma, p.id, 'outsider');
});

afterAll(async () => {
  await new Promise((r) => http.close(r));
  await sys.close();
});

/** every file under the upload directory (relative paths) */
async function storedObjects(): Promise<string[]> {
  try {
    const entries = await readdir(sys.config.uploadDir, { recursive: true, withFileTypes: true });
    return entries.filter((d) => d.isFile()).map((d) => path.relative(sys.config.uploadDir, path.join(d.parentPath, d.name))).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

async function snapshot() {
  return { rows: await sys.rt.prisma.storedFile.count(), objects: await storedObjects() };
}

function upload(token: string, files: Array<{ bytes: Buffer; name: string }>, field = 'files') {
  let r = request(http).post('/api/v1/files').set('Authorization', `Bearer ${token}`);
  for (const f of files) r = r.attach(field, f.bytes, { filename: f.name, contentType: 'image/jpeg' });
  return r;
}

function expectError(res: request.Response, status: number, code: string) {
  expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
  expect(res.body.message).toMatch(HAN);
  expect(res.body.message_en).toMatch(/\w/);
}

async function pixel(img: Buffer, x: number, y: number): Promise<[number, number, number]> {
  const { data, info } = await sharp(img).raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * info.channels;
  return [data[i], data[i + 1], data[i + 2]];
}

const isRed = ([r, g, b]: number[]) => r > 200 && g < 60 && b < 60;
const isBlue = ([r, g, b]: number[]) => b > 200 && r < 60 && g < 60;

describe('POST /api/v1/files: a phone photo', () => {
  let item: { id: number; mime: string; bytes: number; width: number; height: number; url: string; thumbUrl: string; gps: unknown };
  let original: Buffer;

  beforeAll(async () => {
    original = await phoneJpeg({ orientation: 6 });
    // the camera wrote landscape pixels and "rotate 90° clockwise" (the test's own premise)
    const m = await sharp(original).metadata();
    expect([m.width, m.height, m.orientation]).toEqual([400, 200, 6]);
    expect(isRed(await pixel(original, 50, 100))).toBe(true);

    const res = await upload(p07, [{ bytes: original, name: '现场照片.jpg' }]);
    expect(res.status).toBe(201);
    expect(res.body.items).toHaveLength(1);
    item = res.body.items[0];
  });

  it('answers the upright size, URLs and the GPS from EXIF', async () => {
    expect(item).toEqual({
      id: expect.any(Number),
      mime: 'image/jpeg',
      bytes: expect.any(Number),
      width: 200,
      height: 400,
      url: `http://dualprev.test/api/v1/files/${item.id}`,
      thumbUrl: `http://dualprev.test/api/v1/files/${item.id}/thumb`,
      gps: TEST_GPS,
    });
  });

  it('is stored upright (width/height swapped, the red half on top) with no EXIF, GPS or orientation left', async () => {
    const res = await request(http).get(`/api/v1/files/${item.id}`).set('Authorization', `Bearer ${p07}`).buffer(true).parse(binary).expect(200);
    expect(res.headers['content-type']).toBe('image/jpeg');
    expect(res.headers['cache-control']).toBe('private, max-age=31536000, immutable');
    expect(res.headers['content-disposition']).toBe(`inline; filename*=UTF-8''${encodeURIComponent('现场照片.jpg')}`);
    const stored = res.body as Buffer;
    expect(stored.length).toBe(item.bytes);
    const m = await sharp(stored).metadata();
    expect([m.format, m.width, m.height]).toEqual(['jpeg', 200, 400]);
    expect(m.orientation).toBeUndefined();
    expect(m.exif).toBeUndefined();
    expect(m.xmp).toBeUndefined();
    // no APP1 EXIF segment anywhere, and no trace of the camera's tags
    expect(stored.includes(Buffer.from('Exif\0\0', 'latin1'))).toBe(false);
    expect(stored.includes(Buffer.from('TestPhone'))).toBe(false);
    expect(isRed(await pixel(stored, 100, 50))).toBe(true);
    expect(isBlue(await pixel(stored, 100, 350))).toBe(true);

    const row = await sys.rt.prisma.storedFile.findUniqueOrThrow({ where: { id: item.id } });
    expect(row).toMatchObject({
      enterpriseId: sys.enterpriseId,
      mime: 'image/jpeg',
      width: 200,
      height: 400,
      bytes: stored.length,
      sha256: createHash('sha256').update(stored).digest('hex'),
      originalName: '现场照片.jpg',
      uploadedById: await sys.person('p07'),
    });
    expect(row.storageKey).toMatch(new RegExp(`^e${sys.enterpriseId}/\\d{4}/\\d{2}/[0-9a-f]{32}\\.jpg$`));
    expect(await storedObjects()).toEqual(expect.arrayContaining([row.storageKey, row.thumbKey]));
  });

  it('has an upright 320 px JPEG thumbnail', async () => {
    const res = await request(http).get(`/api/v1/files/${item.id}/thumb`).set('Authorization', `Bearer ${p07}`).buffer(true).parse(binary).expect(200);
    expect(res.headers['content-type']).toBe('image/jpeg');
    const thumb = res.body as Buffer;
    const m = await sharp(thumb).metadata();
    expect([m.format, m.width, m.height, m.exif]).toEqual(['jpeg', 160, 320, undefined]);
    expect(isRed(await pixel(thumb, 80, 40))).toBe(true);
    expect(isBlue(await pixel(thumb, 80, 280))).toBe(true);
  });

  it('is readable by other people of the plant, and 404 for another enterprise (original and thumbnail)', async () => {
    await request(http).get(`/api/v1/files/${item.id}`).set('Authorization', `Bearer ${await sys.token('p14')}`).expect(200);
    for (const suffix of ['', '/thumb']) {
      const res = await request(http).get(`/api/v1/files/${item.id}${suffix}`).set('Authorization', `Bearer ${outsider}`);
      expectError(res, 404, 'file_not_found');
      expect(res.body).not.toHaveProperty('details');
    }
    expectError(await request(http).get(`/api/v1/files/999999`).set('Authorization', `Bearer ${p07}`), 404, 'file_not_found');
    expect((await request(http).get(`/api/v1/files/${item.id}`)).status).toBe(401);
  });
});

describe('POST /api/v1/files: refused uploads store nothing', () => {
  it('a 30 MB file → 413 file_too_large', async () => {
    const before = await snapshot();
    const big = Buffer.concat([await phoneJpeg(), Buffer.alloc(30 * 1024 * 1024, 0x42)]);
    const res = await upload(p07, [{ bytes: big, name: 'big.jpg' }]);
    expectError(res, 413, 'file_too_large');
    expect(res.body.message).toContain('10 MB');
    expect(res.body.details).toEqual({ maxBytes: 10 * 1024 * 1024 });
    expect(await snapshot()).toEqual(before);
  });

  // a 1 KB file can declare a 20000×20000 picture: it is refused for its pixels, not called damaged
  it('a PNG that declares 20000×20000 pixels → 413 image_too_large (it was 422 unreadable_image)', async () => {
    const { crc32, deflateSync } = await import('node:zlib');
    const chunk = (type: string, data: Buffer) => {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(data.length);
      const crc = Buffer.alloc(4);
      crc.writeUInt32BE(crc32(Buffer.concat([Buffer.from(type), data])));
      return Buffer.concat([len, Buffer.from(type), data, crc]);
    };
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(20000, 0);
    ihdr.writeUInt32BE(20000, 4);
    ihdr[8] = 8; // 8 bits per channel
    ihdr[9] = 2; // RGB
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(64))), chunk('IEND', Buffer.alloc(0))]);
    const before = await snapshot();
    const res = await upload(p07, [{ bytes: png, name: 'huge.png' }]);
    expectError(res, 413, 'image_too_large');
    expect(res.body.message).toContain('像素过大');
    expect(await snapshot()).toEqual(before);
  });

  it('a text file renamed .jpg → 415 unsupported_type', async () => {
    const before = await snapshot();
    const res = await upload(p07, [{ bytes: Buffer.from('巡检记录：一切正常\nthis is text, not a photo\n'), name: 'photo.jpg' }]);
    expectError(res, 415, 'unsupported_type');
    expect(res.body.details).toMatchObject({ name: 'photo.jpg' });
    expect(await snapshot()).toEqual(before);
  });

  it('one bad file among good ones refuses the whole batch', async () => {
    const before = await snapshot();
    const good = await phoneJpeg();
    const res = await upload(p07, [
      { bytes: good, name: 'a.jpg' },
      { bytes: good, name: 'b.jpg' },
      { bytes: Buffer.from('%PDF-1.7\n'), name: 'c.jpg' },
    ]);
    expectError(res, 415, 'unsupported_type');
    expect(await snapshot()).toEqual(before);
  });

  it('10 files in one request (limit 9) → 400 too_many_files', async () => {
    const before = await snapshot();
    const small = await phoneJpeg({ width: 40, height: 20 });
    const res = await upload(p07, Array.from({ length: 10 }, (_v, i) => ({ bytes: small, name: `p${i}.jpg` })));
    expectError(res, 400, 'too_many_files');
    expect(res.body.details).toEqual({ maxFiles: 9 });
    expect(await snapshot()).toEqual(before);
  });

  it('a damaged JPEG → 422 unreadable_image', async () => {
    const before = await snapshot();
    const jpeg = await phoneJpeg();
    const damaged = Buffer.concat([jpeg.subarray(0, 4), Buffer.alloc(2000, 0x11)]);
    expectError(await upload(p07, [{ bytes: damaged, name: 'x.jpg' }]), 422, 'unreadable_image');
    expect(await snapshot()).toEqual(before);
  });

  it('no multipart, no file, a file in another field → clear 4xx', async () => {
    const before = await snapshot();
    const json = await request(http).post('/api/v1/files').set('Authorization', `Bearer ${p07}`).send({ files: ['x'] });
    expectError(json, 415, 'multipart_required');
    expectError(await request(http).post('/api/v1/files').set('Authorization', `Bearer ${p07}`).field('note', 'x'), 400, 'no_files');
    expectError(await upload(p07, [{ bytes: await phoneJpeg(), name: 'a.jpg' }], 'photo'), 400, 'unexpected_field');
    expect(await snapshot()).toEqual(before);
  });
});

it('the OpenAPI document declares the multipart upload with its limits and errors', async () => {
  const doc = (await request(http).get('/api/v1/openapi.json').expect(200)).body;
  const post = doc.paths['/files'].post;
  expect(post['x-permission']).toBe('files.upload');
  expect(post.requestBody.content['multipart/form-data'].schema.properties.files).toEqual({ type: 'array', maxItems: 9, items: { type: 'string', format: 'binary' } });
  expect(post.requestBody.description).toBe('up to 9 files of at most 10485760 bytes each');
  expect(Object.keys(post.responses)).toEqual(expect.arrayContaining(['201', '400', '413', '415', '422']));
  expect(doc.paths['/files/{id}'].get['x-permission']).toBe('files.read');
  expect(doc.paths['/files/{id}/thumb'].get['x-permission']).toBe('files.read');
});

describe('POST /api/v1/files: other formats', () => {
  it('a PNG with transparency stays PNG; its thumbnail is a JPEG', async () => {
    const png = await sharp({ create: { width: 640, height: 480, channels: 4, background: { r: 0, g: 128, b: 0, alpha: 0.5 } } }).png().toBuffer();
    const res = await upload(p07, [{ bytes: png, name: 'screen.png' }]).expect(201);
    expect(res.body.items[0]).toMatchObject({ mime: 'image/png', width: 640, height: 480, gps: null });
    const thumb = await request(http).get(`/api/v1/files/${res.body.items[0].id}/thumb`).set('Authorization', `Bearer ${p07}`).buffer(true).parse(binary).expect(200);
    expect(await sharp(thumb.body as Buffer).metadata()).toMatchObject({ format: 'jpeg', width: 320, height: 240 });
  });

  it('WebP is accepted', async () => {
    const webp = await sharp({ create: { width: 100, height: 50, channels: 3, background: '#ff0000' } }).webp().toBuffer();
    const res = await upload(p07, [{ bytes: webp, name: 'x.webp' }]).expect(201);
    expect(res.body.items[0]).toMatchObject({ mime: 'image/webp', width: 100, height: 50 });
  });

  it('HEIC (not decodable here) is kept as uploaded minus EXIF/XMP: size from the container, GPS returned, no thumbnail', async () => {
    const heic = heicContainer({ width: 4032, height: 3024, irot: 3, exif: await gpsExifBlock(), xmp: '<x:xmpmeta>GPSLatitude 31,14.5N</x:xmpmeta>' });
    const res = await upload(p07, [{ bytes: heic, name: 'IMG_0001.HEIC' }]).expect(201);
    const it0 = res.body.items[0];
    expect(it0).toMatchObject({ mime: 'image/heic', bytes: heic.length, width: 3024, height: 4032, thumbUrl: null, gps: TEST_GPS });
    const got = await request(http).get(`/api/v1/files/${it0.id}`).set('Authorization', `Bearer ${p07}`).buffer(true).parse(binary).expect(200);
    expect(got.headers['content-type']).toBe('image/heic');
    const stored = got.body as Buffer;
    expect(stored.length).toBe(heic.length);
    expect(stored.includes(Buffer.from('TestPhone'))).toBe(false);
    expect(stored.includes(Buffer.from('GPSLatitude'))).toBe(false);
    expect(stored.includes(Buffer.alloc(64, 0x5a))).toBe(true); // the coded picture is untouched
    expectError(await request(http).get(`/api/v1/files/${it0.id}/thumb`).set('Authorization', `Bearer ${p07}`), 404, 'file_not_found');
  });
});

describe('assertFilesUsable (for hazards and check records)', () => {
  let mine: number[];
  let theirs: number;
  beforeAll(async () => {
    const res = await upload(p07, [
      { bytes: await phoneJpeg({ width: 40, height: 20 }), name: '1.jpg' },
      { bytes: await phoneJpeg({ width: 60, height: 20 }), name: '2.jpg' },
    ]).expect(201);
    mine = res.body.items.map((i: { id: number }) => i.id);
    const other = await upload(outsider, [{ bytes: await phoneJpeg({ width: 20, height: 20 }), name: 'o.jpg' }]).expect(201);
    theirs = other.body.items[0].id;
  });

  const failure = async (p: Promise<void>) => {
    const err = await p.then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  };

  it('accepts the enterprise\'s own files, and none', async () => {
    await expect(assertFilesUsable(sys.rt.prisma, sys.enterpriseId!, mine, { max: MAX_PHOTOS_PER_HAZARD })).resolves.toBeUndefined();
    await expect(assertFilesUsable(sys.rt.prisma, sys.enterpriseId!, [], { max: MAX_PHOTOS_PER_HAZARD })).resolves.toBeUndefined();
  });

  it('20 photos on one hazard → 400 too_many_photos (before looking them up)', async () => {
    const ids = Array.from({ length: 20 }, (_v, i) => mine[0] + i);
    const err = await failure(assertFilesUsable(sys.rt.prisma, sys.enterpriseId!, ids, { max: MAX_PHOTOS_PER_HAZARD }));
    expect([err.status, err.code, err.details]).toEqual([400, 'too_many_photos', { max: 9, given: 20 }]);
    expect(err.messageZh).toMatch(HAN);
  });

  it('another enterprise\'s or a missing file → 404 file_not_found naming the ids; a repeated id → 400', async () => {
    const err = await failure(assertFilesUsable(sys.rt.prisma, sys.enterpriseId!, [mine[0], theirs, 987654], { max: 9 }));
    expect([err.status, err.code, err.details]).toEqual([404, 'file_not_found', { ids: [theirs, 987654] }]);
    const dup = await failure(assertFilesUsable(sys.rt.prisma, sys.enterpriseId!, [mine[0], mine[1], mine[0]], { max: 9 }));
    expect([dup.status, dup.code]).toEqual([400, 'duplicate_files']);
  });

  it('works inside a transaction client', async () => {
    await sys.rt.prisma.$transaction((tx) => assertFilesUsable(tx, sys.enterpriseId!, mine, { max: 2 }));
    const err = await failure(sys.rt.prisma.$transaction((tx) => assertFilesUsable(tx, sys.enterpriseId!, mine, { max: 1 })));
    expect(err.code).toBe('too_many_photos');
  });
});

describe('nothing half-saved', () => {
  const uploader = async () => ({ enterpriseId: sys.enterpriseId!, personId: await sys.person('p07') });

  it('storage fails on the second object: the first is deleted again, no row', async () => {
    const disk = new LocalDiskStorage(sys.config.uploadDir);
    let puts = 0;
    const flaky: Storage = {
      kind: 'local',
      put: async (k, b, t) => {
        if (++puts === 2) throw new Error('disk full');
        await disk.put(k, b, t);
      },
      get: (k) => disk.get(k),
      delete: (k) => disk.delete(k),
    };
    const before = await snapshot();
    await expect(
      storeUploads(sys.rt.prisma, { storage: flaky, maxBytes: 1e7, maxFiles: 9, clock: sys.clock }, await uploader(), [{ bytes: await phoneJpeg(), originalName: 'a.jpg' }]),
    ).rejects.toThrow('disk full');
    expect(puts).toBe(2);
    expect(await snapshot()).toEqual(before);
  });

  it('the database write fails: the stored objects are deleted again', async () => {
    const before = await snapshot();
    const photo = await phoneJpeg();
    // no such enterprise: the row's foreign key fails after both objects were written
    await expect(
      storeUploads(sys.rt.prisma, { ...sys.rt.files, clock: sys.clock }, { enterpriseId: 987654, personId: 1 }, [
        { bytes: photo, originalName: 'a.jpg' },
        { bytes: photo, originalName: 'b.jpg' },
      ]),
    ).rejects.toThrow();
    expect(await snapshot()).toEqual(before);
  });
});

describe('S3-compatible storage end to end', () => {
  let fake: FakeS3;
  beforeAll(async () => {
    fake = await new FakeS3({ bucket: 'photos', region: 'cn-east-1', accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' }).start();
  });
  afterAll(() => fake.stop());

  it('stores the upright photo and its thumbnail in the bucket and reads them back', async () => {
    const storage = new S3Storage({ endpoint: fake.url, region: 'cn-east-1', bucket: 'photos', accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' });
    const [f] = await storeUploads(sys.rt.prisma, { storage, maxBytes: 1e7, maxFiles: 9, clock: sys.clock }, { enterpriseId: sys.enterpriseId!, personId: await sys.person('p07') }, [
      { bytes: await phoneJpeg(), originalName: 'a.jpg' },
    ]);
    expect([f.width, f.height, f.gps]).toEqual([200, 400, TEST_GPS]);
    const row = await sys.rt.prisma.storedFile.findUniqueOrThrow({ where: { id: f.id } });
    expect([...fake.objects.keys()].sort()).toEqual([row.storageKey, row.thumbKey].sort());
    expect(fake.objects.get(row.storageKey)?.contentType).toBe('image/jpeg');
    const back = await readStoredFile(sys.rt.prisma, { storage }, sys.enterpriseId!, f.id, 'original');
    expect(createHash('sha256').update(back.bytes).digest('hex')).toBe(row.sha256);
    expect(isRed(await pixel(back.bytes, 100, 50))).toBe(true);

    // a failed upload to the bucket leaves neither an object nor a row
    const before = await sys.rt.prisma.storedFile.count();
    fake.failPath = /\.thumb\.jpg$/; // the photo is stored, then its thumbnail's put fails (after the SDK's retries)
    const objects = fake.objects.size;
    await expect(
      storeUploads(sys.rt.prisma, { storage, maxBytes: 1e7, maxFiles: 9, clock: sys.clock }, { enterpriseId: sys.enterpriseId!, personId: 1 }, [{ bytes: await phoneJpeg(), originalName: 'b.jpg' }]),
    ).rejects.toMatchObject({ name: 'InternalError' });
    fake.failPath = null;
    expect(fake.requests.filter((r) => r.method === 'DELETE' && r.path.endsWith('.jpg') && !r.path.endsWith('.thumb.jpg'))).toHaveLength(1);
    expect(fake.objects.size).toBe(objects);
    expect(await sys.rt.prisma.storedFile.count()).toBe(before);
  });
});

/** supertest parser that keeps binary bodies as a Buffer */
function binary(res: request.Response, cb: (err: Error | null, body: Buffer) => void): void {
  const stream = res as unknown as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('end', () => cb(null, Buffer.concat(chunks)));
}
