import Router from '@koa/router';
import type { Context } from 'koa';
import type { HistoryService } from '../../services/history.ts';
import type { HistoryDeletionService } from '../../services/history-deletion.ts';
import type { TaskService } from '../../services/tasks.ts';
import { instanceSortColumns } from '../../store/instances.ts';
import { taskSortColumns } from '../../store/tasks.ts';
import { ValidationError } from '../../errors.ts';
import { principalOf } from '../auth.ts';
import { formatDate } from '../format.ts';
import { pagingOf, paramsOf, queryOf, type Params } from '../params.ts';

const duration = (start: Date, end: Date | null) => (end ? new Date(end).getTime() - new Date(start).getTime() : null);

/**
 * Camunda's state filters of GET /history/process-instance, one at most (its
 * query refuses a second: "Already querying for historic process instance
 * with another state"). SUSPENDED and ACTIVE are both running instances here,
 * told apart by the runtime's `suspended`.
 */
const STATE_FILTERS = {
  active: { state: 'ACTIVE', suspended: false },
  suspended: { state: 'ACTIVE', suspended: true },
  completed: { state: 'COMPLETED' },
  externallyTerminated: { state: 'EXTERNALLY_TERMINATED' },
  internallyTerminated: { state: 'INTERNALLY_TERMINATED' },
} as const;

function stateFilter(q: Params): { state?: 'ACTIVE' | 'COMPLETED' | 'EXTERNALLY_TERMINATED' | 'INTERNALLY_TERMINATED'; suspended?: boolean } {
  const set = (Object.keys(STATE_FILTERS) as (keyof typeof STATE_FILTERS)[]).filter((k) => q.bool(k) === true);
  if (set.length > 1) {
    throw new ValidationError(`只能按一种状态查询 / Already querying for historic process instance with another state: ${set.join(', ')}`, { fields: set });
  }
  return set.length ? { ...STATE_FILTERS[set[0]!] } : {};
}

/** Camunda's historic state: a running instance that is suspended is SUSPENDED. */
const historicState = (r: { state: string; suspended?: boolean | undefined }) => (r.state === 'ACTIVE' && r.suspended ? 'SUSPENDED' : r.state);

/** GET /history/process-instance's criteria (also the historicProcessInstanceQuery of the batch operations). */
export const historicInstanceFilter = (q: Params) => {
  const [ids, id] = [q.list('processInstanceIds'), q.string('processInstanceId')];
  const [finished, unfinished] = [q.bool('finished'), q.bool('unfinished')];
  return {
    // Both given: Camunda applies both, so only an instance in the list and of that id.
    ids: ids && id ? ids.filter((x) => x === id) : ids ?? (id ? [id] : undefined),
    definitionId: q.string('processDefinitionId'), definitionKey: q.string('processDefinitionKey'), businessKey: q.string('processInstanceBusinessKey'),
    businessKeyLike: q.string('processInstanceBusinessKeyLike'),
    finished: finished ? true : unfinished ? false : undefined,
    superProcessInstance: q.string('superProcessInstanceId'), subProcessInstance: q.string('subProcessInstanceId'),
    startedBy: q.string('startedBy'),
    ...stateFilter(q),
  };
};
type HistoricInstance = Awaited<ReturnType<HistoryService['processInstances']>>[number];

/** Camunda's HistoricProcessInstanceDto. */
const historicInstanceDto = (r: HistoricInstance) => ({
  id: r.id, businessKey: r.business_key, processDefinitionId: r.definition_id, processDefinitionKey: r.definition_key,
  processDefinitionName: r.definition_name, processDefinitionVersion: r.definition_version,
  startTime: formatDate(r.start_time), endTime: formatDate(r.end_time), removalTime: null,
  durationInMillis: duration(r.start_time, r.end_time), startUserId: r.start_user_id, startActivityId: null,
  deleteReason: r.end_reason, rootProcessInstanceId: r.root_process_instance_id, superProcessInstanceId: r.super_process_instance_id ?? null, superCaseInstanceId: null,
  caseInstanceId: null, tenantId: r.tenant_id, state: historicState(r),
});

