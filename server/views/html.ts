/** Tiny HTML helpers for the few server-rendered pages (ack page, outbox viewer). Everything is escaped. */

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and attribute values. */
export function esc(v: unknown): string {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ESC[c]);
}

/** A mobile-first page: large touch targets (gloves), readable on a phone in a tank farm. */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${esc(title)}</title>
<style>
body{font-family:-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;padding:12px;background:#f4f5f7;color:#1f2329;font-size:16px}
h1{font-size:20px;margin:8px 0 12px} h2{font-size:17px;margin:16px 0 8px}
.card{background:#fff;border-radius:8px;padding:12px 14px;margin:0 0 12px;box-shadow:0 1px 2px rgba(0,0,0,.06)}
.muted{color:#646a73;font-size:14px} .bad{color:#d83931} .ok{color:#2ea121} .warn{color:#de7802}
button{font-size:18px;padding:14px 0;width:100%;border:0;border-radius:8px;margin:6px 0;color:#fff;background:#3370ff}
button.secondary{background:#de7802} textarea{width:100%;box-sizing:border-box;font-size:16px;min-height:72px;padding:8px}
table{border-collapse:collapse;width:100%;font-size:14px} td,th{border-bottom:1px solid #e5e6eb;padding:6px 4px;text-align:left;vertical-align:top}
pre{white-space:pre-wrap;word-break:break-all;font-size:13px;margin:0}
.tag{display:inline-block;padding:1px 6px;border-radius:4px;background:#e1eaff;font-size:13px;margin-right:4px}
</style></head><body>${body}</body></html>`;
}
