/**
 * The project's migration runner (see ../shared/prisma-offline.md: Prisma's schema engine, which
 * `prisma migrate deploy` needs, cannot be downloaded here).
 *
 * Migrations are plain SQL in Prisma's layout — prisma/migrations/<timestamp>_<name>/migration.sql
 * plus migration_lock.toml — and every applied migration is recorded in Prisma's own
 * `_prisma_migrations` table, exactly as `prisma migrate deploy` records it (same columns, checksum =
 * sha256 hex of migration.sql, applied_steps_count 1 for a whole script), so `prisma migrate status`
 * agrees with this runner wherever the engine is available.
 *
 * Safety:
 * - `GET_LOCK('dualprev_migrate', 60)`: instances starting together take turns; the second one
 *   finds nothing left to do.
 * - MySQL DDL is not transactional: a migration that fails part-way leaves its earlier statements
 *   applied. Its row stays with finished_at NULL, and every later run refuses to continue until a
 *   person has looked (the error says how to resolve it, see `resolveMigration`).
 * - An applied migration whose file changed since (checksum differs) is refused too.
 */
import { parseDatabaseUrl, type DbConnectionSettings } from './db-url';
import { createHash, randomUUID } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import mysql from 'mysql2/promise';

export const MIGRATIONS_TABLE = '_prisma_migrations';
export const LOCK_NAME = 'dualprev_migrate';
const LOCK_TIMEOUT_S = 60;

export interface MigrateOptions {
  /** mysql://user:pass@host:port/database */
  databaseUrl: string;
  /** default: prisma/migrations of this checkout */
  migrationsDir?: string;
  log?: (msg: string) => void;
  /** create the database (utf8mb4) when it does not exist; default true */
  createDatabase?: boolean;
  connectTimeoutMs?: number;
}

export interface MigrationStatus {
  /** local migrations not applied yet, in order */
  pending: string[];
  /** true when nothing is pending and nothing needs a person (failed or edited migrations) */
  current: boolean;
  /** what needs a person, one line each (empty when fine) */
  problems: string[];
}

/** A migration directory on disk. */
export interface LocalMigration {
  name: string;
  file: string;
  sql: string;
  checksum: string;
}

interface MigrationRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

// ── connection ─────────────────────────────────────────────────────────────────────────────────

/** mysql:// URL → connection settings; a bad URL is a MigrationError like every other refusal. */
function parseUrl(url: string): DbConnectionSettings {
  try {
    return parseDatabaseUrl(url);
  } catch (e) {
    throw new MigrationError((e as Error).message);
  }
}

const ident = (name: string) => `\`${name.replace(/`/g, '``')}\``;

async function connect(url: string, connectTimeoutMs = 10000): Promise<{ conn: mysql.Connection; database: string }> {
  const c = parseUrl(url);
  if (!c.database) throw new MigrationError(`DATABASE_URL names no database (${url.replace(/\/\/[^@]*@/, '//…@')})`);
  const conn = await mysql.createConnection({
    host: c.host,
    port: c.port,
    user: c.user,
    password: c.password,
    charset: 'utf8mb4',
    timezone: 'Z',
    multipleStatements: true,
    connectTimeout: connectTimeoutMs,
  });
  await conn.query("SET time_zone = '+00:00'");
  return { conn, database: c.database };
}

async function databaseExists(conn: mysql.Connection, database: string): Promise<boolean> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [database]);
  return rows.length > 0;
}

async function tableExists(conn: mysql.Connection, database: string): Promise<boolean> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>(
    'SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
    [database, MIGRATIONS_TABLE],
  );
  return rows.length > 0;
}

