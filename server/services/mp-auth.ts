/**
 * The WeChat mini-program's login, binding and subscribe consents (issue #5; protocols.md §4.1,
 * §4.3, §4.4; the contract /tmp/mp-contract.md, types in miniprogram/shared/contract.ts).
 *
 * Login (POST /mp/login): the phone's `wx.login` code → code2Session → openid → the person bound to
 * it (services/identity.ts resolveChatIdentity: Person.wechatOpenId from the directory, then a
 * ChatIdentity row of platform `miniprogram`) → a session token (services/sessions.ts). An openid
 * bound to nobody gets a short-lived bind token instead. WeChat's session_key is dropped at once
 * (services/wechat-api.ts): nothing here needs it, so it cannot leak.
 *
 * Binding (POST /mp/bind), first time on a phone, one of:
 * - the phone number WeChat vouches for (getuserphonenumber with the code of
 *   `<button open-type="getPhoneNumber">`) matched against Person.mobile of every enterprise of
 *   this install: exactly one active person → bound (ChatIdentity via `phone`); none → 404
 *   person_not_found; several (one number in two plants) → 409 phone_ambiguous (use a code);
 * - a one-time 6-digit binding code from an admin or an alert link page (redeemBindingCode).
 *
 * Consents (POST /mp/subscriptions): each `accept` of a one-time template grants ONE send
 * (SubscribeConsent.remaining += 1); the channel `wechat_subscribe` spends them.
 *
 * Every WeChat code is single-use and expires in ~5 minutes: a reused, expired or unknown code is a
 * 400 whose message tells the user to try again — the phone gets a new code on the next tap.
 */
import type { PrismaClient } from '../db';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import { AppError, badRequest, conflict } from '../errors';
import type { Actor } from './alert-actions';
import { bindingTriesGuard, redeemBindingCode, resolveChatIdentity, type ResolvedPerson } from './identity';
import type { Redis } from 'ioredis';
import type { SessionTokens } from './sessions';
import { SessionError } from './sessions';
import { WECHAT_CREDENTIAL_ERRORS, type WechatApi } from './wechat-api';
import type { MpBindResponse, MpLoginResponse, MpSubscriptionsResponse, SessionPerson, SubscribeDecision } from '../../miniprogram/shared/contract';

export interface MiniProgramOptions {
  prisma: PrismaClient;
  clock: Clock;
  log: Logger;
  sessions: SessionTokens;
  wechat: WechatApi;
  /** the one-time subscribe template of alerts (config WECHAT_SUBSCRIBE_TEMPLATE_ALERT), when configured */
  alertTemplateId?: string;
  /** binding-code tries per openid are counted here (identity.ts bindingTriesGuard) */
  redis: Redis;
  /** REDIS_PREFIX */
  redisPrefix: string;
}

const unavailable = (detail: string) => new AppError(503, 'wechat_unavailable', '微信服务暂时不可用，请稍后重试', `WeChat is not available right now: ${detail}`);
const misconfigured = () => new AppError(503, 'mp_misconfigured', '小程序服务端配置有误，请联系管理员', 'the mini-program server settings are wrong (see the server log)');

/** Maps a WeChat failure that is not about the user's code. */
function wechatFailure(r: { errcode?: number; error: string }): AppError {
  if (r.errcode !== undefined && WECHAT_CREDENTIAL_ERRORS[r.errcode]) return misconfigured();
  if (r.errcode === 45011 || r.errcode === 45009) return new AppError(429, 'too_many_requests', '操作过于频繁，请一分钟后重试', 'WeChat rate limit: retry in a minute');
  return unavailable(r.error);
}

/** Chinese-mainland numbers may be stored with or without +86: the forms a directory import produces. */
export function mobileVariants(pure: string, countryCode: string): string[] {
  const cc = countryCode.replace(/\D/g, '') || '86';
  return [...new Set([pure, `+${cc}${pure}`, `${cc}${pure}`, `+${cc} ${pure}`, `+${cc}-${pure}`])];
}

export class MiniProgram {
  constructor(readonly o: MiniProgramOptions) {}

  get alertTemplateId(): string | undefined {
    return this.o.alertTemplateId;
  }

