/**
 * Rules about uploaded photos and files (pure: no I/O).
 *
 * Which image types we accept, how we recognise them from their first bytes (never from the file
 * name or the client's Content-Type: a text file renamed .jpg must be refused), and how many photos
 * one record may carry.
 */
import { MAX_PHOTOS } from '../../miniprogram/shared/contract';

/**
 * At most this many photos on one hazard report, one rectification, one transition or one check
 * record. Nine is what a phone's picker (WeChat mini-program `chooseMedia` count ≤ 9) and a chat
 * message grid show at once; more is never evidence, only noise for the acceptor. Shared with the
 * mini-program (miniprogram/shared/contract.ts MAX_PHOTOS), which limits its picker to it.
 */
export const MAX_PHOTOS_PER_HAZARD = MAX_PHOTOS;

/** The image types accepted for upload, as detected from the bytes. */
export type ImageMime = 'image/jpeg' | 'image/png' | 'image/webp' | 'image/heic' | 'image/heif';

export const ACCEPTED_MIMES: readonly ImageMime[] = ['image/jpeg', 'image/png', 'image/webp', 'image/heic', 'image/heif'];

/** File extension for a stored object of this type (for people downloading it). */
export function extensionFor(mime: ImageMime): string {
  return { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/webp': 'webp', 'image/heic': 'heic', 'image/heif': 'heif' }[mime];
}

/** HEIF `ftyp` major/compatible brands that mean HEVC-coded HEIC (iPhone photos) vs other HEIF. */
const HEIC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs']);
const HEIF_BRANDS = new Set(['mif1', 'msf1']);

/**
 * The image type of `bytes`, from their signature (magic numbers), or null when it is none of the
 * accepted ones.
 * - JPEG: FF D8 FF
 * - PNG: 89 50 4E 47 0D 0A 1A 0A
 * - WebP: "RIFF" <size> "WEBP"
 * - HEIC/HEIF (ISO/IEC 23008-12): an ISO-BMFF `ftyp` box first, whose major or compatible brands
 *   name heic/heix/… (HEVC) → image/heic, or only mif1/msf1 → image/heif. AVIF (brand avif) is a
 *   different codec and is not accepted.
 */
export function detectImageType(bytes: Uint8Array): ImageMime | null {
  const b = bytes;
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.length >= 8 && [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((v, i) => b[i] === v)) return 'image/png';
  if (b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return 'image/webp';
  if (b.length >= 16 && ascii(b, 4, 4) === 'ftyp') {
    const size = readU32(b, 0);
    if (size < 16 || size > Math.min(b.length, 4096)) return null;
    const brands = [ascii(b, 8, 4)];
    for (let o = 16; o + 4 <= size; o += 4) brands.push(ascii(b, o, 4));
    if (brands.some((x) => HEIC_BRANDS.has(x))) return 'image/heic';
    if (brands.some((x) => HEIF_BRANDS.has(x)) && !brands.includes('avif') && !brands.includes('avis')) return 'image/heif';
  }
  return null;
}

function readU32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) >>> 0) + (b[o + 1] << 16) + (b[o + 2] << 8) + b[o + 3];
}

function ascii(b: Uint8Array, o: number, n: number): string {
  let s = '';
  for (let i = 0; i < n && o + i < b.length; i++) s += String.fromCharCode(b[o + i]);
  return s;
}

/** A GPS position in WGS-84 decimal degrees (north and east positive), as phones record it. */
export interface GpsPoint {
  latitude: number;
  longitude: number;
}

/**
 * Decimal degrees from EXIF GPS fields (EXIF 2.3 §4.6.6: GPSLatitude = [deg, min, sec] rationals,
 * GPSLatitudeRef 'N'|'S', likewise longitude with 'E'|'W'). Null when absent, malformed, out of
 * range, or exactly 0/0 (what some phones write when they had no fix).
 */
export function gpsFromExif(g: {
  GPSLatitude?: number[] | number;
  GPSLatitudeRef?: string;
  GPSLongitude?: number[] | number;
  GPSLongitudeRef?: string;
} | undefined | null): GpsPoint | null {
  if (!g) return null;
  const deg = (v: number[] | number | undefined): number | null => {
    if (typeof v === 'number') return Number.isFinite(v) ? v : null;
    if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) return null;
    return (v[0] ?? 0) + (v[1] ?? 0) / 60 + (v[2] ?? 0) / 3600;
  };
  const lat = deg(g.GPSLatitude);
  const lon = deg(g.GPSLongitude);
  if (lat === null || lon === null) return null;
  const latitude = (String(g.GPSLatitudeRef ?? 'N').toUpperCase().startsWith('S') ? -1 : 1) * lat;
  const longitude = (String(g.GPSLongitudeRef ?? 'E').toUpperCase().startsWith('W') ? -1 : 1) * lon;
  if (Math.abs(latitude) > 90 || Math.abs(longitude) > 180) return null;
  if (latitude === 0 && longitude === 0) return null;
  // 7 decimals ≈ 1 cm: more is noise from the rational arithmetic
  return { latitude: round7(latitude), longitude: round7(longitude) };
}

const round7 = (x: number) => Math.round(x * 1e7) / 1e7;
