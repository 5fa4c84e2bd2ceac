/**
 * Login and first-time binding (issue #5 item 2; protocols.md §4.1, §4.4):
 * 1. wx.login → a code (single use, ~5 min) → POST /mp/login { code }
 *    - `ok`: the openid is bound to a person → session saved
 *    - `unbound`: WeChat knows the user, the plant does not yet → a bindToken for step 2
 *    - 400 login_code_invalid (a reused or expired code): the page says 登录已失效，请重试 and a
 *      retry calls wx.login again for a fresh code (a code is never sent twice)
 * 2. POST /mp/bind { bindToken, phoneCode } (the code from <button open-type="getPhoneNumber">)
 *    or { bindToken, bindingCode } (the 6-digit one-time code from the admin or the alert link page)
 */
import { isBindingCode, type MpBindResponse, type MpLoginResponse, type SessionPerson } from '../shared/contract';
import { ApiError, post } from './api';
import { saveSession } from './session';
import { wxApi } from './wx-port';

export type LoginOutcome = { status: 'ok'; person: SessionPerson } | { status: 'unbound'; bindToken: string; expiresAt: string };

/** wx.login as a promise. @throws ApiError network when WeChat cannot be reached */
export function wxLoginCode(): Promise<string> {
  return new Promise((resolve, reject) => {
    wxApi().login({
      timeout: 10_000,
      success: (r) => (r.code ? resolve(r.code) : reject(new ApiError('network', 0, 'wx_login_failed', '微信登录失败，请重试'))),
      fail: (e) => reject(new ApiError('network', 0, 'wx_login_failed', '微信登录失败，请检查网络后重试', e.errMsg)),
    });
  });
}

/**
 * Logs in with a fresh wx.login code. @returns ok (session saved) or unbound (bind next)
 * @throws ApiError (login_code_invalid → messageZh 登录已失效，请重试; network …)
 */
export async function login(): Promise<LoginOutcome> {
  const code = await wxLoginCode();
  const res = await post<MpLoginResponse>('/mp/login', { code }, { auth: false });
  if (res.status === 'ok') {
    saveSession({ token: res.token, expiresAt: res.expiresAt, person: res.person });
    return { status: 'ok', person: res.person };
  }
  return { status: 'unbound', bindToken: res.bindToken, expiresAt: res.expiresAt };
}

/** Binds with the phone-number code of a getPhoneNumber button. @throws ApiError */
export async function bindWithPhone(bindToken: string, phoneCode: string): Promise<SessionPerson> {
  if (!phoneCode) throw new ApiError('rejected', 0, 'phone_code_missing', '未获得手机号授权，请重试或改用绑定码');
  return bind({ bindToken, phoneCode });
}

/** Binds with a 6-digit one-time code (checked here before the request). @throws ApiError */
export async function bindWithCode(bindToken: string, bindingCode: string): Promise<SessionPerson> {
  const c = bindingCode.trim();
  if (!isBindingCode(c)) throw new ApiError('rejected', 0, 'binding_code_format', '请输入 6 位数字绑定码');
  return bind({ bindToken, bindingCode: c });
}

async function bind(body: { bindToken: string; phoneCode?: string; bindingCode?: string }): Promise<SessionPerson> {
  const res = await post<MpBindResponse>('/mp/bind', body, { auth: false });
  saveSession({ token: res.token, expiresAt: res.expiresAt, person: res.person });
  return res.person;
}

/** Clear Chinese messages for the login/bind errors of the contract. */
const MESSAGES: Record<string, string> = {
  login_code_invalid: '登录已失效，请重试',
  bind_token_invalid: '绑定已超时，请重新登录后再绑定',
  phone_code_invalid: '手机号授权已失效，请重新点击授权',
  binding_code_invalid: '绑定码不正确或已使用，请向管理员重新获取',
  person_not_found: '该手机号不在本厂人员名单中，请联系管理员或改用绑定码',
  phone_ambiguous: '该手机号对应多名人员，请改用绑定码',
  identity_taken: '该身份已绑定其他微信，请联系管理员',
};

/** What the login/bind page shows for an error, and whether a fresh login is the way out. */
export function loginErrorView(e: unknown): { message: string; restart: boolean } {
  if (e instanceof ApiError) {
    const message = MESSAGES[e.code] ?? e.messageZh;
    return { message, restart: e.code === 'login_code_invalid' || e.code === 'bind_token_invalid' };
  }
  return { message: '登录失败，请重试', restart: true };
}
