/**
 * The identity map (issue #4, item 5; server/services/identity.ts): chat contacts → people by the
 * directory ids on Person, then by bindings made with one-time codes. Real MariaDB, demo plant,
 * manual clock.
 */
import { createTestDb, type TestDb } from '../helpers/db';
import { loadDemoPlant, readDemoData } from '../../prisma/seed';
import { ManualClock } from '../../server/clock';
import { AppError } from '../../server/errors';
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { BINDING_CODE_TTL_MS, BINDING_TRIES_PER_HOUR, bindingTriesGuard, issueBindingCode, redeemBindingCode, resolveChatIdentity } from '../../server/services/identity';
import type { Throttle } from '../../server/channels/throttle';

const T0 = new Date('2026-11-30T04:00:00.000Z');

let db: TestDb;
let clock: ManualClock;
let redis: Redis;
let tries: Throttle;
let e1: number;

const person = async (code: string, enterpriseId = e1) => (await db.prisma.person.findUniqueOrThrow({ where: { enterpriseId_code: { enterpriseId, code } }, select: { id: true } })).id;

async function refusal(p: Promise<unknown>): Promise<{ status: number; code: string; zh: string }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof AppError) return { status: e.status, code: e.code, zh: e.messageZh };
    throw e;
  }
  throw new Error('expected a refusal');
}

beforeAll(async () => {
  redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  db = await createTestDb();
  e1 = (await loadDemoPlant(db.prisma, { now: T0, regulator: false })).enterpriseId;
});
afterAll(async () => {
  await db?.drop();
  redis?.disconnect();
});
beforeEach(async () => {
  clock = new ManualClock(T0.getTime());
  tries = bindingTriesGuard(redis, `dualprev-t-identity-${randomUUID()}`); // a fresh hour of tries per test
  await db.prisma.chatIdentity.deleteMany();
  await db.prisma.bindingCode.deleteMany();
  await db.prisma.person.updateMany({ data: { active: true } });
});

test('directory ids: WeCom userid, DingTalk staffId, each to its person; unknown ids and empty ids to nobody', async () => {
  const p12 = await person('p12');
  expect(await resolveChatIdentity(db.prisma, 'dingtalk', 'dt0012')).toEqual({ personId: p12, enterpriseId: e1, name: '黄涛' });
  expect(await resolveChatIdentity(db.prisma, 'wecom', 'HuangTao')).toEqual({ personId: p12, enterpriseId: e1, name: '黄涛' });
  expect(await resolveChatIdentity(db.prisma, 'dingtalk', 'dt0012', e1)).toMatchObject({ personId: p12 });
  // a DingTalk id is not a WeCom id
  expect(await resolveChatIdentity(db.prisma, 'wecom', 'dt0012')).toBeNull();
  expect(await resolveChatIdentity(db.prisma, 'dingtalk', 'nobody')).toBeNull();
  expect(await resolveChatIdentity(db.prisma, 'dingtalk', '')).toBeNull();
  // wechaty contacts have no directory column: only bindings map them
  expect(await resolveChatIdentity(db.prisma, 'wechat', 'dt0012')).toBeNull();
});

