import Router from '@koa/router';
import { ValidationError } from '../../errors.ts';
import type { MessageService } from '../../services/messages.ts';
import { parseVariables } from '../../services/variables.ts';
import { principalOf } from '../auth.ts';
import { bodyObject } from '../params.ts';

/** `POST /message` and `POST /signal`: Camunda 7's message correlation and signal broadcast. */
export function makeMessageRoutes(deps: { messages: MessageService }): Router {
  const router = new Router();
  router.post('/message', async (ctx) => {
    const body = bodyObject(ctx);
    if (typeof body.messageName !== 'string' || !body.messageName) throw new ValidationError('需要 messageName / messageName is required');
    for (const k of ['businessKey', 'processInstanceId'] as const) {
      if (body[k] != null && typeof body[k] !== 'string') throw new ValidationError(`${k} 必须是文本 / ${k} must be a string`);
    }
    const results = await deps.messages.correlate({
      messageName: body.messageName, businessKey: body.businessKey as string | undefined, processInstanceId: body.processInstanceId as string | undefined,
      correlationKeys: parseVariables(body.correlationKeys, 'correlationKeys'), processVariables: parseVariables(body.processVariables, 'processVariables'),
      all: body.all === true,
    }, principalOf(ctx));
    if (body.resultEnabled !== true) {
      ctx.status = 204;
      return;
    }
    ctx.body = results.map((r) => r.resultType === 'Execution'
      ? { resultType: 'Execution', execution: { id: r.executionId, processInstanceId: r.processInstanceId, ended: false, tenantId: null }, processInstance: null }
      : { resultType: 'ProcessDefinition', execution: null, processInstance: { id: r.processInstanceId, definitionId: r.definitionId, businessKey: null, ended: false, suspended: false, tenantId: null, links: [] } });
  });
  router.post('/signal', async (ctx) => {
    const body = bodyObject(ctx);
    if (typeof body.name !== 'string' || !body.name) throw new ValidationError('需要 name / name is required');
    await deps.messages.broadcast(body.name, parseVariables(body.variables), principalOf(ctx));
    ctx.status = 204;
  });
  return router;
}
