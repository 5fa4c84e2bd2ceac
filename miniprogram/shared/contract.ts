/**
 * The one source of truth shared by the server and the WeChat mini-program (issue #5 item 1):
 * the shapes of the requests and answers the mini-program exchanges with /api/v1, and the rules
 * both sides apply (a reading against its safe range, photo evidence by check means, how many
 * photos, text limits, who may clear an alert by hand, the binding code and QR label formats).
 *
 * Pure TypeScript with NO imports: the mini-program compiles it into its package (it cannot load
 * node_modules or server code), the server imports it as `../../miniprogram/shared/contract`
 * (server/domain/inspection.ts, files.ts, alert-permissions.ts re-export the rules from here), so
 * a rule changed here changes on both sides at once. Keep it free of `wx`, Node, zod and Prisma.
 *
 * Sources: domain.md (CheckTask, CheckRecord, Hazards, alerts), issue #2 (who may clear),
 * /tmp/mp-contract.md (the /mp endpoints agreed for issue #5).
 */

// ───────────────────────────── limits ─────────────────────────────

/** Photos on one hazard report, rectification, acceptance or check record: one phone picker (wx.chooseMedia count 9). */
export const MAX_PHOTOS = 9;
/** Characters of a hazard's name — the one line typed on the phone (server: POST /hazards `name`). */
export const HAZARD_NAME_MAX = 255;
/** Characters of a hazard's longer description (optional; the phone sends none or a short one). */
export const HAZARD_DESCRIPTION_MAX = 4000;
/** Characters of an alert 处置 note or 销警 reason, and of step comments. */
export const NOTE_MAX = 1000;
/** Characters of the rectification measures (整改措施). */
export const MEASURES_MAX = 2000;
/** Characters of the extension (延期) reason. */
export const EXTENSION_REASON_MAX = 1000;
/** Characters of a clientRequestId (idempotency key made on the phone, a UUID is 36). */
export const CLIENT_REQUEST_ID_MAX = 64;
/** Characters of a device id (CheckRecord.deviceId). */
export const DEVICE_ID_MAX = 64;
/** Characters of a free-text location (CheckRecord.location). */
export const CHECK_LOCATION_MAX = 128;
/** Characters of a check record's note (CheckRecord.note). */
export const CHECK_NOTE_MAX = 500;

// ───────────────────────────── free text ─────────────────────────────
// Every limit above counts characters as Unicode code points (an emoji is 1, as MySQL utf8mb4
// VARCHAR(n) counts them), never UTF-16 units (`.length`, `.slice`).

/** Why a text was refused (see cleanText). */
export type TextProblem = 'control_char' | 'bad_unicode' | 'too_long';

/** Outcome of cleanText: the cleaned value ('' when blank), or why it is refused. */
export type CleanText = { ok: true; value: string } | { ok: false; problem: TextProblem; zh: string; en: string };

/**
 * Zero-width and other invisible characters a phone keyboard or a paste can leave at either end of
 * a field, or make a whole field of (U+200B zero width space, U+FEFF BOM, U+2060 word joiner,
 * U+00AD soft hyphen, bidi marks…). JS `\s` covers the spaces (incl. U+3000, U+00A0). Variation
 * selectors are kept: at the end they belong to the emoji before them (❤️).
 */
const EDGE_INVISIBLE = /^[\s\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\uffa0]+|[\s\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\uffa0]+$/g;

/**
 * The one rule for free text typed by people (names, descriptions, notes, reasons, comments), on
 * the phone and on the server (server/domain/inputs.ts `text()`, the link page, the three lists):
 * - CRLF / CR become LF; invisible characters and blanks at either end are trimmed, so a value of
 *   only those is blank (`value: ''` — the caller decides whether blank is allowed);
 * - control characters are refused: C0 (U+0000–U+001F; a NUL broke the Excel round trip), DEL and
 *   C1 (U+007F–U+009F) — except LF and TAB in multi-line text;
 * - a lone surrogate (not valid Unicode, cannot be stored as utf8mb4) is refused, and so is U+FFFD,
 *   what a body that was not valid UTF-8 decodes to (the bytes are lost: storing "��" is junk);
 * - bidi embedding / override / isolate controls (U+202A–U+202E, U+2066–U+2069) inside the text are
 *   refused: they make a note display differently from what it says ("Trojan Source");
 * - at most `max` characters, counted as code points after trimming.
 * @param o.max limit in characters (code points)
 * @param o.multiline whether LF and TAB are allowed (descriptions, notes), default false (names)
 */
