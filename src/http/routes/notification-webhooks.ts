import Router from '@koa/router';
import type { NotificationWebhook, NotificationWebhookService } from '../../services/notification-webhooks.ts';
import { principalOf } from '../auth.ts';
import { formatDate } from '../format.ts';
import { bodyObject, queryOf } from '../params.ts';

const webhookDto = (w: NotificationWebhook) => ({ ...w, created: formatDate(w.created), updated: formatDate(w.updated) });

/**
 * `/notification-webhook`: per-role robots (企业微信, 钉钉, generic JSON),
 * administrators only. Camunda 7 has no such endpoint; ours follows its
 * style (create answers the new entity, PUT and DELETE 204). The URL and
 * secret are write-only: answers carry `urlMasked` and `hasSecret`.
 * See docs/notifications.md.
 */
export function makeNotificationWebhookRoutes(deps: { notificationWebhooks: NotificationWebhookService }): Router {
  const router = new Router();
  const hooks = deps.notificationWebhooks;
  router.get('/notification-webhook', async (ctx) => {
    ctx.body = (await hooks.list(principalOf(ctx), queryOf(ctx).string('groupId'))).map(webhookDto);
  });
  router.get('/notification-webhook/count', async (ctx) => {
    ctx.body = { count: (await hooks.list(principalOf(ctx), queryOf(ctx).string('groupId'))).length };
  });
  router.post('/notification-webhook', async (ctx) => {
    ctx.body = webhookDto(await hooks.create(bodyObject(ctx), principalOf(ctx)));
  });
  router.get('/notification-webhook/:id', async (ctx) => {
    ctx.body = webhookDto(await hooks.get(ctx.params.id, principalOf(ctx)));
  });
  router.put('/notification-webhook/:id', async (ctx) => {
    await hooks.update(ctx.params.id, bodyObject(ctx), principalOf(ctx));
    ctx.status = 204;
  });
  router.delete('/notification-webhook/:id', async (ctx) => {
    await hooks.remove(ctx.params.id, principalOf(ctx));
    ctx.status = 204;
  });
  return router;
}
