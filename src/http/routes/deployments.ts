import Router from '@koa/router';
import type { Context } from 'koa';
import { ValidationError } from '../../errors.ts';
import type { DeployedDecisions } from '../../services/decision-deployments.ts';
import type { DeploymentService } from '../../services/deployments.ts';
import { assertAdmin } from '../../services/instances.ts';
import type { DefinitionSummary } from '../../store/definitions.ts';
import type { DeploymentRow } from '../../store/deployments.ts';
import { principalOf } from '../auth.ts';
import { formatDate } from '../format.ts';
import { readMultipart } from '../multipart.ts';
import { bodyObject, queryOf, sortingOf } from '../params.ts';
import { decisionDto, requirementsDto } from './decisions.ts';
import { definitionDto } from './definitions.ts';

/** Form parts of `POST /deployment/create` that are settings, not resources. */
const settingParts = new Set(['deployment-name', 'deployment-source', 'enable-duplicate-filtering', 'deploy-changed-only', 'tenant-id', 'deployment-activation-time']);
const MAX_RESOURCE_BYTES = 10 * 1024 * 1024;

/** Camunda's map of id → definition, or null when there are none. */
const byId = <T extends { id: string }, D>(rows: T[], dto: (row: T) => D) => (rows.length ? Object.fromEntries(rows.map((x) => [x.id, dto(x)])) : null);

function deploymentDto(d: DeploymentRow, ctx: Context, definitions?: DefinitionSummary[], decisions?: DeployedDecisions) {
  return {
    links: [{ method: 'GET', href: `${ctx.protocol}://${ctx.host}/engine-rest/deployment/${d.id}`, rel: 'self' }],
    id: d.id, name: d.name, source: d.source, deploymentTime: formatDate(d.deploy_time), tenantId: d.tenant_id,
    ...(definitions
      ? {
        deployedProcessDefinitions: byId(definitions, definitionDto),
        deployedCaseDefinitions: null,
        deployedDecisionDefinitions: byId([...decisions?.decisions ?? [], ...decisions?.unchangedDecisions ?? []], decisionDto),
        deployedDecisionRequirementsDefinitions: byId([...decisions?.requirements ?? [], ...decisions?.unchangedRequirements ?? []], requirementsDto),
      }
      : {}),
  };
}

const flag = (value: string | undefined, name: string) => {
  if (value == null || value === '') return false;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new ValidationError(`${name} 必须是 true 或 false / ${name} must be true or false`);
};

/**
 * As Camunda sends it: a plain `filename` for clients that read only that (non-ASCII
 * and quoting characters replaced), and the exact name as RFC 6266's `filename*`.
 */
function attachment(name: string): string {
  const plain = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const exact = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${plain}"; filename*=UTF-8''${exact}`;
}

/** `/deployment`: Camunda Modeler's deploy button and the repository view. */
export function makeDeploymentRoutes(deps: { deployments: DeploymentService }): Router {
  const router = new Router();

  router.post('/deployment/create', async (ctx) => {
    assertAdmin(principalOf(ctx));
    const { fields, files } = await readMultipart(ctx, { fileSize: MAX_RESOURCE_BYTES, files: 100 });
    const resources = files.filter((f) => !settingParts.has(f.field)).map((f) => ({ name: f.name, bytes: f.bytes }));
    const names = resources.map((r) => r.name);
    const repeated = names.find((n, i) => names.indexOf(n) !== i);
    if (repeated) throw new ValidationError(`资源名重复 / resource name ${repeated} appears twice in one deployment`);
    const changedOnly = flag(fields['deploy-changed-only'], 'deploy-changed-only');
    const filtering = flag(fields['enable-duplicate-filtering'], 'enable-duplicate-filtering');
    const result = await deps.deployments.deploy({
      name: fields['deployment-name'] || null,
      source: fields['deployment-source'] || null,
      tenantId: fields['tenant-id'] || null,
      // Camunda: deploy-changed-only implies duplicate filtering.
      duplicateFiltering: changedOnly || filtering,
      changedOnly,
      resources,
      actor: principalOf(ctx),
    });
    ctx.body = {
      ...deploymentDto(result.deployment, ctx, [...result.definitions, ...result.unchanged], result.decisions),
      // Not in Camunda 7's answer (it only logs them): an added field that Camunda clients ignore, in the
      // shape of a ParseException's problems, so a client reads warnings as it reads refusals.
      ...(Object.keys(result.warnings).length ? { deploymentWarnings: result.warnings } : {}),
    };
  });

  router.post('/deployment/:id/redeploy', async (ctx) => {
    assertAdmin(principalOf(ctx));
    const body = bodyObject(ctx);
    const texts = (name: string): string[] => {
      const v = body[name] ?? [];
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new ValidationError(`${name} 必须是文本数组 / ${name} must be an array of strings`, { field: name });
      return v as string[];
    };
    if (body.source != null && typeof body.source !== 'string') throw new ValidationError('source 必须是文本 / source must be a string', { field: 'source' });
    const unknown = Object.keys(body).filter((k) => !['resourceIds', 'resourceNames', 'source'].includes(k));
    if (unknown.length) throw new ValidationError(`不支持的字段 / not supported here: ${unknown.join(', ')}`, { unsupported: unknown });
    const result = await deps.deployments.redeploy(ctx.params.id, { resourceIds: texts('resourceIds'), resourceNames: texts('resourceNames'), source: (body.source as string | undefined) ?? null }, principalOf(ctx));
    ctx.body = deploymentDto(result.deployment, ctx, [...result.definitions, ...result.unchanged], result.decisions);
  });

  const filter = (ctx: Context) => {
    const q = queryOf(ctx);
    return {
      id: q.string('id'), name: q.string('name'), nameLike: q.string('nameLike'), source: q.string('source'),
      sorting: sortingOf(ctx, { id: 'id', name: 'name', deploymentTime: 'deploy_time' }) as never,
      firstResult: q.int('firstResult'), maxResults: q.int('maxResults'),
    };
  };
  router.get('/deployment', async (ctx) => {
    ctx.body = (await deps.deployments.list(filter(ctx))).map((d) => deploymentDto(d, ctx));
  });
  router.get('/deployment/count', async (ctx) => {
    ctx.body = { count: await deps.deployments.count(filter(ctx)) };
  });
  router.get('/deployment/:id', async (ctx) => {
    ctx.body = deploymentDto(await deps.deployments.get(ctx.params.id), ctx);
  });
  router.get('/deployment/:id/resources', async (ctx) => {
    const rows = await deps.deployments.resources(ctx.params.id);
    ctx.body = rows.map((r) => ({ id: r.id, name: r.name, deploymentId: ctx.params.id }));
  });
  router.get('/deployment/:id/resources/:resourceId', async (ctx) => {
    const r = await deps.deployments.resource(ctx.params.id, ctx.params.resourceId);
    ctx.body = { id: r.id, name: r.name, deploymentId: r.deployment_id };
  });
  router.get('/deployment/:id/resources/:resourceId/data', async (ctx) => {
    const r = await deps.deployments.resource(ctx.params.id, ctx.params.resourceId);
    ctx.set('Content-Disposition', attachment(r.name));
    ctx.type = /\.(bpmn|xml|dmn|cmmn)$/i.test(r.name) ? 'application/xml' : 'application/octet-stream';
    ctx.body = Buffer.from(r.bytes);
  });
  router.delete('/deployment/:id', async (ctx) => {
    assertAdmin(principalOf(ctx));
    await deps.deployments.remove(ctx.params.id, queryOf(ctx).bool('cascade') ?? false, principalOf(ctx));
    ctx.status = 204;
  });
  return router;
}
