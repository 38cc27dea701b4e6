import type { ActivityEvent } from '../engine/runner.ts';
import { refPairs, type Db, type ExecutionRef } from './db.ts';
import { endExecutionIncidentsOfInstance, endIncidentsOfExecutions } from './incidents.ts';

export interface ActivityRow {
  seq: number;
  process_instance_id: string;
  execution_id: string;
  activity_id: string;
  activity_name: string | null;
  activity_type: string;
  task_id: string | null;
  assignee: string | null;
  start_time: Date;
  end_time: Date | null;
  canceled: boolean;
}

/** One run's element lifecycle, in the order it happened; `taskIds` names the user task rows opened by execution id. */
export interface ActivityLog {
  instanceId: string;
  events: ActivityEvent[];
  taskIds: Map<string, string>;
}

/**
 * Writes the element lifecycle of one or more runs: starts become rows, ends
 * and cancellations close them. Keyed by execution id, so replays are harmless.
 */
export async function recordActivities(db: Db, logs: ActivityLog[]): Promise<void> {
  const starts = logs.flatMap(({ instanceId, events, taskIds }) => events.filter((e) => e.kind === 'start').map((e) => ({
    process_instance_id: instanceId,
    execution_id: e.executionId,
    activity_id: e.activityId,
    activity_name: e.name,
    activity_type: e.type.replace(/^bpmn:/, '').replace(/^./, (c) => c.toLowerCase()),
    task_id: taskIds.get(e.executionId) ?? null,
  })));
  if (starts.length) await db('activity_instances').insert(starts).onConflict(['process_instance_id', 'execution_id']).ignore();
  const of = (kind: ActivityEvent['kind']) => logs.flatMap(({ instanceId, events }) => events.filter((e) => e.kind === kind).map((e) => ({ instanceId, executionId: e.executionId })));
  await closeActivities(db, of('end'), false);
  await closeActivities(db, of('cancel'), true);
}

async function closeActivities(db: Db, executions: ExecutionRef[], canceled: boolean): Promise<void> {
  if (!executions.length) return;
  await db('activity_instances')
    .whereIn(['process_instance_id', 'execution_id'], refPairs(executions))
    .whereNull('end_time')
    .update({ end_time: db.fn.now(), canceled });
  // An incident raised on an execution must not outlive it.
  await endIncidentsOfExecutions(db, executions);
}

/** Execution ids of elements still running in an instance (waiting tasks, events, boundaries). */
export async function listOpenExecutions(db: Db, instanceId: string): Promise<string[]> {
  return (await listOpenExecutionsOf(db, [instanceId])).get(instanceId) ?? [];
}

/** Execution ids of elements still running, for several instances at once (the scheduler's batches). */
export async function listOpenExecutionsOf(db: Db, instanceIds: string[]): Promise<Map<string, string[]>> {
  const rows: { process_instance_id: string; execution_id: string }[] = await db('activity_instances')
    .whereIn('process_instance_id', instanceIds).whereNull('end_time').select('process_instance_id', 'execution_id');
  const open = new Map<string, string[]>();
  for (const r of rows) {
    const list = open.get(r.process_instance_id);
    if (list) list.push(r.execution_id);
    else open.set(r.process_instance_id, [r.execution_id]);
  }
  return open;
}

export async function listActivities(db: Db, instanceId: string): Promise<ActivityRow[]> {
  return db('activity_instances').where({ process_instance_id: instanceId }).orderBy('seq');
}

/** Cancels every element still open in an instance (the instance was deleted). */
export async function cancelOpenActivities(db: Db, instanceId: string): Promise<void> {
  await db('activity_instances').where({ process_instance_id: instanceId }).whereNull('end_time').update({ end_time: db.fn.now(), canceled: true });
  await endExecutionIncidentsOfInstance(db, instanceId);
}

/** The instances in which an element with this execution id is still running (Camunda's `/execution/{id}`). */
export async function instancesRunningExecution(db: Db, executionId: string): Promise<string[]> {
  const rows: { process_instance_id: string }[] = await db('activity_instances').where({ execution_id: executionId }).whereNull('end_time').select('process_instance_id');
  return rows.map((r) => r.process_instance_id);
}
