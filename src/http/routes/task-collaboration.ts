import Router from '@koa/router';
import { NotFoundError, ValidationError } from '../../errors.ts';
import type { TaskService } from '../../services/tasks.ts';
import { parseModifications, parseVariables } from '../../services/variables.ts';
import { principalOf } from '../auth.ts';
import { formatVariables, sendVariableData } from '../format.ts';
import { bodyObject, checkDate, checkInt } from '../params.ts';

const optionalDate = (value: unknown, name: string): Date | null => (value == null ? null : checkDate(name, value));

/** Camunda's task routes for working together: assignee, delegation, updates, variables (comments: routes/comments.ts). */
export function makeTaskCollaborationRoutes(deps: { tasks: TaskService }): Router {
  const router = new Router();
  const userIdOf = (body: Record<string, unknown>, required: boolean) => {
    if (body.userId == null && !required) return null;
    if (typeof body.userId !== 'string' || !body.userId) throw new ValidationError('请求体需要 userId / body must contain userId');
    return body.userId;
  };
  router.post('/task/:id/assignee', async (ctx) => {
    await deps.tasks.setAssignee(ctx.params.id, userIdOf(bodyObject(ctx), false), principalOf(ctx));
    ctx.status = 204;
  });
  router.post('/task/:id/delegate', async (ctx) => {
    await deps.tasks.delegate(ctx.params.id, userIdOf(bodyObject(ctx), true)!, principalOf(ctx));
    ctx.status = 204;
  });
  router.post('/task/:id/resolve', async (ctx) => {
    await deps.tasks.resolve(ctx.params.id, parseVariables(bodyObject(ctx).variables), principalOf(ctx));
    ctx.status = 204;
  });
  router.put('/task/:id', async (ctx) => {
    const body = bodyObject(ctx);
    if (body.priority != null) checkInt('priority', body.priority, -Infinity);
    for (const k of ['name', 'description'] as const) {
      if (body[k] != null && typeof body[k] !== 'string') throw new ValidationError(`${k} 必须是文本 / ${k} must be text`);
    }
    await deps.tasks.update(ctx.params.id, {
      ...(body.name !== undefined ? { name: body.name as string | null } : {}),
      ...(body.description !== undefined ? { description: body.description as string | null } : {}),
      ...(body.priority !== undefined ? { priority: (body.priority as number | null) ?? 50 } : {}),
      ...(body.due !== undefined ? { due: optionalDate(body.due, 'due') } : {}),
      ...(body.followUp !== undefined ? { follow_up: optionalDate(body.followUp, 'followUp') } : {}),
    }, principalOf(ctx));
    ctx.status = 204;
  });

  router.get('/task/:id/variables', async (ctx) => {
    ctx.body = formatVariables(await deps.tasks.variables(ctx.params.id, principalOf(ctx)));
  });
  router.post('/task/:id/variables', async (ctx) => {
    const { modifications, deletions } = parseModifications(bodyObject(ctx));
    await deps.tasks.modifyVariables(ctx.params.id, modifications, deletions, principalOf(ctx));
    ctx.status = 204;
  });
  router.get('/task/:id/variables/:name', async (ctx) => {
    const v = formatVariables(await deps.tasks.variables(ctx.params.id, principalOf(ctx)))[ctx.params.name];
    if (!v) throw new NotFoundError(`变量不存在 / no variable ${ctx.params.name}`);
    ctx.body = v;
  });
  router.get('/task/:id/variables/:name/data', async (ctx) => {
    sendVariableData(ctx, ctx.params.name, (await deps.tasks.variables(ctx.params.id, principalOf(ctx)))[ctx.params.name]);
  });
  router.put('/task/:id/variables/:name', async (ctx) => {
    await deps.tasks.modifyVariables(ctx.params.id, parseVariables({ [ctx.params.name]: bodyObject(ctx) }), [], principalOf(ctx));
    ctx.status = 204;
  });
  router.delete('/task/:id/variables/:name', async (ctx) => {
    await deps.tasks.modifyVariables(ctx.params.id, {}, [ctx.params.name], principalOf(ctx));
    ctx.status = 204;
  });

  return router;
}
