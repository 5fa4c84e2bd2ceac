/**
 * Roles a person can hold (Person.roles) and the recipient roles escalation policies name.
 *
 * Person roles (permissions; issue 3 completes the permission table) and organisational duties
 * used to find people: 主要负责人 (principal), 技术负责人 (technical_head), 安全总监
 * (safety_director), 安全管理部门 (safety_dept).
 */
export const PERSON_ROLES = [
  'frontline',
  'post_leader',
  'department_head',
  'safety_dept',
  'safety_director',
  'principal',
  'technical_head',
  'operational_head',
  'enterprise_admin',
  'regulator',
] as const;
export type PersonRole = (typeof PERSON_ROLES)[number];

/**
 * Whom an escalation level names. Resolved per alert subject by server/services/recipients.ts:
 * - assignee: the task's person, else everyone on the task's post (task alerts); the rectifier (hazards)
 * - post_leader: people on the leader post of the task's post (班长)
 * - department_head: the risk unit's head, else the head of the unit's (or post's) department
 * - rectifier / acceptor / reporter: the hazard's people
 * - mhs_responsible: the three 包保责任人 of the subject's 重大危险源
 * - principal: the 重大危险源's 主要负责人 when the subject belongs to one, else people with role principal
 * - technical_head: likewise with the 技术负责人
 * - safety_dept / safety_director: people holding that role
 */
export const RECIPIENT_ROLES = [
  'assignee',
  'post_leader',
  'department_head',
  'rectifier',
  'acceptor',
  'reporter',
  'mhs_responsible',
  'principal',
  'technical_head',
  'safety_dept',
  'safety_director',
] as const;
export type RecipientRole = (typeof RECIPIENT_ROLES)[number];

/** 中文 names for messages and pages. */
export const RECIPIENT_ROLE_NAMES: Record<RecipientRole, string> = {
  assignee: '排查责任人',
  post_leader: '班组长',
  department_head: '部门负责人',
  rectifier: '整改责任人',
  acceptor: '验收人',
  reporter: '上报人',
  mhs_responsible: '包保责任人',
  principal: '主要负责人',
  technical_head: '技术负责人',
  safety_dept: '安全管理部门',
  safety_director: '安全总监',
};
