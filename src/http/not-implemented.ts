import type { Context, Next } from 'koa';
import { NotFoundError, NotImplementedError } from '../errors.ts';
import { CAMUNDA_REST } from './camunda-rest.ts';

/** A path template's shape: its segments, lower case, with every parameter (`{id}`, `:id`) as `*`. */
export const shapeOf = (template: string): string =>
  template.split('/').map((part) => (/^\{.+\}$|^:/.test(part) ? '*' : part.toLowerCase())).join('/');

/**
 * Camunda 7's method-and-path pairs as matchers: `{id}` is one path segment; paths match without regard
 * to case, as the router's do. The most specific first, so that /process-definition/statistics is
 * that endpoint and not /process-definition/{id}.
 */
const PAIRS = CAMUNDA_REST.map((line) => {
  const [method, path] = line.split(' ');
  const pattern = path.split('/').map((part) => (/^\{.+\}$/.test(part) ? '[^/]+' : part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))).join('/');
  return { method, path, shape: shapeOf(`/engine-rest${path}`), literals: path.split('/').filter((x) => x && !x.startsWith('{')).length, re: new RegExp(`^/engine-rest${pattern}$`, 'i') };
}).sort((a, b) => b.literals - a.literals);

/** What the server has not and will not have, by Camunda path: named in the refusal. CMMN is not in Camunda's OpenAPI but in its REST API. */
const FEATURES: [RegExp, string, string][] = [
  [/^\/engine-rest\/(history\/)?case-/i, 'CMMN 案例', 'CMMN cases'],
  [/^\/engine-rest\/tenant|\/tenant-id\//i, '多租户', 'tenants'],
  [/^\/engine-rest\/telemetry/i, '遥测', 'telemetry'],
  // Reads are answered (routes/authorizations.ts); what is left is creating, changing and deleting.
  [/^\/engine-rest\/authorization/i, '修改 Camunda 授权（本服务的授权由角色推导，只读）',
    'changing Camunda authorizations (here they are derived from the roles and read-only, see docs/authorization.md)'],
];

/** The Camunda pair `METHOD /path` a request is, if any; CMMN paths are Camunda's whatever the method. */
export function camundaPairOf(method: string, path: string): { pair: string; shape: string } | undefined {
  const found = PAIRS.find((p) => p.method === method && p.re.test(path));
  if (found) return { pair: `${found.method} ${found.path}`, shape: found.shape };
  return FEATURES[0][0].test(path) ? { pair: `${method} ${path.replace(/^\/engine-rest/i, '')}`, shape: '' } : undefined;
}

function refusal(method: string, path: string, pair: string): NotImplementedError {
  const feature = FEATURES.find(([re]) => re.test(path));
  return new NotImplementedError(
    feature
      ? `${feature[1]}：本服务不支持 / ${feature[2]}: not supported by this server (Camunda 7 ${pair})`
      : `此 Camunda 7 接口本服务未实现 / this Camunda 7 endpoint is not implemented by this server: ${pair}`,
    { camunda: pair, ...(feature ? { feature: feature[2] } : {}) },
  );
}

/**
 * Around the API's routing: a Camunda 7 endpoint that no route of ours
 * answers is refused with 501 and what it is (issue 18 item 10), so that a
 * client built for Camunda learns "not here" rather than "no such path".
 * OPTIONS (Camunda's link discovery) is answered by a route of ours when one
 * has it; otherwise the router's bare Allow header, which is not Camunda's
 * answer, is replaced by the refusal.
 */
export async function refuseNotImplemented(ctx: Context, next: Next): Promise<void> {
  try {
    await next();
  } catch (err) {
    // A route of another shape that took the path for its parameter (GET /process-definition/:id for Camunda's
    // /process-definition/statistics) and did not find it: Camunda's endpoint is not here.
    if (err instanceof NotFoundError) refuseIfCamunda(ctx, true);
    throw err;
  }
  if (ctx.status === 404 || ctx.status === 405) refuseIfCamunda(ctx, ctx.body != null);
  // No OPTIONS route took it (allowedMethods answered 200 with an Allow header and no body).
  else if (ctx.method === 'OPTIONS') refuseIfCamunda(ctx, false);
}

/** Throws the refusal when the request is a Camunda pair and no route of its shape answered it. */
function refuseIfCamunda(ctx: Context, answered: boolean): void {
  const found = camundaPairOf(ctx.method, ctx.path);
  if (!found) return;
  const matched = (ctx as Context & { _matchedRoute?: string })._matchedRoute;
  if (matched ? shapeOf(matched) !== found.shape : !answered) throw refusal(ctx.method, ctx.path, found.pair);
}
