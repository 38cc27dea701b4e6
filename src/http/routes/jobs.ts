import Router from '@koa/router';
import type { Context } from 'koa';
import { NotFoundError, ValidationError } from '../../errors.ts';
import type { StartTimerService } from '../../services/start-timers.ts';
import { assertAdmin } from '../../services/instances.ts';
import type { TimerService } from '../../services/timers.ts';
import { parseDate } from '../../services/variables.ts';
import type { StartTimerRow } from '../../store/start-timers.ts';
import type { TimerQuery, TimerRow, TimerSelection } from '../../store/timers.ts';
import { principalOf } from '../auth.ts';
import { formatDate } from '../format.ts';
import { jobConfiguration, jobDefinitionIdOf, splitJobDefinition, startJobDefinitionIdOf } from '../job-ids.ts';
import { bodyObject, checkDate, pagingOf, paramsOf } from '../params.ts';
import { suspensionFilterOf } from '../suspension-filter.ts';

const jobDto = (t: TimerRow & { definition_key: string }) => ({
  id: t.id, jobDefinitionId: jobDefinitionIdOf(t.definition_id, t.activity_id), processInstanceId: t.process_instance_id,
  processDefinitionId: t.definition_id, processDefinitionKey: t.definition_key, executionId: t.execution_id,
  exceptionMessage: t.last_error, failedActivityId: t.last_error ? t.activity_id : null, retries: t.retries, dueDate: formatDate(t.due_at),
  suspended: t.suspended === true, priority: Number(t.priority), tenantId: null, createTime: formatDate(t.created_at), batchId: null,
});

/** Camunda's `dueDates` filter: `gt_<date>` and `lt_<date>`, comma-separated. */
function dueRange(value: string | undefined): { dueAfter?: Date; dueBefore?: Date } {
  const range: { dueAfter?: Date; dueBefore?: Date } = {};
  for (const part of value ? value.split(',') : []) {
    const m = /^(gt|lt)_(.+)$/.exec(part.trim());
    const date = m ? parseDate(m[2]) : null;
    if (!m || !date) throw new ValidationError(`dueDates 格式应为 gt_<日期> 或 lt_<日期> / dueDates must be gt_<date> or lt_<date>, got "${part}"`);
    if (m[1] === 'gt') range.dueAfter = date;
    else range.dueBefore = date;
  }
  return range;
}

/** A start timer as Camunda's job definition (GET /job-definition lists the start timers). */
const jobDefinitionDto = (r: StartTimerRow) => ({
  id: startJobDefinitionIdOf(r.definition_id, r.event_id), processDefinitionId: r.definition_id, processDefinitionKey: r.definition_key,
  activityId: r.event_id, jobType: 'timer-start-event', jobConfiguration: jobConfiguration(r.timer_type, r.expression),
  suspended: false, overridingJobPriority: null, tenantId: null, deploymentId: null,
  // Not in Camunda's shape: when it fires next, and how often more.
  nextDueDate: formatDate(r.due_at), repeatsLeft: r.repeats_left, lastError: r.last_error,
});


const SUSPENSION_FIELDS = ['suspended', 'jobDefinitionId', 'processInstanceId', 'processDefinitionId', 'processDefinitionKey', 'processDefinitionTenantId', 'processDefinitionWithoutTenantId'];

/**
 * PUT /job/suspended (Camunda's JobSuspensionStateDto): exactly one of
 * jobDefinitionId, processInstanceId, processDefinitionId, processDefinitionKey.
 * No selection: it can match nothing (a job definition not a timer's, a tenant
 * here where there are none).
 */
