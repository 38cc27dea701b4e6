import { h } from './dom.ts';
import { formatDateTime, parseServerDate, t, type Key } from './i18n.ts';

type Cell = Node | string | null;

/** A table that scrolls sideways on a phone instead of squeezing its columns. */
export function table(id: string, headers: string[], rows: Cell[][], attrs: (i: number) => Record<string, unknown> = () => ({})): HTMLElement {
  return h('div', { class: 'table-wrap' },
    h('table', { id },
      h('thead', {}, h('tr', {}, headers.map((x) => h('th', {}, x)))),
      h('tbody', {}, rows.map((r, i) => h('tr', attrs(i), r.map((c) => h('td', {}, c)))))));
}

export type Variables = Record<string, { type: string; value: unknown; valueInfo?: Record<string, unknown> }>;

function shown(v: Variables[string]): string {
  if (v.type === 'Bytes' || v.type === 'File') return `${t('fileValue')}${v.valueInfo?.filename ? ` ${String(v.valueInfo.filename)}` : ''}`;
  if (v.type === 'Date') return formatDateTime(parseServerDate(String(v.value)));
  if (v.value === null || v.value === undefined) return '—';
  if (typeof v.value === 'object') return JSON.stringify(v.value);
  return String(v.value);
}

/** A process's variables, as the server lets this user see them. */
export function variablesTable(id: string, vars: Variables): HTMLElement {
  const names = Object.keys(vars).sort();
  if (!names.length) return h('p', { class: 'muted', id }, t('noVariables'));
  return table(id, [t('name'), t('value'), t('type')], names.map((n) => [h('code', {}, n), shown(vars[n]), vars[n].type]), (i) => ({ 'data-name': names[i] }));
}

export function stateLabel(state: string): string {
  return ['ACTIVE', 'SUSPENDED', 'COMPLETED', 'EXTERNALLY_TERMINATED', 'INTERNALLY_TERMINATED'].includes(state) ? t(state as Key) : state;
}

export function when(date: string | null | undefined): string {
  return formatDateTime(parseServerDate(date));
}
