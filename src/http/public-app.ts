import Koa from 'koa';
import type { Logger } from 'pino';
import type { PublicRequestService } from '../services/public-requests.ts';
import { exactJsonType, makeErrorMiddleware } from './errors.ts';
import { makePublicRequestRoutes } from './routes/public-requests.ts';
import { makeClientAddress } from './client-address.ts';
import { wellFormedRequestLine } from './well-formed.ts';

/** A public start form is a few short fields; nothing larger has a reason to reach the server from the internet. */
export const PUBLIC_BODY_LIMIT = 16 * 1024;

export interface PublicAppDeps {
  log: Logger;
  publicRequests: PublicRequestService;
  /**
   * The internet zone's reverse proxies (PUBLIC_TRUSTED_PROXIES), whose
   * X-Forwarded-For names the citizen in the trace. Not the private
   * listener's TRUSTED_PROXIES: each zone believes only its own proxies.
   */
  trustedProxies?: string[];
}

/**
 * The internet zone's listener: only `/public/...` (list and start public
 * processes, read a request's status by its reference). No `/engine-rest`,
 * no `/health`, no authentication (the public has no accounts): anything
 * else is 404, including the methods the routes do not take.
 */
export function makePublicApp(deps: PublicAppDeps): Koa {
  const app = new Koa();
  // Koa's own X-Forwarded-* handling stays off (ctx.ip, ctx.protocol, ctx.host): the caller's
  // address comes from makeClientAddress alone, which reads X-Forwarded-For only from a listed proxy.
  app.proxy = false;
  // A client hanging up mid-request ends its response with an error that Koa would print to stderr, past the
  // logger. Only the code and message: a parse error carries the raw request bytes, Authorization included.
  app.on('error', (err: Error & { code?: string }) => deps.log.debug({ code: err.code, message: err.message }, 'request stream error'));
  app.use(makeClientAddress(deps.trustedProxies ?? []));
  app.use(exactJsonType);
  app.use(makeErrorMiddleware(deps.log));
  app.use(wellFormedRequestLine);
  app.use(async (ctx, next) => {
    // A status is one person's business: no cache on the way may keep it.
    ctx.set('Cache-Control', 'no-store');
    ctx.set('X-Content-Type-Options', 'nosniff');
    await next();
  });
  app.use(makePublicRequestRoutes({ ...deps, bodyLimit: PUBLIC_BODY_LIMIT }).routes());
  return app;
}
