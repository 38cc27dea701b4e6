import Router, { type RouterContext } from '@koa/router';
import type { Context } from 'koa';
import type { DefinitionService } from '../../services/definitions.ts';
import { startableBy, type InstanceService } from '../../services/instances.ts';
import { parseVariables } from '../../services/variables.ts';
import { definitionSortColumns, type DefinitionQuery, type DefinitionSummary } from '../../store/definitions.ts';
import { principalOf } from '../auth.ts';
import { formVariablesDto } from '../form-variables.ts';
import { returnsVariables } from '../read-trace.ts';
import { ValidationError } from '../../errors.ts';
import { bodyObject, queryOf, sortingOf } from '../params.ts';
import { instanceDto } from './instances.ts';
import { suspensionFilterOf } from '../suspension-filter.ts';

export function definitionDto(d: DefinitionSummary) {
  return {
    id: d.id, key: d.key, category: 'http://bpmn.io/schema/bpmn', description: d.description, name: d.name, version: d.version,
    resource: d.resource_name, deploymentId: d.deployment_id, diagram: null, suspended: d.suspended === true, tenantId: d.tenant_id,
    versionTag: d.version_tag, historyTimeToLive: d.history_ttl, startableInTasklist: d.startable,
  };
}

/** `/process-definition`: list, get, start. */
export function makeDefinitionRoutes(deps: { definitions: DefinitionService; instances: InstanceService }): Router {
  const router = new Router();
  const filter = (ctx: Context): DefinitionQuery => {
    const q = queryOf(ctx);
    return {
      id: q.string('processDefinitionId'), key: q.string('key'), keys: q.list('keysIn'), keyLike: q.string('keyLike'),
      name: q.string('name'), nameLike: q.string('nameLike'), version: q.int('version', 1), versionTag: q.string('versionTag'),
      suspended: suspensionFilterOf(q.bool('active'), q.bool('suspended')),
      latestVersion: q.bool('latestVersion'), deploymentId: q.string('deploymentId'), startableInTasklist: q.bool('startableInTasklist'),
      // Camunda's startablePermissionCheck: only what the caller may start.
      startableBy: q.bool('startablePermissionCheck') ? startableBy(principalOf(ctx)) : undefined,
      sorting: sortingOf(ctx, definitionSortColumns) as DefinitionQuery['sorting'],
      firstResult: q.int('firstResult'), maxResults: q.int('maxResults'),
    };
  };
  router.get('/process-definition', async (ctx) => {
    ctx.body = (await deps.definitions.list(filter(ctx))).map(definitionDto);
  });
  router.get('/process-definition/count', async (ctx) => {
    const { firstResult: _f, maxResults: _m, sorting: _s, ...rest } = filter(ctx);
    ctx.body = { count: await deps.definitions.count(rest) };
  });
  router.get('/process-definition/key/:key/xml', async (ctx) => {
    const latest = await deps.definitions.getLatest(ctx.params.key);
    ctx.body = { id: latest.id, bpmn20Xml: await deps.definitions.xml(latest.id) };
  });
  router.get('/process-definition/:id/xml', async (ctx) => {
    ctx.body = { id: ctx.params.id, bpmn20Xml: await deps.definitions.xml(ctx.params.id) };
  });
  // The start form (Camunda's form-variables): 403 for a caller who may not start the process.
  const startForm = async (ctx: RouterContext, id: string) => {
    ctx.body = formVariablesDto(await deps.instances.startForm(id, principalOf(ctx)), {}, queryOf(ctx).list('variableNames'));
  };
  router.get('/process-definition/key/:key/form-variables', async (ctx) => startForm(ctx, (await deps.definitions.getLatest(ctx.params.key)).id));
  router.get('/process-definition/:id/form-variables', async (ctx) => startForm(ctx, ctx.params.id));
  router.get('/process-definition/key/:key', async (ctx) => {
    ctx.body = definitionDto(await deps.definitions.getLatest(ctx.params.key));
  });
  router.get('/process-definition/:id', async (ctx) => {
    ctx.body = definitionDto(await deps.definitions.get(ctx.params.id));
  });

  const start = (byKey: boolean) => async (ctx: RouterContext) => {
    const body = bodyObject(ctx);
    refuseUnhonouredStart(body);
    const input = { businessKey: body.businessKey as string | undefined, variables: parseVariables(body.variables), returnVariables: body.withVariablesInReturn === true };
    const principal = principalOf(ctx);
    const started = byKey
      ? await deps.instances.startByKey(ctx.params.key, input, principal)
      : await deps.instances.start(ctx.params.id, input, principal);
    ctx.body = instanceDto(started.instance, ctx, body.withVariablesInReturn === true ? started.variables : undefined);
    if (body.withVariablesInReturn === true && started.variables) returnsVariables(ctx, started.variables, started.instance.id);
  };
  router.post('/process-definition/key/:key/start', start(true));
  router.post('/process-definition/:id/start', start(false));
  return router;
}

/** What POST …/start reads; `skipCustomListeners` and `skipIoMappings` only as false (their default). */
const START_KEYS = new Set(['businessKey', 'variables', 'withVariablesInReturn', 'skipCustomListeners', 'skipIoMappings']);

/**
 * Camunda starts at chosen activities with `startInstructions` and may skip listeners and
 * input/output mappings; this server starts every instance at its start event with both run.
 * Such a request is refused, naming the field, rather than run differently; so is any field
 * Camunda does not have (a misspelt `businesKey` would otherwise start an instance without one).
 */
function refuseUnhonouredStart(body: Record<string, unknown>): void {
  if (Array.isArray(body.startInstructions) && body.startInstructions.length) {
    throw new ValidationError('不支持 startInstructions：实例总是从开始事件启动 / startInstructions are not supported: an instance always starts at its start event', { field: 'startInstructions' });
  }
  for (const flag of ['skipCustomListeners', 'skipIoMappings']) {
    if (body[flag] != null && body[flag] !== false) throw new ValidationError(`不支持 ${flag}=true / ${flag}=true is not supported: listeners and mappings always run`, { field: flag });
  }
  if (body.caseInstanceId != null) throw new ValidationError('不支持 CMMN 案例实例 / caseInstanceId: this server has no CMMN', { field: 'caseInstanceId' });
  const unknown = Object.keys(body).filter((k) => body[k] != null && !START_KEYS.has(k) && !['startInstructions', 'caseInstanceId'].includes(k));
  if (unknown.length) throw new ValidationError(`不支持的字段 / fields not supported here: ${unknown.join(', ')}`, { unsupported: unknown });
}
