/**
 * README.md's roles-and-permissions table is the one `npm run permissions-table` prints from the
 * permission table and the API routes (scripts/permissions-table.ts). When a permission or a route
 * is added, this fails until the table is pasted again.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { permissionsMarkdown } from '../../scripts/permissions-table';
import { PERMISSIONS } from '../../server/domain/permissions';

const README = readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');

test('README holds the current table between the markers', () => {
  const m = /<!-- permissions:start -->\n([\s\S]*?)\n<!-- permissions:end -->/.exec(README);
  expect(m).not.toBeNull();
  const generated = permissionsMarkdown();
  if (m![1] !== generated) {
    throw new Error('README.md roles-and-permissions table is stale: run `npm run permissions-table` and paste its output between the permissions markers');
  }
});

test('the table has a row per permission and marks the regulator on reads only', () => {
  const rows = permissionsMarkdown().split('\n').slice(2);
  expect(rows).toHaveLength(Object.keys(PERMISSIONS).length);
  for (const row of rows) {
    const cells = row.split(' | ');
    const regulator = cells[cells.length - 2];
    if (row.includes('(write)')) expect({ row, regulator }).toEqual({ row, regulator: '' });
  }
});
