import { api, qs, type Comment, type HistoricInstance, type HistoricTask } from '../api.ts';
import { h } from '../dom.ts';
import { pick, t } from '../i18n.ts';
import { link, loading, page } from '../shell.ts';
import { stateLabel, when, type Variables } from '../widgets.ts';

/*
 * 审批单: a running or finished instance on paper. The start form's values,
 * then each step with who did it, when, its decision and its comments. A
 * step's decision is the value of its form's choice fields, shown only when
 * the step was done once (the server keeps the last value of a variable,
 * so a step done several times, such as a vote, shows its comments and the
 * tally variables instead of a value that belongs to only one of them).
 */

interface FormFieldInfo { id: string; label: string; type: string; options: Map<string, string> }

/** The camunda:formField definitions of each flow element of the diagram, by element id. */
function formsOf(xml: string): Map<string, FormFieldInfo[]> {
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  const forms = new Map<string, FormFieldInfo[]>();
  for (const field of [...doc.getElementsByTagName('*')].filter((e) => e.localName === 'formField')) {
    let owner = field.parentElement;
    while (owner && !(owner.localName === 'startEvent' || owner.localName === 'userTask')) owner = owner.parentElement;
    const id = owner?.getAttribute('id');
    if (!id) continue;
    const options = new Map([...field.children].filter((c) => c.localName === 'value').map((v) => [v.getAttribute('id') ?? '', v.getAttribute('name') ?? '']));
    forms.set(id, [...(forms.get(id) ?? []), { id: field.getAttribute('id') ?? '', label: pick(field.getAttribute('label')) || (field.getAttribute('id') ?? ''), type: field.getAttribute('type') ?? '', options }]);
  }
  return forms;
}

function startEventId(xml: string): string | null {
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  return [...doc.getElementsByTagName('*')].find((e) => e.localName === 'startEvent' && [...e.getElementsByTagName('*')].some((c) => c.localName === 'formField'))?.getAttribute('id') ?? null;
}

function shown(field: FormFieldInfo, value: unknown): string {
  if (value == null || value === '') return '—';
  if (field.options.size) return field.options.get(String(value)) ?? String(value);
  if (typeof value === 'boolean') return value ? '是 / yes' : '否 / no';
  if (field.type === 'date') return when(String(value));
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function outcome(task: HistoricTask): string {
  if (!task.endTime) return t('statusActive');
  if (task.deleteReason === 'completed') return t('statusDone');
  if (task.deleteReason === 'signerRemoved') return t('signerRemoved');
  return t('statusCanceled');
}

/** The printable 审批单 of instance `id`. */
export async function printPage(id: string): Promise<void> {
  loading('monitor');
  const [instance] = await api<HistoricInstance[]>('GET', `/history/process-instance${qs({ processInstanceId: id })}`);
  if (!instance) return page('monitor', h('p', { class: 'flash flash-error', id: 'not-found' }, t('noInstances')), link('/', {}, t('back')));
  const [xml, tasks, rows] = await Promise.all([
    api<{ bpmn20Xml: string }>('GET', `/process-definition/${encodeURIComponent(instance.processDefinitionId)}/xml`),
    api<HistoricTask[]>('GET', `/history/task${qs({ processInstanceId: id, sortBy: 'startTime', sortOrder: 'asc', maxResults: 500 })}`),
    api<(Variables[string] & { name: string })[]>('GET', `/history/variable-instance${qs({ processInstanceId: id })}`),
  ]);
  const values = new Map(rows.map((r) => [r.name, r.value]));
  const forms = formsOf(xml.bpmn20Xml);
  const start = startEventId(xml.bpmn20Xml);
  const comments = await Promise.all(tasks.map((x) => api<Comment[]>('GET', `/task/${x.id}/comment`).catch(() => [] as Comment[])));
  const doneCount = new Map<string, number>();
  for (const x of tasks) if (x.deleteReason === 'completed') doneCount.set(x.taskDefinitionKey, (doneCount.get(x.taskDefinitionKey) ?? 0) + 1);
  const decision = (x: HistoricTask) => (x.deleteReason === 'completed' && doneCount.get(x.taskDefinitionKey) === 1
    ? (forms.get(x.taskDefinitionKey) ?? []).filter((f) => f.options.size).map((f) => `${f.label}：${shown(f, values.get(f.id))}`).join('；')
    : '') || '—';
  const title = `${instance.processDefinitionName ?? instance.processDefinitionKey} · ${t('approvalForm')}`;
  page('monitor', h('article', { class: 'print-sheet', id: 'approval-sheet' },
    h('div', { class: 'no-print title-row' }, link(`/monitor/instance/${encodeURIComponent(id)}`, { class: 'back' }, `← ${t('back')}`),
      h('button', { type: 'button', id: 'print-now', onclick: () => window.print() }, t('printNow'))),
    h('h1', {}, title),
    h('dl', { class: 'sheet-head' },
      h('dt', {}, t('businessKeyCol')), h('dd', {}, instance.businessKey ?? '—'),
      h('dt', {}, t('startedBy')), h('dd', {}, instance.startUserId ?? '—'),
      h('dt', {}, t('startedAt')), h('dd', {}, when(instance.startTime)),
      h('dt', {}, t('state')), h('dd', { id: 'sheet-state' }, stateLabel(instance.state)),
      ...(instance.endTime ? [h('dt', {}, t('endedAt')), h('dd', {}, when(instance.endTime))] : []),
      ...(instance.deleteReason ? [h('dt', {}, t('deleteReasonCol')), h('dd', { id: 'sheet-reason' }, instance.deleteReason)] : [])),
    h('h2', {}, t('startForm')),
    h('table', { id: 'sheet-start-form' }, h('tbody', {}, (start ? forms.get(start) ?? [] : []).map((f) => h('tr', {}, h('th', {}, f.label), h('td', {}, shown(f, values.get(f.id))))))),
    h('h2', {}, t('steps')),
    h('table', { id: 'sheet-steps' },
      h('thead', {}, h('tr', {}, [t('activity'), t('who'), t('when'), t('status'), t('decisionCol'), t('commentsCol')].map((x) => h('th', {}, x)))),
      h('tbody', {}, tasks.map((x, i) => h('tr', { 'data-task-key': x.taskDefinitionKey },
        h('td', {}, pick(x.name) || x.taskDefinitionKey), h('td', {}, x.completedBy ?? x.assignee ?? '—'), h('td', {}, when(x.endTime ?? x.startTime)),
        h('td', {}, outcome(x)), h('td', {}, decision(x)),
        h('td', {}, comments[i]!.map((c) => h('div', {}, `${c.userId}：${c.message}`))))))),
  ));
  document.title = title;
}
