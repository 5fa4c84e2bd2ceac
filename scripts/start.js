#!/usr/bin/env node
/**
 * `npm start`: prepares what the server needs, then runs it in this process.
 * 1. generate the Prisma client when the schema changed (scripts/prisma-generate.js)
 * 2. compile TypeScript to dist/ (incremental: fast when nothing changed)
 * 3. run dist/server/main.js, which applies migrations and loads the demo plant when the
 *    database is empty (AUTO_MIGRATE / SEED_DEMO, see README)
 */
'use strict';
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const run = (file, args) => execFileSync(process.execPath, [file, ...args], { cwd: root, stdio: 'inherit' });

try {
  run(path.join(root, 'scripts', 'prisma-generate.js'), []);
  run(require.resolve('typescript/bin/tsc', { paths: [root] }), ['-p', path.join(root, 'tsconfig.build.json')]);
} catch (e) {
  process.stderr.write(`npm start: preparing failed (${e.message})\n`);
  process.exit(1);
}
require(path.join(root, 'dist', 'server', 'main.js'));
