#!/usr/bin/env node
/**
 * `npm run prisma:generate`: runs `prisma generate` only when the generated client is out of date,
 * so `npm start` / `npm test` can call it every time for (almost) nothing.
 *
 * The client is up to date when server/generated/prisma exists, is newer than prisma/schema.prisma,
 * and its stamp file holds the sha256 of the current schema (and the Prisma version that generated
 * it). A schema that was only touched (git checkout, editor save without change) keeps its hash, so
 * it does not trigger a regeneration either; the stamp's mtime is refreshed instead.
 *
 * The Prisma CLI insists on a native schema engine it cannot download here (see
 * ../shared/prisma-offline.md); `generate` never runs it, so PRISMA_SCHEMA_ENGINE_BINARY points at
 * scripts/no-schema-engine.sh, which fails loudly should anything try.
 *
 * Usage: node scripts/prisma-generate.js [--force] [--quiet]
 */
'use strict';

const { spawnSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const schemaPath = path.join(root, 'prisma', 'schema.prisma');
const outDir = path.join(root, 'server', 'generated', 'prisma');
const stampPath = path.join(outDir, '.schema.sha256');
const engineStub = path.join(__dirname, 'no-schema-engine.sh');

const args = new Set(process.argv.slice(2));
const force = args.has('--force');
const quiet = args.has('--quiet');
const log = (msg) => {
  if (!quiet) console.log(`[prisma:generate] ${msg}`);
};

function mtimeMs(p) {
  try {
    return fs.statSync(p).mtimeMs;
  } catch {
    return -1;
  }
}

function prismaVersion() {
  try {
    return require(path.join(root, 'node_modules', 'prisma', 'package.json')).version;
  } catch {
    return 'unknown';
  }
}

/** The stamp: first line sha256 of the schema, second line the Prisma version that generated. */
function expectedStamp(schemaText) {
  const sha = crypto.createHash('sha256').update(schemaText).digest('hex');
  return `${sha}\nprisma ${prismaVersion()}\n`;
}

/** Why the client must be (re)generated, or null when it is up to date. */
function staleReason(stamp) {
  if (force) return '--force';
  if (!fs.existsSync(path.join(outDir, 'client.ts'))) return 'no generated client yet';
  let current;
  try {
    current = fs.readFileSync(stampPath, 'utf8');
  } catch {
    return 'no stamp file';
  }
  if (current !== stamp) return 'schema.prisma (or the Prisma version) changed';
  return null;
}

function main() {
  const schemaText = fs.readFileSync(schemaPath);
  const stamp = expectedStamp(schemaText);
  const reason = staleReason(stamp);
  if (!reason) {
    if (mtimeMs(schemaPath) > mtimeMs(stampPath)) {
      // touched but identical: refresh the stamp's mtime so the fast path stays a pure mtime check
      const now = new Date();
      fs.utimesSync(stampPath, now, now);
    }
    log('client is up to date');
    return 0;
  }

  log(`generating (${reason})`);
  const bin = path.join(root, 'node_modules', 'prisma', 'build', 'index.js');
  const res = spawnSync(process.execPath, [bin, 'generate', '--schema', schemaPath], {
    cwd: root,
    stdio: quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit',
    env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: engineStub, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
  });
  if (res.error) {
    console.error(`[prisma:generate] could not run prisma: ${res.error.message}`);
    return 1;
  }
  if (res.status !== 0) {
    console.error(`[prisma:generate] prisma generate failed (exit ${res.status})`);
    return res.status || 1;
  }
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(stampPath, stamp);
  return 0;
}

process.exitCode = main();
