/**
 * Applies a chat command (issue #4, item 4) for whoever wrote it, on any chat channel: the WeCom
 * self-built app, the DingTalk enterprise robot and the wechaty bot all hand their text here after
 * authenticating the request and mapping the sender to a Person (or to nobody).
 *
 * The grammar is server/domain/chat-commands.ts; this module resolves the alert, checks nothing
 * itself and applies through the same services as the API and the link page
 * (server/services/alert-actions.ts, hazard-extensions.ts), so the rules — who may act on which
 * alert, who may clear, who may ask for an extension — live in one place and the AlertEvent
 * records the channel. Every refusal is a short Chinese reply that says why; nothing is changed.
 *
 * Which alert:
 * 1. the code in the line (`确认 A12`);
 * 2. else the code in the quoted message (a quote reply to the alert message);
 * 3. else the person's only not-cleared alert addressed to them (levels notified so far). None or
 *    several: a reply listing their open alerts, nothing changed.
 * An alert of another enterprise is "not found" (its existence is not revealed).
 *
 * Replies are at most 500 characters (REPLY_MAX_CHARS): one chat bubble on every platform.
 */
import type { PrismaClient } from '../db';
import type { Clock } from '../clock';
import { AppError } from '../errors';
import { dayjs, localDateOf } from '../domain/time';
import { alertCode } from '../domain/render';
import { HELP_TEXT, parseChatCommand, type ChatCommand } from '../domain/chat-commands';
import { acknowledgeAlert, addressedTo, authorize, clearAlertByHand, handleAlert, type Actor } from './alert-actions';
import { requestExtension } from './hazard-extensions';

export type ChatChannel = 'wecom' | 'dingtalk' | 'wechat';

export interface ChatDeps {
  prisma: PrismaClient;
  clock: Clock;
  /**
   * The binding flow of the channel (issue #4, item 5), closed over the sender's platform id by
   * the adapter: `绑定 123456` is handed to it. Without it, 绑定 answers that binding is not
   * available on this channel.
   */
  bind?: (bindCode: string) => Promise<{ reply: string; applied: boolean }>;
  /** the bot's display names, so `@Safety Bot 确认` parses (see parseChatCommand) */
  botNames?: string[];
}

export interface ChatInput {
  /** the enterprise the channel belongs to; a person of another enterprise cannot act here */
  enterpriseId?: number;
  /** the sender mapped to a Person; null when the platform id is not bound yet */
  personId: number | null;
  channel: ChatChannel;
  text: string;
  /** the quoted message's text, when the platform delivers the quote separately */
  quoted?: string;
}

export interface ChatOutcome {
  /** what to send back (≤ 500 characters, never empty) */
  reply: string;
  /** true when something was stored (an alert acknowledged/handled/cleared, an extension requested, a binding) */
  applied: boolean;
  /** the alert the command was about, when one was resolved */
  alertId?: number;
}

export const REPLY_MAX_CHARS = 500;
const DEFAULT_TZ = 'Asia/Shanghai';
/** open alerts listed in one reply */
const LIST_MAX = 6;

/** Cuts to `max` code points, marking the cut. */
function clip(s: string, max: number): string {
  const cps = [...s];
  return cps.length <= max ? s : `${cps.slice(0, max - 1).join('')}…`;
}

const LEVEL_STATE: Record<string, string> = { open: '待确认', acknowledged: '已确认', cleared: '已销警' };

const NOT_BOUND =
  '您的账号尚未绑定，不能操作预警。请打开任一预警消息中的链接，按页面上的 6 位绑定码发送：绑定 123456';

interface AlertRow {
  id: number;
  enterpriseId: number;
  title: string;
  level: number;
  state: string;
  recipients: unknown;
  subjectType: string;
  subjectId: number;
}

const ALERT_SELECT = { id: true, enterpriseId: true, title: true, level: true, state: true, recipients: true, subjectType: true, subjectId: true } as const;

function shortTitle(a: { title: string }, max = 24): string {
  return clip(a.title, max);
}

function listLine(a: AlertRow): string {
  return `${alertCode(a.id)} ${shortTitle(a)}（${a.level > 0 ? `${a.level}级·` : ''}${LEVEL_STATE[a.state] ?? a.state}）`;
}

/** Not-cleared alerts of the enterprise addressed to the person (not to their subordinates), newest first. */
async function openAlertsAddressedTo(prisma: PrismaClient, enterpriseId: number, personId: number): Promise<AlertRow[]> {
  const rows = await prisma.alert.findMany({ where: { enterpriseId, state: { not: 'cleared' } }, select: ALERT_SELECT, orderBy: { id: 'desc' }, take: 2000 });
  return rows.filter((a) => addressedTo(a.recipients, a.level).includes(personId));
}

