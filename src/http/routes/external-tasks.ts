import Router from '@koa/router';
import type { Context } from 'koa';
import { ValidationError } from '../../errors.ts';
import type { ExternalTaskChangeService } from '../../services/external-task-changes.ts';
import type { ExternalTaskService, FetchRequest, LockedTask } from '../../services/external-tasks.ts';
import { parseVariables } from '../../services/variables.ts';
import type { ExternalTaskRow } from '../../store/external-tasks.ts';
import { principalOf } from '../auth.ts';
import { formatDate, formatVariables } from '../format.ts';
import { bodyObject, pagingOf, paramsOf, queryOf } from '../params.ts';
import { suspensionFilterOf } from '../suspension-filter.ts';

function externalTaskDto(t: ExternalTaskRow) {
  return {
    activityId: t.activity_id, activityInstanceId: `${t.activity_id}:${t.execution_id}`, errorMessage: t.error_message,
    executionId: t.execution_id, id: t.id, lockExpirationTime: formatDate(t.lock_expiration_time), processDefinitionId: t.definition_id,
    processDefinitionKey: t.definition_key, processDefinitionVersionTag: null, processInstanceId: t.process_instance_id, tenantId: null,
    retries: t.retries, suspended: t.suspended === true, workerId: t.worker_id, topicName: t.topic, priority: t.priority, businessKey: t.business_key,
  };
}

const lockedDto = (t: LockedTask) => ({ ...externalTaskDto(t), errorDetails: t.error_details, variables: formatVariables(t.variables), extensionProperties: {} });

function int(body: Record<string, unknown>, name: string, fallback: number | undefined, min: number, max: number): number {
  const v = body[name] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ValidationError(`${name} 必须是 ${min} 到 ${max} 的整数 / ${name} must be an integer from ${min} to ${max}`);
  }
  return v;
}

function fetchRequestOf(body: Record<string, unknown>): FetchRequest {
  if (typeof body.workerId !== 'string' || !body.workerId) throw new ValidationError('需要 workerId / workerId is required');
  if (!Array.isArray(body.topics) || !body.topics.length) throw new ValidationError('需要 topics / topics must be a non-empty array');
  const topics = body.topics.map((raw: unknown) => {
    const t = (raw ?? {}) as Record<string, unknown>;
    if (typeof t.topicName !== 'string' || !t.topicName) throw new ValidationError('每个 topic 需要 topicName / each topic needs a topicName');
    if (t.variables != null && (!Array.isArray(t.variables) || t.variables.some((v) => typeof v !== 'string'))) {
      throw new ValidationError(`topic ${t.topicName}: variables 必须是变量名数组 / variables must be an array of names`);
    }
    return {
      topicName: t.topicName, lockDuration: int(t, 'lockDuration', undefined, 1, 7 * 24 * 3600_000),
      variables: (t.variables as string[] | null | undefined) ?? null,
      businessKey: typeof t.businessKey === 'string' ? t.businessKey : undefined,
      processDefinitionKey: typeof t.processDefinitionKey === 'string' ? t.processDefinitionKey : undefined,
    };
  });
  return {
    workerId: body.workerId, topics, maxTasks: int(body, 'maxTasks', 10, 1, 1000), usePriority: body.usePriority === true,
    asyncResponseTimeout: int(body, 'asyncResponseTimeout', 0, 0, 30 * 60_000),
  };
}

