import type { Knex } from 'knex';
import type { Db } from './db.ts';

/**
 * Camunda's engine metrics (GET /engine-rest/metrics…), counted from the
 * history rows that record each event with its time: not counters of their
 * own, so every server of a cluster answers the same. Only the names listed
 * here have such a source; the Prometheus metrics of http/metrics.ts are
 * another thing.
 */
const SOURCES = {
  'activity-instance-start': (db: Db) => ({ q: db('activity_instances'), at: 'start_time' }),
  'activity-instance-end': (db: Db) => ({ q: db('activity_instances').whereNotNull('end_time'), at: 'end_time' }),
  'root-process-instance-start': (db: Db) => ({ q: db('process_instances').whereNull('super_process_instance_id'), at: 'start_time' }),
  'executed-decision-instances': (db: Db) => ({ q: db('history_decision_instances'), at: 'evaluation_time' }),
} satisfies Record<string, (db: Db) => { q: Knex.QueryBuilder; at: string }>;

export type EngineMetricName = keyof typeof SOURCES;
export const ENGINE_METRIC_NAMES = Object.keys(SOURCES) as EngineMetricName[];

export interface MetricRange {
  /** Inclusive. */
  startDate?: Date | undefined;
  /** Exclusive. */
  endDate?: Date | undefined;
}

function ranged(db: Db, name: EngineMetricName, r: MetricRange): { q: Knex.QueryBuilder; at: string } {
  const { q, at } = SOURCES[name](db);
  if (r.startDate) q.where(at, '>=', r.startDate);
  if (r.endDate) q.where(at, '<', r.endDate);
  return { q, at };
}

/** How many `name` events fell in the range. */
export async function sumMetric(db: Db, name: EngineMetricName, r: MetricRange): Promise<number> {
  const [row] = await ranged(db, name, r).q.count({ n: '*' });
  return Number(row.n);
}

/**
 * `name`'s events per interval of `seconds`, aligned to the epoch as
 * Camunda's are, the latest first; only intervals with events.
 */
export async function metricIntervals(db: Db, name: EngineMetricName, r: MetricRange, seconds: number): Promise<{ start: Date; value: number }[]> {
  const { q, at } = ranged(db, name, r);
  const bucket = db.raw(`floor(extract(epoch from ${at}) / ?) * ?`, [seconds, seconds]);
  const rows: { bucket: string | number; n: string | number }[] = await q.select({ bucket }).count({ n: '*' }).groupByRaw('1').orderBy('bucket', 'desc');
  return rows.map((x) => ({ start: new Date(Number(x.bucket) * 1000), value: Number(x.n) }));
}
