import { api, qs, session, type HistoricInstance, type Task } from '../api.ts';
import { latestDefinitions, definitionName } from '../definitions.ts';
import { h } from '../dom.ts';
import { formatDateTime, parseServerDate, pick, shanghaiDay, t, type Key } from '../i18n.ts';
import { act, go, link, loading, page, param, withParams } from '../shell.ts';
import { stateLabel } from '../widgets.ts';
import { savedFilterBar, visibleFilters } from '../saved-filters.ts';

const SORTS: Record<string, { label: Key; sorting: { sortBy: string; sortOrder: 'asc' | 'desc' }[] }> = {
  due: { label: 'sortDue', sorting: [{ sortBy: 'dueDate', sortOrder: 'asc' }, { sortBy: 'priority', sortOrder: 'desc' }, { sortBy: 'created', sortOrder: 'desc' }] },
  created: { label: 'sortCreated', sorting: [{ sortBy: 'created', sortOrder: 'desc' }] },
  priority: { label: 'sortPriority', sorting: [{ sortBy: 'priority', sortOrder: 'desc' }, { sortBy: 'dueDate', sortOrder: 'asc' }] },
  name: { label: 'sortName', sorting: [{ sortBy: 'name', sortOrder: 'asc' }, { sortBy: 'created', sortOrder: 'desc' }] },
};

/** The due filter as Camunda task-query criteria, judged now. */
function dueCriteria(due: string): Record<string, unknown> {
  const now = Date.now();
  if (due === 'overdue') return { dueBefore: new Date(now).toISOString() };
  if (due === 'today') return { dueBefore: `${shanghaiDay(new Date(now))}T23:59:59.999+08:00` };
  if (due === 'week') return { dueBefore: new Date(now + 7 * 86_400_000).toISOString() };
  if (due === 'none') return { withoutDueDate: true };
  return {};
}

export function dueBadge(task: Pick<Task, 'due'>): HTMLElement | null {
  const due = parseServerDate(task.due);
  if (!due) return null;
  const overdue = due.getTime() < Date.now();
  const soon = !overdue && shanghaiDay(due) <= shanghaiDay(new Date(Date.now() + 24 * 3600 * 1000));
  return h('span', { class: `due ${overdue ? 'overdue' : soon ? 'soon' : ''}` },
    `${overdue ? t('overdue') : soon ? t('dueSoon') : t('due')} ${formatDateTime(due)}`);
}

function select(id: string, value: string, options: [string, string][], onchange: (v: string) => void): HTMLSelectElement {
  const el = h('select', { id, onchange: () => onchange(el.value) }, options.map(([v, label]) => h('option', { value: v }, label)));
  el.value = value;
  return el;
}

