import Router from '@koa/router';
import type { Context } from 'koa';
import type { DecisionService, EvaluatedInstance } from '../../services/decisions.ts';
import { decisionInstanceSortColumns, type DecisionInstanceQuery, type DecisionValueRow } from '../../store/decision-instances.ts';
import type { TypedValue } from '../../types.ts';
import { principalOf } from '../auth.ts';
import { formatDate, formatVariables } from '../format.ts';
import { queryOf, sortingOf } from '../params.ts';

/** A stored input or output as Camunda's REST shows a typed value (dates in Camunda's format, Json as text). */
function typedValue(v: DecisionValueRow) {
  const { value, type, valueInfo } = formatVariables({ v: { type: v.type, value: v.value } as TypedValue }).v;
  return { type, value, valueInfo };
}

function instanceDto(h: EvaluatedInstance) {
  const common = (v: DecisionValueRow) => ({
    id: v.id, decisionInstanceId: h.id, clauseId: v.clause_id, clauseName: v.clause_name, errorMessage: null,
    ...typedValue(v), createTime: formatDate(h.evaluation_time), removalTime: null, rootProcessInstanceId: h.root_process_instance_id,
  });
  return {
    id: h.id, decisionDefinitionId: h.decision_definition_id, decisionDefinitionKey: h.decision_definition_key, decisionDefinitionName: h.decision_definition_name,
    evaluationTime: formatDate(h.evaluation_time), removalTime: null,
    processDefinitionId: h.process_definition_id, processDefinitionKey: h.process_definition_key, processInstanceId: h.process_instance_id,
    caseDefinitionId: null, caseDefinitionKey: null, caseInstanceId: null,
    activityId: h.activity_id, activityInstanceId: h.activity_instance_id, tenantId: h.tenant_id, userId: h.user_id,
    inputs: h.inputs ? h.inputs.map(common) : null,
    outputs: h.outputs ? h.outputs.map((o) => ({ ...common(o), ruleId: o.rule_id ?? null, ruleOrder: o.rule_order ?? null, variableName: o.variable_name ?? null })) : null,
    collectResultValue: h.collect_result_value, rootDecisionInstanceId: h.root_decision_instance_id, rootProcessInstanceId: h.root_process_instance_id,
    decisionRequirementsDefinitionId: h.decision_requirements_definition_id, decisionRequirementsDefinitionKey: h.decision_requirements_definition_key,
  };
}

/**
 * `/history/decision-instance`: every evaluation, with what it saw and what it
 * decided; `/history/decision-requirements-definition/{id}/statistics`: how
 * often each decision of a DRD was evaluated (Camunda 7.24).
 */
export function makeDecisionHistoryRoutes(deps: { decisions: DecisionService }): Router {
  const router = new Router();
  const filter = (ctx: Context): Omit<DecisionInstanceQuery, 'visibleTo'> => {
    const q = queryOf(ctx);
    const one = (name: string) => (q.string(name) ? [q.string(name)!] : undefined);
    return {
      ids: one('decisionInstanceId') ?? q.list('decisionInstanceIdIn'),
      definitionIds: one('decisionDefinitionId') ?? q.list('decisionDefinitionIdIn'),
      definitionKeys: one('decisionDefinitionKey') ?? q.list('decisionDefinitionKeyIn'),
      definitionName: q.string('decisionDefinitionName'),
      processDefinitionId: q.string('processDefinitionId'), processDefinitionKey: q.string('processDefinitionKey'),
      processInstanceId: q.string('processInstanceId'), activityIds: q.list('activityIdIn'), activityInstanceIds: q.list('activityInstanceIdIn'),
      evaluatedBefore: q.date('evaluatedBefore'), evaluatedAfter: q.date('evaluatedAfter'), userId: q.string('userId'),
      rootDecisionInstanceId: q.string('rootDecisionInstanceId'), rootDecisionInstancesOnly: q.bool('rootDecisionInstancesOnly'),
      requirementsId: q.string('decisionRequirementsDefinitionId'), requirementsKey: q.string('decisionRequirementsDefinitionKey'),
      tenantIds: q.list('tenantIdIn'), withoutTenantId: q.bool('withoutTenantId'),
      sorting: sortingOf(ctx, decisionInstanceSortColumns) as DecisionInstanceQuery['sorting'],
      firstResult: q.int('firstResult'), maxResults: q.int('maxResults'),
    };
  };
  const includeOf = (ctx: Context) => {
    const q = queryOf(ctx);
    return { inputs: q.bool('includeInputs') ?? false, outputs: q.bool('includeOutputs') ?? false };
  };
  router.get('/history/decision-instance', async (ctx) => {
    const include = includeOf(ctx);
    ctx.body = (await deps.decisions.history(filter(ctx), include, principalOf(ctx))).map(instanceDto);
  });
  router.get('/history/decision-instance/count', async (ctx) => {
    const { firstResult: _f, maxResults: _m, sorting: _s, ...rest } = filter(ctx);
    ctx.body = { count: await deps.decisions.countHistory(rest, principalOf(ctx)) };
  });
  // Camunda's DRD statistics: [{ decisionDefinitionKey, evaluations }], one per decision evaluated.
  router.get('/history/decision-requirements-definition/:id/statistics', async (ctx) => {
    const rows = await deps.decisions.requirementsStatistics(ctx.params.id, queryOf(ctx).string('decisionInstanceId'), principalOf(ctx));
    ctx.body = rows.map((r) => ({ decisionDefinitionKey: r.key, evaluations: r.evaluations }));
  });
  router.get('/history/decision-instance/:id', async (ctx) => {
    ctx.body = instanceDto(await deps.decisions.historyOne(ctx.params.id, includeOf(ctx), principalOf(ctx)));
  });
  return router;
}
