import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { VariableType } from '../types.ts';
import type { Db } from './db.ts';
import { visibleInstanceIds } from './instances.ts';
import { countOf, likePattern, paged, type Page } from './paging.ts';

/** One value a variable took, as stored: `value` is the JSON value, or the envelope of a sealed one (`key_id` set). */
export interface HistoryDetailRow {
  id: string;
  seq: number;
  process_instance_id: string;
  variable_name: string;
  variable_type: VariableType;
  value: unknown;
  key_id: string | null;
  revision: number;
  initial: boolean;
  time: Date;
  definition_id: string;
  definition_key: string;
}

/**
 * Records the values just written to an instance's variables (called by
 * upsertVariables, so in the same transaction as the write itself).
 */
export async function recordVariableUpdates(db: Db, instanceId: string, rows: { name: string; type: VariableType; value: string; key_id: string | null }[]): Promise<void> {
  if (!rows.length) return;
  await db('history_details').insert(rows.map((v) => ({
    id: randomUUID(), process_instance_id: instanceId, variable_name: v.name, variable_type: v.type, value: v.value, key_id: v.key_id,
    revision: db.raw('(select count(*) from history_details where process_instance_id = ? and variable_name = ?)', [instanceId, v.name]),
    // The transaction that inserted the instance shares its now() with the instance's start_time.
    initial: db.raw('coalesce((select start_time = now() from process_instances where id = ?), false)', [instanceId]),
  })));
}

/** Camunda's sortBy names for historic details, and their columns. */
export const historyDetailSortColumns = {
  processInstanceId: 'd.process_instance_id', variableName: 'd.variable_name', variableType: 'd.variable_type',
  variableRevision: 'd.revision', time: 'd.time', occurrence: 'd.seq',
} as const;

export interface HistoryDetailQuery extends Page {
  id?: string | undefined;
  processInstanceIds?: string[] | undefined;
  variableName?: string | undefined;
  variableNameLike?: string | undefined;
  variableTypes?: string[] | undefined;
  initial?: boolean | undefined;
  occurredBefore?: Date | undefined;
  occurredAfter?: Date | undefined;
  /** Only instances this user may see; absent for administrators. */
  visibleTo?: { userId: string; groups: string[] } | undefined;
}

function filtered(db: Db, q: HistoryDetailQuery): Knex.QueryBuilder {
  const b = db('history_details as d').join('process_instances as i', 'i.id', 'd.process_instance_id');
  if (q.id) b.where('d.id', q.id);
  if (q.processInstanceIds) b.whereIn('d.process_instance_id', q.processInstanceIds);
  if (q.variableName) b.where('d.variable_name', q.variableName);
  // Camunda matches variableNameLike without regard to case.
  if (q.variableNameLike) b.whereILike('d.variable_name', likePattern(q.variableNameLike));
  if (q.variableTypes) b.whereRaw('lower(d.variable_type) = any(?::text[])', [q.variableTypes.map((t) => t.toLowerCase())]);
  if (q.initial) b.where('d.initial', true);
  if (q.occurredBefore) b.where('d.time', '<=', q.occurredBefore);
  if (q.occurredAfter) b.where('d.time', '>=', q.occurredAfter);
  if (q.visibleTo) b.whereIn('d.process_instance_id', visibleInstanceIds(db, q.visibleTo));
  return b;
}

/** Variable updates, oldest first unless sorted otherwise. */
export async function queryHistoryDetails(db: Db, q: HistoryDetailQuery): Promise<HistoryDetailRow[]> {
  const b = filtered(db, q).select('d.*', 'i.definition_id', 'i.definition_key');
  return paged(b, q, [{ column: 'd.seq', order: 'asc' }], 'd.seq');
}

export async function countHistoryDetails(db: Db, q: Omit<HistoryDetailQuery, 'sorting' | 'firstResult' | 'maxResults'>): Promise<number> {
  return countOf(filtered(db, q));
}

/** A recorded value with what the re-encryption command needs: its definition (for the sensitive marks). */
export interface HistoryDetailRef {
  id: string;
  seq: number;
  process_instance_id: string;
  definition_id: string;
  name: string;
  type: VariableType;
  value: unknown;
  key_id: string | null;
}

/**
 * Recorded values to seal again, in `seq` order after `afterSeq`: sealed
 * under another key than `currentKeyId`, or (`plain`) not sealed at all.
 */
export async function listHistoryDetailsAfter(db: Db, q: { currentKeyId: string; plain: boolean; afterSeq: number; limit: number }): Promise<HistoryDetailRef[]> {
  const b = db('history_details as d').join('process_instances as i', 'i.id', 'd.process_instance_id')
    .select('d.id', 'd.seq', 'd.process_instance_id', 'i.definition_id', 'd.variable_name as name', 'd.variable_type as type', 'd.value', 'd.key_id')
    .where('d.seq', '>', q.afterSeq).orderBy('d.seq').limit(q.limit);
  if (q.plain) b.whereNull('d.key_id');
  else b.whereNotNull('d.key_id').whereNot('d.key_id', q.currentKeyId);
  return (await b).map((r: HistoryDetailRef) => ({ ...r, seq: Number(r.seq) }));
}

/** Replaces one recorded value only if it is still exactly what was read; false when it changed meanwhile (or went with its instance). */
export async function replaceHistoryDetailValue(db: Db, id: string, expected: { value: unknown; key_id: string | null }, next: { value: unknown; key_id: string | null }): Promise<boolean> {
  const b = db('history_details').where({ id }).whereRaw('value = ?::jsonb', [JSON.stringify(expected.value ?? null)]);
  if (expected.key_id == null) b.whereNull('key_id');
  else b.where('key_id', expected.key_id);
  return (await b.update({ value: JSON.stringify(next.value ?? null), key_id: next.key_id }).returning('id')).length > 0;
}
