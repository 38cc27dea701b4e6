import Router from '@koa/router';
import type { Context } from 'koa';
import type { TraceService } from '../../services/trace.ts';
import type { TraceRow } from '../../store/trace.ts';
import { assertAdmin } from '../../services/instances.ts';
import { principalOf } from '../auth.ts';
import { formatDate } from '../format.ts';
import { queryOf, sortingOf } from '../params.ts';

/** A trace row in the shape of Camunda's user-operation log entry, plus what ours adds (source, reads, the chain). */
function entryDto(r: TraceRow) {
  const idOf = (type: string) => (r.entity_type === type ? r.entity_id : null);
  return {
    id: r.id, userId: r.user_id, timestamp: formatDate(r.time), operationType: r.operation, entityType: r.entity_type,
    processInstanceId: r.process_instance_id, rootProcessInstanceId: r.process_instance_id, processDefinitionId: null,
    processDefinitionKey: (r.details.processDefinitionKey as string | undefined) ?? null, deploymentId: idOf('Deployment'),
    taskId: idOf('Task'), jobId: idOf('Job'), externalTaskId: idOf('ExternalTask'), executionId: null, jobDefinitionId: null,
    batchId: null, operationId: r.id, property: null, orgValue: null, newValue: null, removalTime: null,
    annotation: typeof r.details.annotation === 'string' ? r.details.annotation : null,
    category: r.operation === 'Read' ? 'Read' : r.user_id === 'system' ? 'System' : 'Operator',
    // Ours:
    entityId: r.entity_id, source: r.source, details: r.details, hash: r.hash, prevHash: r.prev_hash,
  };
}

/**
 * `/history/user-operation`: Camunda's user-operation log, served from the
 * trace, which also records reads (`operationType=Read`, or `reads=true`).
 * `/trace/verify` (ours) checks the SM3 chain. Administrators only.
 */
export function makeTraceRoutes(deps: { trace: TraceService }): Router {
  const router = new Router();
  const filter = (ctx: Context) => {
    const q = queryOf(ctx);
    return {
      userId: q.string('userId'), operationType: q.string('operationType'), entityType: q.string('entityType'), entityId: q.string('entityId'),
      processInstanceId: q.string('processInstanceId'), afterTimestamp: q.date('afterTimestamp'), beforeTimestamp: q.date('beforeTimestamp'),
      reads: q.bool('reads'), sorting: sortingOf(ctx, { timestamp: 'id' }), firstResult: q.int('firstResult'), maxResults: q.int('maxResults'),
    };
  };
  router.get('/history/user-operation', async (ctx) => {
    ctx.body = (await deps.trace.query(filter(ctx), principalOf(ctx))).map(entryDto);
  });
  router.get('/history/user-operation/count', async (ctx) => {
    const { firstResult: _f, maxResults: _m, sorting: _s, ...rest } = filter(ctx);
    ctx.body = { count: await deps.trace.count(rest, principalOf(ctx)) };
  });
  router.get('/trace/verify', async (ctx) => {
    assertAdmin(principalOf(ctx));
    ctx.body = await deps.trace.verify();
  });
  return router;
}
