/**
 * Drift: prisma/migrations, applied to an empty database, must produce exactly what
 * prisma/schema.prisma declares — tables, columns (type incl. length/precision, nullability,
 * default, auto_increment, utf8mb4), primary keys, unique and plain indexes (names and column
 * order) and foreign keys (columns, referenced table/columns, ON DELETE / ON UPDATE).
 *
 * The expectation is derived here from the schema's DMMF, independently of
 * scripts/draft-migration.ts (which writes DDL), and compared with information_schema.
 * MySQL and MariaDB spellings are normalised: int(11) vs int, quoted vs bare defaults, and
 * MariaDB's JSON (LONGTEXT + CHECK json_valid(col)) vs MySQL's native JSON.
 *
 * Also here: the migration runner's contract (server/migrate.ts).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import mysql from 'mysql2/promise';
import { readDatamodel, relationMapName, type Datamodel, type DmmfField, type DmmfModel } from '../../scripts/draft-migration';
import {
  defaultMigrationsDir,
  migrate,
  migrationStatus,
  MIGRATIONS_TABLE,
  readLocalMigrations,
  resolveMigration,
  sha256Hex,
  splitSqlStatements,
} from '../../server/migrate';
import { createTestDb, newTestDbName, serverConnection, urlFor, type TestDb } from '../helpers/db';

const SCHEMA_PATH = path.join(__dirname, '..', '..', 'prisma', 'schema.prisma');
const INIT = '20261130000000_init';
/** every migration in the repository, oldest first */
const ALL = readLocalMigrations(defaultMigrationsDir()).map((m) => m.name);

// ── the shape both sides are reduced to ────────────────────────────────────────────────────────

interface ColumnShape {
  type: string;
  nullable: boolean;
  /** null: no default; 'now(p)': CURRENT_TIMESTAMP(p); else the literal / expression */
  default: string | null;
  autoIncrement: boolean;
  /** character set of textual columns (null for others) */
  charset: string | null;
}
interface IndexShape {
  unique: boolean;
  /** `col`, `col(len)`, `col DESC`, in index order */
  columns: string[];
}
interface ForeignKeyShape {
  columns: string[];
  refTable: string;
  refColumns: string[];
  onDelete: string;
  onUpdate: string;
}
interface TableShape {
  collation: string;
  columns: Map<string, ColumnShape>;
  primaryKey: string[];
  indexes: Map<string, IndexShape>;
  foreignKeys: Map<string, ForeignKeyShape>;
}
type DbShape = Map<string, TableShape>;

// ── expected, from schema.prisma ───────────────────────────────────────────────────────────────

const MAX_IDENT = 64;
/** Prisma's default constraint names (psl constraint_names.rs), truncated to 64 bytes. */
function prismaName(table: string, cols: string[], suffix: string): string {
  let base = `${table}_${cols.join('_')}`;
  const limit = MAX_IDENT - suffix.length;
  if (Buffer.byteLength(base) >= limit) base = Buffer.from(base).subarray(0, limit).toString('utf8').replace(/\uFFFD+$/, '');
  return base + suffix;
}

const tbl = (m: DmmfModel) => m.dbName ?? m.name;
const col = (f: DmmfField) => f.dbName ?? f.name;

function expectedType(f: DmmfField, dm: Datamodel): string {
  if (f.kind === 'enum') {
    const e = dm.enums.find((x) => x.name === f.type)!;
    return `enum(${e.values.map((v) => `'${(v.dbName ?? v.name).replace(/'/g, "''")}'`).join(',')})`;
  }
  const nt = f.nativeType;
  if (nt) {
    const [name, args] = nt;
    const lower = name.toLowerCase();
    const unsigned = /^unsigned/.exec(lower);
    if (unsigned) return `${lower.slice('unsigned'.length)} unsigned`;
    switch (name) {
      case 'TinyInt':
        return f.type === 'Boolean' ? 'tinyint(1)' : 'tinyint';
      case 'Decimal':
        return `decimal(${args.join(',')})`;
      case 'DateTime':
      case 'Timestamp':
      case 'Time':
        return args[0] && args[0] !== '0' ? `${lower}(${args[0]})` : lower;
      default:
        return args.length ? `${lower}(${args.join(',')})` : lower;
    }
  }
  const byType: Record<string, string> = {
    String: 'varchar(191)',
    Int: 'int',
    BigInt: 'bigint',
    Float: 'double',
    Decimal: 'decimal(65,30)',
    Boolean: 'tinyint(1)',
    DateTime: 'datetime(3)',
    Json: 'json',
    Bytes: 'longblob',
  };
  const t = byType[f.type];
  if (!t) throw new Error(`${f.name}: no MySQL mapping for ${f.type}`);
  return t;
}

