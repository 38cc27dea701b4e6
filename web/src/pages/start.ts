import { api, ApiError, type Definition, type FormVariables } from '../api.ts';
import { showDiagram } from '../diagram.ts';
import { h } from '../dom.ts';
import { renderForm, submittable } from '../forms.ts';
import { t } from '../i18n.ts';
import { flashNext, go, link, loading, page } from '../shell.ts';

/** The procedures this user may start. */
export async function startListPage(): Promise<void> {
  loading('start');
  // One query: the server filters to what this user may start (Camunda's startablePermissionCheck).
  const mine = (await api<Definition[]>('GET', '/process-definition?latestVersion=true&startableInTasklist=true&startablePermissionCheck=true')).sort((a, b) => (a.name ?? a.key).localeCompare(b.name ?? b.key, 'zh-CN'));
  page('start', h('h1', {}, t('start')), mine.length
    ? h('ul', { class: 'processes', id: 'process-list' }, mine.map((d) => h('li', { 'data-key': d.key }, link(`/start/${d.id}`, { class: 'process-name' }, d.name ?? d.key), h('span', { class: 'muted' }, ` ${d.key} · v${d.version}`))))
    : h('p', { class: 'empty' }, t('noProcesses')));
}

/** A definition's start form beside its diagram. */
export async function startPage(id: string): Promise<void> {
  loading('start');
  const def = await api<Definition>('GET', `/process-definition/${encodeURIComponent(id)}`);
  let values: FormVariables;
  try {
    values = await api<FormVariables>('GET', `/process-definition/${encodeURIComponent(id)}/form-variables`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 403) return page('start', h('p', { class: 'flash flash-error' }, t('forbidden')), link('/start', {}, t('back')));
    throw err;
  }
  const xml = await api<{ bpmn20Xml: string }>('GET', `/process-definition/${encodeURIComponent(id)}/xml`);
  const canvas = h('div', { class: 'diagram', id: 'diagram' });
  const formBox = h('div', { class: 'form-box' });
  page('start',
    h('div', { class: 'title-row' }, link('/start', { class: 'back' }, `← ${t('back')}`), h('h1', {}, def.name ?? def.key), h('span', { class: 'muted' }, `v${def.version}`)),
    h('div', { class: 'task-layout' },
      h('section', { class: 'card' }, h('h2', {}, t('form')), formBox),
      h('section', { class: 'card' }, h('h2', {}, t('diagram')), canvas)));
  const diagram = await showDiagram(canvas, xml.bpmn20Xml);
  const startId = diagram.noneStartId();
  const form = renderForm(startId ? diagram.fields(startId) : [], values);
  const businessKey = h('input', { id: 'business-key', name: 'businessKey', maxlength: '255' });
  const serverMessage = h('div', { class: 'server-error', role: 'alert', id: 'server-error' });
  formBox.append(submittable('start-form', form, [h('div', { class: 'field' }, h('label', { for: 'business-key' }, t('businessKey')), businessKey), serverMessage],
    serverMessage, 'start', t('startProcess'), async (variables) => {
      await api('POST', `/process-definition/${encodeURIComponent(id)}/start`, { variables, ...(businessKey.value.trim() ? { businessKey: businessKey.value.trim() } : {}) });
      flashNext(t('started'));
      go('/?view=roles');
    }));
}
