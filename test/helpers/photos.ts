/**
 * Uploading a photo over HTTP (POST /api/v1/files) for tests that need evidence: a small JPEG made
 * with sharp, stored by the real files service. Returns the StoredFile id to give as `photos` /
 * `afterPhotos`.
 */
import request from 'supertest';
import sharp from 'sharp';
import type { TestSystem } from './system';

let seq = 0;

/** A distinct little JPEG (the colour varies, so no two uploads are the same bytes). */
export async function jpeg(width = 64, height = 48): Promise<Buffer> {
  seq++;
  return sharp({ create: { width, height, channels: 3, background: { r: (seq * 37) % 256, g: (seq * 91) % 256, b: 120 } } }).jpeg().toBuffer();
}

/** Uploads `n` photos as `token`'s person. @returns their ids */
export async function uploadPhotos(sys: TestSystem, token: string, n = 1): Promise<number[]> {
  let r = request(sys.app.callback()).post('/api/v1/files').set('authorization', `Bearer ${token}`);
  for (let i = 0; i < n; i++) r = r.attach('files', await jpeg(), { filename: `photo-${seq}.jpg`, contentType: 'image/jpeg' });
  const res = await r;
  if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${JSON.stringify(res.body)}`);
  return (res.body.items as Array<{ id: number }>).map((x) => x.id);
}
