/**
 * The mini-program's API client over wx.request / wx.uploadFile / wx.downloadFile, with the
 * session token. Every failure becomes an ApiError with a kind the pages and the offline queue act on:
 * - `network`: no answer (no signal, timeout, DNS) — retry later; the report queue keeps the item
 * - `server`: 5xx — also retried later (the server may be restarting)
 * - `auth`: 401 — the session ended; log in again (the session is cleared)
 * - `rejected`: any other 4xx — the request itself is wrong; retrying the same bytes won't help
 * The message is the server's Chinese message (`{ code, message, message_en }`) or ours.
 */
import type { ApiErrorBody, UploadedFile } from '../shared/contract';
import { getSettings } from './config';
import { clearSession, loadSession } from './session';
import { wxApi, type WxFail } from './wx-port';

export type ApiErrorKind = 'network' | 'server' | 'auth' | 'rejected';

export class ApiError extends Error {
  constructor(
    readonly kind: ApiErrorKind,
    /** HTTP status; 0 when nothing came back */
    readonly status: number,
    /** the server's machine-readable code (e.g. login_code_invalid), or ours: network, bad_response */
    readonly code: string,
    /** Chinese, for the page */
    readonly messageZh: string,
    readonly details?: unknown,
  ) {
    super(`${code}: ${messageZh}`);
    this.name = 'ApiError';
  }

  /** worth trying again later with the same request (no signal, or the server failed) */
  get retryable(): boolean {
    return this.kind === 'network' || this.kind === 'server';
  }
}

export interface RequestOptions {
  /** send the session token (default true); false for /mp/login and /mp/bind */
  auth?: boolean;
  query?: Record<string, string | number | boolean | undefined | null>;
}

/** Called when a request answers 401 (the session was cleared): pages send the user to login. */
let onUnauthorized: (() => void) | null = null;
export function setUnauthorizedHandler(f: (() => void) | null): void {
  onUnauthorized = f;
}

function url(path: string, query?: RequestOptions['query']): string {
  const q = query
    ? Object.entries(query)
        .filter(([, v]) => v !== undefined && v !== null && v !== '')
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
        .join('&')
    : '';
  return `${getSettings().apiBase}${path}${q ? `?${q}` : ''}`;
}

function headers(auth: boolean): Record<string, string> {
  const h: Record<string, string> = { Accept: 'application/json' };
  if (auth) {
    const s = loadSession();
    if (!s) throw new ApiError('auth', 401, 'not_logged_in', '请先登录');
    h.Authorization = `Bearer ${s.token}`;
  }
  return h;
}

function networkError(e: WxFail): ApiError {
  const timeout = /timeout|超时/i.test(e.errMsg);
  return new ApiError('network', 0, timeout ? 'timeout' : 'network', timeout ? '网络超时，请稍后重试' : '网络不可用，请检查信号', e.errMsg);
}

/** Turns an HTTP answer into the body or an ApiError. */
function settle<T>(status: number, body: unknown): T {
  if (status >= 200 && status < 300) return body as T;
  const b = (body && typeof body === 'object' ? body : {}) as Partial<ApiErrorBody>;
  const code = typeof b.code === 'string' ? b.code : `http_${status}`;
  const zh = typeof b.message === 'string' && b.message ? b.message : status >= 500 ? '服务器暂时不可用，请稍后重试' : `请求失败（${status}）`;
  if (status === 401) {
    clearSession();
    onUnauthorized?.();
    return throwError(new ApiError('auth', status, code, '登录已过期，请重新登录', b.details));
  }
  return throwError(new ApiError(status >= 500 ? 'server' : 'rejected', status, code, zh, b.details));
}
function throwError(e: ApiError): never {
  throw e;
}

/** One JSON request. @throws ApiError */
export function request<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let header: Record<string, string>;
    try {
      header = headers(opts.auth !== false);
    } catch (e) {
      reject(e);
      return;
    }
    if (body !== undefined) header['Content-Type'] = 'application/json';
    wxApi().request({
      url: url(path, opts.query),
      method,
      data: body === undefined ? undefined : (body as Record<string, unknown>),
      header,
      timeout: getSettings().timeoutMs,
      success: (res) => {
        let data = res.data;
        if (typeof data === 'string' && data) {
          try {
            data = JSON.parse(data);
          } catch {
            // a proxy's HTML error page: keep the status
          }
        }
        try {
          resolve(settle<T>(res.statusCode, data));
        } catch (e) {
          reject(e);
        }
      },
      fail: (e) => reject(networkError(e)),
    });
  });
}

export const get = <T>(path: string, query?: RequestOptions['query']) => request<T>('GET', path, undefined, { query });
export const post = <T>(path: string, body: unknown = {}, opts: RequestOptions = {}) => request<T>('POST', path, body, opts);

/**
 * Uploads one local photo (a path from wx.chooseMedia / wx.compressImage) to POST /files as
 * multipart field `files`. One file per call: wx.uploadFile sends one file at a time.
 * @returns the stored file (its id goes into `photos` / `afterPhotos`)
 * @throws ApiError (413 file_too_large, 415 unsupported_type … as `rejected`)
 */
export async function uploadPhoto(filePath: string): Promise<UploadedFile> {
  // async: a missing session (headers throws) rejects like any other failure
  const header = headers(true);
  return new Promise<UploadedFile>((resolve, reject) => {
    wxApi().uploadFile({
      url: url('/files'),
      filePath,
      name: 'files',
      header,
      timeout: getSettings().uploadTimeoutMs,
      success: (res) => {
        let body: unknown = null;
        try {
          body = typeof res.data === 'string' ? JSON.parse(res.data) : res.data;
        } catch {
          body = null;
        }
        try {
          const ok = settle<{ items: UploadedFile[] }>(res.statusCode, body);
          const item = ok?.items?.[0];
          if (!item) throw new ApiError('server', res.statusCode, 'bad_response', '上传结果无法识别，请重试');
          resolve(item);
        } catch (e) {
          reject(e);
        }
      },
      fail: (e) => reject(networkError(e)),
    });
  });
}

/**
 * Downloads a stored photo with the token (an <image src> cannot send a header) and returns the
 * local temp path to show. The URL is built from the file id and the configured API base (not the
 * absolute URL in the answer, which carries the server's PUBLIC_URL — the phone may reach the
 * server under another name, and only the allow-listed domain works in WeChat).
 * @param thumb the 320 px thumbnail (when the file has one) instead of the original
 * @throws ApiError
 */
export async function downloadPhoto(photo: { id: number; thumbUrl?: string | null }, thumb = true): Promise<string> {
  const fileUrl = url(`/files/${photo.id}${thumb && photo.thumbUrl ? '/thumb' : ''}`);
  const header = headers(true);
  return new Promise<string>((resolve, reject) => {
    wxApi().downloadFile({
      url: fileUrl,
      header,
      timeout: getSettings().uploadTimeoutMs,
      success: (res) => (res.statusCode === 200 ? resolve(res.tempFilePath) : reject(new ApiError(res.statusCode >= 500 ? 'server' : 'rejected', res.statusCode, `http_${res.statusCode}`, '照片加载失败'))),
      fail: (e) => reject(networkError(e)),
    });
  });
}

/** The Chinese message to show for any error thrown by this module (or anything else). */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.messageZh;
  return '操作失败，请重试';
}
