/**
 * Camera, QR and location on the phone (protocols.md §4.5):
 * - photos: wx.chooseMedia (camera first, album allowed; sizeType compressed), then
 *   wx.compressImage (quality 60) so a 4 MB phone photo travels as a few hundred KB on one bar of
 *   signal; a photo that cannot be compressed is sent as chosen
 * - photos kept for the offline queue: copied out of the temp folder (saveFile), dropped when sent
 * - where: wx.getLocation (WGS-84, what the server stores), best effort with a time limit
 */
import { MAX_PHOTOS } from '../shared/contract';
import type { PhotoKeeper } from './queue';
import { wxApi } from './wx-port';

/** JPEG quality for wx.compressImage (0..100) */
export const COMPRESS_QUALITY = 60;

/**
 * Takes or chooses up to `room` photos (room = MAX_PHOTOS − already chosen) and compresses them.
 * @returns local paths; [] when the user cancels
 */
export function choosePhotos(room: number): Promise<string[]> {
  const count = Math.max(0, Math.min(room, MAX_PHOTOS));
  if (count === 0) return Promise.resolve([]);
  return new Promise((resolve) => {
    wxApi().chooseMedia({
      count,
      mediaType: ['image'],
      sourceType: ['camera', 'album'],
      sizeType: ['compressed'],
      camera: 'back',
      success: (res) => {
        Promise.all((res.tempFiles ?? []).slice(0, count).map((f) => compress(f.tempFilePath))).then(resolve, () => resolve([]));
      },
      fail: () => resolve([]), // cancelled
    });
  });
}

/** wx.compressImage; the original path when compression fails. */
export function compress(src: string): Promise<string> {
  return new Promise((resolve) => {
    wxApi().compressImage({ src, quality: COMPRESS_QUALITY, success: (r) => resolve(r.tempFilePath || src), fail: () => resolve(src) });
  });
}

/** Keeps queued photos in the mini-program's own storage (temp files may vanish when the app closes). */
export const fileKeeper: PhotoKeeper = {
  keep(tempPath) {
    return new Promise((resolve) => {
      wxApi()
        .getFileSystemManager()
        .saveFile({ tempFilePath: tempPath, success: (r) => resolve(r.savedFilePath), fail: () => resolve(tempPath) });
    });
  },
  drop(path) {
    wxApi().getFileSystemManager().unlink({ filePath: path, fail: () => undefined });
  },
};

export interface Position {
  latitude: number;
  longitude: number;
  accuracy: number;
}

/** Scans a QR code with the camera. @returns the text, or null when the user cancels */
export function scanQr(): Promise<string | null> {
  return new Promise((resolve) => {
    wxApi().scanCode({ onlyFromCamera: true, scanType: ['qrCode'], success: (r) => resolve(r.result), fail: () => resolve(null) });
  });
}

/** WGS-84 position within `timeoutMs`, or null (denied, no fix, indoors). */
export function locate(timeoutMs = 5000): Promise<Position | null> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (p: Position | null) => {
      if (!done) {
        done = true;
        resolve(p);
      }
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    wxApi().getLocation({
      type: 'wgs84',
      isHighAccuracy: true,
      highAccuracyExpireTime: Math.min(timeoutMs, 4000),
      success: (r) => {
        clearTimeout(timer);
        finish({ latitude: r.latitude, longitude: r.longitude, accuracy: r.accuracy });
      },
      fail: () => {
        clearTimeout(timer);
        finish(null);
      },
    });
  });
}