/** Maps a service refusal to a short reply about alert `code`. */
function refusal(e: AppError, code: string, reading: boolean): string {
  const reason = (e.details as { reason?: string } | undefined)?.reason;
  switch (e.code) {
    case 'not_found':
      return `未找到预警 ${code}，请核对编号（发送“查询”查看您的预警）。`;
    case 'forbidden':
      if (reason === 'not_addressed') return `预警 ${code} 未发给您或您的下属，您不能${reading ? '查看' : '操作'}。`;
      if (reason === 'clear_role') return `您的角色不能手动销警 ${code}；可发送“处置 ${code} 说明”记录处置情况。`;
      if (reason === 'read_only') return '监管账号只读，不能操作预警。';
      if (reason === 'other_enterprise') return `未找到预警 ${code}，请核对编号。`;
      return `不能操作 ${code}：${e.messageZh}`;
    case 'alert_cleared':
      return `预警 ${code} 已销警，无需再操作。`;
    case 'note_required':
      return `请写明处置情况，如：处置 ${code} 已安排检修`;
    case 'reason_required':
      return `请写明原因，如：销警 ${code} 误报，现场正常`;
    default:
      return `${code}：${e.messageZh}`;
  }
}

function formatWhen(d: Date, tz: string, now: Date): string {
  const local = dayjs(d).tz(tz);
  return local.format('YYYY-MM-DD') === dayjs(now).tz(tz).format('YYYY-MM-DD') ? local.format('HH:mm') : local.format('MM-DD HH:mm');
}

/**
 * Parses and applies one chat text for its sender.
 * @returns the reply to send (never empty, ≤ 500 characters), whether anything was stored, and the
 *          alert concerned. Refusals (unknown sender, unauthorised, ambiguous, cleared, foreign,
 *          malformed) are replies with `applied: false` and change nothing.
 * @throws only on infrastructure failure (database unreachable…): a caller should log it and may
 *         retry; AppErrors from the services are turned into replies.
 */
export async function handleChatText(deps: ChatDeps, input: ChatInput): Promise<ChatOutcome> {
  const out = await handle(deps, input);
  const reply = clip(out.reply.trim() || '请发送“帮助”查看可用指令。', REPLY_MAX_CHARS);
  return { ...out, reply };
}

