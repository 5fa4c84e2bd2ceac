/**
 * A tiny S3-compatible object store for tests: PUT / GET / DELETE object in path-style URLs
 * (`/bucket/key`), in memory, on 127.0.0.1. Every request must carry an AWS Signature V4
 * `Authorization: AWS4-HMAC-SHA256 …` header, and the fake verifies the signature with the
 * configured keys (canonical request → string to sign → HMAC chain, AWS "Signature Version 4
 * signing process"), and the payload hash against the body — so a wrong region, key, secret or
 * a body changed in transit is refused the way S3 refuses it (403 SignatureDoesNotMatch).
 *
 * Errors are S3's XML `<Error><Code>…</Code></Error>` bodies so the SDK maps them (NoSuchKey…).
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeS3Options {
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface FakeS3Object {
  body: Buffer;
  contentType: string | undefined;
}

export interface FakeS3Request {
  method: string;
  path: string;
  authorized: boolean;
  status: number;
}

export class FakeS3 {
  readonly objects = new Map<string, FakeS3Object>();
  readonly requests: FakeS3Request[] = [];
  private server: http.Server | null = null;
  /** status codes to answer the next requests of a method with (e.g. { PUT: [500] }) */
  private failures: Record<string, number[]> = {};
  /** requests whose path matches fail with 500 InternalError until this is set back to null */
  failPath: RegExp | null = null;

  constructor(readonly opts: FakeS3Options) {}

  get url(): string {
    const a = this.server?.address() as AddressInfo | null;
    if (!a) throw new Error('fake S3 not started');
    return `http://127.0.0.1:${a.port}`;
  }

  /** Makes the next `count` requests with `method` fail with `status` (an S3 InternalError). */
  failNext(method: 'PUT' | 'GET' | 'DELETE', status = 500, count = 1): void {
    (this.failures[method] ??= []).push(...Array<number>(count).fill(status));
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.handle(req, Buffer.concat(chunks), res));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): void {
    const method = req.method ?? 'GET';
    const [rawPath] = (req.url ?? '/').split('?');
    const record = (status: number, authorized: boolean) => this.requests.push({ method, path: rawPath, authorized, status });
    const fail = (status: number, code: string, message: string, authorized = false) => {
      record(status, authorized);
      const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${randomBytes(8).toString('hex')}</RequestId></Error>`;
      res.writeHead(status, { 'content-type': 'application/xml', 'x-amz-request-id': 'fake' });
      res.end(method === 'HEAD' ? undefined : xml);
    };

    const auth = req.headers.authorization;
    if (!auth || !auth.startsWith('AWS4-HMAC-SHA256 ')) return fail(403, 'AccessDenied', 'Authorization header with AWS4-HMAC-SHA256 required');
    const problem = this.verify(req, body, auth);
    if (problem) return fail(403, 'SignatureDoesNotMatch', problem);

    const forced = this.failures[method]?.shift() ?? (this.failPath?.test(rawPath) ? 500 : undefined);
    if (forced) return fail(forced, 'InternalError', 'injected failure', true);

    // path-style: /bucket/key…
    const segs = rawPath.split('/');
    const bucket = decodeURIComponent(segs[1] ?? '');
    const key = segs.slice(2).map(decodeURIComponent).join('/');
    if (bucket !== this.opts.bucket) return fail(404, 'NoSuchBucket', 'The specified bucket does not exist', true);
    if (!key) return fail(400, 'InvalidRequest', 'object key required (bucket operations are not faked)', true);

    if (method === 'PUT') {
      this.objects.set(key, { body, contentType: req.headers['content-type'] });
      record(200, true);
      res.writeHead(200, { etag: `"${createHash('md5').update(body).digest('hex')}"` });
      return void res.end();
    }
    if (method === 'GET') {
      const o = this.objects.get(key);
      if (!o) return fail(404, 'NoSuchKey', 'The specified key does not exist.', true);
      record(200, true);
      res.writeHead(200, { 'content-type': o.contentType ?? 'application/octet-stream', 'content-length': o.body.length, etag: `"${createHash('md5').update(o.body).digest('hex')}"` });
      return void res.end(o.body);
    }
    if (method === 'DELETE') {
      this.objects.delete(key);
      record(204, true);
      res.writeHead(204);
      return void res.end();
    }
    return fail(405, 'MethodNotAllowed', 'not faked', true);
  }

  /** SigV4 check; returns what is wrong, or null when the signature is valid. */
  private verify(req: http.IncomingMessage, body: Buffer, auth: string): string | null {
    const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/.exec(auth);
    if (!m) return 'malformed Authorization header';
    const [, keyId, date, region, service, signedHeaders, signature] = m;
    if (keyId !== this.opts.accessKeyId) return 'unknown access key';
    if (region !== this.opts.region) return `wrong region ${region}`;
    if (service !== 's3') return `wrong service ${service}`;
    const amzDate = String(req.headers['x-amz-date'] ?? '');
    if (!amzDate.startsWith(date)) return 'x-amz-date does not match the credential date';
    const payloadHash = String(req.headers['x-amz-content-sha256'] ?? '');
    if (!payloadHash) return 'x-amz-content-sha256 missing';
    if (payloadHash !== 'UNSIGNED-PAYLOAD' && payloadHash !== createHash('sha256').update(body).digest('hex')) return 'payload hash does not match the body';
    const names = signedHeaders.split(';');
    if (!names.includes('host') || !names.includes('x-amz-date')) return 'host and x-amz-date must be signed';

    const [rawPath, rawQuery = ''] = (req.url ?? '/').split('?');
    const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    const query = rawQuery
      .split('&')
      .filter(Boolean)
      .map((kv) => {
        const [k, v = ''] = kv.split('=');
        return [enc(decodeURIComponent(k)), enc(decodeURIComponent(v))] as const;
      })
      .sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1))
      .map(([k, v]) => `${k}=${v}`)
      .join('&');
    const headers = names.map((n) => {
      const v = req.headers[n];
      const value = (Array.isArray(v) ? v.join(',') : (v ?? '')).trim().replace(/\s+/g, ' ');
      return `${n}:${value}\n`;
    });
    const canonical = [req.method, rawPath, query, headers.join(''), signedHeaders, payloadHash].join('\n');
    const scope = `${date}/${region}/${service}/aws4_request`;
    const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
    const hmac = (k: Buffer | string, s: string) => createHmac('sha256', k).update(s).digest();
    const kSigning = hmac(hmac(hmac(hmac(`AWS4${this.opts.secretAccessKey}`, date), region), service), 'aws4_request');
    const expected = createHmac('sha256', kSigning).update(toSign).digest('hex');
    return expected === signature ? null : 'signature does not match';
  }
}
