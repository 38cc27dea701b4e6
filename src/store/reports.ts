import type { Knex } from 'knex';
import type { Db } from './db.ts';

export type PeriodUnit = 'MONTH' | 'QUARTER';

export interface DurationFigures {
  period: number;
  minimum: number;
  maximum: number;
  average: number;
}

/**
 * Minimum, maximum and average duration (ms) per month or quarter of `column`
 * in `zone`, over all years together, as Camunda's duration reports group
 * (period 1–12 or 1–4).
 */
async function durationsByPeriod(db: Db, q: Knex.QueryBuilder, start: string, end: string, periodOf: string, unit: PeriodUnit, zone: string): Promise<DurationFigures[]> {
  const period = `extract(${unit === 'MONTH' ? 'month' : 'quarter'} from ${periodOf} at time zone ?)`;
  // Whole milliseconds of each end, as the history's durationInMillis counts them.
  const ms = `(floor(extract(epoch from ${end}) * 1000) - floor(extract(epoch from ${start}) * 1000))`;
  const rows: Record<string, string>[] = await q.select(
    db.raw(`${period}::int as period`, [zone]), db.raw(`min(${ms}) as minimum`), db.raw(`max(${ms}) as maximum`), db.raw(`avg(${ms}) as average`),
  ).groupByRaw('1').orderByRaw('1');
  return rows.map((r) => ({ period: Number(r.period), minimum: Math.round(Number(r.minimum)), maximum: Math.round(Number(r.maximum)), average: Math.round(Number(r.average)) }));
}

export interface InstanceDurationQuery {
  unit: PeriodUnit;
  definitionIds?: string[] | undefined;
  definitionKeys?: string[] | undefined;
  startedBefore?: Date | undefined;
  startedAfter?: Date | undefined;
}

/** Durations of finished process instances by the period they started in. */
export function instanceDurations(db: Db, q: InstanceDurationQuery, zone: string): Promise<DurationFigures[]> {
  const b = db('process_instances').whereNotNull('end_time');
  if (q.definitionIds) b.whereIn('definition_id', q.definitionIds);
  if (q.definitionKeys) b.whereIn('definition_key', q.definitionKeys);
  if (q.startedBefore) b.where('start_time', '<=', q.startedBefore);
  if (q.startedAfter) b.where('start_time', '>=', q.startedAfter);
  return durationsByPeriod(db, b, 'start_time', 'end_time', 'start_time', q.unit, zone);
}

export interface TaskReportQuery {
  completedBefore?: Date | undefined;
  completedAfter?: Date | undefined;
}

const completedTasks = (db: Db, q: TaskReportQuery) => {
  const b = db('tasks as t').whereNotNull('t.end_time');
  if (q.completedBefore) b.where('t.end_time', '<=', q.completedBefore);
  if (q.completedAfter) b.where('t.end_time', '>=', q.completedAfter);
  return b;
};

/** Durations of ended tasks by the period they ended in. */
export function taskDurations(db: Db, q: TaskReportQuery & { unit: PeriodUnit }, zone: string): Promise<DurationFigures[]> {
  return durationsByPeriod(db, completedTasks(db, q), 't.created_at', 't.end_time', 't.end_time', q.unit, zone);
}

export interface TaskCount {
  task_name: string | null;
  definition_key: string;
  definition_id: string;
  definition_name: string | null;
  count: number;
}

/**
 * Ended tasks counted per process definition key, or per task name and key;
 * each group names the latest version of its definition, as Camunda's
 * report does. Tasks without a name are left out of the by-name report.
 */
export async function taskCounts(db: Db, q: TaskReportQuery, groupBy: 'taskName' | 'processDefinition'): Promise<TaskCount[]> {
  const counts = completedTasks(db, q).groupBy('t.definition_key').select('t.definition_key', db.raw('count(*) as n'));
  if (groupBy === 'taskName') counts.groupBy('t.name').select('t.name as task_name').whereNotNull('t.name').where('t.name', '<>', '');
  const latest = db('process_definitions').select('key', db.raw('max(version) as version')).whereNull('tenant_id').groupBy('key');
  const rows: Record<string, unknown>[] = await db.from(counts.as('c'))
    .join(latest.as('l'), 'l.key', 'c.definition_key')
    .join('process_definitions as d', (j) => j.on('d.key', 'l.key').andOn('d.version', 'l.version').andOnNull('d.tenant_id'))
    .select('c.*', 'd.id as definition_id', 'd.name as definition_name')
    .orderBy(groupBy === 'taskName' ? [{ column: 'c.task_name' }, { column: 'c.n', order: 'desc' }] : [{ column: 'c.definition_key' }]);
  return rows.map((r) => ({
    task_name: (r.task_name as string | undefined) ?? null, definition_key: String(r.definition_key), definition_id: String(r.definition_id),
    definition_name: (r.definition_name as string | null) ?? null, count: Number(r.n),
  }));
}
