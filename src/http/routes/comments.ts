import Router from '@koa/router';
import type { CommentService } from '../../services/comments.ts';
import type { CommentRow } from '../../store/comments.ts';
import { principalOf } from '../auth.ts';
import { formatDate } from '../format.ts';
import { bodyObject } from '../params.ts';

function commentDto(c: CommentRow) {
  return {
    id: c.id, userId: c.user_id, taskId: c.task_id, processInstanceId: c.process_instance_id, message: c.message, time: formatDate(c.time),
    removalTime: null, rootProcessInstanceId: c.process_instance_id,
  };
}

/** Camunda's comment routes, of a task and of a process instance (who may do what: services/comments.ts). */
export function makeCommentRoutes(deps: { comments: CommentService }): Router {
  const router = new Router();
  const comments = deps.comments;
  router.get('/task/:id/comment', async (ctx) => {
    ctx.body = (await comments.list(ctx.params.id, principalOf(ctx))).map(commentDto);
  });
  router.post('/task/:id/comment/create', async (ctx) => {
    ctx.body = commentDto(await comments.add(ctx.params.id, bodyObject(ctx).message, principalOf(ctx)));
  });
  router.put('/task/:id/comment', async (ctx) => {
    await comments.update(ctx.params.id, bodyObject(ctx), principalOf(ctx));
    ctx.status = 204;
  });
  router.delete('/task/:id/comment', async (ctx) => {
    await comments.remove(ctx.params.id, null, principalOf(ctx));
    ctx.status = 204;
  });
  router.get('/task/:id/comment/:commentId', async (ctx) => {
    ctx.body = commentDto(await comments.get(ctx.params.id, ctx.params.commentId, principalOf(ctx)));
  });
  router.delete('/task/:id/comment/:commentId', async (ctx) => {
    await comments.remove(ctx.params.id, ctx.params.commentId, principalOf(ctx));
    ctx.status = 204;
  });

  router.get('/process-instance/:id/comment', async (ctx) => {
    ctx.body = (await comments.listOfInstance(ctx.params.id, principalOf(ctx))).map(commentDto);
  });
  router.put('/process-instance/:id/comment', async (ctx) => {
    await comments.updateOfInstance(ctx.params.id, bodyObject(ctx), principalOf(ctx));
    ctx.status = 204;
  });
  router.delete('/process-instance/:id/comment', async (ctx) => {
    await comments.removeOfInstance(ctx.params.id, null, principalOf(ctx));
    ctx.status = 204;
  });
  router.delete('/process-instance/:id/comment/:commentId', async (ctx) => {
    await comments.removeOfInstance(ctx.params.id, ctx.params.commentId, principalOf(ctx));
    ctx.status = 204;
  });
  return router;
}
