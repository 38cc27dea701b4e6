import type { Knex } from 'knex';
import { refPairs, type Db, type ExecutionRef } from './db.ts';
import { logIdentityLinks, personChange, type IdentityLinkEntry } from './identity-link-log.ts';
import { visibleInstanceIds } from './instances.ts';
import { dropUnsentMailsOfTasks } from './notifications.ts';
import { deleteRemindersOfTasks } from './reminders.ts';
import { countOf, likePattern, paged } from './paging.ts';
import { suspendedColumn, whereInstanceSuspended } from './suspension.ts';

export interface TaskRow {
  id: string;
  process_instance_id: string;
  definition_id: string;
  definition_key: string;
  task_definition_key: string;
  execution_id: string;
  name: string | null;
  description: string | null;
  assignee: string | null;
  owner: string | null;
  candidate_users: string[];
  candidate_groups: string[];
  priority: number;
  due: Date | null;
  follow_up: Date | null;
  form_key: string | null;
  form_ref: string | null;
  created_at: Date;
  end_time: Date | null;
  delete_reason: string | null;
  completed_by: string | null;
  delegation_state: 'PENDING' | 'RESOLVED' | null;
  last_updated: Date | null;
  /** Its instance is suspended (read with the row by findTask and queryTasks). */
  suspended?: boolean;
}

export type NewTaskRow = Omit<TaskRow, 'created_at' | 'end_time' | 'delete_reason' | 'completed_by' | 'owner' | 'delegation_state' | 'last_updated' | 'suspended'>;

export async function insertTasks(db: Db, rows: NewTaskRow[]): Promise<void> {
  if (!rows.length) return;
  // A replayed wait (the engine re-announcing a task after recovery) must not open a second task.
  const inserted: Pick<TaskRow, 'id' | 'process_instance_id' | 'assignee' | 'candidate_users' | 'candidate_groups'>[] = await db('tasks').insert(rows)
    .onConflict(['process_instance_id', 'execution_id']).ignore().returning(['id', 'process_instance_id', 'assignee', 'candidate_users', 'candidate_groups']);
  // Who the diagram made it for, in Camunda's identity link log; nobody assigned it, so no assigner.
  await logIdentityLinks(db, inserted.flatMap((t) => [
    ...personChange(t, 'assignee', null, t.assignee, null),
    ...(t.candidate_users ?? []).map((u) => candidateEntry(t, 'user', u, true, null)),
    ...(t.candidate_groups ?? []).map((g) => candidateEntry(t, 'group', g, true, null)),
  ]));
}

const candidateEntry = (t: { id: string; process_instance_id: string }, kind: 'user' | 'group', name: string, add: boolean, by: string | null): IdentityLinkEntry => ({
  process_instance_id: t.process_instance_id, task_id: t.id, type: 'candidate', user_id: kind === 'user' ? name : null,
  group_id: kind === 'group' ? name : null, operation_type: add ? 'add' : 'delete', assigner_id: by,
});

export async function findTask(db: Db, id: string): Promise<TaskRow | undefined> {
  return db('tasks').where({ id }).first('tasks.*', suspendedColumn(db, 'tasks.process_instance_id'));
}

/** Locks a task's row until the transaction ends, if it is still open; whether it is. */
export async function lockOpenTask(db: Db, id: string): Promise<boolean> {
  return (await db('tasks').where({ id }).whereNull('end_time').forUpdate().first('id')) != null;
}

/** Ends the open tasks of these engine executions (completed, or cancelled by the engine), and drops their unsent mail and reminders. */
export async function endTasksByExecution(
  db: Db,
  executions: ExecutionRef[],
  end: { reason: 'completed' | 'deleted'; completedBy?: string | null },
): Promise<void> {
  if (!executions.length) return;
  const ended: { id: string }[] = await db('tasks')
    .whereIn(['process_instance_id', 'execution_id'], refPairs(executions))
    .whereNull('end_time')
    .update({ end_time: db.fn.now(), delete_reason: end.reason, completed_by: end.completedBy ?? null }, ['id']);
  await dropUnsentMailsOfTasks(db, ended.map((t) => t.id));
  await deleteRemindersOfTasks(db, ended.map((t) => t.id));
}

