import type { Context, Next } from 'koa';
import { ValidationError } from '../errors.ts';
import { CAMUNDA_REST } from './camunda-rest.ts';

/** The one process engine this server is, by the name Camunda's clients address it. */
export const ENGINE_NAME = 'default';

const NAMED = /^\/engine-rest\/engine\/([^/]+)(\/.*)?$/i;

/** Camunda's resources (the first path segment: task, process-instance, history, …); only these are served under the engine's name. */
const CAMUNDA_ROOTS = new Set(CAMUNDA_REST.map((line) => line.split(' ')[1].split('/')[1].toLowerCase()));
const rootOf = (rest: string | undefined) => (rest ?? '').split('/')[1]?.toLowerCase() ?? '';

/**
 * Camunda 7 serves every resource both at `/engine-rest/x` and at
 * `/engine-rest/engine/{name}/x` (camunda-bpm-sdk-js's default). The named
 * form is rewritten to the plain one before anything else looks at the path,
 * so authentication, the workers' limits, routing, the read trace and error
 * mapping all see one path and cannot disagree about what was called.
 * Another engine's name is kept as it is and refused after authentication
 * (see unknownEngine), as an unknown path is.
 */
export async function engineNamePrefix(ctx: Context, next: Next): Promise<void> {
  const m = NAMED.exec(ctx.path);
  // Our own resources (notification, carbon-copy, trace, …) are not Camunda's and are not served under its engine names.
  if (m && decodeName(m[1]) === ENGINE_NAME && CAMUNDA_ROOTS.has(rootOf(m[2]))) {
    ctx.state.enginePrefix = true;
    // Setting ctx.path keeps the query string.
    ctx.path = `/engine-rest${m[2] ?? ''}`;
  }
  await next();
}

/** Camunda's answer for an engine it does not have: 400 InvalidRequestException "No process engine available". */
export async function unknownEngine(ctx: Context, next: Next): Promise<void> {
  const m = NAMED.exec(ctx.path);
  // The right engine with a resource that is not Camunda's was left unrewritten: no route has that path, the plain 404.
  if (m && decodeName(m[1]) !== ENGINE_NAME) {
    throw new ValidationError(`没有名为 "${decodeName(m[1])}" 的流程引擎，本服务只有 "${ENGINE_NAME}" / No process engine available (this server has only "${ENGINE_NAME}")`);
  }
  await next();
}

function decodeName(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** `GET /engine-rest/engine`: the engines this server has. */
export function engineList(ctx: Context): void {
  ctx.body = [{ name: ENGINE_NAME }];
}
