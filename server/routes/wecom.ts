/**
 * The WeCom self-built app's callback URL (接收消息服务器配置,
 * https://developer.work.weixin.qq.com/document/path/90930): `<PUBLIC_URL>/wecom/callback`.
 *
 * GET  /wecom/callback?msg_signature&timestamp&nonce&echostr   URL verification → 200, the plaintext
 * POST /wecom/callback?msg_signature&timestamp&nonce           encrypted XML message/event → 200, empty
 *
 * Everything is decided in server/services/wecom-callback.ts (authentication, replay) and
 * wecom-inbound.ts (acting); this module only moves bytes. 404 `wecom_not_configured` when
 * WECOM_CALLBACK_TOKEN / WECOM_ENCODING_AES_KEY are not set.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { AppDeps } from '../app';
import { AppError } from '../errors';
import { WECOM_XML_MAX_BYTES } from '../services/wecom-crypto';
import type { CallbackReply } from '../services/wecom-callback';

export const WECOM_CALLBACK_PATH = '/wecom/callback';

function notConfigured(): AppError {
  return new AppError(404, 'wecom_not_configured', '未配置企业微信应用回调（WECOM_CALLBACK_TOKEN / WECOM_ENCODING_AES_KEY）', 'the WeCom app callback is not configured');
}

function answer(ctx: Context, r: CallbackReply): void {
  ctx.status = r.status;
  if ('text' in r) {
    // exactly the plaintext: no quotes, BOM or trailing newline (doc 90930)
    ctx.type = 'text/plain; charset=utf-8';
    ctx.body = r.text;
  } else {
    ctx.body = r.error;
  }
}

/** The raw request body (what the body parser kept, else read here), at most {@link WECOM_XML_MAX_BYTES}. */
async function rawBody(ctx: Context): Promise<string> {
  const kept = (ctx.request as { rawBody?: unknown }).rawBody;
  if (typeof kept === 'string') return kept;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    size += b.length;
    if (size > WECOM_XML_MAX_BYTES) throw new AppError(413, 'payload_too_large', '请求内容过大', `body over ${WECOM_XML_MAX_BYTES} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function wecomRoutes(deps: AppDeps): Router {
  const r = new Router();
  r.get(WECOM_CALLBACK_PATH, (ctx) => {
    if (!deps.wecom) throw notConfigured();
    answer(ctx, deps.wecom.verifyUrl(ctx.querystring));
  });
  r.post(WECOM_CALLBACK_PATH, async (ctx) => {
    if (!deps.wecom) throw notConfigured();
    answer(ctx, await deps.wecom.receive(ctx.querystring, await rawBody(ctx)));
  });
  return r;
}
