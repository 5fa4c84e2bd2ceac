/**
 * Login (wx.login → POST /mp/login) and, the first time, binding this WeChat to a person of the
 * plant: one tap on 微信手机号 (getPhoneNumber) or the 6-digit code from the admin. A reused or
 * expired login code says so and 重试 starts over with a fresh wx.login.
 */
import { BINDING_CODE_LENGTH } from '../../shared/contract';
import { bindWithCode, bindWithPhone, login, loginErrorView } from '../../lib/auth';
import { flushQueue } from '../../lib/queue';
import { refreshMpConfig } from '../../lib/subscribe';
import { inputValue } from '../../utils/ui';

function enter(): void {
  refreshMpConfig().catch(() => undefined);
  flushQueue().catch(() => undefined);
  wx.switchTab({ url: '/pages/index/index' });
}

Component({
  data: { phase: 'logging' as 'logging' | 'bind' | 'error', bindToken: '', code: '', codeLength: BINDING_CODE_LENGTH, message: '', busy: false },
  methods: {
    onLoad() {
      this.start();
    },
    async start() {
      this.setData({ phase: 'logging', message: '', busy: true });
      try {
        const r = await login();
        if (r.status === 'ok') return enter();
        this.setData({ phase: 'bind', bindToken: r.bindToken, busy: false });
      } catch (e) {
        this.setData({ phase: 'error', message: loginErrorView(e).message, busy: false });
      }
    },
    onRetry() {
      this.start();
    },
    async bindWith(f: () => Promise<unknown>) {
      if (this.data.busy) return;
      this.setData({ busy: true, message: '' });
      try {
        await f();
        enter();
      } catch (e) {
        const v = loginErrorView(e);
        this.setData({ phase: v.restart ? 'error' : 'bind', message: v.message });
      } finally {
        this.setData({ busy: false });
      }
    },
    onGetPhoneNumber(e: WechatMiniprogram.CustomEvent<{ code?: string; errMsg?: string }>) {
      const code = e.detail?.code;
      if (!code) return this.setData({ message: '未获得手机号授权，可改用绑定码' });
      this.bindWith(() => bindWithPhone(this.data.bindToken, code));
    },
    onCodeInput(e: WechatMiniprogram.Input) {
      this.setData({ code: inputValue(e).replace(/\D/g, '').slice(0, BINDING_CODE_LENGTH) });
    },
    onBindCode() {
      this.bindWith(() => bindWithCode(this.data.bindToken, this.data.code));
    },
  },
});
