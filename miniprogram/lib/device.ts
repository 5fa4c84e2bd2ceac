/**
 * The per-install device id recorded on every check record (CheckRecord.deviceId): a UUID made on
 * first run and kept in storage. Mini-programs cannot read an IMEI; this id tells records made on
 * the same phone (and install) apart from others, which is what an auditor asks.
 */
import { KEYS } from './storage';
import { uuid4, isUuid } from './uuid';
import { wxApi } from './wx-port';

export function deviceId(): string {
  const w = wxApi();
  const v = w.getStorageSync(KEYS.deviceId);
  if (isUuid(v)) return v;
  const id = uuid4();
  w.setStorageSync(KEYS.deviceId, id);
  return id;
}
