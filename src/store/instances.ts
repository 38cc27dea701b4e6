import type { Knex } from 'knex';
import type { EngineState } from '../engine/state.ts';
import type { Db } from './db.ts';
import { countOf, likePattern, paged } from './paging.ts';

export interface InstanceRow {
  id: string;
  definition_id: string;
  definition_key: string;
  business_key: string | null;
  tenant_id: string | null;
  state: 'ACTIVE' | 'COMPLETED' | 'EXTERNALLY_TERMINATED' | 'INTERNALLY_TERMINATED';
  engine_state: EngineState | null;
  rev: number;
  start_user_id: string | null;
  start_time: Date;
  end_time: Date | null;
  end_reason: string | null;
  /** The message start event it began at, when that start has its own compiled form. */
  start_event_id: string | null;
  /** For a call activity's child: the calling instance and the call activity's execution (see services/call-activities.ts). */
  super_process_instance_id?: string | null;
  super_execution_id?: string | null;
  /** Suspended (services/suspension.ts): nothing of it moves until it is activated. */
  suspended?: boolean;
}

export async function insertInstance(db: Db, row: Omit<InstanceRow, 'start_time' | 'end_time' | 'rev'> & { ended: boolean }): Promise<Omit<InstanceRow, 'engine_state'>> {
  const { ended, ...values } = row;
  const [inserted] = await db('process_instances').insert({
    ...values,
    engine_state: JSON.stringify(values.engine_state),
    rev: 1,
    end_time: ended ? db.fn.now() : null,
  }).returning(['id', 'definition_id', 'definition_key', 'business_key', 'tenant_id', 'state', 'rev', 'start_user_id', 'start_time', 'end_time', 'end_reason', 'start_event_id', 'super_process_instance_id', 'super_execution_id', 'suspended']);
  return inserted;
}

export async function findInstance(db: Db, id: string): Promise<InstanceRow | undefined> {
  return db('process_instances').where({ id }).first();
}

export async function findInstances(db: Db, ids: string[]): Promise<InstanceRow[]> {
  return db('process_instances').whereIn('id', ids);
}

/**
 * Moves an instance to its next revision without touching its engine state:
 * its variables changed outside an engine run, so a run that read the old
 * values must not save (its revision check fails and it runs again).
 */
export async function touchInstance(db: Db, id: string): Promise<void> {
  await db('process_instances').where({ id }).increment('rev', 1);
}

/**
 * Saves new engine states, each if, and only if, nobody saved its instance
 * since `rev` was read; one statement for one instance or a batch. Returns
 * the ids saved: one missing lost a race, and its caller re-reads and
 * retries, or reports a conflict.
 */
export async function saveInstanceStates(
  db: Db,
  changes: { id: string; rev: number; engineState: EngineState | null; ended: boolean }[],
): Promise<string[]> {
  if (!changes.length) return [];
  // In id order: two batches sharing instances then tend to lock them in one order, not deadlock.
  const sorted = [...changes].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const result = await db.raw(`update process_instances p set engine_state = c.engine_state, rev = p.rev + 1,
      state = case when c.ended then 'COMPLETED' else p.state end,
      end_time = case when c.ended then now() else p.end_time end
    from unnest(?::text[], ?::int[], ?::jsonb[], ?::boolean[]) as c(id, rev, engine_state, ended)
    where p.id = c.id and p.rev = c.rev
    returning p.id`, [
    sorted.map((c) => c.id), sorted.map((c) => c.rev),
    // A null element is SQL null (an ended instance keeps no state); Knex's types do not allow for it.
    sorted.map((c) => (c.engineState == null ? null : JSON.stringify(c.engineState))) as string[], sorted.map((c) => c.ended),
  ]);
  return ((result.rows ?? result) as { id: string }[]).map((r) => r.id);
}

/** Camunda's sortBy names for instances (runtime and history), and their columns. */
export const instanceSortColumns = {
  instanceId: 'id', definitionId: 'definition_id', definitionKey: 'definition_key', businessKey: 'business_key',
  startTime: 'start_time', endTime: 'end_time', tenantId: 'tenant_id',
} as const;

