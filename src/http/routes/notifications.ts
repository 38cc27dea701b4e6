import Router from '@koa/router';
import type { Context } from 'koa';
import type { NotificationPreferenceService } from '../../services/notification-preferences.ts';
import type { NotificationService } from '../../services/notifications.ts';
import type { NotificationRow } from '../../store/notifications.ts';
import { principalOf } from '../auth.ts';
import { formatDate } from '../format.ts';
import { bodyObject, queryOf } from '../params.ts';

/**
 * A notification with the path of what it is about: its task while open, or
 * else its instance (a copy's, 抄送, on the read-only page of "抄送我的"). One whose task has ended has no link (it would be 404;
 * its instance may be one the reader cannot see) and says `taskEnded`.
 */
const notificationDto = (n: NotificationRow) => ({
  id: n.id, type: n.type, title: n.title, body: n.body, taskId: n.task_id, processInstanceId: n.process_instance_id, taskEnded: n.task_ended === true,
  link: n.task_id ? (n.task_ended ? null : `/task/${n.task_id}`) : n.process_instance_id ? `/${n.type === 'instance-cc' ? 'copied' : 'monitor'}/instance/${n.process_instance_id}` : null,
  created: formatDate(n.created_at), read: n.read_at !== null, readTime: formatDate(n.read_at),
});

/**
 * `/notification`: the caller's own in-app notifications (站内信). Camunda 7
 * has no such endpoint; ours follows its style (firstResult/maxResults,
 * `/count`). See docs/notifications.md.
 */
export function makeNotificationRoutes(deps: { notifications: NotificationService; notificationPreferences: NotificationPreferenceService }): Router {
  const router = new Router();
  const filter = (ctx: Context) => {
    const q = queryOf(ctx);
    return { unread: q.bool('unread'), type: q.oneOf('type', deps.notifications.types), firstResult: q.int('firstResult'), maxResults: q.int('maxResults') };
  };
  router.get('/notification', async (ctx) => {
    ctx.body = (await deps.notifications.list(filter(ctx), principalOf(ctx))).map(notificationDto);
  });
  router.get('/notification/count', async (ctx) => {
    ctx.body = { count: await deps.notifications.count(filter(ctx), principalOf(ctx)) };
  });
  // The caller's own preferences (channels, quiet hours); PUT replaces them whole.
  router.get('/notification/preferences', async (ctx) => {
    ctx.body = await deps.notificationPreferences.get(principalOf(ctx));
  });
  router.put('/notification/preferences', async (ctx) => {
    ctx.body = await deps.notificationPreferences.put(bodyObject(ctx), principalOf(ctx));
  });
  router.post('/notification/read-all', async (ctx) => {
    ctx.body = { count: await deps.notifications.markAllRead(principalOf(ctx)) };
  });
  router.post('/notification/:id/read', async (ctx) => {
    await deps.notifications.markRead(ctx.params.id, principalOf(ctx));
    ctx.status = 204;
  });
  return router;
}
