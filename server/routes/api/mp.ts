/**
 * The WeChat mini-program's own endpoints under /mp (rules: services/mp-auth.ts; contract
 * /tmp/mp-contract.md, types miniprogram/shared/contract.ts):
 *   POST /mp/login          public: wx.login code → session token, or a bind token when unbound
 *   POST /mp/bind           public: bind token + phone code or binding code → session token
 *   GET  /mp/config         what the phone needs: subscribe template ids, photo limits
 *   POST /mp/subscriptions  the user's answers to wx.requestSubscribeMessage → consents left
 * The session token is then used as `Authorization: Bearer <token>` on every API route.
 */
import { z } from 'zod';
import type { ApiRegistry } from './registry';
import type { AppDeps } from '../../app';
import { AppError } from '../../errors';
import { MAX_PHOTOS_PER_HAZARD } from '../../domain/files';
import type { MiniProgram } from '../../services/mp-auth';
import type { MpConfig } from '../../../miniprogram/shared/contract';

const person = z.object({ id: z.number().int(), name: z.string(), roles: z.array(z.string()), enterpriseId: z.number().int(), enterpriseName: z.string() });
const session = z.object({ token: z.string().describe('Bearer token for every API route (JWT)'), expiresAt: z.iso.datetime(), person });
/** WeChat codes are short opaque strings (32 characters today); refuse anything that cannot be one */
const wxCode = z.string().trim().min(1).max(128).regex(/^[\w-]+$/, 'letters, digits, _ or -');

function miniprogram(deps: AppDeps): MiniProgram {
  if (!deps.miniprogram) throw new AppError(404, 'mp_not_configured', '本系统未配置微信小程序', 'the WeChat mini-program is not configured here (WECHAT_APPID, WECHAT_SECRET)');
  return deps.miniprogram;
}

export function registerMpRoutes(api: ApiRegistry): void {
  api.add({
    method: 'post',
    path: '/mp/login',
    public: true,
    tags: ['miniprogram'],
    summary: 'Mini-program login: the wx.login code → a session token (bound) or a bind token (first time on this WeChat account)',
    description:
      'The code is single use and valid 5 minutes: a reused, expired or unknown code → 400 login_code_invalid (登录已失效，请重试) — call wx.login again and retry. ' +
      'WeChat\'s session_key never leaves the server. Answers 404 mp_not_configured when WECHAT_APPID/WECHAT_SECRET are not set.',
    body: z.object({ code: wxCode.describe('from wx.login') }),
    response: z.discriminatedUnion('status', [
      session.extend({ status: z.literal('ok') }),
      z.object({ status: z.literal('unbound'), bindToken: z.string().describe('for POST /mp/bind, valid 10 minutes'), expiresAt: z.iso.datetime() }),
    ]),
    handler: ({ deps, body }) => miniprogram(deps).login(body.code),
  });

  api.add({
    method: 'post',
    path: '/mp/bind',
    public: true,
    tags: ['miniprogram'],
    summary: 'Bind this WeChat account to a person of the directory: by the phone number WeChat vouches for (phoneCode), or by a one-time binding code',
    description:
      'Exactly one of phoneCode (from <button open-type="getPhoneNumber">) and bindingCode (6 digits from an admin or an alert link page). ' +
      'Errors: 400 bind_token_invalid (log in again), phone_code_invalid (tap the button again), binding_code_invalid; ' +
      '404 person_not_found (the phone number is in no enterprise\'s directory); 409 phone_ambiguous (several people share it: use a binding code), identity_taken.',
    // "exactly one of" is checked by the service (400 invalid_input): JSON Schema cannot say it in the document
    body: z.object({
      bindToken: z.string().min(1).max(2048),
      phoneCode: wxCode.optional().describe('from getPhoneNumber (single use, 5 minutes); exactly one of phoneCode / bindingCode'),
      bindingCode: z.string().trim().max(12).optional().describe('the 6-digit one-time code; exactly one of phoneCode / bindingCode'),
    }),
    response: session,
    handler: ({ deps, body }) => miniprogram(deps).bind(body),
  });

  api.add({
    method: 'get',
    path: '/mp/config',
    permission: 'me.read',
    enterpriseScoped: false,
    tags: ['miniprogram'],
    summary: 'What the mini-program needs from the server: subscribe-message template ids (empty when not configured), photo count and size limits',
    response: z.object({ templateIds: z.object({ alert: z.string() }), maxPhotos: z.number().int(), uploadMaxBytes: z.number().int(), deviceIdHint: z.string().optional() }),
    handler: async ({ deps }): Promise<MpConfig> => ({
      templateIds: { alert: deps.miniprogram?.alertTemplateId ?? '' },
      maxPhotos: Math.min(MAX_PHOTOS_PER_HAZARD, deps.files?.maxFiles ?? MAX_PHOTOS_PER_HAZARD),
      uploadMaxBytes: deps.files?.maxBytes ?? 0,
      deviceIdHint: 'a random id made once per install and kept in wx storage (CheckRecord.deviceId, ≤ 64 characters)',
    }),
  });

  api.add({
    method: 'post',
    path: '/mp/subscriptions',
    permission: 'notifications.subscribe',
    enterpriseScoped: false,
    tags: ['miniprogram'],
    summary: 'Record the answers of wx.requestSubscribeMessage: each accept of a one-time template allows ONE alert to be sent as a subscribe message',
    description:
      'Keys are template ids (GET /mp/config), values accept | reject | ban | filter. Template ids this server does not send are ignored (listed in `ignored`). ' +
      'Needs a mini-program session token (400 miniprogram_session_required with an API token). A person with no consent left gets alerts on their other channels.',
    body: z.object({ results: z.record(z.string().min(1).max(64), z.enum(['accept', 'reject', 'ban', 'filter'])).refine((r) => Object.keys(r).length <= 20, 'at most 20 templates') }),
    response: z.object({ remaining: z.record(z.string(), z.number().int()), ignored: z.array(z.string()) }),
    handler: ({ deps, actor, body }) => miniprogram(deps).recordSubscriptions(actor, body.results),
  });
}
