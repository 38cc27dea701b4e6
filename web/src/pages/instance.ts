import {
  api, isAdmin, jobActivityId, qs, type HistoricActivity, type HistoricInstance, type HistoricTask, type Incident, type Job,
} from '../api.ts';
import { showDiagram } from '../diagram.ts';
import { h } from '../dom.ts';
import { t } from '../i18n.ts';
import { act, link, loading, page } from '../shell.ts';
import { stateLabel, table, variablesTable, when, type Variables } from '../widgets.ts';
import { isRunning, maySuspend, suspensionControls } from '../suspension.ts';
import { withdrawBox } from './send-back.ts';
import { instanceOperations } from '../approvals.ts';

/** A finished instance's variables come from history, in the runtime shape. */
async function variablesOf(instance: HistoricInstance): Promise<Variables> {
  if (isRunning(instance)) return api<Variables>('GET', `/process-instance/${instance.id}/variables`);
  const rows = await api<(Variables[string] & { name: string })[]>('GET', `/history/variable-instance${qs({ processInstanceId: instance.id })}`);
  return Object.fromEntries(rows.map(({ name, type, value, valueInfo }) => [name, { type, value, valueInfo }]));
}

function historyTable(instance: HistoricInstance, activities: HistoricActivity[], tasks: HistoricTask[]): HTMLElement {
  const byTask = new Map(tasks.map((x) => [x.id, x]));
  // Steps people and the engine took; gateways and flows are the diagram's business.
  const steps = activities.filter((a) => !/Gateway$/i.test(a.activityType))
    .sort((a, b) => a.startTime.localeCompare(b.startTime) || (a.endTime ?? '~').localeCompare(b.endTime ?? '~'));
  return table('history-table', [t('when'), t('activity'), t('who'), t('status')], steps.map((a) => {
    const task = a.taskId ? byTask.get(a.taskId) : undefined;
    // People do user tasks and start instances; everything else is the engine's doing.
    const who = task?.completedBy ?? task?.assignee ?? a.assignee ?? (a.activityType === 'startEvent' ? instance.startUserId : null) ?? '—';
    const status = !a.endTime ? t('statusActive') : a.canceled ? t('statusCanceled') : t('statusDone');
    return [when(a.endTime ?? a.startTime), a.activityName ?? a.activityId, who, h('span', { class: `step-${!a.endTime ? 'active' : a.canceled ? 'canceled' : 'done'}` }, status)];
  }), (i) => ({ 'data-activity-id': steps[i].activityId, 'data-activity-type': steps[i].activityType }));
}

function incidentsBox(incidents: Incident[]): HTMLElement {
  return h('section', { class: 'card', id: 'incidents' }, h('h2', {}, t('incidents')),
    incidents.length
      ? table('incident-table', [t('when'), t('element'), t('details'), ''], incidents.map((x) => [
        when(x.incidentTimestamp), h('code', {}, x.activityId), x.incidentMessage ?? x.incidentType,
        isAdmin() && x.incidentType === 'failedExternalTask' && x.configuration
          ? h('button', { type: 'button', class: 'secondary', 'data-action': 'retry', onclick: () => act(() => api('PUT', `/external-task/${x.configuration}/retries`, { retries: 3 }), t('retried')) }, t('retry'))
          : '',
      ]))
      : h('p', { class: 'muted' }, t('noIncidents')));
}

function timersBox(jobs: Job[], names: Map<string, string>): HTMLElement {
  return h('section', { class: 'card', id: 'timers' }, h('h2', {}, t('timers')),
    jobs.length
      ? table('instance-timer-table', [t('dueAt'), t('element'), ''], jobs.map((j) => [
        h('strong', {}, when(j.dueDate)), names.get(jobActivityId(j)) ?? h('code', {}, jobActivityId(j)),
        h('span', {}, j.exceptionMessage ? h('span', { class: 'field-error' }, j.exceptionMessage) : '',
          isAdmin() && j.exceptionMessage
            ? h('button', { type: 'button', class: 'secondary', 'data-action': 'execute', onclick: () => act(() => api('POST', `/job/${j.id}/execute`), t('retried')) }, t('retry'))
            : ''),
      ]))
      : h('p', { class: 'muted' }, t('noTimers')));
}

