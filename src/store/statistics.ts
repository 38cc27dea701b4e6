import type { Knex } from 'knex';
import type { Db } from './db.ts';

/** Which incidents a statistics query counts (Camunda's incidents / incidentsForType / rootIncidents). */
export interface IncidentFilter {
  /** Count incidents at all. */
  include: boolean;
  /** Only this incident type. */
  type?: string | undefined;
}

export interface IncidentCount {
  key: string;
  incident_type: string;
  count: number;
}

const n = (v: unknown) => Number(v ?? 0);

/** Running instances per definition (suspended ones too: they are running). */
export async function runningInstancesByDefinition(db: Db): Promise<Map<string, number>> {
  const rows: { definition_id: string; n: string }[] = await db('process_instances').where('state', 'ACTIVE')
    .groupBy('definition_id').select('definition_id', db.raw('count(*) as n'));
  return new Map(rows.map((r) => [r.definition_id, n(r.n)]));
}

/**
 * Failed jobs (Camunda: retries = 0) grouped by `by`: timers that used up
 * their retries and wait for a person. `definitionId` narrows to one definition.
 */
export async function failedJobs(db: Db, by: 'definition_id' | 'activity_id', definitionId?: string): Promise<Map<string, number>> {
  const q = db('timers').where('retries', 0).groupBy(by).select(`${by} as key`, db.raw('count(*) as n'));
  if (definitionId) q.where('definition_id', definitionId);
  const rows: { key: string; n: string }[] = await q;
  return new Map(rows.map((r) => [r.key, n(r.n)]));
}

/** Open incidents per (definition or activity, incident type). */
export async function openIncidents(db: Db, by: 'definition_id' | 'activity_id', filter: IncidentFilter, definitionId?: string): Promise<IncidentCount[]> {
  if (!filter.include) return [];
  const q = db('incidents').whereNull('end_time').groupBy(by, 'incident_type')
    .select(`${by} as key`, 'incident_type', db.raw('count(*) as n')).orderBy([by, 'incident_type']);
  if (filter.type) q.where('incident_type', filter.type);
  if (definitionId) q.where('definition_id', definitionId);
  const rows: { key: string; incident_type: string; n: string }[] = await q;
  return rows.map((r) => ({ key: r.key, incident_type: r.incident_type, count: n(r.n) }));
}

/** Activity instances waiting in each activity of the running instances of a definition. */
export async function openActivities(db: Db, definitionId: string): Promise<Map<string, number>> {
  const rows: { activity_id: string; n: string }[] = await db('activity_instances as a')
    .join('process_instances as p', 'p.id', 'a.process_instance_id')
    .where('p.definition_id', definitionId).andWhere('p.state', 'ACTIVE').whereNull('a.end_time')
    .groupBy('a.activity_id').select('a.activity_id', db.raw('count(*) as n'));
  return new Map(rows.map((r) => [r.activity_id, n(r.n)]));
}

export interface HistoricActivityQuery {
  definitionId: string;
  finished: boolean;
  canceled: boolean;
  completeScope: boolean;
  incidents: boolean;
  startedBefore?: Date | undefined;
  startedAfter?: Date | undefined;
  finishedBefore?: Date | undefined;
  finishedAfter?: Date | undefined;
  processInstanceIds?: string[] | undefined;
  order: 'asc' | 'desc';
}

export interface HistoricActivityStatistics {
  id: string;
  instances: number;
  canceled: number;
  finished: number;
  completeScope: number;
  openIncidents: number;
  resolvedIncidents: number;
  deletedIncidents: number;
}

/**
 * Camunda's historic activity statistics: per activity of a definition, the
 * running instances and, when asked, the finished, canceled and
 * scope-completing ones (an end event that ended normally) and the incidents
 * by state. Without `finished`, only rows that count for what was asked are
 * read, as Camunda's own query does, so an activity that only ever finished
 * is not listed.
 */
export async function historicActivityStatistics(db: Db, q: HistoricActivityQuery): Promise<HistoricActivityStatistics[]> {
  const completesScope = "a.end_time is not null and not a.canceled and a.activity_type = 'endEvent'";
  const instanceFilter = (b: Knex.QueryBuilder, alias: string) => {
    b.join('process_instances as p', 'p.id', `${alias}.process_instance_id`).where('p.definition_id', q.definitionId);
    if (q.startedBefore) b.where('p.start_time', '<=', q.startedBefore);
    if (q.startedAfter) b.where('p.start_time', '>=', q.startedAfter);
    if (q.finishedBefore) b.where('p.end_time', '<=', q.finishedBefore);
    if (q.finishedAfter) b.where('p.end_time', '>=', q.finishedAfter);
    if (q.processInstanceIds) b.whereIn(`${alias}.process_instance_id`, q.processInstanceIds);
    return b;
  };
  const acts = instanceFilter(db('activity_instances as a'), 'a').groupBy('a.activity_id').select(
    'a.activity_id as id',
    db.raw('count(*) filter (where a.end_time is null) as instances'),
    db.raw('count(*) filter (where a.end_time is not null) as finished'),
    db.raw('count(*) filter (where a.canceled) as canceled'),
    db.raw(`count(*) filter (where ${completesScope}) as complete_scope`),
  );
  if (!q.finished) {
    acts.where((w) => {
      w.whereNull('a.end_time');
      if (q.canceled) w.orWhere('a.canceled', true);
      if (q.completeScope) w.orWhereRaw(completesScope);
    });
  }
  const incidents = q.incidents
    ? instanceFilter(db('incidents as i'), 'i').groupBy('i.activity_id').select(
      'i.activity_id as id',
      db.raw("count(*) filter (where i.state = 'open') as open"),
      db.raw("count(*) filter (where i.state = 'resolved') as resolved"),
      db.raw("count(*) filter (where i.state = 'deleted') as deleted"),
    )
    : Promise.resolve([]);
  const [actRows, incRows] = await Promise.all([acts, incidents]) as [Record<string, unknown>[], Record<string, unknown>[]];
  const out = new Map<string, HistoricActivityStatistics>();
  const entry = (id: string) => {
    if (!out.has(id)) out.set(id, { id, instances: 0, canceled: 0, finished: 0, completeScope: 0, openIncidents: 0, resolvedIncidents: 0, deletedIncidents: 0 });
    return out.get(id)!;
  };
  for (const r of actRows) {
    Object.assign(entry(String(r.id)), {
      instances: n(r.instances), finished: q.finished ? n(r.finished) : 0,
      canceled: q.canceled ? n(r.canceled) : 0, completeScope: q.completeScope ? n(r.complete_scope) : 0,
    });
  }
  for (const r of incRows) Object.assign(entry(String(r.id)), { openIncidents: n(r.open), resolvedIncidents: n(r.resolved), deletedIncidents: n(r.deleted) });
  const sorted = [...out.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return q.order === 'desc' ? sorted.reverse() : sorted;
}