export function cleanText(raw: string, o: { max: number; multiline?: boolean }): CleanText {
  const s = raw.replace(/\r\n?/g, '\n');
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++;
        continue;
      }
      return { ok: false, problem: 'bad_unicode', zh: '含有无效字符', en: 'contains invalid Unicode (a lone surrogate)' };
    }
    if (c >= 0xdc00 && c <= 0xdfff) return { ok: false, problem: 'bad_unicode', zh: '含有无效字符', en: 'contains invalid Unicode (a lone surrogate)' };
    if (c === 0xfffd) return { ok: false, problem: 'bad_unicode', zh: '含有无法识别的字符（文字编码有误，请用 UTF-8）', en: 'contains U+FFFD: the text was not valid UTF-8' };
    if ((c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) {
      return { ok: false, problem: 'bad_unicode', zh: '含有文字方向控制符', en: `contains a bidi control character (U+${c.toString(16).toUpperCase()})` };
    }
    const allowed = o.multiline && (c === 0x0a || c === 0x09);
    if (!allowed && (c < 0x20 || (c >= 0x7f && c <= 0x9f))) {
      const what = c === 0x0a || c === 0x09 ? { zh: '不能包含换行或制表符', en: 'must be one line (no line breaks or tabs)' } : { zh: '含有控制字符', en: `contains a control character (U+${c.toString(16).toUpperCase().padStart(4, '0')})` };
      return { ok: false, problem: 'control_char', ...what };
    }
  }
  const value = trimText(s);
  const n = [...value].length;
  if (n > o.max) return { ok: false, problem: 'too_long', zh: `不能超过 ${o.max} 个字（现有 ${n} 个）`, en: `must be at most ${o.max} characters (got ${n})` };
  return { ok: true, value };
}

/** `s` with CRLF / CR as LF and blanks and invisible characters trimmed at both ends ('' when that is all it has). */
export function trimText(s: string): string {
  return s.replace(/\r\n?/g, '\n').replace(EDGE_INVISIBLE, '');
}

/** The first `max` characters (code points) of `s`: never splits a surrogate pair (unlike `.slice`). */
export function clipChars(s: string, max: number): string {
  const cps = [...s];
  return cps.length <= max ? s : cps.slice(0, max).join('');
}

// ───────────────────────────── inspection rules ─────────────────────────────

/** CheckTask.checkMeans values (domain.md). */
export const CHECK_MEANS = ['拍照', '现场确认'] as const;

/** A task whose check means is 拍照 needs at least one photo on its record (domain.md "CheckTask"). */
export function photoRequired(checkMeans: string): boolean {
  return checkMeans === '拍照';
}

/** Where a reading lies against a key parameter's safe range. */
export type ReadingState = 'normal' | 'low' | 'high';

/**
 * A reading against the safe range [min, max] of its key parameter (same unit, e.g. MPa, %, ℃).
 * Either bound may be absent (null = unbounded on that side). Bounds are inclusive: a reading equal
 * to a bound is safe. Source: domain.md "CheckRecord" (a reading outside the range is abnormal).
 */
export function readingState(value: number, min: number | null, max: number | null): ReadingState {
  if (min !== null && value < min) return 'low';
  if (max !== null && value > max) return 'high';
  return 'normal';
}

/** Outside [min, max] = abnormal (raises an abnormal_reading alert on the server). */
export function isAbnormalReading(value: number, min: number | null, max: number | null): boolean {
  return readingState(value, min, max) !== 'normal';
}

/** CheckRecord.result [0 正常, 1 存在隐患, 2 无需排查] */
export type CheckResult = 0 | 1 | 2;

// ───────────────────────────── alerts ─────────────────────────────

/** Enterprise-wide oversight roles: act on every alert of their enterprise (issue #2). */
export const OVERSIGHT_ROLES = ['safety_dept', 'safety_director', 'principal', 'enterprise_admin'] as const;
/** Roles allowed to clear (销警) an alert by hand, with a reason (issue #2). */
export const CLEAR_ROLES = ['department_head', 'technical_head', 'operational_head', ...OVERSIGHT_ROLES] as const;

