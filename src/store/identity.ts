import type { Db } from './db.ts';
import { countOf, paged, type Page } from './paging.ts';
import { rethrowUnique } from './errors.ts';

export interface UserRow {
  id: string;
  first_name: string | null;
  last_name: string | null;
  email: string | null;
  password_hash: string;
}

export interface GroupRow {
  id: string;
  name: string | null;
  type: string | null;
}

export async function insertUser(db: Db, row: UserRow): Promise<void> {
  try {
    await db('users').insert(row);
  } catch (err) {
    rethrowUnique(err, `用户已存在 / user ${row.id} already exists`);
  }
}

export async function findUser(db: Db, id: string): Promise<UserRow | undefined> {
  return db('users').where({ id }).first();
}

/** Replaces a user's password hash; false when there is no such user. */
export async function updatePasswordHash(db: Db, id: string, passwordHash: string): Promise<boolean> {
  return (await db('users').where({ id }).update({ password_hash: passwordHash })) > 0;
}

/**
 * A user's stored password hash, its row held until the transaction ends:
 * a password change (an update of that row) and the issue of a token on the
 * old password are thereby ordered one after the other.
 */
export async function lockPasswordHash(db: Db, id: string): Promise<string | undefined> {
  const row = await db('users').select('password_hash').where({ id }).forShare().first();
  return row?.password_hash;
}

export async function countUsers(db: Db): Promise<number> {
  return countOf(db('users'));
}

/** A user with the ids of their groups, in one round trip (this runs on every request). */
export async function findUserWithGroups(db: Db, id: string): Promise<(UserRow & { groups: string[] }) | undefined> {
  const row = await db('users as u')
    .select('u.*', db.raw(`coalesce(array_agg(m.group_id) filter (where m.group_id is not null), '{}') as groups`))
    .leftJoin('memberships as m', 'm.user_id', 'u.id')
    .where('u.id', id)
    .groupBy('u.id')
    .first();
  return row;
}

/** Camunda's user sortBy values and their columns. */
export const USER_SORT = { userId: 'u.id', firstName: 'u.first_name', lastName: 'u.last_name', email: 'u.email' } as const;

export async function listUsers(db: Db, query: Page & { id?: string | undefined; memberOfGroup?: string | undefined }): Promise<UserRow[]> {
  const q = db('users as u').select('u.id', 'u.first_name', 'u.last_name', 'u.email');
  if (query.id) q.where('u.id', query.id);
  if (query.memberOfGroup) q.whereExists((s) => s.select(db.raw('1')).from('memberships as m').whereRaw('m.user_id = u.id').andWhere('m.group_id', query.memberOfGroup!));
  return paged(q, query, [], 'u.id');
}

export async function insertGroup(db: Db, row: GroupRow): Promise<void> {
  try {
    await db('groups').insert(row);
  } catch (err) {
    rethrowUnique(err, `组已存在 / group ${row.id} already exists`);
  }
}

/** Creates the group unless it exists (first start, role groups). */
export async function ensureGroup(db: Db, row: GroupRow): Promise<void> {
  await db('groups').insert(row).onConflict('id').ignore();
}

export async function findGroup(db: Db, id: string): Promise<GroupRow | undefined> {
  return db('groups').where({ id }).first();
}

/** Camunda's group sortBy values and their columns. */
export const GROUP_SORT = { id: 'g.id', name: 'g.name', type: 'g.type' } as const;

export async function listGroups(db: Db, query: Page & { member?: string | undefined }): Promise<GroupRow[]> {
  const q = db('groups as g').select('g.*');
  if (query.member) q.whereExists((s) => s.select(db.raw('1')).from('memberships as m').whereRaw('m.group_id = g.id').andWhere('m.user_id', query.member!));
  return paged(q, query, [], 'g.id');
}

export async function addMembership(db: Db, userId: string, groupId: string): Promise<void> {
  await db('memberships').insert({ user_id: userId, group_id: groupId }).onConflict(['user_id', 'group_id']).ignore();
}