const NUMERIC = /^(tinyint|smallint|mediumint|int|bigint|decimal|double|float)/;
const TEXTUAL = /^(varchar|char|tinytext|text|mediumtext|longtext|enum|json)/;

function normaliseNumber(type: string, v: string): string {
  return NUMERIC.test(type) && v.trim() !== '' && Number.isFinite(Number(v)) ? String(Number(v)) : v;
}

function expectedDefault(f: DmmfField, type: string, dm: Datamodel): string | null {
  if (!f.hasDefaultValue || f.default === undefined || f.type === 'Json' || f.type === 'Bytes') return null;
  const d = f.default;
  if (d !== null && typeof d === 'object' && 'name' in (d as object)) {
    const fn = d as { name: string; args: unknown[] };
    if (fn.name === 'now') return `now(${/\((\d)\)/.exec(type)?.[1] ?? 0})`;
    if (fn.name === 'dbgenerated' && fn.args.length && fn.args[0]) return normaliseExpression(String(fn.args[0]));
    return null; // autoincrement, uuid(), cuid(), …: not the database's business
  }
  if (typeof d === 'boolean') return d ? '1' : '0';
  if (f.kind === 'enum') {
    const v = dm.enums.find((x) => x.name === f.type)?.values.find((x) => x.name === d);
    return v?.dbName ?? String(d);
  }
  if (f.type === 'DateTime' && typeof d === 'string') {
    const p = Number(/\((\d)\)/.exec(type)?.[1] ?? 0);
    const iso = new Date(d).toISOString(); // 2020-01-01T00:00:00.000Z
    return iso.slice(0, 19).replace('T', ' ') + (p ? iso.slice(19, 20 + p) : '');
  }
  return normaliseNumber(type, String(d));
}

function normaliseExpression(e: string): string {
  let s = e.trim().toLowerCase();
  while (/^\(.*\)$/.test(s)) s = s.slice(1, -1).trim();
  return s;
}

