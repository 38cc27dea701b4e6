import Router from '@koa/router';
import type { Context } from 'koa';
import type { ExternalTaskLogService } from '../../services/external-task-log.ts';
import { externalTaskLogSortColumns, type ExternalTaskLogRow, type ExternalTaskLogState } from '../../store/external-task-log.ts';
import { ValidationError } from '../../errors.ts';
import { principalOf } from '../auth.ts';
import { formatDate } from '../format.ts';
import { pagingOf, paramsOf, type Params } from '../params.ts';

/** Camunda's HistoricExternalTaskLogDto; the activity instance id is the activity history's (`activityId:executionId`). */
const externalTaskLogDto = (l: ExternalTaskLogRow) => ({
  id: l.id, timestamp: formatDate(l.time), removalTime: null, externalTaskId: l.external_task_id, topicName: l.topic,
  workerId: l.worker_id, priority: l.priority, retries: l.retries, errorMessage: l.error_message, activityId: l.activity_id,
  activityInstanceId: `${l.activity_id}:${l.execution_id}`, executionId: l.execution_id, processInstanceId: l.process_instance_id,
  processDefinitionId: l.definition_id, processDefinitionKey: l.definition_key, tenantId: null, rootProcessInstanceId: l.process_instance_id,
  creationLog: l.state === 'creation', failureLog: l.state === 'failure', successLog: l.state === 'success', deletionLog: l.state === 'deletion',
});

const STATES: Record<string, ExternalTaskLogState> = { creationLog: 'creation', failureLog: 'failure', successLog: 'success', deletionLog: 'deletion' };

const filterOf = (q: Params) => {
  const refused = ['activityInstanceIdIn', 'tenantIdIn'].filter((k) => q.raw(k) != null && q.raw(k) !== '');
  if (refused.length) throw new ValidationError(`不支持的查询条件 / query fields not supported here: ${refused.join(', ')}`, { unsupported: refused });
  q.bool('withoutTenantId'); // no tenants: every log has none
  const states = Object.keys(STATES).filter((k) => q.bool(k) === true).map((k) => STATES[k]!);
  // Camunda's state flags each narrow: two of them match no log, which has one state.
  return {
    id: q.string('logId'), externalTaskId: q.string('externalTaskId'), topic: q.string('topicName'), workerId: q.string('workerId'),
    errorMessage: q.string('errorMessage'), activityIds: q.list('activityIdIn'), executionIds: q.list('executionIdIn'),
    processInstanceId: q.string('processInstanceId'), processDefinitionId: q.string('processDefinitionId'),
    processDefinitionKey: q.string('processDefinitionKey'), priorityAtMost: q.int('priorityLowerThanOrEquals', -(2 ** 31)),
    priorityAtLeast: q.int('priorityHigherThanOrEquals', -(2 ** 31)), states: states.length > 1 ? [] : states.length ? states : undefined,
    sorting: q.sorting(externalTaskLogSortColumns),
  };
};

/** `/history/external-task-log`: creation, failures and end of the external tasks of visible instances. */
export function makeExternalTaskLogRoutes(deps: { externalTaskLog: ExternalTaskLogService }): Router {
  const router = new Router();
  const list = async (ctx: Context) => {
    ctx.body = (await deps.externalTaskLog.query({ ...paramsOf(ctx, filterOf), ...pagingOf(ctx) }, principalOf(ctx))).map(externalTaskLogDto);
  };
  const count = async (ctx: Context) => {
    const { sorting: _s, ...filter } = paramsOf(ctx, filterOf);
    ctx.body = { count: await deps.externalTaskLog.count(filter, principalOf(ctx)) };
  };
  router.get('/history/external-task-log', list).post('/history/external-task-log', list);
  router.get('/history/external-task-log/count', count).post('/history/external-task-log/count', count);
  router.get('/history/external-task-log/:id', async (ctx) => {
    ctx.body = externalTaskLogDto(await deps.externalTaskLog.get(ctx.params.id, principalOf(ctx)));
  });
  router.get('/history/external-task-log/:id/error-details', async (ctx) => {
    const log = await deps.externalTaskLog.get(ctx.params.id, principalOf(ctx));
    // The trace row names the instance, which the text does not (http/read-trace.ts).
    ctx.state.processInstanceId = log.process_instance_id;
    ctx.type = 'text/plain';
    ctx.body = log.error_details ?? '';
  });
  return router;
}
