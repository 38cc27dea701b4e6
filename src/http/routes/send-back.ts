import Router from '@koa/router';
import type { SendBackService } from '../../services/send-back.ts';
import { principalOf } from '../auth.ts';
import { bodyObject } from '../params.ts';

/** Ours (Camunda has none): 退回 send back and 撤回 withdraw, built on process instance modification. */
export function makeSendBackRoutes(deps: { sendBack?: SendBackService | undefined }): Router {
  const router = new Router();
  // Read per request: building the app (the route table) needs no services.
  const sendBack = (): SendBackService => deps.sendBack!;
  router.get('/task/:id/return-targets', async (ctx) => {
    ctx.body = await sendBack().returnTargets(ctx.params.id, principalOf(ctx));
  });
  router.post('/task/:id/return', async (ctx) => {
    await sendBack().sendBack(ctx.params.id, bodyObject(ctx), principalOf(ctx));
    ctx.status = 204;
  });
  router.post('/process-instance/:id/withdraw', async (ctx) => {
    await sendBack().withdraw(ctx.params.id, bodyObject(ctx), principalOf(ctx));
    ctx.status = 204;
  });
  return router;
}
