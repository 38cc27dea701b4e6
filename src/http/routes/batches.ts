import Router from '@koa/router';
import type { Context } from 'koa';
import type { BatchService } from '../../services/batches.ts';
import type { BatchFigures, BatchQuery, BatchRow } from '../../store/batches.ts';
import { principalOf } from '../auth.ts';
import { formatDate } from '../format.ts';
import { bodyObject, queryOf } from '../params.ts';

/**
 * Camunda's batch. All its jobs are created with the batch (no seed job
 * runs), one instance per job; this server has no job definitions for
 * batches, so their ids are null.
 */
export function batchDto(b: BatchRow) {
  return {
    id: b.id, type: b.type, totalJobs: b.total_jobs, jobsCreated: b.total_jobs, batchJobsPerSeed: b.total_jobs,
    invocationsPerBatchJob: b.invocations_per_batch_job, seedJobDefinitionId: null, monitorJobDefinitionId: null, batchJobDefinitionId: null,
    suspended: b.suspended, tenantId: b.tenant_id, createUserId: b.create_user_id, startTime: formatDate(b.start_time), executionStartTime: formatDate(b.start_time),
  };
}

const statisticsDto = (b: BatchFigures) => ({ ...batchDto(b), remainingJobs: b.remaining, completedJobs: b.completed, failedJobs: b.failed });

const historicDto = (b: BatchRow) => {
  const { jobsCreated: _j, suspended: _s, ...rest } = batchDto(b);
  return { ...rest, endTime: formatDate(b.end_time), removalTime: null };
};

function filterOf(ctx: Context): BatchQuery {
  const q = queryOf(ctx);
  return { id: q.string('batchId'), type: q.string('type'), suspended: q.bool('suspended'), firstResult: q.int('firstResult'), maxResults: q.int('maxResults') };
}

/** `/batch` (running batches), `/batch/statistics`, and `/history/batch` (running and ended). Administrators only. */
export function makeBatchRoutes(deps: { batches: BatchService }): Router {
  const router = new Router();
  router.get('/batch', async (ctx) => {
    ctx.body = (await deps.batches.list({ ...filterOf(ctx), ended: false }, principalOf(ctx))).map(batchDto);
  });
  router.get('/batch/count', async (ctx) => {
    const { firstResult: _f, maxResults: _m, ...q } = filterOf(ctx);
    ctx.body = { count: await deps.batches.count({ ...q, ended: false }, principalOf(ctx)) };
  });
  router.get('/batch/statistics', async (ctx) => {
    ctx.body = (await deps.batches.list({ ...filterOf(ctx), ended: false }, principalOf(ctx))).map(statisticsDto);
  });
  router.get('/batch/statistics/count', async (ctx) => {
    const { firstResult: _f, maxResults: _m, ...q } = filterOf(ctx);
    ctx.body = { count: await deps.batches.count({ ...q, ended: false }, principalOf(ctx)) };
  });
  router.get('/batch/:id', async (ctx) => {
    ctx.body = batchDto(await deps.batches.get(ctx.params.id, principalOf(ctx)));
  });
  router.put('/batch/:id/suspended', async (ctx) => {
    await deps.batches.suspend(ctx.params.id, bodyObject(ctx).suspended, principalOf(ctx));
    ctx.status = 204;
  });
  router.delete('/batch/:id', async (ctx) => {
    await deps.batches.remove(ctx.params.id, queryOf(ctx).bool('cascade') ?? false, principalOf(ctx));
    ctx.status = 204;
  });
  router.get('/history/batch', async (ctx) => {
    const q = queryOf(ctx);
    const completed = q.bool('completed');
    ctx.body = (await deps.batches.list({ ...filterOf(ctx), ended: completed }, principalOf(ctx))).map(historicDto);
  });
  router.get('/history/batch/count', async (ctx) => {
    const { firstResult: _f, maxResults: _m, ...q } = filterOf(ctx);
    ctx.body = { count: await deps.batches.count({ ...q, ended: queryOf(ctx).bool('completed') }, principalOf(ctx)) };
  });
  router.delete('/history/batch/:id', async (ctx) => {
    await deps.batches.removeHistory(ctx.params.id, principalOf(ctx));
    ctx.status = 204;
  });
  router.get('/history/batch/:id', async (ctx) => {
    ctx.body = historicDto(await deps.batches.history(ctx.params.id, principalOf(ctx)));
  });
  return router;
}
