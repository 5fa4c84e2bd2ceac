/**
 * QR labels of risk units (风险分析单元), to stick on site: scanning one in the mini-program picks
 * that unit as the place of a hazard report (issue #5 item 5).
 *
 * - What a label encodes: `dualprev:unit:<companyCode>:<unitCode>` (miniprogram/shared/contract.ts
 *   unitQrText — the phone and the server share it). Codes, not ids: a label printed today still
 *   works after the lists are exported and imported elsewhere, and it tells a person which plant
 *   and unit it is for. A label of another enterprise, or a unit since deleted, resolves to 404
 *   `qr_unknown` — never to a unit of another plant.
 * - Sheets: A4, 3 × 4 labels per page (≈ 63 × 68 mm each, cut lines dashed), each with the QR
 *   (error correction M: survives some dirt and glare), the unit name, its risk object and code
 *   and the enterprise. HTML (print from a browser, `@media print` hides the toolbar) and PDF.
 * - PDF text: Noto Sans Hans (npm @embedpdf/fonts-sc, OFL-1.1, shipped in the package — no
 *   download, no system fonts needed; the host has no CJK font) is embedded as a subset by pdfkit.
 *   It covers GB 2312 (6,763 hanzi): a rarer character (e.g. in a person's name) is printed as
 *   `?` — the QR code and the unit code on the label are unaffected. The QR is drawn as vector
 *   squares (sharp at any printer resolution).
 */
import path from 'node:path';
import { readFileSync } from 'node:fs';
import PDFDocument from 'pdfkit';
import QRCode from 'qrcode';
import type { Prisma, PrismaClient } from '../db';
import { AppError } from '../errors';
import type { Actor } from './alert-actions';
import { esc } from '../views/html';
import { parseUnitQr, unitQrText } from '../../miniprogram/shared/contract';

/** A4 in PDF points (1/72 in). */
const A4 = { w: 595.28, h: 841.89 };
const MARGIN = 28;
const COLS = 3;
const ROWS = 4;
/** At most this many labels per request (a plant has hundreds of units; 100 pages is plenty). */
export const MAX_LABELS = 1200;

export interface LabelUnit {
  id: number;
  code: string;
  name: string;
  riskObject: { id: number; code: string; name: string };
  department: string | null;
  qrText: string;
}

export interface LabelSheet {
  enterprise: { companyCode: string; name: string };
  units: LabelUnit[];
}

/**
 * The units to print for the actor's enterprise, in code order.
 * @param q.ids only these units; q.riskObjectId only units of that object
 * @throws AppError 404 risk_unit_not_found (details.ids) when an asked-for id is not a unit of the
 *   actor's enterprise — a sheet silently missing a label (or a blank page) would be printed as complete
 */
export async function labelSheet(prisma: PrismaClient, actor: Actor, q: { ids?: number[]; riskObjectId?: number } = {}): Promise<LabelSheet> {
  const ent = await prisma.enterprise.findUniqueOrThrow({ where: { id: actor.enterpriseId }, select: { companyCode: true, name: true } });
  const where: Prisma.RiskUnitWhereInput = {
    enterpriseId: actor.enterpriseId,
    ...(q.ids?.length ? { id: { in: q.ids } } : {}),
    ...(q.riskObjectId !== undefined ? { riskObjectId: q.riskObjectId } : {}),
  };
  const rows = await prisma.riskUnit.findMany({
    where,
    include: { riskObject: { select: { id: true, code: true, name: true } }, department: { select: { name: true } } },
    orderBy: [{ code: 'asc' }, { id: 'asc' }],
    take: MAX_LABELS,
  });
  if (q.ids?.length) {
    const have = new Set(rows.map((u) => u.id));
    const missing = [...new Set(q.ids)].filter((id) => !have.has(id));
    if (missing.length) throw new AppError(404, 'risk_unit_not_found', `风险单元不存在：${missing.join('、')}`, `no such risk unit: ${missing.join(', ')}`, { ids: missing });
  }
  return {
    enterprise: ent,
    units: rows.map((u) => ({ id: u.id, code: u.code, name: u.name, riskObject: u.riskObject, department: u.department?.name ?? null, qrText: unitQrText(ent.companyCode, u.code) })),
  };
}

