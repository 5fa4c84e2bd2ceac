/**
 * Keys of what the mini-program keeps on the phone (wx.setStorageSync; 10 MB per user in total),
 * and typed read/write helpers. Nothing here is a secret but the session token.
 */
import { wxApi } from './wx-port';

export const KEYS = {
  /** { token, expiresAt, person } */
  session: 'dp.session',
  /** per-install device id (UUID), made on first run */
  deviceId: 'dp.deviceId',
  /** the hazard reports waiting to be sent (lib/queue.ts) */
  queue: 'dp.queue',
  /** GET /mp/config, cached for consent prompts offline */
  mpConfig: 'dp.mpConfig',
  /** risk units recently picked or scanned, newest first, for the short list */
  recentUnits: 'dp.recentUnits',
  /** GET /lists/risk-units, cached for the short list offline */
  units: 'dp.units',
} as const;

export function readJson<T>(key: string): T | null {
  const v = wxApi().getStorageSync(key);
  if (v === '' || v === undefined || v === null) return null;
  if (typeof v === 'string') {
    try {
      return JSON.parse(v) as T;
    } catch {
      return null;
    }
  }
  return v as T;
}

export function writeJson(key: string, value: unknown): void {
  // stored as a JSON string: the same bytes on every base library and in the Node tests
  wxApi().setStorageSync(key, JSON.stringify(value));
}

export function remove(key: string): void {
  wxApi().removeStorageSync(key);
}
