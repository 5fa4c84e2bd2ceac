/**
 * 隐患详情: the hazard, its photos (before / after) and its steps; the step waiting for me:
 * 上报 (my draft), 整改完成 with after-photos or 申请延期 (I rectify), 验收 / 退回 (I accept).
 */
import { MAX_PHOTOS, type PhotoRef } from '../../shared/contract';
import { downloadPhoto, errorText } from '../../lib/api';
import { addDays, plantDate } from '../../lib/format';
import { accept, hazardPageView, loadHazard, rectify, reportDraft, requestExtension, sendBack, type HazardPageView } from '../../lib/hazards';
import { choosePhotos } from '../../lib/media';
import { dataNumber, inputValue, requireSession, toast } from '../../utils/ui';

/** Photos need the token: downloaded to local paths (thumbnails when there are). */
async function localPaths(photos: PhotoRef[]): Promise<string[]> {
  const out = await Promise.all(photos.map((p) => downloadPhoto(p).catch(() => '')));
  return out.filter(Boolean);
}

Component({
  data: {
    id: 0,
    me: 0,
    h: null as HazardPageView | null,
    error: '',
    before: [] as string[],
    after: [] as string[],
    measures: '',
    afterPhotos: [] as string[],
    maxPhotos: MAX_PHOTOS,
    comment: '',
    extDate: '',
    extMin: '',
    extReason: '',
    busy: false,
    progress: '',
    /** local path → file id of after-photos already uploaded (a retry sends only the rest) */
    uploaded: {} as Record<string, number>,
  },
  methods: {
    onLoad(query: Record<string, string | undefined>) {
      const s = requireSession();
      if (!s) return;
      const tomorrow = addDays(plantDate(new Date()), 1);
      this.setData({ id: Number(query.id), me: s.person.id, extMin: tomorrow, extDate: '' });
      this.load();
    },
    async load() {
      try {
        const raw = await loadHazard(this.data.id);
        this.setData({ h: hazardPageView(raw, this.data.me), error: '' });
        const [before, after] = await Promise.all([localPaths(raw.photos ?? []), localPaths(raw.afterPhotos ?? [])]);
        this.setData({ before, after });
      } catch (e) {
        this.setData({ error: errorText(e) });
      }
    },
    onPreview(e: WechatMiniprogram.TouchEvent) {
      const list = e.currentTarget.dataset.list === 'after' ? this.data.after : this.data.before;
      wx.previewImage({ urls: list, current: list[dataNumber(e, 'index')] });
    },
    onMeasuresInput(e: WechatMiniprogram.Input) {
      this.setData({ measures: inputValue(e) });
    },
    onCommentInput(e: WechatMiniprogram.Input) {
      this.setData({ comment: inputValue(e) });
    },
    onExtReasonInput(e: WechatMiniprogram.Input) {
      this.setData({ extReason: inputValue(e) });
    },
    onExtDate(e: WechatMiniprogram.PickerChange) {
      this.setData({ extDate: String(e.detail.value) });
    },
    async onTakeAfterPhoto() {
      const paths = await choosePhotos(MAX_PHOTOS - this.data.afterPhotos.length);
      if (paths.length) this.setData({ afterPhotos: [...this.data.afterPhotos, ...paths] });
    },
    onRemoveAfterPhoto(e: WechatMiniprogram.TouchEvent) {
      const i = dataNumber(e, 'index');
      this.setData({ afterPhotos: this.data.afterPhotos.filter((_, j) => j !== i) });
    },
    async act(done: string, f: () => Promise<unknown>, reset: Record<string, unknown> = {}) {
      if (this.data.busy) return;
      this.setData({ busy: true });
      try {
        await f();
        toast(done);
        this.setData({ ...reset, progress: '' });
        await this.load();
      } catch (e) {
        this.setData({ progress: '' });
        toast(errorText(e));
      } finally {
        this.setData({ busy: false });
      }
    },
    onReport() {
      this.act('已上报', () => reportDraft(this.data.id));
    },
    onRectify() {
      const uploaded = { ...this.data.uploaded };
      this.act(
        '已提交整改，等待验收',
        () =>
          rectify(this.data.id, this.data.measures, this.data.afterPhotos, (d, t) => this.setData({ progress: `正在上传照片 ${Math.min(d + 1, t)}/${t}` }), uploaded).finally(() =>
            this.setData({ uploaded }),
          ),
        { measures: '', afterPhotos: [], uploaded: {} },
      );
    },
    onExtend() {
      this.act('已申请延期', () => requestExtension(this.data.id, this.data.extDate, this.data.extReason), { extReason: '', extDate: '' });
    },
    onAccept() {
      this.act('已验收', () => accept(this.data.id, this.data.comment), { comment: '' });
    },
    onSendBack() {
      this.act('已退回整改', () => sendBack(this.data.id, this.data.comment), { comment: '' });
    },
  },
});