/** Open executions of an instance's tasks, keyed by execution id. */
export async function listOpenTasksOfInstance(db: Db, instanceId: string): Promise<TaskRow[]> {
  return db('tasks').where({ process_instance_id: instanceId }).whereNull('end_time');
}

/** The instance's open tasks, locked (in id order, so two lockers never deadlock) until the caller's transaction ends. */
export async function lockOpenTasksOfInstance(db: Db, instanceId: string): Promise<TaskRow[]> {
  return db('tasks').where({ process_instance_id: instanceId }).whereNull('end_time').orderBy('id').forUpdate();
}

/**
 * Sets the assignee only if the task is still open and its assignee is still
 * `expected`; returns false when someone else got there first.
 */
export async function setAssignee(db: Db, id: string, expected: string | null, assignee: string | null, by: string | null = null): Promise<boolean> {
  return updateOpenTask(db, id, expected, { assignee }, by);
}

export type TaskChange = Partial<Pick<TaskRow, 'assignee' | 'owner' | 'delegation_state' | 'name' | 'description' | 'priority' | 'due' | 'follow_up'>>;

/**
 * Changes an open task only if its assignee is still `expected` (a conditional
 * update, so two people changing one task cannot both think they won).
 */
export async function updateOpenTask(db: Db, id: string, expected: string | null, change: TaskChange, by: string | null = null): Promise<boolean> {
  const people = 'assignee' in change || 'owner' in change;
  // Locked so that the owner it had is the one this change replaces (the identity link log names both).
  const before: Pick<TaskRow, 'id' | 'process_instance_id' | 'assignee' | 'owner'> | undefined = people
    ? await db('tasks').where({ id }).forUpdate().first('id', 'process_instance_id', 'assignee', 'owner') : undefined;
  const q = db('tasks').where({ id }).whereNull('end_time');
  if (expected == null) q.whereNull('assignee');
  else q.where({ assignee: expected });
  const changed: unknown[] = await q.update({ ...change, last_updated: db.fn.now() }, ['id']);
  if (changed.length !== 1) return false;
  if (before) {
    await logIdentityLinks(db, [
      ...('assignee' in change ? personChange(before, 'assignee', before.assignee, change.assignee ?? null, by) : []),
      ...('owner' in change ? personChange(before, 'owner', before.owner, change.owner ?? null, by) : []),
    ]);
  }
  return true;
}

/**
 * Adds (or removes) a candidate user or group of an open task, in one
 * statement so concurrent changes of its candidates do not undo each other;
 * false when the task is no longer open.
 */
export async function changeTaskCandidate(db: Db, id: string, kind: 'user' | 'group', name: string, add: boolean, by: string | null = null): Promise<boolean> {
  const column = kind === 'user' ? 'candidate_users' : 'candidate_groups';
  const value = add
    ? db.raw(`case when ? = any(${column}) then ${column} else array_append(${column}, ?::text) end`, [name, name])
    : db.raw(`array_remove(${column}, ?::text)`, [name]);
  const changed: Pick<TaskRow, 'id' | 'process_instance_id'>[] = await db('tasks').where({ id }).whereNull('end_time')
    .update({ [column]: value, last_updated: db.fn.now() }, ['id', 'process_instance_id']);
  if (changed.length !== 1) return false;
  await logIdentityLinks(db, [candidateEntry(changed[0]!, kind, name, add, by)]);
  return true;
}

