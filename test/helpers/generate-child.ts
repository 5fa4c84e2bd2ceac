/**
 * Runs generateInstances once in its own process, so a test can run it under a different host TZ
 * (test/integration/generator.test.ts spawns it with TZ=UTC and TZ=Asia/Shanghai).
 *
 *   DATABASE_URL  the test database (required)
 *   NOW           ISO instant the manual clock is set to (required)
 *   LOOKAHEAD_MS  look-ahead (default 48 h)
 *
 * Prints one JSON line: { tasks, created, hostTz, hostOffsetMinutes }.
 */
import { ManualClock } from '../../server/clock';
import { createPrisma } from '../../server/db';
import { createLogger } from '../../server/logger';
import { generateInstances } from '../../server/services/instances';

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  const now = process.env.NOW;
  if (!url || !now) throw new Error('DATABASE_URL and NOW are required');
  const prisma = createPrisma({ databaseUrl: url, databasePoolSize: 2 });
  try {
    const r = await generateInstances({
      prisma,
      clock: new ManualClock(Date.parse(now)),
      log: createLogger('silent'),
      lookaheadMs: Number(process.env.LOOKAHEAD_MS ?? 48 * 3600_000),
    });
    process.stdout.write(
      JSON.stringify({
        ...r,
        hostTz: Intl.DateTimeFormat().resolvedOptions().timeZone,
        // the host's offset at the clock's instant (0 under UTC, -480 under Asia/Shanghai)
        hostOffsetMinutes: new Date(Date.parse(now)).getTimezoneOffset(),
      }) + '\n',
    );
  } finally {
    await prisma.$disconnect();
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
