/**
 * Values survive the trip through the client the service uses (createPrisma: Prisma 7 over
 * @prisma/adapter-mariadb) unchanged:
 * - DateTime instants — Prisma 7 + MySQL have been reported to shift them by 8 hours for
 *   Asia/Shanghai setups (design.md, "Known pitfalls"); instants must be stored as UTC and read back
 *   identical whatever the host's time zone;
 * - utf8mb4 text: emoji and characters outside the BMP such as 𠮷 in VARCHAR and JSON columns.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import type mysql from 'mysql2/promise';
import { createTestDb, serverConnection, type TestDb } from '../helpers/db';

let db: TestDb;
let raw: mysql.Connection;
let seq = 0;

beforeAll(async () => {
  db = await createTestDb();
  raw = await serverConnection();
  await raw.query(`USE \`${db.name}\``);
});
afterAll(async () => {
  await raw?.end();
  await db?.drop();
});

async function newEnterprise(data: { name?: string; createdAt?: Date } = {}) {
  seq += 1;
  return db.prisma.enterprise.create({ data: { companyCode: `T${seq}`, name: data.name ?? `enterprise ${seq}`, createdAt: data.createdAt } });
}

/**
 * Writes and reads `instants` with createPrisma in a child process whose host time zone is `tz`
 * (jest gives each test file its own copy of process.env, so TZ cannot be switched in-process).
 */
