import type { Knex } from 'knex';
import { ValidationError } from '../errors.ts';
import { ENGINE_METRIC_NAMES, metricIntervals, sumMetric, type EngineMetricName, type MetricRange } from '../store/engine-metrics.ts';
import type { Principal } from '../types.ts';
import { assertAdmin } from './instances.ts';

/** Camunda's cap on an interval query (MetricsQueryImpl): more rows are refused, not cut. */
export const MAX_INTERVAL_ROWS = 200;

/** A name we count, or a 400 naming it and those we do. */
export function checkMetricName(name: string): EngineMetricName {
  if ((ENGINE_METRIC_NAMES as string[]).includes(name)) return name as EngineMetricName;
  throw new ValidationError(
    `本服务不记录指标 ${name} / metric ${name} is not recorded by this server; it counts ${ENGINE_METRIC_NAMES.join(', ')}`,
    { metric: name, supported: ENGINE_METRIC_NAMES },
  );
}

export interface IntervalQuery extends MetricRange {
  name?: EngineMetricName | undefined;
  /** Seconds. */
  interval: number;
  firstResult: number;
  maxResults: number;
}

/** GET /metrics/{name}/sum and GET /metrics: Camunda's engine metrics, for administrators. */
export function makeEngineMetricsService(db: Knex) {
  return {
    async sum(name: EngineMetricName, range: MetricRange, principal: Principal): Promise<number> {
      assertAdmin(principal);
      return sumMetric(db, name, range);
    },
    /** Each metric's intervals, the latest first (then by name), paged as one list. */
    async intervals(q: IntervalQuery, principal: Principal) {
      assertAdmin(principal);
      const names = q.name ? [q.name] : ENGINE_METRIC_NAMES;
      const all = (await Promise.all(names.map(async (name) => (await metricIntervals(db, name, q, q.interval)).map((i) => ({ name, ...i }))))).flat();
      all.sort((a, b) => b.start.getTime() - a.start.getTime() || a.name.localeCompare(b.name));
      return all.slice(q.firstResult, q.firstResult + q.maxResults);
    },
  };
}

export type EngineMetricsService = ReturnType<typeof makeEngineMetricsService>;
