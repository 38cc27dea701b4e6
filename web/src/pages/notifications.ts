import { api, qs, type AppNotification } from '../api.ts';
import { h } from '../dom.ts';
import { formatDateTime, parseServerDate, t } from '../i18n.ts';
import { act, go, loading, page, pager, param, withParams } from '../shell.ts';

const PAGE = 30;

/** Opens what a notification is about; opening it reads it, so its mark clears. */
async function openNotification(n: AppNotification): Promise<void> {
  if (!n.read) await api('POST', `/notification/${encodeURIComponent(n.id)}/read`).catch(() => undefined);
  if (n.link) go(n.link);
  else go(location.pathname + location.search);
}

function item(n: AppNotification): HTMLElement {
  return h('li', { class: `notification${n.read ? '' : ' unread'}`, 'data-id': n.id },
    h('a', { href: n.link ?? '#', class: 'notification-link', onclick: (e: MouseEvent) => { e.preventDefault(); void openNotification(n); } },
      n.read ? null : h('span', { class: 'badge unread-mark' }, t('unread')),
      n.taskEnded ? h('span', { class: 'badge task-ended' }, t('taskEnded')) : null,
      h('strong', {}, n.title)),
    h('div', { class: 'muted' }, formatDateTime(parseServerDate(n.created))),
    h('p', { class: 'notification-body' }, n.body));
}

/** The caller's notifications (站内信), newest first, unread ones marked. */
export async function notificationsPage(): Promise<void> {
  loading('notifications');
  const first = Math.max(0, Number(param('first')) || 0);
  const [rows, count] = await Promise.all([
    api<AppNotification[]>('GET', `/notification${qs({ firstResult: first, maxResults: PAGE })}`),
    api<{ count: number }>('GET', '/notification/count'),
  ]);
  page('notifications',
    h('h1', {}, t('notifications')),
    h('button', { type: 'button', class: 'secondary', id: 'mark-all-read', onclick: () => act(() => api('POST', '/notification/read-all')) }, t('markAllRead')),
    rows.length ? h('ul', { class: 'notifications', id: 'notification-list' }, rows.map(item)) : h('p', { class: 'muted' }, t('noNotifications')),
    pager(first, PAGE, count.count, (f) => go(withParams({ first: f || undefined }))));
}
