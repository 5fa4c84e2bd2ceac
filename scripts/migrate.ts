/**
 * `npm run db:migrate` — applies pending migrations from prisma/migrations to DATABASE_URL
 * (server/migrate.ts; the Prisma schema engine is not available here, see ../shared/prisma-offline.md).
 *
 *   npm run db:migrate                                    apply what is pending
 *   npm run db:migrate -- --status                        show status; exit 1 unless current
 *   npm run db:migrate -- --resolve-rolled-back <name>    after undoing a half-applied migration
 *   npm run db:migrate -- --resolve-applied <name>        after finishing a half-applied migration by hand
 */
import { loadConfig } from '../server/config';
import { migrate, migrationStatus, resolveMigration } from '../server/migrate';

async function main(argv: string[]): Promise<number> {
  const config = loadConfig();
  const base = {
    databaseUrl: config.databaseUrl,
    connectTimeoutMs: config.databaseConnectTimeoutMs,
    log: (msg: string) => console.log(msg),
  };
  const arg = (flag: string) => {
    const i = argv.indexOf(flag);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (!v || v.startsWith('--')) throw new Error(`${flag} needs a migration name`);
    return v;
  };

  if (argv.includes('--status')) {
    const s = await migrationStatus(base);
    console.log(s.pending.length ? `pending: ${s.pending.join(', ')}` : 'no pending migrations');
    for (const p of s.problems) console.log(`\n${p}`);
    console.log(s.current ? 'database is current' : 'database is NOT current');
    return s.current ? 0 : 1;
  }
  const rolledBack = arg('--resolve-rolled-back');
  const applied = arg('--resolve-applied');
  if (rolledBack || applied) {
    await resolveMigration({ ...base, name: (rolledBack ?? applied)!, as: rolledBack ? 'rolled-back' : 'applied' });
    return 0;
  }
  const unknown = argv.filter((a) => a.startsWith('--'));
  if (unknown.length) throw new Error(`unknown option ${unknown[0]} (see scripts/migrate.ts)`);

  const res = await migrate(base);
  console.log(res.applied.length ? `applied ${res.applied.length}: ${res.applied.join(', ')}` : 'nothing to apply');
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
