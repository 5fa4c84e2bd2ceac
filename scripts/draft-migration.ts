/**
 * Developer tool: prints the MySQL DDL for the whole of prisma/schema.prisma, as close as we can to
 * what `prisma migrate diff --from-empty --to-schema prisma/schema.prisma --script` emits (that
 * command needs the native schema engine, which cannot be downloaded here: ../shared/prisma-offline.md).
 *
 *   npx ts-node --transpile-only scripts/draft-migration.ts [--schema prisma/schema.prisma] [--out file]
 *
 * It is a *draft*: use it for a first migration, or diff its output for the old and the new schema
 * by hand to write a later one, then review the SQL. test/integration/drift.test.ts is the judge:
 * it applies every migration to an empty database and fails when the result differs from the schema.
 *
 * What it renders, following Prisma's MySQL connector:
 * - one `CREATE TABLE` per model (declaration order): columns in field order, types per Prisma's
 *   MySQL mapping (String → VARCHAR(191), Int → INTEGER, DateTime → DATETIME(3), Json → JSON, …)
 *   or the `@db.*` native type, NOT NULL / NULL, defaults (`now()` → CURRENT_TIMESTAMP(p),
 *   autoincrement → AUTO_INCREMENT; uuid()/cuid()/@updatedAt have no database default), then
 *   indexes named as Prisma names them (`Table_col_key`, `Table_col_idx`, truncated to 64 bytes),
 *   then the primary key, and `DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`;
 * - the foreign keys last, as `ALTER TABLE … ADD CONSTRAINT `Table_col_fkey` …` with Prisma's
 *   referential actions (onDelete: Restrict for required relations and SetNull for optional ones
 *   unless given; onUpdate: Cascade unless given).
 * Not supported (it stops with an error): implicit many-to-many relations, multi-schema, views.
 */
import * as fs from 'fs';
import * as path from 'path';
import { getDMMF } from '@prisma/internals';

// ── the part of Prisma's DMMF we read ──────────────────────────────────────────────────────────

export interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: 'scalar' | 'object' | 'enum' | 'unsupported';
  isList: boolean;
  isRequired: boolean;
  isUnique: boolean;
  isId: boolean;
  isUpdatedAt?: boolean;
  hasDefaultValue: boolean;
  type: string;
  nativeType?: [string, string[]] | null;
  default?: unknown;
  relationName?: string;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
  relationOnUpdate?: string;
}
export interface DmmfModel {
  name: string;
  dbName: string | null;
  schema?: string | null;
  fields: DmmfField[];
  primaryKey: { name: string | null; fields: string[] } | null;
}
export interface DmmfIndex {
  model: string;
  type: 'id' | 'unique' | 'normal' | 'fulltext';
  isDefinedOnField: boolean;
  name?: string;
  dbName?: string;
  fields: Array<{ name: string; sortOrder?: 'asc' | 'desc'; length?: number }>;
}
export interface DmmfEnum {
  name: string;
  dbName?: string | null;
  values: Array<{ name: string; dbName: string | null }>;
}
export interface Datamodel {
  models: DmmfModel[];
  enums: DmmfEnum[];
  indexes: DmmfIndex[];
}

/** The datamodel part of the DMMF of a schema (via the WASM schema parser in @prisma/internals). */
export async function readDatamodel(schemaText: string): Promise<Datamodel> {
  const dmmf = await getDMMF({ datamodel: schemaText });
  return dmmf.datamodel as unknown as Datamodel;
}

// ── naming (psl-core constraint_names.rs) ──────────────────────────────────────────────────────

const MYSQL_MAX_IDENTIFIER = 64;

function truncateBytes(s: string, maxBytes: number): string {
  const buf = Buffer.from(s, 'utf8');
  if (buf.length <= maxBytes) return s;
  let end = maxBytes;
  while (end > 0 && (buf[end] & 0xc0) === 0x80) end--; // floor to a UTF-8 char boundary
  return buf.subarray(0, end).toString('utf8');
}