test('binding: a code issued once (reused while fresh), redeemed from a chat → ChatIdentity row, and the contact resolves to the person', async () => {
  const p07 = await person('p07');
  const a = await issueBindingCode(db.prisma, clock, p07);
  expect(a.code).toMatch(/^\d{6}$/);
  expect(a.expiresAt.getTime()).toBe(T0.getTime() + BINDING_CODE_TTL_MS);
  // the page is opened again: the same code, not a second one
  clock.advance(60_000);
  expect((await issueBindingCode(db.prisma, clock, p07)).code).toBe(a.code);
  expect(await db.prisma.bindingCode.count({ where: { personId: p07 } })).toBe(1);

  // full-width digits as typed on a Chinese keyboard
  const fw = a.code.replace(/\d/g, (d) => String.fromCharCode(d.charCodeAt(0) + 0xfee0));
  const r = await redeemBindingCode(db.prisma, clock, { platform: 'wechat', externalId: 'wxid_zhaoxj', code: fw, displayName: '赵小军' }, tries);
  expect(r).toEqual({ personId: p07, enterpriseId: e1, name: '赵小军' });
  const rows = await db.prisma.chatIdentity.findMany();
  expect(rows).toMatchObject([{ platform: 'wechat', externalId: 'wxid_zhaoxj', personId: p07, enterpriseId: e1, via: 'binding_code', displayName: '赵小军' }]);
  expect(await resolveChatIdentity(db.prisma, 'wechat', 'wxid_zhaoxj')).toMatchObject({ personId: p07 });
  // the binding is per platform
  expect(await resolveChatIdentity(db.prisma, 'dingtalk', 'wxid_zhaoxj')).toBeNull();
  const used = await db.prisma.bindingCode.findFirstOrThrow({ where: { personId: p07 } });
  expect(used.usedAt).toEqual(clock.now());
  expect(used).toMatchObject({ usedByPlatform: 'wechat', usedByExternalId: 'wxid_zhaoxj' });

  // once used, the next issue is a new code
  expect((await issueBindingCode(db.prisma, clock, p07)).code).not.toBe(a.code);
  // a second code for the same contact and person: accepted, no second row
  const b = await issueBindingCode(db.prisma, clock, p07);
  await redeemBindingCode(db.prisma, clock, { platform: 'wechat', externalId: 'wxid_zhaoxj', code: b.code }, tries);
  expect(await db.prisma.chatIdentity.count()).toBe(1);
});

test('a used code, an expired code, a malformed code bind nothing', async () => {
  const p08 = await person('p08');
  const { code } = await issueBindingCode(db.prisma, clock, p08);
  await redeemBindingCode(db.prisma, clock, { platform: 'dingtalk', externalId: 'staff-a', code }, tries);
  expect(await refusal(redeemBindingCode(db.prisma, clock, { platform: 'dingtalk', externalId: 'staff-b', code }, tries))).toMatchObject({ status: 400, code: 'binding_code_invalid' });

  const late = await issueBindingCode(db.prisma, clock, await person('p09'));
  clock.advance(BINDING_CODE_TTL_MS + 1);
  expect(await refusal(redeemBindingCode(db.prisma, clock, { platform: 'dingtalk', externalId: 'staff-c', code: late.code }, tries))).toMatchObject({ status: 400, code: 'binding_code_invalid' });

  expect(await refusal(redeemBindingCode(db.prisma, clock, { platform: 'dingtalk', externalId: 'staff-c', code: '12345' }, tries))).toMatchObject({ status: 400, code: 'binding_code_invalid', zh: '绑定码应为 6 位数字' });
  expect(await db.prisma.chatIdentity.findMany({ select: { externalId: true } })).toEqual([{ externalId: 'staff-a' }]);
});

test('an identity bound to one person cannot be taken by another; the other person’s code stays unused', async () => {
  const p07 = await person('p07');
  const p08 = await person('p08');
  await redeemBindingCode(db.prisma, clock, { platform: 'wechat', externalId: 'wxid_shared', code: (await issueBindingCode(db.prisma, clock, p07)).code }, tries);
  const theirs = await issueBindingCode(db.prisma, clock, p08);
  expect(await refusal(redeemBindingCode(db.prisma, clock, { platform: 'wechat', externalId: 'wxid_shared', code: theirs.code }, tries))).toMatchObject({ status: 409, code: 'identity_taken' });
  expect(await resolveChatIdentity(db.prisma, 'wechat', 'wxid_shared')).toMatchObject({ personId: p07 });
  // rolled back: p08 can still use the code from his own account
  expect((await db.prisma.bindingCode.findFirstOrThrow({ where: { code: theirs.code } })).usedAt).toBeNull();
  await redeemBindingCode(db.prisma, clock, { platform: 'wechat', externalId: 'wxid_sunming', code: theirs.code }, tries);
  expect(await resolveChatIdentity(db.prisma, 'wechat', 'wxid_sunming')).toMatchObject({ personId: p08 });
});

