import Router from '@koa/router';
import type { Context } from 'koa';
import { ValidationError } from '../../errors.ts';
import type { CleanableReportService } from '../../services/cleanable-reports.ts';
import type { HistoryBatchService } from '../../services/history-batches.ts';
import type { HistoryCleanupService } from '../../services/history-cleanup.ts';
import type { CleanableQuery, CleanableRow } from '../../store/cleanable-reports.ts';
import type { CleanupJobRow } from '../../store/history-cleanup.ts';
import { principalOf } from '../auth.ts';
import { formatDate } from '../format.ts';
import { bodyObject, nestedParamsOf, queryOf } from '../params.ts';
import { batchDto } from './batches.ts';
import { historicInstanceFilter } from './history.ts';

/** The cleanup job as Camunda's JobDto: a job of no process, never suspended. */
const cleanupJobDto = (j: CleanupJobRow) => ({
  id: j.id, jobDefinitionId: null, processInstanceId: null, processDefinitionId: null, processDefinitionKey: null, executionId: null,
  exceptionMessage: j.last_error, failedActivityId: null, retries: j.retries, dueDate: formatDate(j.due_at), suspended: false,
  priority: 0, tenantId: null, createTime: formatDate(j.created_at), batchId: null,
});

/** Camunda's report criteria: `…IdIn`, `…KeyIn`, tenants, compact, sortBy=finished, paging. */
function reportQueryOf(ctx: Context, kind: 'process' | 'decision'): CleanableQuery & { tenants?: string[] | undefined; withoutTenant?: boolean | undefined } {
  const q = queryOf(ctx);
  const sorting = q.sorting({ finished: 'finished' });
  return {
    ids: q.list(`${kind}DefinitionIdIn`), keys: q.list(`${kind}DefinitionKeyIn`), tenants: q.list('tenantIdIn'), withoutTenant: q.bool('withoutTenantId'),
    compact: q.bool('compact'), order: sorting?.[0]?.order, firstResult: q.int('firstResult'), maxResults: q.int('maxResults'),
  };
}

/** Tenants: every definition here has none, so `tenantIdIn` matches none and `withoutTenantId` all. */
const noTenantMatch = (q: { tenants?: string[] | undefined }): boolean => !!q.tenants?.length;

const processDto = (r: CleanableRow) => ({
  processDefinitionId: r.id, processDefinitionKey: r.key, processDefinitionName: r.name, processDefinitionVersion: r.version,
  historyTimeToLive: r.history_ttl, finishedProcessInstanceCount: r.finished, cleanableProcessInstanceCount: r.cleanable, tenantId: r.tenant_id,
});
const decisionDto = (r: CleanableRow) => ({
  decisionDefinitionId: r.id, decisionDefinitionKey: r.key, decisionDefinitionName: r.name, decisionDefinitionVersion: r.version,
  historyTimeToLive: r.history_ttl, finishedDecisionInstanceCount: r.finished, cleanableDecisionInstanceCount: r.cleanable, tenantId: r.tenant_id,
});

const DELETE_FIELDS = ['historicProcessInstanceIds', 'historicProcessInstanceQuery', 'deleteReason', 'failIfNotExists'];

/** POST /history/process-instance/delete's body (Camunda's DeleteHistoricProcessInstancesDto). */
function historicDeletionOf(ctx: Context) {
  const body = bodyObject(ctx);
  const unknown = Object.keys(body).filter((k) => !DELETE_FIELDS.includes(k) && body[k] != null);
  if (unknown.length) throw new ValidationError(`不支持的字段 / not supported here: ${unknown.join(', ')}`, { unsupported: unknown });
  const ids = body.historicProcessInstanceIds ?? [];
  if (!Array.isArray(ids) || ids.some((v) => typeof v !== 'string' || !v)) {
    throw new ValidationError('historicProcessInstanceIds 必须是文本数组 / historicProcessInstanceIds must be an array of strings', { field: 'historicProcessInstanceIds' });
  }
  if (body.deleteReason != null && typeof body.deleteReason !== 'string') throw new ValidationError('deleteReason 必须是文本 / deleteReason must be a string', { field: 'deleteReason' });
  if (body.failIfNotExists != null && typeof body.failIfNotExists !== 'boolean') throw new ValidationError('failIfNotExists 必须是布尔值 / failIfNotExists must be a boolean', { field: 'failIfNotExists' });
  return {
    selection: { ids: ids as string[], historicQuery: nestedParamsOf(body.historicProcessInstanceQuery, 'historicProcessInstanceQuery', historicInstanceFilter) },
    options: { deleteReason: (body.deleteReason as string | undefined) ?? null, failIfNotExists: (body.failIfNotExists as boolean | undefined) ?? true },
  };
}

