import Router from '@koa/router';
import type { Context } from 'koa';
import type { HistoryDetail, HistoryDetailService } from '../../services/history-details.ts';
import { historyDetailSortColumns } from '../../store/history-details.ts';
import { ValidationError } from '../../errors.ts';
import { principalOf } from '../auth.ts';
import { formatDate, formatVariables, sendVariableData } from '../format.ts';
import { pagingOf, paramsOf, type Params } from '../params.ts';

/** Camunda's HistoricDetailDto of a variable update; variables are instance-scoped, so execution and activity instance are the instance. */
function historicDetailDto(d: HistoryDetail) {
  const [formatted] = Object.values(formatVariables({ [d.variable_name]: d }));
  return {
    type: 'variableUpdate', id: d.id, processDefinitionKey: d.definition_key, processDefinitionId: d.definition_id,
    processInstanceId: d.process_instance_id, activityInstanceId: d.process_instance_id, executionId: d.process_instance_id,
    caseDefinitionKey: null, caseDefinitionId: null, caseInstanceId: null, caseExecutionId: null, taskId: null, tenantId: null,
    userOperationId: null, time: formatDate(d.time), removalTime: null, rootProcessInstanceId: d.process_instance_id,
    variableName: d.variable_name, variableInstanceId: `${d.process_instance_id}:${d.variable_name}`, variableType: formatted!.type,
    value: formatted!.value, valueInfo: formatted!.valueInfo, initial: d.initial, revision: d.revision, errorMessage: null,
  };
}

/**
 * Camunda's criteria this server cannot honour: refused, not ignored. Form
 * fields are not recorded apart from the variables a form submission sets
 * (those are variable updates), and details have no task, case, tenant or
 * user operation of their own.
 */
function refuseUnsupported(q: Params): void {
  const named = ['taskId', 'caseInstanceId', 'caseExecutionId', 'tenantIdIn', 'userOperationId'].filter((k) => q.raw(k) != null && q.raw(k) !== '');
  if (q.bool('formFields')) named.push('formFields');
  if (named.length) throw new ValidationError(`不支持的查询条件 / query fields not supported here (no form field, task, case, tenant or user operation details): ${named.join(', ')}`, { unsupported: named });
}

const filterOf = (q: Params) => {
  refuseUnsupported(q);
  // Every detail is a variable update of no task and no tenant: these narrow nothing.
  q.bool('variableUpdates');
  q.bool('excludeTaskDetails');
  q.bool('withoutTenantId');
  q.bool('deserializeValues');
  const scopes = [q.string('processInstanceId'), q.string('executionId'), q.string('activityInstanceId')].filter((x): x is string => x !== undefined);
  const lists = [q.list('processInstanceIdIn'), ...scopes.map((x) => [x])].filter((x): x is string[] => x !== undefined);
  const variableInstanceId = q.string('variableInstanceId');
  const at = variableInstanceId?.indexOf(':') ?? -1;
  if (variableInstanceId !== undefined) lists.push(at > 0 ? [variableInstanceId.slice(0, at)] : []);
  return {
    // Every id given narrows: an instance in all of them.
    processInstanceIds: lists.length ? lists.reduce((a, b) => a.filter((x) => b.includes(x))) : undefined,
    variableName: at > 0 ? variableInstanceId!.slice(at + 1) : undefined,
    variableNameLike: q.string('variableNameLike'), variableTypes: q.list('variableTypeIn'), initial: q.bool('initial'),
    occurredBefore: q.date('occurredBefore'), occurredAfter: q.date('occurredAfter'), sorting: q.sorting(historyDetailSortColumns),
  };
};

/** `/history/detail`: every value the variables of visible instances took, over time. */
export function makeHistoryDetailRoutes(deps: { historyDetails: HistoryDetailService }): Router {
  const router = new Router();
  const list = async (ctx: Context) => {
    ctx.body = (await deps.historyDetails.query({ ...paramsOf(ctx, filterOf), ...pagingOf(ctx) }, principalOf(ctx))).map(historicDetailDto);
  };
  router.get('/history/detail', list).post('/history/detail', list);
  router.get('/history/detail/count', async (ctx) => {
    const { sorting: _s, ...filter } = paramsOf(ctx, filterOf);
    ctx.body = { count: await deps.historyDetails.count(filter, principalOf(ctx)) };
  });
  router.get('/history/detail/:id', async (ctx) => {
    ctx.body = historicDetailDto(await deps.historyDetails.get(ctx.params.id, principalOf(ctx)));
  });
  router.get('/history/detail/:id/data', async (ctx) => {
    const d = await deps.historyDetails.get(ctx.params.id, principalOf(ctx));
    // The trace row names the variable and its instance, which the bytes do not (http/read-trace.ts).
    Object.assign(ctx.state, { processInstanceId: d.process_instance_id, variableName: d.variable_name });
    sendVariableData(ctx, d.variable_name, d);
  });
  return router;
}
