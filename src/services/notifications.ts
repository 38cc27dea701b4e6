import type { Knex } from 'knex';
import type { Clock } from '../clock.ts';
import { NotFoundError } from '../errors.ts';
import {
  countNotifications, listNotifications, markAllNotificationsRead, markNotificationRead, type NotificationRow,
} from '../store/notifications.ts';
import type { Principal } from '../types.ts';
import { NOTIFICATION_EVENTS, type NotificationEvent } from './notification-templates.ts';
import type { TraceService } from './trace.ts';

export interface NotificationFilter {
  unread?: boolean | undefined;
  type?: NotificationEvent | undefined;
  firstResult?: number | undefined;
  maxResults?: number | undefined;
}

/** Pages are capped, as the other lists are: a client asking for more gets this many. */
const PAGE_MAX = 200;

/**
 * The in-app channel (站内信) as its reader sees it: everyone reads and
 * marks only their own notifications; another's is 404, as if absent.
 * Marking read is an action and is traced.
 */
export function makeNotificationService(db: Knex, clock: Clock, trace: TraceService) {
  const own = (principal: Principal, f: NotificationFilter) => ({ userId: principal.userId, unread: f.unread, type: f.type });
  return {
    types: NOTIFICATION_EVENTS,
    async list(filter: NotificationFilter, principal: Principal): Promise<NotificationRow[]> {
      return listNotifications(db, { ...own(principal, filter), firstResult: filter.firstResult ?? 0, maxResults: Math.min(filter.maxResults ?? PAGE_MAX, PAGE_MAX) });
    },
    async count(filter: NotificationFilter, principal: Principal): Promise<number> {
      return countNotifications(db, own(principal, filter));
    },
    async markRead(id: string, principal: Principal): Promise<void> {
      await db.transaction(async (trx) => {
        if (!(await markNotificationRead(trx, principal.userId, id, await clock.now(trx)))) throw new NotFoundError(`通知不存在 / no notification with id ${id}`);
        await trace.record(trx, principal, { operation: 'ReadNotification', entityType: 'Notification', entityId: id });
      });
    },
    async markAllRead(principal: Principal): Promise<number> {
      return db.transaction(async (trx) => {
        const count = await markAllNotificationsRead(trx, principal.userId, await clock.now(trx));
        await trace.record(trx, principal, { operation: 'ReadAllNotifications', entityType: 'Notification', details: { count } });
        return count;
      });
    },
  };
}

export type NotificationService = ReturnType<typeof makeNotificationService>;