function expectedShape(dm: Datamodel, schemaText: string): DbShape {
  const shape: DbShape = new Map();
  for (const m of dm.models) {
    const t: TableShape = { collation: 'utf8mb4_unicode_ci', columns: new Map(), primaryKey: [], indexes: new Map(), foreignKeys: new Map() };
    for (const f of m.fields) {
      if (f.kind === 'object') continue;
      const type = expectedType(f, dm);
      const auto = (f.default as { name?: string } | undefined)?.name === 'autoincrement';
      t.columns.set(col(f), {
        type,
        nullable: !f.isRequired,
        default: expectedDefault(f, type, dm),
        autoIncrement: auto,
        charset: TEXTUAL.test(type) ? 'utf8mb4' : null,
      });
    }
    const fieldCol = (name: string) => col(m.fields.find((x) => x.name === name)!);
    for (const idx of dm.indexes.filter((i) => i.model === m.name)) {
      const cols = idx.fields.map((c) => `${fieldCol(c.name)}${c.length ? `(${c.length})` : ''}${c.sortOrder === 'desc' ? ' DESC' : ''}`);
      if (idx.type === 'id') {
        t.primaryKey = cols;
        continue;
      }
      const plain = idx.fields.map((c) => fieldCol(c.name));
      const name = idx.dbName ?? prismaName(tbl(m), plain, idx.type === 'unique' ? '_key' : '_idx');
      t.indexes.set(name, { unique: idx.type === 'unique', columns: cols });
    }
    for (const f of m.fields) {
      if (f.kind !== 'object' || !f.relationFromFields?.length) continue;
      const target = dm.models.find((x) => x.name === f.type)!;
      const from = f.relationFromFields.map((n) => m.fields.find((x) => x.name === n)!);
      const optional = from.some((x) => !x.isRequired);
      const rule = (a: string) => a.replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase(); // SetNull → SET NULL
      const fkCols = from.map(col);
      t.foreignKeys.set(relationMapName(schemaText, m.name, f.name) ?? prismaName(tbl(m), fkCols, '_fkey'), {
        columns: fkCols,
        refTable: tbl(target),
        refColumns: (f.relationToFields ?? []).map((n) => col(target.fields.find((x) => x.name === n)!)),
        onDelete: rule(f.relationOnDelete ?? (optional ? 'SetNull' : 'Restrict')),
        onUpdate: rule(f.relationOnUpdate ?? 'Cascade'),
      });
    }
    // MySQL adds an index named after a foreign key when no index starts with its columns
    for (const [name, fk] of t.foreignKeys) {
      const covering = [t.primaryKey, ...[...t.indexes.values()].map((i) => i.columns)].some(
        (cols) => fk.columns.every((c, i) => cols[i] === c),
      );
      if (!covering) t.indexes.set(name, { unique: false, columns: fk.columns });
    }
    shape.set(tbl(m), t);
  }
  return shape;
}

// ── actual, from information_schema ────────────────────────────────────────────────────────────

function normaliseType(columnType: string, hasJsonCheck: boolean): string {
  let t = columnType.toLowerCase().trim();
  if (t === 'longtext' && hasJsonCheck) return 'json'; // MariaDB's JSON
  if (t !== 'tinyint(1)') t = t.replace(/^(tinyint|smallint|mediumint|int|bigint)\(\d+\)/, '$1');
  return t.replace(/\s+/g, ' ');
}

function normaliseDefault(raw: string | null, type: string): string | null {
  if (raw === null || raw === 'NULL') return null; // MariaDB shows NULL as the string NULL
  const now = /^current_timestamp(?:\((\d)\))?$/i.exec(raw.trim());
  if (now) return `now(${now[1] ?? 0})`;
  if (/^'.*'$/s.test(raw)) return normaliseNumber(type, raw.slice(1, -1).replace(/''/g, "'").replace(/\\\\/g, '\\')); // MariaDB quotes literals
  return normaliseNumber(type, raw.includes('(') ? normaliseExpression(raw) : raw);
}

