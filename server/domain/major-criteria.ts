/**
 * The 20 situations that make a hazard a 重大事故隐患 (dangerLevel 1) in a chemical or hazardous-
 * chemical enterprise, after 《化工和危险化学品生产经营单位重大生产安全事故隐患判定标准（试行）》
 * (安监总管三〔2017〕121号, reaffirmed 2023). Short paraphrases for pick lists and messages —
 * the standard's own wording governs; store the number (Hazard.majorCriterion), never the text.
 *
 * A hazard linked to any of them is level 1 (重大隐患) and needs a 治理方案 before it is confirmed.
 */
export const MAJOR_CRITERIA: Readonly<Record<number, string>> = {
  1: '主要负责人或安全管理人员未经考核合格',
  2: '特种作业人员无证上岗',
  3: '“两重点一重大”装置或储存设施的外部安全防护距离不达标',
  4: '重点监管危险化工工艺装置未实现自动化控制或紧急停车，或相关系统未投用',
  5: '一、二级重大危险源罐区无紧急切断；涉毒性、液化气体或剧毒液体的一、二级罐区无独立安全仪表系统',
  6: '全压力式液化烃储罐未按标准设注水措施',
  7: '液化烃、液氨、液氯等液化气体充装未用万向管道充装系统',
  8: '光气、氯气等剧毒气体或硫化氢管道穿越厂区（园区）外公共区域',
  9: '地区架空电力线路穿越生产区且不符合标准',
  10: '在役化工装置未经正规设计，也未做安全设计诊断',
  11: '仍在使用列入淘汰目录的落后工艺或设备',
  12: '可燃、有毒气体可能泄漏处未设检测报警，或爆炸危险场所未用防爆电气',
  13: '控制室或机柜间朝向火灾爆炸危险装置一侧不满足防火防爆要求',
  14: '生产装置无双重电源，或自动化控制系统无不间断电源',
  15: '安全阀、爆破片等安全附件未正常投用',
  16: '无与岗位匹配的全员安全生产责任制，或未制定实施隐患排查治理制度',
  17: '没有操作规程或工艺控制指标',
  18: '动火、受限空间等特殊作业管理制度缺失或未有效执行',
  19: '新工艺未经小试、中试、工业化试验即投产，首次使用工艺未经安全可靠性论证，新装置无试生产方案投料，或精细化工未做反应安全风险评估',
  20: '危险化学品未按标准分区分类储存、超量超品种储存，或禁配物质混存',
};

export const MAJOR_CRITERION_MIN = 1;
export const MAJOR_CRITERION_MAX = 20;

export function isMajorCriterion(n: unknown): n is number {
  return Number.isInteger(n) && (n as number) >= MAJOR_CRITERION_MIN && (n as number) <= MAJOR_CRITERION_MAX;
}