export interface TaskQuery {
  taskId?: string | undefined;
  assignee?: string | undefined;
  /** Candidate-user semantics: offered to this user or to one of `candidateUserGroups`. */
  candidateUser?: string | undefined;
  candidateUserGroups?: string[] | undefined;
  candidateGroups?: string[] | undefined;
  includeAssignedTasks?: boolean | undefined;
  unassigned?: boolean | undefined;
  assigned?: boolean | undefined;
  processInstanceId?: string | undefined;
  processDefinitionKey?: string | undefined;
  processDefinitionId?: string | undefined;
  taskDefinitionKey?: string | undefined;
  name?: string | undefined;
  nameLike?: string | undefined;
  /** Camunda's due-date filters: strictly before / after, or tasks without a due date. */
  dueBefore?: Date | undefined;
  dueAfter?: Date | undefined;
  withoutDueDate?: boolean | undefined;
  /** Inclusive priority bounds. */
  minPriority?: number | undefined;
  maxPriority?: number | undefined;
  /** Camunda's suspended / active: tasks of suspended (true) or active (false) instances. */
  suspended?: boolean | undefined;
  /** Non-administrators see only tasks assigned or offered to them. */
  visibleTo?: { userId: string; groups: string[] } | undefined;
  /**
   * Camunda's orQueries: each is a set of criteria of which any may match
   * ("assigned to me OR offered to my groups"); all of them and the rest of
   * the query must hold.
   */
  orQueries?: OrTaskQuery[] | undefined;
  /** `open` for the runtime view, `all` for history. */
  scope: 'open' | 'all';
  finished?: boolean | undefined;
  sorting?: { column: TaskSortColumn; order: 'asc' | 'desc' }[] | undefined;
  firstResult?: number | undefined;
  maxResults?: number | undefined;
}

export interface OrTaskQuery {
  assignee?: string | undefined;
  candidateUser?: string | undefined;
  candidateUserGroups?: string[] | undefined;
  candidateGroups?: string[] | undefined;
  unassigned?: boolean | undefined;
  processDefinitionKey?: string | undefined;
  nameLike?: string | undefined;
}

export const taskSortColumns = { created: 'created_at', priority: 'priority', dueDate: 'due', name: 'name', assignee: 'assignee', id: 'id', endTime: 'end_time' } as const;
export type TaskSortColumn = (typeof taskSortColumns)[keyof typeof taskSortColumns];

export async function queryTasks(db: Db, query: TaskQuery): Promise<TaskRow[]> {
  return paged(filtered(db, query).select('tasks.*', suspendedColumn(db, 'tasks.process_instance_id')), query, [{ column: 'created_at', order: 'asc' }], 'id');
}

export async function countTasks(db: Db, query: TaskQuery): Promise<number> {
  return countOf(filtered(db, query));
}

