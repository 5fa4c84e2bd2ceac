/**
 * Uploaded photos and files (issue #3 item 3): evidence for hazards (before/after rectification),
 * transitions and check records (拍照 checks).
 *
 * An upload is checked and prepared completely before anything is stored:
 * 1. size ≤ UPLOAD_MAX_BYTES (413 `file_too_large`);
 * 2. the type is detected from the bytes (JPEG, PNG, WebP, HEIC/HEIF), never from the file name or
 *    the client's Content-Type (415 `unsupported_type`: a text file renamed .jpg is refused);
 * 3. the EXIF GPS position is read (returned to the caller, who may keep it as the hazard's
 *    location — the only place GPS is kept);
 * 4. the picture is turned upright from its EXIF orientation and re-encoded with every metadata
 *    block stripped (EXIF, XMP, GPS; colours converted to sRGB), plus a 320 px JPEG thumbnail;
 * 5. HEIC (iPhone) cannot be decoded here (no HEVC decoder in sharp's prebuilt libvips): the
 *    original is kept as it is, with its EXIF and XMP items blanked, its size read from the
 *    container, and no thumbnail.
 * Then the objects are written to storage and the rows in one transaction; when the database
 * write fails the objects are deleted again, when storage fails no row is written (nothing
 * half-saved). A batch is all-or-nothing: one bad file refuses the whole request.
 *
 * Other services that take photo ids (hazard reports, rectifications, check records) validate them
 * with `assertFilesUsable` before storing the ids.
 */
import { createHash, randomUUID } from 'node:crypto';
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import exifReader from 'exif-reader';
import type { PrismaClient, Prisma } from '../db';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import { AppError } from '../errors';
import { detectImageType, extensionFor, gpsFromExif, type GpsPoint, type ImageMime } from '../domain/files';
import { heifDimensions, heifExif, heifWithoutMetadata } from '../domain/heif';
import type { Storage } from './storage';
import { clipChars } from '../../miniprogram/shared/contract';

/** Thumbnail bounding box, px (fits a phone list row at 3× density). */
export const THUMB_PX = 320;
/** Decoding refuses images above this many pixels (decompression bombs); 200 MP phone sensors still fit. */
const MAX_INPUT_PIXELS = 268_402_689;

export interface FileDeps {
  storage: Storage;
  /** per file, bytes (UPLOAD_MAX_BYTES) */
  maxBytes: number;
  /** per request (UPLOAD_MAX_FILES) */
  maxFiles: number;
}

export interface UploadInput {
  bytes: Buffer;
  /** the client's file name, kept for people downloading it (never used to decide the type) */
  originalName?: string;
}

export interface UploadedFile {
  id: number;
  /** detected from the bytes */
  mime: string;
  /** size of the stored original, bytes */
  bytes: number;
  /** px, upright; null when unknown (a HEIC whose container gives none) */
  width: number | null;
  height: number | null;
  sha256: string;
  hasThumb: boolean;
  /** from the photo's EXIF, WGS-84 degrees; not stored with the file */
  gps: GpsPoint | null;
}

/** One upload, checked and ready to store. */
interface Prepared {
  mime: ImageMime;
  main: Buffer;
  thumb: Buffer | null;
  width: number | null;
  height: number | null;
  gps: GpsPoint | null;
  originalName: string | null;
}

const mb = (n: number) => `${Math.round((n / 1024 / 1024) * 10) / 10} MB`;

/** @throws AppError 413 `file_too_large` */
export function fileTooLarge(maxBytes: number, name?: string): AppError {
  const who = name ? `「${name}」` : '';
  return new AppError(413, 'file_too_large', `文件${who}过大，单个文件不能超过 ${mb(maxBytes)}`, `file ${name ? `"${name}" ` : ''}too large: at most ${maxBytes} bytes (${mb(maxBytes)}) per file`, {
    maxBytes,
    ...(name ? { name } : {}),
  });
}

