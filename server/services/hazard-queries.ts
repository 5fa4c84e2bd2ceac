/**
 * Reading hazards: the filtered, paged list (GET /hazards) and one hazard with everything about it
 * (GET /hazards/:id): photos with URLs, the step log with actor names, extension requests, the
 * 治理方案, display names of the national codes.
 *
 * Drafts (草稿) are private to the person who drafted them (and the oversight roles): not reported
 * yet, they are nobody else's business and in no list unless asked for with `state=draft`.
 */
import type { PrismaClient, Prisma } from '../db';
import { containsText } from '../db';
import type { Clock } from '../clock';
import { notFound } from '../errors';
import { HAZARD_ACTION_NAMES, HAZARD_STATE_NAMES, OPEN_HAZARD_STATES, nationalHazardState, type HazardAction, type HazardState } from '../domain/hazard-state';
import { DANGER_LEVEL_NAMES, DANGER_MANAGE_TYPE_NAMES, DANGER_SRC_NAMES, HAZARD_CATEGORY_NAMES, HAZARD_DANGER_TYPE_NAMES, MANAGE_CLASS_NAMES } from '../domain/hazard-rules';
import { MAJOR_CRITERIA } from '../domain/major-criteria';
import { endOfLocalDay, localMidnight } from '../domain/time';
import type { Actor } from './alert-actions';
import { enterpriseZone, OVERSIGHT } from './hazards';
import { photoIds, photoResolver } from './photo-refs';

export interface HazardListQuery {
  limit: number;
  offset: number;
  /** one or more states; default: every state but draft */
  state?: HazardState[];
  /** [0 一般, 1 重大] */
  level?: 0 | 1;
  /** true: open (reported/rectifying/awaiting acceptance) and past the deadline; false: not that */
  overdue?: boolean;
  unitId?: number;
  /** the person reported, rectifies or accepts it */
  personId?: number;
  /** local dates (enterprise zone), inclusive, on reportedAt */
  from?: string;
  to?: string;
  /** has an extension request waiting for a decision */
  pendingExtension?: boolean;
  /** text in the name or code */
  q?: string;
}

const ref = { select: { id: true, name: true } } as const;

function draftVisibility(actor: Actor): Prisma.HazardWhereInput {
  return actor.roles.some((r) => OVERSIGHT.includes(r)) ? {} : { OR: [{ state: { not: 'draft' } }, { reporterId: actor.personId }] };
}

/**
 * GET /hazards. Ordered by reportedAt, newest first.
 * @returns `{ total, items }`; each item: id, code, name, state (+ stateName, nationalState), level and
 *          codes, riskUnit, reporter/rectifier/acceptor {id, name}, foundAt, reportedAt, deadlineDate,
 *          deadlineAt, overdue, pendingExtension, photoCount
 */
export async function listHazards(prisma: PrismaClient, clock: Clock, actor: Actor, q: HazardListQuery) {
  const now = clock.now();
  const tz = await enterpriseZone(prisma, actor.enterpriseId);
  const open = [...OPEN_HAZARD_STATES];
  const and: Prisma.HazardWhereInput[] = [{ enterpriseId: actor.enterpriseId }, draftVisibility(actor)];
  and.push(q.state?.length ? { state: { in: q.state } } : { state: { not: 'draft' } });
  if (q.level !== undefined) and.push({ dangerLevel: q.level });
  if (q.overdue === true) and.push({ state: { in: open }, deadlineAt: { lt: now } });
  if (q.overdue === false) and.push({ OR: [{ state: { notIn: open } }, { deadlineAt: null }, { deadlineAt: { gte: now } }] });
  if (q.unitId !== undefined) and.push({ riskUnitId: q.unitId });
  if (q.personId !== undefined) and.push({ OR: [{ reporterId: q.personId }, { rectifierId: q.personId }, { acceptorId: q.personId }] });
  if (q.from) and.push({ reportedAt: { gte: localMidnight(q.from, tz) } });
  if (q.to) and.push({ reportedAt: { lt: endOfLocalDay(q.to, tz) } });
  if (q.pendingExtension !== undefined) and.push(q.pendingExtension ? { extensions: { some: { state: 'pending' } } } : { extensions: { none: { state: 'pending' } } });
  if (q.q?.trim()) and.push({ OR: [{ name: containsText(q.q.trim()) }, { code: containsText(q.q.trim()) }] });
  const where: Prisma.HazardWhereInput = { AND: and };
  const [total, rows] = await Promise.all([
    prisma.hazard.count({ where }),
    prisma.hazard.findMany({
      where,
      orderBy: [{ reportedAt: 'desc' }, { id: 'desc' }],
      take: q.limit,
      skip: q.offset,
      include: { riskUnit: ref, reporter: ref, rectifier: ref, acceptor: ref, extensions: { where: { state: 'pending' }, select: { id: true } } },
    }),
  ]);
  return {
    total,
    items: rows.map((h) => ({
      id: h.id,
      code: h.code,
      name: h.name,
      state: h.state,
      stateName: HAZARD_STATE_NAMES[h.state as HazardState] ?? h.state,
      nationalState: nationalHazardState(h.state as HazardState),
      dangerLevel: h.dangerLevel,
      dangerSrc: h.dangerSrc,
      hazardDangerType: h.hazardDangerType,
      dangerManageType: h.dangerManageType,
      majorCriterion: h.majorCriterion,
      riskUnit: h.riskUnit,
      reporter: h.reporter,
      rectifier: h.rectifier,
      acceptor: h.acceptor,
      location: h.location,
      foundAt: h.foundAt,
      reportedAt: h.reportedAt,
      deadlineDate: h.deadlineDate,
      deadlineAt: h.deadlineAt,
      overdue: open.includes(h.state as HazardState) && h.deadlineAt !== null && h.deadlineAt < now,
      pendingExtension: h.extensions.length > 0,
      photoCount: photoIds(h.photos).length,
    })),
  };
}

