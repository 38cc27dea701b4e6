import Router from '@koa/router';
import type { Context } from 'koa';
import type { HistoryDeletionService } from '../../services/history-deletion.ts';
import type { HistoryService, VariableHistoryEntry } from '../../services/history.ts';
import { variableHistorySortColumns } from '../../store/variables.ts';
import { ValidationError } from '../../errors.ts';
import { principalOf } from '../auth.ts';
import { formatDate, formatVariables, sendVariableData } from '../format.ts';
import { pagingOf, paramsOf, type Params } from '../params.ts';

/** Camunda's HistoricVariableInstanceDto: variables are instance-scoped, so execution and activity instance are the instance. */
function historicVariableDto(v: VariableHistoryEntry) {
  const [formatted] = Object.values(formatVariables({ [v.name]: v }));
  return {
    id: `${v.process_instance_id}:${v.name}`, name: v.name, ...formatted, processDefinitionKey: v.definition_key,
    processDefinitionId: v.definition_id, processInstanceId: v.process_instance_id, executionId: v.process_instance_id,
    activityInstanceId: v.process_instance_id, caseDefinitionKey: null, caseDefinitionId: null, caseInstanceId: null,
    caseExecutionId: null, taskId: null, tenantId: null, errorMessage: null, state: 'CREATED', createTime: formatDate(v.updated_at),
    removalTime: null, rootProcessInstanceId: v.process_instance_id,
  };
}

/** Camunda's criteria that have nothing to match here (cases, task-local variables, tenants, values): refused, not ignored. */
const REFUSED = ['variableValue', 'variableTypeIn', 'includeDeleted', 'caseInstanceId', 'caseExecutionIdIn', 'caseActivityIdIn', 'taskIdIn', 'tenantIdIn', 'withoutTenantId', 'processDefinitionId', 'executionIdIn', 'activityInstanceIdIn', 'variableNamesIgnoreCase', 'variableValuesIgnoreCase', 'variableNameIn'];

function refuseUnsupported(ctx: Context): void {
  const given = ctx.method === 'POST' ? (ctx.request as { body?: Record<string, unknown> }).body ?? {} : ctx.query;
  const named = REFUSED.filter((k) => given[k] != null && given[k] !== '');
  if (named.length) throw new ValidationError(`不支持的查询条件 / query fields not supported here: ${named.join(', ')}`, { unsupported: named });
}

const filterOf = (q: Params) => {
  // Values come back the same either way: nothing here is a serialized Java object.
  q.bool('deserializeValues');
  return {
    processInstanceId: q.string('processInstanceId'), processInstanceIds: q.list('processInstanceIdIn'),
    variableName: q.string('variableName'), variableNameLike: q.string('variableNameLike'),
    processDefinitionKey: q.string('processDefinitionKey'), sorting: q.sorting(variableHistorySortColumns),
  };
};

/** `/history/variable-instance`: variables of running and finished instances the caller may see. */
export function makeHistoryVariableRoutes(deps: { history: HistoryService; historyDeletion: HistoryDeletionService }): Router {
  const router = new Router();
  const list = async (ctx: Context) => {
    refuseUnsupported(ctx);
    ctx.body = (await deps.history.variables({ ...paramsOf(ctx, filterOf), ...pagingOf(ctx) }, principalOf(ctx))).map(historicVariableDto);
  };
  const count = async (ctx: Context) => {
    refuseUnsupported(ctx);
    const { sorting: _s, ...filter } = paramsOf(ctx, filterOf);
    ctx.body = { count: await deps.history.countVariables(filter, principalOf(ctx)) };
  };
  router.get('/history/variable-instance', list).post('/history/variable-instance', list);
  router.get('/history/variable-instance/count', count).post('/history/variable-instance/count', count);
  router.get('/history/variable-instance/:id', async (ctx) => {
    ctx.body = historicVariableDto(await deps.history.variable(ctx.params.id, principalOf(ctx)));
  });
  router.get('/history/variable-instance/:id/data', async (ctx) => {
    const v = await deps.history.variable(ctx.params.id, principalOf(ctx));
    // The trace row names the variable and its instance, which the bytes do not (http/read-trace.ts).
    Object.assign(ctx.state, { processInstanceId: v.process_instance_id, variableName: v.name });
    sendVariableData(ctx, v.name, v);
  });
  router.delete('/history/variable-instance/:id', async (ctx) => {
    await deps.historyDeletion.deleteVariable(ctx.params.id, principalOf(ctx));
    ctx.status = 204;
  });
  return router;
}