/** May a person with these roles clear an alert by hand? (The server also checks the alert is theirs.) */
export function mayClearAlerts(roles: readonly string[]): boolean {
  return roles.some((r) => (CLEAR_ROLES as readonly string[]).includes(r));
}

/** AlertEvent.type values and their names on an alert's timeline. */
export const ALERT_EVENT_LABELS: Record<string, string> = {
  opened: '预警产生',
  notified: '发出提醒',
  escalated: '升级提醒',
  repeated: '再次提醒',
  resumed: '恢复提醒',
  acknowledged: '确认',
  handled: '处置',
  cleared: '销警',
  delivery_failed: '发送失败',
  delivery_fallback: '改由其他渠道发送',
};

/**
 * AlertEvent.channel values and their names on an alert's timeline: how a person acted (link, api,
 * miniprogram, the chat callbacks wecom / dingtalk / wechat) or what a message went out through
 * (Notification.channel: server/channels/*). `engine` (the system itself) is not shown.
 */
export const CHANNEL_LABELS: Record<string, string> = {
  link: '链接',
  api: '接口',
  miniprogram: '小程序',
  wecom: '企业微信',
  dingtalk: '钉钉',
  wechat: '微信群',
  wecom_robot: '企业微信群',
  wecom_app: '企业微信',
  dingtalk_robot: '钉钉群',
  dingtalk_app: '钉钉',
  wechat_bot: '微信群',
  wechat_subscribe: '小程序订阅消息',
  outbox: '本地发件箱',
  engine: '系统',
};

// ───────────────────────────── binding and QR labels ─────────────────────────────

/** The one-time binding code an admin or the alert link page gives: exactly 6 digits. */
export const BINDING_CODE_LENGTH = 6;

export function isBindingCode(s: string): boolean {
  return /^\d{6}$/.test(s);
}

/** What a risk unit's QR label encodes: `dualprev:unit:<companyCode>:<unitCode>`. */
export const UNIT_QR_PREFIX = 'dualprev:unit:';

export function unitQrText(companyCode: string, unitCode: string): string {
  return `${UNIT_QR_PREFIX}${companyCode}:${unitCode}`;
}

/** @returns the codes in a scanned label, or null when the text is not one of our labels */
export function parseUnitQr(text: string): { companyCode: string; unitCode: string } | null {
  const t = text.trim();
  if (!t.startsWith(UNIT_QR_PREFIX)) return null;
  const rest = t.slice(UNIT_QR_PREFIX.length);
  const i = rest.indexOf(':');
  if (i <= 0 || i === rest.length - 1) return null;
  return { companyCode: rest.slice(0, i), unitCode: rest.slice(i + 1) };
}

// ───────────────────────────── hazard report (phone) ─────────────────────────────

/** dangerSrc of a hazard reported from the phone on a walk-round: 1 日常排查 (the confirmer may change it). */
export const PHONE_REPORT_DANGER_SRC = 1;
/** hazardDangerType when the reporter picks none: 8 其他 (the confirmer classifies it). */
export const UNCLASSIFIED_DANGER_TYPE = 8;
/** hazardDangerType [1..8] (national code; server/domain/hazard-rules.ts HAZARD_DANGER_TYPE_NAMES is this). */
export const HAZARD_TYPE_LABELS: Record<number, string> = { 1: '安全', 2: '工艺', 3: '电气', 4: '仪表', 5: '消防', 6: '总图', 7: '设备', 8: '其他' };
/** dangerLevel [0 一般, 1 重大] (national code; server/domain/hazard-rules.ts DANGER_LEVEL_NAMES is this). */
export const DANGER_LEVEL_LABELS: Record<number, string> = { 0: '一般隐患', 1: '重大隐患' };

export interface ValidationIssue {
  field: string;
  code: string;
  /** Chinese message for the page */
  zh: string;
}

/** What the phone has before it submits a report (photos as local paths, not yet uploaded). */
export interface HazardReportDraft {
  name: string;
  photoCount: number;
  riskUnitId?: number | null;
  dangerLevel?: 0 | 1 | null;
}

/**
 * Checks a report before it is queued or sent (the server checks the same limits again).
 * A place is not required (a hazard may be anywhere), a photo is not required by the rules but
 * the page asks for one (camera first).
 */
