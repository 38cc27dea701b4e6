import { api, ApiError, inGroup, isAdmin, logout, session } from './api.ts';
import { h, mount } from './dom.ts';
import { lang, pick, setLang, t, type Key } from './i18n.ts';

/** The sections of the header; who sees which is decided here, the server enforces it anyway. */
export type Section = 'tasks' | 'start' | 'copied' | 'monitor' | 'modeler' | 'dmn' | 'trace' | 'notifications' | 'webhooks' | 'users';

export const root = document.getElementById('app')!;

type Flash = { text: string; kind: 'ok' | 'error' };
/** Set by an action, shown by the next route. */
let pending: Flash | null = null;
/** What the current route shows (also while it is still loading). */
let shown: Flash | null = null;
let router: () => Promise<void> = async () => undefined;

export function setRouter(fn: () => Promise<void>): void {
  router = fn;
}

/** Re-renders the current route. */
export function rerender(): Promise<void> {
  return router();
}

/** Moves the pending message to the route about to render. */
export function takePending(): void {
  shown = pending;
  pending = null;
}

export function flashNext(text: string, kind: Flash['kind'] = 'ok'): void {
  pending = { text, kind };
}

/** Client-side navigation; the server answers every such path with index.html. */
export function go(path: string): void {
  history.pushState(null, '', path);
  void router();
}

export function link(path: string, attrs: Record<string, unknown>, ...children: (Node | string)[]): HTMLAnchorElement {
  return h('a', { ...attrs, href: path, onclick: (e: MouseEvent) => {
    if (e.ctrlKey || e.metaKey || e.shiftKey) return; // a new tab keeps working
    e.preventDefault();
    go(path);
  } }, ...children);
}

export function errorText(err: unknown): string {
  return err instanceof ApiError ? err.message : String(err);
}

/** Runs an action from a list (claim, retry…), then renders again with its failure shown, if any. */
export async function act(fn: () => Promise<unknown>, done?: string): Promise<void> {
  try {
    await fn();
    if (done) flashNext(done);
  } catch (err) {
    flashNext(t('serverError') + errorText(err), 'error');
  }
  await router();
}

function sections(): [Section, string, Key][] {
  const all: [Section, string, Key, boolean][] = [
    ['tasks', '/', 'tasks', true],
    ['start', '/start', 'start', true],
    ['copied', '/copied', 'copiedToMe', true],
    ['monitor', '/monitor', 'monitor', isAdmin() || inGroup('office')],
    ['modeler', '/modeler', 'modeler', isAdmin()],
    ['dmn', '/dmn', 'dmn', isAdmin()],
    ['trace', '/trace', 'trace', isAdmin()],
    ['webhooks', '/webhooks', 'webhooks', isAdmin()],
    ['users', '/users', 'users', isAdmin()],
  ];
  return all.filter((s) => s[3]).map(([a, b, c]) => [a, b, c]);
}

function header(active: Section): HTMLElement {
  const s = session()!;
  return h('header', { class: 'top' },
    h('div', { class: 'brand' }, t('appTitle')),
    h('nav', {}, sections().map(([id, path, label]) => link(path, { class: active === id ? 'active' : '', id: `nav-${id}` }, t(label), ...(id === 'copied' ? [unreadCopies()] : [])))),
    h('div', { class: 'who' },
      bell(active),
      h('span', { class: 'user', id: 'current-user', title: `${t('myRoles')}: ${s.groups.map((g) => pick(g.name)).join('、')}` }, s.userId),
      h('button', { type: 'button', class: 'link', id: 'lang-switch', onclick: () => { setLang(lang() === 'zh' ? 'en' : 'zh'); void router(); } }, lang() === 'zh' ? 'EN' : '中文'),
      h('button', { type: 'button', class: 'link', id: 'logout', onclick: async () => { await logout(); go('/login'); } }, t('logout'))));
}

/**
 * The bell: a link to the notification list with the unread count, asked
 * for each time a page renders (a page changes with every action).
 */
function bell(active: Section): HTMLElement {
  const count = h('span', { class: 'bell-count', id: 'bell-count', hidden: true }, '');
  const el = link('/notifications', { class: `bell${active === 'notifications' ? ' active' : ''}`, id: 'nav-bell', title: t('notifications') }, '🔔', count);
  void api<{ count: number }>('GET', '/notification/count?unread=true').then(({ count: n }) => {
    count.textContent = String(n);
    count.hidden = n === 0;
    el.setAttribute('aria-label', t('unreadNotifications', { count: n }));
  }).catch(() => undefined);
  return el;
}

/** The unread count beside "抄送我的", asked for with each page as the bell's is; hidden at zero. */
function unreadCopies(): HTMLElement {
  const count = h('span', { class: 'nav-count', id: 'copied-count', hidden: true }, '');
  void api<{ count: number }>('GET', '/carbon-copy/count?unread=true').then(({ count: n }) => {
    count.textContent = String(n);
    count.hidden = n === 0;
    count.title = t('unreadCopies', { count: n });
  }).catch(() => undefined);
  return count;
}

export function flashBox(): HTMLElement | null {
  return shown ? h('div', { class: `flash flash-${shown.kind}`, role: 'status' }, shown.text) : null;
}

/** Renders a signed-in page: header, the last action's message, the content. */
export function page(active: Section, ...content: (Node | null)[]): void {
  mount(root, header(active), h('main', { class: `section-${active}` }, flashBox(), ...content));
}

export function loading(active: Section): void {
  page(active, h('p', { class: 'muted' }, t('loading')));
}

/** Paging controls for a list of `total` items shown `size` at a time from `first`. */
export function pager(first: number, size: number, total: number, to: (first: number) => void): HTMLElement | null {
  if (total <= size && first === 0) return null;
  return h('div', { class: 'pager' },
    h('button', { type: 'button', class: 'secondary', disabled: first === 0, onclick: () => to(Math.max(0, first - size)) }, t('previous')),
    h('span', { class: 'muted' }, t('page', { from: total ? first + 1 : 0, to: Math.min(first + size, total), total })),
    h('button', { type: 'button', class: 'secondary', disabled: first + size >= total, onclick: () => to(first + size) }, t('next')));
}

/** The current URL's query with some parameters changed; empty values are dropped. */
export function withParams(changes: Record<string, string | number | undefined>): string {
  const p = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined || v === '') p.delete(k);
    else p.set(k, String(v));
  }
  const q = p.toString();
  return location.pathname + (q ? `?${q}` : '');
}

export function param(name: string): string {
  return new URLSearchParams(location.search).get(name) ?? '';
}
