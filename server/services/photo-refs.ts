/**
 * Photo references for API answers: StoredFile ids (as kept in JSON columns of hazards, hazard
 * steps and check records) → `{ id, url, thumbUrl, mime, width, height }`, with the URLs of the
 * files API (GET /api/v1/files/:id and /thumb; thumbUrl null when the file has no thumbnail, e.g.
 * HEIC). One query for all ids of an answer.
 */
import type { PrismaClient, Prisma } from '../db';

export interface PhotoRef {
  id: number;
  url: string;
  thumbUrl: string | null;
  mime: string | null;
  width: number | null;
  height: number | null;
}

/** Reads a JSON column of file ids; anything else is treated as no photos. */
export function photoIds(json: unknown): number[] {
  return Array.isArray(json) ? json.filter((x): x is number => Number.isInteger(x)) : [];
}

/**
 * @param base e.g. `${publicUrl}/api/v1/files`
 * @returns a function mapping a JSON id list to PhotoRefs (ids of another enterprise or gone: url only)
 */
export async function photoResolver(db: PrismaClient | Prisma.TransactionClient, enterpriseId: number, lists: unknown[], base: string): Promise<(json: unknown) => PhotoRef[]> {
  const ids = [...new Set(lists.flatMap(photoIds))];
  const rows = ids.length
    ? await db.storedFile.findMany({ where: { id: { in: ids }, enterpriseId }, select: { id: true, mime: true, width: true, height: true, thumbKey: true } })
    : [];
  const byId = new Map(rows.map((r) => [r.id, r]));
  return (json) =>
    photoIds(json).map((id) => {
      const r = byId.get(id);
      const url = `${base}/${id}`;
      return { id, url, thumbUrl: r?.thumbKey ? `${url}/thumb` : null, mime: r?.mime ?? null, width: r?.width ?? null, height: r?.height ?? null };
    });
}
