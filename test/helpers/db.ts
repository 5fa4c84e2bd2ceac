/**
 * Throw-away MySQL/MariaDB databases for integration tests.
 *
 * `createTestDb()` creates `dualprev_t_<JEST_WORKER_ID>_<created, base 36>_<random>` on the server of
 * TEST_DATABASE_URL (default mysql://root@127.0.0.1:3306/), applies prisma/migrations with the
 * project's runner, and hands back a Prisma client from createPrisma. `drop()` disconnects and drops
 * it. Databases of crashed runs (named dualprev_t_%, older than an hour) are dropped on the way.
 */
import { randomBytes } from 'crypto';
import mysql from 'mysql2/promise';
import { createPrisma, type PrismaClient } from '../../server/db';
import { migrate } from '../../server/migrate';

export const TEST_DB_PREFIX = 'dualprev_t_';
const LEFTOVER_AGE_MS = 60 * 60 * 1000;

export interface TestDb {
  /** mysql:// URL of the new database */
  url: string;
  name: string;
  prisma: PrismaClient;
  drop(): Promise<void>;
}

/** The server URL without a database, from TEST_DATABASE_URL. */
export function testServerUrl(): string {
  const u = new URL(process.env.TEST_DATABASE_URL || 'mysql://root@127.0.0.1:3306/');
  u.pathname = '/';
  u.search = '';
  return u.toString();
}

export function urlFor(database: string): string {
  const u = new URL(testServerUrl());
  u.pathname = `/${database}`;
  return u.toString();
}

/** A plain mysql2 connection to the test server (no database selected), in UTC. */
export async function serverConnection(): Promise<mysql.Connection> {
  const u = new URL(testServerUrl());
  const conn = await mysql.createConnection({
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 3306,
    user: decodeURIComponent(u.username || 'root'),
    password: decodeURIComponent(u.password || ''),
    charset: 'utf8mb4',
    timezone: 'Z',
  });
  await conn.query("SET time_zone = '+00:00'");
  return conn;
}

/** Creation time encoded in a test database's name, or null for a name we did not make. */
function createdAt(name: string): number | null {
  const m = /^dualprev_t_\w+?_([0-9a-z]{8,9})_[0-9a-f]+$/.exec(name);
  if (!m) return null;
  const t = parseInt(m[1], 36);
  return Number.isFinite(t) ? t : null;
}

async function dropLeftovers(conn: mysql.Connection): Promise<void> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>(
    "SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'dualprev\\_t\\_%'",
  );
  const now = Date.now();
  for (const { name } of rows as Array<{ name: string }>) {
    const t = createdAt(name);
    if (t !== null && now - t > LEFTOVER_AGE_MS) {
      await conn.query(`DROP DATABASE IF EXISTS \`${name}\``).catch(() => undefined); // another worker may race us
    }
  }
}

export function newTestDbName(): string {
  const worker = (process.env.JEST_WORKER_ID || '0').replace(/\W/g, '');
  return `${TEST_DB_PREFIX}${worker}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

/**
 * A fresh database, migrated unless `migrate: false` (then it exists but is empty).
 * Call `drop()` in afterAll.
 */
export async function createTestDb(opts: { migrate?: boolean } = {}): Promise<TestDb> {
  const name = newTestDbName();
  const url = urlFor(name);
  const conn = await serverConnection();
  try {
    await dropLeftovers(conn);
    await conn.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  } finally {
    await conn.end();
  }
  if (opts.migrate !== false) await migrate({ databaseUrl: url, createDatabase: false });
  const prisma = createPrisma({ databaseUrl: url, databasePoolSize: 4 });
  let dropped = false;
  return {
    url,
    name,
    prisma,
    async drop() {
      if (dropped) return;
      dropped = true;
      await prisma.$disconnect().catch(() => undefined);
      const c = await serverConnection();
      try {
        await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await c.end();
      }
    },
  };
}
