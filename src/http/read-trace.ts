import type { Context, Next } from 'koa';
import { ValidationError } from '../errors.ts';
import type { TraceFact, TraceService } from '../services/trace.ts';
import type { Principal } from '../types.ts';

/** POST routes that only read (Camunda's query-by-body endpoints). */
const POST_QUERIES = new Set([
  '/engine-rest/task', '/engine-rest/task/count', '/engine-rest/migration/generate', '/engine-rest/migration/validate',
  '/engine-rest/process-instance', '/engine-rest/process-instance/count', '/engine-rest/execution', '/engine-rest/execution/count', '/engine-rest/history/process-instance', '/engine-rest/history/process-instance/count',
  '/engine-rest/history/task', '/engine-rest/history/variable-instance', '/engine-rest/history/activity-instance',
  '/engine-rest/external-task', '/engine-rest/external-task/count', '/engine-rest/job', '/engine-rest/job/count', '/engine-rest/job-definition', '/engine-rest/group', '/engine-rest/group/count',
  '/engine-rest/variable-instance', '/engine-rest/variable-instance/count', '/engine-rest/schema/log', '/engine-rest/job-definition/count',
  '/engine-rest/filter/:id/list', '/engine-rest/filter/:id/count', '/engine-rest/filter/:id/singleResult',
  '/engine-rest/history/task/count', '/engine-rest/history/variable-instance/count', '/engine-rest/history/activity-instance/count',
  '/engine-rest/history/detail', '/engine-rest/history/external-task-log', '/engine-rest/history/external-task-log/count',
  '/engine-rest/history/job-log', '/engine-rest/history/job-log/count',
]);
/** Routes that return nothing about processes or people. */
const UNTRACED = new Set(['/engine-rest/version', '/engine-rest/engine', '/engine-rest/identity/password-policy']);
/** How many ids of a list a trace row names; the count is always there. */
const MAX_IDS = 100;

/** The entity a read route returns, by its route pattern (longest prefix wins). */
const ENTITIES: [RegExp, string][] = [
  [/\/(v|localV)ariables(\/:name(\/data)?)?$|\/form-variables$|^\/engine-rest\/(history\/)?variable-instance|^\/engine-rest\/history\/detail/, 'Variable'],
  [/\/comment(\/:commentId)?$/, 'Comment'],
  [/\/attachment(\/:attachmentId(\/data)?)?$/, 'Attachment'],
  [/\/activity-instances$|^\/engine-rest\/history\/activity-instance/, 'ActivityInstance'],
  [/\/(form|startForm|rendered-form|deployed-form|deployed-start-form)$/, 'Form'],
  [/^\/engine-rest\/history\/user-operation/, 'Trace'],
  [/^\/engine-rest\/history\/identity-link-log/, 'IdentityLinkLog'],
  [/^\/engine-rest\/history\/external-task-log/, 'ExternalTaskLog'],
  [/^\/engine-rest\/history\/job-log/, 'JobLog'],
  [/^\/engine-rest\/(history\/)?incident/, 'Incident'],
  [/^\/engine-rest\/(history\/)?task/, 'Task'],
  // A filter's tasks are a read of tasks; the filter is named in the details.
  [/^\/engine-rest\/filter\/:id\/(list|count|singleResult)$/, 'Task'],
  [/^\/engine-rest\/filter/, 'Filter'],
  [/^\/engine-rest\/history\/cleanup/, 'Job'],
  [/^\/engine-rest\/(history\/)?process-instance/, 'ProcessInstance'],
  [/^\/engine-rest\/event-subscription|\/messageSubscriptions\/:messageName$/, 'EventSubscription'],
  [/^\/engine-rest\/execution/, 'Execution'],
  [/^\/engine-rest\/(history\/)?process-definition/, 'ProcessDefinition'],
  [/^\/engine-rest\/(history\/)?decision-definition/, 'DecisionDefinition'],
  [/^\/engine-rest\/decision-requirements-definition/, 'DecisionRequirementsDefinition'],
  [/^\/engine-rest\/history\/decision-instance/, 'DecisionInstance'],
  [/^\/engine-rest\/history\/decision-requirements-definition/, 'DecisionRequirementsDefinition'],
  [/^\/engine-rest\/deployment/, 'Deployment'],
  [/^\/engine-rest\/external-task/, 'ExternalTask'],
  [/^\/engine-rest\/job-definition/, 'JobDefinition'],
  [/^\/engine-rest\/schema\/log/, 'SchemaLog'],
  [/^\/engine-rest\/authorization/, 'Authorization'],
  [/^\/engine-rest\/metrics/, 'Metrics'],
  [/^\/engine-rest\/job/, 'Job'],
  [/^\/engine-rest\/user/, 'User'],
  [/^\/engine-rest\/identity\/groups/, 'Group'],
  [/^\/engine-rest\/group/, 'Group'],
  [/^\/engine-rest\/token/, 'Token'],
  [/^\/engine-rest\/notification-webhook/, 'NotificationWebhook'],
  [/^\/engine-rest\/notification/, 'Notification'],
  [/^\/engine-rest\/carbon-copy/, 'CarbonCopy'],
  [/^\/engine-rest\/trace/, 'Trace'],
  [/^\/engine-rest\/backup/, 'Backup'],
  [/^\/engine-rest\/(history\/)?batch/, 'Batch'],
  [/^\/engine-rest\/migration/, 'MigrationPlan'],
];

