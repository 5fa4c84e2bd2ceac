/**
 * Prisma client over the MariaDB driver adapter (Prisma 7, no native engine).
 *
 * Every session runs in UTC (`timezone: 'Z'` on the driver, `time_zone = '+00:00'` on the server
 * session): Prisma 7 + MySQL have been reported to shift DateTime values by 8 h for Asia/Shanghai
 * setups, so instants are stored and read as UTC and converted only at the edges (design.md).
 * Pool size and connect timeout are set explicitly: the adapter's defaults changed in Prisma 7.
 */
import { PrismaMariaDb } from '@prisma/adapter-mariadb';
import { Prisma, PrismaClient } from './generated/prisma/client';
import { parseDatabaseUrl } from './db-url';

export { parseDatabaseUrl } from './db-url';

export type { PrismaClient } from './generated/prisma/client';
export { Prisma } from './generated/prisma/client';

export interface DbOptions {
  databaseUrl: string;
  databasePoolSize?: number;
  databaseConnectTimeoutMs?: number;
}

/** Creates a Prisma client; call `$disconnect()` to close its pool. */
export function createPrisma(opts: DbOptions): PrismaClient {
  const c = parseDatabaseUrl(opts.databaseUrl);
  const adapter = new PrismaMariaDb({
    host: c.host,
    port: c.port,
    user: c.user,
    password: c.password,
    database: c.database,
    connectionLimit: opts.databasePoolSize ?? 10,
    connectTimeout: opts.databaseConnectTimeoutMs ?? 5000,
    acquireTimeout: Math.max(10000, opts.databaseConnectTimeoutMs ?? 5000),
    timezone: 'Z',
    charset: 'utf8mb4',
    initSql: ["SET time_zone = '+00:00'", 'SET NAMES utf8mb4'],
  });
  return new PrismaClient({ adapter });
}

/**
 * Whether a value read from a row equals the value about to be written, as the database stores
 * it: null and undefined alike, Dates by instant, Decimals by value (also against a number or
 * string), JSON values by their serialisation, anything else by `===`. For writing only the fields
 * that changed, so `updatedAt` moves on a real change only (three lists, seed).
 */
export function sameStoredValue(a: unknown, b: unknown): boolean {
  if (a === null || a === undefined || b === null || b === undefined) return (a ?? null) === (b ?? null);
  if (a instanceof Date || b instanceof Date) return new Date(a as Date).getTime() === new Date(b as Date).getTime();
  if (Prisma.Decimal.isDecimal(a) || Prisma.Decimal.isDecimal(b)) {
    try {
      return new Prisma.Decimal(String(a)).equals(new Prisma.Decimal(String(b)));
    } catch {
      return false;
    }
  }
  if (typeof a === 'object' || typeof b === 'object') return JSON.stringify(a) === JSON.stringify(b);
  return a === b;
}

/**
 * A Prisma `contains` filter matching `text` literally. Prisma passes the value into `LIKE
 * '%…%'` as it is, so `%` and `_` in a search would be wildcards (`?q=%` matched every row) and
 * `\` MySQL's escape character: each is escaped with `\` (MySQL's default LIKE escape).
 */
export function containsText(text: string): { contains: string } {
  return { contains: text.replace(/[\\%_]/g, (c) => `\\${c}`) };
}
