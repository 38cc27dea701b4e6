import type { Db } from './db.ts';
import { countOf, likePattern, paged, type Page } from './paging.ts';

/** A saved task list (Camunda's filter), as stored. */
export interface FilterRow {
  id: string;
  resource_type: string;
  name: string;
  owner: string;
  query: Record<string, unknown>;
  properties: Record<string, unknown>;
  shared_groups: string[];
  created_at: Date;
}

export type NewFilter = Omit<FilterRow, 'created_at'>;

/** Camunda's sortBy values for GET /filter, as columns. */
export const filterSortColumns = { filterId: 'id', resourceType: 'resource_type', name: 'name', owner: 'owner' } as const;

export interface FilterQuery extends Page<(typeof filterSortColumns)[keyof typeof filterSortColumns]> {
  id?: string | undefined;
  resourceType?: string | undefined;
  name?: string | undefined;
  nameLike?: string | undefined;
  owner?: string | undefined;
  /** Only the filters this user owns or that are shared with one of their groups; absent for administrators. */
  visibleTo?: { userId: string; groups: string[] } | undefined;
}

function filtered(db: Db, q: FilterQuery) {
  const query = db('filters');
  if (q.id != null) query.where('id', q.id);
  if (q.resourceType != null) query.where('resource_type', q.resourceType);
  if (q.name != null) query.where('name', q.name);
  if (q.nameLike != null) query.whereLike('name', likePattern(q.nameLike));
  if (q.owner != null) query.where('owner', q.owner);
  const visible = q.visibleTo;
  if (visible) query.where((w) => w.where('owner', visible.userId).orWhereRaw('shared_groups && ?::text[]', [visible.groups]));
  return query;
}

/** Filters matching `q`, by name unless sorted otherwise. */
export async function queryFilters(db: Db, q: FilterQuery): Promise<FilterRow[]> {
  return paged(filtered(db, q).select('*'), q, [{ column: 'name', order: 'asc' }], 'id');
}

export async function countFilters(db: Db, q: FilterQuery): Promise<number> {
  return countOf(filtered(db, q));
}

export async function findFilter(db: Db, id: string): Promise<FilterRow | undefined> {
  return db('filters').where({ id }).first();
}

/** The filter, locked until the transaction ends, so an update or delete sees who owns it now. */
export async function lockFilter(db: Db, id: string): Promise<FilterRow | undefined> {
  return db('filters').where({ id }).forUpdate().first();
}

export async function insertFilter(db: Db, row: NewFilter): Promise<void> {
  await db('filters').insert({ ...row, query: JSON.stringify(row.query), properties: JSON.stringify(row.properties) });
}

export async function updateFilter(db: Db, row: NewFilter): Promise<void> {
  const { id, ...values } = row;
  await db('filters').where({ id }).update({ ...values, query: JSON.stringify(values.query), properties: JSON.stringify(values.properties) });
}

export async function deleteFilter(db: Db, id: string): Promise<boolean> {
  return (await db('filters').where({ id }).delete()) > 0;
}