async function actualShape(conn: mysql.Connection, db: string): Promise<DbShape> {
  const q = async <T>(sql: string): Promise<T[]> => (await conn.query<mysql.RowDataPacket[]>(sql, [db]))[0] as T[];
  const shape: DbShape = new Map();
  const tables = await q<{ TABLE_NAME: string; TABLE_COLLATION: string }>(
    `SELECT TABLE_NAME, TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' AND TABLE_NAME <> '${MIGRATIONS_TABLE}'`,
  );
  for (const t of tables)
    shape.set(t.TABLE_NAME, { collation: t.TABLE_COLLATION, columns: new Map(), primaryKey: [], indexes: new Map(), foreignKeys: new Map() });

  // MariaDB keeps JSON as LONGTEXT with a CHECK (json_valid(`col`)) constraint
  const jsonChecks = new Set<string>();
  const hasTableName = (
    await conn.query<mysql.RowDataPacket[]>(
      "SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'information_schema' AND TABLE_NAME = 'CHECK_CONSTRAINTS' AND COLUMN_NAME = 'TABLE_NAME'",
    )
  )[0].length;
  if (hasTableName) {
    for (const c of await q<{ TABLE_NAME: string; CHECK_CLAUSE: string }>(
      'SELECT TABLE_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ?',
    )) {
      const m = /^json_valid\(`([^`]+)`\)$/i.exec(c.CHECK_CLAUSE.trim());
      if (m) jsonChecks.add(`${c.TABLE_NAME}.${m[1]}`);
    }
  }

  for (const c of await q<{
    TABLE_NAME: string;
    COLUMN_NAME: string;
    COLUMN_TYPE: string;
    IS_NULLABLE: string;
    COLUMN_DEFAULT: string | null;
    EXTRA: string;
    CHARACTER_SET_NAME: string | null;
  }>(
    'SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, CHARACTER_SET_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION',
  )) {
    const t = shape.get(c.TABLE_NAME);
    if (!t) continue;
    const type = normaliseType(c.COLUMN_TYPE, jsonChecks.has(`${c.TABLE_NAME}.${c.COLUMN_NAME}`));
    t.columns.set(c.COLUMN_NAME, {
      type,
      nullable: c.IS_NULLABLE === 'YES',
      default: normaliseDefault(c.COLUMN_DEFAULT, type),
      autoIncrement: /auto_increment/i.test(c.EXTRA),
      charset: c.CHARACTER_SET_NAME,
    });
  }

  for (const s of await q<{ TABLE_NAME: string; INDEX_NAME: string; NON_UNIQUE: number | string; COLUMN_NAME: string; SUB_PART: number | null; COLLATION: string | null }>(
    'SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART, COLLATION FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX',
  )) {
    const t = shape.get(s.TABLE_NAME);
    if (!t) continue;
    const c = `${s.COLUMN_NAME}${s.SUB_PART ? `(${s.SUB_PART})` : ''}${s.COLLATION === 'D' ? ' DESC' : ''}`;
    if (s.INDEX_NAME === 'PRIMARY') {
      t.primaryKey.push(c);
      continue;
    }
    const idx = t.indexes.get(s.INDEX_NAME) ?? { unique: Number(s.NON_UNIQUE) === 0, columns: [] };
    idx.columns.push(c);
    t.indexes.set(s.INDEX_NAME, idx);
  }

  for (const k of await q<{
    TABLE_NAME: string;
    CONSTRAINT_NAME: string;
    COLUMN_NAME: string;
    REFERENCED_TABLE_NAME: string;
    REFERENCED_COLUMN_NAME: string;
    UPDATE_RULE: string;
    DELETE_RULE: string;
  }>(
    `SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.UPDATE_RULE, r.DELETE_RULE
       FROM information_schema.KEY_COLUMN_USAGE k
       JOIN information_schema.REFERENTIAL_CONSTRAINTS r
         ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME
      WHERE k.TABLE_SCHEMA = ? AND k.REFERENCED_TABLE_NAME IS NOT NULL
      ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION`,
  )) {
    const t = shape.get(k.TABLE_NAME);
    if (!t) continue;
    const fk = t.foreignKeys.get(k.CONSTRAINT_NAME) ?? {
      columns: [],
      refTable: k.REFERENCED_TABLE_NAME,
      refColumns: [],
      onDelete: k.DELETE_RULE,
      onUpdate: k.UPDATE_RULE,
    };
    fk.columns.push(k.COLUMN_NAME);
    fk.refColumns.push(k.REFERENCED_COLUMN_NAME);
    t.foreignKeys.set(k.CONSTRAINT_NAME, fk);
  }
  return shape;
}

// ── the comparison ─────────────────────────────────────────────────────────────────────────────

function describeColumn(c: ColumnShape): string {
  return `${c.type}${c.nullable ? ' NULL' : ' NOT NULL'}${c.autoIncrement ? ' AUTO_INCREMENT' : ''}${c.default !== null ? ` DEFAULT ${c.default}` : ''}`;
}
const describeIndex = (i: IndexShape) => `${i.unique ? 'UNIQUE ' : ''}(${i.columns.join(', ')})`;
const describeFk = (f: ForeignKeyShape) =>
  `(${f.columns.join(', ')}) → ${f.refTable}(${f.refColumns.join(', ')}) ON DELETE ${f.onDelete} ON UPDATE ${f.onUpdate}`;

/**
 * One line per difference between what schema.prisma declares and what the database has,
 * e.g. `Enterprise.timezone: type: schema varchar(64), database varchar(65)`. Empty = no drift.
 */
function compareShapes(expected: DbShape, actual: DbShape): string[] {
  const out: string[] = [];
  for (const [name, e] of expected) {
    const a = actual.get(name);
    if (!a) {
      out.push(`${name}: table missing in the database`);
      continue;
    }
    if (a.collation !== e.collation) out.push(`${name}: table collation: schema ${e.collation}, database ${a.collation}`);
    for (const [c, ec] of e.columns) {
      const ac = a.columns.get(c);
      if (!ac) {
        out.push(`${name}.${c}: column missing in the database (schema: ${describeColumn(ec)})`);
        continue;
      }
      for (const k of ['type', 'nullable', 'default', 'autoIncrement', 'charset'] as const) {
        if (ec[k] !== ac[k]) out.push(`${name}.${c}: ${k}: schema ${String(ec[k])}, database ${String(ac[k])}`);
      }
    }
    for (const [c, ac] of a.columns) if (!e.columns.has(c)) out.push(`${name}.${c}: column not in schema.prisma (database: ${describeColumn(ac)})`);
    if (e.primaryKey.join() !== a.primaryKey.join())
      out.push(`${name}: primary key: schema (${e.primaryKey.join(', ')}), database (${a.primaryKey.join(', ')})`);
    for (const [i, ei] of e.indexes) {
      const ai = a.indexes.get(i);
      if (!ai) out.push(`${name}: index ${i} missing in the database (schema: ${describeIndex(ei)})`);
      else if (describeIndex(ai) !== describeIndex(ei)) out.push(`${name}: index ${i}: schema ${describeIndex(ei)}, database ${describeIndex(ai)}`);
    }
    for (const [i, ai] of a.indexes) if (!e.indexes.has(i)) out.push(`${name}: index ${i} not in schema.prisma (database: ${describeIndex(ai)})`);
    for (const [f, ef] of e.foreignKeys) {
      const af = a.foreignKeys.get(f);
      if (!af) out.push(`${name}: foreign key ${f} missing in the database (schema: ${describeFk(ef)})`);
      else if (describeFk(af) !== describeFk(ef)) out.push(`${name}: foreign key ${f}: schema ${describeFk(ef)}, database ${describeFk(af)}`);
    }
    for (const [f, af] of a.foreignKeys) if (!e.foreignKeys.has(f)) out.push(`${name}: foreign key ${f} not in schema.prisma (database: ${describeFk(af)})`);
  }
  for (const name of actual.keys()) if (!expected.has(name)) out.push(`${name}: table not in schema.prisma`);
  return out;
}

async function driftOf(db: TestDb, expected: DbShape): Promise<string[]> {
  const conn = await serverConnection();
  try {
    return compareShapes(expected, await actualShape(conn, db.name));
  } finally {
    await conn.end();
  }
}

async function exec(db: TestDb, ...statements: string[]): Promise<void> {
  const conn = await serverConnection();
  try {
    await conn.query(`USE \`${db.name}\``);
    for (const s of statements) await conn.query(s);
  } finally {
    await conn.end();
  }
}

