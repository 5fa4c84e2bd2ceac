/**
 * The organisation questions services ask: is A a superior of B? An enterprise's posts and
 * departments are small tables, loaded together and walked in memory.
 */
import type { Prisma } from '../db';

type Tx = Prisma.TransactionClient;

export interface OrgSnapshot {
  postLeader: Map<number, number | null>;
  deptParent: Map<number, number | null>;
  deptHead: Map<number, number | null>;
  personPost: Map<number, number | null>;
  personDept: Map<number, number | null>;
}

export async function loadOrg(tx: Tx, enterpriseId: number): Promise<OrgSnapshot> {
  const [posts, depts, people] = await Promise.all([
    tx.post.findMany({ where: { enterpriseId }, select: { id: true, leaderPostId: true } }),
    tx.department.findMany({ where: { enterpriseId }, select: { id: true, parentId: true, headPersonId: true } }),
    tx.person.findMany({ where: { enterpriseId }, select: { id: true, postId: true, departmentId: true } }),
  ]);
  return {
    postLeader: new Map(posts.map((p) => [p.id, p.leaderPostId])),
    deptParent: new Map(depts.map((d) => [d.id, d.parentId])),
    deptHead: new Map(depts.map((d) => [d.id, d.headPersonId])),
    personPost: new Map(people.map((p) => [p.id, p.postId])),
    personDept: new Map(people.map((p) => [p.id, p.departmentId])),
  };
}

/**
 * True when `actorId` leads `personId`: the actor's post is on the leader-post chain above the
 * person's post, or the actor heads the person's department or one above it.
 */
export function isSuperiorOf(org: OrgSnapshot, actorId: number, personId: number): boolean {
  if (actorId === personId) return false;
  const actorPost = org.personPost.get(actorId) ?? null;
  let post = org.personPost.get(personId) ?? null;
  for (let i = 0; post !== null && i < 20; i++) {
    post = org.postLeader.get(post) ?? null;
    if (post !== null && post === actorPost) return true;
  }
  let dept = org.personDept.get(personId) ?? null;
  for (let i = 0; dept !== null && i < 20; i++) {
    if (org.deptHead.get(dept) === actorId) return true;
    dept = org.deptParent.get(dept) ?? null;
  }
  return false;
}
