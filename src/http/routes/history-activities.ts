import Router from '@koa/router';
import type { Context } from 'koa';
import type { HistoryService } from '../../services/history.ts';
import { activityHistorySortColumns } from '../../store/activity-history.ts';
import { ValidationError } from '../../errors.ts';
import { principalOf } from '../auth.ts';
import { formatDate } from '../format.ts';
import { pagingOf, paramsOf, type Params } from '../params.ts';

type HistoricActivity = Awaited<ReturnType<HistoryService['activities']>>[number];

const duration = (start: Date, end: Date | null) => (end ? new Date(end).getTime() - new Date(start).getTime() : null);

/** Camunda's HistoricActivityInstanceDto; the id is `activityId:executionId`, unique per instance's element run. */
const historicActivityDto = (a: HistoricActivity) => ({
  id: `${a.activity_id}:${a.execution_id}`, parentActivityInstanceId: null, activityId: a.activity_id, activityName: a.activity_name,
  activityType: a.activity_type, processDefinitionKey: null, processDefinitionId: a.definition_id,
  processInstanceId: a.process_instance_id, executionId: a.execution_id, taskId: a.task_id, assignee: a.assignee,
  calledProcessInstanceId: a.called_process_instance_id, calledCaseInstanceId: null,
  startTime: formatDate(a.start_time), endTime: formatDate(a.end_time), durationInMillis: duration(a.start_time, a.end_time),
  canceled: a.canceled, completeScope: false, tenantId: null, removalTime: null, rootProcessInstanceId: a.process_instance_id,
});

/** Camunda's criteria with nothing to match here (tenants, incidents, definition keys): refused, not ignored. */
const REFUSED = ['tenantIdIn', 'withoutTenantId', 'completeScope', 'activityIdIn', 'activityTypeIn', 'activityInstanceIdIn', 'executionIdIn', 'processDefinitionKey', 'incidentType'];

function refuseUnsupported(ctx: Context): void {
  const given = ctx.method === 'POST' ? (ctx.request as { body?: Record<string, unknown> }).body ?? {} : ctx.query;
  const named = REFUSED.filter((k) => given[k] != null && given[k] !== '');
  if (named.length) throw new ValidationError(`不支持的查询条件 / query fields not supported here: ${named.join(', ')}`, { unsupported: named });
}

const filterOf = (q: Params) => {
  const [done, undone] = [q.bool('finished'), q.bool('unfinished')];
  return {
    processInstanceId: q.string('processInstanceId'), activityInstanceId: q.string('activityInstanceId'),
    executionId: q.string('executionId'), activityId: q.string('activityId'), activityName: q.string('activityName'),
    activityType: q.string('activityType'), taskAssignee: q.string('taskAssignee'), processDefinitionId: q.string('processDefinitionId'),
    finished: done ? true : undone ? false : undefined, canceled: q.bool('canceled') ? true : undefined,
    startedBefore: q.date('startedBefore'), startedAfter: q.date('startedAfter'),
    finishedBefore: q.date('finishedBefore'), finishedAfter: q.date('finishedAfter'),
    sorting: q.sorting(activityHistorySortColumns),
  };
};

/** `/history/activity-instance`: the elements instances the caller may see went through. */
export function makeHistoryActivityRoutes(deps: { history: HistoryService }): Router {
  const router = new Router();
  const list = async (ctx: Context) => {
    refuseUnsupported(ctx);
    ctx.body = (await deps.history.activities({ ...paramsOf(ctx, filterOf), ...pagingOf(ctx) }, principalOf(ctx))).map(historicActivityDto);
  };
  const count = async (ctx: Context) => {
    refuseUnsupported(ctx);
    const { sorting: _s, ...filter } = paramsOf(ctx, filterOf);
    ctx.body = { count: await deps.history.countActivities(filter, principalOf(ctx)) };
  };
  router.get('/history/activity-instance', list).post('/history/activity-instance', list);
  router.get('/history/activity-instance/count', count).post('/history/activity-instance/count', count);
  router.get('/history/activity-instance/:id', async (ctx) => {
    ctx.body = historicActivityDto(await deps.history.activity(ctx.params.id, principalOf(ctx)));
  });
  return router;
}