/** The table exactly as Prisma's schema engine creates it on MySQL. */
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             DATETIME(3),
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          DATETIME(3),
    started_at              DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    applied_steps_count     INTEGER UNSIGNED NOT NULL DEFAULT 0
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`;

async function readRows(conn: mysql.Connection): Promise<MigrationRow[]> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>(`SELECT * FROM ${MIGRATIONS_TABLE} ORDER BY started_at, migration_name`);
  return rows as MigrationRow[];
}

// ── local migrations ───────────────────────────────────────────────────────────────────────────

/** prisma/migrations of this checkout, from server/ (ts-node) or dist/server/ (compiled). */
export function defaultMigrationsDir(): string {
  const candidates = [path.resolve(__dirname, '..', 'prisma', 'migrations'), path.resolve(__dirname, '..', '..', 'prisma', 'migrations')];
  return candidates.find((d) => fs.existsSync(d)) ?? candidates[0];
}

export function sha256Hex(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Prisma accepts a checksum taken with either line ending (git autocrlf), so do we. */
function checksumMatches(m: LocalMigration, recorded: string): boolean {
  if (m.checksum === recorded) return true;
  return sha256Hex(m.sql.replace(/\r\n/g, '\n')) === recorded || sha256Hex(m.sql.replace(/\r?\n/g, '\r\n')) === recorded;
}

/** The migration directories, sorted by name (their timestamp prefix). */
export function readLocalMigrations(dir: string): LocalMigration[] {
  if (!fs.existsSync(dir)) throw new MigrationError(`migrations directory not found: ${dir}`);
  const lock = path.join(dir, 'migration_lock.toml');
  if (fs.existsSync(lock)) {
    const provider = /^\s*provider\s*=\s*"([^"]+)"/m.exec(fs.readFileSync(lock, 'utf8'))?.[1];
    if (provider && provider !== 'mysql') throw new MigrationError(`${lock} says provider = "${provider}"; this runner applies MySQL migrations only`);
  }
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort()
    .map((name) => {
      const file = path.join(dir, name, 'migration.sql');
      if (!fs.existsSync(file)) throw new MigrationError(`${path.join(dir, name)} has no migration.sql (every migration directory needs one)`);
      const buf = fs.readFileSync(file);
      return { name, file, sql: buf.toString('utf8'), checksum: sha256Hex(buf) };
    });
}

// ── splitting SQL ──────────────────────────────────────────────────────────────────────────────

/**
 * Splits a migration script into statements at `;` that end a line (only whitespace after it),
 * outside quoted strings, quoted identifiers and comments. Chunks holding only comments are
 * dropped. `DELIMITER` (a mysql-client command, for procedures and triggers) is not supported.
 */
export function splitSqlStatements(sql: string): string[] {
  const out: string[] = [];
  let start = 0;
  let hasCode = false;
  let i = 0;
  const n = sql.length;
  const atLineStart = (pos: number) => pos === 0 || sql[pos - 1] === '\n';
  while (i < n) {
    const ch = sql[i];
    const next = sql[i + 1];
    if (ch === '-' && next === '-' && (i + 2 >= n || /\s/.test(sql[i + 2]))) {
      while (i < n && sql[i] !== '\n') i++;
      continue;
    }
    if (ch === '#') {
      while (i < n && sql[i] !== '\n') i++;
      continue;
    }
    if (ch === '/' && next === '*') {
      const executable = sql[i + 2] === '!' || sql[i + 2] === '+'; // /*!40101 … */ runs on MySQL
      const end = sql.indexOf('*/', i + 2);
      if (end < 0) throw new MigrationError(`unterminated /* comment at offset ${i}`);
      if (executable) hasCode = true;
      i = end + 2;
      continue;
    }
    if (ch === "'" || ch === '"' || ch === '`') {
      hasCode = true;
      let j = i + 1;
      for (;;) {
        if (j >= n) throw new MigrationError(`unterminated ${ch} quote starting at offset ${i}`);
        if (sql[j] === '\\' && ch !== '`') {
          j += 2;
          continue;
        }
        if (sql[j] === ch) {
          if (sql[j + 1] === ch) {
            j += 2; // doubled quote
            continue;
          }
          break;
        }
        j++;
      }
      i = j + 1;
      continue;
    }
    if (ch === ';') {
      let j = i + 1;
      while (j < n && (sql[j] === ' ' || sql[j] === '\t' || sql[j] === '\r')) j++;
      if (j >= n || sql[j] === '\n') {
        const stmt = sql.slice(start, i).trim();
        if (hasCode) out.push(stmt);
        start = i + 1;
        hasCode = false;
      }
      i++;
      continue;
    }
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (!hasCode && atLineStart(i) && /^DELIMITER\s/i.test(sql.slice(i, i + 10))) {
      throw new MigrationError('DELIMITER is a mysql client command and is not supported in migrations');
    }
    hasCode = true;
    i++;
  }
  const rest = sql.slice(start).trim();
  if (hasCode) out.push(rest);
  return out;
}

// ── checks ─────────────────────────────────────────────────────────────────────────────────────

const iso = (d: Date | null) => (d ? d.toISOString() : 'an unknown time');

function resolveCommand(name: string, flag: 'applied' | 'rolled-back'): string {
  return `npm run db:migrate -- --resolve-${flag} ${name}`;
}

/** Errors that stop the runner, each telling what to do. */
function problemsWith(rows: MigrationRow[], local: LocalMigration[], database: string): string[] {
  const problems: string[] = [];
  const byName = new Map(local.map((m) => [m.name, m]));
  for (const r of rows) {
    if (r.rolled_back_at) continue;
    const m = byName.get(r.migration_name);
    const rel = m ? path.relative(process.cwd(), m.file) || m.file : `prisma/migrations/${r.migration_name}/migration.sql`;
    if (!r.finished_at) {
      problems.push(
        [
          `Migration ${r.migration_name} started on ${iso(r.started_at)} and did not finish (failed part-way, or the process died):`,
          `row id '${r.id}' in ${database}.${MIGRATIONS_TABLE} has finished_at NULL and rolled_back_at NULL.`,
          `MySQL DDL is not transactional, so the statements of ${rel} before the failing one are still applied.`,
          r.logs ? `What was recorded:\n    ${r.logs.replace(/\n/g, '\n    ')}` : 'Nothing was recorded (the process probably died mid-way).',
          'To resolve it, compare the database with the file, then either:',
          `  a) finish the remaining statements by hand, then mark it applied:  ${resolveCommand(r.migration_name, 'applied')}`,
          `     (or by hand: UPDATE ${MIGRATIONS_TABLE} SET finished_at = CURRENT_TIMESTAMP(3), applied_steps_count = 1 WHERE id = '${r.id}';)`,
          `  b) undo the statements that were applied, fix the file if it was wrong, then:  ${resolveCommand(r.migration_name, 'rolled-back')}`,
          `     (or by hand: UPDATE ${MIGRATIONS_TABLE} SET rolled_back_at = CURRENT_TIMESTAMP(3) WHERE id = '${r.id}';) — the next run applies it again.`,
          `(With Prisma's schema engine at hand, \`prisma migrate resolve --applied|--rolled-back ${r.migration_name}\` does the same.)`,
        ].join('\n'),
      );
      continue;
    }
    if (m && !checksumMatches(m, r.checksum)) {
      problems.push(
        [
          `Migration ${r.migration_name} was applied on ${iso(r.finished_at)} with checksum ${r.checksum},`,
          `but ${rel} now has checksum ${m.checksum}: the file was edited after it was applied (row id '${r.id}' in ${database}.${MIGRATIONS_TABLE}).`,
          'An applied migration must not change: databases were built from its old text. To resolve it, either:',
          `  a) restore the file (git log -p -- ${rel}; git checkout <commit> -- ${rel}) and put the change in a NEW migration directory; or`,
          '  b) only if the edit changes nothing in any database (comments, whitespace), record the new checksum:',
          `     UPDATE ${MIGRATIONS_TABLE} SET checksum = '${m.checksum}' WHERE id = '${r.id}';`,
        ].join('\n'),
      );
    }
  }
  return problems;
}

