/**
 * `npm run token -- <person code> [label]`: issues an API token for a person (e.g. p07 in the
 * demo plant) and prints it once. Only its SHA-256 is stored. The person is looked up in the
 * database of DATABASE_URL (as `npm start` uses it); which one is said on stderr, because a token made
 * in another database than the server's is answered 401.
 */
import { loadConfig } from '../server/config';
import { createPrisma } from '../server/db';
import { issueApiToken } from '../server/services/tokens';
import { parseDatabaseUrl } from '../server/db-url';

async function main() {
  const [code, label = 'cli'] = process.argv.slice(2);
  if (!code) {
    process.stderr.write('usage: npm run token -- <person code> [label]\n');
    process.exit(2);
  }
  const config = loadConfig();
  const db = parseDatabaseUrl(config.databaseUrl);
  process.stderr.write(`database ${db.database} on ${db.host}:${db.port} (DATABASE_URL)\n`);
  const prisma = createPrisma(config);
  try {
    const people = await prisma.person.findMany({ where: { code }, select: { id: true, name: true, enterprise: { select: { name: true } } } });
    if (people.length !== 1) {
      process.stderr.write(people.length ? `"${code}" exists in several enterprises; use a unique code\n` : `no person with code "${code}" in database ${db.database}\n`);
      process.exit(1);
    }
    const token = await issueApiToken(prisma, people[0].id, label);
    process.stdout.write(`${people[0].name}（${people[0].enterprise.name}）\n${token}\n`);
  } catch (e) {
    // a database npm start never prepared (missing, or without the tables) is the usual cause
    process.stderr.write(`cannot read people from database ${db.database}: ${(e as { code?: string }).code ?? (e as Error).message.split('\n')[0]}\nrun \`npm start\` (or \`npm run db:migrate && npm run db:seed\`) against this DATABASE_URL first\n`);
    process.exitCode = 1;
  } finally {
    await prisma.$disconnect();
  }
}
void main();
