import Router, { type RouterContext } from '@koa/router';
import type { Context } from 'koa';
import { diagramMediaType } from '../../services/decision-diagrams.ts';
import type { DecisionService } from '../../services/decisions.ts';
import { parseVariables } from '../../services/variables.ts';
import {
  decisionRequirementsSortColumns, decisionSortColumns, type DecisionDefinitionSummary, type DecisionQuery, type DecisionRequirementsQuery,
  type DecisionRequirementsRow,
} from '../../store/decisions.ts';
import { principalOf } from '../auth.ts';
import { formatVariables } from '../format.ts';
import { bodyObject, queryOf, sortingOf } from '../params.ts';

/** Camunda's DecisionDefinitionDto. */
export function decisionDto(d: DecisionDefinitionSummary) {
  return {
    id: d.id, key: d.key, category: d.category, name: d.name, version: d.version, resource: d.resource_name, deploymentId: d.deployment_id,
    decisionRequirementsDefinitionId: d.decision_requirements_definition_id, decisionRequirementsDefinitionKey: d.decision_requirements_definition_key,
    tenantId: d.tenant_id, versionTag: d.version_tag, historyTimeToLive: d.history_ttl,
  };
}

/** Camunda's DecisionRequirementsDefinitionDto. */
export function requirementsDto(d: DecisionRequirementsRow) {
  return { id: d.id, key: d.key, category: d.category, name: d.name, version: d.version, resource: d.resource_name, deploymentId: d.deployment_id, tenantId: d.tenant_id };
}

/**
 * Camunda's get-diagram answer: the image as an attachment with the media type
 * of its suffix, or 204 when the definition has none.
 */
export function sendDiagram(ctx: Context, diagram: { name: string; bytes: Buffer } | null): void {
  if (!diagram) {
    ctx.status = 204;
    return;
  }
  ctx.attachment(diagram.name);
  ctx.type = diagramMediaType(diagram.name);
  // An SVG is a document that can carry script: never run it on this origin.
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; sandbox");
  ctx.body = diagram.bytes;
}

/** Filters both repositories share, by Camunda's parameter names (`idName` differs). */
function repositoryFilter(ctx: Context, idName: string, withoutTenantName: string) {
  const q = queryOf(ctx);
  const id = q.string(idName);
  const idIn = q.list(`${idName}In`);
  return {
    // Both given: the one id, if the list names it too (Camunda ANDs its filters).
    ids: id ? (idIn && !idIn.includes(id) ? [] : [id]) : idIn,
    key: q.string('key'), keyLike: q.string('keyLike'), name: q.string('name'), nameLike: q.string('nameLike'),
    category: q.string('category'), categoryLike: q.string('categoryLike'), version: q.int('version', 1), latestVersion: q.bool('latestVersion'),
    deploymentId: q.string('deploymentId'), resourceName: q.string('resourceName'), resourceNameLike: q.string('resourceNameLike'),
    tenantIds: q.list('tenantIdIn'), withoutTenantId: q.bool('withoutTenantId'), includeWithoutTenantId: q.bool(withoutTenantName),
    firstResult: q.int('firstResult'), maxResults: q.int('maxResults'),
  };
}

/**
 * `/decision-definition` and `/decision-requirements-definition`: the
 * deployed decision tables, their XML, and evaluating one with typed
 * variables (Camunda 7.24). Reading is for every signed-in user, as for
 * process definitions; evaluating as services/decisions.ts assertMayEvaluate says.
 */
