/**
 * The one identity map from chat contacts to people (issue #4): WeCom userid, DingTalk
 * staffId/senderId, WeChat (wechaty) contact id, mini-program openid → Person.
 *
 * Lookup order: the directory ids on Person (wecomUserId, dingtalkUserId, wechatOpenId — from the
 * HR/directory import), then ChatIdentity rows made by the binding flow. A contact that maps to no
 * active person is unknown: channels must never act for it, only answer how to bind.
 *
 * Binding: a person gets a one-time 6-digit code (shown on their alert link page, or issued by an
 * admin), valid BINDING_CODE_TTL_MS; sending `绑定 <code>` from a chat (or entering it in the
 * mini-program) binds that contact to the person. A used or expired code binds nothing.
 */
import { randomInt } from 'node:crypto';
import type { PrismaClient, Prisma } from '../db';
import type { Clock } from '../clock';
import type { Redis } from 'ioredis';
import { AppError, badRequest, conflict } from '../errors';
import { createRedisThrottle, type Throttle } from '../channels/throttle';
import { clipChars } from '../../miniprogram/shared/contract';

type Db = PrismaClient | Prisma.TransactionClient;

export type ChatPlatform = 'wecom' | 'dingtalk' | 'wechat' | 'miniprogram';

/** How long a binding code stays valid (ms). */
export const BINDING_CODE_TTL_MS = 30 * 60_000;

export interface ResolvedPerson {
  personId: number;
  enterpriseId: number;
  name: string;
}

/**
 * The active person behind a chat contact, or null when unknown.
 * @param enterpriseId when the platform id is only unique inside one enterprise (a corp's userids),
 *   restrict the directory lookup to it
 */
export async function resolveChatIdentity(db: Db, platform: ChatPlatform, externalId: string, enterpriseId?: number): Promise<ResolvedPerson | null> {
  if (!externalId) return null;
  const column = platform === 'wecom' ? 'wecomUserId' : platform === 'dingtalk' ? 'dingtalkUserId' : platform === 'miniprogram' ? 'wechatOpenId' : null;
  if (column) {
    const people = await db.person.findMany({
      where: { [column]: externalId, active: true, ...(enterpriseId ? { enterpriseId } : {}) },
      select: { id: true, enterpriseId: true, name: true },
      take: 2,
    });
    // the same directory id in two enterprises without a corp to tell them apart: refuse to guess
    if (people.length === 1) return { personId: people[0].id, enterpriseId: people[0].enterpriseId, name: people[0].name };
    if (people.length > 1) return null;
  }
  const bound = await db.chatIdentity.findUnique({ where: { platform_externalId: { platform, externalId } }, include: { person: { select: { id: true, enterpriseId: true, name: true, active: true } } } });
  if (!bound || !bound.person.active || (enterpriseId && bound.person.enterpriseId !== enterpriseId)) return null;
  return { personId: bound.person.id, enterpriseId: bound.person.enterpriseId, name: bound.person.name };
}

/** A fresh binding code for a person (an unused, unexpired code is reused rather than multiplied). */
export async function issueBindingCode(db: Db, clock: Clock, personId: number): Promise<{ code: string; expiresAt: Date }> {
  const now = clock.now();
  const existing = await db.bindingCode.findFirst({ where: { personId, usedAt: null, expiresAt: { gt: new Date(now.getTime() + 5 * 60_000) } }, orderBy: { id: 'desc' } });
  if (existing) return { code: existing.code, expiresAt: existing.expiresAt };
  for (let i = 0; i < 20; i++) {
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const clash = await db.bindingCode.count({ where: { code, usedAt: null, expiresAt: { gt: now } } });
    if (clash) continue;
    const expiresAt = new Date(now.getTime() + BINDING_CODE_TTL_MS);
    await db.bindingCode.create({ data: { personId, code, expiresAt, createdAt: now } });
    return { code, expiresAt };
  }
  throw conflict('no_code', '暂时无法生成绑定码，请稍后重试', 'could not allocate a binding code; retry');
}

/**
 * Binding-code tries per chat contact (WeCom userid, DingTalk staffId, WeChat contact, mini-program
 * openid) in any hour. A code has only 6 digits: without a limit one contact could walk the code
 * space and bind itself to whoever holds a live code. A person binds once, so 10 is plenty.
 */
export const BINDING_TRIES_PER_HOUR = 10;

/** The Redis-backed counter of binding-code tries, shared by every process (sliding hour). */
export function bindingTriesGuard(redis: Redis, prefix: string): Throttle {
  return createRedisThrottle(redis, { prefix: `${prefix}:bindtries`, limit: BINDING_TRIES_PER_HOUR, windowMs: 3600_000 });
}

/**
 * Binds a chat contact with a one-time code. Idempotent for the same contact and person.
 * @throws 400 binding_code_invalid (unknown, used or expired), 409 identity_taken (the contact is
 *   already bound to someone else), 429 binding_tries_exceeded (BINDING_TRIES_PER_HOUR from this contact)
 * @param tries bindingTriesGuard(redis, prefix): counts each well-formed try per contact
 */
export async function redeemBindingCode(
  prisma: PrismaClient,
  clock: Clock,
  input: { platform: ChatPlatform; externalId: string; code: string; displayName?: string },
  tries: Throttle,
): Promise<ResolvedPerson> {
  const now = clock.now();
  const code = input.code.replace(/[０-９]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0)).trim();
  if (!/^\d{6}$/.test(code)) throw badRequest('binding_code_invalid', '绑定码应为 6 位数字', 'a binding code has 6 digits');
  // every well-formed try counts, right or wrong (a guesser learns nothing from the order)
  const slot = await tries.reserve(`${input.platform}:${input.externalId}`);
  if (!slot.ok) {
    const min = Math.max(1, Math.ceil(slot.waitMs / 60_000));
    throw new AppError(429, 'binding_tries_exceeded', `绑定码尝试次数过多，请 ${min} 分钟后再试`, `too many binding code tries from this account; retry in ${min} min`, { retryAfterMs: slot.waitMs });
  }
  return prisma.$transaction(async (tx) => {
    const row = await tx.bindingCode.findFirst({ where: { code, usedAt: null, expiresAt: { gt: now } }, include: { person: { select: { id: true, enterpriseId: true, name: true, active: true } } } });
    if (!row || !row.person.active) throw badRequest('binding_code_invalid', '绑定码无效或已过期，请在预警链接页面获取新的绑定码', 'binding code unknown, used or expired');
    const current = await tx.chatIdentity.findUnique({ where: { platform_externalId: { platform: input.platform, externalId: input.externalId } } });
    if (current && current.personId !== row.personId) throw conflict('identity_taken', '该账号已绑定其他人员，请联系管理员', 'this chat account is bound to another person');
    // single use: the WHERE on usedAt makes a concurrent second redemption fail
    const used = await tx.bindingCode.updateMany({ where: { id: row.id, usedAt: null }, data: { usedAt: now, usedByPlatform: input.platform, usedByExternalId: input.externalId } });
    if (used.count === 0) throw badRequest('binding_code_invalid', '绑定码已被使用', 'binding code already used');
    if (!current) {
      await tx.chatIdentity.create({
        data: { enterpriseId: row.person.enterpriseId, personId: row.personId, platform: input.platform, externalId: input.externalId, displayName: input.displayName ? clipChars(input.displayName, 128) : null, via: 'binding_code', boundAt: now },
      });
    }
    return { personId: row.person.id, enterpriseId: row.person.enterpriseId, name: row.person.name };
  });
}