  /** The person as the phone shows it after login. */
  private async sessionFor(personId: number, openid: string): Promise<MpBindResponse> {
    const p = await this.o.prisma.person.findUniqueOrThrow({ where: { id: personId }, select: { id: true, name: true, roles: true, enterpriseId: true, enterprise: { select: { name: true } } } });
    const roles = Array.isArray(p.roles) ? (p.roles as unknown[]).filter((r): r is string => typeof r === 'string') : [];
    const person: SessionPerson = { id: p.id, name: p.name, roles, enterpriseId: p.enterpriseId, enterpriseName: p.enterprise.name };
    const { token, expiresAt } = await this.o.sessions.issueSession({ personId, openid });
    return { token, expiresAt: expiresAt.toISOString(), person };
  }

  /**
   * POST /mp/login.
   * @returns `{ status: 'ok', token, expiresAt, person }` for a bound openid, else `{ status: 'unbound', bindToken, expiresAt }`
   * @throws 400 login_code_invalid (reused / expired / unknown code: retry with a new wx.login code),
   *         403 login_blocked (40226), 429 too_many_requests (45011), 503 wechat_unavailable / mp_misconfigured
   */
  async login(code: string): Promise<MpLoginResponse> {
    const r = await this.o.wechat.code2Session(code);
    if (!r.ok) {
      if (r.errcode === 40029 || r.errcode === 40163) throw badRequest('login_code_invalid', '登录已失效，请重试', `the login code is used, expired or unknown (errcode ${r.errcode}); call wx.login again`);
      if (r.errcode === 40226) throw new AppError(403, 'login_blocked', '该微信账号被微信限制登录，请联系管理员', 'WeChat blocks this user (errcode 40226)');
      this.o.log.warn({ errcode: r.errcode, error: r.error }, 'mini-program login: code2Session failed');
      throw wechatFailure(r);
    }
    const bound = await resolveChatIdentity(this.o.prisma, 'miniprogram', r.openid);
    if (bound) return { status: 'ok', ...(await this.sessionFor(bound.personId, r.openid)) };
    const { token, expiresAt } = await this.o.sessions.issueBind(r.openid);
    return { status: 'unbound', bindToken: token, expiresAt: expiresAt.toISOString() };
  }

  /**
   * POST /mp/bind: binds the openid of `bindToken` to a person by phone number or binding code.
   * Idempotent: an openid already bound (to anyone) just gets its session.
   * @throws 400 bind_token_invalid (expired or forged: log in again), 400 phone_code_invalid,
   *   400 binding_code_invalid, 404 person_not_found, 409 phone_ambiguous, 409 identity_taken,
   *   429, 503 as login
   */
  async bind(input: { bindToken: string; phoneCode?: string; bindingCode?: string }): Promise<MpBindResponse> {
    let openid: string;
    try {
      openid = await this.o.sessions.verifyBind(input.bindToken);
    } catch (e) {
      if (!(e instanceof SessionError)) throw e;
      throw badRequest('bind_token_invalid', e.code === 'session_expired' ? '绑定已超时，请重新进入小程序' : '绑定信息无效，请重新进入小程序', `the bind token is ${e.code === 'session_expired' ? 'expired' : 'invalid'}: call POST /mp/login again`);
    }
    if (!input.phoneCode === !input.bindingCode) throw badRequest('invalid_input', '请提供手机号授权或绑定码（二选一）', 'exactly one of phoneCode and bindingCode');
    const already = await resolveChatIdentity(this.o.prisma, 'miniprogram', openid);
    if (already) return this.sessionFor(already.personId, openid);
    const person = input.phoneCode ? await this.bindByPhone(openid, input.phoneCode) : await redeemBindingCode(this.o.prisma, this.o.clock, { platform: 'miniprogram', externalId: openid, code: input.bindingCode! }, bindingTriesGuard(this.o.redis, this.o.redisPrefix));
    this.o.log.info({ personId: person.personId, via: input.phoneCode ? 'phone' : 'binding_code' }, 'mini-program bound');
    return this.sessionFor(person.personId, openid);
  }

