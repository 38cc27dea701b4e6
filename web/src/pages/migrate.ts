import { api, qs, type Definition } from '../api.ts';
import { definitions } from '../definitions.ts';
import { h } from '../dom.ts';
import { t } from '../i18n.ts';
import { go, link, loading, page, param, rerender, withParams } from '../shell.ts';
import { table } from '../widgets.ts';

interface Instruction { sourceActivityIds: string[]; targetActivityIds: string[]; updateEventTrigger: boolean }
interface Plan { sourceProcessDefinitionId: string; targetProcessDefinitionId: string; instructions: Instruction[] }
interface InstanceReport {
  processInstanceId: string;
  failures: string[];
  activityInstanceValidationReports: { sourceScopeId: string; failures: string[] }[];
}
interface Validation {
  instructionReports: { instruction: Instruction; failures: string[] }[];
  failures?: string[];
  processInstanceReports?: InstanceReport[];
}
interface BatchStats { id: string; totalJobs: number; remainingJobs: number; completedJobs: number; failedJobs: number }
interface HistoricBatch { id: string; totalJobs: number; endTime: string | null }

const tabs = () => h('div', { class: 'tabs' },
  link('/monitor', { id: 'tab-instances' }, t('instances')),
  link('/monitor/timers', { id: 'tab-timers' }, t('timerList')),
  link('/monitor/migrate', { class: 'active', id: 'tab-migrate' }, t('migrate')));

const versionLabel = (d: Definition) => `v${d.version} (${d.id.slice(0, 24)})`;

/**
 * 迁移实例 / Migrate instances (administrators): choose a process and two
 * of its versions, review the generated mapping and what cannot be
 * migrated, run the migration as a batch, and follow the batch.
 */
export async function migratePage(): Promise<void> {
  loading('monitor');
  const batchId = param('batch');
  if (batchId) return batchView(batchId);
  const all = await definitions();
  const keys = [...new Set(all.map((d) => d.key))].sort();
  const key = keys.includes(param('key')) ? param('key') : '';
  const versions = all.filter((d) => d.key === key).sort((a, b) => a.version - b.version);
  const source = versions.find((d) => d.id === param('source')) ?? versions.at(-2);
  const target = versions.find((d) => d.id === param('target')) ?? versions.at(-1);
  const select = (id: string, options: [string, string][], value: string | undefined, onchange: (v: string) => void) => {
    const el = h('select', { id, onchange: () => onchange(el.value) }, h('option', { value: '' }, '—'), options.map(([v, label]) => h('option', { value: v }, label)));
    el.value = value ?? '';
    return el;
  };
  const form = h('div', { class: 'filters', id: 'migrate-form' },
    h('label', {}, t('chooseProcess'), ' ', select('migrate-key', keys.map((k) => [k, all.find((d) => d.key === k)?.name ?? k]), key, (v) => go(withParams({ key: v, source: '', target: '' })))),
    h('label', {}, t('sourceVersion'), ' ', select('migrate-source', versions.map((d) => [d.id, versionLabel(d)]), source?.id, (v) => go(withParams({ source: v })))),
    h('label', {}, t('targetVersion'), ' ', select('migrate-target', versions.map((d) => [d.id, versionLabel(d)]), target?.id, (v) => go(withParams({ target: v })))));
  const body = source && target ? (source.id === target.id ? h('p', { class: 'muted', id: 'migrate-same' }, t('sameVersion')) : await review(source, target)) : null;
  page('monitor', h('h1', {}, t('migrateTitle')), tabs(), form, body);
}

