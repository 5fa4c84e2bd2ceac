/**
 * 预警: my alerts and one alert's timeline, with 确认 (acknowledge), 处置 (handle, with a note) and
 * 销警 (clear by hand, with a reason). 销警 is offered only to the roles the server lets clear
 * (shared/contract.ts CLEAR_ROLES — the same list server/domain/alert-permissions.ts enforces).
 */
import { acknowledgedByNow, ALERT_EVENT_LABELS, CHANNEL_LABELS, cleanText, mayClearAlerts, NOTE_MAX, type AlertItem, type AlertView, type Page } from '../shared/contract';
import { ApiError, get, post } from './api';
import { formatTime } from './format';

const STATE_TEXT: Record<string, string> = { open: '待确认', acknowledged: '已确认', cleared: '已销警' };

export interface AlertRow {
  id: number;
  code: string;
  title: string;
  state: string;
  stateText: string;
  level: string;
  at: string;
}

export function alertRow(a: AlertItem): AlertRow {
  return { id: a.id, code: a.code, title: a.title, state: a.state, stateText: STATE_TEXT[a.state] ?? a.state, level: a.level > 0 ? `第${a.level}级` : '未通知', at: formatTime(a.createdAt) };
}

export async function loadAlerts(state: 'open' | 'cleared' = 'open'): Promise<{ total: number; rows: AlertRow[] }> {
  const page = await get<Page<AlertItem>>('/alerts', { state, limit: 50 });
  return { total: page.total, rows: page.items.map(alertRow) };
}

export interface TimelineRow {
  id: number;
  label: string;
  who: string;
  at: string;
  note: string;
}

export interface AlertPageView {
  id: number;
  code: string;
  title: string;
  state: string;
  stateText: string;
  level: string;
  timeline: TimelineRow[];
  canAck: boolean;
  canHandle: boolean;
  /** 销警: only for CLEAR_ROLES, and only while not cleared */
  canClear: boolean;
  /** the hazard it is about (opens 隐患详情), if any */
  hazardId: number | null;
  handleNote: string;
  clearReason: string;
}

/**
 * The alert page's view for `viewer`: 确认 is offered unless the alert is cleared or the viewer has
 * confirmed it in the pause running now (the link page's rule, shared/contract.ts acknowledgedByNow);
 * 销警 only for roles that may clear.
 */
export function alertPageView(a: AlertView, viewer: { id: number; roles: readonly string[] }, now: Date = new Date()): AlertPageView {
  const open = a.state !== 'cleared';
  return {
    id: a.id,
    code: a.code,
    title: a.title,
    state: a.state,
    stateText: STATE_TEXT[a.state] ?? a.state,
    level: a.level > 0 ? `第${a.level}级` : '未通知',
    timeline: a.events.map((e) => ({
      id: e.id,
      label: `${ALERT_EVENT_LABELS[e.type] ?? e.type}${e.level ? `（第${e.level}级）` : ''}`,
      who: [e.actor?.name, e.channel ? CHANNEL_LABELS[e.channel] ?? e.channel : null].filter(Boolean).join(' · '),
      at: formatTime(e.at),
      note: e.note ?? '',
    })),
    canAck: open && !acknowledgedByNow({ state: a.state, ackUntil: a.ackUntil, events: a.events.map((e) => ({ type: e.type, actorId: e.actor?.id ?? null })) }, viewer.id, now),
    canHandle: open,
    canClear: open && mayClearAlerts(viewer.roles),
    hazardId: a.subjectType === 'hazard' ? a.subjectId : null,
    handleNote: a.handleNote ?? '',
    clearReason: a.clearReason ?? '',
  };
}

export async function loadAlert(id: number, viewer: { id: number; roles: readonly string[] }): Promise<AlertPageView> {
  return alertPageView(await get<AlertView>(`/alerts/${id}`), viewer);
}

function need(text: string, what: string): string {
  // the server's text rule (shared/contract.ts cleanText), so a note it would refuse is never sent
  const t = cleanText(text, { max: NOTE_MAX, multiline: true });
  if (!t.ok) throw new ApiError('rejected', 0, t.problem === 'too_long' ? `${what}_too_long` : `${what}_invalid`, t.problem === 'too_long' ? `不能超过 ${NOTE_MAX} 字` : t.zh);
  if (!t.value) throw new ApiError('rejected', 0, `${what}_required`, what === 'note' ? '请填写处置说明' : '请填写销警原因');
  return t.value;
}

/** 确认 */
export function acknowledge(id: number, note = ''): Promise<unknown> {
  return post(`/alerts/${id}/ack`, note.trim() ? { note: note.trim() } : {});
}
/** 处置 (note required) */
export function handle(id: number, note: string): Promise<unknown> {
  return post(`/alerts/${id}/handle`, { note: need(note, 'note') });
}
/** 销警 (reason required) */
export function clear(id: number, reason: string): Promise<unknown> {
  return post(`/alerts/${id}/clear`, { reason: need(reason, 'reason') });
}
