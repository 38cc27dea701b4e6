import Router from '@koa/router';
import type { Context } from 'koa';
import { MAX_ATTACHMENT_BYTES, type AttachmentService } from '../../services/attachments.ts';
import type { AttachmentInfo } from '../../store/attachments.ts';
import { principalOf } from '../auth.ts';
import { formatDate } from '../format.ts';
import { readMultipart } from '../multipart.ts';

function attachmentDto(a: AttachmentInfo, ctx: Context) {
  return {
    id: a.id, name: a.name, taskId: a.task_id, description: a.description, type: a.type, url: a.url, createTime: formatDate(a.create_time),
    removalTime: null, rootProcessInstanceId: a.process_instance_id,
    links: [{ method: 'GET', href: `${ctx.protocol}://${ctx.host}/engine-rest/task/${a.task_id}/attachment/${a.id}`, rel: 'self' }],
  };
}

/** Camunda's task attachment routes (who may do what: services/attachments.ts). */
export function makeAttachmentRoutes(deps: { attachments: AttachmentService }): Router {
  const router = new Router();
  const attachments = deps.attachments;
  router.get('/task/:id/attachment', async (ctx) => {
    ctx.body = (await attachments.list(ctx.params.id, principalOf(ctx))).map((a) => attachmentDto(a, ctx));
  });
  router.post('/task/:id/attachment/create', async (ctx) => {
    const { fields, files } = await readMultipart(ctx, { fileSize: MAX_ATTACHMENT_BYTES, files: 1 });
    const part = files.find((f) => f.field === 'content');
    const content = part?.bytes ?? (fields.content != null ? Buffer.from(fields.content, 'utf8') : null);
    const text = (k: string) => (fields[k] ? fields[k] : null);
    const created = await attachments.create(ctx.params.id, {
      name: text('attachment-name'), description: text('attachment-description'), type: text('attachment-type'), url: text('url'), content,
    }, principalOf(ctx));
    ctx.body = attachmentDto(created, ctx);
  });
  router.get('/task/:id/attachment/:attachmentId', async (ctx) => {
    ctx.body = attachmentDto(await attachments.get(ctx.params.id, ctx.params.attachmentId, principalOf(ctx)), ctx);
  });
  router.get('/task/:id/attachment/:attachmentId/data', async (ctx) => {
    const { attachment, bytes } = await attachments.content(ctx.params.id, ctx.params.attachmentId, principalOf(ctx));
    ctx.body = bytes;
    // Camunda answers octet-stream whatever was uploaded: the browser must not run it.
    ctx.type = 'application/octet-stream';
    ctx.attachment(attachment.name ?? attachment.id);
    ctx.set('X-Content-Type-Options', 'nosniff');
  });
  router.delete('/task/:id/attachment/:attachmentId', async (ctx) => {
    await attachments.remove(ctx.params.id, ctx.params.attachmentId, principalOf(ctx));
    ctx.status = 204;
  });
  return router;
}