/** The generated mapping, the validation of the plan and of each running instance, and the button that starts the batch. */
async function review(source: Definition, target: Definition): Promise<HTMLElement> {
  const plan = await api<Plan>('POST', '/migration/generate', { sourceProcessDefinitionId: source.id, targetProcessDefinitionId: target.id });
  const running = (await api<{ id: string; definitionId: string }[]>('GET', `/process-instance${qs({ processDefinitionKey: source.key })}`))
    .filter((i) => i.definitionId === source.id).map((i) => i.id);
  const validation = await api<Validation>('POST', '/migration/validate', { migrationPlan: plan, ...(running.length ? { processInstanceIds: running } : {}) });
  const refused = new Set((validation.processInstanceReports ?? []).map((r) => r.processInstanceId));
  const planFailures = [...(validation.failures ?? []), ...validation.instructionReports.flatMap((r) => r.failures)];
  const movable = planFailures.length ? [] : running.filter((id) => !refused.has(id));
  const mapping = plan.instructions.length
    ? table('migration-plan', [t('mappingCol')], plan.instructions.map((i) => [h('code', {}, `${i.sourceActivityIds[0]} → ${i.targetActivityIds[0]}`)]))
    : h('p', { class: 'muted', id: 'migration-no-mapping' }, t('noMapping'));
  const problems = h('section', { class: 'card', id: 'migration-validation' },
    planFailures.length ? h('ul', { class: 'flash flash-error', id: 'migration-plan-failures' }, planFailures.map((f) => h('li', {}, f)))
      : h('p', { class: 'ok', id: 'migration-plan-valid' }, t('planValid')),
    h('p', { id: 'migration-counts' }, t('runningOnSource', { n: running.length }), '；', h('strong', { id: 'migration-movable' }, t('migratable', { n: movable.length }))),
    refused.size ? h('div', {}, h('h3', {}, t('refusedInstances')), table('migration-refused', [t('instance'), t('details')],
      (validation.processInstanceReports ?? []).map((r) => [
        link(`/monitor/instance/${r.processInstanceId}`, {}, r.processInstanceId.slice(0, 8)),
        [...r.failures, ...r.activityInstanceValidationReports.flatMap((a) => a.failures)].join('；'),
      ]), (i) => ({ 'data-instance-id': validation.processInstanceReports![i].processInstanceId }))) : null);
  const run = h('button', { type: 'button', class: 'primary', id: 'migration-run', disabled: movable.length === 0, onclick: async () => {
    run.disabled = true;
    const batch = await api<{ id: string }>('POST', '/migration/executeAsync', { migrationPlan: plan, processInstanceIds: movable });
    go(`/monitor/migrate${qs({ batch: batch.id })}`);
  } }, t('migrateRun', { n: movable.length }));
  return h('div', {}, h('section', { class: 'card' }, mapping), problems, run);
}

/** A batch's progress, read again every second while it runs. */
async function batchView(id: string): Promise<void> {
  const [history, [stats]] = await Promise.all([
    api<HistoricBatch>('GET', `/history/batch/${encodeURIComponent(id)}`),
    api<BatchStats[]>('GET', `/batch/statistics${qs({ batchId: id })}`),
  ]);
  const ended = history.endTime !== null;
  const figure = (label: string, value: number | string, attr: string) => h('span', { class: 'pill' }, `${label} `, h('strong', { id: attr }, String(value)));
  page('monitor', h('h1', {}, t('migrateTitle')), tabs(),
    h('section', { class: 'card', id: 'batch-view', 'data-batch-id': id, 'data-ended': String(ended) },
      h('h2', {}, `${t('batch')} ${id.slice(0, 8)}`),
      h('p', {}, t('batchTotal', { n: history.totalJobs })),
      stats ? h('p', {}, figure(t('batchDone'), stats.completedJobs, 'batch-done'), ' ', figure(t('batchFailed'), stats.failedJobs, 'batch-failed'), ' ',
        figure(t('batchRemaining'), stats.remainingJobs, 'batch-remaining')) : null,
      ended ? h('p', { class: 'ok', id: 'batch-ended' }, t('batchEnded')) : null,
      h('button', { type: 'button', id: 'batch-refresh', onclick: () => go(`/monitor/migrate${qs({ batch: id })}`) }, t('refresh'))));
  if (!ended) {
    window.setTimeout(() => {
      if (location.pathname === '/monitor/migrate' && param('batch') === id) void rerender();
    }, 1000);
  }
}
