/**
 * Photo and file endpoints (rules: services/files.ts; storage: services/storage.ts).
 *
 * - POST /files — multipart/form-data, field `files`, 1..UPLOAD_MAX_FILES files of at most
 *   UPLOAD_MAX_BYTES each → 201 `{ items: [{ id, mime, bytes, width, height, url, thumbUrl, gps }] }`.
 *   The ids are then given to a hazard report, rectification or check record (`photos: [id…]`).
 * - GET /files/:id, GET /files/:id/thumb — the stored bytes, for people of the file's enterprise
 *   (others: 404), with a long private cache (a file id's content never changes).
 *
 * The multipart body is read only after authentication and the permission check (registry), into
 * memory with @koa/multer limits, so an oversized or surplus file is refused while streaming and
 * nothing reaches storage.
 */
import multer from '@koa/multer';
import type { Context } from 'koa';
import { z } from 'zod';
import type { AppDeps } from '../../app';
import { AppError } from '../../errors';
import { fileTooLarge, readStoredFile, storeUploads, tooManyFiles, type FileDeps, type UploadedFile } from '../../services/files';
import type { ApiRegistry } from './registry';
import { idParams } from '../../domain/inputs';

/** Upload field name (multipart/form-data). */
export const UPLOAD_FIELD = 'files';


const gps = z.object({ latitude: z.number(), longitude: z.number() }).nullable().describe('from the photo EXIF (WGS-84 degrees); not kept in the stored file');
const uploadedItem = z.object({
  id: z.number().int(),
  mime: z.string().describe('detected from the bytes: image/jpeg, image/png, image/webp, image/heic, image/heif'),
  bytes: z.number().int().describe('size of the stored file, bytes'),
  width: z.number().int().nullable().describe('px, upright'),
  height: z.number().int().nullable().describe('px, upright'),
  url: z.string(),
  thumbUrl: z.string().nullable().describe('320 px JPEG; null for HEIC (no decoder here)'),
  gps,
});

function fileDeps(deps: AppDeps): FileDeps {
  if (!deps.files) throw new AppError(503, 'uploads_unavailable', '文件存储未配置', 'file storage is not configured');
  return deps.files;
}

/**
 * Reads the multipart body into memory within the limits.
 * @throws AppError 415 `multipart_required`, 413 `file_too_large`, 400 `too_many_files`,
 *         400 `unexpected_field`, 400 `invalid_multipart`
 */
async function receive(ctx: Context, limits: FileDeps): Promise<Array<{ bytes: Buffer; originalName: string }>> {
  if (!ctx.is('multipart/form-data')) {
    throw new AppError(415, 'multipart_required', `请以 multipart/form-data 上传，文件放在字段 ${UPLOAD_FIELD} 中`, `send multipart/form-data with the files in field "${UPLOAD_FIELD}"`);
  }
  // defParamCharset (multer 2, not in @types/koa__multer yet): phones send UTF-8 file names
  // (现场照片.jpg) without declaring a charset; busboy's default would read them as latin1
  const options: multer.Options & { defParamCharset: string } = {
    storage: multer.memoryStorage(),
    defParamCharset: 'utf8',
    limits: { fileSize: limits.maxBytes, files: limits.maxFiles, fields: 20, fieldSize: 64 * 1024, parts: limits.maxFiles + 20 },
  };
  const upload = multer(options).array(UPLOAD_FIELD, limits.maxFiles);
  try {
    await upload(ctx as never, async () => undefined);
  } catch (err) {
    throw multipartError(err, limits);
  }
  const files = (ctx.files ?? ctx.request.files) as multer.File[] | undefined;
  return (files ?? []).map((f) => ({ bytes: f.buffer, originalName: f.originalname }));
}

