import { api, session } from '../api.ts';
import { h } from '../dom.ts';
import { lang } from '../i18n.ts';
import { act, errorText, flashNext, go } from '../shell.ts';

/*
 * 退回 (send back) on the task page and 撤回 (withdraw) on the instance page;
 * the server decides who may (docs/instance-operations.md), these only offer.
 * Their words live here, Chinese first, so the shared message table stays as it is.
 */

const words = {
  sendBack: ['退回', 'Send back'], sendBackTo: ['退回到', 'Send back to'], sendBackComment: ['退回意见（必填）', 'Reason (required)'],
  sentBack: ['已退回', 'Sent back'], withdraw: ['撤回', 'Withdraw'], withdrawComment: ['撤回说明（可选）', 'Note (optional)'],
  withdrawn: ['已撤回到第一步', 'Withdrawn to the first step'], serverError: ['操作失败：', 'Failed: '],
} as const;
const w = (key: keyof typeof words): string => words[key][lang() === 'en' ? 1 : 0];

interface ReturnTarget {
  activityId: string;
  activityName: string | null;
}

/** The send-back card of a task, or null when it has no earlier step to return to. */
export async function sendBackBox(taskId: string): Promise<HTMLElement | null> {
  const targets = await api<ReturnTarget[]>('GET', `/task/${encodeURIComponent(taskId)}/return-targets`);
  if (!targets.length) return null;
  const select = h('select', { id: 'return-target' }, targets.map((x) => h('option', { value: x.activityId }, x.activityName ?? x.activityId)));
  const text = h('textarea', { id: 'return-comment', rows: 2, maxlength: 4000, placeholder: w('sendBackComment') });
  const message = h('div', { class: 'server-error', role: 'alert', id: 'return-error' });
  return h('section', { class: 'card', id: 'send-back' },
    h('h2', {}, w('sendBack')),
    h('form', { onsubmit: async (e: SubmitEvent) => {
      e.preventDefault();
      message.textContent = '';
      try {
        await api('POST', `/task/${encodeURIComponent(taskId)}/return`, { activityId: select.value, comment: text.value.trim() });
        flashNext(w('sentBack'));
        go('/');
      } catch (err) {
        message.textContent = w('serverError') + errorText(err);
      }
    } }, h('label', {}, w('sendBackTo'), ' ', select), text, message, h('button', { type: 'submit', class: 'secondary', id: 'send-back-button' }, w('sendBack'))));
}

/** The withdraw card of a running instance, for its initiator only (the server checks the rest, answering 409 when the next step was taken up). */
export function withdrawBox(instance: { id: string; state: string; startUserId: string | null }): HTMLElement | null {
  if (instance.state !== 'ACTIVE' || !instance.startUserId || instance.startUserId !== session()?.userId) return null;
  const text = h('textarea', { id: 'withdraw-comment', rows: 2, maxlength: 4000, placeholder: w('withdrawComment') });
  return h('section', { class: 'card', id: 'withdraw' },
    h('h2', {}, w('withdraw')),
    h('form', { onsubmit: (e: SubmitEvent) => {
      e.preventDefault();
      const comment = text.value.trim();
      void act(() => api('POST', `/process-instance/${encodeURIComponent(instance.id)}/withdraw`, comment ? { comment } : {}), w('withdrawn'));
    } }, text, h('button', { type: 'submit', class: 'secondary', id: 'withdraw-button' }, w('withdraw'))));
}
