import { api, isAdmin, qs, type HistoricInstance, type Job, type JobDefinition } from '../api.ts';
import { definitionName, latestDefinitions } from '../definitions.ts';
import { h } from '../dom.ts';
import { t } from '../i18n.ts';
import { go, link, loading, page, pager, param, withParams } from '../shell.ts';
import { stateLabel, table, when } from '../widgets.ts';

const PAGE = 25;

function subnav(active: 'instances' | 'timers' | 'versions'): HTMLElement {
  return h('div', { class: 'tabs' },
    link('/monitor', { class: active === 'instances' ? 'active' : '', id: 'tab-instances' }, t('instances')),
    link('/monitor/timers', { class: active === 'timers' ? 'active' : '', id: 'tab-timers' }, t('timerList')),
    link('/monitor/versions', { class: active === 'versions' ? 'active' : '', id: 'tab-versions' }, t('versions')),
    isAdmin() ? link('/monitor/migrate', { id: 'tab-migrate' }, t('migrate')) : null);
}

/** Running and finished instances per procedure, searchable by business key (office and administrators). */
export async function monitorPage(): Promise<void> {
  loading('monitor');
  const process = param('process');
  const state = ['running', 'finished', 'all'].includes(param('state')) ? param('state') : 'all';
  const key = param('q');
  const first = Math.max(0, Number(param('first')) || 0);
  const base = {
    processDefinitionKey: process || undefined,
    // Part of the key will do; the user types plain text, so % and _ are taken literally.
    processInstanceBusinessKeyLike: key ? `%${key.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : undefined,
  };
  const stateParam = state === 'running' ? { unfinished: true } : state === 'finished' ? { finished: true } : {};
  const [defs, running, finished, rows] = await Promise.all([
    latestDefinitions(),
    api<{ count: number }>('GET', `/history/process-instance/count${qs({ ...base, unfinished: true })}`),
    api<{ count: number }>('GET', `/history/process-instance/count${qs({ ...base, finished: true })}`),
    api<HistoricInstance[]>('GET', `/history/process-instance${qs({ ...base, ...stateParam, sortBy: 'startTime', sortOrder: 'desc', firstResult: first, maxResults: PAGE })}`),
  ]);
  const total = state === 'running' ? running.count : state === 'finished' ? finished.count : running.count + finished.count;
  const processSelect = h('select', { id: 'monitor-process', name: 'process' },
    h('option', { value: '' }, t('allProcesses')), defs.map((d) => h('option', { value: d.key }, d.name ?? d.key)));
  processSelect.value = process;
  const stateSelect = h('select', { id: 'monitor-state', name: 'state' },
    (['all', 'running', 'finished'] as const).map((s) => h('option', { value: s }, t(s))));
  stateSelect.value = state;
  const search = h('input', { id: 'monitor-key', name: 'q', value: key, placeholder: t('businessKeySearch') });
  const form = h('form', { class: 'filters', id: 'monitor-filters', onsubmit: (e: SubmitEvent) => {
    e.preventDefault();
    go(withParams({ process: processSelect.value, state: stateSelect.value === 'all' ? '' : stateSelect.value, q: search.value.trim(), first: '' }));
  } }, processSelect, stateSelect, search, h('button', { type: 'submit', class: 'primary', id: 'monitor-search' }, t('search')));
  const summary = h('p', { class: 'summary', id: 'monitor-summary' },
    h('span', { class: 'pill running' }, `${t('running')} `, h('strong', { id: 'count-running' }, String(running.count))), ' ',
    h('span', { class: 'pill finished' }, `${t('finished')} `, h('strong', { id: 'count-finished' }, String(finished.count))));
  const list = rows.length
    ? table('instance-table', [t('businessKeyCol'), t('process'), t('state'), t('startTime'), t('endTime'), t('startedBy')],
      rows.map((r) => [
        link(`/monitor/instance/${r.id}`, { class: 'instance-link' }, r.businessKey ?? r.id.slice(0, 8)),
        `${r.processDefinitionName ?? r.processDefinitionKey} v${r.processDefinitionVersion ?? ''}`,
        h('span', { class: `state state-${r.state}` }, stateLabel(r.state)), when(r.startTime), when(r.endTime), r.startUserId ?? '—',
      ]), (i) => ({ 'data-instance-id': rows[i].id, 'data-state': rows[i].state }))
    : h('p', { class: 'empty', id: 'instances-empty' }, t('noInstances'));
  page('monitor', h('h1', {}, t('monitor')), subnav('instances'), form, summary, list, pager(first, PAGE, total, (f) => go(withParams({ first: f || '' }))));
}

/** Every armed timer the user may see, soonest first; administrators also see the timer starts. */
export async function timersPage(): Promise<void> {
  loading('monitor');
  const [jobs, starts] = await Promise.all([
    api<Job[]>('GET', '/job?maxResults=500') /* soonest first */,
    isAdmin() ? api<JobDefinition[]>('GET', '/job-definition') : Promise.resolve([] as JobDefinition[]),
  ]);
  const names = await Promise.all(jobs.map((j) => definitionName(j.processDefinitionId)));
  const startNames = await Promise.all(starts.map((j) => definitionName(j.processDefinitionId)));
  page('monitor', h('h1', {}, t('monitor')), subnav('timers'),
    h('section', { class: 'card' }, h('h2', {}, t('timerList')),
      jobs.length
        ? table('timer-table', [t('dueAt'), t('process'), t('instance'), t('element')], jobs.map((j, i) => [
          h('strong', {}, when(j.dueDate)), names[i], link(`/monitor/instance/${j.processInstanceId}`, {}, j.processInstanceId.slice(0, 8)),
          h('code', {}, j.jobDefinitionId.slice(j.jobDefinitionId.lastIndexOf(':') + 1)),
        ]), (i) => ({ 'data-job-id': jobs[i].id }))
        : h('p', { class: 'muted' }, t('noTimers'))),
    starts.length ? h('section', { class: 'card' }, h('h2', {}, t('startTimers')),
      table('start-timer-table', [t('nextDue'), t('process'), t('expression')], starts.map((j, i) => [
        h('strong', {}, when(j.nextDueDate)), startNames[i], h('code', {}, j.jobConfiguration),
      ]))) : null);
}

interface VersionRow { id: string; key: string; name: string | null; version: number; deploymentId: string }
interface DeploymentRow { id: string; source: string | null; deploymentTime: string }

/** Where a version came from, as the deployment recorded it (issue 19: the file, the modeler, or an API client's deployment-source). */
function sourceLabel(source: string | null): HTMLElement {
  const known = source === 'processes' ? t('sourceFile') : source === 'web-modeler' ? t('sourceModeler') : null;
  return h('span', { class: `source source-${known ? source : 'api'}`, title: source ?? '' }, known ?? `${t('sourceApi')}${source ? ` (${source})` : ''}`);
}

/** Every version of every process, newest first, with the source of its deployment (office and administrators). */
export async function versionsPage(): Promise<void> {
  loading('monitor');
  const [versions, deployments] = await Promise.all([
    api<VersionRow[]>('GET', '/process-definition?sortBy=key&sortOrder=asc&maxResults=1000'),
    api<DeploymentRow[]>('GET', '/deployment?maxResults=1000'),
  ]);
  const byId = new Map(deployments.map((d) => [d.id, d]));
  const rows = [...versions].sort((a, b) => a.key.localeCompare(b.key) || b.version - a.version);
  page('monitor', h('h1', {}, t('monitor')), subnav('versions'),
    h('section', { class: 'card' }, h('h2', {}, t('versions')),
      rows.length
        ? table('version-table', [t('process'), t('versionCol'), t('sourceCol'), t('deployedAt')], rows.map((v) => [
          v.name ?? v.key, `v${v.version}`, sourceLabel(byId.get(v.deploymentId)?.source ?? null), when(byId.get(v.deploymentId)?.deploymentTime ?? null),
        ]), (i) => ({ 'data-definition-id': rows[i].id, 'data-key': rows[i].key, 'data-version': String(rows[i].version) }))
        : h('p', { class: 'muted' }, t('noVersions'))));
}
