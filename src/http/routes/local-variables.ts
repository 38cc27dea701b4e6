import Router from '@koa/router';
import type { Context } from 'koa';
import { NotFoundError } from '../../errors.ts';
import type { LocalVariableService } from '../../services/local-variables.ts';
import { parseModifications, parseVariables } from '../../services/variables.ts';
import type { Variables } from '../../types.ts';
import { principalOf } from '../auth.ts';
import { formatVariables, sendVariableData } from '../format.ts';
import { bodyObject } from '../params.ts';

/**
 * Camunda's local variable routes: `/execution/{id}/localVariables` (an
 * element's input parameters, a multi-instance iteration's loop variables)
 * and `/task/{id}/localVariables` (the task's own variables). Reads are
 * traced by the read trace, naming the instance through
 * `ctx.state.processInstanceId`; changes by the service.
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
  router.get('/execution/:id/localVariables/:name/data', async (ctx) => {
    sendVariableData(ctx, ctx.params.name, (await executionLocals(ctx))[ctx.params.name]);
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

  const taskLocals = async (ctx: Context) => {
    const { instanceId, variables } = await lv.taskLocals(ctx.params.id!, principalOf(ctx));
    ctx.state.processInstanceId = instanceId;
    return variables;
  };
  router.get('/task/:id/localVariables', async (ctx) => {
    ctx.body = formatVariables(await taskLocals(ctx));
  });
  router.get('/task/:id/localVariables/:name', async (ctx) => {
    ctx.body = one(await taskLocals(ctx), ctx.params.name, `task ${ctx.params.id}`);
  });
  router.get('/task/:id/localVariables/:name/data', async (ctx) => {
    sendVariableData(ctx, ctx.params.name, (await taskLocals(ctx))[ctx.params.name]);
  });
  router.post('/task/:id/localVariables', async (ctx) => {
    await lv.modifyTaskLocals(ctx.params.id, parseModifications(bodyObject(ctx)), principalOf(ctx));
    ctx.status = 204;
  });
  router.put('/task/:id/localVariables/:name', async (ctx) => {
    const modifications = parseVariables({ [ctx.params.name]: bodyObject(ctx) });
    await lv.modifyTaskLocals(ctx.params.id, { modifications, deletions: [] }, principalOf(ctx));
    ctx.status = 204;
  });
  router.delete('/task/:id/localVariables/:name', async (ctx) => {
    await lv.modifyTaskLocals(ctx.params.id, { modifications: {}, deletions: [ctx.params.name] }, principalOf(ctx));
    ctx.status = 204;
  });
  return router;
}
