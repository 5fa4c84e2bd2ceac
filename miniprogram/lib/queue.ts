/**
 * The offline queue of hazard reports (issue #5 item 3, 隐患上报): a tank farm has one bar of
 * signal, so every report goes through this queue — sent at once when there is signal, kept on
 * the phone when there is none, and sent later EXACTLY ONCE:
 *
 * - The report gets a clientRequestId (UUID) when it is queued, on the phone. POST /hazards with an
 *   id the server has seen answers the first result (`duplicate: true`) and creates no second row,
 *   so a report whose answer was lost on the way back is not reported twice.
 * - Photos are uploaded first, one by one; each stored file id is written to the queue as soon as
 *   it comes back, so a retry resumes with the next photo instead of starting over. (A photo whose
 *   answer was lost is uploaded again: the server then holds an unused copy, the hazard still gets
 *   exactly the photos it should.)
 * - Then the report, with the photo ids. Success removes the item and the photos kept for it.
 * - No signal / timeout / 5xx: the item stays `waiting` and the flush stops (the next ones would
 *   fail the same way); 401: stops until the user logs in again; any other 4xx: the item is
 *   marked `failed` with the server's message, and the user can retry or delete it.
 *
 * The queue is stored with wx.setStorageSync under KEYS.queue; photos are copied out of the
 * temporary folder (wx.getFileSystemManager().saveFile) so they survive the app being closed.
 * Only one flush runs at a time.
 */
import { PHONE_REPORT_DANGER_SRC, UNCLASSIFIED_DANGER_TYPE, validateHazardDraft, type HazardReportRequest, type HazardReportResponse } from '../shared/contract';
import { ApiError, post, uploadPhoto } from './api';
import { KEYS, readJson, writeJson } from './storage';
import { uuid4 } from './uuid';

/** What the reporter entered. */
export interface ReportDraft {
  /** the one line: becomes the hazard's name */
  name: string;
  riskUnitId?: number | null;
  /** shown in the waiting list */
  riskUnitName?: string | null;
  /** 0 一般, 1 重大; absent = 一般 (the confirmer decides) */
  dangerLevel?: 0 | 1 | null;
  /** 1..8; absent = 8 其他 (the confirmer classifies) */
  hazardDangerType?: number | null;
  location?: string | null;
  latitude?: number | null;
  longitude?: number | null;
}

export interface QueuedPhoto {
  /** local path kept on the phone */
  path: string;
  /** StoredFile id once uploaded */
  fileId?: number;
}

export interface QueuedReport {
  clientRequestId: string;
  /** ISO instant the report was made on the phone (= when the hazard was seen) */
  createdAt: string;
  draft: ReportDraft;
  photos: QueuedPhoto[];
  state: 'waiting' | 'failed';
  attempts: number;
  lastError?: string;
  lastErrorCode?: string;
  /** set when the server refused foundAt (phone clock ahead): sent without it from then on */
  omitFoundAt?: boolean;
}

export interface FlushProgress {
  clientRequestId: string;
  step: 'photo' | 'report';
  /** photos uploaded so far (step photo) */
  done: number;
  total: number;
  text: string;
}

export interface FlushResult {
  sent: Array<{ clientRequestId: string; hazardId: number; code: string; duplicate: boolean; dangerLevel: number }>;
  failed: string[];
  /** why the flush stopped early (no signal, server down, logged out), if it did */
  stopped: ApiError | null;
  /** items still waiting or failed */
  remaining: number;
}

/** How queued photos are kept and dropped (pages: the file system; tests: anything). */
export interface PhotoKeeper {
  keep(tempPath: string): Promise<string>;
  drop(path: string): void;
}

const identityKeeper: PhotoKeeper = { keep: async (p) => p, drop: () => undefined };
let keeper: PhotoKeeper = identityKeeper;

export function setPhotoKeeper(k: PhotoKeeper | null): void {
  keeper = k ?? identityKeeper;
}