function constraintName(table: string, columns: string[], suffix: '_key' | '_idx' | '_fkey'): string {
  let joined = `${table}_${columns.join('_')}`;
  const limit = MYSQL_MAX_IDENTIFIER - suffix.length;
  if (Buffer.byteLength(joined) >= limit) joined = truncateBytes(joined, limit);
  return `${joined}${suffix}`;
}

export const names = {
  unique: (table: string, cols: string[]) => constraintName(table, cols, '_key'),
  index: (table: string, cols: string[]) => constraintName(table, cols, '_idx'),
  foreignKey: (table: string, cols: string[]) => constraintName(table, cols, '_fkey'),
};

// ── schema helpers ─────────────────────────────────────────────────────────────────────────────

export const tableName = (m: DmmfModel) => m.dbName ?? m.name;
export const columnName = (f: DmmfField) => f.dbName ?? f.name;

/**
 * `map:` of a field's @relation — the DMMF does not carry a foreign key's custom name, so it is read
 * from the schema text (null when absent).
 */
export function relationMapName(schemaText: string, model: string, field: string): string | null {
  const block = new RegExp(`^\\s*model\\s+${model}\\s*\\{([\\s\\S]*?)^\\}`, 'm').exec(schemaText);
  if (!block) return null;
  const line = block[1].split('\n').find((l) => new RegExp(`^\\s*${field}\\s`).test(l));
  const rel = line && /@relation\(([^)]*)\)/.exec(line);
  const map = rel && /\bmap\s*:\s*"([^"]+)"/.exec(rel[1]);
  return map ? map[1] : null;
}

/** Referential actions as Prisma emits them for MySQL (foreignKeys relation mode). */
export function referentialActions(f: DmmfField, fromFields: DmmfField[]): { onDelete: string; onUpdate: string } {
  const sql = (a: string) =>
    ({ Cascade: 'CASCADE', Restrict: 'RESTRICT', NoAction: 'NO ACTION', SetNull: 'SET NULL', SetDefault: 'SET DEFAULT' })[a] ??
    (() => {
      throw new Error(`unknown referential action ${a}`);
    })();
  const optional = fromFields.some((c) => !c.isRequired);
  return {
    onDelete: sql(f.relationOnDelete ?? (optional ? 'SetNull' : 'Restrict')),
    onUpdate: sql(f.relationOnUpdate ?? 'Cascade'),
  };
}

function mysqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

// ── rendering ──────────────────────────────────────────────────────────────────────────────────

function columnType(f: DmmfField, dm: Datamodel): string {
  if (f.kind === 'enum') {
    const e = dm.enums.find((x) => x.name === f.type);
    if (!e) throw new Error(`enum ${f.type} not found`);
    return `ENUM(${e.values.map((v) => mysqlString(v.dbName ?? v.name)).join(', ')})`;
  }
  if (f.kind !== 'scalar') throw new Error(`${f.name}: unsupported field kind ${f.kind}`);
  if (f.isList) throw new Error(`${f.name}: scalar lists are not supported on MySQL`);
  if (f.nativeType) {
    const [name, args] = f.nativeType;
    const a = args.length ? `(${args.join(', ')})` : '';
    switch (name) {
      case 'Int':
        return 'INTEGER';
      case 'UnsignedInt':
        return 'INTEGER UNSIGNED';
      case 'SmallInt':
      case 'MediumInt':
      case 'BigInt':
        return name.toUpperCase();
      case 'UnsignedSmallInt':
      case 'UnsignedMediumInt':
      case 'UnsignedBigInt':
      case 'UnsignedTinyInt':
        return `${name.slice('Unsigned'.length).toUpperCase()} UNSIGNED`;
      case 'TinyInt':
        return f.type === 'Boolean' ? 'BOOLEAN' : 'TINYINT';
      case 'VarChar':
      case 'Char':
      case 'Binary':
      case 'VarBinary':
      case 'Bit':
      case 'Decimal':
      case 'Time':
      case 'DateTime':
      case 'Timestamp':
        return `${name.toUpperCase()}${a}`;
      default:
        // Text, TinyText, MediumText, LongText, *Blob, Date, Year, Json, Float, Double
        return name.toUpperCase();
    }
  }
  switch (f.type) {
    case 'String':
      return 'VARCHAR(191)';
    case 'Int':
      return 'INTEGER';
    case 'BigInt':
      return 'BIGINT';
    case 'Float':
      return 'DOUBLE';
    case 'Decimal':
      return 'DECIMAL(65, 30)';
    case 'Boolean':
      return 'BOOLEAN';
    case 'DateTime':
      return 'DATETIME(3)';
    case 'Json':
      return 'JSON';
    case 'Bytes':
      return 'LONGBLOB';
    default:
      throw new Error(`${f.name}: no MySQL mapping for type ${f.type}`);
  }
}

