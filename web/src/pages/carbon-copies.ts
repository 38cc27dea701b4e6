import { api, qs, type CarbonCopy, type Task } from '../api.ts';
import { h } from '../dom.ts';
import { formatDateTime, parseServerDate, pick, t } from '../i18n.ts';
import { errorText, flashNext, go, loading, page, pager, param, rerender, withParams } from '../shell.ts';

const PAGE = 30;

/** Opens the copied instance read-only; opening it reads the copy, so its mark clears. */
async function openCopy(c: CarbonCopy): Promise<void> {
  if (!c.read) await api('POST', `/carbon-copy/${encodeURIComponent(c.id)}/read`).catch(() => undefined);
  go(`/copied/instance/${encodeURIComponent(c.processInstanceId)}`);
}

function item(c: CarbonCopy): HTMLElement {
  const path = `/copied/instance/${encodeURIComponent(c.processInstanceId)}`;
  return h('li', { class: `notification carbon-copy${c.read ? '' : ' unread'}`, 'data-id': c.id, 'data-instance-id': c.processInstanceId },
    h('a', { href: path, class: 'carbon-copy-link', onclick: (e: MouseEvent) => { e.preventDefault(); void openCopy(c); } },
      c.read ? null : h('span', { class: 'badge unread-mark' }, t('unread')),
      h('strong', {}, `${pick(c.processDefinitionName) || c.processDefinitionKey}${c.businessKey ? ` ${c.businessKey}` : ''}`)),
    h('div', { class: 'muted' }, `${t('copiedBy', { from: c.from })} · ${formatDateTime(parseServerDate(c.created))}`),
    c.message ? h('p', { class: 'notification-body' }, c.message) : null);
}

/** "抄送我的": the instances copied to the caller, newest first, unread ones marked. */
export async function carbonCopiesPage(): Promise<void> {
  loading('copied');
  const first = Math.max(0, Number(param('first')) || 0);
  const [rows, count] = await Promise.all([
    api<CarbonCopy[]>('GET', `/carbon-copy${qs({ firstResult: first, maxResults: PAGE })}`),
    api<{ count: number }>('GET', '/carbon-copy/count'),
  ]);
  page('copied',
    h('h1', {}, t('copiedToMe')),
    rows.length ? h('ul', { class: 'notifications', id: 'carbon-copy-list' }, rows.map(item)) : h('p', { class: 'muted' }, t('noCopies')),
    pager(first, PAGE, count.count, (f) => go(withParams({ first: f || undefined }))));
}

const ids = (text: string) => [...new Set(text.split(/[,，\s]+/).map((s) => s.trim()).filter(Boolean))];

/** The 抄送 action on a task page: users and roles to copy the instance to, with a message (POST /task/{id}/cc). */
export function carbonCopyBox(task: Task): HTMLElement {
  const users = h('input', { id: 'cc-users', placeholder: t('ccUsers'), 'aria-label': t('ccUsers') });
  const groups = h('input', { id: 'cc-groups', placeholder: t('ccGroups'), 'aria-label': t('ccGroups') });
  const message = h('textarea', { id: 'cc-message', rows: 2, maxlength: 1000, placeholder: t('ccMessage') });
  const error = h('div', { class: 'server-error', role: 'alert', id: 'cc-error' });
  return h('section', { class: 'card', id: 'carbon-copy' },
    h('h2', {}, t('cc')), h('p', { class: 'muted' }, t('ccHint')),
    h('form', { onsubmit: async (e: SubmitEvent) => {
      e.preventDefault();
      error.textContent = '';
      const body = { userIds: ids(users.value), groupIds: ids(groups.value), message: message.value.trim() || null };
      if (!body.userIds.length && !body.groupIds.length) {
        error.textContent = t('ccNobody');
        return;
      }
      try {
        const { copied } = await api<{ copied: number }>('POST', `/task/${encodeURIComponent(task.id)}/cc`, body);
        flashNext(t('ccDone', { count: copied }));
        await rerender();
      } catch (err) {
        error.textContent = t('serverError') + errorText(err);
      }
    } }, users, groups, message, error, h('button', { type: 'submit', class: 'secondary', id: 'cc-send' }, t('ccSend'))));
}

