import type Router from '@koa/router';
import type Koa from 'koa';
import pino from 'pino';
import { makeApp } from '../../src/http/app.ts';
import { makePublicApp } from '../../src/http/public-app.ts';

/**
 * `METHOD /path` of every route the routers mounted on `app` have, HEAD
 * included, as the router names them (`/engine-rest/task/:id`). The layers
 * `allowedMethods` and nested prefixes add (no method, or a regular
 * expression for a path) are not routes.
 */
export function routesOf(app: Koa): string[] {
  const layers = app.middleware.flatMap((m) => (m as { router?: Router }).router?.stack ?? []);
  return layers.filter((l) => l.methods.length > 0 && !String(l.path).includes('('))
    .flatMap((l) => l.methods.map((m) => `${m} ${String(l.path)}`));
}

/** The routes of the private (intranet) application. Building it runs no handler, so its services may be absent. */
export function privateAppRoutes(): string[] {
  return routesOf(makeApp({ log: pino({ level: 'silent' }), bodyLimit: 1024, corsOrigins: [] } as never));
}

/** The routes of the internet zone's application. */
export function publicAppRoutes(): string[] {
  return routesOf(makePublicApp({ log: pino({ level: 'silent' }), publicRequests: {} as never }));
}
