import type { Knex } from 'knex';
import { refPairs, type Db, type ExecutionRef } from './db.ts';
import { visibleInstanceIds } from './instances.ts';
import { paged, type Page } from './paging.ts';

export interface IncidentRow {
  id: string;
  incident_type: string;
  process_instance_id: string;
  definition_id: string;
  activity_id: string;
  /** For a failed external task, its id. */
  configuration: string | null;
  message: string | null;
  created_at: Date;
  end_time: Date | null;
  state: 'open' | 'resolved' | 'deleted';
  /** A person's note (PUT /incident/{id}/annotation). */
  annotation?: string | null;
  /** The execution it was raised on, when one was named (create-incident); it ends with that execution. */
  execution_id?: string | null;
}

export async function insertIncident(db: Db, row: Omit<IncidentRow, 'created_at' | 'end_time' | 'state' | 'annotation'>): Promise<void> {
  await db('incidents').insert(row);
}

/**
 * Ends (as deleted) the open incidents raised on these executions, which
 * ended or were cancelled: as Camunda removes an execution's incidents with it.
 */
export async function endIncidentsOfExecutions(db: Db, executions: ExecutionRef[]): Promise<void> {
  if (!executions.length) return;
  await db('incidents').whereIn(['process_instance_id', 'execution_id'], refPairs(executions)).whereNull('end_time').update({ end_time: db.fn.now(), state: 'deleted' });
}

/** Ends (as deleted) the open incidents raised on executions of an instance whose open elements were all cancelled. */
export async function endExecutionIncidentsOfInstance(db: Db, instanceId: string): Promise<void> {
  await db('incidents').where({ process_instance_id: instanceId }).whereNotNull('execution_id').whereNull('end_time').update({ end_time: db.fn.now(), state: 'deleted' });
}

/**
 * Ends the open incidents raised on these timers or external tasks, which
 * went away by another route (their task completed, their instance deleted):
 * an incident must not outlive what it is about.
 */
export async function endIncidentsOf(db: Db, configurations: string[]): Promise<void> {
  if (!configurations.length) return;
  await db('incidents').whereIn('configuration', configurations).whereNull('end_time').update({ end_time: db.fn.now(), state: 'deleted' });
}

/**
 * Resolves the open incidents of a configuration (an external task given
 * retries again, a failed timer fired by hand). One that this transaction
 * already ended as deleted, because the firing took its timer row along, is
 * resolved instead: `now()` is the transaction's start, so it marks the row.
 */
export async function resolveIncidents(db: Db, configuration: string, state: 'resolved' | 'deleted' = 'resolved'): Promise<void> {
  await db('incidents').where({ configuration }).andWhere((w) => w.whereNull('end_time').orWhere('end_time', db.fn.now()))
    .update({ end_time: db.fn.now(), state });
}

export interface IncidentQuery extends Page {
  id?: string | undefined;
  processInstanceId?: string | undefined;
  incidentType?: string | undefined;
  configuration?: string | undefined;
  open?: boolean | undefined;
  /** Camunda's historic open / resolved / deleted flags: each given one must hold (two together match nothing). */
  requiredStates?: IncidentRow['state'][] | undefined;
  processInstanceIds?: string[] | undefined;
  /** Only incidents of instances this user may see (not an administrator): in SQL, so paging and counts hold. */
  visibleTo?: { userId: string; groups: string[] } | undefined;
}

export async function queryIncidents(db: Db, q: IncidentQuery): Promise<IncidentRow[]> {
  return paged(incidentFilter(db, q).select('*'), q, [{ column: 'created_at', order: 'asc' }], 'id');
}

/** How many incidents `q` matches, counted by the database. */
export async function countIncidents(db: Db, q: IncidentQuery): Promise<number> {
  const [{ count }] = await incidentFilter(db, q).count({ count: '*' });
  return Number(count);
}

function incidentFilter(db: Db, q: IncidentQuery): Knex.QueryBuilder {
  const b = db('incidents');
  if (q.visibleTo) b.whereIn('process_instance_id', visibleInstanceIds(db, q.visibleTo));
  if (q.id) b.where('id', q.id);
  if (q.processInstanceId) b.where('process_instance_id', q.processInstanceId);
  if (q.processInstanceIds) b.whereIn('process_instance_id', q.processInstanceIds);
  if (q.incidentType) b.where('incident_type', q.incidentType);
  if (q.configuration) b.where('configuration', q.configuration);
  if (q.open === true) b.whereNull('end_time');
  if (q.open === false) b.whereNotNull('end_time');
  for (const state of q.requiredStates ?? []) b.where('state', state);
  return b;
}

/** An open incident, row-locked for a change. */
export async function lockOpenIncident(db: Db, id: string): Promise<IncidentRow | undefined> {
  return db('incidents').where({ id }).whereNull('end_time').forUpdate().first();
}

export async function setIncidentAnnotation(db: Db, id: string, annotation: string | null): Promise<void> {
  await db('incidents').where({ id }).update({ annotation });
}

/** Resolves one open incident by hand (Camunda's resolveIncident). */
export async function resolveIncident(db: Db, id: string): Promise<void> {
  await db('incidents').where({ id }).whereNull('end_time').update({ end_time: db.fn.now(), state: 'resolved' });
}