export interface InstanceQuery {
  sorting?: { column: string; order: 'asc' | 'desc' }[] | undefined;
  ids?: string[] | undefined;
  definitionId?: string | undefined;
  definitionKey?: string | undefined;
  businessKey?: string | undefined;
  /** SQL LIKE pattern (`%` and `_`), as Camunda's businessKeyLike. */
  businessKeyLike?: string | undefined;
  state?: InstanceRow['state'] | undefined;
  finished?: boolean | undefined;
  /** Camunda's superProcessInstance: the children this instance called. */
  superProcessInstance?: string | undefined;
  /** Camunda's subProcessInstance: the instance that called this one. */
  subProcessInstance?: string | undefined;
  /** Camunda's suspended / active: only suspended (true) or only active (false) instances. */
  suspended?: boolean | undefined;
  /** Camunda's startedBy: instances this user started. */
  startedBy?: string | undefined;
  /** Restricts to instances this user started or had a task in (non-administrators). */
  visibleTo?: { userId: string; groups: string[] } | undefined;
  firstResult?: number | undefined;
  maxResults?: number | undefined;
}

export async function listInstances(db: Db, query: InstanceQuery): Promise<Omit<InstanceRow, 'engine_state'>[]> {
  const q = filteredInstances(db, query)
    .select('i.id', 'i.definition_id', 'i.definition_key', 'i.business_key', 'i.tenant_id', 'i.state', 'i.rev',
      'i.start_user_id', 'i.start_time', 'i.end_time', 'i.end_reason', 'i.start_event_id', 'i.super_process_instance_id', 'i.super_execution_id', 'i.suspended');
  return paged(q, query, [{ column: 'start_time', order: 'desc' }], 'i.id', 'i.');
}

/** How many instances match, counted in the database (paging ignored). */
export async function countInstances(db: Db, query: InstanceQuery): Promise<number> {
  return countOf(filteredInstances(db, query));
}

function filteredInstances(db: Db, query: InstanceQuery): Knex.QueryBuilder {
  const q = db('process_instances as i');
  if (query.ids) q.whereIn('i.id', query.ids);
  if (query.definitionId) q.where('i.definition_id', query.definitionId);
  if (query.definitionKey) q.where('i.definition_key', query.definitionKey);
  if (query.businessKey) q.where('i.business_key', query.businessKey);
  if (query.businessKeyLike) q.whereLike('i.business_key', likePattern(query.businessKeyLike));
  if (query.state) q.where('i.state', query.state);
  if (query.finished === true) q.whereNot('i.state', 'ACTIVE');
  if (query.finished === false) q.where('i.state', 'ACTIVE');
  if (query.superProcessInstance) q.where('i.super_process_instance_id', query.superProcessInstance);
  if (query.subProcessInstance) q.whereIn('i.id', db('process_instances').select('super_process_instance_id').where('id', query.subProcessInstance));
  if (query.suspended !== undefined) q.where('i.suspended', query.suspended);
  if (query.startedBy) q.where('i.start_user_id', query.startedBy);
  if (query.visibleTo) whereVisible(db, q, query.visibleTo);
  return q;
}

/** Ids of the instances a user may see: a subquery for other tables' filters (timers of visible instances). */
export function visibleInstanceIds(db: Db, visibleTo: { userId: string; groups: string[] }): Knex.QueryBuilder {
  return whereVisible(db, db('process_instances as i'), visibleTo).select('i.id');
}

/**
 * A user sees an instance they started, one in which a task was assigned or
 * offered to them (or completed by them), one copied to them (抄送), or one
 * whose definition names their role among its candidate starters.
 */
