/**
 * The permission table (server/domain/permissions.ts) against its own rules: read-only
 * capabilities end in `.read`; a regulator holds no write permission, and a person holding the
 * regulator role is refused every write even when another role would grant it.
 */
import { PERMISSIONS, can, isReadPermission, isWritePermission, type Permission } from '../../server/domain/permissions';
import { PERSON_ROLES } from '../../server/domain/roles';

const all = Object.keys(PERMISSIONS) as Permission[];

test('every permission names known roles and grants at least one', () => {
  for (const p of all) {
    const roles = PERMISSIONS[p] as readonly string[];
    expect({ p, unknown: roles.filter((r) => !(PERSON_ROLES as readonly string[]).includes(r)) }).toEqual({ p, unknown: [] });
    expect({ p, n: roles.length > 0 }).toEqual({ p, n: true });
  }
});

test('read and write are told apart by name, and both kinds exist', () => {
  expect(isReadPermission('alerts.read')).toBe(true);
  expect(isWritePermission('alerts.read')).toBe(false);
  expect(isWritePermission('alerts.act')).toBe(true);
  expect(isWritePermission('lists.import')).toBe(true);
  expect(all.filter(isWritePermission).length).toBeGreaterThan(0);
  expect(all.filter(isReadPermission).length).toBeGreaterThan(0);
});

test('the regulator role appears in no write permission', () => {
  const offending = all.filter((p) => isWritePermission(p) && (PERMISSIONS[p] as readonly string[]).includes('regulator'));
  expect(offending).toEqual([]);
});

test('a regulator may use the read permissions granted to it', () => {
  for (const p of all.filter(isReadPermission)) {
    expect({ p, can: can(['regulator'], p) }).toEqual({ p, can: (PERMISSIONS[p] as readonly string[]).includes('regulator') });
  }
});

test('a person holding the regulator role writes nothing, whatever else they hold', () => {
  const everyOtherRole = PERSON_ROLES.filter((r) => r !== 'regulator');
  for (const p of all.filter(isWritePermission)) {
    expect({ p, can: can(everyOtherRole, p) }).toEqual({ p, can: true });
    expect({ p, can: can([...everyOtherRole, 'regulator'], p) }).toEqual({ p, can: false });
  }
});

test('unknown roles grant nothing', () => {
  for (const p of all) expect(can(['root', 'admin'], p)).toBe(false);
  expect(can([], 'alerts.read')).toBe(false);
});
