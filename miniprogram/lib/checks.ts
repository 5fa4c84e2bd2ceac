/**
 * Doing a check on site (我的排查): the view of a due task, a reading judged against the safe range
 * as it is typed (the same rule as the server: shared/contract.ts readingState), what is missing
 * before submit, and the POST /check-records body with time, place and device id.
 */
import { CHECK_LOCATION_MAX, CHECK_NOTE_MAX, cleanText, clipChars, MAX_PHOTOS, photoRequired, readingState, type CheckRecordRequest, type CheckRecordResponse, type CheckResult, type MyTask, type ReadingState } from '../shared/contract';
import { get, post } from './api';
import { formatNumber, formatTime, parseReading, timeLeft } from './format';
import { uuid4 } from './uuid';

export async function loadMyTasks(): Promise<MyTask[]> {
  return (await get<{ items: MyTask[] }>('/me/tasks')).items;
}

/** One row of the 我的排查 list. */
export interface TaskRow {
  instanceId: number;
  title: string;
  unit: string;
  range: string;
  due: string;
  late: boolean;
  soon: boolean;
  photo: boolean;
}

export function taskRow(t: MyTask, now: number = Date.now()): TaskRow {
  const left = timeLeft(t.endAt, now);
  return {
    instanceId: t.instanceId,
    title: t.task.content,
    unit: t.riskUnit?.name ?? t.majorHazardSource?.name ?? '',
    range: t.parameter ? `${t.parameter.name} ${t.parameter.rangeText}` : '',
    due: `${formatTime(t.endAt)} 前 · ${left.text}`,
    late: left.late,
    soon: left.soon,
    photo: photoRequired(t.checkMeans),
  };
}

/** A typed reading judged as it is typed: the class flips the field red before submit. */
export interface ReadingView {
  value: number | null;
  state: ReadingState | 'empty' | 'invalid';
  /** CSS class of the field: reading-normal / reading-low / reading-high / reading-invalid / '' */
  cls: string;
  hint: string;
}

export function judgeReading(text: string, t: MyTask): ReadingView {
  const p = t.parameter;
  if (!String(text ?? '').trim()) return { value: null, state: 'empty', cls: '', hint: p ? `安全范围 ${p.rangeText}` : '' };
  const v = parseReading(text);
  if (v === null) return { value: null, state: 'invalid', cls: 'reading-invalid', hint: '请输入数字' };
  if (!p) return { value: v, state: 'normal', cls: 'reading-normal', hint: '' };
  const s = readingState(v, p.min, p.max);
  const u = p.unit ? ` ${p.unit}` : '';
  const hint =
    s === 'normal'
      ? `正常（${p.rangeText}）`
      : `${s === 'high' ? '偏高' : '偏低'}：${formatNumber(v)}${u} 超出安全范围 ${p.rangeText}，提交后将产生异常预警`;
  return { value: v, state: s, cls: `reading-${s}`, hint };
}

export interface CheckForm {
  result: CheckResult;
  readingText: string;
  photoIds: number[];
  /** photos chosen but not uploaded yet count too */
  photoCount: number;
  note: string;
}

/** What stops a submit, in Chinese; [] when it can go. */
export function checkProblems(t: MyTask, f: CheckForm): string[] {
  const out: string[] = [];
  const r = judgeReading(f.readingText, t);
  if (t.parameter && f.result !== 2 && r.state === 'empty') out.push(`请填写${t.parameter.name}读数`);
  if (r.state === 'invalid') out.push('读数不是有效数字');
  if (!t.parameter && f.readingText.trim()) out.push('该任务没有关键参数，无需读数');
  if (photoRequired(t.checkMeans) && f.photoCount === 0) out.push('该任务的排查方式为拍照，请拍摄现场照片');
  if (f.photoCount > MAX_PHOTOS) out.push(`最多 ${MAX_PHOTOS} 张照片`);
  const note = cleanText(f.note, { max: CHECK_NOTE_MAX, multiline: true });
  if (!note.ok) out.push(note.problem === 'too_long' ? `备注不能超过 ${CHECK_NOTE_MAX} 字` : `备注${note.zh}`);
  return out;
}

export interface Place {
  latitude?: number;
  longitude?: number;
  /** free text, e.g. the unit's name */
  location?: string;
}

/**
 * The POST /check-records body. Time is the server's receipt time (CheckRecord.checkedAt); the
 * phone adds where (WGS-84 from wx.getLocation) and which install (deviceId).
 */
export function checkRecordBody(t: MyTask, f: CheckForm, place: Place, deviceId: string, clientRequestId: string): CheckRecordRequest {
  const r = judgeReading(f.readingText, t);
  const body: CheckRecordRequest = { instanceId: t.instanceId, result: f.result, deviceId, clientRequestId };
  if (t.parameter && r.value !== null) body.readings = [{ value: r.value }];
  if (f.photoIds.length) body.photos = f.photoIds;
  if (typeof place.latitude === 'number' && typeof place.longitude === 'number') {
    body.latitude = place.latitude;
    body.longitude = place.longitude;
  }
  // a place name longer than the server keeps is shortened by whole characters (never half an emoji)
  const location = place.location ? cleanText(clipChars(place.location, CHECK_LOCATION_MAX), { max: CHECK_LOCATION_MAX }) : null;
  if (location?.ok && location.value) body.location = location.value;
  const note = cleanText(f.note, { max: CHECK_NOTE_MAX, multiline: true });
  if (note.ok && note.value) body.note = note.value;
  return body;
}

export function submitCheck(body: CheckRecordRequest): Promise<CheckRecordResponse> {
  return post<CheckRecordResponse>('/check-records', body);
}

/** A fresh idempotency key for one check being done (kept while the page is open: a retry reuses it). */
export function newCheckRequestId(): string {
  return uuid4();
}
