import type { Db } from './db.ts';

/** An instance's state, locked for the rest of the transaction; undefined if there is none. */
export async function lockInstanceState(db: Db, id: string): Promise<string | undefined> {
  const row: { state: string } | undefined = await db('process_instances').where({ id }).forUpdate().first('state');
  return row?.state;
}

/**
 * Removes a finished instance and everything recorded about it: the
 * foreign keys cascade to its tasks, variables, activity history and the
 * history logs; comments, copies, urges and decision history name it
 * without one. The trace stays: it is the audit, not history.
 */
export async function deleteInstanceHistory(db: Db, id: string): Promise<void> {
  for (const table of ['task_comments', 'carbon_copies', 'task_urges', 'history_decision_instances']) {
    await db(table).where({ process_instance_id: id }).delete();
  }
  await db('process_instances').where({ id }).delete();
}

/** Removes variables of an instance (all of them without `name`) with their recorded updates; how many went. */
export async function deleteVariableHistory(db: Db, instanceId: string, name?: string): Promise<number> {
  const scope = name === undefined ? { process_instance_id: instanceId } : { process_instance_id: instanceId, variable_name: name };
  await db('history_details').where(scope).delete();
  // The names deleted, not the driver's count: PGlite's knex client does not report one for a delete.
  const gone: unknown[] = await db('variables').where(name === undefined ? { process_instance_id: instanceId } : { process_instance_id: instanceId, name }).delete().returning('name');
  return gone.length;
}