/**
 * One instance: the diagram with active and completed elements and timers,
 * history, variables, incidents. From "抄送我的" (`from` = 'copied') it is
 * shown under that section with its way back there; what the reader may not
 * do (terminate, suspend, withdraw) is offered only to those who may.
 */
export async function instancePage(id: string, from: 'monitor' | 'copied' = 'monitor'): Promise<void> {
  const section = from;
  // The monitor is the office's; an initiator came from 我发起的 and goes back there.
  const back = from === 'copied' ? '/copied' : maySuspend() ? '/monitor' : '/?view=started';
  loading(section);
  const [instance] = await api<HistoricInstance[]>('GET', `/history/process-instance${qs({ processInstanceId: id })}`);
  if (!instance) return page(section, h('p', { class: 'flash flash-error', id: 'not-found' }, t('noInstances')), link(back, {}, t('back')));
  const running = isRunning(instance);
  const [xml, activities, tasks, variables, incidents, jobs] = await Promise.all([
    api<{ bpmn20Xml: string }>('GET', `/process-definition/${encodeURIComponent(instance.processDefinitionId)}/xml`),
    api<HistoricActivity[]>('GET', `/history/activity-instance${qs({ processInstanceId: id })}`),
    api<HistoricTask[]>('GET', `/history/task${qs({ processInstanceId: id, maxResults: 500 })}`),
    variablesOf(instance),
    running ? api<Incident[]>('GET', `/incident${qs({ processInstanceId: id })}`) : Promise.resolve([] as Incident[]),
    running ? api<Job[]>('GET', `/job${qs({ processInstanceId: id })}`) : Promise.resolve([] as Job[]),
  ]);
  const suspended = instance.state === 'SUSPENDED';
  const canvas = h('div', { class: 'diagram diagram-wide', id: 'diagram' });
  page(section,
    h('div', { class: 'title-row' }, link(back, { class: 'back' }, `← ${t('back')}`),
      h('h1', {}, `${instance.processDefinitionName ?? instance.processDefinitionKey} ${instance.businessKey ?? ''}`),
      // A suspended instance's state is the 已挂起 badge of its suspension controls.
      suspended ? null : h('span', { class: `state state-${instance.state}`, id: 'instance-state' }, stateLabel(instance.state)),
      from === 'copied' ? h('span', { class: 'badge', id: 'read-only' }, `${t('cc')} · ${t('readOnly')}`) : null,
      running ? suspensionControls(id, suspended) : null,
      h('span', { class: 'muted' }, `${t('startedBy')} ${instance.startUserId ?? '—'} · ${when(instance.startTime)}${instance.endTime ? ` → ${when(instance.endTime)}` : ''}`)),
    instanceOperations(instance),
    h('section', { class: 'card' }, h('h2', {}, t('diagram')),
      h('div', { class: 'legend' }, h('span', { class: 'legend-active' }, t('legendActive')), h('span', { class: 'legend-done' }, t('legendDone')), h('span', { class: 'legend-timer' }, t('legendTimer'))),
      canvas),
    h('div', { class: 'two-columns' },
      h('section', { class: 'card', id: 'history' }, h('h2', {}, t('history')), historyTable(instance, activities, tasks)),
      h('div', { class: 'stack' },
        withdrawBox(instance),
        h('section', { class: 'card' }, h('h2', {}, t('variables')), variablesTable('variables', variables)),
        running ? timersBox(jobs, new Map(activities.map((a) => [a.activityId, a.activityName ?? a.activityId]))) : null,
        running ? incidentsBox(incidents) : null)));
  await showDiagram(canvas, xml.bpmn20Xml, {
    done: activities.filter((a) => a.endTime && !a.canceled).map((a) => a.activityId),
    active: activities.filter((a) => !a.endTime).map((a) => a.activityId),
    timers: jobs.map((j) => ({ elementId: jobActivityId(j), label: when(j.dueDate) })),
  });
}
