import Router from '@koa/router';
import { ValidationError } from '../../errors.ts';
import type { TaskErrors } from '../../services/task-errors.ts';
import { parseVariables } from '../../services/variables.ts';
import { principalOf } from '../auth.ts';
import { bodyObject } from '../params.ts';

/** Camunda's `/task/{id}/bpmnError` and `/bpmnEscalation`: a BPMN error or escalation thrown from a user task. */
export function makeTaskErrorRoutes(deps: { taskErrors: TaskErrors }): Router {
  const router = new Router();
  router.post('/task/:id/bpmnError', async (ctx) => {
    const body = bodyObject(ctx);
    if (typeof body.errorCode !== 'string' || !body.errorCode) throw new ValidationError('请求体需要 errorCode / body must contain a non-empty errorCode');
    if (body.errorMessage != null && typeof body.errorMessage !== 'string') throw new ValidationError('errorMessage 必须是文本 / errorMessage must be a string');
    await deps.taskErrors.bpmnError(ctx.params.id, {
      errorCode: body.errorCode, errorMessage: (body.errorMessage as string | undefined) ?? null, variables: parseVariables(body.variables),
    }, principalOf(ctx));
    ctx.status = 204;
  });
  router.post('/task/:id/bpmnEscalation', async (ctx) => {
    const body = bodyObject(ctx);
    if (typeof body.escalationCode !== 'string' || !body.escalationCode) throw new ValidationError('请求体需要 escalationCode / body must contain a non-empty escalationCode');
    await deps.taskErrors.bpmnEscalation(ctx.params.id, { escalationCode: body.escalationCode, variables: parseVariables(body.variables) }, principalOf(ctx));
    ctx.status = 204;
  });
  return router;
}
