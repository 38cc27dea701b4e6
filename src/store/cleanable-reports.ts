import type { Knex } from 'knex';
import type { Db } from './db.ts';
import { ORPHAN } from './history-cleanup.ts';

/** Camunda's cleanable-report criteria, shared by the process and decision reports. */
export interface CleanableQuery {
  ids?: string[] | undefined;
  keys?: string[] | undefined;
  /** Only definitions with finished instances (Camunda's `compact`). */
  compact?: boolean | undefined;
  order?: 'asc' | 'desc' | undefined;
  firstResult?: number | undefined;
  maxResults?: number | undefined;
}

export interface CleanableRow {
  id: string;
  key: string;
  name: string | null;
  version: number;
  history_ttl: number | null;
  tenant_id: string | null;
  finished: number;
  cleanable: number;
}

/**
 * Each finished instance with its removal time: its root's end plus the root
 * definition's time to live (null when that definition has none), as the
 * cleanup reckons it (store/history-cleanup.ts).
 */
const REMOVAL = `
  with recursive lineage(id, root_id) as (
    select id, id from process_instances pi where super_process_instance_id is null or ${ORPHAN}
    union all
    select c.id, l.root_id from process_instances c join lineage l on c.super_process_instance_id = l.id
  ), removal as (
    select l.id, r.end_time + rd.history_ttl * interval '1 day' as removal_time
    from lineage l join process_instances r on r.id = l.root_id join process_definitions rd on rd.id = r.definition_id
    where r.end_time is not null and r.state <> 'ACTIVE'
  )`;

function page(q: CleanableQuery, args: Knex.RawBinding[]): string {
  let sql = ` order by finished ${q.order === 'desc' ? 'desc' : 'asc'}, id`;
  if (q.maxResults != null) {
    sql += ' limit ?';
    args.push(q.maxResults);
  }
  if (q.firstResult) {
    sql += ' offset ?';
    args.push(q.firstResult);
  }
  return sql;
}

function where(q: CleanableQuery, alias: string, args: Knex.RawBinding[]): string {
  const parts: string[] = [];
  for (const [list, column] of [[q.ids, 'id'], [q.keys, 'key']] as const) {
    if (!list) continue;
    parts.push(list.length ? `${alias}.${column} in (${list.map(() => '?').join(', ')})` : 'false');
    args.push(...list);
  }
  return parts.length ? ` where ${parts.join(' and ')}` : '';
}

async function rows<T>(db: Db, sql: string, args: Knex.RawBinding[]): Promise<T[]> {
  const result = await db.raw(sql, args);
  return (result.rows ?? result) as T[];
}

/** Process definitions with their finished and cleanable (removal time passed at `now`) instances. */
export async function cleanableProcessReport(db: Db, q: CleanableQuery, now: Date): Promise<CleanableRow[]> {
  const args: Knex.RawBinding[] = [now];
  const sql = `${REMOVAL}
    select * from (
      select d.id, d.key, d.name, d.version, d.history_ttl, d.tenant_id,
        (select count(*)::int from process_instances p where p.definition_id = d.id and p.end_time is not null and p.state <> 'ACTIVE') as finished,
        (select count(*)::int from process_instances p join removal r on r.id = p.id where p.definition_id = d.id and r.removal_time <= ?) as cleanable
      from process_definitions d ${where(q, 'd', args)}
    ) x ${q.compact ? 'where finished > 0' : ''}`;
  return rows(db, sql + page(q, args), args);
}

/**
 * Decision definitions with their evaluations (all are finished) and those
 * whose removal time passed at `now`: a standalone evaluation's own plus its
 * definition's time to live, one within a process instance its instance's.
 */
export async function cleanableDecisionReport(db: Db, q: CleanableQuery, now: Date): Promise<CleanableRow[]> {
  const args: Knex.RawBinding[] = [now, now];
  const sql = `${REMOVAL}
    select * from (
      select d.id, d.key, d.name, d.version, d.history_ttl, d.tenant_id,
        (select count(*)::int from history_decision_instances h where h.decision_definition_id = d.id) as finished,
        (select count(*)::int from history_decision_instances h left join removal r on r.id = h.process_instance_id
          where h.decision_definition_id = d.id and (
            (h.process_instance_id is null and h.root_decision_instance_id is null and d.history_ttl is not null and h.evaluation_time + d.history_ttl * interval '1 day' <= ?)
            or r.removal_time <= ?)) as cleanable
      from decision_definitions d ${where(q, 'd', args)}
    ) x ${q.compact ? 'where finished > 0' : ''}`;
  return rows(db, sql + page(q, args), args);
}

export interface CleanableBatchRow {
  type: string;
  finished: number;
}

/** Ended batches by type (no batch time to live is configured here, so none is cleanable). */
export async function finishedBatchesByType(db: Db, q: Pick<CleanableQuery, 'order' | 'firstResult' | 'maxResults'>): Promise<CleanableBatchRow[]> {
  const args: Knex.RawBinding[] = [];
  const sql = `select type, type as id, count(*)::int as finished from batches where end_time is not null group by type`;
  return rows(db, sql + page(q, args), args);
}
