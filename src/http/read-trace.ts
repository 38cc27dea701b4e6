import type { Context, Next } from 'koa';
import type { TraceFact, TraceService } from '../services/trace.ts';
import type { Principal } from '../types.ts';

/** POST routes that only read (Camunda's query-by-body endpoints). */
const POST_QUERIES = new Set(['/engine-rest/task', '/engine-rest/task/count']);
/** Routes that return nothing about processes or people. */
const UNTRACED = new Set(['/engine-rest/version']);
/** How many ids of a list a trace row names; the count is always there. */
const MAX_IDS = 100;

/** The entity a read route returns, by its route pattern (longest prefix wins). */
const ENTITIES: [RegExp, string][] = [
  [/\/variables(\/:name(\/data)?)?$|\/form-variables$|^\/engine-rest\/history\/variable-instance/, 'Variable'],
  [/\/comment$/, 'Comment'],
  [/\/activity-instances$|^\/engine-rest\/history\/activity-instance/, 'ActivityInstance'],
  [/\/deployed-form$/, 'Form'],
  [/^\/engine-rest\/history\/user-operation/, 'Trace'],
  [/^\/engine-rest\/(history\/)?incident/, 'Incident'],
  [/^\/engine-rest\/(history\/)?task/, 'Task'],
  [/^\/engine-rest\/(history\/)?process-instance/, 'ProcessInstance'],
  [/^\/engine-rest\/process-definition/, 'ProcessDefinition'],
  [/^\/engine-rest\/deployment/, 'Deployment'],
  [/^\/engine-rest\/external-task/, 'ExternalTask'],
  [/^\/engine-rest\/job-definition/, 'JobDefinition'],
  [/^\/engine-rest\/job/, 'Job'],
  [/^\/engine-rest\/user/, 'User'],
  [/^\/engine-rest\/group/, 'Group'],
  [/^\/engine-rest\/token/, 'Token'],
  [/^\/engine-rest\/trace/, 'Trace'],
];

/**
 * Records every successful read under /engine-rest (who, from where, which
 * route and query, which entities and variable names came back) before the
 * response leaves the server: if the trace cannot be written, the caller
 * gets an error instead of the data. Changes are traced by the services,
 * in the transaction of the change itself.
 */
export function makeReadTrace(trace: TraceService) {
  return async function readTrace(ctx: Context, next: Next): Promise<void> {
    await next();
    const route = (ctx as Context & { _matchedRoute?: string })._matchedRoute;
    const principal = ctx.state.principal as Principal | undefined;
    if (!route || !principal || UNTRACED.has(route) || ctx.status >= 300) return;
    if (ctx.method !== 'GET' && !(ctx.method === 'POST' && POST_QUERIES.has(route))) return;
    await trace.recordAlone(principal, readFact(ctx, route));
  };
}

function readFact(ctx: Context, route: string): TraceFact {
  const entityType = ENTITIES.find(([re]) => re.test(route))?.[1] ?? 'Unknown';
  const body = ctx.body as unknown;
  const details: Record<string, unknown> = { route: `${ctx.method} ${route}` };
  if (ctx.querystring) details.query = ctx.querystring;
  let entityId: string | null = (ctx.params as Record<string, string> | undefined)?.id ?? null;
  let processInstanceId: string | null = route.includes('/process-instance/:id') ? entityId : null;
  if (Array.isArray(body)) {
    details.count = body.length;
    details.ids = body.slice(0, MAX_IDS).map((x) => (x as { id?: unknown })?.id ?? (x as { name?: unknown })?.name ?? null);
  } else if (body && typeof body === 'object' && !Buffer.isBuffer(body)) {
    const b = body as Record<string, unknown>;
    if (typeof b.count === 'number' && Object.keys(b).length === 1) details.count = b.count;
    else if (entityType === 'Variable') details.variables = ctx.params?.name ? [ctx.params.name] : Object.keys(b);
    if (typeof b.id === 'string' && !entityId) entityId = b.id;
    if (typeof b.processInstanceId === 'string') processInstanceId ??= b.processInstanceId;
  }
  return { operation: 'Read', entityType, entityId, processInstanceId, details };
}
