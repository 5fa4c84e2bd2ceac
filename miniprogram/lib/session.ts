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

/** Renew a minute early, so a request never leaves with a token about to expire. */
const MARGIN_MS = 60_000;

export function loadSession(now: number = Date.now()): Session | null {
  const s = readJson<Session>(KEYS.session);
  if (!s || typeof s.token !== 'string' || !s.person) return null;
  const exp = Date.parse(s.expiresAt);
  if (!Number.isFinite(exp) || exp - MARGIN_MS <= now) return null;
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
