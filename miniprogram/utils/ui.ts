/**
 * Small page helpers over the official `wx` API (toasts, navigation to login). Pages only; the
 * logic modules in lib/ never show anything.
 */
import { errorText } from '../lib/api';
import { loadSession, type Session } from '../lib/session';

export function toast(title: string): void {
  // icon none: two lines of Chinese instead of seven characters under an icon
  wx.showToast({ title, icon: 'none', duration: 2500 });
}

export function toastError(e: unknown): void {
  toast(errorText(e));
}

let lastGoLogin = 0;
/** To the login page — once, even when several requests answer 401 together. */
export function goLogin(): void {
  const now = Date.now();
  if (now - lastGoLogin < 2000) return;
  lastGoLogin = now;
  wx.reLaunch({ url: '/pages/login/login' });
}

/** The session, or null after sending the user to the login page. */
export function requireSession(): Session | null {
  const s = loadSession();
  if (!s) goLogin();
  return s;
}

/** The value of an <input>/<textarea> event. */
export function inputValue(e: { detail: { value?: unknown } }): string {
  return String(e.detail?.value ?? '');
}

/** A data-* value of the tapped element, as a number. */
export function dataNumber(e: { currentTarget: { dataset: Record<string, unknown> } }, key: string): number {
  return Number(e.currentTarget.dataset[key]);
}
