import Router from '@koa/router';
import { ValidationError } from '../../errors.ts';
import { checkMetricName, MAX_INTERVAL_ROWS, type EngineMetricsService } from '../../services/engine-metrics.ts';
import { principalOf } from '../auth.ts';
import { formatDate } from '../format.ts';
import { queryOf } from '../params.ts';

/**
 * Camunda's engine metrics under /engine-rest/metrics (the server's own
 * Prometheus text is /metrics at the root, outside the API).
 */
export function makeEngineMetricsRoutes(deps: { engineMetrics: EngineMetricsService }): Router {
  const router = new Router();
  router.get('/metrics/:name/sum', async (ctx) => {
    const q = queryOf(ctx);
    const range = { startDate: q.date('startDate'), endDate: q.date('endDate') };
    ctx.body = { result: await deps.engineMetrics.sum(checkMetricName(ctx.params.name), range, principalOf(ctx)) };
  });
  router.get('/metrics', async (ctx) => {
    const q = queryOf(ctx);
    const name = q.string('name');
    // Every event here is the cluster's, recorded in the one database: there are no reporters to tell apart.
    if (q.string('reporter') !== undefined) {
      throw new ValidationError('本服务的指标不分报告者 / this server records no metric reporters (parameter reporter)', { field: 'reporter' });
    }
    // No reporters: aggregated by reporter or not, the answer is the same (read only to check it).
    q.bool('aggregateByReporter');
    const interval = q.int('interval', 1) ?? 900;
    const maxResults = q.int('maxResults') ?? MAX_INTERVAL_ROWS;
    if (maxResults > MAX_INTERVAL_ROWS) {
      throw new ValidationError(`maxResults 不能超过 ${MAX_INTERVAL_ROWS} / Metrics interval query row limit can't be set larger than ${MAX_INTERVAL_ROWS}.`, { field: 'maxResults' });
    }
    const rows = await deps.engineMetrics.intervals({
      name: name === undefined ? undefined : checkMetricName(name), startDate: q.date('startDate'), endDate: q.date('endDate'),
      interval, firstResult: q.int('firstResult') ?? 0, maxResults,
    }, principalOf(ctx));
    ctx.body = rows.map((r) => ({ timestamp: formatDate(r.start), name: r.name, reporter: null, value: r.value }));
  });
  return router;
}
