/**
 * Just enough of the HEIF container (ISO/IEC 23008-12 on ISO-BMFF, ISO/IEC 14496-12) to handle an
 * iPhone's HEIC photo that we cannot decode: sharp's prebuilt libvips ships libheif with the AV1
 * decoder only (AVIF), not HEVC, so HEIC pixels are out of reach here (README "Photos and files").
 *
 * Without decoding we can still, from the boxes alone:
 * - read the picture's size (`ispe`, turned by `irot`),
 * - read its EXIF item (for the GPS position a hazard report takes as its location),
 * - blank the EXIF and XMP items in a copy, so the stored file carries no GPS or camera data.
 *
 * Blanking overwrites the metadata items' bytes with zeros in place: every offset in the file
 * stays valid, the image items are untouched, and readers find an empty (unparseable) EXIF item,
 * which they ignore. Orientation in HEIF is `irot`/`imir` (container), not EXIF, so it survives.
 *
 * Pure functions over bytes; every read is bounds-checked (a malformed file yields null, never a throw).
 */

interface Box {
  type: string;
  /** first byte of the payload (after the header) */
  start: number;
  /** one past the last byte */
  end: number;
}

interface Item {
  id: number;
  type: string;
  contentType?: string;
}

interface Extent {
  offset: number;
  length: number;
}

/** Width and height of the picture as displayed, from `ispe` (largest: the full image, not a tile or thumbnail) and `irot`. */
export function heifDimensions(bytes: Uint8Array): { width: number; height: number } | null {
  const meta = metaBox(bytes);
  const ipco = meta && child(bytes, child(bytes, meta, 'iprp'), 'ipco');
  if (!ipco) return null;
  let best: { width: number; height: number } | null = null;
  let quarterTurn = false;
  for (const p of boxes(bytes, ipco.start, ipco.end)) {
    // ispe and irot are FullBox / Box: ispe = version+flags (4), width (4), height (4)
    if (p.type === 'ispe' && p.end - p.start >= 12) {
      const width = u32(bytes, p.start + 4);
      const height = u32(bytes, p.start + 8);
      if (!best || width * height > best.width * best.height) best = { width, height };
    }
    if (p.type === 'irot' && p.end - p.start >= 1) quarterTurn = (bytes[p.start] & 0x03) % 2 === 1;
  }
  if (!best || best.width === 0 || best.height === 0) return null;
  return quarterTurn ? { width: best.height, height: best.width } : best;
}

/**
 * The TIFF-structured EXIF block of the file's first `Exif` item (starting at the "II"/"MM" byte
 * order mark, as exif-reader takes it), or null when there is none or it is malformed.
 */
export function heifExif(bytes: Uint8Array): Buffer | null {
  const layout = metadataLayout(bytes);
  const exif = layout?.items.find((i) => i.type === 'Exif');
  if (!layout || !exif) return null;
  const data = itemBytes(bytes, layout, exif.id);
  // Exif item payload: u32 exif_tiff_header_offset, then that many bytes (usually "Exif\0\0"), then TIFF
  if (!data || data.length < 12) return null;
  const tiff = 4 + u32(data, 0);
  if (tiff + 8 > data.length) return null;
  const order = ascii(data, tiff, 2);
  if (order !== 'II' && order !== 'MM') return null; // blanked or not TIFF
  return Buffer.from(data.subarray(tiff));
}

/**
 * A copy of `bytes` with every EXIF item and every XMP (`mime` application/rdf+xml) item zeroed.
 * Returns the copy and how many items were blanked; `null` when the container cannot be parsed
 * (the caller must then refuse the file rather than store its metadata).
 */
export function heifWithoutMetadata(bytes: Uint8Array): { bytes: Buffer; blanked: number } | null {
  const layout = metadataLayout(bytes);
  if (!layout) return null;
  const out = Buffer.from(bytes);
  let blanked = 0;
  for (const item of layout.items) {
    const isXmp = item.type === 'mime' && /rdf\+xml|xmp/i.test(item.contentType ?? '');
    if (item.type !== 'Exif' && !isXmp) continue;
    const extents = itemExtents(bytes, layout, item.id);
    if (!extents) return null;
    for (const e of extents) out.fill(0, e.offset, e.offset + e.length);
    blanked++;
  }
  return { bytes: out, blanked };
}

// ---------------------------------------------------------------------------------------------

interface Layout {
  items: Item[];
  /** item id → extents as absolute file ranges */
  locations: Map<number, Extent[] | null>;
}

function metadataLayout(b: Uint8Array): Layout | null {
  const meta = metaBox(b);
  if (!meta) return null;
  const iinf = child(b, meta, 'iinf');
  const iloc = child(b, meta, 'iloc');
  if (!iinf || !iloc) return null;
  const items = parseIinf(b, iinf);
  const idat = child(b, meta, 'idat');
  const locations = parseIloc(b, iloc, idat);
  if (!items || !locations) return null;
  return { items, locations };
}

function itemExtents(b: Uint8Array, layout: Layout, id: number): Extent[] | null {
  const ext = layout.locations.get(id);
  if (!ext) return null;
  return ext.every((e) => e.offset >= 0 && e.length >= 0 && e.offset + e.length <= b.length) ? ext : null;
}

function itemBytes(b: Uint8Array, layout: Layout, id: number): Uint8Array | null {
  const ext = itemExtents(b, layout, id);
  if (!ext) return null;
  return Buffer.concat(ext.map((e) => b.subarray(e.offset, e.offset + e.length)));
}

