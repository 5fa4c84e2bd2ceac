/**
 * One alert: its timeline (raised, notified, escalated, confirmed, handled, cleared — who, when,
 * which channel) and the actions: 确认, 处置 (with a note), 销警 (with a reason; shown only to
 * the roles the server lets clear: shared/contract.ts CLEAR_ROLES).
 */
import { NOTE_MAX } from '../../shared/contract';
import { errorText } from '../../lib/api';
import { acknowledge, clear, handle, loadAlert, type AlertPageView } from '../../lib/alerts';
import { askConsent } from '../../lib/subscribe';
import { inputValue, requireSession, toast } from '../../utils/ui';

Component({
  data: { id: 0, alert: null as AlertPageView | null, error: '', note: '', reason: '', busy: false, noteMax: NOTE_MAX },
  methods: {
    onLoad(query: Record<string, string | undefined>) {
      this.setData({ id: Number(query.id) });
      this.load();
    },
    async load() {
      const s = requireSession();
      if (!s) return;
      try {
        this.setData({ alert: await loadAlert(this.data.id, s.person), error: '' });
      } catch (e) {
        this.setData({ error: errorText(e) });
      }
    },
    onNoteInput(e: WechatMiniprogram.Input) {
      this.setData({ note: inputValue(e) });
    },
    onReasonInput(e: WechatMiniprogram.Input) {
      this.setData({ reason: inputValue(e) });
    },
    async act(what: string, f: () => Promise<unknown>) {
      if (this.data.busy) return;
      this.setData({ busy: true });
      try {
        await f();
        toast(what);
        this.setData({ note: '', reason: '' });
        await this.load();
      } catch (e) {
        toast(errorText(e));
      } finally {
        this.setData({ busy: false });
      }
    },
    onAck() {
      // consent from the tap itself: the next reminders of this alert can reach WeChat
      askConsent().catch(() => undefined);
      this.act('已确认', () => acknowledge(this.data.id, this.data.note));
    },
    onHandle() {
      this.act('已记录处置', () => handle(this.data.id, this.data.note));
    },
    onClear() {
      this.act('已销警', () => clear(this.data.id, this.data.reason));
    },
    onHazard() {
      const id = this.data.alert?.hazardId;
      if (id) wx.navigateTo({ url: `/pages/hazard/hazard?id=${id}` });
    },
  },
});
