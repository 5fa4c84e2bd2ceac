/**
 * 隐患详情: the hazard's timeline and photos, and the steps a person can take from the phone:
 * report a draft (草稿 from an abnormal reading), rectify with after-photos (整改完成), accept
 * (验收) or send back (退回, with a reason), request an extension (申请延期). The server decides who
 * may (rectifier or a superior, acceptor…); the page offers the step to the person it is waiting for.
 */
import { cleanText, EXTENSION_REASON_MAX, MAX_PHOTOS, MEASURES_MAX, NOTE_MAX, type HazardListItem, type HazardStepResponse, type HazardView, type PhotoRef } from '../shared/contract';
import { ApiError, get, post, uploadPhoto } from './api';
import { formatTime, timeLeft } from './format';

export interface HazardRow {
  id: number;
  code: string;
  name: string;
  stateName: string;
  /** what I am to do: 待整改 / 待验收 / '' */
  todo: string;
  unit: string;
  deadline: string;
  overdue: boolean;
  major: boolean;
}

export function hazardRow(h: HazardListItem, me: number, now: number = Date.now()): HazardRow {
  const todo = h.state === 'rectifying' && h.rectifier?.id === me ? '待我整改' : h.state === 'awaiting_acceptance' && h.acceptor?.id === me ? '待我验收' : '';
  const deadlineIso = h.deadlineAt;
  return {
    id: h.id,
    code: h.code,
    name: h.name,
    stateName: h.stateName,
    todo,
    unit: h.riskUnit?.name ?? '',
    deadline: h.deadlineDate ? `期限 ${h.deadlineDate}${deadlineIso ? ` · ${timeLeft(deadlineIso, now).text}` : ''}` : '',
    overdue: h.overdue,
    major: h.dangerLevel === 1,
  };
}

export interface HazardPageView {
  id: number;
  code: string;
  name: string;
  state: string;
  stateName: string;
  level: string;
  major: boolean;
  unit: string;
  location: string;
  description: string;
  people: string;
  deadline: string;
  overdue: boolean;
  photos: PhotoRef[];
  afterPhotos: PhotoRef[];
  timeline: Array<{ id: number; label: string; who: string; at: string; comment: string; photoCount: number }>;
  extensions: Array<{ id: number; text: string; state: string }>;
  canReport: boolean;
  canRectify: boolean;
  canExtend: boolean;
  canAccept: boolean;
}

const EXT_STATE: Record<string, string> = { pending: '待审批', approved: '已批准', rejected: '已驳回' };

export function hazardPageView(h: HazardView, me: number): HazardPageView {
  const pendingExt = h.extensions.some((e) => e.state === 'pending');
  return {
    id: h.id,
    code: h.code,
    name: h.name,
    state: h.state,
    stateName: h.stateName,
    level: h.names?.dangerLevel ?? (h.dangerLevel === 1 ? '重大隐患' : '一般隐患'),
    major: h.dangerLevel === 1,
    unit: h.riskUnit?.name ?? '',
    location: h.location ?? '',
    description: h.description ?? '',
    people: [h.reporter ? `上报 ${h.reporter.name}` : '', h.rectifier ? `整改 ${h.rectifier.name}` : '', h.acceptor ? `验收 ${h.acceptor.name}` : ''].filter(Boolean).join(' · '),
    deadline: h.deadlineDate ?? '',
    overdue: h.overdue,
    photos: h.photos ?? [],
    afterPhotos: h.afterPhotos ?? [],
    timeline: h.transitions.map((t) => ({ id: t.id, label: t.actionName, who: t.actor?.name ?? '', at: formatTime(t.at), comment: t.comment ?? '', photoCount: t.photos?.length ?? 0 })),
    extensions: h.extensions.map((e) => ({ id: e.id, text: `申请延期至 ${e.requestedDate}：${e.reason}`, state: EXT_STATE[e.state] ?? e.state })),
    canReport: h.state === 'draft' && h.reporter?.id === me,
    canRectify: h.state === 'rectifying' && h.rectifier?.id === me,
    canExtend: h.state === 'rectifying' && h.rectifier?.id === me && !pendingExt,
    canAccept: h.state === 'awaiting_acceptance' && h.acceptor?.id === me,
  };
}

