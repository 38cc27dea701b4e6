import Router from '@koa/router';
import type { Context } from 'koa';
import { ValidationError } from '../../errors.ts';
import type { TaskFilter, TaskService } from '../../services/tasks.ts';
import { parseVariables } from '../../services/variables.ts';
import { taskSortColumns, type TaskRow } from '../../store/tasks.ts';
import { principalOf } from '../auth.ts';
import { formatDate, formatVariables } from '../format.ts';
import { bodyObject, checkDate, checkInt, queryOf, sortingOf } from '../params.ts';
import { formVariablesDto } from '../form-variables.ts';
import { answerCompletion } from '../read-trace.ts';
import { suspensionFilterOf } from '../suspension-filter.ts';

export function taskDto(t: TaskRow) {
  return {
    id: t.id, name: t.name, assignee: t.assignee, owner: t.owner, created: formatDate(t.created_at), due: formatDate(t.due),
    followUp: formatDate(t.follow_up), lastUpdated: formatDate(t.last_updated), delegationState: t.delegation_state, description: t.description,
    executionId: t.execution_id, parentTaskId: null, priority: t.priority, processDefinitionId: t.definition_id,
    processInstanceId: t.process_instance_id, taskDefinitionKey: t.task_definition_key, caseExecutionId: null,
    caseInstanceId: null, caseDefinitionId: null, suspended: t.suspended === true, formKey: t.form_key, camundaFormRef: t.form_ref ? { key: t.form_ref, binding: 'latest', version: null } : null, tenantId: null,
    // Not in Camunda's shape, but what an inbox needs to show who a task is offered to.
    candidateGroups: t.candidate_groups, candidateUsers: t.candidate_users,
  };
}

/** Camunda's task query parameters, shared by the list and the count. */
export function taskFilterOf(ctx: Context): TaskFilter {
  const q = queryOf(ctx);
  const candidateGroup = q.string('candidateGroup');
  const candidateGroups = q.list('candidateGroups');
  return {
    taskId: q.string('taskId'),
    assignee: q.string('assignee'),
    candidateUser: q.string('candidateUser'),
    candidateGroups: candidateGroup || candidateGroups ? [...(candidateGroup ? [candidateGroup] : []), ...(candidateGroups ?? [])] : undefined,
    includeAssignedTasks: q.bool('includeAssignedTasks'),
    unassigned: q.bool('unassigned'),
    assigned: q.bool('assigned'),
    processInstanceId: q.string('processInstanceId'),
    processDefinitionKey: q.string('processDefinitionKey'),
    processDefinitionId: q.string('processDefinitionId'),
    taskDefinitionKey: q.string('taskDefinitionKey'),
    name: q.string('name'),
    nameLike: q.string('nameLike'),
    dueBefore: q.date('dueBefore'),
    dueAfter: q.date('dueAfter'),
    withoutDueDate: q.bool('withoutDueDate'),
    minPriority: q.int('minPriority', -Infinity),
    maxPriority: q.int('maxPriority', -Infinity),
    suspended: suspensionFilterOf(q.bool('active'), q.bool('suspended')),
    sorting: sortingOf(ctx, taskSortColumns) as TaskFilter['sorting'],
    firstResult: q.int('firstResult'),
    maxResults: q.int('maxResults'),
  };
}

/** More or-queries than any inbox or filter uses (Camunda's Tasklist sends a handful). */
const MAX_OR_QUERIES = 50;

