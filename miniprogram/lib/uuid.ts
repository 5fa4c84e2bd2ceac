/**
 * RFC 4122 version-4 UUIDs made on the phone: the per-install device id and the clientRequestId
 * of a queued report (the server answers a repeated id with the first result, never a second row).
 *
 * `random` returns 16 bytes; the default mixes Math.random with the clock (mini-programs have no
 * synchronous crypto source). 122 random bits: a clash between two phones of one enterprise (the
 * server's scope for a clientRequestId) is not a practical concern.
 */
export function uuid4(random: () => Uint8Array = defaultRandom): string {
  const b = random();
  if (b.length < 16) throw new Error('uuid4 needs 16 random bytes');
  b[6] = (b[6] & 0x0f) | 0x40; // version 4
  b[8] = (b[8] & 0x3f) | 0x80; // variant 10xx
  const h = Array.from(b.slice(0, 16), (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

let counter = 0;
function defaultRandom(): Uint8Array {
  const b = new Uint8Array(16);
  const t = Date.now() + counter++;
  for (let i = 0; i < 16; i++) b[i] = (Math.floor(Math.random() * 256) ^ (t >>> ((i % 4) * 8))) & 0xff;
  return b;
}

export function isUuid(s: unknown): s is string {
  return typeof s === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(s);
}