export function validateHazardDraft(d: HazardReportDraft): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const name = cleanText(d.name, { max: HAZARD_NAME_MAX });
  if (!name.ok) issues.push(name.problem === 'too_long' ? { field: 'name', code: 'name_too_long', zh: `说明不能超过 ${HAZARD_NAME_MAX} 字` } : { field: 'name', code: 'name_invalid', zh: `说明${name.zh}` });
  else if (!name.value) issues.push({ field: 'name', code: 'name_required', zh: '请用一句话说明隐患' });
  if (d.photoCount > MAX_PHOTOS) issues.push({ field: 'photos', code: 'too_many_photos', zh: `最多 ${MAX_PHOTOS} 张照片` });
  if (d.dangerLevel != null && d.dangerLevel !== 0 && d.dangerLevel !== 1) issues.push({ field: 'dangerLevel', code: 'invalid_level', zh: '隐患等级无效' });
  return issues;
}

// ───────────────────────────── wire types ─────────────────────────────
// Dates travel as ISO 8601 strings (UTC, e.g. "2026-11-30T04:00:00.000Z"); local dates as "YYYY-MM-DD".

/** Every error answer: `{ code, message (zh), message_en, details? }` */
export interface ApiErrorBody {
  code: string;
  message: string;
  message_en?: string;
  details?: unknown;
}

export interface SessionPerson {
  id: number;
  name: string;
  roles: string[];
  enterpriseId: number;
  enterpriseName: string;
}

/** POST /mp/login */
export interface MpLoginRequest {
  /** from wx.login; single use, 5 min */
  code: string;
}
export type MpLoginResponse =
  | { status: 'ok'; token: string; expiresAt: string; person: SessionPerson }
  | { status: 'unbound'; bindToken: string; expiresAt: string };

/** POST /mp/bind — exactly one of phoneCode / bindingCode */
export interface MpBindRequest {
  bindToken: string;
  /** from <button open-type="getPhoneNumber"> */
  phoneCode?: string;
  /** the 6-digit one-time code */
  bindingCode?: string;
}
export interface MpBindResponse {
  token: string;
  expiresAt: string;
  person: SessionPerson;
}

/** GET /mp/config */
export interface MpConfig {
  templateIds: { alert: string; [name: string]: string };
  maxPhotos: number;
  /** bytes per photo accepted by POST /files */
  uploadMaxBytes: number;
  deviceIdHint?: string;
}

export type SubscribeDecision = 'accept' | 'reject' | 'ban' | 'filter';
/** POST /mp/subscriptions */
export interface MpSubscriptionsRequest {
  results: Record<string, SubscribeDecision>;
}
export interface MpSubscriptionsResponse {
  /** sends left per template id */
  remaining: Record<string, number>;
  /** template ids this server does not send (not counted) */
  ignored?: string[];
}

export interface Ref {
  id: number;
  name: string;
}

/** GET /me */
export interface MeResponse {
  person: { id: number; code: string; name: string; roles: string[]; post: Ref | null; department: Ref | null };
  enterprise: { id: number; companyCode: string; name: string; timezone: string };
  readable: Array<{ id: number; companyCode: string; name: string }>;
}

/** GET /risk-units/by-qr?code= */
export interface RiskUnitByQr {
  id: number;
  code: string;
  name: string;
  riskObject?: { id: number; name: string } | string | null;
  controlMeasures: Array<{ id: number; code?: string; description?: string }>;
}

/** A page of a list: `{ total, items }` */
export interface Page<T> {
  total: number;
  items: T[];
}

/** GET /me/tasks item */
export interface MyTask {
  instanceId: number;
  startAt: string;
  endAt: string;
  window: { startAt: string; endAt: string };
  task: { id: number; code: string; content: string; checkMeans: string; workType: number; taskNum: number; checkCycle: number; checkCycleUnit: string };
  checkMeans: string;
  photoRequired: boolean;
  measure: { id: number; code: string; description: string; checkContent: string | null; riskEvent: Ref } | null;
  parameter: { name: string; unit: string | null; min: number | null; max: number | null; rangeText: string } | null;
  riskUnit: Ref | null;
  majorHazardSource: Ref | null;
}

/** POST /check-records */
export interface CheckRecordRequest {
  instanceId: number;
  result: CheckResult;
  readings?: Array<{ value: number }>;
  photos?: number[];
  deviceId?: string;
  location?: string;
  latitude?: number;
  longitude?: number;
  note?: string;
  clientRequestId?: string;
}
export interface CheckRecordResponse {
  checkRecordId: number;
  result: number;
  resultAdjusted: boolean;
  clearedAlerts: number[];
  abnormalAlertId: number | null;
  abnormal: boolean;
  hazardDraftId: number | null;
  duplicate?: boolean;
}

