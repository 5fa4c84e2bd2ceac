/**
 * Doing one check (我的排查 → 排查): the measure, its key parameter with the safe range; the reading
 * field turns red as soon as the value is out of range (before submit); a photo is required when
 * the task says 拍照; the record carries the time (server receipt), the place (wx.getLocation) and
 * this install's device id.
 */
import { MAX_PHOTOS, type CheckResult, type MyTask } from '../../shared/contract';
import { errorText } from '../../lib/api';
import { checkProblems, checkRecordBody, judgeReading, loadMyTasks, newCheckRequestId, submitCheck, type ReadingView } from '../../lib/checks';
import { deviceId } from '../../lib/device';
import { formatDateTime } from '../../lib/format';
import { uploadAll } from '../../lib/hazards';
import { choosePhotos, locate } from '../../lib/media';
import { dataNumber, inputValue, requireSession, toast } from '../../utils/ui';

const RESULTS = [
  { v: 0, label: '正常' },
  { v: 1, label: '存在隐患' },
  { v: 2, label: '无需排查' },
];

Component({
  data: {
    instanceId: 0,
    task: null as MyTask | null,
    error: '',
    readingText: '',
    reading: { value: null, state: 'empty', cls: '', hint: '' } as ReadingView,
    result: 0 as CheckResult,
    results: RESULTS,
    photos: [] as string[],
    maxPhotos: MAX_PHOTOS,
    note: '',
    submitting: false,
    progress: '',
    problems: [] as string[],
    done: null as null | { abnormal: boolean; hazardDraftId: number | null; at: string },
    requestId: '',
    /** local path → file id of photos already uploaded (a retry sends only the rest) */
    uploaded: {} as Record<string, number>,
  },
  methods: {
    async onLoad(query: Record<string, string | undefined>) {
      if (!requireSession()) return;
      const instanceId = Number(query.instanceId);
      this.setData({ instanceId, requestId: newCheckRequestId() });
      try {
        const task = (await loadMyTasks()).find((t) => t.instanceId === instanceId) ?? null;
        if (!task) return this.setData({ error: '该排查任务已完成或已过期' });
        this.setData({ task, reading: judgeReading('', task) });
      } catch (e) {
        this.setData({ error: errorText(e) });
      }
    },
    onReadingInput(e: WechatMiniprogram.Input) {
      const task = this.data.task;
      if (!task) return;
      const text = inputValue(e);
      const reading = judgeReading(text, task);
      // an out-of-range reading is a finding: 存在隐患 (the server would adjust it the same way)
      const result = (reading.state === 'high' || reading.state === 'low') && this.data.result === 0 ? 1 : this.data.result;
      this.setData({ readingText: text, reading, result, problems: [] });
    },
    onResult(e: WechatMiniprogram.TouchEvent) {
      this.setData({ result: dataNumber(e, 'v') as CheckResult, problems: [] });
    },
    async onTakePhoto() {
      const paths = await choosePhotos(MAX_PHOTOS - this.data.photos.length);
      if (paths.length) this.setData({ photos: [...this.data.photos, ...paths], problems: [] });
    },
    onRemovePhoto(e: WechatMiniprogram.TouchEvent) {
      const i = dataNumber(e, 'index');
      this.setData({ photos: this.data.photos.filter((_, j) => j !== i) });
    },
    onNoteInput(e: WechatMiniprogram.Input) {
      this.setData({ note: inputValue(e) });
    },
    async onSubmit() {
      const task = this.data.task;
      if (!task || this.data.submitting) return;
      const form = { result: this.data.result, readingText: this.data.readingText, photoIds: [] as number[], photoCount: this.data.photos.length, note: this.data.note };
      const problems = checkProblems(task, form);
      if (problems.length) {
        this.setData({ problems });
        return toast(problems[0]);
      }
      this.setData({ submitting: true, progress: '正在定位…' });
      const uploaded = { ...this.data.uploaded };
      try {
        const pos = await locate(4000);
        form.photoIds = await uploadAll(this.data.photos, (done, total) => this.setData({ progress: `正在上传照片 ${Math.min(done + 1, total)}/${total}` }), uploaded);
        this.setData({ progress: '正在提交…' });
        const body = checkRecordBody(task, form, { latitude: pos?.latitude, longitude: pos?.longitude, location: task.riskUnit?.name }, deviceId(), this.data.requestId);
        const res = await submitCheck(body);
        this.setData({ submitting: false, progress: '', done: { abnormal: res.abnormal, hazardDraftId: res.hazardDraftId, at: formatDateTime(new Date().toISOString()) } });
      } catch (e) {
        // the same requestId is kept: submitting again after a lost answer records it once;
        // photos that went up are not sent again
        this.setData({ submitting: false, progress: '', uploaded });
        toast(errorText(e));
      }
    },
    onOpenDraft() {
      const id = this.data.done?.hazardDraftId;
      if (id) wx.redirectTo({ url: `/pages/hazard/hazard?id=${id}` });
    },
    onBack() {
      wx.navigateBack({ delta: 1 });
    },
  },
});
