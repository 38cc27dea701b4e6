import { api, qs, type ChainReport, type TraceEntry } from '../api.ts';
import { h } from '../dom.ts';
import { t } from '../i18n.ts';
import { errorText, go, link, loading, page, pager, param, withParams } from '../shell.ts';
import { table, when } from '../widgets.ts';

const PAGE = 50;

/** A date input's value (a day in Asia/Shanghai) as the start of that day, or its end. */
function dayBound(day: string, end: boolean): string | undefined {
  return /^\d{4}-\d{2}-\d{2}$/.test(day) ? `${day}T${end ? '23:59:59.999' : '00:00:00.000'}+0800` : undefined;
}

function details(e: TraceEntry): string {
  const d = { ...e.details };
  delete d.route;
  const text = JSON.stringify(d);
  return text === '{}' ? String(e.details.route ?? '') : text.length > 160 ? `${text.slice(0, 157)}…` : text;
}

/** The user-operation trace with filters, and the SM3 chain's verification (administrators). */
export async function tracePage(): Promise<void> {
  loading('trace');
  const f = {
    userId: param('user'), operationType: param('op'), entityType: param('entity'), processInstanceId: param('pi'),
    after: param('after'), before: param('before'), reads: param('reads') === 'true',
  };
  const first = Math.max(0, Number(param('first')) || 0);
  const query = {
    userId: f.userId, operationType: f.operationType, entityType: f.entityType, processInstanceId: f.processInstanceId,
    afterTimestamp: dayBound(f.after, false), beforeTimestamp: dayBound(f.before, true),
    // Reads outnumber changes many times over: shown on request, or when asked for by operation.
    reads: f.reads || f.operationType === 'Read' ? undefined : false,
  };
  const [rows, count] = await Promise.all([
    api<TraceEntry[]>('GET', `/history/user-operation${qs({ ...query, sortBy: 'timestamp', sortOrder: 'desc', firstResult: first, maxResults: PAGE })}`),
    api<{ count: number }>('GET', `/history/user-operation/count${qs(query)}`),
  ]);
  const input = (id: string, value: string, placeholder: string, type = 'text') => h('input', { id, name: id, value, placeholder, type, 'aria-label': placeholder });
  const fields = {
    user: input('trace-user', f.userId, t('user')), op: input('trace-op', f.operationType, t('operation')),
    entity: input('trace-entity', f.entityType, t('entity')), pi: input('trace-pi', f.processInstanceId, t('instance')),
    after: input('trace-after', f.after, t('after'), 'date'), before: input('trace-before', f.before, t('before'), 'date'),
  };
  const reads = h('input', { type: 'checkbox', id: 'trace-reads', checked: f.reads });
  const form = h('form', { class: 'filters', id: 'trace-filters', onsubmit: (e: SubmitEvent) => {
    e.preventDefault();
    go(withParams({
      user: fields.user.value.trim(), op: fields.op.value.trim(), entity: fields.entity.value.trim(), pi: fields.pi.value.trim(),
      after: fields.after.value, before: fields.before.value, reads: reads.checked ? 'true' : '', first: '',
    }));
  } }, ...Object.values(fields), h('label', { class: 'check' }, reads, t('includeReads')), h('button', { type: 'submit', class: 'primary', id: 'trace-search' }, t('search')));
  const result = h('div', { id: 'verify-result', role: 'status' });
  const verify = h('button', { type: 'button', class: 'secondary', id: 'verify', onclick: async () => {
    result.className = 'flash';
    result.textContent = t('loading');
    try {
      const r = await api<ChainReport>('GET', '/trace/verify');
      result.className = `flash ${r.ok ? 'flash-ok' : 'flash-error'}`;
      result.textContent = r.ok || !r.broken ? t('chainOk', { rows: r.rows, chains: r.heads.length }) : t('chainBroken', { id: r.broken.id, chain: r.broken.chain, reason: r.broken.reason });
    } catch (err) {
      result.className = 'flash flash-error';
      result.textContent = t('serverError') + errorText(err);
    }
  } }, t('verify'));
  page('trace',
    h('div', { class: 'title-row' }, h('h1', {}, t('trace')), verify),
    result, form,
    rows.length
      ? table('trace-table', [t('when'), t('user'), t('source'), t('operation'), t('entity'), t('instance'), t('details')], rows.map((e) => [
        when(e.timestamp), e.userId, e.source ?? '—', e.operationType, `${e.entityType}${e.entityId ? ` ${e.entityId.slice(0, 12)}` : ''}`,
        e.processInstanceId ? link(`/monitor/instance/${e.processInstanceId}`, {}, e.processInstanceId.slice(0, 8)) : '—', h('code', { class: 'trace-details' }, details(e)),
      ]), (i) => ({ 'data-trace-id': rows[i].id, 'data-operation': rows[i].operationType }))
      : h('p', { class: 'empty', id: 'trace-empty' }, t('noTrace')),
    pager(first, PAGE, count.count, (n) => go(withParams({ first: n || '' }))));
}
