/**
 * Uploaded photos and files (issue #3 item 3).
 *
 * Other services that take photo ids (hazard reports, rectifications, check records) validate them
 * with `assertFilesUsable` before storing the ids.
 */
import type { PrismaClient, Prisma } from '../db';
import { AppError } from '../errors';

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
