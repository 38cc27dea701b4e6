import { api, isAdmin, session } from './api.ts';
import { h } from './dom.ts';
import { pick, t } from './i18n.ts';
import { act, go, withParams } from './shell.ts';

/** A saved task list (Camunda's filter), as GET /filter returns it. */
export interface SavedFilter {
  id: string;
  name: string;
  owner: string;
  query: Record<string, unknown>;
  sharedGroups: string[];
  itemCount?: number;
}

/** The filters the user may use, each with the count of its tasks the user may see. */
export async function visibleFilters(): Promise<SavedFilter[]> {
  return api<SavedFilter[]>('GET', '/filter?resourceType=Task&sortBy=name&sortOrder=asc&itemCount=true');
}

/**
 * The saved-filter bar of the task list: a selector of the filters the user
 * may use (with counts), saving the current view as a filter (optionally
 * shared with one of the user's roles), and deleting one's own. `query` is
 * the current view as a stored task query; null when it cannot be stored
 * (a due date relative to now), so nothing is saved that would list otherwise.
 */
export function savedFilterBar(filters: SavedFilter[], selected: SavedFilter | undefined, query: Record<string, unknown> | null): HTMLElement {
  const s = session()!;
  const chooser = h('select', { id: 'saved-filter', 'aria-label': t('savedFilters'), onchange: () => go(chooser.value ? `/?filter=${encodeURIComponent(chooser.value)}` : '/') },
    h('option', { value: '' }, t('chooseFilter')),
    ...filters.map((f) => h('option', { value: f.id }, `${f.name}（${f.itemCount ?? 0}）`)));
  chooser.value = selected?.id ?? '';
  const name = h('input', { id: 'filter-name', type: 'text', maxlength: '255', placeholder: t('filterName'), 'aria-label': t('filterName') });
  const share = h('select', { id: 'filter-share', 'aria-label': t('shareWith') },
    h('option', { value: '' }, t('notShared')), ...s.groups.map((g) => h('option', { value: g.id }, `${t('shareWith')} ${pick(g.name)}`)));
  const save = h('button', {
    type: 'button', id: 'save-filter', class: 'secondary', disabled: query == null, title: query == null ? t('relativeDueNotSaved') : '',
    onclick: async () => {
      const filterName = name.value.trim();
      if (!filterName) {
        name.focus();
        name.setCustomValidity(t('filterNameRequired'));
        name.reportValidity();
        return;
      }
      let created: SavedFilter | undefined;
      await act(async () => {
        created = await api<SavedFilter>('POST', '/filter/create', { resourceType: 'Task', name: filterName, query, properties: {}, sharedGroups: share.value ? [share.value] : [] });
        history.replaceState(null, '', `/?filter=${encodeURIComponent(created.id)}`);
      }, t('filterSaved', { name: filterName }));
    },
  }, t('saveFilter'));
  const mine = selected && (selected.owner === s.userId || isAdmin());
  const remove = mine
    ? h('button', {
      type: 'button', id: 'delete-filter', class: 'danger secondary',
      onclick: async () => {
        if (!confirm(t('deleteFilterConfirm', { name: selected.name }))) return;
        await act(async () => {
          await api('DELETE', `/filter/${encodeURIComponent(selected.id)}`);
          history.replaceState(null, '', withParams({ filter: undefined }));
        }, t('filterDeleted'));
      },
    }, t('deleteFilter'))
    : null;
  return h('div', { class: 'filters saved-filters', id: 'saved-filters' },
    h('label', { for: 'saved-filter' }, t('savedFilters')), chooser, remove, name, share, save,
    query == null ? h('span', { class: 'muted', id: 'filter-save-hint' }, t('relativeDueNotSaved')) : null);
}
