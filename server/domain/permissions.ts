/**
 * The one permission table: which person roles may use which API capability. Every API route
 * declares the permission it needs (server/routes/api/registry.ts); services add the finer,
 * per-record rules on top (only the rectifier rectifies, only the acceptor accepts, an alert is
 * acted on by the people it was addressed to or their superiors…).
 *
 * The regulator role (park/district 监管) reads the enterprises in its RegulatorScope and writes
 * nothing: it appears only in `read` permissions.
 */
import { PERSON_ROLES, type PersonRole } from './roles';

const ALL: readonly PersonRole[] = PERSON_ROLES;
const STAFF: readonly PersonRole[] = PERSON_ROLES.filter((r) => r !== 'regulator');
const MANAGERS: readonly PersonRole[] = ['department_head', 'safety_dept', 'safety_director', 'principal', 'technical_head', 'operational_head', 'enterprise_admin'];
const SAFETY: readonly PersonRole[] = ['safety_dept', 'safety_director', 'principal', 'technical_head', 'enterprise_admin'];

export const PERMISSIONS = {
  /** who am I: my person, roles, enterprise and (regulators) the enterprises I may read */
  'me.read': ALL,
  /** read alerts addressed to me / my subordinates (oversight roles: all of the enterprise) */
  'alerts.read': ALL,
  /** 确认 / 处置 / 销警 (the service checks addressee and clear roles) */
  'alerts.act': STAFF,
  /** my tasks now, task instances, check records */
  'checks.read': ALL,
  /** submit a check record */
  'checks.submit': STAFF,
  /** 停用检修: shut a risk unit down / bring it back */
  'units.shutdown': ['department_head', 'operational_head', 'safety_dept', 'safety_director', 'principal', 'enterprise_admin'],
  'hazards.read': ALL,
  /** report a hazard, 即查即改, keep a draft */
  'hazards.report': STAFF,
  /** confirm (or reject) a reported hazard, set the 治理方案 of a 重大隐患 */
  'hazards.confirm': MANAGERS,
  /** rectify (the service checks: the rectifier or their superior) */
  'hazards.rectify': STAFF,
  /** accept or send back (the service checks: the acceptor or their superior) */
  'hazards.accept': STAFF,
  /** ask for a later deadline (the service checks: the rectifier or their superior) */
  'hazards.extend.request': STAFF,
  /** approve or reject an extension (the service checks the hazard's level) */
  'hazards.extend.decide': MANAGERS,
  /** the three lists (三清单) */
  'lists.read': ALL,
  'lists.write': SAFETY,
  /** Excel import of the three lists */
  'lists.import': SAFETY,
  /** record consents to WeChat subscribe messages (each accept allows one alert to be sent that way) */
  'notifications.subscribe': STAFF,
  /** upload photos and files */
  'files.upload': STAFF,
  'files.read': ALL,
} as const satisfies Record<string, readonly PersonRole[]>;

export type Permission = keyof typeof PERMISSIONS;

/**
 * Whether `permission` only reads. Naming rule: read-only capabilities end in `.read`; every other
 * permission changes data (and is never granted to a regulator — the authorisation-matrix test
 * checks the table against this rule).
 */
export function isReadPermission(p: Permission): boolean {
  return p.endsWith('.read');
}

/** Permissions that change data (a regulator must hold none of them). */
export function isWritePermission(p: Permission): boolean {
  return !isReadPermission(p);
}

/**
 * Whether any of `roles` grants `permission`. A person holding the regulator role writes nothing,
 * whatever other roles they hold: their requests may be about another enterprise (?enterpriseId=),
 * where no write of theirs is legitimate (issue #3: "a regulator role that reads several
 * enterprises but writes nothing").
 */
export function can(roles: readonly string[], permission: Permission): boolean {
  if (roles.includes('regulator') && isWritePermission(permission)) return false;
  const allowed = PERMISSIONS[permission] as readonly string[];
  return roles.some((r) => allowed.includes(r));
}
