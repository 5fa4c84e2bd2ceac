/** 我的排查: the checks due now for me (or my post), soonest first; tap one to do it. */
import { errorText } from '../../lib/api';
import { loadMyTasks, taskRow, type TaskRow } from '../../lib/checks';
import { dataNumber, requireSession } from '../../utils/ui';

Component({
  data: { loading: false, error: '', rows: [] as TaskRow[] },
  methods: {
    onShow() {
      this.load();
    },
    onPullDownRefresh() {
      this.load().then(() => wx.stopPullDownRefresh());
    },
    async load() {
      if (!requireSession()) return;
      this.setData({ loading: true, error: '' });
      try {
        const tasks = await loadMyTasks();
        this.setData({ rows: tasks.map((t) => taskRow(t)), loading: false });
      } catch (e) {
        this.setData({ loading: false, error: errorText(e) });
      }
    },
    onOpen(e: WechatMiniprogram.TouchEvent) {
      wx.navigateTo({ url: `/pages/check/check?instanceId=${dataNumber(e, 'id')}` });
    },
  },
});