/** @throws AppError 400 `too_many_files` */
export function tooManyFiles(maxFiles: number): AppError {
  return new AppError(400, 'too_many_files', `一次最多上传 ${maxFiles} 个文件`, `at most ${maxFiles} files per upload`, { maxFiles });
}

/**
 * Checks, prepares and stores uploaded photos for `uploader` (all or nothing).
 *
 * @param inputs 1..maxFiles files (bytes as received)
 * @returns one UploadedFile per input, in order
 * @throws AppError 400 `no_files`, 400 `too_many_files`, 413 `file_too_large`,
 *         415 `unsupported_type` (details: { name }), 422 `unreadable_image` (looks like an image
 *         but cannot be decoded); storage or database errors are rethrown after cleanup
 */
export async function storeUploads(
  prisma: PrismaClient,
  deps: FileDeps & { clock: Clock; log?: Logger },
  uploader: { enterpriseId: number; personId: number },
  inputs: UploadInput[],
): Promise<UploadedFile[]> {
  if (inputs.length === 0) throw new AppError(400, 'no_files', '请选择要上传的文件（字段 files）', 'no file given (multipart field "files")');
  if (inputs.length > deps.maxFiles) throw tooManyFiles(deps.maxFiles);
  for (const f of inputs) if (f.bytes.length > deps.maxBytes) throw fileTooLarge(deps.maxBytes, f.originalName);

  // 1. check and prepare everything before storing anything (one bad file refuses the batch)
  const prepared: Prepared[] = [];
  for (const f of inputs) prepared.push(await prepare(f));

  // 2. storage, then rows; undo the objects if any step fails
  const now = deps.clock.now();
  const prefix = `e${uploader.enterpriseId}/${now.getUTCFullYear()}/${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
  const written: string[] = [];
  const planned = prepared.map((p) => {
    const name = randomUUID().replace(/-/g, '');
    return {
      p,
      sha256: createHash('sha256').update(p.main).digest('hex'),
      key: `${prefix}/${name}.${extensionFor(p.mime)}`,
      thumbKey: p.thumb ? `${prefix}/${name}.thumb.jpg` : null,
    };
  });
  try {
    for (const x of planned) {
      written.push(x.key);
      await deps.storage.put(x.key, x.p.main, x.p.mime);
      if (x.thumbKey && x.p.thumb) {
        written.push(x.thumbKey);
        await deps.storage.put(x.thumbKey, x.p.thumb, 'image/jpeg');
      }
    }
    const rows = await prisma.$transaction(async (tx) => {
      const out = [];
      for (const x of planned) {
        out.push(
          await tx.storedFile.create({
            data: {
              enterpriseId: uploader.enterpriseId,
              storageKey: x.key,
              thumbKey: x.thumbKey,
              mime: x.p.mime,
              bytes: x.p.main.length,
              width: x.p.width,
              height: x.p.height,
              sha256: x.sha256,
              originalName: x.p.originalName,
              uploadedById: uploader.personId,
              createdAt: now,
            },
          }),
        );
      }
      return out;
    });
    return rows.map((r, i) => ({
      id: r.id,
      mime: r.mime,
      bytes: r.bytes,
      width: r.width,
      height: r.height,
      sha256: r.sha256,
      hasThumb: r.thumbKey !== null,
      gps: planned[i].p.gps,
    }));
  } catch (err) {
    // a put that failed half-way may have left an object: delete every key we tried
    const results = await Promise.allSettled(written.map((k) => deps.storage.delete(k)));
    const left = written.filter((_k, i) => results[i].status === 'rejected');
    if (left.length) deps.log?.error({ keys: left }, 'upload failed and some stored objects could not be deleted');
    throw err;
  }
}

/** Type, GPS, upright pixels without metadata, thumbnail. @throws AppError 415 / 422, 413 image_too_large (pixels) */
async function prepare(f: UploadInput): Promise<Prepared> {
  const originalName = f.originalName ? cleanName(f.originalName) : null;
  const mime = detectImageType(f.bytes);
  if (!mime) {
    throw new AppError(
      415,
      'unsupported_type',
      `不支持的文件类型${originalName ? `「${originalName}」` : ''}：只接受 JPEG、PNG、WebP、HEIC 图片（按文件内容判断，不看扩展名）`,
      `unsupported file type${originalName ? ` ("${originalName}")` : ''}: only JPEG, PNG, WebP and HEIC images are accepted (judged from the content, not the name)`,
      { name: originalName, accepted: ['image/jpeg', 'image/png', 'image/webp', 'image/heic'] },
    );
  }
  const decoded = await decodeWithSharp(f.bytes, mime, originalName);
  if (decoded) return { ...decoded, originalName };
  if (mime === 'image/heic' || mime === 'image/heif') return { ...keepHeif(f.bytes, mime, originalName), originalName };
  throw unreadable(originalName);
}

function unreadable(name: string | null): AppError {
  return new AppError(422, 'unreadable_image', `图片${name ? `「${name}」` : ''}已损坏或无法读取`, `image${name ? ` "${name}"` : ''} is damaged or cannot be read`, { name });
}

/**
 * Decodes with sharp: GPS from EXIF, `.rotate()` applies the EXIF orientation, output in the same
 * format without metadata (sharp strips EXIF/XMP/ICC unless told to keep them, converting to sRGB).
 * HEIC decodes only where libvips was built with an HEVC decoder; otherwise returns null.
 */
async function decodeWithSharp(bytes: Buffer, mime: ImageMime, name: string | null): Promise<Omit<Prepared, 'originalName'> | null> {
  const opts = { failOn: 'error' as const, limitInputPixels: MAX_INPUT_PIXELS };
  let meta: Metadata;
  let main: { data: Buffer; info: OutputInfo };
  try {
    meta = await sharp(bytes, opts).metadata();
    const upright = sharp(bytes, opts).rotate();
    // HEIC decoded (custom libvips) is stored as JPEG: there may be no HEVC encoder either
    const out =
      mime === 'image/png' ? upright.png() : mime === 'image/webp' ? upright.webp({ quality: 90 }) : upright.jpeg({ quality: 90, chromaSubsampling: '4:4:4' });
    main = await out.toBuffer({ resolveWithObject: true });
  } catch (err) {
    // a small file can declare a huge picture (20000×20000 PNG of 1 MB): say so, it is not damaged
    if (/pixel limit/i.test((err as Error).message)) {
      const mp = Math.floor(MAX_INPUT_PIXELS / 1e6);
      throw new AppError(413, 'image_too_large', `图片${name ? `「${name}」` : ''}像素过大（最多约 ${mp} 百万像素），请缩小后再传`, `image${name ? ` "${name}"` : ''} has too many pixels (at most about ${mp} megapixels)`, { name, maxPixels: MAX_INPUT_PIXELS });
    }
    return null;
  }
  const thumb = await sharp(main.data)
    .resize(THUMB_PX, THUMB_PX, { fit: 'inside', withoutEnlargement: true })
    .flatten({ background: '#ffffff' })
    .jpeg({ quality: 80 })
    .toBuffer();
  const outMime: ImageMime = mime === 'image/heic' || mime === 'image/heif' ? 'image/jpeg' : mime;
  return { mime: outMime, main: main.data, thumb, width: main.info.width, height: main.info.height, gps: readGps(meta.exif) };
}

/** HEIC/HEIF kept as uploaded, minus its EXIF/XMP items. @throws AppError 422 when the container is unreadable */
function keepHeif(bytes: Buffer, mime: ImageMime, name: string | null): Omit<Prepared, 'originalName'> {
  const stripped = heifWithoutMetadata(bytes);
  if (!stripped) throw unreadable(name);
  const size = heifDimensions(bytes);
  return { mime, main: stripped.bytes, thumb: null, width: size?.width ?? null, height: size?.height ?? null, gps: readGps(heifExif(bytes)) };
}

/** GPS from an EXIF block (JPEG APP1 "Exif\0\0…" or bare TIFF); null when absent or malformed. */
export function readGps(exif: Buffer | null | undefined): GpsPoint | null {
  if (!exif || exif.length < 8) return null;
  try {
    return gpsFromExif(exifReader(exif).GPSInfo as Parameters<typeof gpsFromExif>[0]);
  } catch {
    return null;
  }
}

/** A file name safe to keep and to send back in Content-Disposition: no path, no control characters, ≤ 200 chars. */
function cleanName(name: string): string | null {
  const base = name.split(/[\\/]/).pop() ?? '';
  const clean = clipChars(base.replace(/[\u0000-\u001f\u007f"]/g, '').trim(), 200);
  return clean || null;
}

/** What GET /files/:id answers. */
export interface FileContent {
  bytes: Buffer;
  mime: string;
  sha256: string;
  originalName: string | null;
}

/**
 * The stored original (`variant` 'original') or thumbnail ('thumb') of a file of `enterpriseId`.
 * @throws AppError 404 `file_not_found` (no such file in this enterprise, no thumbnail, or the
 *         object is missing from storage — logged, as that means storage lost data)
 */
export async function readStoredFile(
  prisma: PrismaClient,
  deps: { storage: Storage; log?: Logger },
  enterpriseId: number,
  id: number,
  variant: 'original' | 'thumb',
): Promise<FileContent> {
  const row = await prisma.storedFile.findFirst({ where: { id, enterpriseId } });
  const notFound = () => new AppError(404, 'file_not_found', '文件不存在', 'file not found');
  if (!row) throw notFound();
  const key = variant === 'thumb' ? row.thumbKey : row.storageKey;
  if (!key) throw new AppError(404, 'file_not_found', '该文件没有缩略图（HEIC 原图无法生成缩略图）', 'this file has no thumbnail (HEIC originals get none)');
  const bytes = await deps.storage.get(key);
  if (!bytes) {
    deps.log?.error({ fileId: id, key }, 'stored file row without its object in storage');
    throw notFound();
  }
  return variant === 'thumb'
    ? { bytes, mime: 'image/jpeg', sha256: createHash('sha256').update(bytes).digest('hex'), originalName: null }
    : { bytes, mime: row.mime, sha256: row.sha256, originalName: row.originalName };
}

/**
 * Checks that photo/file ids given with a record may be attached to it: at most `opts.max` ids,
 * no id twice, each an existing StoredFile of `enterpriseId` (another enterprise's file is "not
 * found", so ids cannot be probed across enterprises).
 *
 * Call it inside the caller's transaction when the ids are stored in the same step.
 *
 * @param opts.max e.g. MAX_PHOTOS_PER_HAZARD (server/domain/files.ts)
 * @throws AppError 400 `too_many_photos` (details: { max, given }),
 *         400 `duplicate_files` (details: { ids }),
 *         404 `file_not_found` (details: { ids: the missing ones })
 */
export async function assertFilesUsable(
  prisma: PrismaClient | Prisma.TransactionClient,
  enterpriseId: number,
  fileIds: number[],
  opts: { max: number },
): Promise<void> {
  if (fileIds.length > opts.max) {
    throw new AppError(400, 'too_many_photos', `照片最多 ${opts.max} 张（收到 ${fileIds.length} 张）`, `at most ${opts.max} photos (got ${fileIds.length})`, {
      max: opts.max,
      given: fileIds.length,
    });
  }
  if (fileIds.length === 0) return;
  const dupes = [...new Set(fileIds.filter((id, i) => fileIds.indexOf(id) !== i))];
  if (dupes.length > 0) {
    throw new AppError(400, 'duplicate_files', `照片重复：${dupes.join('、')}`, `photo ids given more than once: ${dupes.join(', ')}`, { ids: dupes });
  }
  const found = await prisma.storedFile.findMany({ where: { id: { in: fileIds }, enterpriseId }, select: { id: true } });
  if (found.length !== fileIds.length) {
    const have = new Set(found.map((f) => f.id));
    const missing = fileIds.filter((id) => !have.has(id));
    throw new AppError(404, 'file_not_found', `照片不存在：${missing.join('、')}`, `file not found: ${missing.join(', ')}`, { ids: missing });
  }
}
