/**
 * Upload rules without I/O: type from the bytes, EXIF GPS → degrees, HEIF container reading
 * (size, EXIF) and metadata blanking.
 */
import sharp from 'sharp';
import { detectImageType, gpsFromExif, MAX_PHOTOS_PER_HAZARD } from '../../server/domain/files';
import { heifDimensions, heifExif, heifWithoutMetadata } from '../../server/domain/heif';
import { readGps } from '../../server/services/files';
import { gpsExifBlock, heicContainer, phoneJpeg, TEST_GPS } from '../helpers/images';

describe('detectImageType (from the bytes, never the name)', () => {
  it('recognises JPEG, PNG, WebP made by an encoder', async () => {
    const img = sharp({ create: { width: 4, height: 4, channels: 3, background: '#808080' } });
    expect(detectImageType(await img.clone().jpeg().toBuffer())).toBe('image/jpeg');
    expect(detectImageType(await img.clone().png().toBuffer())).toBe('image/png');
    expect(detectImageType(await img.clone().webp().toBuffer())).toBe('image/webp');
  });

  it('recognises HEIC (iPhone) and generic HEIF by their ftyp brands; AVIF is not accepted', () => {
    expect(detectImageType(heicContainer())).toBe('image/heic');
    expect(detectImageType(heicContainer({ brand: 'mif1' }))).toBe('image/heif');
    expect(detectImageType(heicContainer({ brand: 'avif' }).fill(0x20, 16, 20))).toBeNull();
  });

  it('refuses text, GIF, PDF, ZIP, empty and truncated signatures', async () => {
    expect(detectImageType(Buffer.from('this is not a photo, only text renamed to .jpg\n'))).toBeNull();
    expect(detectImageType(await sharp({ create: { width: 2, height: 2, channels: 3, background: '#000' } }).gif().toBuffer())).toBeNull();
    expect(detectImageType(Buffer.from('%PDF-1.7\n'))).toBeNull();
    expect(detectImageType(Buffer.from('PK\u0003\u0004rest'))).toBeNull();
    expect(detectImageType(Buffer.alloc(0))).toBeNull();
    expect(detectImageType(Buffer.from([0xff, 0xd8]))).toBeNull();
    expect(detectImageType(Buffer.from('RIFF\u0000\u0000\u0000\u0000WAVE'))).toBeNull();
  });
});

describe('gpsFromExif', () => {
  it('turns degrees/minutes/seconds with N/S/E/W into signed decimal degrees', () => {
    expect(gpsFromExif({ GPSLatitude: [31, 14, 30], GPSLatitudeRef: 'N', GPSLongitude: [121, 28, 12], GPSLongitudeRef: 'E' })).toEqual(TEST_GPS);
    expect(gpsFromExif({ GPSLatitude: [33, 51, 54], GPSLatitudeRef: 'S', GPSLongitude: [151, 12, 36], GPSLongitudeRef: 'W' })).toEqual({ latitude: -33.865, longitude: -151.21 });
  });

  it('is null without a fix, with 0/0, out of range or malformed', () => {
    expect(gpsFromExif(undefined)).toBeNull();
    expect(gpsFromExif({})).toBeNull();
    expect(gpsFromExif({ GPSLatitude: [0, 0, 0], GPSLongitude: [0, 0, 0] })).toBeNull();
    expect(gpsFromExif({ GPSLatitude: [95, 0, 0], GPSLongitude: [10, 0, 0] })).toBeNull();
    expect(gpsFromExif({ GPSLatitude: [NaN, 0, 0], GPSLongitude: [10, 0, 0] })).toBeNull();
    expect(gpsFromExif({ GPSLatitude: [31, 14, 30] })).toBeNull();
  });

  it('reads the GPS a phone JPEG carries (exif-reader over sharp metadata)', async () => {
    expect(readGps((await sharp(await phoneJpeg()).metadata()).exif)).toEqual(TEST_GPS);
    expect(readGps((await sharp(await phoneJpeg({ gps: false })).metadata()).exif)).toBeNull();
    expect(readGps(Buffer.from('Exif\0\0garbage-garbage'))).toBeNull();
  });
});

describe('HEIF container', () => {
  it('reads the displayed size from ispe and irot', () => {
    expect(heifDimensions(heicContainer({ width: 4032, height: 3024 }))).toEqual({ width: 4032, height: 3024 });
    expect(heifDimensions(heicContainer({ width: 4032, height: 3024, irot: 3 }))).toEqual({ width: 3024, height: 4032 });
    expect(heifDimensions(heicContainer({ width: 4032, height: 3024, irot: 2 }))).toEqual({ width: 4032, height: 3024 });
    expect(heifDimensions(Buffer.from('not a heif file at all'))).toBeNull();
  });

  it.each([false, true])('reads the EXIF item (in idat: %s) and its GPS', async (exifInIdat) => {
    const file = heicContainer({ exif: await gpsExifBlock(), exifInIdat });
    expect(readGps(heifExif(file))).toEqual(TEST_GPS);
  });

  it.each([false, true])('blanks EXIF (in idat: %s) and XMP in place: same length, image bytes untouched, no GPS left', async (exifInIdat) => {
    const xmp = '<x:xmpmeta><rdf:RDF><rdf:Description exif:GPSLatitude="31,14.5N"/></rdf:RDF></x:xmpmeta>';
    const file = heicContainer({ exif: await gpsExifBlock(), exifInIdat, xmp, irot: 3 });
    const out = heifWithoutMetadata(file);
    expect(out).not.toBeNull();
    expect(out!.blanked).toBe(2);
    expect(out!.bytes.length).toBe(file.length);
    expect(heifExif(out!.bytes)).toBeNull();
    expect(out!.bytes.includes(Buffer.from('GPSLatitude'))).toBe(false);
    expect(out!.bytes.includes(Buffer.from('TestPhone'))).toBe(false);
    // the picture and its container are intact
    expect(out!.bytes.includes(Buffer.alloc(64, 0x5a))).toBe(true);
    expect(heifDimensions(out!.bytes)).toEqual({ width: 3024, height: 4032 });
    expect(detectImageType(out!.bytes)).toBe('image/heic');
    // the input was not modified
    expect(readGps(heifExif(file))).toEqual(TEST_GPS);
  });

  it('refuses to "strip" a container it cannot parse', () => {
    const broken = heicContainer();
    broken.write('junk', broken.indexOf('iloc'), 'latin1');
    expect(heifWithoutMetadata(broken)).toBeNull();
    expect(heifWithoutMetadata(Buffer.from('ftyp'))).toBeNull();
  });
});

it('MAX_PHOTOS_PER_HAZARD is 9 (one phone picker / chat grid)', () => {
  expect(MAX_PHOTOS_PER_HAZARD).toBe(9);
});
