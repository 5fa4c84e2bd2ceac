/** 预警: my alerts (addressed to me or my people), not cleared first; 已销警 on the second tab. */
import { errorText } from '../../lib/api';
import { loadAlerts, type AlertRow } from '../../lib/alerts';
import { dataNumber, requireSession } from '../../utils/ui';

Component({
  data: { tab: 'open' as 'open' | 'cleared', total: 0, rows: [] as AlertRow[], loading: false, error: '' },
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
        const r = await loadAlerts(this.data.tab);
        this.setData({ rows: r.rows, total: r.total, loading: false });
      } catch (e) {
        this.setData({ loading: false, error: errorText(e) });
      }
    },
    onTab(e: WechatMiniprogram.TouchEvent) {
      const tab = e.currentTarget.dataset.tab === 'cleared' ? 'cleared' : 'open';
      if (tab !== this.data.tab) {
        this.setData({ tab, rows: [] });
        this.load();
      }
    },
    onOpen(e: WechatMiniprogram.TouchEvent) {
      wx.navigateTo({ url: `/pages/alert/alert?id=${dataNumber(e, 'id')}` });
    },
  },
});