interface ReturnedVariables {
  names: string[];
  processInstanceId: string | null;
}

/**
 * A change that answers with the instance's variables (`withVariablesInReturn`
 * on start, complete and submit-form) reads them too: the route says which,
 * and the read is traced like a GET of them.
 */
export function returnsVariables(ctx: Context, variables: Record<string, unknown>, processInstanceId: string | null): void {
  ctx.state.returnedVariables = { names: Object.keys(variables), processInstanceId } satisfies ReturnedVariables;
}

/**
 * Camunda's complete / submit-form answer: 204, or with
 * `withVariablesInReturn: true` the instance's variables after the step, a
 * read traced against the instance (looked up before the task ends, since
 * the answer does not name it). `run` does the completion.
 */
export async function answerCompletion<V extends object>(
  ctx: Context, body: Record<string, unknown>, instanceOfTask: () => Promise<string | null>,
  run: (withVariables: boolean) => Promise<V | null>, format: (variables: V) => unknown,
): Promise<void> {
  if (body.withVariablesInReturn != null && typeof body.withVariablesInReturn !== 'boolean') {
    throw new ValidationError('withVariablesInReturn 必须是 true 或 false / withVariablesInReturn must be a boolean');
  }
  const wanted = body.withVariablesInReturn === true;
  const instanceId = wanted ? await instanceOfTask() : null;
  const variables = await run(wanted);
  if (variables) {
    ctx.body = format(variables);
    returnsVariables(ctx, variables as Record<string, unknown>, instanceId);
  } else ctx.status = 204;
}

/** The process instance of a task the caller may see, for reads under `/task/:id` whose answer does not name it. */
export type TaskInstanceOf = (taskId: string, principal: Principal) => Promise<string | null>;

/**
 * Records every successful read under /engine-rest (who, from where, which
 * route and query, which entities and variable names came back, and whose
 * process instance) before the response leaves the server: if the trace
 * cannot be written, the caller gets an error instead of the data. Changes
 * are traced by the services, in the transaction of the change itself.
 */
export function makeReadTrace(trace: TraceService, taskInstanceOf?: TaskInstanceOf) {
  return async function readTrace(ctx: Context, next: Next): Promise<void> {
    await next();
    const route = (ctx as Context & { _matchedRoute?: string })._matchedRoute;
    const principal = ctx.state.principal as Principal | undefined;
    if (!route || !principal || UNTRACED.has(route) || ctx.status >= 300) return;
    const returned = ctx.state.returnedVariables as ReturnedVariables | undefined;
    if (returned && ctx.method === 'POST') {
      await trace.recordAlone(principal, {
        operation: 'Read', entityType: 'Variable', entityId: null, processInstanceId: returned.processInstanceId,
        details: { route: `${ctx.method} ${route}`, variables: returned.names.slice(0, MAX_IDS), withVariablesInReturn: true },
      });
      return;
    }
    if (ctx.method !== 'GET' && !(ctx.method === 'POST' && POST_QUERIES.has(route))) return;
    const fact = readFact(ctx, route);
    if (!fact.processInstanceId && !fact.details?.processInstanceIds && /^\/engine-rest\/task\/:id(\/|$)/.test(route) && taskInstanceOf) {
      fact.processInstanceId = await taskInstanceOf(String(ctx.params.id), principal);
    }
    await trace.recordAlone(principal, fact);
  };
}

const str = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);

/**
 * The process instances a read concerns: the route's, the query's filter,
 * or those of the items returned. One goes in the row's own column (and the
 * row in that instance's chain); several are named in the details.
 */
function instancesOf(ctx: Context, route: string, entityType: string, body: unknown): string[] {
  const params = (ctx.params ?? {}) as Record<string, string>;
  if (route.includes('/process-instance/:id')) return [params.id];
  const query = ctx.query as Record<string, unknown>;
  const filtered = [query.processInstanceId, ...String(query.processInstanceIds ?? query.processInstanceIdIn ?? '').split(',')].map(str);
  // A query by body names its instances as the query string would: one id, or an array.
  const requestBody = ctx.method === 'POST' ? (ctx.request as { body?: Record<string, unknown> }).body : undefined;
  const bodyFilter = [requestBody?.processInstanceId, ...[requestBody?.processInstanceIds, requestBody?.processInstanceIdIn].flatMap((v) => (Array.isArray(v) ? v : []))].map(str);
  // Trace entries name instances, but reading them is a read of the trace: only its filter counts.
  const items = entityType === 'Trace' ? [] : Array.isArray(body) ? body : body && typeof body === 'object' && !Buffer.isBuffer(body) ? [body] : [];
  // A process instance's own id is its `id`; anything else names its instance in `processInstanceId`.
  const fromItems = items.map((x) => str((x as Record<string, unknown>)?.[entityType === 'ProcessInstance' ? 'id' : 'processInstanceId']));
  return [...new Set([...filtered, ...bodyFilter, ...fromItems].filter((x): x is string => x != null))];
}

