/**
 * Renders an alert into the neutral message (message.ts) at the moment it fires.
 * Pure: `now` is passed in; texts are Chinese because the readers are plant staff.
 *
 * Overdue days are counted in local calendar days (today − deadline date, in the enterprise's
 * time zone), the way 超期天数 is shown on provincial platforms: a deadline of 11-25 read on 11-30
 * is "已超期 5 天".
 */
import { dayjs, localDateOf, localDayDiff } from './time';
import { ALERT_KIND_NAMES, type AlertKind } from './escalation';
import type { MessageRecipient, NeutralMessage } from './message';

const LEVEL_NAMES = ['', '一级', '二级', '三级', '四级', '五级'];

/** Subject summary stored on Alert.detail when the alert opens (shapes per subject type). */
export type AlertDetail =
  | {
      type: 'task';
      tz: string;
      taskCode: string;
      taskContent: string;
      unitName?: string | null;
      postName?: string | null;
      assigneeName?: string | null;
      /** ISO instants of the instance window that triggered the alert */
      windowStart: string;
      windowEnd: string;
      instanceId: number;
      /** task_overdue: instances missed since the alert opened */
      missedCount?: number;
    }
  | {
      type: 'hazard';
      tz: string;
      hazardCode: string;
      hazardName: string;
      unitName?: string | null;
      dangerLevel: number;
      /** YYYY-MM-DD local date */
      deadlineDate?: string | null;
      rectifierName?: string | null;
      acceptorName?: string | null;
      foundAt?: string;
      reportedAt?: string;
      enforcementId?: string | null;
      majorCriterion?: number | null;
    }
  | {
      type: 'reading';
      tz: string;
      unitName?: string | null;
      measure: string;
      paramName: string;
      unit?: string | null;
      value: number;
      safeMin?: number | null;
      safeMax?: number | null;
      checkedAt: string;
      personName?: string | null;
      checkRecordId: number;
    };

/** `2026-11-30 14:05` in the given zone. */
export function formatLocal(instant: Date | string, tz: string): string {
  return dayjs(instant).tz(tz).format('YYYY-MM-DD HH:mm');
}

/** The alert code people type in chat and see in messages: "A" + id. */
export function alertCode(id: number): string {
  return `A${id}`;
}

/** Parses "A123" / "a123" / "１２３" (full-width digits) into 123; null when it is not a code. */
export function parseAlertCode(s: string): number | null {
  const t = s.trim().replace(/[０-９]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0)).replace(/^[AaＡａ]/, '');
  return /^\d{1,9}$/.test(t) ? Number(t) : null;
}

/** The alert's one-line title (without level), e.g. "超期未整改：V-101B 远传液位…". */
export function alertTitle(kind: AlertKind, d: AlertDetail): string {
  const what = d.type === 'task' ? d.taskContent : d.type === 'hazard' ? d.hazardName : `${d.paramName} ${d.value}${d.unit ?? ''}`;
  return `${ALERT_KIND_NAMES[kind]}：${what}`;
}

function rangeText(min?: number | null, max?: number | null, unit?: string | null): string {
  const u = unit ?? '';
  if (min != null && max != null) return `${min}～${max} ${u}`.trim();
  if (max != null) return `≤ ${max} ${u}`.trim();
  if (min != null) return `≥ ${min} ${u}`.trim();
  return '未设定';
}