function multipartError(err: unknown, limits: FileDeps): AppError {
  const e = err as { name?: string; code?: string; field?: string; message?: string };
  if (e.name === 'MulterError') {
    switch (e.code) {
      case 'LIMIT_FILE_SIZE':
        return fileTooLarge(limits.maxBytes);
      case 'LIMIT_FILE_COUNT':
        return tooManyFiles(limits.maxFiles);
      case 'LIMIT_UNEXPECTED_FILE':
        // multer says "unexpected" both for a file in another field and for one past maxCount
        return e.field === UPLOAD_FIELD
          ? tooManyFiles(limits.maxFiles)
          : new AppError(400, 'unexpected_field', `文件只能放在字段 ${UPLOAD_FIELD} 中（收到 ${e.field}）`, `files go in field "${UPLOAD_FIELD}" (got "${e.field}")`, { field: e.field });
      default:
        return new AppError(400, 'invalid_multipart', '上传内容格式有误', `malformed upload: ${e.message ?? e.code}`, { reason: e.code });
    }
  }
  return new AppError(400, 'invalid_multipart', '上传内容格式有误或未传完', `malformed or incomplete multipart body: ${e.message ?? 'unknown'}`);
}

function shape(deps: AppDeps, f: UploadedFile): z.infer<typeof uploadedItem> {
  const url = `${deps.publicUrl}/api/v1/files/${f.id}`;
  return { id: f.id, mime: f.mime, bytes: f.bytes, width: f.width, height: f.height, url, thumbUrl: f.hasThumb ? `${url}/thumb` : null, gps: f.gps };
}

export function registerFileRoutes(api: ApiRegistry, limits: { maxFiles: number; maxBytes: number } = { maxFiles: 9, maxBytes: 10 * 1024 * 1024 }): void {
  api.add({
    method: 'post',
    path: '/files',
    permission: 'files.upload',
    tags: ['files'],
    summary: 'Upload photos (multipart field "files"): type from the bytes, EXIF orientation applied, metadata stripped, thumbnail; GPS returned',
    description:
      'JPEG, PNG, WebP or HEIC. Too many files → 400 too_many_files; a file too large → 413 file_too_large; not an accepted image → 415 unsupported_type; ' +
      'damaged → 422 unreadable_image. All or nothing: one bad file stores none. HEIC is kept as uploaded (EXIF/XMP blanked) without a thumbnail.',
    multipart: { field: UPLOAD_FIELD, maxFiles: limits.maxFiles, maxBytes: limits.maxBytes },
    response: z.object({ items: z.array(uploadedItem) }),
    successStatus: 201,
    handler: async ({ ctx, deps, actor }) => {
      const files = fileDeps(deps);
      const received = await receive(ctx, files);
      const items = await storeUploads(deps.prisma, { ...files, clock: deps.clock, log: ctx.state.log ?? deps.log }, { enterpriseId: actor.enterpriseId, personId: actor.personId }, received);
      return { items: items.map((f) => shape(deps, f)) };
    },
  });

  for (const variant of ['original', 'thumb'] as const) {
    api.add({
      method: 'get',
      path: variant === 'original' ? '/files/:id' : '/files/:id/thumb',
      permission: 'files.read',
      tags: ['files'],
      summary: variant === 'original' ? 'The stored photo (upright, without metadata)' : 'The 320 px JPEG thumbnail (404 for HEIC)',
      params: idParams,
      handler: async ({ ctx, deps, actor, params }) => {
        const f = await readStoredFile(deps.prisma, { storage: fileDeps(deps).storage, log: deps.log }, actor.enterpriseId, params.id, variant);
        ctx.set('Cache-Control', 'private, max-age=31536000, immutable');
        ctx.set('ETag', `"${f.sha256}"`);
        ctx.set('X-Content-Type-Options', 'nosniff');
        if (f.originalName) ctx.set('Content-Disposition', `inline; filename*=UTF-8''${encodeURIComponent(f.originalName)}`);
        ctx.type = f.mime;
        ctx.body = f.bytes;
        return undefined;
      },
    });
  }
}
