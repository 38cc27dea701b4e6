import Router from '@koa/router';
import type { Context } from 'koa';
import { parseHistoryTtl, type DefinitionRef, type DefinitionSettings } from '../../services/definition-settings.ts';
import type { DefinitionDeletionService } from '../../services/definition-deletion.ts';
import { principalOf } from '../auth.ts';
import { bodyObject, queryOf } from '../params.ts';
import { definitionDto } from './definitions.ts';
import { sendDiagram } from './decisions.ts';

const refOf = (ctx: Context): DefinitionRef => (ctx.params.key !== undefined ? { key: ctx.params.key } : { id: ctx.params.id });

/**
 * Repository routes beside the definitions themselves: history time to
 * live (process and decision definitions), a process's diagram image, the
 * processes it calls, its deletion, and GET /deployment/registered. Mounted before the
 * deployment routes, so `/deployment/registered` is not read as a deployment id.
 */
export function makeDefinitionSettingsRoutes(deps: { definitionSettings?: DefinitionSettings | undefined; definitionDeletion?: DefinitionDeletionService | undefined }): Router {
  const router = new Router();
  // Read per request: building the app (the route table) needs no services.
  const settings = (): DefinitionSettings => deps.definitionSettings!;
  const ttlOf = (ctx: Context) => parseHistoryTtl(bodyObject(ctx).historyTimeToLive ?? null);
  for (const path of ['/process-definition/:id/history-time-to-live', '/process-definition/key/:key/history-time-to-live']) {
    router.put(path, async (ctx) => {
      await settings().setProcessTtl(refOf(ctx), ttlOf(ctx), principalOf(ctx));
      ctx.status = 204;
    });
  }
  for (const path of ['/decision-definition/:id/history-time-to-live', '/decision-definition/key/:key/history-time-to-live']) {
    router.put(path, async (ctx) => {
      await settings().setDecisionTtl(refOf(ctx), ttlOf(ctx), principalOf(ctx));
      ctx.status = 204;
    });
  }
  for (const path of ['/process-definition/:id/diagram', '/process-definition/key/:key/diagram']) {
    router.get(path, async (ctx) => {
      sendDiagram(ctx, await settings().diagram(await settings().processOf(refOf(ctx))));
    });
  }
  router.get('/process-definition/:id/static-called-process-definitions', async (ctx) => {
    ctx.body = (await settings().staticCalled(ctx.params.id)).map((d) => ({
      ...definitionDto(d), calledFromActivityIds: d.calledFromActivityIds, callingProcessDefinitionId: ctx.params.id,
    }));
  });
  const deletionOf = (ctx: Context) => {
    const q = queryOf(ctx);
    return { cascade: q.bool('cascade') ?? false, skipCustomListeners: q.bool('skipCustomListeners') ?? false, skipIoMappings: q.bool('skipIoMappings') ?? false };
  };
  router.delete('/process-definition/key/:key', async (ctx) => {
    await deps.definitionDeletion!.removeByKey(ctx.params.key, deletionOf(ctx), principalOf(ctx));
    ctx.status = 204;
  });
  router.delete('/process-definition/:id', async (ctx) => {
    await deps.definitionDeletion!.removeById(ctx.params.id, deletionOf(ctx), principalOf(ctx));
    ctx.status = 204;
  });
  router.get('/deployment/registered', async (ctx) => {
    ctx.body = await settings().registeredDeployments();
  });
  return router;
}
