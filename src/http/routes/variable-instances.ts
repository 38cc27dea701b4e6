import Router from '@koa/router';
import type { Context } from 'koa';
import { ValidationError } from '../../errors.ts';
import {
  parseValueCondition, VALUE_OPERATORS, type ValueCondition, type VariableInstance, type VariableInstanceService,
} from '../../services/variable-instances.ts';
import { variableInstanceSortColumns } from '../../store/variables.ts';
import { principalOf } from '../auth.ts';
import { formatVariables, sendVariableData } from '../format.ts';
import { pagingOf, paramsOf, type Params } from '../params.ts';

/** Camunda's VariableInstanceDto. Only instance-scoped variables exist here: execution and activity instance are the instance. */
function variableInstanceDto(v: VariableInstance) {
  const [formatted] = Object.values(formatVariables({ [v.name]: v }));
  return {
    id: v.id, name: v.name, ...formatted, processDefinitionId: v.definition_id, processInstanceId: v.process_instance_id,
    executionId: v.process_instance_id, caseInstanceId: null, caseExecutionId: null, taskId: null, batchId: null,
    activityInstanceId: v.process_instance_id, tenantId: null, errorMessage: null,
  };
}

/** `variableValues`: `name_op_value,…` in a query string, `[{ name, operator, value }]` in a body. */
function valueConditions(q: Params): ValueCondition[] | undefined {
  const given = q.raw('variableValues');
  if (given === undefined) return undefined;
  if (typeof given === 'string') return given.split(',').filter(Boolean).map(parseValueCondition);
  const bad = () => new ValidationError(`variableValues 必须是 [{ name, operator, value }] / variableValues must be an array of { name, operator, value }, operator one of ${VALUE_OPERATORS.join(', ')}`);
  if (!Array.isArray(given)) throw bad();
  return given.map((c: { name?: unknown; operator?: unknown; value?: unknown } | null) => {
    if (typeof c?.name !== 'string' || !(VALUE_OPERATORS as readonly unknown[]).includes(c.operator)) throw bad();
    return { name: c.name, operator: c.operator as ValueCondition['operator'], value: c.value };
  });
}

/** Camunda's criteria, in either form; the ones it has for cases, tasks, batches and tenants have nothing to match here and are refused. */
function filterOf(q: Params) {
  const name = q.string('variableName');
  const ids = [q.list('processInstanceIdIn'), q.list('executionIdIn'), q.list('activityInstanceIdIn')].filter((x): x is string[] => x !== undefined);
  // Execution and activity instance ids are the instance's own id: every list given narrows to the ids in all of them.
  const processInstanceIds = ids.length ? ids.reduce((a, b) => a.filter((x) => b.includes(x))) : undefined;
  // Values come back the same either way: nothing here is a serialized Java object.
  q.bool('deserializeValues');
  return {
    names: name !== undefined ? [name] : undefined, nameLike: q.string('variableNameLike'),
    ignoreCase: q.bool('variableNamesIgnoreCase'), valuesIgnoreCase: q.bool('variableValuesIgnoreCase'),
    processInstanceIds, values: valueConditions(q),
  };
}

const REFUSED = ['caseInstanceIdIn', 'caseExecutionIdIn', 'taskIdIn', 'batchIdIn', 'tenantIdIn', 'variableScopeIdIn'];

function refuseUnsupported(ctx: Context): void {
  const body = ctx.method === 'POST' ? (ctx.request as { body?: Record<string, unknown> }).body ?? {} : ctx.query;
  const given = REFUSED.filter((k) => body[k] != null && body[k] !== '');
  if (given.length) {
    throw new ValidationError(`不支持的查询条件 / query fields not supported here (no cases, task-local, batch or tenant variables): ${given.join(', ')}`, { unsupported: given });
  }
}

/** Camunda's `/variable-instance`: variables of running instances the caller may see. */
export function makeVariableInstanceRoutes(deps: { variableInstances: VariableInstanceService }): Router {
  const router = new Router();
  const list = async (ctx: Context) => {
    refuseUnsupported(ctx);
    const filter = paramsOf(ctx, (q) => ({ ...filterOf(q), sorting: q.sorting(variableInstanceSortColumns) }));
    ctx.body = (await deps.variableInstances.query({ ...filter, ...pagingOf(ctx) }, principalOf(ctx))).map(variableInstanceDto);
  };
  const count = async (ctx: Context) => {
    refuseUnsupported(ctx);
    ctx.body = { count: await deps.variableInstances.count(paramsOf(ctx, (q) => {
      q.sorting(variableInstanceSortColumns); // a count has no order, but Camunda's body may carry one
      return filterOf(q);
    }), principalOf(ctx)) };
  };
  router.get('/variable-instance', list).post('/variable-instance', list);
  router.get('/variable-instance/count', count).post('/variable-instance/count', count);
  router.get('/variable-instance/:id', async (ctx) => {
    ctx.body = variableInstanceDto(await deps.variableInstances.get(ctx.params.id, principalOf(ctx)));
  });
  router.get('/variable-instance/:id/data', async (ctx) => {
    const v = await deps.variableInstances.get(ctx.params.id, principalOf(ctx));
    // The trace row names the variable and its instance, which the bytes do not (http/read-trace.ts).
    Object.assign(ctx.state, { processInstanceId: v.process_instance_id, variableName: v.name });
    sendVariableData(ctx, v.name, v);
  });
  return router;
}
