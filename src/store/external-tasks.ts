import type { Knex } from 'knex';
import { refPairs, type Db, type ExecutionRef } from './db.ts';
import { logExternalTasks } from './external-task-log.ts';
import { endIncidentsOf } from './incidents.ts';
import { countOf, paged, type Page } from './paging.ts';
import { suspendedColumn, whereInstanceSuspended } from './suspension.ts';

export interface ExternalTaskRow {
  id: string;
  process_instance_id: string;
  definition_id: string;
  definition_key: string;
  activity_id: string;
  execution_id: string;
  topic: string;
  business_key: string | null;
  priority: number;
  worker_id: string | null;
  /** The authenticated account that took the lock (worker_id is only what that account called itself). */
  lock_user_id: string | null;
  lock_expiration_time: Date | null;
  retries: number | null;
  error_message: string | null;
  error_details: string | null;
  created_at: Date;
  end_time: Date | null;
  end_reason: string | null;
  /** Its instance is suspended (read by queryExternalTasks). */
  suspended?: boolean;
}

export type NewExternalTaskRow = Pick<ExternalTaskRow, 'id' | 'process_instance_id' | 'definition_id' | 'definition_key' | 'activity_id' | 'execution_id' | 'topic' | 'business_key' | 'priority'>;

export async function insertExternalTasks(db: Db, rows: NewExternalTaskRow[]): Promise<void> {
  if (!rows.length) return;
  const inserted: { id: string }[] = await db('external_tasks').insert(rows).onConflict(['process_instance_id', 'execution_id']).ignore().returning('id');
  // Only the ones this insert made: a replayed wait is no second creation.
  if (inserted.length) await logExternalTasks(db, (q) => q.whereIn('id', inserted.map((r) => r.id)), 'creation');
}

/** Ends external tasks; those that had raised an incident (no retries left) take it with them. */
async function endExternalTasks(db: Db, where: (q: Knex.QueryBuilder) => Knex.QueryBuilder, values: { end_reason: 'completed' | 'deleted' } & Record<string, unknown>): Promise<void> {
  // Logged before the update clears the worker: the success names who completed it.
  await logExternalTasks(db, (q) => where(q).whereNull('end_time'), values.end_reason === 'completed' ? 'success' : 'deletion');
  const ended: { id: string; retries: number | null }[] = await where(db('external_tasks')).whereNull('end_time')
    .update({ end_time: db.fn.now(), ...values }).returning(['id', 'retries']);
  await endIncidentsOf(db, ended.filter((x) => x.retries === 0).map((x) => x.id));
}

export async function endExternalTasksByExecution(db: Db, executions: ExecutionRef[], reason: 'completed' | 'deleted'): Promise<void> {
  if (!executions.length) return;
  await endExternalTasks(db, (q) => q.whereIn(['process_instance_id', 'execution_id'], refPairs(executions)),
    { end_reason: reason, worker_id: null, lock_user_id: null, lock_expiration_time: null });
}

export async function endOpenExternalTasksOfInstance(db: Db, instanceId: string): Promise<void> {
  await endExternalTasks(db, (q) => q.where({ process_instance_id: instanceId }), { end_reason: 'deleted' });
}

export interface LockRequest {
  workerId: string;
  /** The authenticated account fetching: only it may complete, fail or extend the lock. */
  userId: string;
  topic: string;
  lockDurationMs: number;
  limit: number;
  usePriority: boolean;
  businessKey?: string | undefined;
  processDefinitionKey?: string | undefined;
}

/**
 * Locks up to `limit` available tasks of one topic for a worker, using the
 * database's clock. `for update skip locked` lets servers and workers race
 * without waiting on each other and without handing a task out twice.
 */
export async function lockExternalTasks(db: Db, r: LockRequest): Promise<ExternalTaskRow[]> {
  const candidates = db('external_tasks').select('id').where({ topic: r.topic }).whereNull('end_time')
    .andWhere((w) => w.whereNull('lock_expiration_time').orWhere('lock_expiration_time', '<', db.fn.now()))
    .andWhere((w) => w.whereNull('retries').orWhere('retries', '>', 0))
    // A suspended instance's tasks wait, as Camunda's fetchAndLock hands out only active ones.
    .whereNotIn('process_instance_id', db('process_instances').select('id').where('suspended', true))
    .orderBy(r.usePriority ? [{ column: 'priority', order: 'desc' }, { column: 'created_at' }] : [{ column: 'created_at' }])
    .limit(r.limit)
    .forUpdate()
    .skipLocked();
  if (r.businessKey) candidates.where({ business_key: r.businessKey });
  if (r.processDefinitionKey) candidates.where({ definition_key: r.processDefinitionKey });
  return db('external_tasks').whereIn('id', candidates).update({
    worker_id: r.workerId,
    lock_user_id: r.userId,
    lock_expiration_time: db.raw('now() + make_interval(secs => ?)', [r.lockDurationMs / 1000]),
  }).returning('*');
}

export async function findExternalTask(db: Db, id: string): Promise<ExternalTaskRow | undefined> {
  return db('external_tasks').where({ id }).first();
}

/** Whether `workerId` holds a live lock on the open task (database clock). */
export async function findLockedBy(db: Db, id: string, workerId: string): Promise<ExternalTaskRow | undefined> {
  return db('external_tasks').where({ id, worker_id: workerId }).whereNull('end_time').where('lock_expiration_time', '>', db.fn.now()).first();
}

/**
 * Changes an open task only while the lock that was checked is still the
 * same (same worker, same account): a lock that expired and was taken by
 * another worker in between is not overwritten.
 */
