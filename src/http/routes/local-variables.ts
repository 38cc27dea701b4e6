import Router from '@koa/router';
import type { Context } from 'koa';
import { NotFoundError } from '../../errors.ts';
import type { LocalVariableService } from '../../services/local-variables.ts';
import { parseModifications, parseVariables } from '../../services/variables.ts';
import type { Variables } from '../../types.ts';
import { principalOf } from '../auth.ts';
import { formatVariables } from '../format.ts';
import { bodyObject } from '../params.ts';

/**
 * Camunda's local variable routes: `/execution/{id}/localVariables` (an
 * element's input parameters, a multi-instance iteration's loop variables)
 * and `/task/{id}/localVariables` (task-local variables, which this server
 * does not keep: read as none; the routes that would set them are not
 * offered, so a client gets 404 rather than a value nothing reads). Reads are traced by the
 * read trace, naming the instance through `ctx.state.processInstanceId`.
 */
export function makeLocalVariableRoutes(deps: { localVariables: LocalVariableService }): Router {
  const router = new Router();
  const lv = deps.localVariables;
  const one = (variables: Variables, name: string, owner: string) => {
    const v = formatVariables(variables)[name];
    if (!v) throw new NotFoundError(`局部变量不存在 / ${owner} has no local variable ${name}`);
    return v;
  };
  const executionLocals = async (ctx: Context) => {
    const { instanceId, variables } = await lv.executionLocals(ctx.params.id!, principalOf(ctx));
    ctx.state.processInstanceId = instanceId;
    return variables;
  };

  router.get('/execution/:id/localVariables', async (ctx) => {
    ctx.body = formatVariables(await executionLocals(ctx));
  });
  router.get('/execution/:id/localVariables/:name', async (ctx) => {
    ctx.body = one(await executionLocals(ctx), ctx.params.name, `execution ${ctx.params.id}`);
  });
  router.post('/execution/:id/localVariables', async (ctx) => {
    await lv.modifyExecutionLocals(ctx.params.id, parseModifications(bodyObject(ctx)), principalOf(ctx));
    ctx.status = 204;
  });
  router.put('/execution/:id/localVariables/:name', async (ctx) => {
    const modifications = parseVariables({ [ctx.params.name]: bodyObject(ctx) });
    await lv.modifyExecutionLocals(ctx.params.id, { modifications, deletions: [] }, principalOf(ctx));
    ctx.status = 204;
  });
  router.delete('/execution/:id/localVariables/:name', async (ctx) => {
    await lv.modifyExecutionLocals(ctx.params.id, { modifications: {}, deletions: [ctx.params.name] }, principalOf(ctx));
    ctx.status = 204;
  });

  router.get('/task/:id/localVariables', async (ctx) => {
    ctx.body = formatVariables(await lv.taskLocals(ctx.params.id, principalOf(ctx)));
  });
  return router;
}