/** "My tasks" and "my roles' tasks", with counts, filters (process, due, priority) and sorting in the URL. */
export async function taskListPage(): Promise<void> {
  const s = session()!;
  const filterId = param('filter');
  const view = filterId ? 'filter' : param('view') === 'roles' ? 'roles' : param('view') === 'started' ? 'started' : 'mine';
  const [process, due, prio] = [param('process'), param('due'), param('prio')];
  const sort = SORTS[param('sort')] ? param('sort') : 'due';
  loading('tasks');
  const groups = s.groups.map((g) => g.id);
  const mine = { assignee: s.userId };
  // Offered to my groups, claimed or not: a colleague's claim stays visible to the role.
  const roles = { candidateGroups: groups, includeAssignedTasks: true };
  const filters = { ...(process ? { processDefinitionKey: process } : {}), ...dueCriteria(due), ...(prio ? { minPriority: Number(prio) } : {}) };
  // 我发起的: running instances this user started, whose page offers 撤回 and 终止 (the server says who may).
  const startedByMe = { startedBy: s.userId, unfinished: true };
  const [countMine, countRoles, countStarted, shown, defs, saved] = await Promise.all([
    api<{ count: number }>('POST', '/task/count', mine),
    groups.length ? api<{ count: number }>('POST', '/task/count', roles) : Promise.resolve({ count: 0 }),
    api<{ count: number }>('GET', `/history/process-instance/count${qs(startedByMe)}`),
    // A saved filter's tasks: its query, extended by the toolbar's criteria, with the caller's visibility (the server's).
    view === 'filter' ? api<Task[]>('POST', `/filter/${encodeURIComponent(filterId)}/list?maxResults=200`, { ...filters, sorting: SORTS[sort].sorting })
      : view === 'started' ? Promise.resolve([] as Task[]) : view === 'mine' || groups.length
        ? api<Task[]>('POST', '/task?maxResults=200', { ...(view === 'mine' ? mine : roles), ...filters, sorting: SORTS[sort].sorting })
        : Promise.resolve([] as Task[]),
    latestDefinitions(),
    visibleFilters(),
  ]);
  const selected = saved.find((f) => f.id === filterId);
  // The view as a stored query: who it is for as Camunda's expressions, so a shared filter lists each user's own.
  const base = view === 'filter' ? selected?.query ?? {} : view === 'mine' ? { assigneeExpression: '${currentUser()}' } : { candidateGroupsExpression: '${currentUserGroups()}', includeAssignedTasks: true };
  const storable = due === '' || due === 'none'
    ? { ...base, ...(process ? { processDefinitionKey: process } : {}), ...(due === 'none' ? { withoutDueDate: true } : {}), ...(prio ? { minPriority: Number(prio) } : {}), sorting: SORTS[sort].sorting }
    : null;
  const filterBar = savedFilterBar(saved, selected, storable);
  const names = await Promise.all(shown.map((x) => definitionName(x.processDefinitionId)));
  const groupName = new Map(s.groups.map((g) => [g.id, pick(g.name)]));
  const tab = (id: 'mine' | 'roles' | 'started', label: Key, count: number) =>
    link(id === 'mine' ? '/' : `/?view=${id}`, { role: 'tab', id: `tab-${id}`, class: view === id ? 'active' : '', 'aria-selected': String(view === id) },
      `${t(label)} `, h('span', { class: 'count', id: `count-${id}` }, String(count)));
  const refilter = (name: string) => (v: string) => go(withParams({ [name]: v }));
  const toolbar = h('div', { class: 'filters', id: 'task-filters' },
    select('filter-process', process, [['', t('allProcesses')], ...defs.map((d): [string, string] => [d.key, d.name ?? d.key])], refilter('process')),
    select('filter-due', due, [['', t('anyDue')], ['overdue', t('dueOverdue')], ['today', t('dueToday')], ['week', t('dueWeek')], ['none', t('dueNone')]], refilter('due')),
    select('filter-priority', prio, [['', t('anyPriority')], ['70', t('priorityHigh')], ['50', t('priorityNormal')]], refilter('prio')),
    select('sort', sort, Object.entries(SORTS).map(([k, v]): [string, string] => [k, t(v.label)]), refilter('sort')),
    h('span', { class: 'muted', id: 'shown-count' }, t('shown', { n: shown.length })));
  const items = shown.map((task, i) => {
    const overdue = (parseServerDate(task.due)?.getTime() ?? Infinity) < Date.now();
    const action = task.assignee === s.userId
      ? h('button', { type: 'button', class: 'secondary', 'data-action': 'unclaim', onclick: async () => act(() => api('POST', `/task/${task.id}/unclaim`)) }, t('unclaim'))
      : task.assignee
        ? null
        : h('button', { type: 'button', class: 'secondary', 'data-action': 'claim', onclick: async () => act(() => api('POST', `/task/${task.id}/claim`, { userId: s.userId })) }, t('claim'));
    return h('li', { class: `task ${overdue ? 'is-overdue' : ''}`, 'data-task-id': task.id, 'data-task-key': task.taskDefinitionKey },
      h('div', { class: 'task-main' },
        link(`/task/${task.id}`, { class: 'task-name' }, task.name ?? task.taskDefinitionKey),
        task.priority >= 70 ? h('span', { class: 'priority-high', title: `${t('priority')} ${task.priority}` }, t('high')) : null,
        h('div', { class: 'task-meta' },
          h('span', {}, names[i]),
          h('span', {}, `${t('created')} ${formatDateTime(parseServerDate(task.created))}`),
          task.candidateGroups.length ? h('span', {}, `${t('candidates')} ${task.candidateGroups.map((g) => groupName.get(g) ?? g).join('、')}`) : null,
          task.assignee && task.assignee !== s.userId ? h('span', { class: 'claimed-by' }, t('claimedBy', { user: task.assignee })) : null,
          dueBadge(task))),
      h('div', { class: 'task-actions' }, action, link(`/task/${task.id}`, { class: 'button primary' }, t('open'))));
  });
  const tabs = h('div', { class: 'tabs', role: 'tablist' },
    tab('mine', 'myTasks', countMine.count), tab('roles', 'roleTasks', countRoles.count), tab('started', 'myRequests', countStarted.count));
  if (view === 'started') return page('tasks', tabs, await startedList(startedByMe));
  page('tasks', tabs,
    filterBar,
    selected ? h('h2', { id: 'filter-title' }, t('filterTasks', { name: selected.name })) : null,
    toolbar,
    items.length ? h('ul', { class: 'tasks', id: 'task-list' }, items) : h('p', { class: 'empty', id: 'task-list-empty' }, t('noTasks')));
}

/** 我发起的: the running instances the user started, newest first, each linking to its instance page. */
async function startedList(query: Record<string, unknown>): Promise<HTMLElement> {
  const rows = await api<HistoricInstance[]>('GET', `/history/process-instance${qs({ ...query, sortBy: 'startTime', sortOrder: 'desc', maxResults: 200 })}`);
  if (!rows.length) return h('p', { class: 'empty', id: 'started-list-empty' }, t('noRequests'));
  return h('ul', { class: 'tasks', id: 'started-list' }, rows.map((r) =>
    h('li', { class: 'task', 'data-instance-id': r.id },
      h('div', { class: 'task-main' },
        link(`/monitor/instance/${r.id}`, { class: 'task-name' }, `${r.processDefinitionName ?? r.processDefinitionKey} ${r.businessKey ?? ''}`),
        h('div', { class: 'task-meta' },
          h('span', { class: `state state-${r.state}` }, stateLabel(r.state)),
          h('span', {}, `${t('startedAt')} ${formatDateTime(parseServerDate(r.startTime))}`))),
      h('div', { class: 'task-actions' }, link(`/monitor/instance/${r.id}`, { class: 'button primary' }, t('open'))))));
}