export async function removeMembership(db: Db, userId: string, groupId: string): Promise<number> {
  return db('memberships').where({ user_id: userId, group_id: groupId }).delete();
}

export async function countUsersWhere(db: Db, query: { id?: string | undefined; memberOfGroup?: string | undefined }): Promise<number> {
  const q = db('users as u');
  if (query.id) q.where('u.id', query.id);
  if (query.memberOfGroup) q.whereExists((s) => s.select(db.raw('1')).from('memberships as m').whereRaw('m.user_id = u.id').andWhere('m.group_id', query.memberOfGroup!));
  return countOf(q);
}

/** Sets the named profile fields; false when there is no such user. */
export async function updateProfile(db: Db, id: string, fields: Partial<Pick<UserRow, 'first_name' | 'last_name' | 'email'>>): Promise<boolean> {
  if (!Object.keys(fields).length) return Boolean(await findUser(db, id));
  return (await db('users').where({ id }).update(fields)) > 0;
}

/**
 * Deletes a user; memberships and tokens go with it (on delete cascade), and
 * so does what was addressed to them alone: a carbon copy is a read grant on
 * its instance, an in-app notice names tasks, unsent mail would still go
 * out. A later user given the same id must inherit none of it. What they did
 * (comments, urges, the trace, history) stays, as in Camunda.
 */
export async function deleteUser(db: Db, id: string): Promise<boolean> {
  const deleted = (await db('users').where({ id }).delete().returning('id')).length > 0;
  if (deleted) {
    await db('carbon_copies').where({ user_id: id }).delete();
    await db('notifications').where({ user_id: id }).delete();
    await db('notification_outbox').where({ user_id: id }).whereNull('sent_at').whereNull('failed_at').delete();
    await db('notification_preferences').where({ user_id: id }).delete();
    // Their saved task lists (filters) too: a later user of that id would own them and their sharing.
    await db('filters').where({ owner: id }).delete();
  }
  return deleted;
}

/**
 * The members of `groupId`, their membership rows held until the
 * transaction ends: two administrators removing each other at once then
 * wait for one another, and the second sees the first's removal.
 */
export async function lockMembersOf(db: Db, groupId: string): Promise<string[]> {
  const rows: { user_id: string }[] = await db('memberships').select('user_id').where({ group_id: groupId }).orderBy('user_id').forUpdate();
  return rows.map((r) => r.user_id);
}

export async function countGroups(db: Db, query: { id?: string | undefined; member?: string | undefined }): Promise<number> {
  const q = db('groups as g');
  if (query.id) q.where('g.id', query.id);
  if (query.member) q.whereExists((s) => s.select(db.raw('1')).from('memberships as m').whereRaw('m.group_id = g.id').andWhere('m.user_id', query.member!));
  return countOf(q);
}

export async function updateGroup(db: Db, row: GroupRow): Promise<boolean> {
  return (await db('groups').where({ id: row.id }).update({ name: row.name, type: row.type })) > 0;
}

/** Deletes a group; its memberships go with it, and filters shared with it are shared with it no longer (a later group of that id must not see them). */
export async function deleteGroup(db: Db, id: string): Promise<boolean> {
  const deleted = (await db('groups').where({ id }).delete().returning('id')).length > 0;
  if (deleted) await db('filters').whereRaw('? = any(shared_groups)', [id]).update({ shared_groups: db.raw('array_remove(shared_groups, ?)', [id]) });
  return deleted;
}

/** The users who share at least one group with `userId` (Camunda's identity/groups `groupUsers`), themselves included. */
export async function usersSharingGroupsWith(db: Db, userId: string): Promise<Omit<UserRow, 'password_hash'>[]> {
  return db('users as u').distinct('u.id', 'u.first_name', 'u.last_name', 'u.email')
    .join('memberships as m', 'm.user_id', 'u.id')
    .whereIn('m.group_id', db('memberships').select('group_id').where({ user_id: userId }))
    .orderBy('u.id');
}