/** The top-level `meta` box, after the `ftyp`, with its FullBox header skipped. */
function metaBox(b: Uint8Array): Box | null {
  for (const box of boxes(b, 0, b.length)) {
    if (box.type === 'meta') return { ...box, start: box.start + 4 };
  }
  return null;
}

function child(b: Uint8Array, parent: Box | null | undefined, type: string): Box | null {
  if (!parent) return null;
  for (const box of boxes(b, parent.start, parent.end)) if (box.type === type) return box;
  return null;
}

/** The boxes in [from, to), stopping at the first malformed header. */
function* boxes(b: Uint8Array, from: number, to: number): Generator<Box> {
  let o = from;
  while (o + 8 <= to) {
    let size = u32(b, o);
    let header = 8;
    if (size === 1) {
      if (o + 16 > to) return;
      size = u32(b, o + 8) * 2 ** 32 + u32(b, o + 12);
      header = 16;
    } else if (size === 0) size = to - o;
    if (size < header || o + size > to) return;
    yield { type: ascii(b, o + 4, 4), start: o + header, end: o + size };
    o += size;
  }
}

/** iinf: the items and their types (infe versions 2 and 3; older ones have no item_type). */
function parseIinf(b: Uint8Array, iinf: Box): Item[] | null {
  const version = b[iinf.start];
  const entriesAt = iinf.start + 4 + (version === 0 ? 2 : 4);
  const items: Item[] = [];
  for (const infe of boxes(b, entriesAt, iinf.end)) {
    if (infe.type !== 'infe') continue;
    const v = b[infe.start];
    if (v < 2) continue;
    let o = infe.start + 4;
    const id = v === 2 ? u16(b, o) : u32(b, o);
    o += v === 2 ? 2 : 4;
    o += 2; // item_protection_index
    if (o + 4 > infe.end) return null;
    const type = ascii(b, o, 4);
    o += 4;
    const [, afterName] = cstring(b, o, infe.end);
    let contentType: string | undefined;
    if (type === 'mime') [contentType] = cstring(b, afterName, infe.end);
    items.push({ id, type, contentType });
  }
  return items;
}

/** iloc: where each item's bytes are (construction methods 0 = file offset, 1 = inside idat). */
function parseIloc(b: Uint8Array, iloc: Box, idat: Box | null): Map<number, Extent[] | null> | null {
  const version = b[iloc.start];
  if (version > 2) return null;
  let o = iloc.start + 4;
  const need = (n: number) => o + n <= iloc.end;
  if (!need(2)) return null;
  const offsetSize = b[o] >> 4;
  const lengthSize = b[o] & 0x0f;
  const baseOffsetSize = b[o + 1] >> 4;
  const indexSize = version >= 1 ? b[o + 1] & 0x0f : 0;
  o += 2;
  const read = (n: number): number | null => {
    if (n === 0) return 0;
    if (![4, 8].includes(n) || !need(n)) return null;
    const v = n === 4 ? u32(b, o) : u32(b, o) * 2 ** 32 + u32(b, o + 4);
    o += n;
    return v;
  };
  const count = version < 2 ? (need(2) ? u16(b, o) : null) : read(4);
  if (count === null) return null;
  if (version < 2) o += 2;
  const out = new Map<number, Extent[] | null>();
  for (let i = 0; i < count; i++) {
    const id = version < 2 ? (need(2) ? u16(b, o) : null) : read(4);
    if (id === null) return null;
    if (version < 2) o += 2;
    let method = 0;
    if (version >= 1) {
      if (!need(2)) return null;
      method = u16(b, o) & 0x0f;
      o += 2;
    }
    if (!need(2)) return null;
    o += 2; // data_reference_index (0 = this file)
    const base = read(baseOffsetSize);
    if (base === null || !need(2)) return null;
    const extentCount = u16(b, o);
    o += 2;
    const extents: Extent[] = [];
    for (let e = 0; e < extentCount; e++) {
      if (indexSize > 0 && read(indexSize) === null) return null;
      const off = read(offsetSize);
      const len = read(lengthSize);
      if (off === null || len === null) return null;
      // length 0 = "to the end of the referenced data" (14496-12 §8.11.3)
      const end = method === 1 && idat ? idat.end - idat.start : b.length;
      extents.push({ offset: base + off, length: len === 0 ? Math.max(0, end - (base + off)) : len });
    }
    if (method === 0) out.set(id, extents);
    else if (method === 1 && idat) out.set(id, extents.map((x) => ({ offset: idat.start + x.offset, length: x.length })));
    else out.set(id, null); // derived from another item: no bytes of its own to read or blank
  }
  return out;
}

function cstring(b: Uint8Array, from: number, to: number): [string, number] {
  let end = from;
  while (end < to && b[end] !== 0) end++;
  return [Buffer.from(b.subarray(from, end)).toString('utf8'), Math.min(end + 1, to)];
}

function u16(b: Uint8Array, o: number): number {
  return (b[o] << 8) + b[o + 1];
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) >>> 0) + (b[o + 1] << 16) + (b[o + 2] << 8) + b[o + 3];
}

function ascii(b: Uint8Array, o: number, n: number): string {
  let s = '';
  for (let i = 0; i < n && o + i < b.length; i++) s += String.fromCharCode(b[o + i]);
  return s;
}