// ── tests ──────────────────────────────────────────────────────────────────────────────────────

describe('schema drift: prisma/migrations vs schema.prisma', () => {
  let expected: DbShape;
  const dbs: TestDb[] = [];
  beforeAll(async () => {
    const schemaText = fs.readFileSync(SCHEMA_PATH, 'utf8');
    expected = expectedShape(await readDatamodel(schemaText), schemaText);
  });
  afterAll(async () => {
    for (const db of dbs) await db.drop();
  });

  test('applying every migration to an empty database gives exactly what schema.prisma declares', async () => {
    const db = await createTestDb();
    dbs.push(db);
    const drift = await driftOf(db, expected);
    // a readable diff: one line per difference
    expect(drift).toEqual([]);
    expect(expected.size).toBeGreaterThan(20); // the comparison did look at the models
  });

  test('the comparison reports a dropped column, a dropped index, a changed @db type and more', async () => {
    const db = await createTestDb();
    dbs.push(db);
    await exec(
      db,
      'ALTER TABLE `Hazard` DROP COLUMN `location`',
      'DROP INDEX `Alert_nextFireAt_idx` ON `Alert`',
      "ALTER TABLE `Enterprise` MODIFY `timezone` VARCHAR(65) NOT NULL DEFAULT 'Asia/Shanghai'",
      "ALTER TABLE `Notification` ALTER COLUMN `state` SET DEFAULT 'queued'",
      'ALTER TABLE `Person` MODIFY `mobile` VARCHAR(32) NOT NULL',
      'ALTER TABLE `Hazard` DROP FOREIGN KEY `Hazard_reporterId_fkey`',
      'ALTER TABLE `Hazard` ADD CONSTRAINT `Hazard_reporterId_fkey` FOREIGN KEY (`reporterId`) REFERENCES `Person`(`id`) ON DELETE CASCADE ON UPDATE CASCADE',
      'CREATE INDEX `Hazard_extra_idx` ON `Hazard`(`state`, `code`)',
      'ALTER TABLE `CheckTask` DROP INDEX `CheckTask_enabled_generatedUntil_idx`, ADD INDEX `CheckTask_enabled_generatedUntil_idx`(`generatedUntil`, `enabled`)',
    );
    const drift = await driftOf(db, expected);
    const expectations = [
      /^Hazard\.location: column missing in the database \(schema: varchar\(255\) NULL\)$/,
      /^Alert: index Alert_nextFireAt_idx missing in the database \(schema: \(nextFireAt\)\)$/,
      /^Enterprise\.timezone: type: schema varchar\(64\), database varchar\(65\)$/,
      /^Notification\.state: default: schema pending, database queued$/,
      /^Person\.mobile: nullable: schema true, database false$/,
      /^Hazard: foreign key Hazard_reporterId_fkey: schema .*ON DELETE RESTRICT ON UPDATE CASCADE, database .*ON DELETE CASCADE ON UPDATE CASCADE$/,
      /^Hazard: index Hazard_extra_idx not in schema\.prisma \(database: \(state, code\)\)$/,
      /^CheckTask: index CheckTask_enabled_generatedUntil_idx: schema \(enabled, generatedUntil\), database \(generatedUntil, enabled\)$/,
    ];
    for (const re of expectations) expect(drift).toContainEqual(expect.stringMatching(re));
    // and nothing else: every line is explained by a mutation above
    expect(drift.filter((line) => !expectations.some((re) => re.test(line)))).toEqual([]);
  });

  test('a JSON column stored as plain LONGTEXT (no json_valid check) is drift', async () => {
    const db = await createTestDb();
    dbs.push(db);
    await exec(db, 'ALTER TABLE `Person` MODIFY `roles` LONGTEXT NOT NULL');
    expect(await driftOf(db, expected)).toEqual(['Person.roles: type: schema json, database longtext']);
  });
});