export function makeDecisionRoutes(deps: { decisions: DecisionService }): Router {
  const router = new Router();
  const decisions = deps.decisions;
  const filter = (ctx: Context): DecisionQuery => {
    const q = queryOf(ctx);
    return {
      ...repositoryFilter(ctx, 'decisionDefinitionId', 'includeDecisionDefinitionsWithoutTenantId'),
      requirementsId: q.string('decisionRequirementsDefinitionId'), requirementsKey: q.string('decisionRequirementsDefinitionKey'),
      withoutRequirements: q.bool('withoutDecisionRequirementsDefinition'), versionTag: q.string('versionTag'), versionTagLike: q.string('versionTagLike'),
      deployedAfter: q.date('deployedAfter'), deployedAt: q.date('deployedAt'),
      sorting: sortingOf(ctx, decisionSortColumns) as DecisionQuery['sorting'],
    };
  };
  const counted = <T extends { firstResult?: unknown; maxResults?: unknown; sorting?: unknown }>(query: T) => {
    const { firstResult: _f, maxResults: _m, sorting: _s, ...rest } = query;
    return rest;
  };
  router.get('/decision-definition', async (ctx) => {
    ctx.body = (await decisions.list(filter(ctx))).map(decisionDto);
  });
  router.get('/decision-definition/count', async (ctx) => {
    ctx.body = { count: await decisions.count(counted(filter(ctx))) };
  });
  const tenantOf = (ctx: RouterContext) => (ctx.params.tenantId as string | undefined) ?? null;
  for (const prefix of ['/decision-definition/key/:key', '/decision-definition/key/:key/tenant-id/:tenantId']) {
    router.get(prefix, async (ctx) => {
      ctx.body = decisionDto(await decisions.getLatest(ctx.params.key, tenantOf(ctx)));
    });
    router.get(`${prefix}/xml`, async (ctx) => {
      const def = await decisions.getLatest(ctx.params.key, tenantOf(ctx));
      ctx.body = { id: def.id, dmnXml: await decisions.xml(def.id) };
    });
    router.get(`${prefix}/diagram`, async (ctx) => {
      sendDiagram(ctx, await decisions.diagram(await decisions.getLatest(ctx.params.key, tenantOf(ctx))));
    });
    router.post(`${prefix}/evaluate`, async (ctx) => {
      const variables = parseVariables(bodyObject(ctx).variables);
      ctx.body = (await decisions.evaluateByKey(ctx.params.key, tenantOf(ctx), variables, principalOf(ctx))).map(formatVariables);
    });
  }
  router.get('/decision-definition/:id', async (ctx) => {
    ctx.body = decisionDto(await decisions.get(ctx.params.id));
  });
  router.get('/decision-definition/:id/xml', async (ctx) => {
    ctx.body = { id: ctx.params.id, dmnXml: await decisions.xml(ctx.params.id) };
  });
  router.get('/decision-definition/:id/diagram', async (ctx) => {
    sendDiagram(ctx, await decisions.diagram(await decisions.get(ctx.params.id)));
  });
  router.post('/decision-definition/:id/evaluate', async (ctx) => {
    const variables = parseVariables(bodyObject(ctx).variables);
    ctx.body = (await decisions.evaluateById(ctx.params.id, variables, principalOf(ctx))).map(formatVariables);
  });

  const requirementsFilter = (ctx: Context): DecisionRequirementsQuery => ({
    ...repositoryFilter(ctx, 'decisionRequirementsDefinitionId', 'includeDecisionRequirementsDefinitionsWithoutTenantId'),
    sorting: sortingOf(ctx, decisionRequirementsSortColumns) as DecisionRequirementsQuery['sorting'],
  });
  router.get('/decision-requirements-definition', async (ctx) => {
    ctx.body = (await decisions.listRequirements(requirementsFilter(ctx))).map(requirementsDto);
  });
  router.get('/decision-requirements-definition/count', async (ctx) => {
    ctx.body = { count: await decisions.countRequirements(counted(requirementsFilter(ctx))) };
  });
  for (const prefix of ['/decision-requirements-definition/key/:key', '/decision-requirements-definition/key/:key/tenant-id/:tenantId']) {
    router.get(prefix, async (ctx) => {
      ctx.body = requirementsDto(await decisions.getLatestRequirements(ctx.params.key, tenantOf(ctx)));
    });
    router.get(`${prefix}/xml`, async (ctx) => {
      const drd = await decisions.getLatestRequirements(ctx.params.key, tenantOf(ctx));
      ctx.body = { id: drd.id, dmnXml: await decisions.requirementsXml(drd.id) };
    });
    router.get(`${prefix}/diagram`, async (ctx) => {
      sendDiagram(ctx, await decisions.requirementsDiagram(await decisions.getLatestRequirements(ctx.params.key, tenantOf(ctx))));
    });
  }
  router.get('/decision-requirements-definition/:id', async (ctx) => {
    ctx.body = requirementsDto(await decisions.getRequirements(ctx.params.id));
  });
  router.get('/decision-requirements-definition/:id/xml', async (ctx) => {
    ctx.body = { id: ctx.params.id, dmnXml: await decisions.requirementsXml(ctx.params.id) };
  });
  router.get('/decision-requirements-definition/:id/diagram', async (ctx) => {
    sendDiagram(ctx, await decisions.requirementsDiagram(await decisions.getRequirements(ctx.params.id)));
  });
  return router;
}
