import Router from '@koa/router';
import { ValidationError } from '../../errors.ts';
import type { ConditionStartService } from '../../services/condition-starts.ts';
import { parseVariables } from '../../services/variables.ts';
import { principalOf } from '../auth.ts';
import { bodyObject } from '../params.ts';
import { instanceDto } from './instances.ts';

/** `POST /condition`: Camunda 7's evaluation of conditional start events. */
export function makeConditionRoutes(deps: { conditionStarts: ConditionStartService }): Router {
  const router = new Router();
  router.post('/condition', async (ctx) => {
    const body = bodyObject(ctx);
    for (const k of ['businessKey', 'tenantId', 'processDefinitionId'] as const) {
      if (body[k] != null && typeof body[k] !== 'string') throw new ValidationError(`${k} 必须是文本 / ${k} must be a string`);
    }
    if (body.withoutTenantId != null && typeof body.withoutTenantId !== 'boolean') throw new ValidationError('withoutTenantId 必须是布尔值 / withoutTenantId must be a boolean');
    const started = await deps.conditionStarts.evaluate({
      variables: parseVariables(body.variables), businessKey: body.businessKey as string | undefined, tenantId: body.tenantId as string | undefined,
      withoutTenantId: body.withoutTenantId as boolean | undefined, processDefinitionId: body.processDefinitionId as string | undefined,
    }, principalOf(ctx));
    ctx.body = started.map((i) => instanceDto(i, ctx));
  });
  return router;
}
