/**
 * The outbox viewer: every Notification row (what was, or would have been, sent; to whom; when;
 * with which outcome, incl. dead letters) and every alert's history. It shows alert contents, so
 * it needs the admin token the server logs at start (`outbox: <PUBLIC_URL>/outbox?token=…`), given
 * as `?token=` or `Authorization: Bearer`.
 *
 * GET /outbox            HTML (newest first); `?format=json` or `Accept: application/json` → JSON
 * GET /outbox.json       JSON: `{ items: [...], counts: { pending, queued, sending, sent, dead, cancelled } }`
 *   filters: state, channel, alert (id), limit (≤ 500, default 100)
 * GET /alerts/:id        HTML history of one alert (same token)
 */
import Router from '@koa/router';
import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { AppDeps } from '../app';
import { AppError } from '../errors';
import { esc, page } from '../views/html';
import { ALERT_EVENT_LABELS, CHANNEL_LABELS } from '../../miniprogram/shared/contract';
import { idText, intText } from '../domain/inputs';
import { alertCode, formatLocal } from '../domain/render';
import { ALERT_KIND_NAMES, type AlertKind } from '../domain/escalation';
import { getAlertView } from '../services/alert-actions';
import type { NeutralMessage } from '../domain/message';

const query = z.object({
  state: z.enum(['pending', 'queued', 'sending', 'sent', 'dead', 'cancelled']).optional(),
  channel: z.string().max(24).optional(),
  alert: idText.optional(),
  limit: intText({ min: 1, max: 500 }).default(100),
  format: z.enum(['html', 'json']).optional(),
  token: z.string().optional(),
});

