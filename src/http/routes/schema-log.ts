import Router from '@koa/router';
import type { Context } from 'koa';
import type { SchemaLogService } from '../../services/schema-log.ts';
import { principalOf } from '../auth.ts';
import { formatDate } from '../format.ts';
import { pagingOf, paramsOf } from '../params.ts';

/** Camunda's `/schema/log` (GET by query string, POST by body; paging in the query string either way). */
export function makeSchemaLogRoutes(deps: { schemaLog: SchemaLogService }): Router {
  const router = new Router();
  const list = async (ctx: Context) => {
    const q = paramsOf(ctx, (p) => ({ version: p.string('version'), sorting: p.sorting({ timestamp: 'migration_time' }) }));
    const rows = await deps.schemaLog.list({ ...q, ...pagingOf(ctx) }, principalOf(ctx));
    ctx.body = rows.map((r) => ({ id: r.id, timestamp: formatDate(r.timestamp), version: r.version }));
  };
  router.get('/schema/log', list).post('/schema/log', list);
  return router;
}
