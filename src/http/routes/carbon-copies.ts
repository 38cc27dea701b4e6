import Router from '@koa/router';
import type { Context } from 'koa';
import type { CarbonCopyService } from '../../services/carbon-copies.ts';
import type { ListedCarbonCopy } from '../../store/carbon-copies.ts';
import { principalOf } from '../auth.ts';
import { formatDate } from '../format.ts';
import { bodyObject, queryOf } from '../params.ts';

/** One entry of "抄送我的": the instance copied, by whom, and whether it was read. */
const carbonCopyDto = (c: ListedCarbonCopy) => ({
  id: c.id, processInstanceId: c.process_instance_id, processDefinitionKey: c.definition_key, processDefinitionName: c.definition_name,
  businessKey: c.business_key, taskId: c.task_id, activityId: c.activity_id, from: c.from_user_id, message: c.message,
  created: formatDate(c.created_at), read: c.read_at !== null, readTime: formatDate(c.read_at),
});

/**
 * 抄送 (carbon copy), our own nouns in Camunda's style (docs/notifications.md):
 * `POST /task/{id}/cc` copies the task's instance to people; `/carbon-copy`
 * is the caller's own "抄送我的" list, `/count`, and marking one read.
 */
export function makeCarbonCopyRoutes(deps: { carbonCopies: CarbonCopyService }): Router {
  const router = new Router();
  const filter = (ctx: Context) => {
    const q = queryOf(ctx);
    return { unread: q.bool('unread'), firstResult: q.int('firstResult'), maxResults: q.int('maxResults') };
  };
  router.post('/task/:id/cc', async (ctx) => {
    ctx.body = await deps.carbonCopies.cc(ctx.params.id, bodyObject(ctx), principalOf(ctx));
  });
  router.get('/carbon-copy', async (ctx) => {
    ctx.body = (await deps.carbonCopies.list(filter(ctx), principalOf(ctx))).map(carbonCopyDto);
  });
  router.get('/carbon-copy/count', async (ctx) => {
    ctx.body = { count: await deps.carbonCopies.count(filter(ctx), principalOf(ctx)) };
  });
  router.post('/carbon-copy/:id/read', async (ctx) => {
    await deps.carbonCopies.markRead(ctx.params.id, principalOf(ctx));
    ctx.status = 204;
  });
  return router;
}
