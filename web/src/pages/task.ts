import { api, ApiError, session, type Comment, type FormVariables, type Task } from '../api.ts';
import { definitionName } from '../definitions.ts';
import { showDiagram } from '../diagram.ts';
import { h } from '../dom.ts';
import { renderForm, submittable } from '../forms.ts';
import { t } from '../i18n.ts';
import { act, errorText, flashNext, go, link, loading, page, rerender } from '../shell.ts';
import { variablesTable, when, type Variables } from '../widgets.ts';
import { dueBadge } from './tasklist.ts';
import { sendBackBox } from './send-back.ts';
import { approvalCard } from '../approvals.ts';
import { carbonCopyBox } from './carbon-copies.ts';

function commentsBox(task: Task, comments: Comment[]): HTMLElement {
  const text = h('textarea', { id: 'comment-text', rows: 3, maxlength: 4000, placeholder: t('commentPlaceholder') });
  const message = h('div', { class: 'server-error', role: 'alert', id: 'comment-error' });
  return h('section', { class: 'card', id: 'comments' },
    h('h2', {}, t('comments')),
    comments.length
      ? h('ul', { class: 'comments' }, comments.map((c) => h('li', { 'data-comment-id': c.id },
        h('div', { class: 'muted' }, `${c.userId} · ${when(c.time)}`), h('div', { class: 'comment-text' }, c.message))))
      : h('p', { class: 'muted' }, t('noComments')),
    h('form', { onsubmit: async (e: SubmitEvent) => {
      e.preventDefault();
      if (!text.value.trim()) return;
      message.textContent = '';
      try {
        await api('POST', `/task/${task.id}/comment/create`, { message: text.value.trim() });
        flashNext(t('commentAdded'));
        await rerender();
      } catch (err) {
        message.textContent = t('serverError') + errorText(err);
      }
    } }, text, message, h('button', { type: 'submit', class: 'secondary', id: 'add-comment' }, t('addComment'))));
}

/** One task: its form (from the diagram), the diagram with this step marked, the variables the user may see, comments. */
export async function taskPage(id: string): Promise<void> {
  const s = session()!;
  loading('tasks');
  let task: Task;
  try {
    task = await api<Task>('GET', `/task/${encodeURIComponent(id)}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return page('tasks', h('p', { class: 'flash flash-error', id: 'not-found' }, t('notFound')), link('/', {}, t('back')));
    throw err;
  }
  const tid = encodeURIComponent(id);
  const [values, xml, processName, variables, comments, sendBack] = await Promise.all([
    api<FormVariables>('GET', `/task/${tid}/form-variables`),
    api<{ bpmn20Xml: string }>('GET', `/process-definition/${encodeURIComponent(task.processDefinitionId)}/xml`),
    definitionName(task.processDefinitionId),
    api<Variables>('GET', `/task/${tid}/variables`),
    api<Comment[]>('GET', `/task/${tid}/comment`),
    sendBackBox(id),
  ]);
  const canvas = h('div', { class: 'diagram', id: 'diagram' });
  const formBox = h('div', { class: 'form-box' });
  const serverMessage = h('div', { class: 'server-error', role: 'alert', id: 'server-error' });
  page('tasks',
    h('div', { class: 'title-row' }, link('/', { class: 'back' }, `← ${t('back')}`), h('h1', {}, task.name ?? task.taskDefinitionKey), h('span', { class: 'muted' }, processName), dueBadge(task)),
    h('div', { class: 'task-layout' },
      h('div', { class: 'stack' },
        h('section', { class: 'card' }, h('h2', {}, t('form')), formBox),
        commentsBox(task, comments), sendBack,
        // Whoever may complete the task may copy it (the server decides; others would be refused).
        task.assignee == null || task.assignee === s.userId ? carbonCopyBox(task) : null,
        await approvalCard(task, xml.bpmn20Xml)),
      h('div', { class: 'stack' },
        h('section', { class: 'card' }, h('h2', {}, t('diagram')), canvas),
        h('section', { class: 'card' }, h('h2', {}, t('variables')), variablesTable('variables', variables)))));
  const diagram = await showDiagram(canvas, xml.bpmn20Xml, { current: task.taskDefinitionKey });
  const form = renderForm(diagram.fields(task.taskDefinitionKey), values);
  const claimNote = task.assignee === s.userId ? null
    : h('p', { class: 'note' }, t('claimFirst'), ' ',
      h('button', { type: 'button', class: 'secondary', id: 'claim', onclick: async () => act(() => api('POST', `/task/${task.id}/claim`, { userId: s.userId })) }, t('claim')));
  formBox.append(claimNote ?? '', submittable('task-form', form, [serverMessage], serverMessage, 'complete', t('complete'), async (vars) => {
    await api('POST', `/task/${task.id}/complete`, { variables: vars });
    flashNext(t('completed'));
    go('/');
  }));
}