/**
 * GET /hazards/:id: the hazard with photos (before/after, URLs under `fileBase`), the step log in
 * order (action and its name, from/to state, actor {id, name}, comment, photos, data, at), extension
 * requests (with requester/decider names), the 治理方案, and display names of the codes.
 * @param fileBase e.g. `${publicUrl}/api/v1/files`
 * @throws 404 not_found (other enterprise, or another person's draft)
 */
export async function getHazardView(prisma: PrismaClient, clock: Clock, actor: Actor, hazardId: number, fileBase: string) {
  const h = await prisma.hazard.findFirst({
    where: { AND: [{ id: hazardId, enterpriseId: actor.enterpriseId }, draftVisibility(actor)] },
    include: {
      riskUnit: ref,
      controlMeasure: { select: { id: true, code: true, description: true, paramName: true, paramUnit: true, paramMin: true, paramMax: true } },
      checkRecord: { select: { id: true, checkedAt: true, result: true, instanceId: true } },
      reporter: ref,
      rectifier: ref,
      acceptor: ref,
      transitions: { orderBy: [{ at: 'asc' }, { id: 'asc' }], include: { actor: ref } },
      extensions: { orderBy: { id: 'asc' } },
    },
  });
  if (!h) throw notFound('hazard', '隐患');
  const now = clock.now();
  const photos = await photoResolver(prisma, actor.enterpriseId, [h.photos, h.afterPhotos, ...h.transitions.map((t) => t.photos)], fileBase);
  const peopleIds = [...new Set(h.extensions.flatMap((e) => [e.requestedById, e.decidedById]).filter((x): x is number => x !== null))];
  const names = new Map((peopleIds.length ? await prisma.person.findMany({ where: { id: { in: peopleIds } }, select: { id: true, name: true } }) : []).map((p) => [p.id, p]));
  const state = h.state as HazardState;
  const { transitions, extensions, photos: _p, afterPhotos: _a, nextCheckAt: _n, ...rest } = h;
  const num = (d: { toString(): string } | null) => (d === null ? null : Number(d.toString()));
  const m = rest.controlMeasure;
  return {
    ...rest,
    latitude: num(h.latitude),
    longitude: num(h.longitude),
    cost: num(h.cost),
    controlMeasure: m ? { ...m, paramMin: num(m.paramMin), paramMax: num(m.paramMax) } : null,
    stateName: HAZARD_STATE_NAMES[state] ?? h.state,
    nationalState: nationalHazardState(state),
    overdue: OPEN_HAZARD_STATES.includes(state) && h.deadlineAt !== null && h.deadlineAt < now,
    names: {
      dangerLevel: DANGER_LEVEL_NAMES[h.dangerLevel] ?? null,
      dangerSrc: DANGER_SRC_NAMES[h.dangerSrc] ?? null,
      hazardDangerType: HAZARD_DANGER_TYPE_NAMES[h.hazardDangerType] ?? null,
      dangerManageType: DANGER_MANAGE_TYPE_NAMES[h.dangerManageType] ?? null,
      manageClass: h.manageClass != null ? MANAGE_CLASS_NAMES[h.manageClass] ?? null : null,
      hazardCategory: HAZARD_CATEGORY_NAMES[h.hazardCategory] ?? null,
      majorCriterion: h.majorCriterion != null ? MAJOR_CRITERIA[h.majorCriterion] ?? null : null,
    },
    photos: photos(h.photos),
    afterPhotos: photos(h.afterPhotos),
    transitions: transitions.map((t) => ({
      id: t.id,
      action: t.action,
      actionName: HAZARD_ACTION_NAMES[t.action as HazardAction] ?? t.action,
      fromState: t.fromState,
      toState: t.toState,
      actor: t.actor,
      comment: t.comment,
      photos: photos(t.photos),
      data: t.data,
      at: t.at,
    })),
    extensions: extensions.map((e) => ({
      id: e.id,
      state: e.state,
      fromDeadlineDate: e.fromDeadlineDate,
      requestedDate: e.requestedDate,
      reason: e.reason,
      requestedBy: names.get(e.requestedById) ?? { id: e.requestedById, name: null },
      createdAt: e.createdAt,
      decidedBy: e.decidedById !== null ? names.get(e.decidedById) ?? { id: e.decidedById, name: null } : null,
      decidedAt: e.decidedAt,
      decisionComment: e.decisionComment,
    })),
  };
}
