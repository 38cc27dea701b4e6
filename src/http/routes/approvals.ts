import Router from '@koa/router';
import type { InstanceService } from '../../services/instances.ts';
import type { SignerService } from '../../services/signers.ts';
import type { TransferService } from '../../services/transfers.ts';
import { principalOf } from '../auth.ts';
import { bodyObject } from '../params.ts';

/**
 * The approval operations Camunda has no call for (docs/instance-operations.md):
 * 转办 transfer, 加签/减签 add/remove a signer, 终止 terminate.
 */
export function makeApprovalRoutes(deps: { transfers: TransferService; signers: SignerService; instances: InstanceService }): Router {
  const router = new Router();
  router.post('/task/:id/transfer', async (ctx) => {
    await deps.transfers.transfer(ctx.params.id, bodyObject(ctx), principalOf(ctx));
    ctx.status = 204;
  });
  router.post('/task/:id/signers', async (ctx) => {
    ctx.body = await deps.signers.add(ctx.params.id, bodyObject(ctx), principalOf(ctx));
  });
  router.delete('/task/:id/signers/:userId', async (ctx) => {
    await deps.signers.remove(ctx.params.id, ctx.params.userId, principalOf(ctx));
    ctx.status = 204;
  });
  router.post('/process-instance/:id/terminate', async (ctx) => {
    await deps.instances.terminate(ctx.params.id, bodyObject(ctx).reason, principalOf(ctx));
    ctx.status = 204;
  });
  return router;
}