function roundTripInChild(tz: string, instants: string[]): Array<{ id: number; offset: number; written: string; read: string; raw: string }> {
  const code = `
    require('ts-node').register({ transpileOnly: true });
    const { createPrisma } = require('./server/db');
    (async () => {
      const prisma = createPrisma({ databaseUrl: process.env.RT_URL });
      const out = [];
      for (const [i, iso] of JSON.parse(process.env.RT_INSTANTS).entries()) {
        const e = await prisma.enterprise.create({ data: { companyCode: process.env.TZ + '-' + i, name: 'tz', createdAt: new Date(iso) } });
        const back = await prisma.enterprise.findUniqueOrThrow({ where: { id: e.id } });
        const raw = await prisma.$queryRaw\`SELECT createdAt FROM Enterprise WHERE id = \${e.id}\`;
        out.push({ id: e.id, offset: new Date(iso).getTimezoneOffset(), written: e.createdAt.toISOString(),
                   read: back.createdAt.toISOString(), raw: new Date(raw[0].createdAt).toISOString() });
      }
      await prisma.$disconnect();
      process.stdout.write(JSON.stringify(out));
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const res = spawnSync(process.execPath, ['-e', code], {
    cwd: path.join(__dirname, '..', '..'),
    env: { ...process.env, TZ: tz, RT_URL: db.url, RT_INSTANTS: JSON.stringify(instants) },
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (res.status !== 0) throw new Error(`child (TZ=${tz}) failed: ${res.stderr || res.error}`);
  return JSON.parse(res.stdout);
}

describe('DateTime round-trip (no 8-hour shift)', () => {
  const instants = [
    '2026-11-30T23:59:59.123Z', // late evening UTC = next morning in Shanghai
    '2026-12-31T16:00:00.000Z', // midnight 2027-01-01 in Shanghai
    '2024-02-29T08:00:00.001Z',
    '2026-03-08T07:30:00.999Z', // US DST switch day
  ];

  /** the database holds the UTC wall time of the instant, not the host's */
  async function storedAs(id: number): Promise<string> {
    const [[row]] = await raw.query<mysql.RowDataPacket[]>("SELECT DATE_FORMAT(createdAt, '%Y-%m-%dT%H:%i:%s.%f') AS v FROM Enterprise WHERE id = ?", [id]);
    return row.v as string;
  }

  test(`this process (TZ=${process.env.TZ ?? 'unset'}): instants are stored as UTC and read back identical`, async () => {
    for (const iso of instants) {
      const at = new Date(iso);
      const e = await newEnterprise({ createdAt: at });
      expect(e.createdAt.toISOString()).toBe(iso);
      expect((await db.prisma.enterprise.findUniqueOrThrow({ where: { id: e.id } })).createdAt.toISOString()).toBe(iso);
      expect(await storedAs(e.id)).toBe(`${iso.slice(0, 23)}000`);
      // raw queries go through the same adapter
      const viaRaw = await db.prisma.$queryRaw<Array<{ createdAt: Date }>>`SELECT createdAt FROM Enterprise WHERE id = ${e.id}`;
      expect(new Date(viaRaw[0].createdAt).toISOString()).toBe(iso);
      // and filtering by the instant finds the row
      expect(await db.prisma.enterprise.count({ where: { id: e.id, createdAt: at } })).toBe(1);
    }
  });

  test.each([
    ['Asia/Shanghai', -480],
    ['America/New_York', 300],
  ])('a process with TZ=%s writes and reads the same instants, stored as UTC', async (tz, offset) => {
    const results = roundTripInChild(tz, instants);
    expect(results).toHaveLength(instants.length);
    for (const [i, r] of results.entries()) {
      if (instants[i].startsWith('2026-11') || instants[i].startsWith('2026-12')) expect(r.offset).toBe(offset); // the child really ran in tz
      expect([r.written, r.read, r.raw]).toEqual([instants[i], instants[i], instants[i]]);
      expect(await storedAs(r.id)).toBe(`${instants[i].slice(0, 23)}000`);
    }
  });

  test('a value written by plain SQL in UTC reads back as that instant', async () => {
    const e = await newEnterprise();
    await raw.query("UPDATE Enterprise SET updatedAt = '2026-06-01 12:00:00.500' WHERE id = ?", [e.id]);
    const back = await db.prisma.enterprise.findUniqueOrThrow({ where: { id: e.id } });
    expect(back.updatedAt.toISOString()).toBe('2026-06-01T12:00:00.500Z');
  });

  test('@default(now()) and @updatedAt are the current instant, stored in UTC', async () => {
    {
      const before = Date.now();
      const e = await newEnterprise();
      const after = Date.now();
      for (const d of [e.createdAt, e.updatedAt]) {
        expect(d.getTime()).toBeGreaterThanOrEqual(before - 2000);
        expect(d.getTime()).toBeLessThanOrEqual(after + 2000);
      }
      const [[row]] = await raw.query<mysql.RowDataPacket[]>(
        'SELECT TIMESTAMPDIFF(SECOND, createdAt, UTC_TIMESTAMP(3)) AS lagS FROM Enterprise WHERE id = ?',
        [e.id],
      );
      expect(Math.abs(Number(row.lagS))).toBeLessThan(60); // 8 h off would be 28800
    }
  });
});

describe('utf8mb4 round-trip', () => {
  const text = '危化品储罐区 🧪🔥 𠮷野家 👨‍👩‍👧 ©é 〇';

  test('emoji and rare CJK survive a VARCHAR column, byte for byte', async () => {
    const e = await newEnterprise({ name: text });
    expect(e.name).toBe(text);
    expect((await db.prisma.enterprise.findUniqueOrThrow({ where: { id: e.id } })).name).toBe(text);
    // looked up by value: the parameter is sent as utf8mb4 too
    expect((await db.prisma.enterprise.findFirstOrThrow({ where: { name: text } })).id).toBe(e.id);

    const [[row]] = await raw.query<mysql.RowDataPacket[]>(
      'SELECT HEX(name) AS hex, CHAR_LENGTH(name) AS chars, LENGTH(name) AS bytes FROM Enterprise WHERE id = ?',
      [e.id],
    );
    expect(row.hex).toBe(Buffer.from(text, 'utf8').toString('hex').toUpperCase()); // not mojibake, not '?'
    expect(Number(row.chars)).toBe([...text].length);
    expect(Number(row.bytes)).toBe(Buffer.byteLength(text, 'utf8'));
  });

  test('VARCHAR(n) counts characters: 64 × 𠮷 (4 bytes each) fits VARCHAR(64)', async () => {
    const e = await newEnterprise();
    const name = '𠮷'.repeat(64);
    const p = await db.prisma.person.create({ data: { enterpriseId: e.id, code: 'p-rare', name, roles: ['安全员', '🧯'] } });
    const back = await db.prisma.person.findUniqueOrThrow({ where: { id: p.id } });
    expect(back.name).toBe(name);
    expect(back.roles).toEqual(['安全员', '🧯']); // JSON column too
  });
});