function appliedNames(rows: MigrationRow[]): Set<string> {
  return new Set(rows.filter((r) => r.finished_at && !r.rolled_back_at).map((r) => r.migration_name));
}

async function withLock<T>(conn: mysql.Connection, fn: () => Promise<T>): Promise<T> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT GET_LOCK(?, ?) AS got', [LOCK_NAME, LOCK_TIMEOUT_S]);
  const got = rows[0]?.got;
  if (got !== 1 && got !== '1') {
    throw new MigrationError(
      `could not take the migration lock '${LOCK_NAME}' within ${LOCK_TIMEOUT_S} s: another instance is migrating ` +
        `(or hung while holding it; find its connection with SELECT IS_USED_LOCK('${LOCK_NAME}') and SHOW PROCESSLIST). Retry when it is done.`,
    );
  }
  try {
    return await fn();
  } finally {
    await conn.query('SELECT RELEASE_LOCK(?)', [LOCK_NAME]).catch(() => undefined);
  }
}

// ── public API ─────────────────────────────────────────────────────────────────────────────────

/**
 * Applies the pending migrations in order, each statement by statement, recording each in
 * `_prisma_migrations`.
 * @returns the names of the migrations applied by this call (empty when the database was current)
 * @throws MigrationError when a migration failed before (half-way) or an applied one was edited —
 *   the message says which row and file and how to resolve it — or when a statement fails now.
 */
