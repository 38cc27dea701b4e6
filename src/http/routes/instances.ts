import Router from '@koa/router';
import type { Context } from 'koa';
import { NotFoundError } from '../../errors.ts';
import type { InstanceService } from '../../services/instances.ts';
import { instanceSortColumns, type InstanceRow } from '../../store/instances.ts';

// Camunda's runtime instance list sorts by these; history adds the times.
const { startTime: _s, endTime: _e, ...runtimeSort } = instanceSortColumns;
import type { Variables } from '../../types.ts';
import { principalOf } from '../auth.ts';
import { formatVariables, sendVariableData } from '../format.ts';
import { bodyObject, pagingOf, paramsOf, queryOf, type Params } from '../params.ts';
import { parseModifications, parseVariables } from '../../services/variables.ts';
import { suspensionFilterOf } from '../suspension-filter.ts';

export function instanceDto(i: Omit<InstanceRow, 'engine_state'>, ctx: Context, variables?: Variables) {
  return {
    links: [{ method: 'GET', href: `${ctx.protocol}://${ctx.host}/engine-rest/process-instance/${i.id}`, rel: 'self' }],
    id: i.id, definitionId: i.definition_id, businessKey: i.business_key, caseInstanceId: null,
    ended: i.state !== 'ACTIVE', suspended: i.suspended === true, tenantId: i.tenant_id,
    ...(variables ? { variables: formatVariables(variables) } : {}),
  };
}

/** GET /process-instance's criteria (also the processInstanceQuery of the batch operations, routes/instance-batches.ts). */
export const runtimeInstanceFilter = (q: Params) => ({
  definitionId: q.string('processDefinitionId'), definitionKey: q.string('processDefinitionKey'), businessKey: q.string('businessKey'), businessKeyLike: q.string('businessKeyLike'), ids: q.list('processInstanceIds'),
  superProcessInstance: q.string('superProcessInstance'), subProcessInstance: q.string('subProcessInstance'),
  suspended: suspensionFilterOf(q.bool('active'), q.bool('suspended')),
  state: 'ACTIVE' as const, sorting: q.sorting(runtimeSort),
});

/** `/process-instance`: the runtime view of running instances. */
export function makeInstanceRoutes(deps: { instances: InstanceService }): Router {
  const router = new Router();
  // Camunda's query, from the query string (GET) or its JSON body (POST); paging is always in the query string.
  const filter = (ctx: Context) => paramsOf(ctx, runtimeInstanceFilter);
  const list = async (ctx: Context) => {
    const rows = await deps.instances.list({ ...filter(ctx), ...pagingOf(ctx) }, principalOf(ctx));
    ctx.body = rows.map((r) => instanceDto(r, ctx));
  };
  const count = async (ctx: Context) => {
    const { sorting: _o, ...rest } = filter(ctx);
    ctx.body = { count: await deps.instances.count(rest, principalOf(ctx)) };
  };
  router.get('/process-instance', list).post('/process-instance', list);
  router.get('/process-instance/count', count).post('/process-instance/count', count);
  router.get('/process-instance/:id', async (ctx) => {
    const row = await deps.instances.get(ctx.params.id, principalOf(ctx));
    if (row.state !== 'ACTIVE') throw new NotFoundError(`流程实例已结束 / process instance ${row.id} has ended`);
    ctx.body = instanceDto(row, ctx);
  });
  router.delete('/process-instance/:id', async (ctx) => {
    const q = queryOf(ctx);
    await deps.instances.remove(ctx.params.id, q.string('deleteReason') ?? null, principalOf(ctx), q.bool('skipCustomListeners') === true);
    ctx.status = 204;
  });
  router.get('/process-instance/:id/variables', async (ctx) => {
    ctx.body = formatVariables(await deps.instances.variables(ctx.params.id, principalOf(ctx)));
  });
  router.post('/process-instance/:id/variables', async (ctx) => {
    await deps.instances.modifyVariables(ctx.params.id, parseModifications(bodyObject(ctx)), principalOf(ctx));
    ctx.status = 204;
  });
  router.get('/process-instance/:id/variables/:name', async (ctx) => {
    const variables = formatVariables(await deps.instances.variables(ctx.params.id, principalOf(ctx)));
    const v = variables[ctx.params.name];
    if (!v) throw new NotFoundError(`变量不存在 / process instance ${ctx.params.id} has no variable ${ctx.params.name}`);
    ctx.body = v;
  });
  router.get('/process-instance/:id/variables/:name/data', async (ctx) => {
    sendVariableData(ctx, ctx.params.name, (await deps.instances.variables(ctx.params.id, principalOf(ctx)))[ctx.params.name]);
  });
  router.put('/process-instance/:id/variables/:name', async (ctx) => {
    const modifications = parseVariables({ [ctx.params.name]: bodyObject(ctx) });
    await deps.instances.modifyVariables(ctx.params.id, { modifications, deletions: [] }, principalOf(ctx));
    ctx.status = 204;
  });
  router.delete('/process-instance/:id/variables/:name', async (ctx) => {
    await deps.instances.modifyVariables(ctx.params.id, { modifications: {}, deletions: [ctx.params.name] }, principalOf(ctx));
    ctx.status = 204;
  });
  router.get('/process-instance/:id/activity-instances', async (ctx) => {
    const { instance, open } = await deps.instances.activityTree(ctx.params.id, principalOf(ctx));
    ctx.body = {
      id: instance.id, parentActivityInstanceId: null, activityId: instance.definition_key, activityType: 'processDefinition',
      processInstanceId: instance.id, processDefinitionId: instance.definition_id, executionIds: [instance.id], activityName: null,
      incidentIds: [], incidents: [], childTransitionInstances: [],
      childActivityInstances: open.map((a) => ({
        id: `${a.activity_id}:${a.execution_id}`, parentActivityInstanceId: instance.id, activityId: a.activity_id,
        activityType: a.activity_type, processInstanceId: instance.id, processDefinitionId: instance.definition_id,
        childActivityInstances: [], childTransitionInstances: [], executionIds: [a.execution_id], activityName: a.activity_name,
        incidentIds: [], incidents: [],
      })),
    };
  });
  return router;
}
