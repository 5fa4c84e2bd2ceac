/**
 * Pure rules of inspections (隐患排查): check results, abnormal readings against a key parameter's
 * safe range, photo evidence by check means, and how a hazard draft is prefilled from a finding.
 * Source: domain.md "CheckTask", "CheckRecord".
 */

/** CheckRecord.result [0 正常, 1 存在隐患, 2 无需排查] */
export const CHECK_RESULTS = { normal: 0, hazard_found: 1, not_applicable: 2 } as const;
export const CHECK_RESULT_NAMES: Record<number, string> = { 0: '正常', 1: '存在隐患', 2: '无需排查' };

// CHECK_MEANS, photoRequired (拍照 needs ≥ 1 photo) and isAbnormalReading (outside the inclusive
// safe range [min, max]) are shared with the mini-program, which applies them before submitting:
// one definition in miniprogram/shared/contract.ts.
export { CHECK_MEANS, isAbnormalReading, photoRequired, readingState, type ReadingState } from '../../miniprogram/shared/contract';

/** Compact decimal text: 0.2 → "0.2", 85 → "85" (no float noise like 0.30000000000000004). */
export function formatNumber(n: number): string {
  return String(Number(n.toPrecision(12)));
}

/** 「0.2～0.8 MPa」, 「≤ 1 ppm」, 「≥ 15 m³/h」 */
export function safeRangeText(min: number | null, max: number | null, unit: string | null): string {
  const u = unit ? ` ${unit}` : '';
  if (min !== null && max !== null) return `${formatNumber(min)}～${formatNumber(max)}${u}`;
  if (max !== null) return `≤ ${formatNumber(max)}${u}`;
  if (min !== null) return `≥ ${formatNumber(min)}${u}`;
  return '未设定';
}

/** The prefilled name of the hazard draft an abnormal reading offers: 「储罐压力 0.95 MPa 超出安全范围（0.2～0.8 MPa）」 */
export function readingDraftName(paramName: string, value: number, unit: string | null, min: number | null, max: number | null): string {
  return `${paramName} ${formatNumber(value)}${unit ? ` ${unit}` : ''} 超出安全范围（${safeRangeText(min, max, unit)}）`;
}

/**
 * A first guess of hazardDangerType [1 安全 2 工艺 3 电气 4 仪表 5 消防 6 总图 7 设备 8 其他] from the
 * control measure's classification (classify1/classify2, domain.md); the reporter may change it.
 */
export function prefillDangerType(classify1: number | null, classify2: string | null): number {
  switch (classify2) {
    case '1-1':
      return 2; // 工艺控制 → 工艺
    case '1-2':
    case '1-3':
      return 7; // 关键设备/部件, 安全附件 → 设备
    case '1-4':
      return 4; // 安全仪表 → 仪表
    case '4-3':
      return 5; // 消防设施 → 消防
  }
  if (classify1 === 2) return 7; // 维护保养 → 设备
  return 1; // 操作行为, 应急措施, other → 安全
}

/** dangerSrc of a finding from a check task: routine checks (日常排查) — the reporter may refine it. */
export function prefillDangerSrc(): number {
  return 1;
}

/** hazardCategory [0 other, 1/2/3 registered by the 主要/技术/操作负责人]: a 包保 task's workType 1..3. */
export function hazardCategoryOf(workType: number): number {
  return workType >= 1 && workType <= 3 ? workType : 0;
}
