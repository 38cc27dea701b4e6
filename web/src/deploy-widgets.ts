import { ApiError } from './api.ts';
import { h } from './dom.ts';
import { t } from './i18n.ts';
import { errorText } from './shell.ts';

/** One reason the server refused a resource, as the deployment answer lists it. */
export interface Problem {
  message: string;
  line: number | null;
  elementIds: string[];
}

/** The problems of every resource in a refused deployment, or null when the refusal was something else. */
export function problemsOf(err: unknown): Problem[] | null {
  if (!(err instanceof ApiError) || err.status !== 400 || !err.details || typeof err.details !== 'object') return null;
  const all = Object.values(err.details as Record<string, { errors?: Problem[] }>).flatMap((r) => r?.errors ?? []);
  return all.length ? all : null;
}

/**
 * A failed deployment: the editor marks the problems when the server named
 * them, else the status line says what went wrong.
 */
export function showDeployFailure(err: unknown, status: HTMLElement, showProblems: (list: Problem[]) => void): void {
  const list = problemsOf(err);
  if (list) return showProblems(list);
  status.className = 'flash flash-error';
  status.textContent = t('serverError') + errorText(err);
}

/** The deployment's problem list, each entry opening its element through `reveal` (null when the element is not on screen). */
export function problemList(list: Problem[], reveal: (p: Problem) => HTMLElement | string | null): HTMLElement {
  return h('div', { class: 'flash flash-error' }, h('strong', {}, t('deployErrors')),
    h('ul', { class: 'problems' }, list.map((p) => h('li', { 'data-element-id': p.elementIds[0] ?? '' },
      reveal(p), ` ${p.message}`, p.line != null ? h('span', { class: 'muted' }, ` (${t('line', { line: p.line })})`) : null))));
}

/** Saves `text` as a file the browser downloads. */
export function downloadText(text: string, fileName: string): void {
  const a = h('a', { href: URL.createObjectURL(new Blob([text], { type: 'application/xml' })), download: fileName });
  document.body.append(a);
  a.click();
  a.remove();
  URL.revokeObjectURL(a.href);
}
