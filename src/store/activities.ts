import type { ActivityEvent } from '../engine/runner.ts';
import type { Db } from './db.ts';

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

/**
 * Writes one run's element lifecycle: starts become rows, ends and
 * cancellations close them. Keyed by execution id, so replays are harmless.
 */
export async function recordActivities(db: Db, instanceId: string, events: ActivityEvent[], taskIds: Map<string, string>): Promise<void> {
  const starts = events.filter((e) => e.kind === 'start').map((e) => ({
    process_instance_id: instanceId,
    execution_id: e.executionId,
    activity_id: e.activityId,
    activity_name: e.name,
    activity_type: e.type.replace(/^bpmn:/, '').replace(/^./, (c) => c.toLowerCase()),
    task_id: taskIds.get(e.executionId) ?? null,
  }));
  if (starts.length) await db('activity_instances').insert(starts).onConflict(['process_instance_id', 'execution_id']).ignore();
  const ended = events.filter((e) => e.kind === 'end').map((e) => e.executionId);
  const canceled = events.filter((e) => e.kind === 'cancel').map((e) => e.executionId);
  if (ended.length) await closeActivities(db, instanceId, ended, false);
  if (canceled.length) await closeActivities(db, instanceId, canceled, true);
}

async function closeActivities(db: Db, instanceId: string, executionIds: string[], canceled: boolean): Promise<void> {
  await db('activity_instances')
    .where({ process_instance_id: instanceId })
    .whereIn('execution_id', executionIds)
    .whereNull('end_time')
    .update({ end_time: db.fn.now(), canceled });
}

/** Execution ids of elements still running in an instance (waiting tasks, events, boundaries). */
export async function listOpenExecutions(db: Db, instanceId: string): Promise<string[]> {
  return db('activity_instances').where({ process_instance_id: instanceId }).whereNull('end_time').pluck('execution_id');
}

export async function listActivities(db: Db, instanceId: string): Promise<ActivityRow[]> {
  return db('activity_instances').where({ process_instance_id: instanceId }).orderBy('seq');
}

/** Cancels every element still open in an instance (the instance was deleted). */
export async function cancelOpenActivities(db: Db, instanceId: string): Promise<void> {
  await db('activity_instances').where({ process_instance_id: instanceId }).whereNull('end_time').update({ end_time: db.fn.now(), canceled: true });
}
