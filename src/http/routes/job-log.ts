import Router from '@koa/router';
import type { Context } from 'koa';
import { ValidationError } from '../../errors.ts';
import type { JobLogService } from '../../services/job-log.ts';
import { jobLogSortColumns, type JobLogState, type JobLogView } from '../../store/job-log.ts';
import { principalOf } from '../auth.ts';
import { formatDate } from '../format.ts';
import { pagingOf, paramsOf, type Params } from '../params.ts';
import { jobConfiguration, jobDefinitionIdOf, splitJobDefinition } from '../job-ids.ts';

/** Camunda's job handler type of a timer: a task's timeout listener, an intermediate event's, else a boundary event's. */
const jobType = (l: JobLogView) => (/_timeout\d+#\d+$/.test(l.execution_id) ? 'timer-task-listener' : l.intermediate ? 'timer-intermediate-transition' : 'timer-transition');

/**
 * Camunda's HistoricJobLogDto. No hostname: the row does not record which
 * server wrote it; the root instance is the instance (a called child's own).
 */
const jobLogDto = (l: JobLogView) => ({
  id: l.id, timestamp: formatDate(l.time), removalTime: null, jobId: l.job_id, jobDueDate: formatDate(l.due_at), jobRetries: l.retries,
  jobPriority: Number(l.priority), jobExceptionMessage: l.error_message, failedActivityId: l.state === 'failure' ? l.activity_id : null,
  jobDefinitionId: jobDefinitionIdOf(l.definition_id, l.activity_id), jobDefinitionType: jobType(l),
  jobDefinitionConfiguration: jobConfiguration(l.timer_type, l.expression), activityId: l.activity_id, executionId: l.execution_id,
  processInstanceId: l.process_instance_id, processDefinitionId: l.definition_id, processDefinitionKey: l.definition_key,
  deploymentId: l.deployment_id, tenantId: null, hostname: null, rootProcessInstanceId: l.process_instance_id,
  creationLog: l.state === 'creation', failureLog: l.state === 'failure', successLog: l.state === 'success', deletionLog: l.state === 'deletion',
});

const STATES: Record<string, JobLogState> = { creationLog: 'creation', failureLog: 'failure', successLog: 'success', deletionLog: 'deletion' };
/** Criteria this server cannot apply as Camunda does: refused, never dropped. */
const REFUSED = ['jobDefinitionType', 'jobDefinitionConfiguration', 'tenantIdIn', 'hostname'];

const filterOf = (q: Params) => {
  const refused = REFUSED.filter((k) => q.raw(k) != null && q.raw(k) !== '');
  if (refused.length) throw new ValidationError(`不支持的查询条件 / query fields not supported here: ${refused.join(', ')}`, { unsupported: refused });
  q.bool('withoutTenantId'); // no tenants: every log has none
  const states = Object.keys(STATES).filter((k) => q.bool(k) === true).map((k) => STATES[k]!);
  const jobDefinitionId = q.string('jobDefinitionId');
  const [kind, definitionId, activityId] = jobDefinitionId ? splitJobDefinition(jobDefinitionId) : [];
  return {
    id: q.string('logId'), jobId: q.string('jobId'), jobExceptionMessage: q.string('jobExceptionMessage'),
    // Only instance timers have jobs and logs: another job definition (a start timer's) has none.
    jobDefinition: jobDefinitionId ? (kind === 'timer' && definitionId && activityId ? { definitionId, activityId } : { definitionId: '', activityId: '' }) : undefined,
    activityIds: q.list('activityIdIn'), failedActivityIds: q.list('failedActivityIdIn'), executionIds: q.list('executionIdIn'),
    processInstanceId: q.string('processInstanceId'), processDefinitionId: q.string('processDefinitionId'),
    processDefinitionKey: q.string('processDefinitionKey'), deploymentId: q.string('deploymentId'),
    priorityAtMost: q.int('jobPriorityLowerThanOrEquals', Number.MIN_SAFE_INTEGER), priorityAtLeast: q.int('jobPriorityHigherThanOrEquals', Number.MIN_SAFE_INTEGER),
    // Camunda's state flags each narrow: two of them match no log, which has one state.
    states: states.length > 1 ? [] : states.length ? states : undefined,
    sorting: q.sorting(jobLogSortColumns),
  };
};

/** `/history/job-log`: creation, failures, success and deletion of the instance timers of visible instances. */
export function makeJobLogRoutes(deps: { jobLog: JobLogService }): Router {
  const router = new Router();
  const list = async (ctx: Context) => {
    ctx.body = (await deps.jobLog.query({ ...paramsOf(ctx, filterOf), ...pagingOf(ctx) }, principalOf(ctx))).map(jobLogDto);
  };
  const count = async (ctx: Context) => {
    const { sorting: _s, ...filter } = paramsOf(ctx, filterOf);
    ctx.body = { count: await deps.jobLog.count(filter, principalOf(ctx)) };
  };
  router.get('/history/job-log', list).post('/history/job-log', list);
  router.get('/history/job-log/count', count).post('/history/job-log/count', count);
  router.get('/history/job-log/:id', async (ctx) => {
    ctx.body = jobLogDto(await deps.jobLog.get(ctx.params.id, principalOf(ctx)));
  });
  router.get('/history/job-log/:id/stacktrace', async (ctx) => {
    const log = await deps.jobLog.get(ctx.params.id, principalOf(ctx));
    // The trace row names the instance, which the text does not (http/read-trace.ts).
    ctx.state.processInstanceId = log.process_instance_id;
    // As GET /job/{id}/stacktrace: the failure's message is the whole of what is kept.
    ctx.type = 'text/plain';
    ctx.body = log.error_message ?? '';
  });
  return router;
}
