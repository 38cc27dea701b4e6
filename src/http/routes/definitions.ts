import Router, { type RouterContext } from '@koa/router';
import type { DefinitionService } from '../../services/definitions.ts';
import type { InstanceService } from '../../services/instances.ts';
import { parseVariables } from '../../services/variables.ts';
import type { DefinitionSummary } from '../../store/definitions.ts';
import { principalOf } from '../auth.ts';
import { bodyObject, queryOf } from '../params.ts';
import { instanceDto } from './instances.ts';

export function definitionDto(d: DefinitionSummary) {
  return {
    id: d.id, key: d.key, category: 'http://bpmn.io/schema/bpmn', description: d.description, name: d.name, version: d.version,
    resource: d.resource_name, deploymentId: d.deployment_id, diagram: null, suspended: false, tenantId: d.tenant_id,
    versionTag: d.version_tag, historyTimeToLive: d.history_ttl, startableInTasklist: d.startable,
  };
}

/** `/process-definition`: list, get, start. */
export function makeDefinitionRoutes(deps: { definitions: DefinitionService; instances: InstanceService }): Router {
  const router = new Router();
  router.get('/process-definition', async (ctx) => {
    const q = queryOf(ctx);
    const rows = await deps.definitions.list({ key: q.string('key'), latestVersion: q.bool('latestVersion'), deploymentId: q.string('deploymentId') });
    const first = q.int('firstResult') ?? 0;
    const max = q.int('maxResults');
    ctx.body = rows.slice(first, max == null ? undefined : first + max).map(definitionDto);
  });
  router.get('/process-definition/count', async (ctx) => {
    const q = queryOf(ctx);
    const rows = await deps.definitions.list({ key: q.string('key'), latestVersion: q.bool('latestVersion'), deploymentId: q.string('deploymentId') });
    ctx.body = { count: rows.length };
  });
  router.get('/process-definition/key/:key', async (ctx) => {
    ctx.body = definitionDto(await deps.definitions.getLatest(ctx.params.key));
  });
  router.get('/process-definition/:id', async (ctx) => {
    ctx.body = definitionDto(await deps.definitions.get(ctx.params.id));
  });

  const start = (byKey: boolean) => async (ctx: RouterContext) => {
    const body = bodyObject(ctx);
    const input = { businessKey: body.businessKey as string | undefined, variables: parseVariables(body.variables), returnVariables: body.withVariablesInReturn === true };
    const principal = principalOf(ctx);
    const started = byKey
      ? await deps.instances.startByKey(ctx.params.key, input, principal)
      : await deps.instances.start(ctx.params.id, input, principal);
    ctx.body = instanceDto(started.instance, ctx, body.withVariablesInReturn === true ? started.variables : undefined);
  };
  router.post('/process-definition/key/:key/start', start(true));
  router.post('/process-definition/:id/start', start(false));
  return router;
}