function readFact(ctx: Context, route: string): TraceFact {
  const entityType = ENTITIES.find(([re]) => re.test(route))?.[1] ?? 'Unknown';
  const body = ctx.body as unknown;
  const params = (ctx.params ?? {}) as Record<string, string>;
  const details: Record<string, unknown> = { route: `${ctx.method} ${route}` };
  if (ctx.querystring) details.query = ctx.querystring;
  // A query by body (POST /process-instance and the like): its criteria are the query.
  const requestBody = (ctx.request as { body?: unknown }).body;
  if (ctx.method === 'POST' && requestBody && typeof requestBody === 'object' && Object.keys(requestBody).length) details.filter = requestBody;
  // Read through a filter: the filter is the route's id, the tasks are what was read.
  const throughFilter = /^\/engine-rest\/filter\/:id\//.test(route);
  if (throughFilter) details.filterId = params.id;
  let entityId: string | null = throughFilter ? null : params.id ?? null;
  if (Array.isArray(body)) {
    details.count = body.length;
    details.ids = body.slice(0, MAX_IDS).map((x) => (x as { id?: unknown })?.id ?? (x as { name?: unknown })?.name ?? null);
  } else if (body && typeof body === 'object' && !Buffer.isBuffer(body)) {
    const b = body as Record<string, unknown>;
    if (typeof b.count === 'number' && Object.keys(b).length === 1) details.count = b.count;
    else if (entityType === 'Variable' && route.includes('/variable-instance/')) details.variables = [b.name];
    else if (entityType === 'Variable' && route.includes('/history/detail/')) details.variables = [b.variableName];
    else if (entityType === 'Variable' && !params.name) details.variables = Object.keys(b);
    if (typeof b.id === 'string' && !entityId) entityId = b.id;
  }
  // One variable, or the bytes of a Bytes/File one (a Buffer, so named here whatever the answer's shape).
  if (params.name) details.variables = [params.name];
  // A variable instance's bytes name their variable only in what the route found.
  if (typeof ctx.state.variableName === 'string') details.variables = [ctx.state.variableName];
  // Variable instances in a list name their variables, as a read of an instance's variables does.
  if (entityType === 'Variable' && Array.isArray(body) && (route.includes('variable-instance') || route.includes('/history/detail'))) {
    details.variables = [...new Set(body.map((x) => (x as { name?: unknown; variableName?: unknown })?.name ?? (x as { variableName?: unknown })?.variableName))].slice(0, MAX_IDS);
  }
  if (entityType === 'DecisionInstance') Object.assign(details, decisionValuesOf(body));
  // A route that found the instance itself (an execution's) names it in ctx.state.
  const instances = typeof ctx.state.processInstanceId === 'string' ? [ctx.state.processInstanceId] : instancesOf(ctx, route, entityType, body);
  if (instances.length > 1) {
    details.processInstanceIds = instances.slice(0, MAX_IDS);
    if (instances.length > MAX_IDS) details.processInstanceCount = instances.length;
  }
  return { operation: 'Read', entityType, entityId, processInstanceId: instances.length === 1 ? instances[0] : null, details };
}

/**
 * The inputs (clause ids) and outputs (variable names) that came back with
 * decision history, as variable reads name their variables: an input may be
 * any variable's value. Absent when the read did not include them.
 */
function decisionValuesOf(body: unknown): Record<string, string[]> {
  const items = (Array.isArray(body) ? body : body && typeof body === 'object' && !Buffer.isBuffer(body) ? [body] : []) as Record<string, unknown>[];
  const names = (list: 'inputs' | 'outputs', field: string) => {
    const present = items.map((x) => x?.[list]).filter(Array.isArray) as Record<string, unknown>[][];
    if (!present.length) return undefined;
    return [...new Set(present.flat().map((v) => str(v?.[field]) ?? str(v?.clauseId)).filter((x): x is string => x != null))].slice(0, MAX_IDS);
  };
  const found: Record<string, string[]> = {};
  const inputs = names('inputs', 'clauseId');
  const outputs = names('outputs', 'variableName');
  if (inputs) found.inputs = inputs;
  if (outputs) found.outputs = outputs;
  return found;
}
