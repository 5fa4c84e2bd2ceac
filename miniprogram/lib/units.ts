/**
 * Picking the place of a report: scan the unit's QR label (GET /risk-units/by-qr) or tap it in a
 * short list (the units used lately first, then the plant's units). Both work without signal: the
 * plant's units are cached on the phone, and a scanned label is matched by its unit code.
 */
import { parseUnitQr, type Page, type RiskUnitByQr } from '../shared/contract';
import { ApiError, get } from './api';
import { KEYS, readJson, writeJson } from './storage';

export interface UnitRef {
  id: number;
  code: string;
  name: string;
}

const RECENT_MAX = 5;

/** The plant's risk units (cached for offline); the cached list when there is no signal. */
export async function loadUnits(): Promise<UnitRef[]> {
  try {
    const page = await get<Page<UnitRef>>('/lists/risk-units', { limit: 200 });
    const units = page.items.map((u) => ({ id: u.id, code: u.code, name: u.name }));
    writeJson(KEYS.units, units);
    return units;
  } catch (e) {
    if (e instanceof ApiError && e.kind === 'auth') throw e;
    return cachedUnits();
  }
}

export function cachedUnits(): UnitRef[] {
  return readJson<UnitRef[]>(KEYS.units) ?? [];
}

export function recentUnits(): UnitRef[] {
  return readJson<UnitRef[]>(KEYS.recentUnits) ?? [];
}

/** Puts a unit at the top of the recent list. */
export function rememberUnit(u: UnitRef): void {
  writeJson(KEYS.recentUnits, [u, ...recentUnits().filter((x) => x.id !== u.id)].slice(0, RECENT_MAX));
}

/** Recent units first, then the others, without repeats. */
export function shortList(all: UnitRef[] = cachedUnits()): Array<UnitRef & { recent: boolean }> {
  const recent = recentUnits();
  const ids = new Set(recent.map((u) => u.id));
  return [...recent.map((u) => ({ ...u, recent: true })), ...all.filter((u) => !ids.has(u.id)).map((u) => ({ ...u, recent: false }))];
}

/**
 * The unit of a scanned label: asks the server; without signal, matches the unit code in the
 * cached list. @throws ApiError qr_unknown (not a label of this plant), network (no signal and not cached)
 */
export async function resolveScanned(text: string): Promise<UnitRef> {
  const parsed = parseUnitQr(text);
  try {
    const u = await get<RiskUnitByQr>('/risk-units/by-qr', { code: text });
    const ref = { id: u.id, code: u.code, name: u.name };
    rememberUnit(ref);
    return ref;
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    if (e.retryable && parsed) {
      const hit = cachedUnits().find((u) => u.code === parsed.unitCode);
      if (hit) {
        rememberUnit(hit);
        return hit;
      }
    }
    if (e.status === 404 || e.code === 'qr_unknown') throw new ApiError('rejected', 404, 'qr_unknown', parsed ? '二维码对应的风险单元不存在或已停用' : '这不是本系统的风险单元二维码');
    throw e;
  }
}
