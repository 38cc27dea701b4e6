import Router from '@koa/router';
import { ValidationError } from '../../errors.ts';
import type { Context } from 'koa';
import type { BatchService } from '../../services/batches.ts';
import { parseModification, type ExecuteBody, type ModificationService } from '../../services/modification.ts';
import { principalOf } from '../auth.ts';
import { bodyObject } from '../params.ts';
import { batchDto } from './batches.ts';

/** The processInstanceQuery fields /modification/execute reads (those of GET /process-instance). */
const QUERY_FIELDS = ['processDefinitionKey', 'businessKey', 'businessKeyLike', 'processInstanceIds', 'superProcessInstance', 'subProcessInstance'];

function stringList(value: unknown, what: string): string[] {
  if (value == null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || !v)) throw new ValidationError(`${what} 必须是文本数组 / ${what} must be an array of strings`);
  return value as string[];
}

function readQuery(raw: unknown) {
  if (raw == null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ValidationError('processInstanceQuery 必须是对象 / processInstanceQuery must be an object');
  const q = raw as Record<string, unknown>;
  const unknown = Object.keys(q).filter((k) => !QUERY_FIELDS.includes(k));
  if (unknown.length) throw new ValidationError(`processInstanceQuery 不支持 ${unknown.join(', ')} / processInstanceQuery: unsupported ${unknown.join(', ')}; supported: ${QUERY_FIELDS.join(', ')}`);
  const text = (k: string) => {
    if (q[k] != null && typeof q[k] !== 'string') throw new ValidationError(`processInstanceQuery.${k} 必须是文本 / processInstanceQuery.${k} must be a string`);
    return q[k] as string | undefined;
  };
  return {
    definitionKey: text('processDefinitionKey'), businessKey: text('businessKey'), businessKeyLike: text('businessKeyLike'),
    ids: q.processInstanceIds == null ? undefined : stringList(q.processInstanceIds, 'processInstanceQuery.processInstanceIds'),
    superProcessInstance: text('superProcessInstance'), subProcessInstance: text('subProcessInstance'),
  };
}

/** The body of `/modification/execute` and `/modification/executeAsync` (Camunda's ModificationDto). */
function readExecute(ctx: Context): ExecuteBody {
  const body = bodyObject(ctx);
  if (body.historicProcessInstanceQuery != null) throw new ValidationError('不支持 historicProcessInstanceQuery / historicProcessInstanceQuery is not supported; use processInstanceQuery or processInstanceIds');
  if (typeof body.processDefinitionId !== 'string' || !body.processDefinitionId) throw new ValidationError('processDefinitionId 是必填项 / processDefinitionId is required');
  return {
    processDefinitionId: body.processDefinitionId, ids: stringList(body.processInstanceIds, 'processInstanceIds'),
    query: readQuery(body.processInstanceQuery), modification: parseModification(body),
  };
}

/** Camunda 7's process instance modification: one instance, or many by ids or query, at once or as a batch. */
export function makeModificationRoutes(deps: { modification?: ModificationService | undefined; batches: BatchService }): Router {
  const router = new Router();
  // Read per request: building the app (the route table) needs no services.
  const modification = (): ModificationService => deps.modification!;
  router.post('/process-instance/:id/modification', async (ctx) => {
    await modification().modify(ctx.params.id, parseModification(bodyObject(ctx)), principalOf(ctx));
    ctx.status = 204;
  });
  router.post('/modification/execute', async (ctx) => {
    await modification().execute(readExecute(ctx), principalOf(ctx));
    ctx.status = 204;
  });
  router.post('/modification/executeAsync', async (ctx) => {
    ctx.body = batchDto(await deps.batches.modifyAsync(readExecute(ctx), principalOf(ctx)));
  });
  return router;
}
