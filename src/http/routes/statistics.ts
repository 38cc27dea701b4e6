import Router from '@koa/router';
import type { Context } from 'koa';
import type { StatisticsOptions, StatisticsService } from '../../services/statistics.ts';
import type { DurationFigures, PeriodUnit } from '../../store/reports.ts';
import { ValidationError } from '../../errors.ts';
import { principalOf } from '../auth.ts';
import { queryOf, type Params } from '../params.ts';
import { definitionDto } from './definitions.ts';

/**
 * Camunda's failedJobs / incidents / incidentsForType / rootIncidents. Every
 * incident here is its own root cause (no incident chains), so rootIncidents
 * counts what incidents counts.
 */
function statisticsOptions(q: Params): StatisticsOptions {
  const [incidents, type, roots] = [q.bool('incidents'), q.string('incidentsForType'), q.bool('rootIncidents')];
  const given = [incidents !== undefined && 'incidents', type !== undefined && 'incidentsForType', roots !== undefined && 'rootIncidents'].filter(Boolean);
  if (given.length > 1) {
    throw new ValidationError(`只能给出 incidents、incidentsForType、rootIncidents 之一 / Only one of ${given.join(', ')} can be set to include incidents`);
  }
  return { failedJobs: q.bool('failedJobs') === true, incidents: { include: incidents === true || roots === true || type !== undefined, type } };
}

/** Camunda accepts the period unit in either case (its enum is upper case). */
function periodUnitOf(q: Params, required: boolean): PeriodUnit | undefined {
  const v = q.string('periodUnit');
  if (v === undefined) {
    if (required) throw new ValidationError('缺少参数 periodUnit / parameter periodUnit is required (month or quarter)');
    return undefined;
  }
  const unit = v.toUpperCase();
  if (unit !== 'MONTH' && unit !== 'QUARTER') throw new ValidationError(`参数 periodUnit 必须是 month 或 quarter / parameter periodUnit must be month or quarter, got "${v}"`);
  return unit;
}

const durationDto = (unit: PeriodUnit) => (r: DurationFigures) => ({ period: r.period, periodUnit: unit, maximum: r.maximum, minimum: r.minimum, average: r.average });

/** Camunda's CSV form of a duration report, for a client that asks for it by Accept. */
function answerDurations(ctx: Context, unit: PeriodUnit, rows: DurationFigures[]): void {
  const type = ctx.accepts('application/json', 'application/csv', 'text/csv');
  if (type === 'application/csv' || type === 'text/csv') {
    ctx.type = type;
    ctx.body = ['PERIOD,PERIOD_UNIT,MAXIMUM,MINIMUM,AVERAGE', ...rows.map((r) => `${r.period},${unit},${r.maximum},${r.minimum},${r.average}`)].join('\n');
    return;
  }
  ctx.body = rows.map(durationDto(unit));
}

const reportTypeOf = (q: Params, allowed: readonly string[]) => {
  const type = q.string('reportType');
  if (!type) throw new ValidationError(`缺少参数 reportType / parameter reportType is required (${allowed.join(' or ')})`);
  return q.oneOf('reportType', allowed);
};

/**
 * Monitors' figures: `/process-definition/statistics`, per-activity
 * statistics (runtime and history) and the duration and count reports.
 * Mounted before the definition and history routes, whose `:id` would take
 * `statistics` and `report` for ids.
 */
export function makeStatisticsRoutes(deps: { statistics: StatisticsService }): Router {
  const router = new Router();
  const s = deps.statistics;
  router.get('/process-definition/statistics', async (ctx) => {
    const rows = await s.definitions(statisticsOptions(queryOf(ctx)), principalOf(ctx));
    ctx.body = rows.map((r) => ({
      '@class': 'org.camunda.bpm.engine.rest.dto.repository.ProcessDefinitionStatisticsResultDto',
      id: r.definition.id, instances: r.instances, failedJobs: r.failedJobs, definition: definitionDto(r.definition), incidents: r.incidents,
    }));
  });
  const activities = async (ctx: Context, id: string) => {
    const rows = await s.activities(id, statisticsOptions(queryOf(ctx)), principalOf(ctx));
    ctx.body = rows.map((r) => ({ '@class': 'org.camunda.bpm.engine.rest.dto.repository.ActivityStatisticsResultDto', ...r }));
  };
  router.get('/process-definition/key/:key/statistics', async (ctx) => activities(ctx, await s.latestId(ctx.params.key)));
  router.get('/process-definition/:id/statistics', async (ctx) => activities(ctx, ctx.params.id));

  router.get('/history/process-definition/:id/statistics', async (ctx) => {
    const q = queryOf(ctx);
    const sorting = q.sorting({ activityId: 'activity_id' });
    ctx.body = await s.historicActivities({
      definitionId: ctx.params.id, finished: q.bool('finished') === true, canceled: q.bool('canceled') === true,
      completeScope: q.bool('completeScope') === true, incidents: q.bool('incidents') === true,
      startedBefore: q.date('startedBefore'), startedAfter: q.date('startedAfter'),
      finishedBefore: q.date('finishedBefore'), finishedAfter: q.date('finishedAfter'),
      processInstanceIds: q.list('processInstanceIdIn'), order: sorting?.[0]?.order ?? 'asc',
    }, principalOf(ctx));
  });

  router.get('/history/process-instance/report', async (ctx) => {
    const q = queryOf(ctx);
    reportTypeOf(q, ['duration'] as const);
    const unit = periodUnitOf(q, true)!;
    const rows = await s.instanceDurationReport({
      unit, definitionIds: q.list('processDefinitionIdIn'), definitionKeys: q.list('processDefinitionKeyIn'),
      startedBefore: q.date('startedBefore'), startedAfter: q.date('startedAfter'),
    }, principalOf(ctx));
    answerDurations(ctx, unit, rows);
  });

  router.get('/history/task/report', async (ctx) => {
    const q = queryOf(ctx);
    const type = reportTypeOf(q, ['duration', 'count'] as const);
    const range = { completedBefore: q.date('completedBefore'), completedAfter: q.date('completedAfter') };
    if (type === 'duration') {
      const unit = periodUnitOf(q, true)!;
      ctx.body = (await s.taskDurationReport({ ...range, unit }, principalOf(ctx))).map(durationDto(unit));
      return;
    }
    const groupBy = q.oneOf('groupBy', ['taskName', 'processDefinition'] as const);
    if (!groupBy) throw new ValidationError('reportType=count 时必须给出 groupBy / parameter groupBy is required for reportType count (taskName or processDefinition)');
    const rows = await s.taskCountReport(range, groupBy, principalOf(ctx));
    ctx.body = rows.map((r) => ({
      taskName: r.task_name, processDefinitionId: r.definition_id, processDefinitionKey: r.definition_key,
      processDefinitionName: r.definition_name, count: r.count, tenantId: null,
    }));
  });
  return router;
}
