/**
 * The session on the phone: the token from POST /mp/login or /mp/bind (a JWT, sent as
 * `Authorization: Bearer`), its expiry and the person (id, name, roles, enterprise). WeChat's
 * session_key never reaches the phone (the server keeps it).
 */
import type { SessionPerson } from '../shared/contract';
import { KEYS, readJson, remove, writeJson } from './storage';

export interface Session {
  token: string;
  /** ISO instant */
  expiresAt: string;
  person: SessionPerson;
}

/**
 * The stored session, or null when there is none. The expiry is NOT judged on the phone: a phone
 * whose clock runs ahead would throw away every fresh token and never get in. The server answers
 * 401 to an expired token; the client then clears the session and the user logs in again
 * (lib/api.ts), silently when the WeChat account is bound.
 */
export function loadSession(): Session | null {
  const s = readJson<Session>(KEYS.session);
  if (!s || typeof s.token !== 'string' || !s.token || !s.person) return null;
  return s;
}

export function saveSession(s: Session): void {
  writeJson(KEYS.session, s);
}

export function clearSession(): void {
  remove(KEYS.session);
}

/** Updates the roles/name kept with the session (after GET /me), so 销警 follows a role change. */
export function updatePerson(patch: Partial<SessionPerson>): void {
  const s = readJson<Session>(KEYS.session);
  if (s) saveSession({ ...s, person: { ...s.person, ...patch } });
}