/** The keys of Camunda's JSON task query (POST /task) that taskFilterOfBody reads. */
export const TASK_QUERY_KEYS: ReadonlySet<string> = new Set([
  'taskId', 'assignee', 'candidateUser', 'candidateGroup', 'candidateGroups', 'includeAssignedTasks', 'unassigned', 'assigned',
  'processInstanceId', 'processDefinitionKey', 'processDefinitionId', 'taskDefinitionKey', 'name', 'nameLike',
  'dueBefore', 'dueAfter', 'withoutDueDate', 'minPriority', 'maxPriority', 'active', 'suspended', 'sorting', 'orQueries',
]);
/** The keys an or-query may hold: the criteria its clause applies. */
export const OR_QUERY_KEYS: ReadonlySet<string> = new Set(['assignee', 'candidateUser', 'candidateGroup', 'candidateGroups', 'unassigned', 'processDefinitionKey', 'nameLike']);
/** Keys Camunda's Tasklist sends with every query, harmless while they ask for nothing (empty lists, false). */
const EMPTY_DEFAULTS: ReadonlySet<string> = new Set(['processVariables', 'taskVariables', 'caseInstanceVariables', 'variableNamesIgnoreCase', 'variableValuesIgnoreCase']);

/**
 * A criterion this reader does not apply would widen the answer (more tasks
 * than asked for): refused, naming it, rather than passed over.
 */
function refuseUnread(body: Record<string, unknown>, known: ReadonlySet<string>, where: string): void {
  const asksNothing = (v: unknown) => v == null || v === false || (Array.isArray(v) && v.length === 0);
  const unread = Object.keys(body).filter((k) => !known.has(k) && !(asksNothing(body[k]) && (body[k] == null || EMPTY_DEFAULTS.has(k))));
  if (unread.length) {
    throw new ValidationError(`不支持的任务查询条件 / task query criteria not supported: ${unread.map((k) => `${where}${k}`).join(', ')}`, { unsupported: unread.map((k) => `${where}${k}`) });
  }
}

/** Camunda's JSON task query (POST /task): the same criteria, typed, plus sorting and orQueries. */
export function taskFilterOfBody(body: Record<string, unknown>, paging: { firstResult?: number | undefined; maxResults?: number | undefined }): TaskFilter {
  refuseUnread(body, TASK_QUERY_KEYS, '');
  const str = (k: string) => {
    const v = body[k];
    if (v == null || v === '') return undefined;
    if (typeof v !== 'string') throw new ValidationError(`${k} 必须是文本 / ${k} must be a string`);
    return v;
  };
  const bool = (k: string) => {
    const v = body[k];
    if (v == null) return undefined;
    if (typeof v !== 'boolean') throw new ValidationError(`${k} 必须是 true 或 false / ${k} must be a boolean`);
    return v;
  };
  const list = (k: string) => {
    const v = body[k];
    if (v == null) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new ValidationError(`${k} 必须是文本数组 / ${k} must be an array of strings`);
    return v as string[];
  };
  const date = (k: string) => (body[k] == null ? undefined : checkDate(k, body[k]));
  const int = (k: string) => (body[k] == null ? undefined : checkInt(k, body[k], -Infinity));
  const candidateGroup = str('candidateGroup');
  const groups = list('candidateGroups');
  const sortingRaw = body.sorting ?? [];
  if (!Array.isArray(sortingRaw)) throw new ValidationError('sorting 必须是数组 / sorting must be an array');
  const sorting = sortingRaw.map((s: { sortBy?: unknown; sortOrder?: unknown }) => {
    const column = taskSortColumns[s?.sortBy as keyof typeof taskSortColumns];
    if (!column || (s.sortOrder !== 'asc' && s.sortOrder !== 'desc')) {
      throw new ValidationError(`排序无效 / invalid sorting ${JSON.stringify(s)}: sortBy one of ${Object.keys(taskSortColumns).join(', ')}, sortOrder asc or desc`);
    }
    return { column, order: s.sortOrder };
  });
  const orRaw = body.orQueries ?? [];
  if (!Array.isArray(orRaw) || orRaw.some((o) => o == null || typeof o !== 'object')) throw new ValidationError('orQueries 必须是对象数组 / orQueries must be an array of objects');
  // Each or-query is a clause of the statement and may look a user up: a body of thousands is no inbox query.
  if (orRaw.length > MAX_OR_QUERIES) throw new ValidationError(`orQueries 最多 ${MAX_OR_QUERIES} 个 / at most ${MAX_OR_QUERIES} orQueries`);
  return {
    taskId: str('taskId'), assignee: str('assignee'), candidateUser: str('candidateUser'),
    candidateGroups: candidateGroup || groups ? [...(candidateGroup ? [candidateGroup] : []), ...(groups ?? [])] : undefined,
    includeAssignedTasks: bool('includeAssignedTasks'), unassigned: bool('unassigned'), assigned: bool('assigned'),
    processInstanceId: str('processInstanceId'), processDefinitionKey: str('processDefinitionKey'), processDefinitionId: str('processDefinitionId'),
    taskDefinitionKey: str('taskDefinitionKey'), name: str('name'), nameLike: str('nameLike'),
    dueBefore: date('dueBefore'), dueAfter: date('dueAfter'), withoutDueDate: bool('withoutDueDate'),
    minPriority: int('minPriority'), maxPriority: int('maxPriority'),
    suspended: suspensionFilterOf(bool('active'), bool('suspended')),
    orQueries: orRaw.map((o: Record<string, unknown>, i: number) => {
      refuseUnread(o, OR_QUERY_KEYS, `orQueries[${i}].`);
      const f = taskFilterOfBody({ ...o, orQueries: undefined, sorting: undefined }, {});
      return { assignee: f.assignee, candidateUser: f.candidateUser, candidateGroups: f.candidateGroups, unassigned: f.unassigned, processDefinitionKey: f.processDefinitionKey, nameLike: f.nameLike };
    }),
    sorting: sorting.length ? (sorting as TaskFilter['sorting']) : undefined,
    ...paging,
  };
}

