/**
 * Where uploaded bytes live: one small interface, two implementations chosen by configuration
 * (`STORAGE=local|s3`, README "Photos and files"):
 * - LocalDiskStorage: files under `UPLOAD_DIR` (default ./uploads), for a single plant on one host;
 * - S3Storage: any S3-compatible object store (AWS S3, MinIO, Aliyun OSS, Tencent COS, Ceph RGW…),
 *   path-style addressing, for several API instances behind a load balancer (design.md "Scale path").
 *
 * Keys are ours, not the uploader's (e.g. `e12/2026/11/3f…c1.jpg`): `assertSafeKey` refuses anything
 * that could leave the upload root (`..`, absolute paths, backslashes, control characters), so even
 * a bug elsewhere cannot make the local store read or write outside UPLOAD_DIR.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type * as S3 from '@aws-sdk/client-s3';

export interface Storage {
  /** 'local' or 's3' (for logs and /readyz-style diagnostics) */
  readonly kind: 'local' | 's3';
  /** Stores `bytes` under `key`, replacing what was there. @throws StorageKeyError, or the backend's error */
  put(key: string, bytes: Buffer, contentType: string): Promise<void>;
  /** The bytes under `key`, or null when there are none. @throws StorageKeyError, or the backend's error */
  get(key: string): Promise<Buffer | null>;
  /** Removes `key`; removing a missing key is not an error (so cleanup can be retried). */
  delete(key: string): Promise<void>;
}

/** A key that could escape the store's root or is not one we generate. */
export class StorageKeyError extends Error {
  constructor(key: string) {
    super(`invalid storage key ${JSON.stringify(key.slice(0, 80))}`);
  }
}

/** Segments of letters, digits, `.`, `_`, `-` separated by `/`; no segment `.`/`..`; ≤ 255 chars (StoredFile.storageKey). */
const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/** @throws StorageKeyError unless `key` is a plain relative key (see SEGMENT). */
export function assertSafeKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > 255) throw new StorageKeyError(String(key));
  for (const seg of key.split('/')) {
    if (!SEGMENT.test(seg) || seg === '.' || seg === '..' || seg.includes('..')) throw new StorageKeyError(key);
  }
}

/** Files under one root directory, created on first write. Writes go to a temp file, then rename (no torn files). */
export class LocalDiskStorage implements Storage {
  readonly kind = 'local' as const;
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  /** Absolute path of `key`, proven to lie inside the root. @throws StorageKeyError */
  pathOf(key: string): string {
    assertSafeKey(key);
    const p = path.resolve(this.root, key);
    // belt and braces: assertSafeKey already forbids '..'
    if (!p.startsWith(this.root + path.sep)) throw new StorageKeyError(key);
    return p;
  }

  async put(key: string, bytes: Buffer, _contentType: string): Promise<void> {
    const p = this.pathOf(key);
    await mkdir(path.dirname(p), { recursive: true });
    const tmp = `${p}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, bytes, { flag: 'wx' });
      await rename(tmp, p);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async get(key: string): Promise<Buffer | null> {
    try {
      return await readFile(this.pathOf(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await unlink(this.pathOf(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}

export interface S3StorageOptions {
  /** e.g. http://127.0.0.1:9000 (MinIO) or https://oss-cn-hangzhou.aliyuncs.com; unset → AWS for the region */
  endpoint?: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** per request, ms (default 30 000) */
  timeoutMs?: number;
}

/**
 * An S3-compatible bucket through @aws-sdk/client-s3 (SigV4-signed requests, path-style URLs
 * `endpoint/bucket/key` because most self-hosted stores have no wildcard DNS for bucket hosts).
 *
 * Checksums only when required: SDK ≥ 3.729 adds CRC32 checksum headers to every upload by
 * default, which several S3-compatible stores (older MinIO, OSS, COS, Ceph) reject or mishandle.
 */
export class S3Storage implements Storage {
  readonly kind = 's3' as const;
  readonly client: S3.S3Client;
  private readonly bucket: string;
  private readonly sdk: typeof S3;

  constructor(opts: S3StorageOptions) {
    // loaded only when S3 is configured: the SDK costs ~200 ms and much memory at load
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    this.sdk = require('@aws-sdk/client-s3') as typeof S3;
    this.bucket = opts.bucket;
    this.client = new this.sdk.S3Client({
      endpoint: opts.endpoint,
      region: opts.region,
      forcePathStyle: true,
      credentials: { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
      requestHandler: { requestTimeout: opts.timeoutMs ?? 30_000, connectionTimeout: 5_000 },
    });
  }

  async put(key: string, bytes: Buffer, contentType: string): Promise<void> {
    assertSafeKey(key);
    await this.client.send(new this.sdk.PutObjectCommand({ Bucket: this.bucket, Key: key, Body: bytes, ContentType: contentType, ContentLength: bytes.length }));
  }

  async get(key: string): Promise<Buffer | null> {
    assertSafeKey(key);
    try {
      const out = await this.client.send(new this.sdk.GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!out.Body) return null;
      return Buffer.from(await out.Body.transformToByteArray());
    } catch (err) {
      if (err instanceof this.sdk.S3ServiceException && (err.name === 'NoSuchKey' || err.$metadata?.httpStatusCode === 404)) return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    assertSafeKey(key);
    // S3 answers 204 for a missing key too
    await this.client.send(new this.sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }
}

/** The storage the configuration names (server/config.ts: STORAGE, UPLOAD_DIR, S3_*). */
export function createStorage(cfg: {
  storage: 'local' | 's3';
  uploadDir: string;
  s3?: S3StorageOptions;
}): Storage {
  if (cfg.storage === 's3') {
    if (!cfg.s3) throw new Error('STORAGE=s3 needs S3_BUCKET, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY');
    return new S3Storage(cfg.s3);
  }
  return new LocalDiskStorage(cfg.uploadDir);
}
