/**
 * A phone for Node tests: the `wx` object the mini-program's lib/ modules call, backed by REAL
 * HTTP to a listening dualprev server — wx.request as JSON over fetch, wx.uploadFile as
 * multipart/form-data (one file per call, like WeChat), wx.downloadFile to a temp file — plus
 * wx.login codes from the fake WeChat server, its own storage, and a consent prompt that accepts.
 *
 * Network faults, to play one bar of signal: `phone.net.fail(n, 'before' | 'after', match?)` makes
 * the next n matching calls fail with `request:fail timeout` — 'before': nothing reaches the server;
 * 'after': the server gets and handles the request, the answer is lost on the way back.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { memoryStorage } from './mp-build';

type Cb<T> = ((r: T) => void) | undefined;
interface Fault {
  when: 'before' | 'after';
  match: (method: string, url: string) => boolean;
}

export interface PhoneCall {
  kind: 'request' | 'upload' | 'download';
  method: string;
  path: string;
  status: number | null;
  /** the fault applied, if any */
  fault: 'before' | 'after' | null;
}

export interface Phone {
  wx: Record<string, unknown>;
  /** a folder of this phone's own (its photos, downloads) */
  dir: string;
  storage: ReturnType<typeof memoryStorage>;
  calls: PhoneCall[];
  net: {
    fail(n: number, when: 'before' | 'after', match?: (method: string, path: string) => boolean): void;
    pending(): number;
  };
  /** what the consent prompt answers per template id (default accept) */
  consent: 'accept' | 'reject';
  close(): void;
}

/**
 * @param loginCode returns a fresh wx.login code for this phone's WeChat user (fake WeChat issueCode)
 */
export function httpPhone(loginCode: () => string): Phone {
  const storage = memoryStorage();
  const calls: PhoneCall[] = [];
  const faults: Fault[] = [];
  const dir = mkdtempSync(path.join(tmpdir(), 'dualprev-phone-'));
  let dl = 0;

  const takeFault = (method: string, url: string): Fault | null => {
    const i = faults.findIndex((f) => f.match(method, new URL(url).pathname));
    return i >= 0 ? faults.splice(i, 1)[0] : null;
  };
  const pathOf = (url: string) => new URL(url).pathname.replace(/^\/api\/v1/, '');

  async function send(kind: PhoneCall['kind'], method: string, url: string, init: RequestInit, fail: Cb<{ errMsg: string }>, ok: (res: Response) => Promise<void>) {
    const f = takeFault(method, url);
    const call: PhoneCall = { kind, method, path: pathOf(url), status: null, fault: f?.when ?? null };
    calls.push(call);
    if (f?.when === 'before') return fail?.({ errMsg: `${kind}:fail timeout` });
    let res: Response;
    try {
      res = await fetch(url, init);
    } catch (e) {
      return fail?.({ errMsg: `${kind}:fail ${(e as Error).message}` });
    }
    call.status = res.status;
    if (f?.when === 'after') {
      await res.arrayBuffer(); // the server finished; the phone never hears of it
      return fail?.({ errMsg: `${kind}:fail timeout` });
    }
    await ok(res);
  }

  const wx: Record<string, unknown> = {
    ...storage,
    request(o: { url: string; method?: string; data?: unknown; header?: Record<string, string>; success?: Cb<object>; fail?: Cb<{ errMsg: string }> }) {
      const method = o.method ?? 'GET';
      const body = o.data !== undefined && method !== 'GET' ? JSON.stringify(o.data) : undefined;
      // like WeChat: content-type application/json unless the caller set one
      const headers = new Headers(o.header ?? {});
      if (body && !headers.has('content-type')) headers.set('content-type', 'application/json');
      void send('request', method, o.url, { method, headers, body }, o.fail, async (res) => {
        const text = await res.text();
        let data: unknown = text;
        try {
          data = JSON.parse(text); // wx.request parses JSON answers (dataType json)
        } catch {
          /* keep the text */
        }
        o.success?.({ statusCode: res.status, data, header: Object.fromEntries(res.headers) });
      });
    },
    uploadFile(o: { url: string; filePath: string; name: string; header?: Record<string, string>; formData?: Record<string, string>; success?: Cb<object>; fail?: Cb<{ errMsg: string }> }) {
      const form = new FormData();
      for (const [k, v] of Object.entries(o.formData ?? {})) form.append(k, String(v));
      form.append(o.name, new Blob([readFileSync(o.filePath)], { type: 'image/jpeg' }), path.basename(o.filePath));
      void send('upload', 'POST', o.url, { method: 'POST', headers: o.header ?? {}, body: form }, o.fail, async (res) => {
        o.success?.({ statusCode: res.status, data: await res.text() }); // a string, like WeChat
      });
    },
    downloadFile(o: { url: string; header?: Record<string, string>; success?: Cb<object>; fail?: Cb<{ errMsg: string }> }) {
      void send('download', 'GET', o.url, { headers: o.header ?? {} }, o.fail, async (res) => {
        const p = path.join(dir, `dl-${++dl}`);
        writeFileSync(p, Buffer.from(await res.arrayBuffer()));
        o.success?.({ statusCode: res.status, tempFilePath: p });
      });
    },
    login(o: { success?: Cb<{ code: string }>; fail?: Cb<{ errMsg: string }> }) {
      setImmediate(() => o.success?.({ code: loginCode() }));
    },
    requestSubscribeMessage(o: { tmplIds: string[]; success?: Cb<Record<string, string>> }) {
      setImmediate(() => o.success?.({ errMsg: 'requestSubscribeMessage:ok', ...Object.fromEntries(o.tmplIds.map((t) => [t, phone.consent])) }));
    },
  };

  const phone: Phone = {
    wx,
    dir,
    storage,
    calls,
    consent: 'accept',
    net: {
      fail(n, when, match = () => true) {
        for (let i = 0; i < n; i++) faults.push({ when, match: (m, p) => match(m, p.replace(/^\/api\/v1/, '')) });
      },
      pending: () => faults.length,
    },
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
  return phone;
}

/** Makes `phone` the phone the compiled lib/ modules talk through (they read the global `wx` at call time). */
export function use(phone: Phone): void {
  (globalThis as unknown as { wx: unknown }).wx = phone.wx;
}
