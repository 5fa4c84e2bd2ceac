/**
 * `npm run db:seed` — loads the demo plant (prisma/demo-enterprise.json) into DATABASE_URL with
 * prisma/seed.ts `loadDemoPlant`, and prints what it did.
 *
 *   npm run db:seed                       load (or re-load) the demo plant
 *   npm run db:seed -- --file <path>      load another plant file of the same shape
 *
 * With the demo file it also loads the demo regulator (prisma/seed.ts DEMO_REGULATOR: 园区监管员
 * r01 of the park authority PARK-320411, reading the demo plant).
 *
 * Safe to run again: lists are upserted by code, an existing enterprise's hazards and escalation
 * policies are left alone, and task start times do not move. Migrations must be applied first
 * (`npm run db:migrate`). Exit code 1 on any error (nothing is written then).
 */
import { loadConfig } from '../server/config';
import { createPrisma } from '../server/db';
import { systemClock } from '../server/clock';
import { DEMO_DATA_PATH, DemoDataError, loadDemoPlant, readDemoData, type LoadSummary } from '../prisma/seed';

const LABELS: Record<keyof LoadSummary, string> = {
  departments: 'departments',
  posts: 'posts',
  people: 'people',
  majorHazardSources: 'major hazard sources',
  riskObjects: 'risk objects',
  riskUnits: 'risk units',
  riskEvents: 'risk events',
  controlMeasures: 'control measures',
  checkTasks: 'check tasks (incl. baobao)',
  hazards: 'hazards',
  chatDestinations: 'chat destinations',
  chatDestinationMembers: 'chat group members',
  escalationPolicies: 'escalation policies',
  regulators: 'park authority, regulator, scope',
};

function parseArgs(argv: string[]): { file: string } {
  let file = DEMO_DATA_PATH;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--file') {
      const v = argv[++i];
      if (!v) throw new Error('--file needs a path');
      file = v;
    } else {
      throw new Error(`unknown argument ${argv[i]} (see scripts/seed.ts)`);
    }
  }
  return { file };
}

async function main(argv: string[]): Promise<number> {
  const { file } = parseArgs(argv);
  const config = loadConfig();
  const data = readDemoData(file);
  const prisma = createPrisma(config);
  try {
    const now = systemClock.now();
    // the demo regulator reads the demo plant only: another plant file names no regulator of its own
    const res = await loadDemoPlant(prisma, { now, data, regulator: file === DEMO_DATA_PATH });
    console.log(
      res.created
        ? `created enterprise ${data.enterprise.name} (${data.enterprise.companyCode}, id ${res.enterpriseId}) at ${now.toISOString()}`
        : `enterprise ${data.enterprise.name} (${data.enterprise.companyCode}, id ${res.enterpriseId}) exists: lists upserted, hazards and existing policies left alone`,
    );
    const width = Math.max(...Object.values(LABELS).map((l) => l.length));
    for (const [k, label] of Object.entries(LABELS) as [keyof LoadSummary, string][]) {
      const c = res.summary[k];
      console.log(`  ${label.padEnd(width)}  ${c.created} created, ${c.updated} updated, ${c.unchanged} unchanged`);
    }
    return 0;
  } finally {
    await prisma.$disconnect();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof DemoDataError) console.error(err.message);
    else if ((err as { code?: unknown }).code === 'P2021') console.error(`${(err as Error).message}\n(tables missing: run \`npm run db:migrate\` first)`);
    else console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