/** `/history`: who did what, when. */
export function makeHistoryRoutes(deps: { history: HistoryService; historyDeletion: HistoryDeletionService; tasks: TaskService }): Router {
  const router = new Router();
  // Each query reads the query string (GET) or Camunda's JSON body (POST) through one parser; paging is in the query string.
  const countInstances = async (ctx: Context) => {
    const { sorting: _s, ...filter } = paramsOf(ctx, (q) => ({ ...historicInstanceFilter(q), sorting: q.sorting(instanceSortColumns) }));
    ctx.body = { count: await deps.history.countProcessInstances(filter, principalOf(ctx)) };
  };
  router.get('/history/process-instance/count', countInstances).post('/history/process-instance/count', countInstances);
  const listInstances = async (ctx: Context) => {
    const rows = await deps.history.processInstances({
      ...paramsOf(ctx, (q) => ({ ...historicInstanceFilter(q), sorting: q.sorting(instanceSortColumns) })), ...pagingOf(ctx),
    }, principalOf(ctx));
    ctx.body = rows.map(historicInstanceDto);
  };
  router.get('/history/process-instance', listInstances).post('/history/process-instance', listInstances);
  router.get('/history/process-instance/:id', async (ctx) => {
    ctx.body = historicInstanceDto(await deps.history.processInstance(ctx.params.id, principalOf(ctx)));
  });
  router.delete('/history/process-instance/:id', async (ctx) => {
    const failIfNotExists = queryOf(ctx).bool('failIfNotExists') ?? true;
    await deps.historyDeletion.deleteProcessInstance(ctx.params.id, failIfNotExists, principalOf(ctx));
    ctx.status = 204;
  });
  router.delete('/history/process-instance/:id/variable-instances', async (ctx) => {
    await deps.historyDeletion.deleteVariablesOf(ctx.params.id, principalOf(ctx));
    ctx.status = 204;
  });

  const taskFilter = (q: Params) => {
    const [finished, unfinished] = [q.bool('finished'), q.bool('unfinished')];
    return {
      taskId: q.string('taskId'), processInstanceId: q.string('processInstanceId'),
      processDefinitionKey: q.string('processDefinitionKey'), taskDefinitionKey: q.string('taskDefinitionKey'),
      assignee: q.string('taskAssignee'), finished: finished ?? (unfinished ? false : undefined),
      sorting: (q.sorting({ ...taskSortColumns, startTime: 'created_at' }) ?? [{ column: 'created_at', order: 'asc' }]) as never,
    };
  };
  const countTasks = async (ctx: Context) => {
    const { sorting: _s, ...filter } = paramsOf(ctx, taskFilter);
    ctx.body = { count: await deps.tasks.historyCount(filter, principalOf(ctx)) };
  };
  router.get('/history/task/count', countTasks).post('/history/task/count', countTasks);
  const listTasks = async (ctx: Context) => {
    const rows = await deps.tasks.history({ ...paramsOf(ctx, taskFilter), ...pagingOf(ctx) }, principalOf(ctx));
    ctx.body = rows.map((t) => ({
      id: t.id, processDefinitionKey: t.definition_key, processDefinitionId: t.definition_id, processInstanceId: t.process_instance_id,
      executionId: t.execution_id, caseDefinitionKey: null, caseDefinitionId: null, caseInstanceId: null, caseExecutionId: null,
      activityInstanceId: t.execution_id, name: t.name, description: t.description, deleteReason: t.delete_reason, owner: t.owner,
      assignee: t.assignee, startTime: formatDate(t.created_at), endTime: formatDate(t.end_time), duration: duration(t.created_at, t.end_time),
      taskDefinitionKey: t.task_definition_key, priority: t.priority, due: formatDate(t.due), parentTaskId: null,
      followUp: formatDate(t.follow_up), tenantId: null, removalTime: null, rootProcessInstanceId: t.process_instance_id,
      // Not in Camunda's shape: who completed it, since completion does not require an assignee.
      completedBy: t.completed_by, candidateGroups: t.candidate_groups,
    }));
  };
  router.get('/history/task', listTasks).post('/history/task', listTasks);

  return router;
}
