import './style.css';
import { api, ApiError, login, logout, session, whenExpired, type Definition, type FormVariables, type Task } from './api.ts';
import { showDiagram } from './diagram.ts';
import { h, mount } from './dom.ts';
import { renderForm } from './forms.ts';
import { formatDateTime, lang, parseServerDate, pick, setLang, shanghaiDay, t } from './i18n.ts';

const root = document.getElementById('app')!;
type Flash = { text: string; kind: 'ok' | 'error' };
let flash: Flash | null = null;
let expiryTimer: number | undefined;

/** Client-side navigation; the server answers every such path with index.html. */
function go(path: string): void {
  history.pushState(null, '', path);
  void route();
}

whenExpired(() => {
  flash = { text: t('sessionExpired'), kind: 'error' };
  if (location.pathname !== '/login') go('/login');
});

function link(path: string, attrs: Record<string, unknown>, ...children: (Node | string)[]): HTMLAnchorElement {
  return h('a', { ...attrs, href: path, onclick: (e: MouseEvent) => { e.preventDefault(); go(path); } }, ...children);
}

/** The message of the last action, shown on every render of the next route (its loading state too). */
let shown: Flash | null = null;
function takeFlash(): HTMLElement | null {
  return shown ? h('div', { class: `flash flash-${shown.kind}`, role: 'status' }, shown.text) : null;
}

function errorText(err: unknown): string {
  return err instanceof ApiError ? err.message : String(err);
}

function header(active: 'tasks' | 'start'): HTMLElement {
  const s = session()!;
  return h('header', { class: 'top' },
    h('div', { class: 'brand' }, t('appTitle')),
    h('nav', {},
      link('/', { class: active === 'tasks' ? 'active' : '', id: 'nav-tasks' }, t('tasks')),
      link('/start', { class: active === 'start' ? 'active' : '', id: 'nav-start' }, t('start'))),
    h('div', { class: 'who' },
      h('span', { class: 'user', id: 'current-user', title: `${t('myRoles')}: ${s.groups.map((g) => pick(g.name)).join('、')}` }, s.userId),
      h('button', { type: 'button', class: 'link', id: 'lang-switch', onclick: () => { setLang(lang() === 'zh' ? 'en' : 'zh'); void route(); } }, lang() === 'zh' ? 'EN' : '中文'),
      h('button', { type: 'button', class: 'link', id: 'logout', onclick: async () => { await logout(); go('/login'); } }, t('logout'))));
}

function page(active: 'tasks' | 'start', ...content: (Node | null)[]): void {
  mount(root, header(active), h('main', {}, takeFlash(), ...content));
}

function loginPage(): void {
  const user = h('input', { id: 'username', name: 'username', autocomplete: 'username', required: true });
  const password = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const message = h('div', { class: 'field-error', role: 'alert', id: 'login-error' });
  const form = h('form', { class: 'login card', onsubmit: async (e: SubmitEvent) => {
    e.preventDefault();
    message.textContent = '';
    try {
      await login(user.value.trim(), password.value);
      armExpiry();
      go('/');
    } catch (err) {
      message.textContent = t('loginFailed') + errorText(err);
    }
  } },
  h('h1', {}, t('appTitle')),
  h('label', { for: 'username' }, t('username')), user,
  h('label', { for: 'password' }, t('password')), password,
  message,
  h('button', { type: 'submit', class: 'primary' }, t('login')),
  h('button', { type: 'button', class: 'link', onclick: () => { setLang(lang() === 'zh' ? 'en' : 'zh'); loginPage(); } }, lang() === 'zh' ? 'English' : '中文'));
  mount(root, h('main', { class: 'center' }, takeFlash(), form));
  user.focus();
}

/** Back to the login page when the token's time is up, even with the page idle. */
function armExpiry(): void {
  window.clearTimeout(expiryTimer);
  const s = session();
  if (!s) return;
  expiryTimer = window.setTimeout(() => {
    sessionStorage.clear();
    flash = { text: t('sessionExpired'), kind: 'error' };
    go('/login');
  }, Math.min(s.expires - Date.now(), 2 ** 31 - 1));
}

let definitionNames: Map<string, string> | null = null;
async function definitionName(id: string): Promise<string> {
  definitionNames ??= new Map((await api<Definition[]>('GET', '/process-definition')).map((d) => [d.id, d.name ?? d.key]));
  return definitionNames.get(id) ?? id;
}

