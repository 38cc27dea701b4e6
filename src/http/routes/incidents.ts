import Router from '@koa/router';
import type { Context } from 'koa';
import type { IncidentService } from '../../services/incidents.ts';
import type { IncidentRow } from '../../store/incidents.ts';
import { principalOf } from '../auth.ts';
import { formatDate } from '../format.ts';
import { ValidationError } from '../../errors.ts';
import { bodyObject, queryOf } from '../params.ts';

/** Camunda's IncidentDto (also the answer of POST /execution/{id}/create-incident). */
export const incidentDto = (i: IncidentRow) => ({
  id: i.id, processDefinitionId: i.definition_id, processInstanceId: i.process_instance_id, executionId: i.execution_id ?? null,
  incidentTimestamp: formatDate(i.created_at), incidentType: i.incident_type, activityId: i.activity_id, failedActivityId: i.activity_id,
  causeIncidentId: i.id, rootCauseIncidentId: i.id, configuration: i.configuration, incidentMessage: i.message, tenantId: null,
  jobDefinitionId: null, annotation: i.annotation ?? null,
});

/** `/incident` (open ones) and `/history/incident` (all, with end time and state). */
export function makeIncidentRoutes(deps: { incidents: IncidentService }): Router {
  const router = new Router();
  const filter = (ctx: Context) => {
    const q = queryOf(ctx);
    return {
      id: q.string('incidentId'), processInstanceId: q.string('processInstanceId'), incidentType: q.string('incidentType'),
      configuration: q.string('configuration'), firstResult: q.int('firstResult'), maxResults: q.int('maxResults'),
    };
  };
  router.get('/incident', async (ctx) => {
    ctx.body = (await deps.incidents.list({ ...filter(ctx), open: true }, principalOf(ctx))).map(incidentDto);
  });
  router.get('/incident/count', async (ctx) => {
    const { firstResult: _f, maxResults: _m, ...rest } = filter(ctx);
    ctx.body = { count: await deps.incidents.count({ ...rest, open: true }, principalOf(ctx)) };
  });
  router.get('/incident/:id', async (ctx) => {
    ctx.body = incidentDto(await deps.incidents.get(ctx.params.id, principalOf(ctx)));
  });
  router.delete('/incident/:id', async (ctx) => {
    await deps.incidents.resolve(ctx.params.id, principalOf(ctx));
    ctx.status = 204;
  });
  router.put('/incident/:id/annotation', async (ctx) => {
    const { annotation } = bodyObject(ctx);
    if (typeof annotation !== 'string') throw new ValidationError('annotation 必须是字符串 / annotation must be a string');
    await deps.incidents.setAnnotation(ctx.params.id, annotation, principalOf(ctx));
    ctx.status = 204;
  });
  router.delete('/incident/:id/annotation', async (ctx) => {
    await deps.incidents.clearAnnotation(ctx.params.id, principalOf(ctx));
    ctx.status = 204;
  });
  // Camunda's open, resolved and deleted: each set to true restricts to incidents in that state (resolved is not deleted).
  const historicStates = (ctx: Context) => {
    const q = queryOf(ctx);
    const wanted = (['open', 'resolved', 'deleted'] as const).filter((state) => q.bool(state) === true);
    return wanted.length ? [...wanted] : undefined;
  };
  // Registered before /history/incident's list so the count is not read as a list.
  router.get('/history/incident/count', async (ctx) => {
    const { firstResult: _f, maxResults: _m, ...rest } = filter(ctx);
    ctx.body = { count: await deps.incidents.count({ ...rest, requiredStates: historicStates(ctx) }, principalOf(ctx)) };
  });
  router.get('/history/incident', async (ctx) => {
    ctx.body = (await deps.incidents.list({ ...filter(ctx), requiredStates: historicStates(ctx) }, principalOf(ctx))).map((i) => ({
      ...incidentDto(i), createTime: formatDate(i.created_at), endTime: formatDate(i.end_time),
      open: i.state === 'open', resolved: i.state === 'resolved', deleted: i.state === 'deleted', removalTime: null,
    }));
  });
  return router;
}
