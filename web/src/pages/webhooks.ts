import { api } from '../api.ts';
import { h } from '../dom.ts';
import { pick, t } from '../i18n.ts';
import { act, errorText, flashNext, go, loading, page, param, withParams } from '../shell.ts';
import { table } from '../widgets.ts';

/** A role webhook as the server shows it: never its address or secret, only `urlMasked` and `hasSecret`. */
interface Webhook {
  id: string;
  name: string;
  groupId: string;
  format: 'wecom' | 'dingtalk' | 'json';
  urlMasked: string;
  hasSecret: boolean;
  enabled: boolean;
}

const FORMATS: [Webhook['format'], string][] = [['wecom', '企业微信 / WeCom'], ['dingtalk', '钉钉 / DingTalk'], ['json', 'JSON']];

/** The add or edit form; on edit an empty address or secret keeps the stored one (the server never hands them back). */
function form(groups: { id: string; name: string | null }[], editing: Webhook | undefined): HTMLElement {
  const name = h('input', { id: 'webhook-name', required: true, maxlength: 100, value: editing?.name ?? '' });
  const group = h('select', { id: 'webhook-group', required: true },
    groups.map((g) => h('option', { value: g.id, selected: editing?.groupId === g.id }, `${pick(g.name) || g.id} (${g.id})`)));
  const format = h('select', { id: 'webhook-format' }, FORMATS.map(([v, label]) => h('option', { value: v, selected: editing?.format === v }, label)));
  const url = h('input', { id: 'webhook-url', type: 'url', required: !editing, placeholder: editing ? `${editing.urlMasked}（${t('webhookKeep')}）` : 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…', autocomplete: 'off' });
  const secret = h('input', { id: 'webhook-secret', type: 'password', placeholder: editing?.hasSecret ? t('webhookKeep') : 'SEC…', autocomplete: 'new-password' });
  const clearSecret = h('input', { id: 'webhook-clear-secret', type: 'checkbox' });
  const enabled = h('input', { id: 'webhook-enabled', type: 'checkbox', checked: editing?.enabled ?? true });
  const error = h('p', { class: 'flash flash-error', id: 'webhook-error', hidden: true });
  const submit = async (e: SubmitEvent) => {
    e.preventDefault();
    const body: Record<string, unknown> = { name: name.value, groupId: group.value, format: format.value, enabled: enabled.checked };
    if (url.value) body.url = url.value;
    if (secret.value) body.secret = secret.value;
    else if (clearSecret.checked || format.value !== 'dingtalk') body.secret = null;
    try {
      if (editing) await api('PUT', `/notification-webhook/${encodeURIComponent(editing.id)}`, body);
      else await api('POST', '/notification-webhook', body);
      flashNext(t('webhookSaved'));
      go('/webhooks');
    } catch (err) {
      error.textContent = errorText(err);
      error.hidden = false;
    }
  };
  return h('form', { class: 'card webhook-form', id: 'webhook-form', onsubmit: submit },
    h('h2', {}, editing ? t('webhookEdit') : t('webhookAdd')),
    error,
    h('label', {}, t('webhookName'), ' ', name),
    h('label', {}, t('webhookGroup'), ' ', group),
    h('label', {}, t('webhookFormat'), ' ', format),
    h('label', {}, t('webhookUrl'), ' ', url),
    h('label', {}, t('webhookSecret'), ' ', secret),
    editing?.hasSecret ? h('label', {}, clearSecret, ' ', t('webhookClearSecret')) : null,
    h('label', {}, enabled, ' ', t('webhookEnabled')),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', id: 'webhook-save' }, t('webhookSave')),
      editing ? h('button', { type: 'button', class: 'secondary', onclick: () => go('/webhooks') }, t('webhookCancel')) : null));
}

/** Administrators' page: the role robots (企业微信/钉钉/JSON), added, edited and deleted here. */
export async function webhooksPage(): Promise<void> {
  loading('webhooks');
  const [hooks, groups] = await Promise.all([
    api<Webhook[]>('GET', '/notification-webhook'),
    api<{ id: string; name: string | null }[]>('GET', '/group'),
  ]);
  const editing = hooks.find((w) => w.id === param('edit'));
  const groupName = (id: string) => pick(groups.find((g) => g.id === id)?.name) || id;
  const remove = (w: Webhook) => {
    if (!confirm(t('webhookDeleteConfirm', { name: w.name }))) return;
    void act(() => api('DELETE', `/notification-webhook/${encodeURIComponent(w.id)}`), t('webhookDeleted'));
  };
  page('webhooks',
    h('h1', {}, t('webhooksTitle')),
    h('p', { class: 'muted' }, t('webhookIntro')),
    hooks.length
      ? table('webhook-list', [t('webhookName'), t('webhookGroup'), t('webhookFormat'), t('webhookUrl'), t('webhookHasSecret'), t('webhookEnabled'), ''],
        hooks.map((w) => [
          w.name, groupName(w.groupId), FORMATS.find(([v]) => v === w.format)?.[1] ?? w.format, w.urlMasked,
          w.hasSecret ? t('yes') : t('no'), w.enabled ? t('yes') : t('no'),
          h('span', { class: 'actions' },
            h('button', { type: 'button', class: 'secondary', onclick: () => go(withParams({ edit: w.id })) }, t('webhookEditAction')),
            h('button', { type: 'button', class: 'secondary danger', onclick: () => remove(w) }, t('webhookDelete'))),
        ]), (i) => ({ 'data-id': hooks[i].id }))
      : h('p', { class: 'muted', id: 'no-webhooks' }, t('noWebhooks')),
    form(groups, editing));
}