function dueBadge(task: Task): HTMLElement | null {
  const due = parseServerDate(task.due);
  if (!due) return null;
  const overdue = due.getTime() < Date.now();
  const soon = !overdue && shanghaiDay(due) <= shanghaiDay(new Date(Date.now() + 24 * 3600 * 1000));
  return h('span', { class: `due ${overdue ? 'overdue' : soon ? 'soon' : ''}` },
    `${overdue ? t('overdue') : soon ? t('dueSoon') : t('due')} ${formatDateTime(due)}`);
}

function byUrgency(a: Task, b: Task): number {
  const da = parseServerDate(a.due)?.getTime() ?? Infinity;
  const db = parseServerDate(b.due)?.getTime() ?? Infinity;
  return da - db || (parseServerDate(b.created)?.getTime() ?? 0) - (parseServerDate(a.created)?.getTime() ?? 0);
}

async function taskListPage(): Promise<void> {
  const s = session()!;
  const view = new URLSearchParams(location.search).get('view') === 'roles' ? 'roles' : 'mine';
  page('tasks', h('p', { class: 'muted' }, t('loading')));
  const groups = s.groups.map((g) => g.id);
  const [mine, roles] = await Promise.all([
    api<Task[]>('GET', `/task?assignee=${encodeURIComponent(s.userId)}`),
    groups.length ? api<Task[]>('GET', `/task?candidateGroups=${encodeURIComponent(groups.join(','))}`) : Promise.resolve([] as Task[]),
  ]);
  const shown = (view === 'mine' ? mine : roles).sort(byUrgency);
  const names = await Promise.all(shown.map((x) => definitionName(x.processDefinitionId)));
  const groupName = new Map(s.groups.map((g) => [g.id, pick(g.name)]));
  const tabs = h('div', { class: 'tabs', role: 'tablist' },
    link('/', { role: 'tab', id: 'tab-mine', class: view === 'mine' ? 'active' : '', 'aria-selected': String(view === 'mine') }, `${t('myTasks')} `, h('span', { class: 'count', id: 'count-mine' }, String(mine.length))),
    link('/?view=roles', { role: 'tab', id: 'tab-roles', class: view === 'roles' ? 'active' : '', 'aria-selected': String(view === 'roles') }, `${t('roleTasks')} `, h('span', { class: 'count', id: 'count-roles' }, String(roles.length))));
  const items = shown.map((task, i) => {
    const overdue = (parseServerDate(task.due)?.getTime() ?? Infinity) < Date.now();
    const action = view === 'mine'
      ? h('button', { type: 'button', class: 'secondary', 'data-action': 'unclaim', onclick: async () => act(() => api('POST', `/task/${task.id}/unclaim`)) }, t('unclaim'))
      : h('button', { type: 'button', class: 'secondary', 'data-action': 'claim', onclick: async () => act(() => api('POST', `/task/${task.id}/claim`, { userId: s.userId })) }, t('claim'));
    return h('li', { class: `task ${overdue ? 'is-overdue' : ''}`, 'data-task-id': task.id, 'data-task-key': task.taskDefinitionKey },
      h('div', { class: 'task-main' },
        link(`/task/${task.id}`, { class: 'task-name' }, task.name ?? task.taskDefinitionKey),
        h('div', { class: 'task-meta' },
          h('span', {}, names[i]),
          h('span', {}, `${t('created')} ${formatDateTime(parseServerDate(task.created))}`),
          task.candidateGroups.length ? h('span', {}, `${t('candidates')} ${task.candidateGroups.map((g) => groupName.get(g) ?? g).join('、')}`) : null,
          dueBadge(task))),
      h('div', { class: 'task-actions' }, action, link(`/task/${task.id}`, { class: 'button primary' }, t('open'))));
  });
  page('tasks', tabs, items.length ? h('ul', { class: 'tasks', id: 'task-list' }, items) : h('p', { class: 'empty', id: 'task-list-empty' }, t('noTasks')));
}

async function act(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    flash = { text: t('serverError') + errorText(err), kind: 'error' };
  }
  await route();
}