async function handle(deps: ChatDeps, input: ChatInput): Promise<ChatOutcome> {
  const { prisma, clock } = deps;
  const now = clock.now();

  // who is writing, and in which zone "today" is (延期 dates without a year)
  const person =
    input.personId === null
      ? null
      : await prisma.person.findUnique({ where: { id: input.personId }, select: { id: true, enterpriseId: true, active: true, postId: true, roles: true, enterprise: { select: { timezone: true } } } });
  let tz = person?.enterprise.timezone ?? null;
  if (!tz && input.enterpriseId !== undefined) tz = (await prisma.enterprise.findUnique({ where: { id: input.enterpriseId }, select: { timezone: true } }))?.timezone ?? null;
  tz ??= DEFAULT_TZ;
  const today = localDateOf(now, tz);

  const parsed = parseChatCommand(typeof input.text === 'string' ? input.text : '', { quoted: input.quoted, botNames: deps.botNames, today });
  if (!parsed.ok) return { reply: parsed.hint, applied: false };
  const cmd = parsed.command;

  if (cmd.kind === 'help') return { reply: HELP_TEXT, applied: false };
  if (cmd.kind === 'bind') {
    if (!deps.bind) return { reply: '此渠道暂不支持绑定，请联系管理员在系统中登记您的账号。', applied: false };
    return deps.bind(cmd.bindCode);
  }

  if (input.personId === null) return { reply: NOT_BOUND, applied: false };
  if (!person || !person.active) return { reply: '您的账号不存在或已停用，不能操作预警，请联系管理员。', applied: false };
  if (input.enterpriseId !== undefined && person.enterpriseId !== input.enterpriseId) return { reply: '您的账号不属于本企业，不能在此操作预警。', applied: false };
  const actor: Actor = { personId: person.id, enterpriseId: person.enterpriseId, roles: Array.isArray(person.roles) ? person.roles.filter((r): r is string => typeof r === 'string') : [] };

  if (cmd.kind === 'query' && cmd.code === null) return listMine(prisma, actor, person.postId, tz, now);

  // the alert: named, quoted, or the only one addressed to the person
  let alert: AlertRow | null;
  if (cmd.code !== null) {
    alert = await prisma.alert.findUnique({ where: { id: cmd.code }, select: ALERT_SELECT });
    if (!alert || alert.enterpriseId !== actor.enterpriseId) {
      const how = cmd.codeSource === 'quote' ? '引用消息中的预警' : '预警';
      return { reply: `未找到${how} ${alertCode(cmd.code)}，请核对编号（发送“查询”查看您的预警）。`, applied: false };
    }
  } else {
    const mine = await openAlertsAddressedTo(prisma, actor.enterpriseId, actor.personId);
    if (mine.length === 0) return { reply: '您当前没有待处理的预警。如要操作其他预警，请写明编号，如：确认 A123', applied: false };
    if (mine.length > 1) {
      const lines = mine.slice(0, LIST_MAX).map(listLine);
      const more = mine.length > LIST_MAX ? `\n…另有 ${mine.length - LIST_MAX} 条` : '';
      const example = exampleFor(cmd, alertCode(mine[0].id));
      return { reply: `您有 ${mine.length} 条待处理预警，请写明编号，如：${example}\n${lines.join('\n')}${more}`, applied: false };
    }
    alert = mine[0];
  }
  const code = alertCode(alert.id);

  try {
    switch (cmd.kind) {
      case 'query':
        return await showAlert(prisma, actor, alert.id, tz, now);
      case 'acknowledge': {
        if (alert.state === 'cleared') return { reply: `预警 ${code} 已销警，无需再确认。`, applied: false, alertId: alert.id };
        const r = await acknowledgeAlert(prisma, clock, actor, alert.id, { channel: input.channel }, cmd.note ?? undefined);
        const until = r.ackUntil ? formatWhen(r.ackUntil, tz, now) : null;
        if (r.alreadyAcknowledged) return { reply: `您已确认过 ${code}${until ? `，催办暂停至 ${until}` : ''}。处置后请回复：处置 ${code} 说明`, applied: false, alertId: alert.id };
        return {
          reply: `已确认 ${code}（${shortTitle(alert)}）${until ? `，催办暂停至 ${until}，届时仍未处置将继续提醒` : ''}。处置后请回复：处置 ${code} 说明`,
          applied: true,
          alertId: alert.id,
        };
      }
      case 'handle': {
        if (alert.state === 'cleared') return { reply: `预警 ${code} 已销警，无需再处置。`, applied: false, alertId: alert.id };
        await handleAlert(prisma, clock, actor, alert.id, { channel: input.channel }, cmd.note);
        return { reply: `已记录 ${code} 处置情况：${clip(cmd.note, 80)}`, applied: true, alertId: alert.id };
      }
      case 'clear': {
        if (alert.state === 'cleared') return { reply: `预警 ${code} 已销警，无需再操作。`, applied: false, alertId: alert.id };
        await clearAlertByHand(prisma, clock, actor, alert.id, { channel: input.channel }, cmd.reason);
        return { reply: `已销警 ${code}（${shortTitle(alert)}），原因：${clip(cmd.reason, 80)}`, applied: true, alertId: alert.id };
      }
      case 'extension': {
        if (alert.state === 'cleared') return { reply: `预警 ${code} 已销警；如隐患仍需延期，请在系统中对该隐患申请。`, applied: false, alertId: alert.id };
        if (alert.subjectType !== 'hazard') return { reply: `预警 ${code} 不是隐患整改预警，不能申请延期。`, applied: false, alertId: alert.id };
        const r = await requestExtension(prisma, clock, actor, alert.subjectId, { requestedDate: cmd.date, reason: cmd.reason });
        return {
          reply: `已提交延期申请（${code}）：整改期限 ${r.fromDeadlineDate ?? '无'} → ${r.requestedDate}，原因：${clip(cmd.reason, 60)}。等待审批，期间仍按原期限提醒。`,
          applied: true,
          alertId: alert.id,
        };
      }
    }
  } catch (e) {
    if (e instanceof AppError) {
      if (cmd.kind === 'extension' && e.code !== 'not_found') return { reply: `不能申请延期（${code}）：${e.messageZh}`, applied: false, alertId: alert.id };
      if (cmd.kind === 'extension') return { reply: `未找到预警 ${code} 对应的隐患。`, applied: false, alertId: alert.id };
      return { reply: refusal(e, code, cmd.kind === 'query'), applied: false, alertId: alert.id };
    }
    throw e;
  }
}

