/**
 * The part of the `wx` API the logic modules (lib/) use, as a narrow interface. lib/ refers to
 * `wx` only through this file, so the same modules run:
 * - on the phone, where `wx` is the real API (app.ts checks at compile time that the official
 *   typings satisfy WxPort, so a signature drift breaks `tsc -p miniprogram/tsconfig.json`);
 * - in Node tests, where `globalThis.wx` is a mock (test/miniprogram: jest mocks, or real HTTP).
 * Pages call the rest of `wx` (showToast, chooseMedia, scanCode…) directly, with the official types.
 */

export interface WxFail {
  errMsg: string;
  errno?: number;
}

export interface WxRequestOptions {
  url: string;
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  data?: string | Record<string, unknown> | ArrayBuffer;
  header?: Record<string, string>;
  /** ms */
  timeout?: number;
  dataType?: string;
  success?(res: { statusCode: number; data: unknown; header: Record<string, string> }): void;
  fail?(err: WxFail): void;
}

export interface WxUploadOptions {
  url: string;
  filePath: string;
  name: string;
  header?: Record<string, string>;
  formData?: Record<string, unknown>;
  /** ms */
  timeout?: number;
  /** res.data is a string: the server's JSON, not parsed */
  success?(res: { statusCode: number; data: string }): void;
  fail?(err: WxFail): void;
}

export interface WxDownloadOptions {
  url: string;
  header?: Record<string, string>;
  timeout?: number;
  success?(res: { statusCode: number; tempFilePath: string }): void;
  fail?(err: WxFail): void;
}

export interface WxPort {
  request(o: WxRequestOptions): unknown;
  uploadFile(o: WxUploadOptions): unknown;
  downloadFile(o: WxDownloadOptions): unknown;
  login(o: { timeout?: number; success?(res: { code: string }): void; fail?(err: WxFail): void }): unknown;
  getStorageSync(key: string): any;
  setStorageSync(key: string, data: any): void;
  removeStorageSync(key: string): void;
  requestSubscribeMessage(o: { tmplIds: string[]; success?(res: Record<string, string>): void; fail?(err: WxFail): void }): unknown;
  chooseMedia(o: {
    count?: number;
    mediaType?: Array<'image' | 'video' | 'mix'>;
    sourceType?: Array<'album' | 'camera'>;
    sizeType?: Array<'original' | 'compressed'>;
    camera?: 'back' | 'front';
    success?(res: { tempFiles: Array<{ tempFilePath: string; size: number }> }): void;
    fail?(err: WxFail): void;
  }): unknown;
  compressImage(o: { src: string; quality?: number; success?(res: { tempFilePath: string }): void; fail?(err: WxFail): void }): unknown;
  getFileSystemManager(): {
    saveFile(o: { tempFilePath: string; success?(res: { savedFilePath: string }): void; fail?(err: WxFail): void }): void;
    unlink(o: { filePath: string; success?(res: unknown): void; fail?(err: WxFail): void }): void;
  };
  scanCode(o: { onlyFromCamera?: boolean; scanType?: Array<'barCode' | 'qrCode' | 'datamatrix' | 'pdf417'>; success?(res: { result: string }): void; fail?(err: WxFail): void }): unknown;
  getLocation(o: { type?: string; isHighAccuracy?: boolean; highAccuracyExpireTime?: number; success?(res: { latitude: number; longitude: number; accuracy: number }): void; fail?(err: WxFail): void }): unknown;
}

declare const wx: WxPort;

/** The current `wx` (read at call time: tests may replace it between calls). */
export function wxApi(): WxPort {
  return wx;
}