function filtered(db: Db, query: TaskQuery): Knex.QueryBuilder {
  const q = db('tasks');
  if (query.scope === 'open') q.whereNull('end_time');
  if (query.finished === true) q.whereNotNull('end_time');
  if (query.finished === false) q.whereNull('end_time');
  if (query.taskId) q.where('id', query.taskId);
  if (query.assignee) q.where('assignee', query.assignee);
  if (query.processInstanceId) q.where('process_instance_id', query.processInstanceId);
  if (query.processDefinitionKey) q.where('definition_key', query.processDefinitionKey);
  if (query.processDefinitionId) q.where('definition_id', query.processDefinitionId);
  if (query.taskDefinitionKey) q.where('task_definition_key', query.taskDefinitionKey);
  if (query.name) q.where('name', query.name);
  if (query.nameLike) q.whereLike('name', likePattern(query.nameLike));
  if (query.unassigned) q.whereNull('assignee');
  if (query.assigned) q.whereNotNull('assignee');
  if (query.dueBefore) q.where('due', '<', query.dueBefore);
  if (query.dueAfter) q.where('due', '>', query.dueAfter);
  if (query.withoutDueDate) q.whereNull('due');
  if (query.minPriority != null) q.where('priority', '>=', query.minPriority);
  if (query.maxPriority != null) q.where('priority', '<=', query.maxPriority);
  whereInstanceSuspended(db, q, 'process_instance_id', query.suspended);
  const candidate = query.candidateUser != null || query.candidateGroups != null;
  if (candidate) {
    q.where((w) => {
      if (query.candidateUser != null) {
        w.orWhereRaw('? = any(candidate_users)', [query.candidateUser]);
        w.orWhereRaw('candidate_groups && ?::text[]', [query.candidateUserGroups ?? []]);
      }
      if (query.candidateGroups != null) w.orWhereRaw('candidate_groups && ?::text[]', [query.candidateGroups]);
    });
    // Camunda: a candidate query shows tasks still up for grabs unless asked otherwise.
    if (!query.includeAssignedTasks) q.whereNull('assignee');
  }
  for (const or of query.orQueries ?? []) {
    q.where((w) => {
      if (or.assignee) w.orWhere('assignee', or.assignee);
      if (or.candidateUser != null) {
        w.orWhereRaw('? = any(candidate_users)', [or.candidateUser]).orWhereRaw('candidate_groups && ?::text[]', [or.candidateUserGroups ?? []]);
      }
      if (or.candidateGroups) w.orWhereRaw('candidate_groups && ?::text[]', [or.candidateGroups]);
      if (or.unassigned) w.orWhereNull('assignee');
      if (or.processDefinitionKey) w.orWhere('definition_key', or.processDefinitionKey);
      if (or.nameLike) w.orWhereLike('name', likePattern(or.nameLike));
    });
  }
  if (query.visibleTo) {
    const { userId, groups } = query.visibleTo;
    q.where((w) => {
      w.where('assignee', userId)
        .orWhere('completed_by', userId)
        .orWhereRaw('? = any(candidate_users)', [userId])
        .orWhereRaw('candidate_groups && ?::text[]', [groups]);
      // In history, every task of an instance the user may see is part of its story: who did what.
      if (query.scope === 'all') w.orWhereIn('process_instance_id', visibleInstanceIds(db, query.visibleTo!));
    });
  }
  return q;
}

/** Deletes (ends) every open task of an instance, for an instance that was ended from outside, and drops their unsent mail and reminders. */
export async function endOpenTasksOfInstance(db: Db, instanceId: string): Promise<void> {
  const ended: { id: string }[] = await db('tasks').where({ process_instance_id: instanceId }).whereNull('end_time').update({ end_time: db.fn.now(), delete_reason: 'deleted' }, ['id']);
  await dropUnsentMailsOfTasks(db, ended.map((t) => t.id));
  await deleteRemindersOfTasks(db, ended.map((t) => t.id));
}

/** Whether the user has an open task in the instance: assigned to them or offered to them. */
export async function hasOpenTaskFor(db: Db, instanceId: string, who: { userId: string; groups: string[] }): Promise<boolean> {
  const row = await db('tasks').where({ process_instance_id: instanceId }).whereNull('end_time')
    .andWhere((w) => w.where('assignee', who.userId).orWhereRaw('? = any(candidate_users)', [who.userId])
      .orWhereRaw('candidate_groups && ?::text[]', [who.groups]))
    .first('id');
  return row != null;
}

/**
 * Camunda's task report by candidate group: open unassigned tasks counted
 * under each of their candidate groups, those offered to no group under
 * null (first, as Camunda's documented example shows it).
 */
export async function countTasksByCandidateGroup(db: Db): Promise<{ group_name: string | null; task_count: number }[]> {
  const { rows } = await db.raw(`
    select g.group_name, count(*)::int as task_count
    from tasks t
    left join lateral unnest(case when cardinality(t.candidate_groups) = 0 then array[null::text] else t.candidate_groups end) as g(group_name) on true
    where t.end_time is null and t.assignee is null
    group by g.group_name
    order by g.group_name asc nulls first`);
  return rows;
}
