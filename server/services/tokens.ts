/**
 * Per-person API tokens (the authentication of issue #2; the mini-program login comes later).
 * Only the SHA-256 of a token is stored; the token itself is shown once when issued.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { PrismaClient } from '../db';
import type { Clock } from '../clock';
import type { Actor } from './alert-actions';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** Issues a token for a person. @returns the token (prefix `dp_`), shown only now. */
export async function issueApiToken(prisma: PrismaClient, personId: number, label = 'api'): Promise<string> {
  const token = `dp_${randomBytes(24).toString('base64url')}`;
  await prisma.apiToken.create({ data: { personId, tokenHash: sha256(token), label: label.slice(0, 64) } });
  return token;
}

/** The active person behind a token, or null (unknown, revoked, or person inactive). */
export async function actorForToken(prisma: PrismaClient, clock: Clock, token: string): Promise<Actor | null> {
  if (!token.startsWith('dp_') || token.length > 100) return null;
  const row = await prisma.apiToken.findUnique({ where: { tokenHash: sha256(token) }, include: { person: { select: { id: true, enterpriseId: true, roles: true, active: true } } } });
  if (!row || row.revokedAt || !row.person.active) return null;
  // last-used is informative only; at most one write a minute per token
  if (!row.lastUsedAt || clock.now().getTime() - row.lastUsedAt.getTime() > 60_000) {
    await prisma.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: clock.now() } });
  }
  const roles = Array.isArray(row.person.roles) ? (row.person.roles as unknown[]).filter((r): r is string => typeof r === 'string') : [];
  const scope = roles.includes('regulator') ? (await prisma.regulatorScope.findMany({ where: { personId: row.person.id }, select: { enterpriseId: true } })).map((s) => s.enterpriseId) : undefined;
  return { personId: row.person.id, enterpriseId: row.person.enterpriseId, roles, ...(scope ? { scope } : {}) };
}
