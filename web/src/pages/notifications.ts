import { api, qs, type AppNotification, type NotificationPreferences } from '../api.ts';
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

/** The caller's own channel and quiet-hour choices; an empty start or end means no quiet hours. */
function preferencesForm(prefs: NotificationPreferences): HTMLElement {
  const email = h('input', { type: 'checkbox', id: 'pref-email', name: 'email' });
  email.checked = prefs.email;
  const start = h('input', { type: 'time', id: 'pref-quiet-start', value: prefs.quietHours?.start ?? '' });
  const end = h('input', { type: 'time', id: 'pref-quiet-end', value: prefs.quietHours?.end ?? '' });
  const zone = h('input', { type: 'text', id: 'pref-time-zone', value: prefs.quietHours?.timeZone ?? 'Asia/Shanghai' });
  const save = (e: Event) => {
    e.preventDefault();
    const quietHours = start.value && end.value ? { start: start.value, end: end.value, timeZone: zone.value.trim() || 'Asia/Shanghai' } : null;
    void act(() => api('PUT', '/notification/preferences', { email: email.checked, quietHours }), t('prefSaved'));
  };
  return h('form', { class: 'card', id: 'notification-preferences', onsubmit: save },
    h('h2', {}, t('notificationPreferences')),
    h('p', { class: 'muted' }, t('prefInApp')),
    h('label', {}, email, ' ', t('prefEmail')),
    h('fieldset', {}, h('legend', {}, t('prefQuiet')),
      h('label', {}, t('prefQuietStart'), ' ', start), ' ', h('label', {}, t('prefQuietEnd'), ' ', end), ' ', h('label', {}, t('prefTimeZone'), ' ', zone)),
    h('button', { type: 'submit', id: 'pref-save' }, t('prefSave')));
}

/** The caller's notifications (站内信), newest first, unread ones marked. */
export async function notificationsPage(): Promise<void> {
  loading('notifications');
  const first = Math.max(0, Number(param('first')) || 0);
  const [rows, count, prefs] = await Promise.all([
    api<AppNotification[]>('GET', `/notification${qs({ firstResult: first, maxResults: PAGE })}`),
    api<{ count: number }>('GET', '/notification/count'),
    api<NotificationPreferences>('GET', '/notification/preferences'),
  ]);
  page('notifications',
    h('h1', {}, t('notifications')),
    h('button', { type: 'button', class: 'secondary', id: 'mark-all-read', onclick: () => act(() => api('POST', '/notification/read-all')) }, t('markAllRead')),
    rows.length ? h('ul', { class: 'notifications', id: 'notification-list' }, rows.map(item)) : h('p', { class: 'muted' }, t('noNotifications')),
    pager(first, PAGE, count.count, (f) => go(withParams({ first: f || undefined }))),
    preferencesForm(prefs));
}
