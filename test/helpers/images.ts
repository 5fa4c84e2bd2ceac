/**
 * Test images, built reproducibly in code (no binary fixtures):
 * - `phoneJpeg`: what a phone held upright sends — the sensor's landscape pixels plus an EXIF
 *   orientation tag (6 = "rotate 90° clockwise to display") and a GPS position;
 * - `heicContainer`: an ISO-BMFF HEIF file with the boxes an iPhone HEIC has (ftyp heic, meta with
 *   hdlr/pitm/iinf/iloc/iprp[hvcC, ispe, irot]/ipma, mdat) around dummy HEVC bytes, an EXIF item
 *   carrying GPS and an XMP item — enough for container parsing, not decodable (no real HEVC).
 */
import sharp from 'sharp';

/** 31°14′30″N 121°28′12″E (Shanghai): decimal 31.2416667, 121.47 */
export const TEST_GPS = { latitude: 31.2416667, longitude: 121.47 };
const GPS_EXIF = { GPSLatitudeRef: 'N', GPSLatitude: '31/1 14/1 3000/100', GPSLongitudeRef: 'E', GPSLongitude: '121/1 28/1 1200/100' };

/**
 * A 400×200 (stored) JPEG whose left half is red and right half blue, with EXIF orientation
 * `orientation` and, unless `gps: false`, GPS EXIF. Displayed upright (orientation 6) it is
 * 200×400 with the red half on top.
 */
export async function phoneJpeg(opts: { orientation?: number; gps?: boolean; width?: number; height?: number } = {}): Promise<Buffer> {
  const width = opts.width ?? 400;
  const height = opts.height ?? 200;
  const red = await sharp({ create: { width: Math.floor(width / 2), height, channels: 3, background: { r: 255, g: 0, b: 0 } } }).png().toBuffer();
  return sharp({ create: { width, height, channels: 3, background: { r: 0, g: 0, b: 255 } } })
    .composite([{ input: red, left: 0, top: 0 }])
    .jpeg({ quality: 95 })
    .withMetadata({ orientation: opts.orientation ?? 6 })
    .withExif({ IFD0: { Make: 'TestPhone', Model: 'DP-1' }, ...(opts.gps === false ? {} : { IFD3: GPS_EXIF }) })
    .toBuffer();
}

/** The EXIF block sharp writes for GPS_EXIF ("Exif\0\0" + TIFF), as a phone's HEIC carries it. */
export async function gpsExifBlock(): Promise<Buffer> {
  const jpeg = await phoneJpeg({ orientation: 1, width: 8, height: 8 });
  const meta = await sharp(jpeg).metadata();
  if (!meta.exif) throw new Error('sharp wrote no EXIF');
  return meta.exif;
}

const u8 = (n: number) => Buffer.from([n & 0xff]);
const u16 = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const box = (type: string, ...parts: Buffer[]) => {
  const body = Buffer.concat(parts);
  return Buffer.concat([u32(8 + body.length), Buffer.from(type, 'latin1'), body]);
};
const fullBox = (type: string, version: number, flags: number, ...parts: Buffer[]) => box(type, u8(version), Buffer.from([(flags >> 16) & 0xff, (flags >> 8) & 0xff, flags & 0xff]), ...parts);
const cstr = (s: string) => Buffer.concat([Buffer.from(s, 'utf8'), u8(0)]);

export interface HeicOptions {
  /** ispe of the primary image (as coded, before irot) */
  width?: number;
  height?: number;
  /** irot angle in quarter turns anticlockwise (iPhone portrait: 3 → 90° clockwise) */
  irot?: number;
  /** the EXIF block ("Exif\0\0"+TIFF); omit for none */
  exif?: Buffer;
  /** put the EXIF item in `idat` (iloc construction method 1) instead of `mdat` */
  exifInIdat?: boolean;
  xmp?: string;
  /** major brand (heic for iPhone; mif1 for generic HEIF; avif to test refusal) */
  brand?: string;
}

/** An HEIF container as described above. */
export function heicContainer(o: HeicOptions = {}): Buffer {
  const brand = o.brand ?? 'heic';
  const ftyp = box('ftyp', Buffer.from(brand), u32(0), Buffer.from('mif1'), Buffer.from(brand));
  const hevc = Buffer.alloc(64, 0x5a); // stands in for the coded picture
  const exifPayload = o.exif ? Buffer.concat([u32(6), o.exif]) : null; // exif_tiff_header_offset = 6 ("Exif\0\0")
  const xmp = o.xmp ? Buffer.from(o.xmp, 'utf8') : null;

  const build = (mdatDataStart: number) => {
    const items: Array<{ id: number; type: string; contentType?: string; method: number; offset: number; length: number }> = [];
    let at = mdatDataStart;
    items.push({ id: 1, type: 'hvc1', method: 0, offset: at, length: hevc.length });
    at += hevc.length;
    if (exifPayload) {
      if (o.exifInIdat) items.push({ id: 2, type: 'Exif', method: 1, offset: 0, length: exifPayload.length });
      else {
        items.push({ id: 2, type: 'Exif', method: 0, offset: at, length: exifPayload.length });
        at += exifPayload.length;
      }
    }
    if (xmp) items.push({ id: 3, type: 'mime', contentType: 'application/rdf+xml', method: 0, offset: at, length: xmp.length });

    const hdlr = fullBox('hdlr', 0, 0, u32(0), Buffer.from('pict'), u32(0), u32(0), u32(0), cstr(''));
    const pitm = fullBox('pitm', 0, 0, u16(1));
    const iinf = fullBox(
      'iinf',
      0,
      0,
      u16(items.length),
      ...items.map((i) => fullBox('infe', 2, 0, u16(i.id), u16(0), Buffer.from(i.type), cstr(''), ...(i.contentType ? [cstr(i.contentType)] : []))),
    );
    const iloc = fullBox(
      'iloc',
      1,
      0,
      u8(0x44), // offset_size 4, length_size 4
      u8(0x00), // base_offset_size 0, index_size 0
      u16(items.length),
      ...items.map((i) => Buffer.concat([u16(i.id), u16(i.method), u16(0), u16(1), u32(i.offset), u32(i.length)])),
    );
    const ipco = box(
      'ipco',
      box('hvcC', Buffer.alloc(23, 1)),
      fullBox('ispe', 0, 0, u32(o.width ?? 4032), u32(o.height ?? 3024)),
      ...(o.irot !== undefined ? [box('irot', u8(o.irot))] : []),
    );
    const assoc = o.irot !== undefined ? [0x81, 0x02, 0x03] : [0x81, 0x02];
    const ipma = fullBox('ipma', 0, 0, u32(1), u16(1), u8(assoc.length), Buffer.from(assoc));
    const idat = o.exifInIdat && exifPayload ? [box('idat', exifPayload)] : [];
    const meta = fullBox('meta', 0, 0, hdlr, pitm, iloc, iinf, box('iprp', ipco, ipma), ...idat);
    const mdat = box('mdat', hevc, ...(exifPayload && !o.exifInIdat ? [exifPayload] : []), ...(xmp ? [xmp] : []));
    return Buffer.concat([ftyp, meta, mdat]);
  };
  // offsets depend on the meta box's size, which does not depend on the offsets' values
  const first = build(0);
  const mdatStart = first.length - (8 + hevc.length + (exifPayload && !o.exifInIdat ? exifPayload.length : 0) + (xmp ? xmp.length : 0));
  return build(mdatStart + 8);
}
