import type { Db } from './db.ts';

/** The ids of the members of each of `groupIds`, sorted; a group without members (or unknown) is absent. */
export async function listMemberIds(db: Db, groupIds: readonly string[]): Promise<Map<string, string[]>> {
  const members = new Map<string, string[]>();
  if (!groupIds.length) return members;
  const rows: { group_id: string; user_id: string }[] = await db('memberships')
    .select('group_id', 'user_id').whereIn('group_id', [...groupIds]).orderBy(['group_id', 'user_id']);
  for (const row of rows) members.set(row.group_id, [...(members.get(row.group_id) ?? []), row.user_id]);
  return members;
}