/**
 * Camunda's history cleanup (`/history/cleanup…`), cleanable reports and the
 * asynchronous deletion of historic process instances. Administrators only.
 */
export function makeHistoryCleanupRoutes(deps: { historyCleanup?: HistoryCleanupService | undefined; cleanableReports?: CleanableReportService | undefined; historyBatches?: HistoryBatchService | undefined }): Router {
  const router = new Router();
  // Read per request: building the app (the route table) needs no services.
  const cleanup = () => deps.historyCleanup!;
  const reports = () => deps.cleanableReports!;
  router.post('/history/cleanup', async (ctx) => {
    const immediatelyDue = queryOf(ctx).bool('immediatelyDue') ?? true;
    ctx.body = cleanupJobDto(await cleanup().schedule(immediatelyDue, principalOf(ctx)));
  });
  router.get('/history/cleanup/configuration', async (ctx) => {
    const c = await cleanup().configuration(principalOf(ctx));
    ctx.body = { batchWindowStartTime: formatDate(c.start), batchWindowEndTime: formatDate(c.end), enabled: c.enabled };
  });
  router.get('/history/cleanup/job', async (ctx) => {
    ctx.body = cleanupJobDto(await cleanup().job(principalOf(ctx)));
  });
  router.get('/history/cleanup/jobs', async (ctx) => {
    ctx.body = (await cleanup().jobs(principalOf(ctx))).map(cleanupJobDto);
  });

  const processReport = async (ctx: Context, counting = false) => {
    const q = reportQueryOf(ctx, 'process');
    const rows = await reports().processes(counting ? { ...q, firstResult: undefined, maxResults: undefined } : q, principalOf(ctx));
    return noTenantMatch(q) ? [] : rows;
  };
  router.get('/history/process-definition/cleanable-process-instance-report', async (ctx) => {
    ctx.body = (await processReport(ctx)).map(processDto);
  });
  router.get('/history/process-definition/cleanable-process-instance-report/count', async (ctx) => {
    ctx.body = { count: (await processReport(ctx, true)).length };
  });
  const decisionReport = async (ctx: Context, counting = false) => {
    const q = reportQueryOf(ctx, 'decision');
    const rows = await reports().decisions(counting ? { ...q, firstResult: undefined, maxResults: undefined } : q, principalOf(ctx));
    return noTenantMatch(q) ? [] : rows;
  };
  router.get('/history/decision-definition/cleanable-decision-instance-report', async (ctx) => {
    ctx.body = (await decisionReport(ctx)).map(decisionDto);
  });
  router.get('/history/decision-definition/cleanable-decision-instance-report/count', async (ctx) => {
    ctx.body = { count: (await decisionReport(ctx, true)).length };
  });
  const batchReport = async (ctx: Context, counting = false) => {
    const q = queryOf(ctx);
    const sorting = q.sorting({ finished: 'finished' });
    const page = counting ? {} : { firstResult: q.int('firstResult'), maxResults: q.int('maxResults') };
    return reports().batches({ order: sorting?.[0]?.order, ...page }, principalOf(ctx));
  };
  // No batch time to live is configured here (Camunda's batchOperationHistoryTimeToLive): none is cleanable.
  router.get('/history/batch/cleanable-batch-report', async (ctx) => {
    ctx.body = (await batchReport(ctx)).map((r) => ({ batchType: r.type, historyTimeToLive: null, finishedBatchesCount: r.finished, cleanableBatchesCount: 0 }));
  });
  router.get('/history/batch/cleanable-batch-report/count', async (ctx) => {
    ctx.body = { count: (await batchReport(ctx, true)).length };
  });

  router.post('/history/process-instance/delete', async (ctx) => {
    const { selection, options } = historicDeletionOf(ctx);
    ctx.body = batchDto(await deps.historyBatches!.deleteProcessInstances(selection, options, principalOf(ctx)));
  });
  return router;
}