async function taskPage(id: string): Promise<void> {
  const s = session()!;
  page('tasks', h('p', { class: 'muted' }, t('loading')));
  let task: Task;
  try {
    task = await api<Task>('GET', `/task/${encodeURIComponent(id)}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return page('tasks', h('p', { class: 'flash flash-error', id: 'not-found' }, t('notFound')), link('/', {}, t('back')));
    throw err;
  }
  const [values, xml, processName] = await Promise.all([
    api<FormVariables>('GET', `/task/${encodeURIComponent(id)}/form-variables`),
    api<{ bpmn20Xml: string }>('GET', `/process-definition/${encodeURIComponent(task.processDefinitionId)}/xml`),
    definitionName(task.processDefinitionId),
  ]);
  const canvas = h('div', { class: 'diagram', id: 'diagram' });
  const formBox = h('div', { class: 'form-box' });
  const serverMessage = h('div', { class: 'server-error', role: 'alert', id: 'server-error' });
  page('tasks',
    h('div', { class: 'title-row' }, link('/', { class: 'back' }, `← ${t('back')}`), h('h1', {}, task.name ?? task.taskDefinitionKey), h('span', { class: 'muted' }, processName), dueBadge(task)),
    h('div', { class: 'task-layout' },
      h('section', { class: 'card' }, h('h2', {}, t('form')), formBox),
      h('section', { class: 'card' }, h('h2', {}, t('diagram')), canvas)));
  const diagram = await showDiagram(canvas, xml.bpmn20Xml, task.taskDefinitionKey);
  const form = renderForm(diagram.fields(task.taskDefinitionKey), values);
  const claimNote = task.assignee === s.userId ? null
    : h('p', { class: 'note' }, t('claimFirst'), ' ',
      h('button', { type: 'button', class: 'secondary', id: 'claim', onclick: async () => act(() => api('POST', `/task/${task.id}/claim`, { userId: s.userId })) }, t('claim')));
  formBox.append(claimNote ?? '', submittable('task-form', form, [serverMessage], serverMessage, 'complete', t('complete'), async (variables) => {
    await api('POST', `/task/${task.id}/complete`, { variables });
    flash = { text: t('completed'), kind: 'ok' };
    go('/');
  }));
}

/**
 * A form element that checks the fields in the browser, sends the values
 * with `send`, and shows the server's refusal in `serverMessage`; `extra`
 * goes between the fields and the button.
 */
function submittable(
  id: string, form: ReturnType<typeof renderForm>, extra: Node[], serverMessage: HTMLElement, buttonId: string, label: string,
  send: (variables: Record<string, unknown>) => Promise<void>,
): HTMLFormElement {
  return h('form', { id, novalidate: true, onsubmit: async (e: SubmitEvent) => {
    e.preventDefault();
    serverMessage.textContent = '';
    const variables = form.collect();
    if (!variables) {
      serverMessage.textContent = t('formErrors');
      return;
    }
    try {
      await send(variables);
    } catch (err) {
      serverMessage.textContent = t('serverError') + errorText(err);
    }
  } }, form.element, ...extra, h('button', { type: 'submit', class: 'primary', id: buttonId }, label));
}

async function startListPage(): Promise<void> {
  page('start', h('p', { class: 'muted' }, t('loading')));
  // One query: the server filters to what this user may start (Camunda's startablePermissionCheck).
  const mine = (await api<Definition[]>('GET', '/process-definition?latestVersion=true&startableInTasklist=true&startablePermissionCheck=true')).sort((a, b) => (a.name ?? a.key).localeCompare(b.name ?? b.key, 'zh-CN'));
  page('start', h('h1', {}, t('start')), mine.length
    ? h('ul', { class: 'processes', id: 'process-list' }, mine.map((d) => h('li', { 'data-key': d.key }, link(`/start/${d.id}`, { class: 'process-name' }, d.name ?? d.key), h('span', { class: 'muted' }, ` ${d.key} · v${d.version}`))))
    : h('p', { class: 'empty' }, t('noProcesses')));
}

async function startPage(id: string): Promise<void> {
  page('start', h('p', { class: 'muted' }, t('loading')));
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
    h('div', { class: 'title-row' }, link('/start', { class: 'back' }, `← ${t('back')}`), h('h1', {}, def.name ?? def.key)),
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
      flash = { text: t('started'), kind: 'ok' };
      go('/?view=roles');
    }));
}

async function route(): Promise<void> {
  document.documentElement.lang = lang() === 'zh' ? 'zh-CN' : 'en';
  document.title = t('appTitle');
  const path = location.pathname;
  shown = flash;
  flash = null;
  if (!session()) {
    if (path !== '/login') history.replaceState(null, '', '/login');
    return loginPage();
  }
  if (path === '/login') {
    history.replaceState(null, '', '/');
    return route();
  }
  armExpiry();
  try {
    const task = /^\/task\/([^/]+)$/.exec(path);
    const start = /^\/start\/([^/]+)$/.exec(path);
    if (task) await taskPage(decodeURIComponent(task[1]));
    else if (start) await startPage(decodeURIComponent(start[1]));
    else if (path === '/start') await startListPage();
    else await taskListPage();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return;
    page('tasks', h('p', { class: 'flash flash-error' }, t('serverError') + errorText(err)));
  }
}

window.addEventListener('popstate', () => void route());
void route();