function tokenOk(given: string | undefined, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

const STATE_NAMES: Record<string, string> = { pending: '待发送', queued: '排队中', sending: '发送中', sent: '已发送', dead: '发送失败（死信）', cancelled: '已作废' };

export function outboxRoutes(deps: AppDeps): Router {
  const r = new Router();
  const guard = (ctx: { query: Record<string, unknown>; get(h: string): string }) => {
    const bearer = ctx.get('authorization').replace(/^Bearer\s+/i, '') || undefined;
    const given = typeof ctx.query.token === 'string' ? ctx.query.token : bearer;
    if (!tokenOk(given, deps.outboxToken)) throw new AppError(401, 'unauthorized', '需要管理员令牌（见服务启动日志中的 outbox 链接）', 'admin token required (see the outbox line in the server log)');
    return given!;
  };

  const list = async (q: z.infer<typeof query>) => {
    const where = { ...(q.state ? { state: q.state } : {}), ...(q.channel ? { channel: q.channel } : {}), ...(q.alert ? { alertId: q.alert } : {}) };
    const [rows, grouped] = await Promise.all([
      deps.prisma.notification.findMany({
        where,
        orderBy: { id: 'desc' },
        take: q.limit,
        include: { alert: { select: { id: true, kind: true, title: true, state: true, level: true, detail: true } }, destination: { select: { code: true, name: true } } },
      }),
      deps.prisma.notification.groupBy({ by: ['state'], _count: { _all: true } }),
    ]);
    const ids = [...new Set(rows.flatMap((n) => (n.recipients as number[]) ?? []))];
    const names = new Map((await deps.prisma.person.findMany({ where: { id: { in: ids } }, select: { id: true, name: true } })).map((p) => [p.id, p.name]));
    const items = rows.map((n) => {
      const payload = n.payload as unknown as NeutralMessage & { delivered?: unknown };
      return {
        id: n.id,
        alertId: n.alertId,
        alertCode: alertCode(n.alertId),
        kind: n.alert.kind,
        alertTitle: n.alert.title,
        alertState: n.alert.state,
        level: n.level,
        channel: n.channel,
        destination: n.destination ? { code: n.destination.code, name: n.destination.name } : null,
        recipients: ((n.recipients as number[]) ?? []).map((id) => ({ id, name: names.get(id) ?? `#${id}` })),
        state: n.state,
        attempts: n.attempts,
        lastError: n.lastError,
        createdAt: n.createdAt,
        sentAt: n.sentAt,
        title: payload.title,
        lines: payload.lines,
        delivered: payload.delivered ?? null,
      };
    });
    const counts = Object.fromEntries(grouped.map((g) => [g.state, g._count._all]));
    return { items, counts };
  };

  r.get('/outbox.json', async (ctx) => {
    guard(ctx);
    ctx.body = await list(query.parse(ctx.query));
  });

  r.get('/outbox', async (ctx) => {
    const token = guard(ctx);
    const q = query.parse(ctx.query);
    const data = await list(q);
    if (q.format === 'json' || (ctx.accepts('html', 'json') === 'json' && !ctx.get('accept').includes('text/html'))) {
      ctx.body = data;
      return;
    }
    const tz = 'Asia/Shanghai';
    const t = encodeURIComponent(token);
    const counts = Object.entries(data.counts).map(([s, c]) => `<span class="tag">${esc(STATE_NAMES[s] ?? s)} ${c}</span>`).join('');
    const rows = data.items
      .map((n) => {
        const text = n.delivered && typeof n.delivered === 'object' && 'text' in (n.delivered as object) ? String((n.delivered as { text: string }).text) : [n.title, ...(n.lines ?? [])].join('\n');
        const stateClass = n.state === 'sent' ? 'ok' : n.state === 'dead' ? 'bad' : 'warn';
        return `<div class="card">
<div><a href="/alerts/${n.alertId}?token=${t}"><b>${esc(n.alertCode)}</b></a> <span class="tag">${esc(ALERT_KIND_NAMES[n.kind as AlertKind] ?? n.kind)}</span><span class="tag">第${n.level}级</span>
<span class="${stateClass}">${esc(STATE_NAMES[n.state] ?? n.state)}</span> <span class="muted">#${n.id} · ${esc(n.channel)}${n.destination ? ` · ${esc(n.destination.name)}` : ''} · ${esc(formatLocal(n.createdAt, tz))}${n.attempts > 1 ? ` · 尝试 ${n.attempts} 次` : ''}</span></div>
<div class="muted">收件人：${esc(n.recipients.map((p) => p.name).join('、') || '（无）')}</div>
${n.lastError ? `<div class="bad">${esc(n.lastError)}</div>` : ''}
<pre>${esc(text)}</pre></div>`;
      })
      .join('\n');
    ctx.type = 'html';
    ctx.body = page('发件箱 · dualprev', `<h1>发件箱</h1><div class="card">${counts || '暂无消息'}<div class="muted">时间为 ${tz}；最新在前，最多 ${q.limit} 条。<a href="/outbox.json?token=${t}">JSON</a></div></div>${rows}`);
  });

  r.get('/alerts/:id', async (ctx) => {
    guard(ctx);
    const id = idText.parse(ctx.params.id);
    const a = await getAlertView(deps.prisma, id);
    const tz = (a.detail as { tz?: string }).tz ?? 'Asia/Shanghai';
    const events = a.events
      .map((e) => `<tr><td>${esc(formatLocal(e.at, tz))}</td><td>${esc(ALERT_EVENT_LABELS[e.type] ?? e.type)}${e.level ? ` · 第${e.level}级` : ''}</td><td>${esc(e.actor?.name ?? '系统')}</td><td>${esc(e.channel ? (CHANNEL_LABELS[e.channel] ?? e.channel) : '')}</td><td>${esc(e.note ?? '')}</td></tr>`)
      .join('');
    ctx.type = 'html';
    ctx.body = page(
      `${alertCode(a.id)} · 预警`,
      `<h1>${esc(alertCode(a.id))} ${esc(a.title)}</h1><div class="card">状态：${esc(a.state)} · 级别：${a.level} · 产生：${esc(formatLocal(a.createdAt, tz))}</div>
<div class="card"><h2>处理记录</h2><table><tr><th>时间</th><th>事件</th><th>人员</th><th>渠道</th><th>说明</th></tr>${events}</table></div>
<div class="card"><h2>消息</h2>${a.notifications.map((n) => `<div>#${n.id} 第${n.level}级 · ${esc(n.channel)} · ${esc(STATE_NAMES[n.state] ?? n.state)}${n.lastError ? ` · <span class="bad">${esc(n.lastError)}</span>` : ''}</div>`).join('')}</div>`,
    );
  });

  return r;
}