export function listQueue(): QueuedReport[] {
  const q = readJson<QueuedReport[]>(KEYS.queue);
  return Array.isArray(q) ? q : [];
}

function save(q: QueuedReport[]): void {
  writeJson(KEYS.queue, q);
}

function update(id: string, f: (r: QueuedReport) => void): void {
  const q = listQueue();
  const r = q.find((x) => x.clientRequestId === id);
  if (r) {
    f(r);
    save(q);
  }
}

/** Items not sent yet (waiting or failed): what the user sees as 待发送. */
export function pendingCount(): number {
  return listQueue().length;
}

/**
 * Puts a report in the queue (nothing is sent here; call flushQueue next).
 * @param photoPaths local photo paths (compressed), at most MAX_PHOTOS
 * @throws Error with a Chinese message when the draft is invalid (validateHazardDraft)
 */
export async function enqueueReport(draft: ReportDraft, photoPaths: string[], now: Date = new Date()): Promise<QueuedReport> {
  const issues = validateHazardDraft({ name: draft.name, photoCount: photoPaths.length, riskUnitId: draft.riskUnitId, dangerLevel: draft.dangerLevel });
  if (issues.length) throw new Error(issues.map((i) => i.zh).join('；'));
  const kept: QueuedPhoto[] = [];
  for (const p of photoPaths) kept.push({ path: await keeper.keep(p) });
  const item: QueuedReport = {
    clientRequestId: uuid4(),
    createdAt: now.toISOString(),
    draft: { ...draft, name: draft.name.trim() },
    photos: kept,
    state: 'waiting',
    attempts: 0,
  };
  save([...listQueue(), item]);
  return item;
}

/** The user gives up on a queued report. */
export function removeFromQueue(clientRequestId: string): void {
  const q = listQueue();
  const r = q.find((x) => x.clientRequestId === clientRequestId);
  if (!r) return;
  for (const p of r.photos) keeper.drop(p.path);
  save(q.filter((x) => x.clientRequestId !== clientRequestId));
}

/** A failed report goes back to waiting (the user fixed the reason, e.g. logged in again). */
export function retryFailed(clientRequestId: string): void {
  update(clientRequestId, (r) => {
    r.state = 'waiting';
  });
}

/** The POST /hazards body of a queued report. */
export function reportBody(r: QueuedReport, fileIds: number[], now: Date = new Date()): HazardReportRequest {
  const d = r.draft;
  const body: HazardReportRequest = {
    name: d.name,
    dangerSrc: PHONE_REPORT_DANGER_SRC,
    hazardDangerType: d.hazardDangerType ?? UNCLASSIFIED_DANGER_TYPE,
    clientRequestId: r.clientRequestId,
  };
  if (fileIds.length) body.photos = fileIds;
  if (d.riskUnitId) body.riskUnitId = d.riskUnitId;
  if (d.dangerLevel === 0 || d.dangerLevel === 1) body.dangerLevel = d.dangerLevel;
  if (d.location) body.location = d.location;
  if (typeof d.latitude === 'number' && typeof d.longitude === 'number') {
    body.latitude = d.latitude;
    body.longitude = d.longitude;
  }
  // when it was seen, if that was a while ago (sent later from the queue); never after "now"
  const created = Date.parse(r.createdAt);
  if (!r.omitFoundAt && Number.isFinite(created) && now.getTime() - created > 60_000) body.foundAt = new Date(Math.min(created, now.getTime())).toISOString();
  return body;
}

let flushing: Promise<FlushResult> | null = null;

/**
 * Sends every waiting report, oldest first. Concurrent calls share the running flush.
 * @returns what was sent, what failed for good, and why it stopped early (if it did)
 */
export function flushQueue(opts: { onProgress?(p: FlushProgress): void; now?: () => Date } = {}): Promise<FlushResult> {
  if (!flushing) {
    flushing = run(opts).finally(() => {
      flushing = null;
    });
  }
  return flushing;
}

