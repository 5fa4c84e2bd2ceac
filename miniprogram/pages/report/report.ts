/**
 * 隐患上报: camera first — photos (≤ 9, compressed), the place (scan the unit's QR label or tap it
 * in the short list), one line saying what is wrong, optional level. Every report goes through the
 * phone's queue (lib/queue.ts): sent at once with signal, kept and sent later exactly once without.
 * The 待发送 list shows what is still on the phone.
 */
import { DANGER_LEVEL_LABELS, HAZARD_NAME_MAX, HAZARD_TYPE_LABELS, MAX_PHOTOS, validateHazardDraft } from '../../shared/contract';
import { formatTime } from '../../lib/format';
import { choosePhotos, locate, scanQr } from '../../lib/media';
import { enqueueReport, flushQueue, queueRows, removeFromQueue, retryFailed, type QueueRow } from '../../lib/queue';
import { askConsent } from '../../lib/subscribe';
import { loadUnits, rememberUnit, resolveScanned, shortList, type UnitRef } from '../../lib/units';
import { dataNumber, goLogin, inputValue, requireSession, toast, toastError } from '../../utils/ui';

const TYPES = [1, 2, 3, 4, 5, 7, 8].map((v) => ({ v, label: HAZARD_TYPE_LABELS[v] }));

Component({
  data: {
    maxPhotos: MAX_PHOTOS,
    nameMax: HAZARD_NAME_MAX,
    photos: [] as string[],
    unit: null as UnitRef | null,
    units: [] as Array<UnitRef & { recent: boolean }>,
    showUnits: false,
    name: '',
    level: -1,
    levels: [0, 1].map((v) => ({ v, label: DANGER_LEVEL_LABELS[v] })),
    type: 0,
    types: TYPES,
    submitting: false,
    progress: '',
    message: '',
    messageOk: false,
    queue: [] as QueueRow[],
  },
  methods: {
    onLoad() {
      this.setData({ units: shortList() });
    },
    onShow() {
      if (!requireSession()) return;
      this.refreshQueue();
      loadUnits()
        .then((all) => this.setData({ units: shortList(all) }))
        .catch(() => undefined);
      // a queued report goes out when the page is opened with signal
      if (this.data.queue.length && !this.data.submitting) this.send(null);
    },
    refreshQueue() {
      this.setData({ queue: queueRows(formatTime) });
    },

    async onTakePhoto() {
      const room = MAX_PHOTOS - this.data.photos.length;
      if (room <= 0) return toast(`最多 ${MAX_PHOTOS} 张照片`);
      const paths = await choosePhotos(room);
      if (paths.length) this.setData({ photos: [...this.data.photos, ...paths].slice(0, MAX_PHOTOS) });
    },
    onRemovePhoto(e: WechatMiniprogram.TouchEvent) {
      const i = dataNumber(e, 'index');
      this.setData({ photos: this.data.photos.filter((_, j) => j !== i) });
    },
    onPreview(e: WechatMiniprogram.TouchEvent) {
      wx.previewImage({ urls: this.data.photos, current: this.data.photos[dataNumber(e, 'index')] });
    },

    async onScan() {
      try {
        const text = await scanQr();
        if (text === null) return;
        const unit = await resolveScanned(text);
        this.setData({ unit, showUnits: false, units: shortList() });
      } catch (e) {
        toastError(e);
      }
    },
    onToggleUnits() {
      this.setData({ showUnits: !this.data.showUnits });
    },
    onPickUnit(e: WechatMiniprogram.TouchEvent) {
      const id = dataNumber(e, 'id');
      const unit = this.data.units.find((u) => u.id === id);
      if (!unit) return;
      const ref = { id: unit.id, code: unit.code, name: unit.name };
      rememberUnit(ref);
      this.setData({ unit: ref, showUnits: false });
    },
    onClearUnit() {
      this.setData({ unit: null });
    },
    onNameInput(e: WechatMiniprogram.Input) {
      this.setData({ name: inputValue(e) });
    },
    onLevel(e: WechatMiniprogram.TouchEvent) {
      const v = dataNumber(e, 'v');
      this.setData({ level: this.data.level === v ? -1 : v });
    },
    onType(e: WechatMiniprogram.TouchEvent) {
      const v = dataNumber(e, 'v');
      this.setData({ type: this.data.type === v ? 0 : v });
    },

    async onSubmit() {
      // consent first: WeChat shows the prompt only from the tap itself (before any await)
      askConsent().catch(() => undefined);
      if (this.data.submitting) return;
      const d = this.data;
      const issues = validateHazardDraft({ name: d.name, photoCount: d.photos.length, riskUnitId: d.unit?.id ?? null, dangerLevel: d.level === -1 ? null : (d.level as 0 | 1) });
      if (issues.length) return toast(issues[0].zh);
      this.setData({ submitting: true, progress: '正在保存…', message: '' });
      let id: string;
      try {
        const pos = await locate(3000);
        const item = await enqueueReport(
          {
            name: d.name,
            riskUnitId: d.unit?.id ?? null,
            riskUnitName: d.unit?.name ?? null,
            dangerLevel: d.level === -1 ? null : (d.level as 0 | 1),
            hazardDangerType: d.type || null,
            latitude: pos?.latitude ?? null,
            longitude: pos?.longitude ?? null,
          },
          d.photos,
        );
        id = item.clientRequestId;
      } catch (e) {
        this.setData({ submitting: false, progress: '' });
        return toast(e instanceof Error ? e.message : '保存失败');
      }
      // the report is safe on the phone now: clear the form for the next one
      this.setData({ photos: [], name: '', level: -1, type: 0 });
      this.refreshQueue();
      await this.send(id);
    },

    /** Sends the queue; `mine` is the report just made (its outcome is the message). */
    async send(mine: string | null) {
      this.setData({ submitting: true });
      const r = await flushQueue({ onProgress: (p) => this.setData({ progress: p.text }) });
      this.setData({ submitting: false, progress: '' });
      this.refreshQueue();
      const sent = r.sent.find((s) => s.clientRequestId === mine);
      if (sent) {
        this.setData({ message: `已上报 ${sent.code}${sent.dangerLevel === 1 ? '（重大隐患，已通知主要负责人）' : '，等待确认'}`, messageOk: true });
      } else if (r.stopped?.kind === 'auth') {
        this.setData({ message: '登录已过期，报告已保存在手机上，登录后自动发送', messageOk: false });
        goLogin();
      } else if (r.stopped) {
        this.setData({ message: `${r.stopped.messageZh}。报告已保存在手机上，有信号后自动发送`, messageOk: false });
      } else if (mine && r.failed.includes(mine)) {
        this.setData({ message: '上报被拒绝，请查看待发送列表中的原因', messageOk: false });
      } else if (r.sent.length) {
        this.setData({ message: `已发送 ${r.sent.length} 条保存在手机上的报告`, messageOk: true });
      }
    },
    onRetryQueue() {
      for (const q of this.data.queue) if (q.failed) retryFailed(q.id);
      this.send(null);
    },
    onDeleteQueued(e: WechatMiniprogram.TouchEvent) {
      const id = String(e.currentTarget.dataset.id);
      wx.showModal({
        title: '删除这条报告？',
        content: '删除后不会再发送',
        confirmText: '删除',
        confirmColor: '#c0392b',
        success: (r) => {
          if (r.confirm) {
            removeFromQueue(id);
            this.refreshQueue();
          }
        },
      });
    },
  },
});