export async function loadHazard(id: number): Promise<HazardView> {
  return get<HazardView>(`/hazards/${id}`);
}

/**
 * Uploads local photos one by one. @returns their file ids @throws ApiError
 * @param cache local path → file id of photos already uploaded (filled as uploads succeed), so a
 *        retry after a lost signal sends only what is missing
 */
export async function uploadAll(paths: string[], onProgress?: (done: number, total: number) => void, cache: Record<string, number> = {}): Promise<number[]> {
  if (paths.length > MAX_PHOTOS) throw new ApiError('rejected', 0, 'too_many_photos', `最多 ${MAX_PHOTOS} 张照片`);
  const ids: number[] = [];
  for (let i = 0; i < paths.length; i++) {
    onProgress?.(i, paths.length);
    if (!cache[paths[i]]) cache[paths[i]] = (await uploadPhoto(paths[i])).id;
    ids.push(cache[paths[i]]);
  }
  onProgress?.(paths.length, paths.length);
  return ids;
}

function text(t: string, max: number, code: string, zhEmpty: string | null): string | undefined {
  // the server's text rule (shared/contract.ts cleanText), so a text it would refuse is never sent
  const r = cleanText(t, { max, multiline: true });
  if (!r.ok) throw new ApiError('rejected', 0, r.problem === 'too_long' ? `${code}_too_long` : `${code}_invalid`, r.problem === 'too_long' ? `不能超过 ${max} 字` : r.zh);
  if (!r.value) {
    if (zhEmpty) throw new ApiError('rejected', 0, `${code}_required`, zhEmpty);
    return undefined;
  }
  return r.value;
}

/** 上报 a draft (POST /hazards/:id/report) */
export async function reportDraft(id: number): Promise<HazardStepResponse> {
  return post<HazardStepResponse>(`/hazards/${id}/report`, {});
}

/** 整改完成: uploads the after-photos (≥ 1; `cache` as in uploadAll), then POST /hazards/:id/rectify. @throws ApiError */
export async function rectify(id: number, measures: string, afterPhotoPaths: string[], onProgress?: (done: number, total: number) => void, cache: Record<string, number> = {}): Promise<HazardStepResponse> {
  const m = text(measures, MEASURES_MAX, 'measures', '请填写整改措施');
  if (afterPhotoPaths.length === 0) throw new ApiError('rejected', 0, 'after_photo_required', '请拍摄整改后的照片');
  const afterPhotos = await uploadAll(afterPhotoPaths, onProgress, cache);
  return post<HazardStepResponse>(`/hazards/${id}/rectify`, { measures: m, afterPhotos });
}

/** 验收通过 */
export async function accept(id: number, comment = ''): Promise<HazardStepResponse> {
  const c = text(comment, 500, 'comment', null);
  return post<HazardStepResponse>(`/hazards/${id}/accept`, c ? { comment: c } : {});
}

/** 退回 (reason required) */
export async function sendBack(id: number, comment: string): Promise<HazardStepResponse> {
  return post<HazardStepResponse>(`/hazards/${id}/send-back`, { comment: text(comment, NOTE_MAX, 'comment', '请填写退回原因') });
}

/** 申请延期 to a local date 'YYYY-MM-DD' with a reason */
export async function requestExtension(id: number, requestedDate: string, reason: string): Promise<unknown> {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(requestedDate)) throw new ApiError('rejected', 0, 'date_required', '请选择延期到的日期');
  return post(`/hazards/${id}/extensions`, { requestedDate, reason: text(reason, EXTENSION_REASON_MAX, 'reason', '请填写延期原因') });
}