export async function migrate(opts: MigrateOptions): Promise<{ applied: string[] }> {
  const log = opts.log ?? (() => undefined);
  const local = readLocalMigrations(opts.migrationsDir ?? defaultMigrationsDir());
  const { conn, database } = await connect(opts.databaseUrl, opts.connectTimeoutMs);
  try {
    return await withLock(conn, async () => {
      if (!(await databaseExists(conn, database))) {
        if (opts.createDatabase === false) throw new MigrationError(`database ${database} does not exist (createDatabase is off)`);
        await conn.query(`CREATE DATABASE IF NOT EXISTS ${ident(database)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
        log(`created database ${database}`);
      }
      await conn.query(`USE ${ident(database)}`);
      await conn.query(CREATE_MIGRATIONS_TABLE);

      const rows = await readRows(conn);
      const problems = problemsWith(rows, local, database);
      if (problems.length) throw new MigrationError(`refusing to migrate ${database}:\n\n${problems.join('\n\n')}`);

      const done = appliedNames(rows);
      const known = new Set(local.map((m) => m.name));
      for (const name of done) if (!known.has(name)) log(`warning: ${name} is applied to ${database} but not in the migrations directory (newer code ran here?)`);
      const pending = local.filter((m) => !done.has(m.name));
      const lastApplied = [...done].filter((n) => known.has(n)).sort().pop();
      for (const m of pending) if (lastApplied && m.name < lastApplied) log(`warning: ${m.name} is older than the applied ${lastApplied}; applying it now`);
      if (!pending.length) {
        log(`database ${database} is up to date: nothing to apply (${done.size} migrations were applied before)`);
        return { applied: [] };
      }

      const applied: string[] = [];
      for (const m of pending) {
        await applyOne(conn, m, database, log);
        applied.push(m.name);
      }
      return { applied };
    });
  } finally {
    await conn.end().catch(() => undefined);
  }
}

async function applyOne(conn: mysql.Connection, m: LocalMigration, database: string, log: (msg: string) => void): Promise<void> {
  const statements = splitSqlStatements(m.sql);
  const id = randomUUID();
  const started = Date.now();
  log(`applying ${m.name} (${statements.length} statements)`);
  await conn.query(`INSERT INTO ${MIGRATIONS_TABLE} (id, checksum, started_at, migration_name) VALUES (?, ?, CURRENT_TIMESTAMP(3), ?)`, [
    id,
    m.checksum,
    m.name,
  ]);
  for (let i = 0; i < statements.length; i++) {
    try {
      await conn.query(statements[i]);
    } catch (err) {
      const e = err as { code?: string; errno?: number; message?: string };
      const logs = [
        `${i} of ${statements.length} statements were applied; statement ${i + 1} failed:`,
        `${e.code ?? 'error'}${e.errno ? ` (${e.errno})` : ''}: ${e.message ?? String(err)}`,
        'Failed statement:',
        statements[i].length > 2000 ? `${statements[i].slice(0, 2000)}…` : statements[i],
      ].join('\n');
      await conn.query(`UPDATE ${MIGRATIONS_TABLE} SET logs = ? WHERE id = ?`, [logs, id]).catch(() => undefined);
      throw new MigrationError(
        `migration ${m.name} failed on ${database}: ${logs}\n\n` +
          `Statements 1..${i} are applied and stay applied (MySQL DDL is not transactional); row id '${id}' in ` +
          `${MIGRATIONS_TABLE} is left unfinished, so later runs stop until it is resolved ` +
          `(${resolveCommand(m.name, 'rolled-back')} after undoing them, or ${resolveCommand(m.name, 'applied')} after finishing them by hand).`,
      );
    }
  }
  await conn.query(
    `UPDATE ${MIGRATIONS_TABLE} SET applied_steps_count = applied_steps_count + 1, finished_at = CURRENT_TIMESTAMP(3) WHERE id = ?`,
    [id],
  );
  log(`applied ${m.name} in ${Date.now() - started} ms`);
}

/**
 * Where the database stands, without changing anything (used by /readyz): never creates the
 * database or the table, never takes the lock.
 */
export async function migrationStatus(opts: Omit<MigrateOptions, 'createDatabase' | 'log'>): Promise<MigrationStatus> {
  const local = readLocalMigrations(opts.migrationsDir ?? defaultMigrationsDir());
  const { conn, database } = await connect(opts.databaseUrl, opts.connectTimeoutMs);
  try {
    if (!(await databaseExists(conn, database)) || !(await tableExists(conn, database))) {
      return { pending: local.map((m) => m.name), current: local.length === 0, problems: [] };
    }
    await conn.query(`USE ${ident(database)}`);
    const rows = await readRows(conn);
    const done = appliedNames(rows);
    const pending = local.filter((m) => !done.has(m.name)).map((m) => m.name);
    const problems = problemsWith(rows, local, database);
    return { pending, current: pending.length === 0 && problems.length === 0, problems };
  } finally {
    await conn.end().catch(() => undefined);
  }
}

/**
 * What `prisma migrate resolve` does, after a person has dealt with a migration that failed part-way:
 * - 'rolled-back': its statements were undone; the failed row is marked rolled back and the next
 *   run applies the migration again;
 * - 'applied': its statements were completed by hand (or the schema was built otherwise); failed
 *   rows are marked rolled back and a finished row is recorded with the file's current checksum.
 */
export async function resolveMigration(
  opts: Omit<MigrateOptions, 'createDatabase'> & { name: string; as: 'applied' | 'rolled-back' },
): Promise<void> {
  const log = opts.log ?? (() => undefined);
  const local = readLocalMigrations(opts.migrationsDir ?? defaultMigrationsDir());
  const m = local.find((x) => x.name === opts.name);
  if (!m) throw new MigrationError(`no migration named ${opts.name} in the migrations directory`);
  const { conn, database } = await connect(opts.databaseUrl, opts.connectTimeoutMs);
  try {
    await withLock(conn, async () => {
      if (!(await databaseExists(conn, database))) throw new MigrationError(`database ${database} does not exist`);
      await conn.query(`USE ${ident(database)}`);
      await conn.query(CREATE_MIGRATIONS_TABLE);
      const rows = (await readRows(conn)).filter((r) => r.migration_name === m.name);
      const failed = rows.filter((r) => !r.finished_at && !r.rolled_back_at);
      if (opts.as === 'rolled-back') {
        if (!failed.length) throw new MigrationError(`${m.name} cannot be marked rolled back: it is not in a failed state`);
      } else if (rows.some((r) => r.finished_at && !r.rolled_back_at)) {
        throw new MigrationError(`${m.name} is already recorded as applied`);
      }
      for (const r of failed) {
        await conn.query(`UPDATE ${MIGRATIONS_TABLE} SET rolled_back_at = CURRENT_TIMESTAMP(3) WHERE id = ?`, [r.id]);
        log(`marked ${m.name} (row ${r.id}) rolled back`);
      }
      if (opts.as === 'applied') {
        const id = randomUUID();
        await conn.query(
          `INSERT INTO ${MIGRATIONS_TABLE} (id, checksum, started_at, finished_at, migration_name, applied_steps_count) ` +
            'VALUES (?, ?, CURRENT_TIMESTAMP(3), CURRENT_TIMESTAMP(3), ?, 0)',
          [id, m.checksum, m.name],
        );
        log(`recorded ${m.name} as applied (row ${id})`);
      }
    });
  } finally {
    await conn.end().catch(() => undefined);
  }
}
