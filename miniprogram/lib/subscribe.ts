/**
 * Subscribe-message consent (protocols.md §4.3): a one-time subscription gives the server ONE send
 * per "accept", so the phone asks again at natural moments — after a report, after an ack — and
 * tells the server what the user chose (POST /mp/subscriptions).
 *
 * WeChat only shows the prompt when wx.requestSubscribeMessage is called from a tap: call
 * askConsent synchronously at the start of the tap handler, before any await (the template ids
 * come from the cached GET /mp/config for that reason).
 */
import type { MpConfig, MpSubscriptionsResponse, SubscribeDecision } from '../shared/contract';
import { get, post } from './api';
import { KEYS, readJson, writeJson } from './storage';
import { wxApi } from './wx-port';

/** at most 3 template ids per prompt on older base libraries (5 on newer) */
const MAX_PER_PROMPT = 3;

/** Fetches GET /mp/config and caches it for offline prompts. @returns the config, or the cached one when offline */
export async function refreshMpConfig(): Promise<MpConfig | null> {
  try {
    const c = await get<MpConfig>('/mp/config');
    writeJson(KEYS.mpConfig, c);
    return c;
  } catch {
    return cachedMpConfig();
  }
}

export function cachedMpConfig(): MpConfig | null {
  return readJson<MpConfig>(KEYS.mpConfig);
}

/** The template ids to ask for (configured ones only). */
export function templateIds(c: MpConfig | null = cachedMpConfig()): string[] {
  if (!c?.templateIds) return [];
  return [...new Set(Object.values(c.templateIds).filter((x): x is string => typeof x === 'string' && x.length > 0))].slice(0, MAX_PER_PROMPT);
}

const DECISIONS: readonly string[] = ['accept', 'reject', 'ban', 'filter'];

/**
 * Shows the consent prompt (call it first thing in a tap handler) and reports the choices.
 * Never throws: consent is a bonus, not a step the user must pass.
 * @returns the server's remaining sends per template, or null (nothing asked / not reported)
 */
export function askConsent(): Promise<MpSubscriptionsResponse | null> {
  const ids = templateIds();
  if (ids.length === 0) return Promise.resolve(null);
  return new Promise((resolve) => {
    wxApi().requestSubscribeMessage({
      tmplIds: ids,
      success: (res) => {
        const results: Record<string, SubscribeDecision> = {};
        for (const id of ids) if (DECISIONS.includes(res[id])) results[id] = res[id] as SubscribeDecision;
        if (Object.keys(results).length === 0) return resolve(null);
        post<MpSubscriptionsResponse>('/mp/subscriptions', { results }).then(resolve, () => resolve(null));
      },
      // the user closed it, or subscriptions are switched off: nothing to report
      fail: () => resolve(null),
    });
  });
}
