#!/usr/bin/env node
/**
 * `npm test` — the one test command (README, .ci/run):
 * 1. generate the Prisma client if the schema changed
 * 2. check MySQL/MariaDB and Redis answer (TEST_DATABASE_URL, REDIS_URL; defaults: localhost) —
 *    the suite uses real ones, only the chat platforms are faked (test/fakes)
 * 3. type-check everything (tsc --noEmit), and the mini-program with its own tsconfig (wx typings),
 *    emitted to dist/mp (scripts/build-miniprogram.js)
 * 4. jest with TZ=UTC, then the unit tests again with TZ=Asia/Shanghai: results must not depend on
 *    the host's time zone
 * Extra arguments go to jest (e.g. `npm test -- test/unit`), which skips the second TZ run.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const extra = process.argv.slice(2);

function step(name, file, args, env = {}) {
  process.stdout.write(`\n── ${name}\n`);
  const r = spawnSync(process.execPath, [file, ...args], { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.status !== 0) {
    process.stderr.write(`npm test: "${name}" failed (exit ${r.status ?? r.signal})\n`);
    process.exit(r.status || 1);
  }
}

async function checkServices() {
  const mysql = require('mysql2/promise');
  const { Redis } = require('ioredis');
  const dbUrl = process.env.TEST_DATABASE_URL || 'mysql://root@127.0.0.1:3306/';
  const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  const problems = [];
  try {
    const u = new URL(dbUrl);
    const c = await mysql.createConnection({ host: u.hostname, port: Number(u.port || 3306), user: decodeURIComponent(u.username || 'root'), password: decodeURIComponent(u.password), connectTimeout: 5000 });
    await c.end();
  } catch (e) {
    problems.push(`MySQL/MariaDB at ${dbUrl.replace(/\/\/[^@]*@/, '//…@')} does not answer (${e.code || e.message}); start it or set TEST_DATABASE_URL`);
  }
  const r = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 5000 });
  try {
    await r.connect();
    await r.ping();
  } catch (e) {
    problems.push(`Redis at ${redisUrl} does not answer (${e.code || e.message}); start it or set REDIS_URL`);
  } finally {
    r.disconnect();
  }
  if (problems.length) {
    process.stderr.write(`npm test needs real services:\n  ${problems.join('\n  ')}\n(.ci/run starts them on a CI machine)\n`);
    process.exit(1);
  }
}

(async () => {
  step('prisma generate', path.join(root, 'scripts', 'prisma-generate.js'), []);
  process.stdout.write('\n── services\n');
  await checkServices();
  process.stdout.write('MySQL and Redis answer\n');
  step('typecheck', require.resolve('typescript/bin/tsc', { paths: [root] }), ['--noEmit', '-p', 'tsconfig.json']);
  step('mini-program (tsc -p miniprogram/tsconfig.json → dist/mp)', path.join(root, 'scripts', 'build-miniprogram.js'), []);
  const jest = require.resolve('jest/bin/jest', { paths: [root] });
  const ci = process.env.CI ? ['--ci'] : [];
  step('jest (TZ=UTC)', jest, [...ci, '--maxWorkers=2', ...extra], { TZ: 'UTC' });
  if (extra.length === 0) step('unit tests (TZ=Asia/Shanghai)', jest, [...ci, '--maxWorkers=2', 'test/unit'], { TZ: 'Asia/Shanghai' });
})().catch((e) => {
  process.stderr.write(`npm test: ${e.stack || e}\n`);
  process.exit(1);
});