function whereVisible(db: Db, q: Knex.QueryBuilder, { userId, groups }: { userId: string; groups: string[] }): Knex.QueryBuilder {
  return q.where((w) =>
    w.where('i.start_user_id', userId).orWhereExists((s) =>
      s.select(db.raw('1')).from('tasks as t').whereRaw('t.process_instance_id = i.id').andWhere((v) =>
        v.where('t.assignee', userId).orWhere('t.completed_by', userId)
          .orWhereRaw('? = any(t.candidate_users)', [userId])
          .orWhereRaw('t.candidate_groups && ?::text[]', [groups]),
      ),
    // 抄送: a copy of the instance lets its recipient read it as a participant (services/carbon-copies.ts).
    ).orWhereExists((s) =>
      s.select(db.raw('1')).from('carbon_copies as cc').whereRaw('cc.process_instance_id = i.id').andWhere('cc.user_id', userId),
    // The definition grants the role: it names it among its candidate starters.
    ).orWhereExists((s) =>
      s.select(db.raw('1')).from('process_definitions as d').whereRaw('d.id = i.definition_id')
        .andWhereRaw('jsonb_exists_any(d.starter_groups, ?::text[])', [groups]),
    ),
  );
}

/** Ends an instance from outside (deleted by a person) if nobody saved since `rev`. */
export async function terminateInstance(db: Db, id: string, rev: number, reason: string | null): Promise<boolean> {
  const count = await db('process_instances')
    .where({ id, rev, state: 'ACTIVE' })
    .update({ engine_state: null, rev: rev + 1, state: 'EXTERNALLY_TERMINATED', end_time: db.fn.now(), end_reason: reason });
  return count === 1;
}

/**
 * Ends the running children called by the given call activity executions
 * (all of an instance's when `executionIds` is null), and theirs, as Camunda
 * deletes a called instance with its call activity. Returns the ids ended.
 */
export async function endCalledInstances(
  db: Db, calls: { instanceId: string; executionIds: string[] | null }[], state: 'EXTERNALLY_TERMINATED' | 'INTERNALLY_TERMINATED', reason: string | null,
): Promise<string[]> {
  const ended: string[] = [];
  let level = calls;
  while (level.length) {
    const rows: { id: string }[] = await db('process_instances').where({ state: 'ACTIVE' }).andWhere((w) => {
      for (const c of level) {
        w.orWhere((o) => {
          o.where('super_process_instance_id', c.instanceId);
          if (c.executionIds) o.whereIn('super_execution_id', c.executionIds);
        });
      }
    }).update({ engine_state: null, rev: db.raw('rev + 1'), state, end_time: db.fn.now(), end_reason: reason }).returning('id');
    ended.push(...rows.map((r) => r.id));
    level = rows.map((r) => ({ instanceId: r.id, executionIds: null }));
  }
  return ended;
}

/** Marks a called instance that ended by throwing a BPMN error its caller caught: Camunda deletes it with the interrupted call activity. */
export async function markInternallyTerminated(db: Db, id: string): Promise<void> {
  await db('process_instances').where({ id }).update({ state: 'INTERNALLY_TERMINATED' });
}

/** The top instance of each called instance's chain of callers (Camunda's rootProcessInstanceId), by walking the links up. */
export async function rootInstances(db: Db, ids: string[]): Promise<Map<string, string>> {
  const roots = new Map<string, string>();
  let level = ids.map((id) => ({ asked: id, at: id }));
  for (let depth = 0; level.length && depth < 100; depth++) {
    const rows: { id: string; super_process_instance_id: string | null }[] = await db('process_instances')
      .whereIn('id', [...new Set(level.map((l) => l.at))]).select('id', 'super_process_instance_id');
    const up = new Map(rows.map((r) => [r.id, r.super_process_instance_id]));
    const next: typeof level = [];
    for (const l of level) {
      const caller = up.get(l.at);
      if (caller) next.push({ asked: l.asked, at: caller });
      else roots.set(l.asked, l.at);
    }
    level = next;
  }
  return roots;
}

/** The instances an instance's call activities called, by the call activity's execution id. */
export async function calledInstances(db: Db, instanceId: string): Promise<Map<string, string>> {
  const rows: { id: string; super_execution_id: string }[] = await db('process_instances').where({ super_process_instance_id: instanceId }).select('id', 'super_execution_id');
  return new Map(rows.map((r) => [r.super_execution_id, r.id]));
}
