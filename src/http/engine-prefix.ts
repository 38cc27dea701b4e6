import type { Context, Next } from 'koa';
import { ValidationError } from '../errors.ts';

/** The one process engine this server is, by the name Camunda's clients address it. */
export const ENGINE_NAME = 'default';

const NAMED = /^\/engine-rest\/engine\/([^/]+)(\/.*)?$/i;

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
  if (m && decodeName(m[1]) === ENGINE_NAME) {
    ctx.state.enginePrefix = true;
    // Setting ctx.path keeps the query string.
    ctx.path = `/engine-rest${m[2] ?? ''}`;
  }
  await next();
}

/** Camunda's answer for an engine it does not have: 400 InvalidRequestException "No process engine available". */
export async function unknownEngine(ctx: Context, next: Next): Promise<void> {
  const m = NAMED.exec(ctx.path);
  if (m) {
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
