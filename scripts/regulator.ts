/**
 * `npm run regulator -- <command>`: manage regulators (监管), people of a park/district authority
 * who read the enterprises in their scope and write nothing (server/services/regulators.ts).
 *
 *   npm run regulator -- add <person code | mobile> <companyCode…>     add enterprises to their scope
 *                                                                       (and the role regulator)
 *   npm run regulator -- remove <person code | mobile> <companyCode…>  take enterprises out of it
 *   npm run regulator -- list                                          every regulator and scope
 *
 * The person must exist (in the authority's own organisation, e.g. the demo's PARK-320411 园区监管员
 * r01); give them a token with `npm run token -- <code>`. They choose the enterprise with
 * `?enterpriseId=` (GET /api/v1/me lists them). Exit code 1 on an error (nothing changed), 2 on usage.
 */
import { loadConfig } from '../server/config';
import { createPrisma } from '../server/db';
import { AppError } from '../server/errors';
import { addRegulatorScope, listRegulators, removeRegulatorScope, type RegulatorView } from '../server/services/regulators';

const USAGE = 'usage: npm run regulator -- add|remove <person code | mobile> <companyCode…>\n       npm run regulator -- list\n';

const show = (r: RegulatorView) =>
  `${r.name} (${r.code}, ${r.organisation.name}): ${r.scope.length ? r.scope.map((e) => `${e.name} [${e.companyCode}, id ${e.id}]`).join('; ') : '(no enterprise)'}`;

async function main(argv: string[]): Promise<number> {
  const [cmd, who, ...codes] = argv;
  if (!(cmd === 'list' || ((cmd === 'add' || cmd === 'remove') && who && codes.length))) {
    process.stderr.write(USAGE);
    return 2;
  }
  const prisma = createPrisma(loadConfig());
  try {
    if (cmd === 'list') {
      const all = await listRegulators(prisma);
      console.log(all.length ? all.map(show).join('\n') : 'no regulators');
    } else if (cmd === 'add') {
      const r = await addRegulatorScope(prisma, who, codes);
      console.log(`${r.added.length ? `added ${r.added.join(', ')}` : 'nothing to add'}\n${show(r)}`);
    } else {
      const r = await removeRegulatorScope(prisma, who, codes);
      console.log(`${r.removed.length ? `removed ${r.removed.join(', ')}` : 'nothing to remove'}\n${show(r)}`);
    }
    return 0;
  } finally {
    await prisma.$disconnect();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof AppError ? `${err.messageZh} (${err.messageEn})` : err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