/** Detail lines, most important first (channels drop from the end when a message is too long). */
export function detailLines(kind: AlertKind, d: AlertDetail, now: Date): string[] {
  const lines: string[] = [];
  if (d.type === 'task') {
    if (d.unitName) lines.push(`风险单元：${d.unitName}`);
    lines.push(`排查时段：${formatLocal(d.windowStart, d.tz)} ～ ${formatLocal(d.windowEnd, d.tz)}`);
    if (kind === 'task_overdue') {
      const mins = Math.max(0, Math.floor((now.getTime() - Date.parse(d.windowEnd)) / 60000));
      const h = Math.floor(mins / 60);
      lines.push(`状态：已逾期 ${h >= 24 ? `${Math.floor(h / 24)} 天 ${h % 24} 小时` : `${h} 小时 ${mins % 60} 分`}${d.missedCount && d.missedCount > 1 ? `（累计漏检 ${d.missedCount} 次）` : ''}`);
    } else {
      const mins = Math.max(0, Math.ceil((Date.parse(d.windowEnd) - now.getTime()) / 60000));
      lines.push(`状态：距截止还有 ${mins >= 60 ? `${Math.floor(mins / 60)} 小时 ${mins % 60} 分` : `${mins} 分钟`}`);
    }
    if (d.postName || d.assigneeName) lines.push(`责任岗位：${[d.postName, d.assigneeName].filter(Boolean).join(' / ')}`);
    lines.push(`任务编号：${d.taskCode}`);
  } else if (d.type === 'hazard') {
    if (d.unitName) lines.push(`风险单元：${d.unitName}`);
    lines.push(`隐患等级：${d.dangerLevel === 1 ? '重大隐患' : '一般隐患'}${d.majorCriterion ? `（判定标准第 ${d.majorCriterion} 条）` : ''}`);
    if (d.deadlineDate) {
      const days = localDayDiff(localDateOf(now, d.tz), d.deadlineDate);
      const state = days > 0 ? `已超期 ${days} 天` : days === 0 ? '今日到期' : `剩余 ${-days} 天`;
      lines.push(`整改期限：${d.deadlineDate}（${state}）`);
    }
    if (kind === 'hazard_late_entry' && d.foundAt && d.reportedAt) {
      const days = localDayDiff(localDateOf(new Date(d.reportedAt), d.tz), localDateOf(new Date(d.foundAt), d.tz));
      lines.push(`发现日期：${localDateOf(new Date(d.foundAt), d.tz)}，录入日期：${localDateOf(new Date(d.reportedAt), d.tz)}（${days} 天后录入，超过 7 天时限）`);
    }
    if (d.enforcementId) lines.push(`执法编号：${d.enforcementId}`);
    if (d.rectifierName) lines.push(`整改责任人：${d.rectifierName}`);
    if (d.acceptorName) lines.push(`验收人：${d.acceptorName}`);
    lines.push(`隐患编号：${d.hazardCode}`);
  } else {
    if (d.unitName) lines.push(`风险单元：${d.unitName}`);
    lines.push(`读数：${d.paramName} ${d.value} ${d.unit ?? ''}（安全范围 ${rangeText(d.safeMin, d.safeMax, d.unit)}）`.replace(/\s+（/, '（'));
    lines.push(`管控措施：${d.measure}`);
    lines.push(`记录时间：${formatLocal(d.checkedAt, d.tz)}${d.personName ? `，记录人：${d.personName}` : ''}`);
  }
  return lines;
}

/**
 * The neutral message for one firing. Links are added at delivery time (they expire).
 * @param level the level notified (1-based); @param reason 'open' | 'escalate' | 'repeat'
 */
export function renderAlertMessage(input: {
  alertId: number;
  kind: AlertKind;
  detail: AlertDetail;
  level: number;
  reason: string;
  now: Date;
  recipients: MessageRecipient[];
  unresolvedRoles?: string[];
}): NeutralMessage {
  const { alertId, kind, detail, level, reason, now } = input;
  const tag = reason === 'repeat' ? '再次提醒' : reason === 'escalate' ? '升级' : '';
  const title = `【${ALERT_KIND_NAMES[kind]}·${LEVEL_NAMES[level] ?? `${level}级`}${tag ? `·${tag}` : ''}】${alertTitle(kind, detail).split('：').slice(1).join('：')}`;
  const lines = detailLines(kind, detail, now);
  lines.push(`预警编号：${alertCode(alertId)}（${formatLocal(now, detail.tz)}）`);
  if (input.unresolvedRoles?.length) lines.push(`注意：未找到以下角色的人员：${input.unresolvedRoles.join('、')}`);
  return {
    alertCode: alertCode(alertId),
    title,
    lines,
    level,
    reason,
    firedAt: now.toISOString(),
    recipients: input.recipients,
    facts: { kind, kindName: ALERT_KIND_NAMES[kind], subject: alertTitle(kind, detail).split('：').slice(1).join('：'), place: detail.unitName ?? null, tz: detail.tz },
  };
}