  private async bindByPhone(openid: string, phoneCode: string): Promise<ResolvedPerson> {
    const r = await this.o.wechat.post('wxa/business/getuserphonenumber', { code: phoneCode });
    if (!r.ok) {
      if (r.errcode === 40029 || r.errcode === 40163) throw badRequest('phone_code_invalid', '手机号授权已失效，请重新点击授权', `the phone code is used, expired or unknown (errcode ${r.errcode}); tap the button again`);
      this.o.log.warn({ errcode: r.errcode, error: r.error }, 'mini-program bind: getuserphonenumber failed');
      throw wechatFailure(r);
    }
    const info = (r.json.phone_info ?? {}) as { purePhoneNumber?: unknown; countryCode?: unknown };
    const pure = typeof info.purePhoneNumber === 'string' ? info.purePhoneNumber.replace(/\D/g, '') : '';
    if (!pure) throw unavailable('getuserphonenumber answered without phone_info.purePhoneNumber');
    const people = await this.o.prisma.person.findMany({
      where: { mobile: { in: mobileVariants(pure, String(info.countryCode ?? '86')) }, active: true },
      select: { id: true, enterpriseId: true, name: true },
      take: 2,
    });
    if (people.length === 0) throw new AppError(404, 'person_not_found', '该手机号不在企业通讯录中，请联系管理员获取绑定码', 'no person of the directory has this mobile number; ask an admin for a binding code');
    if (people.length > 1) throw conflict('phone_ambiguous', '该手机号对应多名人员，请联系管理员获取绑定码', 'several people have this mobile number; bind with a binding code');
    const p = people[0];
    try {
      await this.o.prisma.chatIdentity.create({ data: { enterpriseId: p.enterpriseId, personId: p.id, platform: 'miniprogram', externalId: openid, via: 'phone', boundAt: this.o.clock.now() } });
    } catch (e) {
      // a concurrent bind of the same openid (double tap): whoever won, the openid is bound now
      if ((e as { code?: string }).code !== 'P2002') throw e;
      const now = await resolveChatIdentity(this.o.prisma, 'miniprogram', openid);
      if (!now) throw e;
      if (now.personId !== p.id) throw conflict('identity_taken', '该微信已绑定其他人员，请联系管理员', 'this WeChat account is bound to another person');
    }
    return { personId: p.id, enterpriseId: p.enterpriseId, name: p.name };
  }

  /**
   * POST /mp/subscriptions: what the user answered to wx.requestSubscribeMessage. `accept` adds one
   * send of that template (one-time subscriptions, protocols.md §4.3); `reject` and `filter` change
   * nothing (earlier accepts stay valid); `ban` (the template is banned for this user) sets it to 0.
   * Template ids this server does not send are ignored (listed in `ignored`).
   * @throws 400 miniprogram_session_required (the consent belongs to a WeChat user: a session token is needed)
   */
  async recordSubscriptions(actor: Actor, results: Record<string, SubscribeDecision>): Promise<MpSubscriptionsResponse & { ignored: string[] }> {
    if (actor.via !== 'miniprogram') throw badRequest('miniprogram_session_required', '请在小程序中操作', 'subscribe consents are recorded from a mini-program session (POST /mp/login), not an API token');
    return recordConsents(this.o.prisma, this.o.clock, actor.personId, this.o.alertTemplateId ? [this.o.alertTemplateId] : [], results);
  }
}

/**
 * Adds one-time consents (see MiniProgram.recordSubscriptions). Atomic per template: a concurrent
 * send spending one and this accept adding one never lose an update.
 * @param known the template ids this server sends
 */
export async function recordConsents(prisma: PrismaClient, clock: Clock, personId: number, known: string[], results: Record<string, SubscribeDecision>): Promise<MpSubscriptionsResponse & { ignored: string[] }> {
  const now = clock.now();
  const ignored = Object.keys(results).filter((t) => !known.includes(t));
  for (const templateId of known) {
    const decision = results[templateId];
    if (decision === 'accept') {
      await prisma.$executeRaw`INSERT INTO SubscribeConsent (personId, templateId, remaining, updatedAt) VALUES (${personId}, ${templateId}, 1, ${now})
        ON DUPLICATE KEY UPDATE remaining = remaining + 1, updatedAt = VALUES(updatedAt)`;
    } else if (decision === 'ban') {
      await prisma.$executeRaw`INSERT INTO SubscribeConsent (personId, templateId, remaining, updatedAt) VALUES (${personId}, ${templateId}, 0, ${now})
        ON DUPLICATE KEY UPDATE remaining = 0, updatedAt = VALUES(updatedAt)`;
    }
  }
  const rows = known.length ? await prisma.subscribeConsent.findMany({ where: { personId, templateId: { in: known } } }) : [];
  const remaining = Object.fromEntries(known.map((t) => [t, rows.find((r) => r.templateId === t)?.remaining ?? 0]));
  return { remaining, ignored };
}
