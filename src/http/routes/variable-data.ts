import Router from '@koa/router';
import type { Context } from 'koa';
import { ValidationError } from '../../errors.ts';
import type { InstanceService } from '../../services/instances.ts';
import type { LocalVariableService } from '../../services/local-variables.ts';
import type { TaskService } from '../../services/tasks.ts';
import { parseVariables } from '../../services/variables.ts';
import type { Variables } from '../../types.ts';
import { principalOf } from '../auth.ts';
import { readMultipart } from '../multipart.ts';

/**
 * Camunda's binary variable uploads (`POST …/variables/{varName}/data`):
 * a multipart `data` part and `valueType` Bytes (the default) or File, whose
 * filename and mime type come from the `data` part. A `type` part asks for
 * a serialized Java object, which this server does not deserialize: refused.
 * The value then goes the way of any JSON-set Bytes or File variable
 * (sealed, traced by the service), so the two routes cannot differ.
 */
async function uploadedVariable(ctx: Context, name: string, limit: number): Promise<Variables> {
  const { fields, files } = await readMultipart(ctx, { fileSize: limit, files: 1 });
  if (fields.type != null) throw new ValidationError('不支持序列化的 Java 对象（type 部分）/ the form part type (a serialized Java object) is not supported: upload Bytes or a File');
  const valueType = fields.valueType ?? 'Bytes';
  if (valueType !== 'Bytes' && valueType !== 'File') throw new ValidationError(`valueType 必须是 Bytes 或 File / valueType must be Bytes or File, not ${valueType}`);
  const file = files.find((f) => f.field === 'data');
  const bytes = file?.bytes ?? (fields.data != null ? Buffer.from(fields.data, 'utf8') : null);
  if (!bytes) throw new ValidationError('缺少 data 部分 / the form part data is missing');
  const value = bytes.toString('base64');
  if (valueType === 'Bytes') return parseVariables({ [name]: { type: 'Bytes', value } });
  if (!file?.filename) throw new ValidationError('文件变量的 data 部分需要文件名 / the data part of a File variable must name its file (filename)');
  return parseVariables({ [name]: { type: 'File', value, valueInfo: { filename: file.filename, ...(file.mimeType ? { mimeType: file.mimeType } : {}) } } });
}

export function makeVariableDataRoutes(deps: { tasks: TaskService; instances: InstanceService; localVariables: LocalVariableService; bodyLimit: number }): Router {
  const router = new Router();
  router.post('/task/:id/variables/:name/data', async (ctx) => {
    await deps.tasks.modifyVariables(ctx.params.id, await uploadedVariable(ctx, ctx.params.name, deps.bodyLimit), [], principalOf(ctx));
    ctx.status = 204;
  });
  router.post('/task/:id/localVariables/:name/data', async (ctx) => {
    await deps.localVariables.modifyTaskLocals(ctx.params.id, { modifications: await uploadedVariable(ctx, ctx.params.name, deps.bodyLimit), deletions: [] }, principalOf(ctx));
    ctx.status = 204;
  });
  router.post('/process-instance/:id/variables/:name/data', async (ctx) => {
    await deps.instances.modifyVariables(ctx.params.id, { modifications: await uploadedVariable(ctx, ctx.params.name, deps.bodyLimit), deletions: [] }, principalOf(ctx));
    ctx.status = 204;
  });
  // The root execution's locals are the process variables; an element's locals take no Bytes or File (services/local-variables.ts).
  router.post('/execution/:id/localVariables/:name/data', async (ctx) => {
    await deps.localVariables.modifyExecutionLocals(ctx.params.id, { modifications: await uploadedVariable(ctx, ctx.params.name, deps.bodyLimit), deletions: [] }, principalOf(ctx));
    ctx.status = 204;
  });
  return router;
}