function exampleFor(cmd: ChatCommand, code: string): string {
  switch (cmd.kind) {
    case 'handle':
      return `处置 ${code} ${clip(cmd.note, 20)}`;
    case 'clear':
      return `销警 ${code} ${clip(cmd.reason, 20)}`;
    case 'extension':
      return `延期申请 ${code} ${cmd.date} ${clip(cmd.reason, 20)}`;
    case 'query':
      return `查询 ${code}`;
    default:
      return `确认 ${code}`;
  }
}

/** 查询 A12: one alert's state, for people who may read it. */
async function showAlert(prisma: PrismaClient, actor: Actor, alertId: number, tz: string, now: Date): Promise<ChatOutcome> {
  const a = await prisma.alert.findUniqueOrThrow({
    where: { id: alertId },
    select: { ...ALERT_SELECT, ackedAt: true, ackUntil: true, handledAt: true, handleNote: true, clearedAt: true, clearReason: true, ackedById: true, handledById: true },
  });
  await authorize(prisma, actor, a, 'read');
  const ids = [a.ackedById, a.handledById].filter((x): x is number => x !== null);
  const names = new Map((await prisma.person.findMany({ where: { id: { in: ids } }, select: { id: true, name: true } })).map((p) => [p.id, p.name]));
  const parts = [`${alertCode(a.id)} ${clip(a.title, 60)}`, `状态：${a.level > 0 ? `第${a.level}级，` : ''}${LEVEL_STATE[a.state] ?? a.state}`];
  if (a.ackedAt) parts.push(`确认：${names.get(a.ackedById ?? -1) ?? ''} ${formatWhen(a.ackedAt, tz, now)}${a.state !== 'cleared' && a.ackUntil && a.ackUntil > now ? `（催办暂停至 ${formatWhen(a.ackUntil, tz, now)}）` : ''}`);
  if (a.handledAt) parts.push(`处置：${names.get(a.handledById ?? -1) ?? ''} ${formatWhen(a.handledAt, tz, now)} ${clip(a.handleNote ?? '', 60)}`);
  if (a.clearedAt) parts.push(`销警：${formatWhen(a.clearedAt, tz, now)} ${clip(a.clearReason ?? '', 60)}`);
  return { reply: parts.join('\n'), applied: false, alertId: a.id };
}

/** 查询 / 我的待办: open alerts addressed to the person and their due check-task instances. */
async function listMine(prisma: PrismaClient, actor: Actor, postId: number | null, tz: string, now: Date): Promise<ChatOutcome> {
  const alerts = await openAlertsAddressedTo(prisma, actor.enterpriseId, actor.personId);
  // due = window started and not done; the assignee is the task's person, else everyone on its post
  const dueWhere = {
    enterpriseId: actor.enterpriseId,
    state: 'pending',
    startAt: { lte: now },
    checkTask: { OR: [{ personId: actor.personId }, ...(postId !== null ? [{ personId: null, postId }] : [])] },
  };
  const [due, dueTotal] = await Promise.all([
    prisma.checkTaskInstance.findMany({ where: dueWhere, orderBy: [{ endAt: 'asc' }, { id: 'asc' }], take: 5, select: { endAt: true, checkTask: { select: { code: true, content: true } } } }),
    prisma.checkTaskInstance.count({ where: dueWhere }),
  ]);
  if (alerts.length === 0 && dueTotal === 0) return { reply: '您当前没有待处理的预警，也没有到期的排查任务。', applied: false };
  const lines: string[] = [];
  if (alerts.length) {
    lines.push(`待处理预警 ${alerts.length} 条：`);
    lines.push(...alerts.slice(0, LIST_MAX).map(listLine));
    if (alerts.length > LIST_MAX) lines.push(`…另有 ${alerts.length - LIST_MAX} 条`);
  } else lines.push('待处理预警：无');
  if (dueTotal) {
    lines.push(`待排查任务 ${dueTotal} 项：`);
    for (const i of due) lines.push(`${i.checkTask.code} ${clip(i.checkTask.content, 18)} 截止 ${formatWhen(i.endAt, tz, now)}${i.endAt <= now ? '（已逾期）' : ''}`);
    if (dueTotal > due.length) lines.push(`…另有 ${dueTotal - due.length} 项`);
  } else lines.push('待排查任务：无');
  if (alerts.length) lines.push(`回复“确认 ${alertCode(alerts[0].id)}”确认预警`);
  return { reply: lines.join('\n'), applied: false };
}
