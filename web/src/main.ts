import './style.css';
import { ApiError, inGroup, isAdmin, session, whenExpired } from './api.ts';
import { h } from './dom.ts';
import { lang, t } from './i18n.ts';
import { instancePage } from './pages/instance.ts';
import { printPage } from './pages/print.ts';
import { loginPage } from './pages/login.ts';
import { migratePage } from './pages/migrate.ts';
import { monitorPage, timersPage, versionsPage } from './pages/monitor.ts';
import { startListPage, startPage } from './pages/start.ts';
import { taskPage } from './pages/task.ts';
import { taskListPage } from './pages/tasklist.ts';
import { tracePage } from './pages/trace.ts';
import { notificationsPage } from './pages/notifications.ts';
import { carbonCopiesPage } from './pages/carbon-copies.ts';
import { webhooksPage } from './pages/webhooks.ts';
import { usersPage } from './pages/users.ts';
import { errorText, flashNext, go, page, setRouter, takePending, type Section } from './shell.ts';

let expiryTimer: number | undefined;

whenExpired(() => {
  flashNext(t('sessionExpired'), 'error');
  if (location.pathname !== '/login') go('/login');
});

/** Back to the login page when the token's time is up, even with the page idle. */
function armExpiry(): void {
  window.clearTimeout(expiryTimer);
  const s = session();
  if (!s) return;
  expiryTimer = window.setTimeout(() => {
    sessionStorage.clear();
    flashNext(t('sessionExpired'), 'error');
    go('/login');
  }, Math.min(s.expires - Date.now(), 2 ** 31 - 1));
}

const monitorAllowed = () => isAdmin() || inGroup('office');

/** Path patterns and their pages; the first match wins. `allowed` hides what the server would refuse anyway. */
const routes: { re: RegExp; section: Section; allowed?: () => boolean; show: (...ids: string[]) => Promise<void> }[] = [
  { re: /^\/task\/([^/]+)$/, section: 'tasks', show: taskPage },
  { re: /^\/start$/, section: 'start', show: startListPage },
  { re: /^\/start\/([^/]+)$/, section: 'start', show: startPage },
  { re: /^\/monitor$/, section: 'monitor', allowed: monitorAllowed, show: monitorPage },
  { re: /^\/monitor\/timers$/, section: 'monitor', allowed: monitorAllowed, show: timersPage },
  { re: /^\/monitor\/versions$/, section: 'monitor', allowed: monitorAllowed, show: versionsPage },
  { re: /^\/monitor\/migrate$/, section: 'monitor', allowed: isAdmin, show: migratePage },
  // An instance's page: whoever may see the instance (the server decides), so its initiator reaches 撤回 and 终止 there.
  { re: /^\/monitor\/instance\/([^/]+)$/, section: 'monitor', show: (id) => instancePage(id) },
  // The modelers (bpmn-js, dmn-js) are large: loaded only when opened.
  // 审批单: whoever may see the instance (the server decides).
  { re: /^\/print\/instance\/([^/]+)$/, section: 'monitor', show: printPage },
  { re: /^\/modeler$/, section: 'modeler', allowed: isAdmin, show: async () => (await import('./pages/modeler.ts')).modelerPage() },
  { re: /^\/dmn$/, section: 'dmn', allowed: isAdmin, show: async () => (await import('./pages/dmn.ts')).dmnPage() },
  { re: /^\/trace$/, section: 'trace', allowed: isAdmin, show: tracePage },
  { re: /^\/notifications$/, section: 'notifications', show: notificationsPage },
  // 抄送我的, and a copied instance read-only: whoever it was copied to (the server decides).
  { re: /^\/copied$/, section: 'copied', show: carbonCopiesPage },
  { re: /^\/copied\/instance\/([^/]+)$/, section: 'copied', show: (id) => instancePage(id, 'copied') },
  { re: /^\/webhooks$/, section: 'webhooks', allowed: isAdmin, show: webhooksPage },
  { re: /^\/users$/, section: 'users', allowed: isAdmin, show: usersPage },
  { re: /^\/$/, section: 'tasks', show: taskListPage },
];

async function route(): Promise<void> {
  document.documentElement.lang = lang() === 'zh' ? 'zh-CN' : 'en';
  document.title = t('appTitle');
  const path = location.pathname;
  takePending();
  if (!session()) {
    if (path !== '/login') history.replaceState(null, '', '/login');
    return loginPage(armExpiry);
  }
  if (path === '/login') {
    history.replaceState(null, '', '/');
    return route();
  }
  armExpiry();
  // An unknown path shows the tasklist.
  const match = routes.map((r) => ({ r, m: r.re.exec(path) as string[] | null })).find((x) => x.m) ?? { r: routes[routes.length - 1], m: ['/'] };
  try {
    if (match.r.allowed && !match.r.allowed()) return page(match.r.section, h('p', { class: 'flash flash-error', id: 'forbidden' }, t('noAccess')));
    await match.r.show(...(match.m ?? []).slice(1).map(decodeURIComponent));
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return;
    page(match.r.section, h('p', { class: 'flash flash-error' }, t('serverError') + errorText(err)));
  }
}

setRouter(route);
window.addEventListener('popstate', () => void route());
void route();
