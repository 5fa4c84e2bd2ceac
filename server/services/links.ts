/**
 * Signed, expiring action links carried by every message, one per recipient (HS256 JWT via jose).
 * The link opens the ack page (routes/link.ts) as that person for that alert; it proves "this
 * person received this alert" and nothing more, so it expires (LINK_TTL_HOURS, default 72 h).
 */
import { SignJWT, jwtVerify, errors } from 'jose';

export interface LinkClaims {
  alertId: number;
  personId: number;
  /** the notification that carried the link (audit: which message the action came from) */
  notificationId: number | null;
  /** the link was posted where a whole group can read it: acting needs the recipient's mobile tail */
  shared?: boolean;
}

export class LinkError extends Error {
  constructor(public readonly code: 'link_expired' | 'link_invalid', message: string) {
    super(message);
  }
}

export class LinkSigner {
  private key: Uint8Array;
  constructor(secret: string, private readonly publicUrl: string, private readonly ttlMs: number, private readonly now: () => Date = () => new Date()) {
    this.key = new TextEncoder().encode(secret);
  }

  /** A token for one recipient of one alert. */
  async sign(c: LinkClaims): Promise<string> {
    const iat = Math.floor(this.now().getTime() / 1000);
    return new SignJWT({ a: c.alertId, p: c.personId, n: c.notificationId, ...(c.shared ? { s: 1 } : {}) })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt(iat)
      .setExpirationTime(iat + Math.floor(this.ttlMs / 1000))
      .sign(this.key);
  }

  /** The page URL for one recipient: `${PUBLIC_URL}/l/<token>`. */
  async url(c: LinkClaims): Promise<string> {
    return `${this.publicUrl}/l/${await this.sign(c)}`;
  }

  /** @throws LinkError link_expired | link_invalid */
  async verify(token: string): Promise<LinkClaims> {
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'], currentDate: this.now() });
      const a = Number(payload.a), p = Number(payload.p);
      if (!Number.isInteger(a) || !Number.isInteger(p)) throw new LinkError('link_invalid', 'malformed link');
      return { alertId: a, personId: p, notificationId: payload.n == null ? null : Number(payload.n), shared: payload.s === 1 };
    } catch (e) {
      if (e instanceof LinkError) throw e;
      if (e instanceof errors.JWTExpired) throw new LinkError('link_expired', 'link expired');
      throw new LinkError('link_invalid', 'invalid link');
    }
  }
}
