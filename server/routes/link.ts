/**
 * The page every message links to, one signed link per recipient (services/links.ts):
 *
 * GET  /l/:token          the alert, its history and the buttons 确认 / 处置 (with a note), plus
 *                         销警 (with a reason) for roles allowed to clear
 * POST /l/:token/ack      form post → 303 back to the page
 * POST /l/:token/handle   form field `note` (required)
 * POST /l/:token/clear    form field `reason` (required; role allowed to clear)
 * A note or reason follows the one text rule (cleanText, ≤ NOTE_MAX characters): an over-long or
 * repeated field is refused with a message on the page, never cut short or joined.
 *
 * The action is taken as the link's recipient, recorded with channel "link" and the id of the
 * notification that carried the link. An expired link gets 410 with a plain explanation.
 *
 * Binding flow (issue #4, item 5): when the recipient has no chat account mapped for DingTalk (no
 * directory id, no binding; shown only when the DingTalk app robot is configured) or for WeChat (no
 * binding), the page shows their one-time code (services/identity.ts, valid 30 min, single use)
 * with what to send: 「在钉钉群里 @机器人 发送：绑定 123456」 / 「在微信群里发送：绑定 123456」.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { AppDeps } from '../app';
import { AppError } from '../errors';
import { esc, page } from '../views/html';
import { ALERT_EVENT_LABELS, CHANNEL_LABELS, cleanText, NOTE_MAX } from '../../miniprogram/shared/contract';
import { LinkError, type LinkClaims } from '../services/links';
import { acknowledgeAlert, clearAlertByHand, getAlertView, handleAlert, loadActor, type Actor } from '../services/alert-actions';
import { acknowledgedByNow, CLEAR_ROLES, DENIALS } from '../domain/alert-permissions';
import { alertCode, detailLines, formatLocal, type AlertDetail } from '../domain/render';
import { ALERT_KIND_NAMES, type AlertKind } from '../domain/escalation';
import { issueBindingCode } from '../services/identity';

const DONE: Record<string, string> = { ack: '已确认，暂停提醒。', handle: '已记录处置情况。', clear: '已销警。' };
/** Errors shown back on the page by key only: the query string must not put arbitrary text on our page. */
const ERRORS: Record<string, string> = {
  note_required: '请填写处置说明',
  reason_required: '请填写销警原因',
  note_too_long: `处置说明不能超过 ${NOTE_MAX} 个字，请删减后重新提交`,
  reason_too_long: `销警原因不能超过 ${NOTE_MAX} 个字，请删减后重新提交`,
  note_invalid: '处置说明含有无法保存的字符（如控制字符），请重新填写',
  reason_invalid: '销警原因含有无法保存的字符（如控制字符），请重新填写',
  field_repeated: '表单中同一项出现了多次，请刷新页面后重新提交',
  alert_cleared: '此预警已销警',
  not_found: '预警不存在',
  verify_failed: '手机号后四位不正确',
  too_many_attempts: '尝试次数过多，请一小时后再试，或使用发给您本人的提醒链接',
  forbidden: '您无权执行此操作',
  ...Object.fromEntries(Object.values(DENIALS).map((d) => [d.reason, d.zh])),
};
/** The tail check on group-visible links (see checkTail). */
const VERIFY_INPUT =
  '<input name="verify" inputmode="numeric" autocomplete="off" maxlength="4" pattern="[0-9]{4}" required placeholder="本人手机号后四位（此链接发在群里）" style="width:100%;box-sizing:border-box;font-size:18px;padding:10px;margin:6px 0">';
const revealCard = (base: string) => `<div class="card"><h2>绑定聊天账号</h2>
<form method="post" action="${base}/reveal">${VERIFY_INPUT}<button class="secondary" type="submit">查看我的绑定码</button></form></div>`;

/**
 * One form field as a single string: absent → ''; a repeated field (`note=1&note=2`, which the form
 * parser gives as an array) is refused rather than joined or guessed.
 * @throws AppError 400 field_repeated
 */