function jobSuspensionOf(body: Record<string, unknown>): { suspended: boolean; selection: TimerSelection | null } {
  const unknown = Object.keys(body).filter((k) => !SUSPENSION_FIELDS.includes(k));
  if (unknown.length) throw new ValidationError(`不支持的字段 / unsupported field(s) ${unknown.join(', ')}; this server takes ${SUSPENSION_FIELDS.join(', ')}`, { fields: unknown });
  if (typeof body.suspended !== 'boolean') throw new ValidationError('suspended 必须是 true 或 false / suspended must be true or false', { field: 'suspended' });
  const text = (name: string) => {
    const v = body[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || !v) throw new ValidationError(`${name} 必须是非空文本 / ${name} must be a non-empty string`, { field: name });
    return v;
  };
  const [jobDefinitionId, processInstanceId, processDefinitionId, processDefinitionKey] = ['jobDefinitionId', 'processInstanceId', 'processDefinitionId', 'processDefinitionKey'].map(text);
  const tenant = text('processDefinitionTenantId');
  if (body.processDefinitionWithoutTenantId != null && typeof body.processDefinitionWithoutTenantId !== 'boolean') {
    throw new ValidationError('processDefinitionWithoutTenantId 必须是 true 或 false / processDefinitionWithoutTenantId must be true or false', { field: 'processDefinitionWithoutTenantId' });
  }
  const given = [jobDefinitionId, processInstanceId, processDefinitionId, processDefinitionKey].filter((x) => x !== undefined).length;
  if (given > 1) throw new ValidationError('只能给一个选择条件 / Only one of jobDefinitionId, processDefinitionId, processInstanceId or processDefinitionKey should be set to update the suspension state.');
  if (!given) throw new ValidationError('需要一个选择条件 / Either jobDefinitionId, processInstanceId, processDefinitionId or processDefinitionKey can be set to update the suspension state.');
  if ((tenant || body.processDefinitionWithoutTenantId != null) && !processDefinitionKey) {
    throw new ValidationError('租户条件只与 processDefinitionKey 一起使用 / processDefinitionTenantId and processDefinitionWithoutTenantId go with processDefinitionKey only', { field: tenant ? 'processDefinitionTenantId' : 'processDefinitionWithoutTenantId' });
  }
  const suspended = body.suspended;
  if (tenant) return { suspended, selection: null };
  if (jobDefinitionId) {
    const [kind, definitionId, activityId] = splitJobDefinition(jobDefinitionId);
    // A start timer (the job definitions GET /job-definition lists) has no jobs of instances to suspend here:
    // answering 204 and leaving it firing would be accepted and then wrong.
    if (kind !== 'timer') {
      throw new ValidationError(`作业定义 ${jobDefinitionId} 不是流程实例中的定时器，无法按此挂起 / jobDefinitionId ${jobDefinitionId} is not a timer of process instances: suspending start timers this way is not supported`, { field: 'jobDefinitionId' });
    }
    return { suspended, selection: definitionId && activityId ? { processDefinitionId: definitionId, activityId } : null };
  }
  return { suspended, selection: { processInstanceId, processDefinitionId, processDefinitionKey } };
}

