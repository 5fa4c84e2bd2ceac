/**
 * 首页: what needs me now — my open alerts, my checks due now, hazards waiting for my action
 * (to rectify, to accept), and my reports still waiting on the phone.
 */
import type { AlertItem, HazardListItem, MeResponse, MyTask, Page, SessionPerson } from '../shared/contract';
import { updatePerson } from './session';
import { get } from './api';
import { pendingCount } from './queue';
import { alertRow, type AlertRow } from './alerts';
import { taskRow, type TaskRow } from './checks';
import { hazardRow, type HazardRow } from './hazards';

export interface HomeView {
  counts: { alerts: number; tasks: number; hazards: number; queued: number };
  alerts: AlertRow[];
  tasks: TaskRow[];
  hazards: HazardRow[];
}

/** Open hazards where the next step is this person's (rectify, accept). */
export function waitingForMe(items: HazardListItem[], personId: number): HazardListItem[] {
  return items.filter((h) => (h.state === 'rectifying' && h.rectifier?.id === personId) || (h.state === 'awaiting_acceptance' && h.acceptor?.id === personId));
}

/** Three requests at once: GET /alerts?state=open, GET /me/tasks, GET /hazards?personId=<me>. @throws ApiError */
export async function loadHome(me: SessionPerson, now: number = Date.now()): Promise<HomeView> {
  const [alerts, tasks, hazards] = await Promise.all([
    get<Page<AlertItem>>('/alerts', { state: 'open', limit: 20 }),
    get<{ items: MyTask[] }>('/me/tasks'),
    get<Page<HazardListItem>>('/hazards', { personId: me.id, state: 'rectifying,awaiting_acceptance', limit: 50 }),
  ]);
  const mine = waitingForMe(hazards.items, me.id);
  return {
    counts: { alerts: alerts.total, tasks: tasks.items.length, hazards: mine.length, queued: pendingCount() },
    alerts: alerts.items.slice(0, 5).map((a) => alertRow(a)),
    tasks: tasks.items.slice(0, 5).map((t) => taskRow(t, now)),
    hazards: mine.slice(0, 5).map((h) => hazardRow(h, me.id, now)),
  };
}

/** GET /me: keeps the session's name and roles current (销警 follows a role change). @returns the roles */
export async function refreshMe(): Promise<string[]> {
  const me = await get<MeResponse>('/me');
  updatePerson({ name: me.person.name, roles: me.person.roles });
  return me.person.roles;
}