function formField(body: Record<string, unknown>, name: string): string {
  const v = body[name];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new AppError(400, 'field_repeated', `表单字段 ${name} 出现多次`, `form field "${name}" must be given once`);
  return v;
}

/**
 * A required note or reason of the form, by the one text rule (cleanText: trimmed, no control
 * characters, at most NOTE_MAX characters) — refused with a message, never cut short.
 * @throws AppError 400 <name>_required / <name>_too_long / <name>_invalid, field_repeated
 */
function formNote(body: Record<string, unknown>, name: 'note' | 'reason'): string {
  const r = cleanText(formField(body, name), { max: NOTE_MAX, multiline: true });
  const what = name === 'note' ? ['处置说明', 'note'] : ['销警原因', 'reason'];
  if (!r.ok) throw new AppError(400, r.problem === 'too_long' ? `${name}_too_long` : `${name}_invalid`, `${what[0]}${r.zh}`, `${what[1]} ${r.en}`);
  if (!r.value) throw new AppError(400, `${name}_required`, `请填写${what[0]}`, `a ${what[1]} is required`);
  return r.value;
}

/** The key of an error for the page: a denial's reason, else the error code. */
const errorKey = (e: AppError) => {
  const reason = (e.details as { reason?: string } | undefined)?.reason;
  return reason && reason in ERRORS ? reason : e.code in ERRORS ? e.code : 'failed';
};