/** The DEFAULT expression, or null (none, or generated by Prisma rather than the database). */
export function columnDefault(f: DmmfField, dm: Datamodel): string | null {
  if (!f.hasDefaultValue || f.default === undefined) return null;
  const d = f.default;
  if (d !== null && typeof d === 'object' && !Array.isArray(d) && 'name' in d) {
    const fn = d as { name: string; args: unknown[] };
    switch (fn.name) {
      case 'now': {
        const p = f.nativeType && ['DateTime', 'Timestamp', 'Time'].includes(f.nativeType[0]) && f.nativeType[1][0];
        return `CURRENT_TIMESTAMP(${p || 3})`;
      }
      case 'dbgenerated':
        return fn.args.length && fn.args[0] !== '' ? String(fn.args[0]) : null;
      default:
        return null; // autoincrement (rendered as AUTO_INCREMENT), uuid, cuid, nanoid, ulid: client side
    }
  }
  if (f.type === 'Json' || f.type === 'Bytes') return null; // MySQL has no such defaults; Prisma omits them
  if (f.kind === 'enum') {
    const e = dm.enums.find((x) => x.name === f.type);
    const v = e?.values.find((x) => x.name === d);
    return mysqlString(v?.dbName ?? String(d));
  }
  if (typeof d === 'string') {
    if (f.type === 'String' || f.type === 'DateTime') return mysqlString(d);
    return d; // BigInt / Decimal given as strings
  }
  return String(d); // numbers, booleans (true/false)
}

function isAutoincrement(f: DmmfField): boolean {
  const d = f.default as { name?: string } | undefined;
  return !!d && typeof d === 'object' && d.name === 'autoincrement';
}

function indexColumn(m: DmmfModel, c: { name: string; sortOrder?: string; length?: number }): string {
  const f = m.fields.find((x) => x.name === c.name);
  if (!f) throw new Error(`${m.name}: index field ${c.name} not found`);
  let s = `\`${columnName(f)}\``;
  if (c.length) s += `(${c.length})`;
  if (c.sortOrder === 'desc') s += ' DESC';
  return s;
}

/** The index's database name: its `map:`, else Prisma's default. */
export function indexName(m: DmmfModel, idx: DmmfIndex): string {
  if (idx.dbName) return idx.dbName;
  const cols = idx.fields.map((c) => columnName(m.fields.find((f) => f.name === c.name)!));
  return idx.type === 'unique' ? names.unique(tableName(m), cols) : names.index(tableName(m), cols);
}