const strings = (body: Record<string, unknown>, name: string): string[] => {
  const v = body[name] ?? [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new ValidationError(`${name} 必须是字符串数组 / ${name} must be an array of strings`);
  return v as string[];
};

/** `PUT /external-task/retries`: ids and instance ids; the query forms are refused, not ignored. */
function retriesRequestOf(body: Record<string, unknown>) {
  for (const name of ['externalTaskQuery', 'processInstanceQuery', 'historicProcessInstanceQuery']) {
    if (body[name] != null) throw new ValidationError(`不支持 ${name}，请用 externalTaskIds 或 processInstanceIds / ${name} is not supported here; name the tasks by externalTaskIds or processInstanceIds`);
  }
  const externalTaskIds = strings(body, 'externalTaskIds');
  const processInstanceIds = strings(body, 'processInstanceIds');
  if (!externalTaskIds.length && !processInstanceIds.length) throw new ValidationError('没有符合条件的外部任务 / externalTaskIds is empty');
  return { externalTaskIds, processInstanceIds, retries: int(body, 'retries', undefined, 0, 1_000_000) };
}

const text = (v: unknown) => (typeof v === 'string' ? v : null);

/** `/external-task`: what camunda-external-task-client-js and other workers call. */
export function makeExternalTaskRoutes(deps: { externalTasks: ExternalTaskService; externalTaskChanges: ExternalTaskChangeService }): Router {
  const router = new Router();
  router.post('/external-task/fetchAndLock', async (ctx) => {
    const request = fetchRequestOf(bodyObject(ctx));
    // A worker that hangs up ends its long poll at once.
    const gone = new AbortController();
    ctx.res.once('close', () => gone.abort());
    const locked = await deps.externalTasks.fetchAndLock(request, principalOf(ctx), gone.signal);
    ctx.body = locked.map(lockedDto);
  });
  // Camunda's query, from the query string (GET) or its JSON body (POST); paging is always in the query string.
  const filter = (ctx: Context) => paramsOf(ctx, (q) => ({
    id: q.string('externalTaskId'), topic: q.string('topicName'), workerId: q.string('workerId'), processInstanceId: q.string('processInstanceId'),
    activityId: q.string('activityId'), locked: q.bool('locked'), withRetriesLeft: q.bool('withRetriesLeft'), noRetriesLeft: q.bool('noRetriesLeft'),
    suspended: suspensionFilterOf(q.bool('active'), q.bool('suspended')),
  }));
  const list = async (ctx: Context) => {
    ctx.body = (await deps.externalTasks.list({ ...filter(ctx), ...pagingOf(ctx) }, principalOf(ctx))).map(externalTaskDto);
  };
  const count = async (ctx: Context) => {
    ctx.body = { count: await deps.externalTasks.count(filter(ctx), principalOf(ctx)) };
  };
  router.get('/external-task', list).post('/external-task', list);
  router.get('/external-task/count', count).post('/external-task/count', count);
  router.get('/external-task/topic-names', async (ctx) => {
    const q = queryOf(ctx);
    ctx.body = await deps.externalTaskChanges.topicNames({
      locked: q.bool('withLockedTasks') ?? false, unlocked: q.bool('withUnlockedTasks') ?? false, withRetriesLeft: q.bool('withRetriesLeft') ?? false,
    }, principalOf(ctx));
  });
  router.put('/external-task/retries', async (ctx) => {
    await deps.externalTaskChanges.setRetriesOf(retriesRequestOf(bodyObject(ctx)), principalOf(ctx));
    ctx.status = 204;
  });
  router.get('/external-task/:id', async (ctx) => {
    ctx.body = externalTaskDto(await deps.externalTasks.get(ctx.params.id, principalOf(ctx)));
  });
  router.post('/external-task/:id/complete', async (ctx) => {
    const body = bodyObject(ctx);
    const variables = { ...parseVariables(body.localVariables, 'localVariables'), ...parseVariables(body.variables) };
    await deps.externalTasks.complete(ctx.params.id, { workerId: body.workerId, variables }, principalOf(ctx));
    ctx.status = 204;
  });
  router.post('/external-task/:id/failure', async (ctx) => {
    const body = bodyObject(ctx);
    await deps.externalTasks.failure(ctx.params.id, {
      workerId: body.workerId, errorMessage: text(body.errorMessage), errorDetails: text(body.errorDetails),
      retries: int(body, 'retries', 0, 0, 1_000_000), retryTimeout: int(body, 'retryTimeout', 0, 0, 30 * 24 * 3600_000),
    }, principalOf(ctx));
    ctx.status = 204;
  });
  router.post('/external-task/:id/bpmnError', async (ctx) => {
    const body = bodyObject(ctx);
    if (typeof body.errorCode !== 'string' || !body.errorCode) throw new ValidationError('需要 errorCode / errorCode is required');
    await deps.externalTasks.bpmnError(ctx.params.id, {
      workerId: body.workerId, errorCode: body.errorCode, errorMessage: text(body.errorMessage), variables: parseVariables(body.variables),
    }, principalOf(ctx));
    ctx.status = 204;
  });
  router.post('/external-task/:id/extendLock', async (ctx) => {
    const body = bodyObject(ctx);
    await deps.externalTasks.extendLock(ctx.params.id, { workerId: body.workerId, newDuration: int(body, 'newDuration', undefined, 1, 7 * 24 * 3600_000) }, principalOf(ctx));
    ctx.status = 204;
  });
  router.post('/external-task/:id/unlock', async (ctx) => {
    await deps.externalTasks.unlock(ctx.params.id, principalOf(ctx));
    ctx.status = 204;
  });
  router.post('/external-task/:id/lock', async (ctx) => {
    const body = bodyObject(ctx);
    if (typeof body.workerId !== 'string' || !body.workerId) throw new ValidationError('需要 workerId / workerId is required');
    await deps.externalTaskChanges.lock(ctx.params.id, { workerId: body.workerId, lockDuration: int(body, 'lockDuration', undefined, 1, 7 * 24 * 3600_000) }, principalOf(ctx));
    ctx.status = 204;
  });
  router.get('/external-task/:id/errorDetails', async (ctx) => {
    const { details, processInstanceId } = await deps.externalTaskChanges.errorDetails(ctx.params.id, principalOf(ctx));
    ctx.state.processInstanceId = processInstanceId;
    // Camunda answers text/plain, and no content when the task has no details.
    if (details == null) ctx.status = 204;
    else {
      ctx.type = 'text/plain';
      ctx.body = details;
    }
  });
  router.put('/external-task/:id/priority', async (ctx) => {
    await deps.externalTaskChanges.setPriority(ctx.params.id, int(bodyObject(ctx), 'priority', undefined, -2147483648, 2147483647), principalOf(ctx));
    ctx.status = 204;
  });
  router.put('/external-task/:id/retries', async (ctx) => {
    await deps.externalTasks.setRetries(ctx.params.id, int(bodyObject(ctx), 'retries', undefined, 0, 1_000_000), principalOf(ctx));
    ctx.status = 204;
  });
  return router;
}
