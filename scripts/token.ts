/**
 * `npm run token -- <person code> [label]`: issues an API token for a person (e.g. p07 in the
 * demo plant) and prints it once. Only its SHA-256 is stored.
 */
import { loadConfig } from '../server/config';
import { createPrisma } from '../server/db';
import { issueApiToken } from '../server/services/tokens';

async function main() {
  const [code, label = 'cli'] = process.argv.slice(2);
  if (!code) {
    process.stderr.write('usage: npm run token -- <person code> [label]\n');
    process.exit(2);
  }
  const config = loadConfig();
  const prisma = createPrisma(config);
  try {
    const people = await prisma.person.findMany({ where: { code }, select: { id: true, name: true, enterprise: { select: { name: true } } } });
    if (people.length !== 1) {
      process.stderr.write(people.length ? `"${code}" exists in several enterprises; use a unique code\n` : `no person with code "${code}"\n`);
      process.exit(1);
    }
    const token = await issueApiToken(prisma, people[0].id, label);
    process.stdout.write(`${people[0].name}（${people[0].enterprise.name}）\n${token}\n`);
  } finally {
    await prisma.$disconnect();
  }
}
void main();
