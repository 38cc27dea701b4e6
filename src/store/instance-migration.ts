import type { EngineState } from '../engine/state.ts';
import type { Db } from './db.ts';

/** An instance's row locked for migration, with what migration reads of it. */
export interface MigratingInstance {
  id: string;
  definition_id: string;
  state: string;
  rev: number;
  engine_state: EngineState | null;
  start_event_id: string | null;
}

/** Locks an instance's row for the transaction migrating it (a concurrent command then waits, or loses its revision check). */
export async function lockInstance(db: Db, id: string): Promise<MigratingInstance | undefined> {
  return db('process_instances').where({ id }).forUpdate().first('id', 'definition_id', 'state', 'rev', 'engine_state', 'start_event_id');
}

/** The same, read without a lock (checking before migrating). */
export async function readInstance(db: Db, id: string): Promise<MigratingInstance | undefined> {
  return db('process_instances').where({ id }).first('id', 'definition_id', 'state', 'rev', 'engine_state', 'start_event_id');
}

/** The open activities of instances (history rows not ended), by instance. */
export async function openActivitiesOf(db: Db, ids: string[]): Promise<Map<string, { executionId: string; activityId: string }[]>> {
  const rows: { process_instance_id: string; execution_id: string; activity_id: string }[] = ids.length
    ? await db('activity_instances').whereIn('process_instance_id', ids).whereNull('end_time').orderBy('seq').select('process_instance_id', 'execution_id', 'activity_id')
    : [];
  const out = new Map<string, { executionId: string; activityId: string }[]>(ids.map((id) => [id, []]));
  for (const r of rows) out.get(r.process_instance_id)?.push({ executionId: r.execution_id, activityId: r.activity_id });
  return out;
}

/**
 * Moves an instance and its open rows to the target definition: the
 * instance (its runtime and history row), its open tasks, external tasks,
 * timers (their due times kept) and open incidents. Task names, assignees
 * and candidates stay, as in Camunda (only the definition changes); message
 * subscriptions name no definition and stay as they are.
 */
export async function moveInstance(db: Db, instance: MigratingInstance, target: { id: string; key: string }, engineState: EngineState): Promise<void> {
  await db('process_instances').where({ id: instance.id, rev: instance.rev })
    .update({ definition_id: target.id, definition_key: target.key, engine_state: JSON.stringify(engineState), rev: instance.rev + 1 });
  await db('tasks').where({ process_instance_id: instance.id }).whereNull('end_time').update({ definition_id: target.id, definition_key: target.key });
  await db('external_tasks').where({ process_instance_id: instance.id }).whereNull('end_time').update({ definition_id: target.id, definition_key: target.key });
  await db('timers').where({ process_instance_id: instance.id }).update({ definition_id: target.id });
  await db('incidents').where({ process_instance_id: instance.id }).whereNull('end_time').update({ definition_id: target.id });
}

export interface InstanceFilter {
  definitionId?: string | undefined;
  definitionKey?: string | undefined;
  businessKey?: string | undefined;
  ids?: string[] | undefined;
}

/** Ids of the running instances a migration's processInstanceQuery selects. */
export async function queryRunningInstances(db: Db, filter: InstanceFilter): Promise<string[]> {
  const q = db('process_instances').where({ state: 'ACTIVE' }).orderBy('id').select('id');
  if (filter.definitionId) q.where('definition_id', filter.definitionId);
  if (filter.definitionKey) q.where('definition_key', filter.definitionKey);
  if (filter.businessKey) q.where('business_key', filter.businessKey);
  if (filter.ids) q.whereIn('id', filter.ids);
  return (await q).map((r: { id: string }) => r.id);
}
