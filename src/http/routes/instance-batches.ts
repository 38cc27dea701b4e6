import Router from '@koa/router';
import type { Context } from 'koa';
import { ValidationError } from '../../errors.ts';
import type { BatchService } from '../../services/batches.ts';
import type { InstanceBatchService, Selection } from '../../services/instance-batches.ts';
import { parseModification } from '../../services/modification.ts';
import { parseVariables } from '../../services/variables.ts';
import { principalOf } from '../auth.ts';
import { bodyObject, nestedParamsOf } from '../params.ts';
import { batchDto } from './batches.ts';
import { historicInstanceFilter } from './history.ts';
import { runtimeInstanceFilter } from './instances.ts';

const SELECTION = ['processInstanceIds', 'processInstanceQuery', 'historicProcessInstanceQuery'] as const;

/** The body as an object with only `allowed` fields: a field this server would not read is a 400 naming it, never dropped in silence. */
function bodyWith(ctx: Context, allowed: readonly string[]): Record<string, unknown> {
  const body = bodyObject(ctx);
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k) && body[k] != null);
  if (unknown.length) throw new ValidationError(`不支持的字段 / not supported here: ${unknown.join(', ')}`, { unsupported: unknown });
  return body;
}

function flag(body: Record<string, unknown>, name: string, fallback: boolean): boolean {
  const v = body[name];
  if (v == null) return fallback;
  if (typeof v !== 'boolean') throw new ValidationError(`${name} 必须是布尔值 / ${name} must be a boolean`, { field: name });
  return v;
}

/** processInstanceIds, processInstanceQuery (GET /process-instance's criteria) and historicProcessInstanceQuery (GET /history/process-instance's). */
function selectionOf(body: Record<string, unknown>): Selection {
  const ids = body.processInstanceIds ?? [];
  if (!Array.isArray(ids) || ids.some((v) => typeof v !== 'string' || !v)) throw new ValidationError('processInstanceIds 必须是文本数组 / processInstanceIds must be an array of strings', { field: 'processInstanceIds' });
  const strip = <T extends { sorting?: unknown }>(q: T | undefined) => {
    if (!q) return undefined;
    const { sorting: _s, ...rest } = q;
    return rest;
  };
  const selection = {
    ids: ids as string[],
    query: strip(nestedParamsOf(body.processInstanceQuery, 'processInstanceQuery', runtimeInstanceFilter)),
    historicQuery: nestedParamsOf(body.historicProcessInstanceQuery, 'historicProcessInstanceQuery', historicInstanceFilter),
  };
  if (!selection.ids.length && !selection.query && !selection.historicQuery) {
    throw new ValidationError('需要 processInstanceIds 或查询 / give processInstanceIds, processInstanceQuery or historicProcessInstanceQuery');
  }
  return selection;
}

const DELETION = ['deleteReason', 'skipCustomListeners', 'skipSubprocesses', 'skipIoMappings', 'failIfNotExists'];

/**
 * Deletion options. skipSubprocesses is refused: the instances a deleted
 * instance called are always deleted with it here (services/instances.ts).
 * skipIoMappings is taken either way, as DELETE /process-instance/{id}
 * takes it: a delete here never runs an activity's output mapping.
 */
function deletionOf(body: Record<string, unknown>) {
  if (body.deleteReason != null && typeof body.deleteReason !== 'string') throw new ValidationError('deleteReason 必须是文本 / deleteReason must be a string', { field: 'deleteReason' });
  if (flag(body, 'skipSubprocesses', false)) {
    throw new ValidationError('skipSubprocesses: 本服务器删除流程实例时总是一并删除其调用的子流程实例 / skipSubprocesses is not supported: called instances are always deleted with their caller', { field: 'skipSubprocesses' });
  }
  flag(body, 'skipIoMappings', false);
  return { deleteReason: (body.deleteReason as string | undefined) ?? null, skipCustomListeners: flag(body, 'skipCustomListeners', false), failIfNotExists: flag(body, 'failIfNotExists', true) };
}

/** Camunda's asynchronous process instance operations: each answers the batch it wrote (BatchDto). */
export function makeInstanceBatchRoutes(deps: { instanceBatches?: InstanceBatchService | undefined; batches: BatchService }): Router {
  const router = new Router();
  // Read per request: building the app (the route table) needs no services.
  const service = (): InstanceBatchService => deps.instanceBatches!;
  router.post('/process-instance/delete', async (ctx) => {
    const body = bodyWith(ctx, ['processInstanceIds', 'processInstanceQuery', ...DELETION]);
    ctx.body = batchDto(await service().delete(selectionOf(body), deletionOf(body), principalOf(ctx)));
  });
  router.post('/process-instance/delete-historic-query-based', async (ctx) => {
    const body = bodyWith(ctx, ['processInstanceIds', 'historicProcessInstanceQuery', ...DELETION]);
    ctx.body = batchDto(await service().delete(selectionOf(body), deletionOf(body), principalOf(ctx)));
  });
  router.post('/process-instance/suspended-async', async (ctx) => {
    const body = bodyWith(ctx, [...SELECTION, 'suspended']);
    if (typeof body.suspended !== 'boolean') throw new ValidationError('suspended 必须是布尔值 / suspended must be a boolean', { field: 'suspended' });
    ctx.body = batchDto(await service().setSuspended(selectionOf(body), body.suspended, principalOf(ctx)));
  });
  router.post('/process-instance/variables-async', async (ctx) => {
    const body = bodyWith(ctx, [...SELECTION, 'variables']);
    ctx.body = batchDto(await service().setVariables(selectionOf(body), parseVariables(body.variables), principalOf(ctx)));
  });
  router.post('/process-instance/message-async', async (ctx) => {
    const body = bodyWith(ctx, [...SELECTION, 'messageName', 'variables']);
    if (typeof body.messageName !== 'string' || !body.messageName) throw new ValidationError('messageName 是必填项 / messageName is required', { field: 'messageName' });
    ctx.body = batchDto(await service().correlate(selectionOf(body), body.messageName, parseVariables(body.variables), principalOf(ctx)));
  });
  router.post('/process-instance/:id/modification-async', async (ctx) => {
    ctx.body = batchDto(await deps.batches.modifyInstanceAsync(ctx.params.id, parseModification(bodyObject(ctx)), principalOf(ctx)));
  });
  return router;
}
