import { groupsNamed, type GroupMembers } from '../engine/group-members.ts';
import type { Db } from '../store/db.ts';
import { listMemberIds } from '../store/group-members.ts';

/**
 * The members of the groups a definition asks for (engine/group-members.ts),
 * read for every run of its instances, before the run: whichever command
 * reaches the element (a person completing the step before it, a timer, a
 * message) fills the variable with the memberships as they are then, and
 * saves it in that command's transaction. Undefined, and no query, for the
 * definitions that ask for none.
 */
export async function groupMembersFor(db: Db, def: { id: string; compiled: string }): Promise<GroupMembers | undefined> {
  const groups = groupsNamed(def);
  if (!groups.length) return undefined;
  const found = await listMemberIds(db, groups);
  return Object.fromEntries(groups.map((g) => [g, found.get(g) ?? []]));
}