describe('migration runner (server/migrate.ts)', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  /** a database name nobody has created yet, dropped after the tests */
  function freshDbUrl(): { name: string; url: string } {
    const name = newTestDbName();
    cleanups.push(async () => {
      const c = await serverConnection();
      await c.query(`DROP DATABASE IF EXISTS \`${name}\``).finally(() => c.end());
    });
    return { name, url: urlFor(name) };
  }

  /** a copy of prisma/migrations we may edit */
  function copyMigrations(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualprev-migrations-'));
    fs.cpSync(defaultMigrationsDir(), dir, { recursive: true });
    cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  async function rows(name: string): Promise<mysql.RowDataPacket[]> {
    const c = await serverConnection();
    try {
      const [r] = await c.query<mysql.RowDataPacket[]>(`SELECT * FROM \`${name}\`.${MIGRATIONS_TABLE} ORDER BY started_at, migration_name`);
      return r;
    } finally {
      await c.end();
    }
  }

  test('creates the database, applies once, records Prisma-compatible rows; a second run applies nothing', async () => {
    const { name, url } = freshDbUrl();
    expect(await migrationStatus({ databaseUrl: url })).toEqual({ pending: ALL, current: false, problems: [] });

    const logs: string[] = [];
    expect(await migrate({ databaseUrl: url, log: (m) => logs.push(m) })).toEqual({ applied: ALL });
    expect(logs.join('\n')).toMatch(/applied 20261130000000_init/);
    expect(await migrate({ databaseUrl: url })).toEqual({ applied: [] });
    expect(await migrationStatus({ databaseUrl: url })).toEqual({ pending: [], current: true, problems: [] });

    const r = await rows(name);
    expect(r.map((x) => x.migration_name)).toEqual(ALL);
    const file = path.join(defaultMigrationsDir(), INIT, 'migration.sql');
    expect(r[0]).toMatchObject({
      migration_name: INIT,
      checksum: sha256Hex(fs.readFileSync(file)),
      logs: null,
      rolled_back_at: null,
      applied_steps_count: 1,
    });
    expect(r[0].id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(r[0].finished_at).toBeInstanceOf(Date);
    expect(Math.abs(r[0].finished_at.getTime() - Date.now())).toBeLessThan(5 * 60_000); // stored in UTC

    // the table is Prisma's: same columns and types
    const c = await serverConnection();
    try {
      const [cols] = await c.query<mysql.RowDataPacket[]>(
        'SELECT COLUMN_NAME AS n, COLUMN_TYPE AS t, IS_NULLABLE AS nul, COLUMN_DEFAULT AS d, COLUMN_KEY AS k FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
        [name, MIGRATIONS_TABLE],
      );
      expect(cols.map((x) => `${x.n} ${normaliseType(x.t, false)} ${x.nul === 'YES' ? 'NULL' : 'NOT NULL'}${x.k === 'PRI' ? ' PK' : ''}`)).toEqual([
        'id varchar(36) NOT NULL PK',
        'checksum varchar(64) NOT NULL',
        'finished_at datetime(3) NULL',
        'migration_name varchar(255) NOT NULL',
        'logs text NULL',
        'rolled_back_at datetime(3) NULL',
        'started_at datetime(3) NOT NULL',
        'applied_steps_count int unsigned NOT NULL',
      ]);
      const [[db]] = await c.query<mysql.RowDataPacket[]>('SELECT DEFAULT_CHARACTER_SET_NAME AS cs FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [name]);
      expect(db.cs).toBe('utf8mb4');
    } finally {
      await c.end();
    }
  });

  test('two concurrent migrate() calls on the same fresh database both succeed and apply once', async () => {
    const { name, url } = freshDbUrl();
    const results = await Promise.all([migrate({ databaseUrl: url }), migrate({ databaseUrl: url })]);
    expect(results.flatMap((r) => r.applied)).toEqual(ALL);
    const r = await rows(name);
    expect(r.map((x) => [x.migration_name, x.finished_at !== null])).toEqual(ALL.map((n) => [n, true]));
  });

  test('an applied migration whose file changed is refused, with the way out', async () => {
    const { url } = freshDbUrl();
    const dir = copyMigrations();
    await migrate({ databaseUrl: url, migrationsDir: dir });
    const file = path.join(dir, INIT, 'migration.sql');
    fs.appendFileSync(file, '\n-- an innocent-looking edit\n');
    const newSum = sha256Hex(fs.readFileSync(file));

    const err = await migrate({ databaseUrl: url, migrationsDir: dir }).then(
      () => null,
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).toContain(`Migration ${INIT} was applied on`);
    expect(err!.message).toContain(`the file was edited after it was applied`);
    expect(err!.message).toContain(path.join(INIT, 'migration.sql'));
    expect(err!.message).toContain('put the change in a NEW migration directory');
    expect(err!.message).toContain(`UPDATE ${MIGRATIONS_TABLE} SET checksum = '${newSum}' WHERE id = '`);

    const status = await migrationStatus({ databaseUrl: url, migrationsDir: dir });
    expect(status.current).toBe(false);
    expect(status.pending).toEqual([]);
    expect(status.problems).toHaveLength(1);
  });

  test('a migration that fails half-way blocks later runs until it is resolved', async () => {
    const { name, url } = freshDbUrl();
    const dir = copyMigrations();
    const broken = '20261201000000_broken';
    fs.mkdirSync(path.join(dir, broken));
    const file = path.join(dir, broken, 'migration.sql');
    fs.writeFileSync(file, 'CREATE TABLE `t1` (`id` INTEGER NOT NULL, PRIMARY KEY (`id`));\n\nALTER TABLE `nope` ADD COLUMN `x` INTEGER;\n\nCREATE TABLE `t2` (`id` INTEGER NOT NULL);\n');

    await expect(migrate({ databaseUrl: url, migrationsDir: dir })).rejects.toThrow(/1 of 3 statements were applied; statement 2 failed/);
    let r = await rows(name);
    expect(r.map((x) => [x.migration_name, x.finished_at === null])).toEqual([...ALL.map((n) => [n, false]), [broken, true]]);
    const failed = r[r.length - 1];
    expect(failed.logs).toContain('ALTER TABLE `nope` ADD COLUMN `x` INTEGER');

    // the next run refuses, and says which row, which file and how to resolve
    const err = await migrate({ databaseUrl: url, migrationsDir: dir }).then(
      () => null,
      (e: Error) => e,
    );
    expect(err!.message).toContain(`Migration ${broken} started on`);
    expect(err!.message).toContain(`row id '${failed.id}'`);
    expect(err!.message).toContain(path.join(broken, 'migration.sql'));
    expect(err!.message).toContain(`npm run db:migrate -- --resolve-rolled-back ${broken}`);
    expect(err!.message).toContain(`npm run db:migrate -- --resolve-applied ${broken}`);
    expect((await migrationStatus({ databaseUrl: url, migrationsDir: dir })).current).toBe(false);

    // a person undoes statement 1, fixes the file, and marks the attempt rolled back
    const c = await serverConnection();
    await c.query(`DROP TABLE \`${name}\`.\`t1\``).finally(() => c.end());
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('ALTER TABLE `nope` ADD COLUMN `x` INTEGER;\n\n', ''));
    await resolveMigration({ databaseUrl: url, migrationsDir: dir, name: broken, as: 'rolled-back' });
    expect(await migrate({ databaseUrl: url, migrationsDir: dir })).toEqual({ applied: [broken] });

    r = await rows(name);
    expect(r.map((x) => [x.migration_name, x.finished_at !== null, x.rolled_back_at !== null])).toEqual([
      ...ALL.map((n) => [n, true, false]),
      [broken, false, true],
      [broken, true, false],
    ]);
    expect(await migrationStatus({ databaseUrl: url, migrationsDir: dir })).toEqual({ pending: [], current: true, problems: [] });
  });

  test('splits statements only at a ";" ending a line, outside strings and comments', () => {
    const sql = [
      '-- a comment; with a semicolon;',
      "INSERT INTO t VALUES ('a;\nb', \"c;\", 'it''s;', 'back\\'slash;');",
      '/* block;',
      '   comment; */',
      'CREATE TABLE `odd;name` (x INT); ',
      'SELECT 1; SELECT 2;',
      '# hash comment;',
      '/*!40101 SET NAMES utf8mb4 */;',
      '-- trailing comment only;',
    ].join('\n');
    expect(splitSqlStatements(sql)).toEqual([
      "-- a comment; with a semicolon;\nINSERT INTO t VALUES ('a;\nb', \"c;\", 'it''s;', 'back\\'slash;')",
      '/* block;\n   comment; */\nCREATE TABLE `odd;name` (x INT)',
      'SELECT 1; SELECT 2',
      '# hash comment;\n/*!40101 SET NAMES utf8mb4 */',
    ]);
    expect(() => splitSqlStatements("SELECT 'unterminated;\n")).toThrow(/unterminated/);
  });
});