function renderCreateTable(m: DmmfModel, dm: Datamodel): string {
  const lines: string[] = [];
  for (const f of m.fields) {
    if (f.kind === 'object') continue;
    let col = `\`${columnName(f)}\` ${columnType(f, dm)} ${f.isRequired ? 'NOT NULL' : 'NULL'}`;
    if (isAutoincrement(f)) col += ' AUTO_INCREMENT';
    const def = columnDefault(f, dm);
    if (def !== null) col += ` DEFAULT ${def}`;
    lines.push(col);
  }
  const clauses: string[] = [];
  for (const idx of dm.indexes.filter((i) => i.model === m.name && i.type !== 'id')) {
    const kind = idx.type === 'unique' ? 'UNIQUE INDEX' : idx.type === 'fulltext' ? 'FULLTEXT INDEX' : 'INDEX';
    clauses.push(`${kind} \`${indexName(m, idx)}\`(${idx.fields.map((c) => indexColumn(m, c)).join(', ')})`);
  }
  const id = dm.indexes.find((i) => i.model === m.name && i.type === 'id');
  if (id) clauses.push(`PRIMARY KEY (${id.fields.map((c) => indexColumn(m, c)).join(', ')})`);
  const body = clauses.length ? `${lines.join(',\n    ')},\n\n    ${clauses.join(',\n    ')}` : lines.join(',\n    ');
  return `-- CreateTable\nCREATE TABLE \`${tableName(m)}\` (\n    ${body}\n) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;`;
}

function renderForeignKeys(m: DmmfModel, dm: Datamodel, schemaText: string): string[] {
  const out: string[] = [];
  for (const f of m.fields) {
    if (f.kind !== 'object' || !f.relationFromFields?.length) continue;
    const target = dm.models.find((x) => x.name === f.type)!;
    const from = f.relationFromFields.map((n) => m.fields.find((x) => x.name === n)!);
    const to = (f.relationToFields ?? []).map((n) => target.fields.find((x) => x.name === n)!);
    const cols = from.map(columnName);
    const name = relationMapName(schemaText, m.name, f.name) ?? names.foreignKey(tableName(m), cols);
    const { onDelete, onUpdate } = referentialActions(f, from);
    out.push(
      `-- AddForeignKey\nALTER TABLE \`${tableName(m)}\` ADD CONSTRAINT \`${name}\` FOREIGN KEY (${cols.map((c) => `\`${c}\``).join(', ')}) ` +
        `REFERENCES \`${tableName(target)}\`(${to.map((c) => `\`${columnName(c)}\``).join(', ')}) ON DELETE ${onDelete} ON UPDATE ${onUpdate};`,
    );
  }
  return out;
}

function checkSupported(dm: Datamodel): void {
  for (const m of dm.models) {
    if (m.schema) throw new Error(`${m.name}: multi-schema models are not supported`);
    for (const f of m.fields) {
      if (f.kind !== 'object' || !f.isList) continue;
      const other = dm.models.find((x) => x.name === f.type)!;
      const back = other.fields.find((x) => x.kind === 'object' && x.relationName === f.relationName && x !== f);
      if (back?.isList)
        throw new Error(`${m.name}.${f.name}: implicit many-to-many relations are not supported; use an explicit join model`);
    }
  }
}

/** The whole schema as MySQL DDL, formatted like `prisma migrate diff --from-empty --script`. */
export async function draftMigration(schemaText: string): Promise<string> {
  const dm = await readDatamodel(schemaText);
  checkSupported(dm);
  const steps = [
    ...dm.models.map((m) => renderCreateTable(m, dm)),
    ...dm.models.flatMap((m) => renderForeignKeys(m, dm, schemaText)),
  ];
  return `${steps.join('\n\n')}\n`;
}

async function main(argv: string[]): Promise<void> {
  const opt = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const schemaPath = path.resolve(opt('--schema') ?? path.join(__dirname, '..', 'prisma', 'schema.prisma'));
  const sql = await draftMigration(fs.readFileSync(schemaPath, 'utf8'));
  const out = opt('--out');
  if (out) {
    fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
    fs.writeFileSync(out, sql);
    console.error(`wrote ${out} — review it before committing`);
  } else {
    process.stdout.write(sql);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
