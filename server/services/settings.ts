/**
 * Secrets every instance must share (link-signing key, outbox admin token). Taken from config when
 * set; otherwise generated once and kept in the Setting table — INSERT IGNORE, then read back, so
 * instances starting together agree on one value.
 */
import { randomBytes } from 'node:crypto';
import type { PrismaClient } from '../db';

export async function sharedSecret(prisma: PrismaClient, key: string, configured?: string): Promise<string> {
  if (configured) return configured;
  await prisma.setting.createMany({ data: [{ key, value: randomBytes(32).toString('base64url') }], skipDuplicates: true });
  return (await prisma.setting.findUniqueOrThrow({ where: { key } })).value;
}