export async function updateLockedTask(db: Db, held: Pick<ExternalTaskRow, 'id' | 'worker_id' | 'lock_user_id'>, change: Record<string, unknown>): Promise<number> {
  return db('external_tasks').where({ id: held.id, worker_id: held.worker_id, lock_user_id: held.lock_user_id }).whereNull('end_time').update(change);
}

export async function updateExternalTask(db: Db, id: string, change: Record<string, unknown>): Promise<number> {
  return db('external_tasks').where({ id }).whereNull('end_time').update(change);
}

export interface ExternalTaskQuery extends Page {
  id?: string | undefined;
  topic?: string | undefined;
  workerId?: string | undefined;
  processInstanceId?: string | undefined;
  activityId?: string | undefined;
  locked?: boolean | undefined;
  withRetriesLeft?: boolean | undefined;
  noRetriesLeft?: boolean | undefined;
  /** Camunda's suspended / active. */
  suspended?: boolean | undefined;
}

export async function queryExternalTasks(db: Db, query: ExternalTaskQuery): Promise<ExternalTaskRow[]> {
  return paged(filtered(db, query).select('external_tasks.*', suspendedColumn(db, 'external_tasks.process_instance_id')), query, [{ column: 'created_at', order: 'asc' }], 'id');
}

export async function countExternalTasks(db: Db, query: ExternalTaskQuery): Promise<number> {
  return countOf(filtered(db, query));
}

function filtered(db: Db, q: ExternalTaskQuery) {
  const b = db('external_tasks').whereNull('end_time');
  if (q.id) b.where('id', q.id);
  if (q.topic) b.where('topic', q.topic);
  if (q.workerId) b.where('worker_id', q.workerId);
  if (q.processInstanceId) b.where('process_instance_id', q.processInstanceId);
  if (q.activityId) b.where('activity_id', q.activityId);
  if (q.locked === true) b.where('lock_expiration_time', '>', db.fn.now());
  if (q.locked === false) b.andWhere((w) => w.whereNull('lock_expiration_time').orWhere('lock_expiration_time', '<=', db.fn.now()));
  if (q.withRetriesLeft) b.andWhere((w) => w.whereNull('retries').orWhere('retries', '>', 0));
  if (q.noRetriesLeft) b.where('retries', 0);
  whereInstanceSuspended(db, b, 'process_instance_id', q.suspended);
  return b;
}

/**
 * Open and completed external tasks of one multi-instance body: its
 * instances run as executions `<body>_<loopCounter>` of the same activity.
 */
export async function countInstanceTasks(db: Db, instanceId: string, activityId: string, bodyExecutionId: string): Promise<{ open: number; completed: number }> {
  const row = await db('external_tasks')
    .where({ process_instance_id: instanceId, activity_id: activityId })
    .whereRaw('left(execution_id, ?) = ?', [bodyExecutionId.length + 1, `${bodyExecutionId}_`])
    .select(db.raw('count(*) filter (where end_time is null)::int as open'), db.raw("count(*) filter (where end_reason = 'completed')::int as completed"))
    .first();
  return { open: Number(row?.open ?? 0), completed: Number(row?.completed ?? 0) };
}

/** Camunda's GetTopicNamesCmd: the distinct topics of open tasks, narrowed as its flags say (both lock flags: none). */
export async function distinctTopicNames(db: Db, f: { locked: boolean; unlocked: boolean; withRetriesLeft: boolean }): Promise<string[]> {
  const b = db('external_tasks').whereNull('end_time').distinct('topic').orderBy('topic');
  if (f.locked) b.where('lock_expiration_time', '>', db.fn.now());
  if (f.unlocked) b.andWhere((w) => w.whereNull('lock_expiration_time').orWhere('lock_expiration_time', '<=', db.fn.now()));
  if (f.withRetriesLeft) b.andWhere((w) => w.whereNull('retries').orWhere('retries', '>', 0));
  return (await b).map((r: { topic: string }) => r.topic);
}

/** An open task, row-locked for a change that depends on its current lock. */
export async function lockOpenExternalTask(db: Db, id: string): Promise<(ExternalTaskRow & { lock_live: boolean }) | undefined> {
  return db('external_tasks').where({ id }).whereNull('end_time')
    .select('*', db.raw('coalesce(lock_expiration_time > now(), false) as lock_live')).forUpdate().first();
}

/** Locks one task for a worker from now (database clock), as fetchAndLock would. */
export async function lockExternalTask(db: Db, id: string, lock: { workerId: string; userId: string; lockDurationMs: number }): Promise<number> {
  return db('external_tasks').where({ id }).whereNull('end_time').update({
    worker_id: lock.workerId, lock_user_id: lock.userId, lock_expiration_time: db.raw('now() + make_interval(secs => ?)', [lock.lockDurationMs / 1000]),
  });
}

/** Open tasks among `ids` and of the instances `instanceIds`, row-locked, ordered by id. */
export async function lockOpenExternalTasksOf(db: Db, ids: string[], instanceIds: string[]): Promise<ExternalTaskRow[]> {
  return db('external_tasks').whereNull('end_time')
    .andWhere((w) => w.whereIn('id', ids).orWhereIn('process_instance_id', instanceIds))
    .orderBy('id').forUpdate();
}

/** Whether `userId`'s workers hold a live lock on an open task of the instance (database clock). */
export async function holdsLiveLockIn(db: Db, instanceId: string, userId: string): Promise<boolean> {
  return !!(await db('external_tasks').where({ process_instance_id: instanceId, lock_user_id: userId }).whereNull('end_time')
    .where('lock_expiration_time', '>', db.fn.now()).first('id'));
}