/** POST /files item */
export interface UploadedFile {
  id: number;
  mime: string;
  bytes: number;
  width: number | null;
  height: number | null;
  url: string;
  thumbUrl: string | null;
  gps: { latitude: number; longitude: number } | null;
}

/** POST /hazards (the fields the phone sends) */
export interface HazardReportRequest {
  name: string;
  description?: string;
  photos?: number[];
  location?: string;
  latitude?: number;
  longitude?: number;
  riskUnitId?: number;
  dangerLevel?: 0 | 1;
  dangerSrc: number;
  hazardDangerType: number;
  foundAt?: string;
  clientRequestId?: string;
}
export interface HazardReportResponse {
  hazardId: number;
  code: string;
  state: 'reported';
  dangerLevel: number;
  /** true when the same clientRequestId had already created this hazard */
  duplicate?: boolean;
}

/** GET /hazards item (the fields the phone shows) */
export interface HazardListItem {
  id: number;
  code: string;
  name: string;
  state: string;
  stateName: string;
  dangerLevel: number;
  riskUnit: Ref | null;
  reporter: Ref | null;
  rectifier: Ref | null;
  acceptor: Ref | null;
  reportedAt: string | null;
  /** 'YYYY-MM-DD' (local) and the instant it ends */
  deadlineDate: string | null;
  deadlineAt: string | null;
  overdue: boolean;
  pendingExtension: boolean;
  photoCount: number;
}

export interface PhotoRef {
  id: number;
  url: string;
  thumbUrl: string | null;
}

/** GET /hazards/:id (the fields the phone shows) */
export interface HazardView extends HazardListItem {
  description: string | null;
  location: string | null;
  photos: PhotoRef[];
  afterPhotos: PhotoRef[];
  names: Record<string, string | null>;
  transitions: Array<{ id: number; action: string; actionName: string; fromState: string | null; toState: string; actor: Ref | null; comment: string | null; photos: PhotoRef[]; at: string }>;
  extensions: Array<{ id: number; state: string; fromDeadlineDate: string | null; requestedDate: string; reason: string; requestedBy: { id: number; name: string | null }; createdAt: string; decidedAt: string | null; decisionComment: string | null }>;
}

/** The answer of a hazard step (rectify, accept, send back…) */
export interface HazardStepResponse {
  hazardId: number;
  state: string;
  [more: string]: unknown;
}

/**
 * Whether `personId` has acknowledged (确认) the alert in the pause that runs now: the alert is
 * acknowledged until after `now`, and their 'acknowledged' event comes after the last time the
 * alert went back to reminding ('resumed'). The link page and the mini-program then no longer offer
 * them 确认 (处置 stays); someone else's 确认 does not hide it. A pause that has run out offers
 * 确认 again, even before the engine records 'resumed'.
 * @param a ackUntil as a Date (server) or an ISO string (API answer); events oldest first
 */
export function acknowledgedByNow(
  a: { state: string; ackUntil: Date | string | null; events: ReadonlyArray<{ type: string; actorId: number | null }> },
  personId: number,
  now: Date,
): boolean {
  if (a.state !== 'acknowledged' || !a.ackUntil || new Date(a.ackUntil).getTime() <= now.getTime()) return false;
  for (let i = a.events.length - 1; i >= 0; i--) {
    const e = a.events[i];
    if (e.type === 'resumed') return false;
    if (e.type === 'acknowledged' && e.actorId === personId) return true;
  }
  return false;
}

/** GET /alerts item */
export interface AlertItem {
  id: number;
  code: string;
  kind: string;
  title: string;
  state: 'open' | 'acknowledged' | 'cleared';
  level: number;
  subjectType: string;
  subjectId: number;
  conditionStartAt: string;
  ackUntil: string | null;
  clearedAt: string | null;
  createdAt: string;
}

/** GET /alerts/:id */
export interface AlertView extends Omit<AlertItem, 'code'> {
  code: string;
  detail: Record<string, unknown> | null;
  handleNote: string | null;
  clearKind: string | null;
  clearReason: string | null;
  events: Array<{ id: number; type: string; level: number | null; actor: Ref | null; channel: string | null; note: string | null; at: string }>;
}
