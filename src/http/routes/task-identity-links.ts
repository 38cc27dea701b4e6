import Router from '@koa/router';
import { checkIdentityLink, type TaskIdentityLinks } from '../../services/task-identity-links.ts';
import { principalOf } from '../auth.ts';
import { bodyObject, queryOf } from '../params.ts';

/** Camunda's `/task/{id}/identity-links`: list (by type), add, delete. */
export function makeTaskIdentityLinkRoutes(deps: { taskIdentityLinks: TaskIdentityLinks }): Router {
  const router = new Router();
  router.get('/task/:id/identity-links', async (ctx) => {
    ctx.body = await deps.taskIdentityLinks.list(ctx.params.id, queryOf(ctx).string('type'), principalOf(ctx));
  });
  router.post('/task/:id/identity-links', async (ctx) => {
    await deps.taskIdentityLinks.add(ctx.params.id, checkIdentityLink(bodyObject(ctx)), principalOf(ctx));
    ctx.status = 204;
  });
  router.post('/task/:id/identity-links/delete', async (ctx) => {
    await deps.taskIdentityLinks.remove(ctx.params.id, checkIdentityLink(bodyObject(ctx)), principalOf(ctx));
    ctx.status = 204;
  });
  return router;
}
