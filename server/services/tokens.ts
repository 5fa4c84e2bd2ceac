/**
 * Per-person API tokens (the authentication of issue #2) and, next to them, the mini-program's
 * session tokens (issue #5, services/sessions.ts).
 * Only the SHA-256 of a token is stored; the token itself is shown once when issued.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { PrismaClient } from '../db';
import type { Clock } from '../clock';
import type { Actor } from './alert-actions';
import { looksLikeJwt, SessionError, type SessionTokens } from './sessions';
import { resolveChatIdentity } from './identity';
import { clipChars } from '../../miniprogram/shared/contract';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** Issues a token for a person. @returns the token (prefix `dp_`), shown only now. */
export async function issueApiToken(prisma: PrismaClient, personId: number, label = 'api'): Promise<string> {
  const token = `dp_${randomBytes(24).toString('base64url')}`;
  await prisma.apiToken.create({ data: { personId, tokenHash: sha256(token), label: clipChars(label, 64) } });
  return token;
}

/**
 * The active person behind a bearer token, or null (unknown, revoked, or person inactive).
 * Two kinds of token are accepted:
 * - `dp_…`: a per-person API token (this module);
 * - a mini-program session token (JWT, services/sessions.ts) when `sessions` is given: valid only
 *   while its openid is still bound to that person (unbinding logs the phone out).
 * @throws SessionError session_expired for an expired session token (the caller answers 401
 *   `session_expired`, so the phone logs in again)
 */
export async function actorForToken(prisma: PrismaClient, clock: Clock, token: string, sessions?: SessionTokens): Promise<Actor | null> {
  if (!token.startsWith('dp_')) return sessions && looksLikeJwt(token) ? actorForSession(prisma, sessions, token) : null;
  if (token.length > 100) return null;
  const row = await prisma.apiToken.findUnique({ where: { tokenHash: sha256(token) }, include: { person: { select: { id: true, enterpriseId: true, roles: true, active: true } } } });
  if (!row || row.revokedAt || !row.person.active) return null;
  // last-used is informative only; at most one write a minute per token
  if (!row.lastUsedAt || clock.now().getTime() - row.lastUsedAt.getTime() > 60_000) {
    await prisma.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: clock.now() } });
  }
  return actorOf(prisma, row.person);
}

async function actorForSession(prisma: PrismaClient, sessions: SessionTokens, token: string): Promise<Actor | null> {
  let claims;
  try {
    claims = await sessions.verifySession(token);
  } catch (e) {
    if (e instanceof SessionError && e.code === 'session_expired') throw e;
    return null;
  }
  const bound = await resolveChatIdentity(prisma, 'miniprogram', claims.openid);
  if (!bound || bound.personId !== claims.personId) return null;
  const person = await prisma.person.findUnique({ where: { id: claims.personId }, select: { id: true, enterpriseId: true, roles: true, active: true } });
  if (!person?.active) return null;
  return { ...(await actorOf(prisma, person)), via: 'miniprogram', openid: claims.openid };
}

async function actorOf(prisma: PrismaClient, person: { id: number; enterpriseId: number; roles: unknown }): Promise<Actor> {
  const roles = Array.isArray(person.roles) ? (person.roles as unknown[]).filter((r): r is string => typeof r === 'string') : [];
  const scope = roles.includes('regulator') ? (await prisma.regulatorScope.findMany({ where: { personId: person.id }, select: { enterpriseId: true } })).map((s) => s.enterpriseId) : undefined;
  return { personId: person.id, enterpriseId: person.enterpriseId, roles, ...(scope ? { scope } : {}) };
}
