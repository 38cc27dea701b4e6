import { createHash, timingSafeEqual } from 'node:crypto';
import Koa from 'koa';
import type { Logger } from 'pino';
import type { Metrics } from '../services/metrics.ts';

/**
 * Counts every request by the route pattern @koa/router matched
 * (`/engine-rest/task/:id/complete`), never the raw path: ids would make a
 * time series each. Requests no route matched (401 before routing, the web
 * app's files, unknown paths) share `route="(unmatched)"`. First in the
 * chain, so the status is the one the error middleware answered with.
 */
export function makeRequestMetrics(metrics: Metrics): Koa.Middleware {
  return async (ctx, next) => {
    const started = performance.now();
    let status: number | undefined;
    try {
      await next();
    } catch (err) {
      status = (err as { status?: number }).status ?? 500;
      throw err;
    } finally {
      const route = (ctx as { _matchedRoute?: unknown })._matchedRoute;
      metrics.observeRequest(ctx.method, route === undefined ? '(unmatched)' : String(route), status ?? ctx.status, (performance.now() - started) / 1000);
    }
  };
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * `GET /metrics`. With `token` set, only `Authorization: Bearer <token>`
 * reads it (compared in constant time); without one it is served on the
 * main listener not at all (404), only on the metrics listener
 * (METRICS_PORT). Never behind the users' sign-in: Prometheus scrapes with
 * a bearer token, not with a staff account. Aggregate counts only, no
 * process data, so a scrape is not traced.
 */
export function makeMetricsEndpoint(metrics: Metrics, options: { token: string | undefined; openWithoutToken: boolean; log: Logger }): Koa.Middleware {
  const expected = options.token === undefined ? undefined : digest(options.token);
  return async (ctx, next) => {
    if (ctx.path !== '/metrics') return next();
    // Served outside the router: named for the request count as a route would be.
    (ctx as { _matchedRoute?: string })._matchedRoute = '/metrics';
    if (expected === undefined && !options.openWithoutToken) {
      ctx.status = 404;
      ctx.body = { type: 'NotFoundError', message: '未开放 /metrics：设置 METRICS_TOKEN 或 METRICS_PORT / /metrics is not exposed here: set METRICS_TOKEN or METRICS_PORT' };
      return;
    }
    if (ctx.method !== 'GET') {
      ctx.status = 405;
      ctx.set('Allow', 'GET');
      ctx.body = { type: 'MethodNotAllowed', message: '只支持 GET / only GET is supported on /metrics' };
      return;
    }
    if (expected !== undefined) {
      const given = /^Bearer\s+(\S+)$/i.exec(ctx.get('Authorization'))?.[1];
      if (given === undefined || !timingSafeEqual(digest(given), expected)) {
        ctx.status = 401;
        ctx.set('WWW-Authenticate', 'Bearer realm="metrics"');
        ctx.body = { type: 'AuthenticationError', message: '需要 METRICS_TOKEN：Authorization: Bearer <token> / a bearer token (METRICS_TOKEN) is required' };
        return;
      }
    }
    const { contentType, body } = await metrics.render();
    ctx.set('Cache-Control', 'no-store');
    ctx.type = contentType;
    ctx.body = body;
  };
}

/** The metrics listener's app (METRICS_PORT): `/metrics` and nothing else. */
export function makeMetricsApp(metrics: Metrics, options: { token: string | undefined; log: Logger }): Koa {
  const app = new Koa();
  app.on('error', (err: Error & { code?: string }) => options.log.debug({ code: err.code, message: err.message }, 'metrics request stream error'));
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      options.log.error({ err }, 'metrics scrape failed');
      ctx.status = 500;
      ctx.body = { type: 'InternalServerError', message: '指标读取失败 / reading the metrics failed' };
    }
  });
  app.use(makeMetricsEndpoint(metrics, { ...options, openWithoutToken: true }));
  app.use((ctx) => {
    ctx.status = 404;
    ctx.body = { type: 'NotFoundError', message: `此端口只提供 /metrics / this listener serves /metrics only (${ctx.path})` };
  });
  return app;
}
