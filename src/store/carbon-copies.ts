import type { Db } from './db.ts';
import { countOf } from './paging.ts';

/** One copy of an instance to one person (抄送), as "抄送我的" lists it. */
export interface CarbonCopyRow {
  id: string;
  process_instance_id: string;
  task_id: string;
  activity_id: string;
  user_id: string;
  from_user_id: string;
  message: string | null;
  created_at: Date;
  read_at: Date | null;
}

/** A listed copy, with what its instance is. */
export interface ListedCarbonCopy extends CarbonCopyRow {
  definition_key: string;
  definition_name: string | null;
  business_key: string | null;
}

export type NewCarbonCopy = Omit<CarbonCopyRow, 'read_at'>;

/**
 * Writes copies; one for an (instance, task, recipient) already copied is
 * left as it was. Returns the recipients newly copied, so only they are told.
 */
export async function insertCarbonCopies(db: Db, rows: NewCarbonCopy[]): Promise<string[]> {
  if (!rows.length) return [];
  const inserted: { user_id: string }[] = await db('carbon_copies').insert(rows)
    .onConflict(['process_instance_id', 'task_id', 'user_id']).ignore().returning('user_id');
  return inserted.map((r) => r.user_id);
}

function whereOwn(db: Db, userId: string, unread: boolean | undefined) {
  const q = db('carbon_copies as c').where('c.user_id', userId);
  if (unread === true) q.whereNull('c.read_at');
  if (unread === false) q.whereNotNull('c.read_at');
  return q;
}

/** A user's copies, newest first, with their instances' definition and business key. */
export async function listCarbonCopies(db: Db, q: { userId: string; unread?: boolean | undefined; firstResult: number; maxResults: number }): Promise<ListedCarbonCopy[]> {
  return whereOwn(db, q.userId, q.unread)
    .join('process_instances as i', 'i.id', 'c.process_instance_id')
    .leftJoin('process_definitions as d', 'd.id', 'i.definition_id')
    .select('c.*', 'i.definition_key', 'i.business_key', 'd.name as definition_name')
    .orderBy([{ column: 'c.created_at', order: 'desc' }, { column: 'c.id', order: 'desc' }])
    .offset(q.firstResult).limit(q.maxResults);
}

export async function countCarbonCopies(db: Db, q: { userId: string; unread?: boolean | undefined }): Promise<number> {
  return countOf(whereOwn(db, q.userId, q.unread));
}

/** Marks one of `userId`'s copies read (once); its instance, or undefined when it is not theirs or does not exist. */
export async function markCarbonCopyRead(db: Db, userId: string, id: string, at: Date): Promise<string | undefined> {
  const found: { process_instance_id: string } | undefined = await db('carbon_copies').where({ id, user_id: userId }).first('process_instance_id');
  if (!found) return undefined;
  await db('carbon_copies').where({ id, user_id: userId }).whereNull('read_at').update({ read_at: at });
  return found.process_instance_id;
}

/** Which of `ids` are users; and which of `groupIds` are groups. */
export async function findKnown(db: Db, userIds: readonly string[], groupIds: readonly string[]): Promise<{ users: Set<string>; groups: Set<string> }> {
  const users = userIds.length ? (await db('users').whereIn('id', [...userIds]).select<{ id: string }[]>('id')).map((r) => r.id) : [];
  const groups = groupIds.length ? (await db('groups').whereIn('id', [...groupIds]).select<{ id: string }[]>('id')).map((r) => r.id) : [];
  return { users: new Set(users), groups: new Set(groups) };
}