test('an inactive person: neither the directory id nor a binding resolves, and their codes do not bind', async () => {
  const p11 = await person('p11');
  await redeemBindingCode(db.prisma, clock, { platform: 'wechat', externalId: 'wxid_zw', code: (await issueBindingCode(db.prisma, clock, p11)).code }, tries);
  const pending = await issueBindingCode(db.prisma, clock, p11);
  await db.prisma.person.update({ where: { id: p11 }, data: { active: false } });
  expect(await resolveChatIdentity(db.prisma, 'dingtalk', 'dt0011')).toBeNull();
  expect(await resolveChatIdentity(db.prisma, 'wecom', 'ZhangWei')).toBeNull();
  expect(await resolveChatIdentity(db.prisma, 'wechat', 'wxid_zw')).toBeNull();
  expect(await refusal(redeemBindingCode(db.prisma, clock, { platform: 'dingtalk', externalId: 'staff-zw', code: pending.code }, tries))).toMatchObject({ status: 400, code: 'binding_code_invalid' });
  expect(await db.prisma.chatIdentity.count({ where: { externalId: 'staff-zw' } })).toBe(0);
});

describe('two enterprises with the same directory ids', () => {
  let e2: number;
  beforeAll(async () => {
    const d = readDemoData();
    e2 = (await loadDemoPlant(db.prisma, { now: T0, regulator: false, data: { ...d, enterprise: { ...d.enterprise, companyCode: '320411999', name: '第二示范化工（演示）' } } })).enterpriseId;
  });

  test('without an enterprise filter the id resolves to nobody (no guessing); with it, to that enterprise’s person', async () => {
    expect(await resolveChatIdentity(db.prisma, 'dingtalk', 'dt0012')).toBeNull();
    expect(await resolveChatIdentity(db.prisma, 'wecom', 'HuangTao')).toBeNull();
    expect(await resolveChatIdentity(db.prisma, 'dingtalk', 'dt0012', e1)).toMatchObject({ personId: await person('p12', e1), enterpriseId: e1 });
    expect(await resolveChatIdentity(db.prisma, 'dingtalk', 'dt0012', e2)).toMatchObject({ personId: await person('p12', e2), enterpriseId: e2 });
  });

  test('a binding belongs to its person’s enterprise: not resolved under the other one', async () => {
    const p05e2 = await person('p05', e2);
    await redeemBindingCode(db.prisma, clock, { platform: 'wechat', externalId: 'wxid_czq', code: (await issueBindingCode(db.prisma, clock, p05e2)).code }, tries);
    expect(await resolveChatIdentity(db.prisma, 'wechat', 'wxid_czq')).toMatchObject({ personId: p05e2, enterpriseId: e2 });
    expect(await resolveChatIdentity(db.prisma, 'wechat', 'wxid_czq', e2)).toMatchObject({ personId: p05e2 });
    expect(await resolveChatIdentity(db.prisma, 'wechat', 'wxid_czq', e1)).toBeNull();
    expect((await db.prisma.chatIdentity.findFirstOrThrow({ where: { externalId: 'wxid_czq' } })).enterpriseId).toBe(e2);
  });
});

// 6 digits are 10^6 codes: one contact trying them all would sooner or later hit a live code and
// become whoever it belongs to; each contact gets BINDING_TRIES_PER_HOUR tries, right or wrong
test('binding-code guessing: the 11th try from one contact within the hour is refused (429) even with the right code; another contact is not held up', async () => {
  const p07 = await person('p07');
  const { code } = await issueBindingCode(db.prisma, clock, p07);
  const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
  for (let i = 0; i < BINDING_TRIES_PER_HOUR; i++) {
    expect(await refusal(redeemBindingCode(db.prisma, clock, { platform: 'wechat', externalId: 'wxid_guesser', code: wrong }, tries))).toMatchObject({ status: 400, code: 'binding_code_invalid' });
  }
  const r = await refusal(redeemBindingCode(db.prisma, clock, { platform: 'wechat', externalId: 'wxid_guesser', code }, tries));
  expect(r).toMatchObject({ status: 429, code: 'binding_tries_exceeded' });
  expect(r.zh).toMatch(/请 \d+ 分钟后再试/);
  expect(await db.prisma.chatIdentity.count()).toBe(0);
  expect((await db.prisma.bindingCode.findFirstOrThrow({ where: { code } })).usedAt).toBeNull();
  // another contact is not held up by the guesser
  expect(await redeemBindingCode(db.prisma, clock, { platform: 'wechat', externalId: 'wxid_zhaoxj', code }, tries)).toMatchObject({ personId: p07 });
});
