/**
 * Formatting for the pages: times in the plant's zone (China, UTC+8, no DST — the phone's own zone
 * may be anything, a visiting engineer's phone included), time left before a deadline, numbers.
 */

/** The plant's offset from UTC, minutes (Asia/Shanghai; China has no DST). */
const PLANT_OFFSET_MIN = 8 * 60;

function parts(iso: string): { y: number; mo: number; d: number; h: number; mi: number } | null {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return null;
  const x = new Date(t + PLANT_OFFSET_MIN * 60_000);
  return { y: x.getUTCFullYear(), mo: x.getUTCMonth() + 1, d: x.getUTCDate(), h: x.getUTCHours(), mi: x.getUTCMinutes() };
}
const p2 = (n: number) => String(n).padStart(2, '0');

/** 「11-30 12:05」 (plant time); '' for nothing */
export function formatTime(iso: string | null | undefined): string {
  const p = iso ? parts(iso) : null;
  return p ? `${p2(p.mo)}-${p2(p.d)} ${p2(p.h)}:${p2(p.mi)}` : '';
}

/** 「2026-11-30 12:05」 */
export function formatDateTime(iso: string | null | undefined): string {
  const p = iso ? parts(iso) : null;
  return p ? `${p.y}-${p2(p.mo)}-${p2(p.d)} ${p2(p.h)}:${p2(p.mi)}` : '';
}

/** The plant's local date 'YYYY-MM-DD' of an instant. */
export function plantDate(t: Date): string {
  const p = parts(t.toISOString())!;
  return `${p.y}-${p2(p.mo)}-${p2(p.d)}`;
}

/** Adds days to a 'YYYY-MM-DD' date. */
export function addDays(date: string, days: number): string {
  const t = Date.parse(`${date}T00:00:00Z`) + days * 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}

/** 「还剩 2 小时 5 分」/「还剩 3 天」/「已超时 40 分」 before a deadline (ISO instant). */
export function timeLeft(deadlineIso: string, now: number = Date.now()): { text: string; late: boolean; soon: boolean } {
  const ms = Date.parse(deadlineIso) - now;
  const late = ms < 0;
  const a = Math.abs(ms);
  const min = Math.floor(a / 60_000);
  let span: string;
  if (min < 60) span = `${Math.max(min, late ? 1 : 0)} 分`;
  else if (min < 24 * 60) span = `${Math.floor(min / 60)} 小时${min % 60 ? ` ${min % 60} 分` : ''}`;
  else span = `${Math.floor(min / 1440)} 天`;
  return { text: late ? `已超时 ${span}` : `还剩 ${span}`, late, soon: !late && ms < 2 * 3_600_000 };
}

/** 0.2 → "0.2", 85 → "85" (no float noise) */
export function formatNumber(n: number): string {
  return String(Number(n.toPrecision(12)));
}

/**
 * A typed reading → number: accepts full-width digits and a comma decimal (「０．９５」「0,95」);
 * null when it is not a number.
 */
export function parseReading(text: string): number | null {
  const t = String(text ?? '')
    .trim()
    .replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/[．。,，]/g, '.')
    .replace(/[－—]/g, '-');
  if (!/^-?(\d+\.?\d*|\.\d+)$/.test(t)) return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}