/** The printable HTML sheet: one `<svg>` QR per unit, A4 pages of 3 × 4 labels. */
export async function labelsHtml(sheet: LabelSheet): Promise<string> {
  const labels = await Promise.all(
    sheet.units.map(async (u) => {
      const svg = await QRCode.toString(u.qrText, { type: 'svg', errorCorrectionLevel: 'M', margin: 1 });
      return `<div class="label" data-unit-id="${u.id}">
  <div class="qr" role="img" aria-label="${esc(u.qrText)}">${svg}</div>
  <div class="name">${esc(u.name)}</div>
  <div class="meta">${esc(u.riskObject.name)}</div>
  <div class="meta code">单元编码 ${esc(u.code)}</div>
  <div class="ent">${esc(sheet.enterprise.name)}</div>
</div>`;
    }),
  );
  const title = `${sheet.enterprise.name} 风险分析单元二维码标签`;
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title>
<style>
@page{size:A4;margin:10mm}
*{box-sizing:border-box}
body{font-family:"PingFang SC","Microsoft YaHei","Noto Sans CJK SC","Source Han Sans SC",sans-serif;margin:0;color:#000;background:#f4f5f7}
.bar{padding:12px 16px;background:#fff;border-bottom:1px solid #ddd;font-size:15px}
.bar button{font-size:16px;padding:8px 20px;margin-left:12px}
.sheet{display:grid;grid-template-columns:repeat(3,63mm);grid-auto-rows:68mm;gap:0;justify-content:center;padding:10mm 0;background:#fff;width:210mm;margin:12px auto}
.label{border:1px dashed #999;padding:3mm;display:flex;flex-direction:column;align-items:center;text-align:center;overflow:hidden;break-inside:avoid;page-break-inside:avoid}
.qr{width:40mm;height:40mm}.qr svg{width:100%;height:100%;display:block}
.name{font-size:12pt;font-weight:bold;margin-top:1.5mm;line-height:1.2;max-height:2.4em;overflow:hidden}
.meta{font-size:8.5pt;color:#333;line-height:1.3}.code{font-family:monospace,monospace}
.ent{font-size:7pt;color:#666;margin-top:auto}
@media print{body{background:#fff}.bar{display:none}.sheet{margin:0;padding:0;width:auto}.label:nth-child(12n){break-after:page;page-break-after:always}}
</style></head><body>
<div class="bar">${esc(title)}：共 ${sheet.units.length} 张，A4 每页 12 张，沿虚线裁剪后贴于现场。<button onclick="window.print()">打印</button></div>
<div class="sheet">
${labels.join('\n')}
</div>
</body></html>`;
}

let fontCache: Buffer | null = null;
/** Noto Sans Hans Regular from @embedpdf/fonts-sc (read once, ~8 MB; only the glyphs used are embedded). */
function cjkFont(): Buffer {
  if (!fontCache) fontCache = readFileSync(path.join(path.dirname(require.resolve('@embedpdf/fonts-sc')), '..', 'fonts', 'NotoSansHans-Regular.otf'));
  return fontCache;
}

/** Draws a QR as vector squares (runs of dark modules merged per row). */
function drawQr(doc: PDFKit.PDFDocument, text: string, x: number, y: number, size: number): void {
  const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const n = qr.modules.size;
  const quiet = 1;
  const s = size / (n + 2 * quiet);
  for (let r = 0; r < n; r++) {
    let c = 0;
    while (c < n) {
      if (!qr.modules.get(r, c)) {
        c++;
        continue;
      }
      const start = c;
      while (c < n && qr.modules.get(r, c)) c++;
      doc.rect(x + (quiet + start) * s, y + (quiet + r) * s, (c - start) * s + 0.01, s + 0.01);
    }
  }
  doc.fill('#000000');
}

/**
 * The same sheet as a PDF (A4, 3 × 4 labels per page, Chinese text embedded).
 * @returns the PDF bytes (starts with `%PDF`)
 */
export async function labelsPdf(sheet: LabelSheet): Promise<Buffer> {
  const doc = new PDFDocument({ size: 'A4', margin: 0, autoFirstPage: false, info: { Title: `${sheet.enterprise.name} 风险分析单元二维码标签`, Creator: 'dualprev' } });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve, reject) => {
    doc.on('end', () => resolve());
    doc.on('error', reject);
  });
  doc.registerFont('cjk', cjkFont());
  doc.font('cjk');
  // a character the font lacks would print as an empty box: show `?` instead (module comment)
  const font = (doc as unknown as { _font?: { font?: { hasGlyphForCodePoint?(cp: number): boolean } } })._font?.font;
  const printable = (s: string) => (font?.hasGlyphForCodePoint ? [...s].map((ch) => (/\s/.test(ch) || font.hasGlyphForCodePoint!(ch.codePointAt(0)!) ? ch : '?')).join('') : s);

  const cellW = (A4.w - 2 * MARGIN) / COLS;
  const cellH = (A4.h - 2 * MARGIN) / ROWS;
  const qrSize = Math.min(cellW, cellH) * 0.62;
  const perPage = COLS * ROWS;
  if (sheet.units.length === 0) {
    doc.addPage();
    doc.fontSize(14).fillColor('#000').text(printable(`${sheet.enterprise.name}：没有风险分析单元`), MARGIN, MARGIN);
  }
  sheet.units.forEach((u, i) => {
    if (i % perPage === 0) doc.addPage();
    const col = (i % perPage) % COLS;
    const row = Math.floor((i % perPage) / COLS);
    const x = MARGIN + col * cellW;
    const y = MARGIN + row * cellH;
    doc.save().lineWidth(0.5).dash(3, { space: 3 }).strokeColor('#999999').rect(x, y, cellW, cellH).stroke().restore();
    drawQr(doc, u.qrText, x + (cellW - qrSize) / 2, y + 8, qrSize);
    const textX = x + 8;
    const textW = cellW - 16;
    let ty = y + 8 + qrSize + 4;
    // at most two lines of name (a long one ends in …)
    doc.fillColor('#000000').fontSize(11.5).text(printable(u.name), textX, ty, { width: textW, align: 'center', height: 34, ellipsis: true });
    ty += 35;
    doc.fontSize(8).fillColor('#333333').text(printable(u.riskObject.name), textX, ty, { width: textW, align: 'center', height: 11, ellipsis: true });
    ty += 12;
    doc.text(printable(`单元编码 ${u.code}`), textX, ty, { width: textW, align: 'center', height: 11, ellipsis: true });
    doc.fontSize(6.5).fillColor('#666666').text(printable(sheet.enterprise.name), textX, y + cellH - 14, { width: textW, align: 'center', height: 9, ellipsis: true });
  });
  doc.end();
  await done;
  return Buffer.concat(chunks);
}

/**
 * GET /risk-units/by-qr: the unit a scanned label names, in the actor's enterprise, with what the
 * phone shows next (its risk object and control measures).
 * @throws 404 qr_unknown (not one of our labels, another enterprise's, or the unit no longer exists)
 */
export async function unitByQr(prisma: PrismaClient, actor: Actor, text: string) {
  const unknown = new AppError(404, 'qr_unknown', '无法识别该二维码：不是本企业的风险单元标签', 'not a risk-unit label of this enterprise');
  const parsed = parseUnitQr(text);
  if (!parsed) throw unknown;
  const ent = await prisma.enterprise.findUnique({ where: { id: actor.enterpriseId }, select: { companyCode: true } });
  if (!ent || ent.companyCode !== parsed.companyCode) throw unknown;
  const u = await prisma.riskUnit.findUnique({
    where: { enterpriseId_code: { enterpriseId: actor.enterpriseId, code: parsed.unitCode } },
    include: {
      riskObject: { select: { id: true, code: true, name: true } },
      department: { select: { id: true, name: true } },
      head: { select: { id: true, name: true } },
      riskEvents: {
        orderBy: { code: 'asc' },
        include: { controlMeasures: { orderBy: { code: 'asc' }, select: { id: true, code: true, description: true, paramName: true, paramUnit: true, paramMin: true, paramMax: true } } },
      },
    },
  });
  if (!u) throw unknown;
  const num = (d: { toString(): string } | null) => (d === null ? null : Number(d.toString()));
  return {
    id: u.id,
    code: u.code,
    name: u.name,
    riskObject: u.riskObject,
    department: u.department,
    head: u.head,
    controlMeasures: u.riskEvents.flatMap((e) =>
      e.controlMeasures.map((m) => ({
        id: m.id,
        code: m.code,
        description: m.description,
        riskEvent: { id: e.id, name: e.name },
        parameter: m.paramName ? { name: m.paramName, unit: m.paramUnit, min: num(m.paramMin), max: num(m.paramMax) } : null,
      })),
    ),
  };
}
