/**
 * Mini-program session tokens and bind tokens (HS256 JWT via jose, one secret shared by every
 * instance: config SESSION_SECRET or `sharedSecret(prisma, 'session_secret')`).
 *
 * - session token: `{ typ: 'mp', sub: <person id>, oid: <openid> }`, valid SESSION_TTL_HOURS
 *   (default 24 h). Accepted by every API route like a per-person API token
 *   (services/tokens.ts actorForToken). An expired one is answered 401 `session_expired` so the
 *   phone logs in again silently (wx.login needs no user action).
 * - bind token: `{ typ: 'mp_bind', oid: <openid> }`, valid 10 minutes: proves "WeChat told us this
 *   openid" between POST /mp/login (unbound) and POST /mp/bind, without keeping state.
 * The openid in the token is the user's own id in this mini-program (not a secret); WeChat's
 * session_key is never put into either token (nor anywhere else).
 */
import { SignJWT, jwtVerify, errors } from 'jose';

/** How long a bind token is valid (ms): enough to tap "use my phone number" or type a code. */
export const BIND_TOKEN_TTL_MS = 10 * 60_000;

export class SessionError extends Error {
  constructor(public readonly code: 'session_expired' | 'session_invalid', message: string) {
    super(message);
  }
}

export interface SessionClaims {
  personId: number;
  openid: string;
}

export class SessionTokens {
  private readonly key: Uint8Array;
  constructor(secret: string, readonly ttlMs: number, private readonly now: () => Date = () => new Date()) {
    this.key = new TextEncoder().encode(secret);
  }

  private async sign(claims: Record<string, unknown>, ttlMs: number): Promise<{ token: string; expiresAt: Date }> {
    const iat = Math.floor(this.now().getTime() / 1000);
    const exp = iat + Math.floor(ttlMs / 1000);
    const token = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuer('dualprev').setIssuedAt(iat).setExpirationTime(exp).sign(this.key);
    return { token, expiresAt: new Date(exp * 1000) };
  }

  private async verifyTyp(token: string, typ: string): Promise<Record<string, unknown>> {
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'], issuer: 'dualprev', currentDate: this.now() });
      if (payload.typ !== typ) throw new SessionError('session_invalid', `not a ${typ} token`);
      return payload;
    } catch (e) {
      if (e instanceof SessionError) throw e;
      if (e instanceof errors.JWTExpired) throw new SessionError('session_expired', 'token expired');
      throw new SessionError('session_invalid', 'invalid token');
    }
  }

  /** A session token for a person logged in through the mini-program. */
  issueSession(c: SessionClaims): Promise<{ token: string; expiresAt: Date }> {
    return this.sign({ typ: 'mp', sub: String(c.personId), oid: c.openid }, this.ttlMs);
  }

  /** @throws SessionError session_expired | session_invalid */
  async verifySession(token: string): Promise<SessionClaims> {
    const p = await this.verifyTyp(token, 'mp');
    const personId = Number(p.sub);
    if (!Number.isInteger(personId) || personId <= 0 || typeof p.oid !== 'string' || !p.oid) throw new SessionError('session_invalid', 'malformed session');
    return { personId, openid: p.oid };
  }

  /** A bind token for an openid not yet bound to a person. */
  issueBind(openid: string): Promise<{ token: string; expiresAt: Date }> {
    return this.sign({ typ: 'mp_bind', oid: openid }, BIND_TOKEN_TTL_MS);
  }

  /** @returns the openid. @throws SessionError */
  async verifyBind(token: string): Promise<string> {
    const p = await this.verifyTyp(token, 'mp_bind');
    if (typeof p.oid !== 'string' || !p.oid) throw new SessionError('session_invalid', 'malformed bind token');
    return p.oid;
  }
}

/** Whether a bearer token has the shape of a JWT (three base64url parts), so it is worth verifying. */
export function looksLikeJwt(token: string): boolean {
  return token.length < 2048 && /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token);
}