async function run(opts: { onProgress?(p: FlushProgress): void; now?: () => Date }): Promise<FlushResult> {
  const now = opts.now ?? (() => new Date());
  const result: FlushResult = { sent: [], failed: [], stopped: null, remaining: 0 };
  for (const item of listQueue()) {
    if (item.state !== 'waiting') continue;
    try {
      const sent = await sendOne(item.clientRequestId, opts.onProgress, now);
      if (sent) result.sent.push(sent);
    } catch (e) {
      const err = e instanceof ApiError ? e : new ApiError('rejected', 0, 'client_error', e instanceof Error ? e.message : '发送失败');
      update(item.clientRequestId, (r) => {
        r.attempts += 1;
        r.lastError = err.messageZh;
        r.lastErrorCode = err.code;
        if (!err.retryable && err.kind !== 'auth') r.state = 'failed';
      });
      if (err.retryable || err.kind === 'auth') {
        result.stopped = err;
        break;
      }
      result.failed.push(item.clientRequestId);
    }
  }
  result.remaining = pendingCount();
  return result;
}

async function sendOne(id: string, onProgress: ((p: FlushProgress) => void) | undefined, now: () => Date): Promise<FlushResult['sent'][number] | null> {
  let item = listQueue().find((x) => x.clientRequestId === id);
  if (!item) return null;
  const total = item.photos.length;
  for (let i = 0; i < total; i++) {
    if (item.photos[i].fileId) continue;
    onProgress?.({ clientRequestId: id, step: 'photo', done: i, total, text: `正在上传照片 ${i + 1}/${total}` });
    const f = await uploadPhoto(item.photos[i].path);
    update(id, (r) => {
      r.photos[i].fileId = f.id;
    });
    item = listQueue().find((x) => x.clientRequestId === id)!;
  }
  onProgress?.({ clientRequestId: id, step: 'report', done: total, total, text: '正在提交隐患…' });
  let res: HazardReportResponse;
  try {
    res = await post<HazardReportResponse>('/hazards', reportBody(item, item.photos.map((p) => p.fileId!), now()));
  } catch (e) {
    if (e instanceof ApiError && e.code === 'found_in_future' && !item.omitFoundAt) {
      // the phone's clock is ahead of the server's: send it without the time seen (the server uses now)
      update(id, (r) => {
        r.omitFoundAt = true;
      });
      item = listQueue().find((x) => x.clientRequestId === id)!;
      res = await post<HazardReportResponse>('/hazards', reportBody(item, item.photos.map((p) => p.fileId!), now()));
    } else {
      throw e;
    }
  }
  for (const p of item.photos) keeper.drop(p.path);
  save(listQueue().filter((x) => x.clientRequestId !== id));
  return { clientRequestId: id, hazardId: res.hazardId, code: res.code, duplicate: res.duplicate === true, dangerLevel: res.dangerLevel };
}

/** One line per queued report for the 待发送 list. */
export interface QueueRow {
  id: string;
  name: string;
  place: string;
  /** e.g. 11-30 10:32 */
  madeAt: string;
  photos: string;
  status: string;
  failed: boolean;
}

export function queueRows(formatTime: (iso: string) => string): QueueRow[] {
  return listQueue().map((r) => {
    const up = r.photos.filter((p) => p.fileId).length;
    const photos = r.photos.length === 0 ? '无照片' : up > 0 ? `照片已上传 ${up}/${r.photos.length}` : `${r.photos.length} 张照片`;
    const status = r.state === 'failed' ? `发送失败：${r.lastError ?? ''}` : r.attempts > 0 ? `等待信号（已尝试 ${r.attempts} 次）` : '等待发送';
    return { id: r.clientRequestId, name: r.draft.name, place: r.draft.riskUnitName ?? '', madeAt: formatTime(r.createdAt), photos, status, failed: r.state === 'failed' };
  });
}