/** `/job`: Camunda's job view of armed timers; `/job-definition`: the start timers (administrators). */
export function makeJobRoutes(deps: { timers: TimerService; startTimers: StartTimerService }): Router {
  const router = new Router();
  const definitions = async (ctx: Context) => {
    assertAdmin(principalOf(ctx));
    return (await deps.startTimers.list(paramsOf(ctx, (q) => q.string('processDefinitionKey')))).map(jobDefinitionDto);
  };
  const listDefinitions = async (ctx: Context) => {
    ctx.body = await definitions(ctx);
  };
  router.get('/job-definition/count', async (ctx) => {
    ctx.body = { count: (await definitions(ctx)).length };
  }).post('/job-definition/count', async (ctx) => {
    ctx.body = { count: (await definitions(ctx)).length };
  });
  router.get('/job-definition/:id', async (ctx) => {
    assertAdmin(principalOf(ctx));
    const found = (await deps.startTimers.list()).map(jobDefinitionDto).find((d) => d.id === ctx.params.id);
    if (!found) throw new NotFoundError(`作业定义不存在 / Job Definition with id ${ctx.params.id} does not exist`);
    ctx.body = found;
  });
  router.get('/job-definition', listDefinitions).post('/job-definition', listDefinitions);
  /** Camunda's job query (query string or JSON body); null when it can match nothing here (`messages=true`: every job here is a timer). */
  const filter = (ctx: Context): TimerQuery | null => paramsOf(ctx, (q) => {
    // Every criterion is read before any early answer, so a query by body is checked whole.
    const [timers, messages, jobDefinition] = [q.bool('timers'), q.bool('messages'), q.string('jobDefinitionId')];
    const [explicitDefinition, explicitActivity] = [q.string('processDefinitionId'), q.string('activityId')];
    const [noRetries, withRetries] = [q.bool('noRetriesLeft'), q.bool('withRetriesLeft')];
    const query = {
      id: q.string('jobId'), processInstanceId: q.string('processInstanceId'), executionId: q.string('executionId'),
      processDefinitionKey: q.string('processDefinitionKey'), withException: q.bool('withException') || undefined,
      noRetriesLeft: noRetries ? true : withRetries ? false : undefined,
      suspended: suspensionFilterOf(q.bool('active'), q.bool('suspended')), ...dueRange(q.string('dueDates')),
    };
    if (timers && messages) throw new ValidationError('参数 timers 与 messages 不能同时使用 / parameter timers cannot be used together with parameter messages');
    if (messages) return null;
    const [kind, definitionId, activityId] = jobDefinition ? splitJobDefinition(jobDefinition) : [];
    if (jobDefinition && kind !== 'timer') return null;
    return { ...query, processDefinitionId: definitionId ?? explicitDefinition, activityId: activityId ?? explicitActivity };
  });
  const list = async (ctx: Context) => {
    const f = filter(ctx);
    ctx.body = f ? (await deps.timers.list({ ...f, ...pagingOf(ctx) }, principalOf(ctx))).map(jobDto) : [];
  };
  const count = async (ctx: Context) => {
    const f = filter(ctx);
    ctx.body = { count: f ? await deps.timers.count(f, principalOf(ctx)) : 0 };
  };
  router.get('/job', list).post('/job', list);
  router.get('/job/count', count).post('/job/count', count);
  router.get('/job/:id', async (ctx) => {
    ctx.body = jobDto(await deps.timers.get(ctx.params.id, principalOf(ctx)));
  });
  router.post('/job/:id/execute', async (ctx) => {
    await deps.timers.execute(ctx.params.id, principalOf(ctx));
    ctx.status = 204;
  });
  router.put('/job/:id/retries', async (ctx) => {
    await deps.timers.setRetries(ctx.params.id, bodyObject(ctx).retries, principalOf(ctx));
    ctx.status = 204;
  });
  router.put('/job/:id/priority', async (ctx) => {
    await deps.timers.setPriority(ctx.params.id, bodyObject(ctx).priority, principalOf(ctx));
    ctx.status = 204;
  });
  router.put('/job/suspended', async (ctx) => {
    const { suspended, selection } = jobSuspensionOf(bodyObject(ctx));
    if (selection) await deps.timers.setSuspended(selection, suspended, principalOf(ctx));
    else assertAdmin(principalOf(ctx));
    ctx.status = 204;
  });
  router.put('/job/:id/suspended', async (ctx) => {
    const body = bodyObject(ctx);
    if (typeof body.suspended !== 'boolean') throw new ValidationError('suspended 必须是 true 或 false / suspended must be true or false', { field: 'suspended' });
    await deps.timers.setSuspended({ one: ctx.params.id }, body.suspended, principalOf(ctx));
    ctx.status = 204;
  });
  router.delete('/job/:id', async (ctx) => {
    await deps.timers.delete(ctx.params.id, principalOf(ctx));
    ctx.status = 204;
  });
  router.get('/job/:id/stacktrace', async (ctx) => {
    const job = await deps.timers.get(ctx.params.id, principalOf(ctx));
    // The answer is text, which names no instance: the read trace is told whose failure this is.
    ctx.state.processInstanceId = job.process_instance_id;
    // We keep the failure's message, not a Java stack: the message is the whole of what is known.
    ctx.type = 'text/plain';
    ctx.body = job.last_error ?? '';
  });
  router.put('/job/:id/duedate', async (ctx) => {
    await deps.timers.setDueDate(ctx.params.id, checkDate('duedate', bodyObject(ctx).duedate), principalOf(ctx));
    ctx.status = 204;
  });
  return router;
}
