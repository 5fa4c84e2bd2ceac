/**
 * DingTalk enterprise-internal app robot, HTTP callback mode (protocols.md §3.2;
 * https://open.dingtalk.com/document/dingstart/robot-receive-message):
 *
 * POST /dingtalk/callback   headers `timestamp` (ms) + `sign`; JSON body = one robot message.
 *
 * Answers:
 * - 200 `{"msgtype":"empty"}` when the message was handled, or acknowledged and ignored (a replay,
 *   a retry of a message already handled, an over-quota notice). The reply to the person is sent
 *   separately (session webhook or OpenAPI, services/dingtalk-robot.ts), so the body says "no reply
 *   here" and DingTalk does not post anything twice.
 * - 401 `bad_signature` / `stale_timestamp` / `missing_signature`: nothing is read or changed.
 * - 404 `dingtalk_not_configured` when DINGTALK_APP_KEY/SECRET are not set (like the WeCom callback:
 *   the route does not exist here; a 503 would say "try again later").
 */
import Router from '@koa/router';
import type { AppDeps } from '../app';
import { AppError } from '../errors';

const REJECTIONS: Record<string, [string, string]> = {
  missing_signature: ['缺少签名', 'missing timestamp/sign headers'],
  stale_timestamp: ['时间戳超出有效期（1 小时）', 'timestamp outside the 1 h window'],
  bad_signature: ['签名校验失败', 'signature mismatch'],
};

export function dingtalkRoutes(deps: AppDeps): Router {
  const r = new Router();
  r.post('/dingtalk/callback', async (ctx) => {
    const robot = deps.dingtalk;
    if (!robot) throw new AppError(404, 'dingtalk_not_configured', '未配置钉钉应用机器人', 'DingTalk app robot not configured (DINGTALK_APP_KEY/SECRET)');
    const result = await robot.handleCallback({ timestamp: ctx.get('timestamp') || undefined, sign: ctx.get('sign') || undefined }, ctx.request.body);
    if (result.status === 'rejected') {
      const [zh, en] = REJECTIONS[result.reason] ?? ['请求无效', 'rejected'];
      throw new AppError(401, result.reason, zh, en);
    }
    ctx.body = { msgtype: 'empty' };
  });
  return r;
}