export function linkRoutes(deps: AppDeps): Router {
  const r = new Router();

  const open = async (ctx: Context): Promise<{ claims: LinkClaims; actor: Actor }> => {
    try {
      const claims = await deps.links.verify(String(ctx.params.token));
      const actor = await loadActor(deps.prisma, claims.personId);
      return { claims, actor };
    } catch (e) {
      if (e instanceof LinkError) {
        throw new AppError(
          e.code === 'link_expired' ? 410 : 401,
          e.code,
          e.code === 'link_expired' ? '链接已过期，请使用最新一条提醒中的链接' : '链接无效',
          e.code === 'link_expired' ? 'link expired; use the link in the latest message' : 'invalid link',
        );
      }
      throw e;
    }
  };

  /**
   * The binding card for a person, or '' when every chat account they could use is mapped.
   * Issuing is idempotent while the code is fresh (identity.ts), so reloading shows the same code.
   */
  const bindingCard = async (personId: number, tz: string): Promise<string> => {
    const [p, bound] = await Promise.all([
      deps.prisma.person.findUniqueOrThrow({ where: { id: personId }, select: { dingtalkUserId: true } }),
      deps.prisma.chatIdentity.findMany({ where: { personId, platform: { in: ['dingtalk', 'wechat'] } }, select: { platform: true } }),
    ]);
    const has = new Set(bound.map((b) => b.platform));
    const where: string[] = [];
    if (deps.dingtalk && !p.dingtalkUserId && !has.has('dingtalk')) where.push('在钉钉群里 @机器人（或私聊机器人）发送');
    if (!has.has('wechat')) where.push('在微信群里发送');
    if (where.length === 0) return '';
    const { code, expiresAt } = await issueBindingCode(deps.prisma, deps.clock, personId);
    return `<div class="card"><h2>绑定聊天账号</h2>
<div>绑定后可直接在群里回复“确认 A123”处理预警。</div>
${where.map((w) => `<div>${esc(w)}：<b class="bind-code">绑定 ${esc(code)}</b></div>`).join('\n')}
<div class="muted">绑定码 ${esc(code)} 仅限本人使用一次，${esc(formatLocal(expiresAt, tz))} 前有效。</div></div>`;
  };

  /** Errors on this page are shown as a page, not JSON: a phone opened it. */
  const asPage = async (ctx: Context, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
      ctx.status = e.status;
      ctx.type = 'html';
      ctx.body = page('无法打开', `<div class="card"><h1>${esc(e.messageZh)}</h1><div class="muted">${esc(e.messageEn)}</div></div>`);
    }
  };

  /** The recipient's mobile number's last four digits, or null when none is on file. */
  const mobileTail = async (personId: number): Promise<string | null> => {
    const p = await deps.prisma.person.findUniqueOrThrow({ where: { id: personId }, select: { mobile: true } });
    const digits = (p.mobile ?? '').replace(/\D/g, '');
    return digits.length >= 4 ? digits.slice(-4) : null;
  };

  /**
   * A link posted where a whole group reads it (Channel.sharedAudience) acts only after the
   * recipient's mobile tail is entered, so another group member cannot act as them. Five wrong
   * tries lock that person's links to this alert for an hour. A person with no mobile on file
   * cannot be checked this way and is let through (the action is still recorded as theirs).
   * @throws AppError 403 verify_failed, 429 too_many_attempts
   */
  const checkTail = async (claims: LinkClaims, actor: Actor, body: Record<string, unknown>) => {
    if (!claims.shared) return;
    const tail = await mobileTail(actor.personId);
    if (!tail) return;
    const key = `${deps.redisPrefix ?? 'dualprev'}:linkverify:${claims.alertId}:${actor.personId}`;
    const tries = Number((await deps.redis.get(key)) ?? 0);
    if (tries >= 5) throw new AppError(429, 'too_many_attempts', '尝试次数过多，请一小时后再试', 'too many attempts; try again in an hour');
    const given = formField(body, 'verify').replace(/[０-９]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0)).trim();
    if (given !== tail) {
      await deps.redis.multi().incr(key).expire(key, 3600).exec();
      throw new AppError(403, 'verify_failed', '手机号后四位不正确', 'the last four digits of your mobile number do not match');
    }
  };

  /** The page for one recipient of one alert. */
  const renderPage = async (ctx: Context, claims: LinkClaims, actor: Actor, opts: { revealBinding: boolean }) => {
      const base = `/l/${encodeURIComponent(String(ctx.params.token))}`;
      const a = await getAlertView(deps.prisma, claims.alertId);
      if (a.enterpriseId !== actor.enterpriseId) throw new AppError(404, 'not_found', '预警不存在', 'alert not found');
      const detail = a.detail as unknown as AlertDetail;
      const tz = detail.tz;
      const now = deps.clock.now();
      const me = await deps.prisma.person.findUniqueOrThrow({ where: { id: actor.personId }, select: { name: true } });
      // a link posted in a group is readable by everyone there: the binding code (which would let
      // another member bind their own chat account to this person) is shown only after the tail check
      const tail = claims.shared ? await mobileTail(actor.personId) : null;
      const binding = tail && !opts.revealBinding ? revealCard(base) : await bindingCard(actor.personId, tz);
      const done = typeof ctx.query.done === 'string' ? DONE[ctx.query.done] : undefined;
      const err = typeof ctx.query.error === 'string' ? ERRORS[ctx.query.error] ?? '操作未完成，请重试' : undefined;
      const cleared = a.state === 'cleared';
      const verify = tail ? VERIFY_INPUT : '';
      const canClear = actor.roles.some((x) => (CLEAR_ROLES as readonly string[]).includes(x));
      // once this person has confirmed (in the pause that runs now), 确认 again would change nothing
      const ackedByMe = acknowledgedByNow(a, actor.personId, now);
      const channelName = (c: string | null) => (c && c !== 'engine' ? ` <span class="muted">（${esc(CHANNEL_LABELS[c] ?? c)}）</span>` : '');
      const history = a.events
        .map((e) => `<tr><td>${esc(formatLocal(e.at, tz))}</td><td>${esc(ALERT_EVENT_LABELS[e.type] ?? e.type)}${e.level ? ` 第${e.level}级` : ''}</td><td>${esc(e.actor?.name ?? '系统')}${channelName(e.channel)}${e.note ? `<div class="muted">${esc(e.note)}</div>` : ''}</td></tr>`)
        .join('');
      const actions = cleared
        ? `<div class="card ok">此预警已销警（${esc(formatLocal(a.clearedAt!, tz))}）：${esc(a.clearReason ?? '')}</div>`
        : `<div class="card">
${ackedByMe ? `<div class="ok">您已确认，暂停提醒至 ${esc(formatLocal(a.ackUntil!, tz))}。如在处理，请填写处置说明。</div>` : `<form method="post" action="${base}/ack">${verify}<button type="submit">确认</button></form>`}
<form method="post" action="${base}/handle">${verify}<textarea name="note" maxlength="${NOTE_MAX}" placeholder="处置说明（必填），如：已安排仪表工更换液位计" required></textarea><button class="secondary" type="submit">处置</button></form>
${canClear ? `<form method="post" action="${base}/clear">${verify}<textarea name="reason" maxlength="${NOTE_MAX}" placeholder="销警原因（必填）" required></textarea><button class="secondary" style="background:#646a73" type="submit">销警</button></form>` : ''}
</div>`;
      ctx.type = 'html';
      ctx.body = page(
        `${alertCode(a.id)} ${ALERT_KIND_NAMES[a.kind as AlertKind] ?? ''}`,
        `${done ? `<div class="card ok">${esc(done)}</div>` : ''}${err ? `<div class="card bad">${esc(err)}</div>` : ''}
<h1>${esc(alertCode(a.id))} · ${esc(a.title)}</h1>
<div class="card">${detailLines(a.kind as AlertKind, detail, now).map((l) => `<div>${esc(l)}</div>`).join('')}
<div class="muted">当前：第${a.level}级 · ${cleared ? '已销警' : a.ackUntil && a.ackUntil > now ? `已确认，暂停提醒至 ${esc(formatLocal(a.ackUntil, tz))}` : '待确认'} · 您：${esc(me.name)}</div></div>
${actions}
${binding}
<div class="card"><h2>处理记录</h2><table>${history}</table></div>`,
      );
  };

  r.get('/l/:token', (ctx) =>
    asPage(ctx, async () => {
      const { claims, actor } = await open(ctx);
      await renderPage(ctx, claims, actor, { revealBinding: false });
    }),
  );

  // shared links: the binding code after the tail check, shown directly (never put in a URL)
  r.post('/l/:token/reveal', (ctx) =>
    asPage(ctx, async () => {
      const { claims, actor } = await open(ctx);
      try {
        await checkTail(claims, actor, (ctx.request.body ?? {}) as Record<string, unknown>);
      } catch (e) {
        if (!(e instanceof AppError)) throw e;
        ctx.redirect(`/l/${encodeURIComponent(String(ctx.params.token))}?error=${errorKey(e)}`);
        ctx.status = 303;
        return;
      }
      await renderPage(ctx, claims, actor, { revealBinding: true });
    }),
  );

  const act = (path: string, done: string, run: (actor: Actor, claims: LinkClaims, body: Record<string, unknown>) => Promise<unknown>) =>
    r.post(`/l/:token/${path}`, (ctx) =>
      asPage(ctx, async () => {
        const { claims, actor } = await open(ctx);
        const base = `/l/${encodeURIComponent(String(ctx.params.token))}`;
        try {
          const body = (ctx.request.body ?? {}) as Record<string, unknown>;
          await checkTail(claims, actor, body);
          await run(actor, claims, body);
          ctx.redirect(`${base}?done=${done}`);
        } catch (e) {
          if (!(e instanceof AppError)) throw e;
          ctx.redirect(`${base}?error=${errorKey(e)}`);
        }
        ctx.status = 303;
      }),
    );

  const ctxOf = (c: LinkClaims) => ({ channel: 'link', notificationId: c.notificationId });
  act('ack', 'ack', (actor, c) => acknowledgeAlert(deps.prisma, deps.clock, actor, c.alertId, ctxOf(c)));
  act('handle', 'handle', (actor, c, body) => handleAlert(deps.prisma, deps.clock, actor, c.alertId, ctxOf(c), formNote(body, 'note')));
  act('clear', 'clear', (actor, c, body) => clearAlertByHand(deps.prisma, deps.clock, actor, c.alertId, ctxOf(c), formNote(body, 'reason')));
  return r;
}
