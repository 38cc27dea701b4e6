import type { Knex } from 'knex';
import type { Db } from './db.ts';

/**
 * Suspension state: a column on process_instances and process_definitions
 * (migration 20261207000029). Tasks, external tasks and timers are
 * suspended when their instance is; these helpers let other stores select
 * and filter by it without copying the SQL.
 */

/**
 * `exists(...) as suspended` for a query over rows that carry a process
 * instance id in `instanceColumn` (`tasks.process_instance_id`, `t.process_instance_id`).
 */
export function suspendedColumn(db: Db, instanceColumn: string): Knex.Raw {
  return db.raw(`exists (select 1 from process_instances s where s.id = ${instanceColumn} and s.suspended) as suspended`);
}

/**
 * Narrows `q` to rows whose instance is suspended (`true`) or active
 * (`false`): Camunda's `suspended=true` / `active=true` query parameters.
 * Nothing when `suspended` is undefined.
 */
export function whereInstanceSuspended(db: Db, q: Knex.QueryBuilder, instanceColumn: string, suspended: boolean | undefined): Knex.QueryBuilder {
  if (suspended === undefined) return q;
  const sub = db('process_instances as s').select('s.id').where('s.suspended', true);
  return suspended ? q.whereIn(instanceColumn, sub) : q.whereNotIn(instanceColumn, sub);
}


/**
 * Whether the instance is suspended; undefined when there is no such instance.
 * `for share`: inside a transaction, a suspension waits for it to end, so what
 * the transaction does on an active instance is not committed on a suspended one.
 */
export async function isInstanceSuspended(db: Db, id: string): Promise<boolean | undefined> {
  const query = db('process_instances').where({ id });
  // Inside a command's transaction the row is held `for share` until it commits, so a suspension
  // waits for it; outside one a lock would end with the statement and only make this plain
  // pre-check wait behind whoever holds the row for update (a save in progress).
  if ((db as { isTransaction?: boolean }).isTransaction) query.forShare();
  const row = await query.first('suspended');
  return row?.suspended;
}

/**
 * Sets the state of running instances (by ids, or of definitions) that are
 * not already in it, moving each one's revision so that a run which read it
 * before cannot save after (execution.ts re-reads and refuses).
 * Returns the ids changed.
 */
export async function setInstancesSuspended(
  db: Db, where: { ids?: string[]; definitionIds?: string[] }, suspended: boolean,
): Promise<string[]> {
  const q = db('process_instances').where({ state: 'ACTIVE' }).whereNot('suspended', suspended);
  if (where.ids) q.whereIn('id', where.ids);
  if (where.definitionIds) q.whereIn('definition_id', where.definitionIds);
  const rows: { id: string }[] = await q.update({ suspended, rev: db.raw('rev + 1') }).returning('id');
  return rows.map((r) => r.id);
}

/** Sets the state of definitions; returns the ids changed. */
export async function setDefinitionsSuspended(db: Db, ids: string[], suspended: boolean): Promise<string[]> {
  const rows: { id: string }[] = await db('process_definitions').whereIn('id', ids).whereNot('suspended', suspended)
    .update({ suspended }).returning('id');
  return rows.map((r) => r.id);
}

/** Ids (with key and tenant) of the definitions of `key`, every version, for the by-key forms. */
export async function findDefinitionIdsByKey(db: Db, key: string, tenantId?: string | null): Promise<{ id: string; key: string }[]> {
  const q = db('process_definitions').select('id', 'key').where({ key }).orderBy('version');
  if (tenantId === null) q.whereNull('tenant_id');
  else if (tenantId !== undefined) q.where({ tenant_id: tenantId });
  return q;
}

/** Ids of running instances matching a (small) subset of Camunda's process instance query. */
export async function findRunningInstanceIds(db: Db, q: { ids?: string[]; definitionId?: string; definitionKey?: string; businessKey?: string }): Promise<string[]> {
  const b = db('process_instances').select('id').where({ state: 'ACTIVE' });
  if (q.ids) b.whereIn('id', q.ids);
  if (q.definitionId) b.where('definition_id', q.definitionId);
  if (q.definitionKey) b.where('definition_key', q.definitionKey);
  if (q.businessKey) b.where('business_key', q.businessKey);
  return (await b).map((r: { id: string }) => r.id);
}

/** The first of these instances that is suspended, if any (a job cannot be activated alone in one). */
export async function firstSuspendedInstance(db: Db, ids: string[]): Promise<string | undefined> {
  if (!ids.length) return undefined;
  const row = await db('process_instances').whereIn('id', [...new Set(ids)]).where('suspended', true).orderBy('id').first('id');
  return row?.id;
}
