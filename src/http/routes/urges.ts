import Router from '@koa/router';
import type { UrgeService } from '../../services/urges.ts';
import { principalOf } from '../auth.ts';
import { bodyObject } from '../params.ts';

/** `POST /task/{id}/urge {message}`: 催办, our own noun in Camunda's style (see docs/notifications.md). */
export function makeUrgeRoutes(deps: { urges: UrgeService }): Router {
  const router = new Router();
  router.post('/task/:id/urge', async (ctx) => {
    ctx.body = await deps.urges.urge(ctx.params.id, bodyObject(ctx).message, principalOf(ctx));
  });
  return router;
}
