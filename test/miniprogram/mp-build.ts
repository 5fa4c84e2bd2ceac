/**
 * The mini-program compiled for a test file: miniprogram/**\/*.ts transpiled to CommonJS in a
 * temp directory of its own (so parallel jest workers never share files), with the .json / .wxml /
 * .wxss beside it — what miniprogram-simulate loads and what the Node tests require. The full
 * type-check (`tsc -p miniprogram/tsconfig.json`) runs as its own step of `npm test`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { buildMiniprogram } = require('../../scripts/build-miniprogram.js') as { buildMiniprogram(o: { outDir: string; typecheck: boolean }): string };

export interface MpBuild {
  dir: string;
  /** path of a page/component without extension, e.g. page('report') → <dir>/pages/report/report */
  page(name: string): string;
  /** require a compiled module, e.g. lib<typeof import('../../miniprogram/lib/queue')>('lib/queue') */
  lib<T>(name: string): T;
  cleanup(): void;
}

export function buildMp(): MpBuild {
  const dir = buildMiniprogram({ outDir: mkdtempSync(path.join(tmpdir(), 'dualprev-mp-')), typecheck: false });
  return {
    dir,
    page: (name) => path.join(dir, 'pages', name, name),
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    lib: <T>(name: string) => require(path.join(dir, name)) as T,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The phone's storage (wx.getStorageSync & co.): '' for a missing key, like WeChat. */
export function memoryStorage() {
  const m = new Map<string, unknown>();
  return {
    map: m,
    getStorageSync: (k: string) => (m.has(k) ? m.get(k) : ''),
    setStorageSync: (k: string, v: unknown) => void m.set(k, v),
    removeStorageSync: (k: string) => void m.delete(k),
  };
}

/** A session as lib/session.ts stores it. */
export function sessionJson(person: { id: number; name: string; roles: string[] }, expiresInMs = 3_600_000): string {
  return JSON.stringify({ token: 'test-token', expiresAt: new Date(Date.now() + expiresInMs).toISOString(), person: { ...person, enterpriseId: 1, enterpriseName: '示范化工' } });
}