/** `/task`: the inbox, claim, unclaim, complete, form variables. */
export function makeTaskRoutes(deps: { tasks: TaskService }): Router {
  const router = new Router();
  router.get('/task', async (ctx) => {
    ctx.body = (await deps.tasks.list(taskFilterOf(ctx), principalOf(ctx))).map(taskDto);
  });
  router.post('/task', async (ctx) => {
    const q = queryOf(ctx);
    const filter = taskFilterOfBody(bodyObject(ctx), { firstResult: q.int('firstResult'), maxResults: q.int('maxResults') });
    ctx.body = (await deps.tasks.list(filter, principalOf(ctx))).map(taskDto);
  });
  router.post('/task/count', async (ctx) => {
    const { sorting: _s, ...filter } = taskFilterOfBody(bodyObject(ctx), {});
    ctx.body = { count: await deps.tasks.count(filter, principalOf(ctx)) };
  });
  router.get('/task/count', async (ctx) => {
    const { firstResult: _f, maxResults: _m, sorting: _s, ...filter } = taskFilterOf(ctx);
    ctx.body = { count: await deps.tasks.count(filter, principalOf(ctx)) };
  });
  router.get('/task/:id', async (ctx) => {
    ctx.body = taskDto(await deps.tasks.get(ctx.params.id, principalOf(ctx)));
  });
  router.post('/task/:id/claim', async (ctx) => {
    const body = bodyObject(ctx);
    if (typeof body.userId !== 'string') throw new ValidationError('请求体需要 userId / body must contain userId');
    await deps.tasks.claim(ctx.params.id, body.userId, principalOf(ctx));
    ctx.status = 204;
  });
  router.post('/task/:id/unclaim', async (ctx) => {
    await deps.tasks.unclaim(ctx.params.id, principalOf(ctx));
    ctx.status = 204;
  });
  router.post('/task/:id/complete', async (ctx) => {
    const body = bodyObject(ctx);
    const principal = principalOf(ctx);
    await answerCompletion(ctx, body, async () => (await deps.tasks.visibleTask(ctx.params.id, principal)).process_instance_id,
      (withVariables) => deps.tasks.complete(ctx.params.id, parseVariables(body.variables), principal, withVariables), formatVariables);
  });
  router.get('/task/:id/form-variables', async (ctx) => {
    const { fields, variables } = await deps.tasks.formVariables(ctx.params.id, principalOf(ctx));
    ctx.body = formVariablesDto(fields, formatVariables(variables), queryOf(ctx).list('variableNames'));
  });
  return router;
}
