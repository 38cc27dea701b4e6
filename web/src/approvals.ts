import { api, inGroup, isAdmin, qs, session, type HistoricInstance, type Task } from './api.ts';
import { h } from './dom.ts';
import { t } from './i18n.ts';
import { act, link } from './shell.ts';
import { isRunning } from './suspension.ts';

/*
 * The approval operations of issue 16 this app offers (docs/instance-operations.md):
 * 转办 and 加签/减签 on the task page, 终止 and 打印审批单 on the instance page.
 * The server decides who may; the buttons are shown to those it would let.
 */

const officeOrAdmin = () => isAdmin() || inGroup('office');

/** Whether `activityId` of the diagram is a parallel multi-instance (会签/或签/票签). */
export function isParallelMultiInstance(xml: string, activityId: string): boolean {
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  const element = [...doc.getElementsByTagName('*')].find((e) => e.getAttribute('id') === activityId);
  const loop = element ? [...element.children].find((c) => c.localName === 'multiInstanceLoopCharacteristics') : undefined;
  return !!loop && loop.getAttribute('isSequential') !== 'true';
}

/** 转办: hand the task to a colleague by user id, with an optional note. */
function transferForm(task: Task): HTMLElement {
  const user = h('input', { id: 'transfer-user', required: true, maxlength: 128, placeholder: t('transferTo') });
  const note = h('input', { id: 'transfer-comment', maxlength: 4000, placeholder: t('transferComment') });
  return h('form', { id: 'transfer-form', class: 'inline-form', onsubmit: (e: SubmitEvent) => {
    e.preventDefault();
    void act(() => api('POST', `/task/${task.id}/transfer`, { userId: user.value.trim(), comment: note.value.trim() || undefined }), t('transferred'));
  } }, user, note, h('button', { type: 'submit', class: 'secondary', id: 'transfer' }, t('transfer')));
}

/** 加签/减签 on a parallel multi-instance task, for the office, administrators and the initiator. */
function signersForm(task: Task, signers: string[]): HTMLElement {
  const user = h('input', { id: 'signer-user', required: true, maxlength: 128, placeholder: t('signerUser') });
  const remove = h('select', { id: 'remove-signer-user' }, signers.map((s) => h('option', { value: s }, s)));
  return h('div', { id: 'signers' },
    h('form', { class: 'inline-form', onsubmit: (e: SubmitEvent) => {
      e.preventDefault();
      void act(() => api('POST', `/task/${task.id}/signers`, { userId: user.value.trim() }), t('signerAdded'));
    } }, user, h('button', { type: 'submit', class: 'secondary', id: 'add-signer' }, t('addSigner'))),
    h('form', { class: 'inline-form', onsubmit: (e: SubmitEvent) => {
      e.preventDefault();
      void act(() => api('DELETE', `/task/${task.id}/signers/${encodeURIComponent(remove.value)}`), t('signerRemoved'));
    } }, remove, h('button', { type: 'submit', class: 'secondary', id: 'remove-signer' }, t('removeSigner'))));
}

/** The task page's card of approval operations. */
export async function approvalCard(task: Task, xml: string): Promise<HTMLElement> {
  const parts: Node[] = [h('h3', {}, t('transfer')), transferForm(task)];
  if (isParallelMultiInstance(xml, task.taskDefinitionKey)) {
    const [instance] = await api<HistoricInstance[]>('GET', `/history/process-instance${qs({ processInstanceId: task.processInstanceId })}`).catch(() => []);
    if (officeOrAdmin() || instance?.startUserId === session()?.userId) {
      const open = await api<Task[]>('GET', `/task${qs({ processInstanceId: task.processInstanceId, taskDefinitionKey: task.taskDefinitionKey })}`).catch(() => [] as Task[]);
      const signers = [...new Set(open.map((x) => x.assignee).filter((a): a is string => !!a))];
      parts.push(h('h3', {}, t('signers')), signersForm(task, signers));
    }
  }
  return h('section', { class: 'card', id: 'approval-operations' }, ...parts);
}

/** The instance page's 终止 (for the initiator, the office, administrators) and 打印审批单. */
export function instanceOperations(instance: HistoricInstance): HTMLElement {
  const reason = h('input', { id: 'terminate-reason', required: true, maxlength: 4000, placeholder: t('terminateReason') });
  const mayTerminate = isRunning(instance) && (officeOrAdmin() || instance.startUserId === session()?.userId);
  return h('section', { class: 'card', id: 'instance-operations' },
    link(`/print/instance/${encodeURIComponent(instance.id)}`, { id: 'print-link', class: 'button secondary' }, t('print')),
    mayTerminate
      ? h('form', { id: 'terminate-form', class: 'inline-form', onsubmit: (e: SubmitEvent) => {
        e.preventDefault();
        if (!reason.value.trim()) return;
        void act(() => api('POST', `/process-instance/${instance.id}/terminate`, { reason: reason.value.trim() }), t('terminated'));
      } }, reason, h('button', { type: 'submit', class: 'danger', id: 'terminate' }, t('terminate')))
      : null);
}
