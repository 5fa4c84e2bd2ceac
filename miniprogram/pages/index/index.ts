/**
 * 首页: counts and short lists of what needs me now — open alerts, checks due, hazards waiting for
 * my rectification or acceptance — and reports still on the phone; one big button to report.
 */
import { errorText } from '../../lib/api';
import { loadHome, refreshMe } from '../../lib/home';
import { pendingCount } from '../../lib/queue';
import type { AlertRow } from '../../lib/alerts';
import type { TaskRow } from '../../lib/checks';
import type { HazardRow } from '../../lib/hazards';
import { dataNumber, requireSession } from '../../utils/ui';

Component({
  data: {
    name: '',
    loading: false,
    error: '',
    counts: { alerts: 0, tasks: 0, hazards: 0, queued: 0 },
    alerts: [] as AlertRow[],
    tasks: [] as TaskRow[],
    hazards: [] as HazardRow[],
  },
  methods: {
    onShow() {
      this.load();
    },
    onPullDownRefresh() {
      this.load().then(() => wx.stopPullDownRefresh());
    },
    async load() {
      const s = requireSession();
      if (!s) return;
      this.setData({ name: s.person.name, loading: true, error: '', 'counts.queued': pendingCount() });
      refreshMe().catch(() => undefined);
      try {
        const v = await loadHome(s.person);
        this.setData({ ...v, loading: false });
      } catch (e) {
        this.setData({ loading: false, error: `${errorText(e)}（下拉重试）` });
      }
    },
    onReport() {
      wx.switchTab({ url: '/pages/report/report' });
    },
    onAlerts() {
      wx.switchTab({ url: '/pages/alerts/alerts' });
    },
    onChecks() {
      wx.switchTab({ url: '/pages/checks/checks' });
    },
    onAlert(e: WechatMiniprogram.TouchEvent) {
      wx.navigateTo({ url: `/pages/alert/alert?id=${dataNumber(e, 'id')}` });
    },
    onTask(e: WechatMiniprogram.TouchEvent) {
      wx.navigateTo({ url: `/pages/check/check?instanceId=${dataNumber(e, 'id')}` });
    },
    onHazard(e: WechatMiniprogram.TouchEvent) {
      wx.navigateTo({ url: `/pages/hazard/hazard?id=${dataNumber(e, 'id')}` });
    },
  },
});
