import Router from '@koa/router';
import type { Context } from 'koa';
import { ValidationError } from '../../errors.ts';
import { refuseExecutionDate, type InstanceSelection, type SuspensionService } from '../../services/suspension.ts';
import { principalOf } from '../auth.ts';
import { bodyObject } from '../params.ts';

/** The processInstanceQuery fields PUT /process-instance/suspended honours; any other is refused, never ignored. */
const QUERY_FIELDS = ['processDefinitionId', 'processDefinitionKey', 'businessKey', 'processInstanceIds'] as const;

function bodyOf(ctx: Context, allowed: string[]): Record<string, unknown> {
  const body = bodyObject(ctx);
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length) {
    throw new ValidationError(`不支持的字段 / unsupported field(s) ${unknown.join(', ')}; this server takes ${allowed.join(', ')}`, { fields: unknown });
  }
  if (typeof body.suspended !== 'boolean') throw new ValidationError('suspended 必须是 true 或 false / suspended must be true or false', { field: 'suspended' });
  return body;
}

function optionalString(body: Record<string, unknown>, name: string): string | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || !v) throw new ValidationError(`${name} 必须是非空文本 / ${name} must be a non-empty string`, { field: name });
  return v;
}

function stringList(v: unknown, name: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw new ValidationError(`${name} 必须是文本数组 / ${name} must be an array of strings`, { field: name });
  return v as string[];
}

function queryOfBody(v: unknown): InstanceSelection['query'] {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new ValidationError('processInstanceQuery 必须是对象 / processInstanceQuery must be an object', { field: 'processInstanceQuery' });
  const q = v as Record<string, unknown>;
  const unknown = Object.keys(q).filter((k) => !(QUERY_FIELDS as readonly string[]).includes(k));
  if (unknown.length) {
    throw new ValidationError(`processInstanceQuery 中不支持的条件 / processInstanceQuery: unsupported criteria ${unknown.join(', ')}; this server takes ${QUERY_FIELDS.join(', ')}`, { fields: unknown.map((k) => `processInstanceQuery.${k}`) });
  }
  return {
    processDefinitionId: optionalString(q, 'processDefinitionId'), processDefinitionKey: optionalString(q, 'processDefinitionKey'),
    businessKey: optionalString(q, 'businessKey'), processInstanceIds: stringList(q.processInstanceIds, 'processInstanceQuery.processInstanceIds'),
  } as InstanceSelection['query'];
}

/** Camunda's checks of PUT /process-instance/suspended (ProcessInstanceSuspensionStateDto), in its words. */
function instanceSelection(body: Record<string, unknown>): InstanceSelection {
  const s: InstanceSelection = {
    processDefinitionId: optionalString(body, 'processDefinitionId'), processDefinitionKey: optionalString(body, 'processDefinitionKey'),
    processInstanceIds: stringList(body.processInstanceIds, 'processInstanceIds'), query: queryOfBody(body.processInstanceQuery),
  };
  const single = [s.processDefinitionId, s.processDefinitionKey].filter((x) => x !== undefined).length;
  const group = [s.processInstanceIds, s.query].filter((x) => x !== undefined).length;
  if (single && group) {
    throw new ValidationError('只能按流程定义或按实例组选择 / Choose either a single processInstance with processDefinitionId or processDefinitionKey or a group of processInstances with processInstanceIds, procesInstanceQuery or historicProcessInstanceQuery.');
  }
  if (single > 1) throw new ValidationError('processDefinitionId 与 processDefinitionKey 只能给一个 / Only one of processDefinitionId or processDefinitionKey should be set to update the suspension state.');
  if (!single && !group) throw new ValidationError('需要 processDefinitionId 或 processDefinitionKey / Either processDefinitionId or processDefinitionKey should be set to update the suspension state.');
  return s;
}

const DEFINITION_FIELDS = ['suspended', 'includeProcessInstances', 'executionDate'];

function definitionChange(body: Record<string, unknown>) {
  refuseExecutionDate(body.executionDate);
  const include = body.includeProcessInstances ?? false;
  if (typeof include !== 'boolean') throw new ValidationError('includeProcessInstances 必须是 true 或 false / includeProcessInstances must be true or false', { field: 'includeProcessInstances' });
  return { suspended: body.suspended as boolean, includeProcessInstances: include };
}

/** Tenant of the by-key forms: processDefinitionTenantId, or none with processDefinitionWithoutTenantId. */
function tenantOf(body: Record<string, unknown>): string | null | undefined {
  const tenant = optionalString(body, 'processDefinitionTenantId');
  if (body.processDefinitionWithoutTenantId !== undefined && typeof body.processDefinitionWithoutTenantId !== 'boolean') {
    throw new ValidationError('processDefinitionWithoutTenantId 必须是 true 或 false / processDefinitionWithoutTenantId must be true or false', { field: 'processDefinitionWithoutTenantId' });
  }
  return tenant ?? (body.processDefinitionWithoutTenantId === true ? null : undefined);
}

/** The suspension routes of /process-instance and /process-definition (Camunda 7's `…/suspended`). */
export function makeSuspensionRoutes(deps: { suspension: SuspensionService }): Router {
  const router = new Router();
  router.put('/process-instance/suspended', async (ctx) => {
    const body = bodyOf(ctx, ['suspended', 'processDefinitionId', 'processDefinitionKey', 'processInstanceIds', 'processInstanceQuery']);
    await deps.suspension.setInstances(instanceSelection(body), body.suspended as boolean, principalOf(ctx));
    ctx.status = 204;
  });
  router.put('/process-instance/:id/suspended', async (ctx) => {
    const body = bodyOf(ctx, ['suspended']);
    await deps.suspension.setInstance(ctx.params.id, body.suspended as boolean, principalOf(ctx));
    ctx.status = 204;
  });
  router.put('/process-definition/suspended', async (ctx) => {
    const body = bodyOf(ctx, [...DEFINITION_FIELDS, 'processDefinitionKey', 'processDefinitionId', 'processDefinitionTenantId', 'processDefinitionWithoutTenantId']);
    const id = optionalString(body, 'processDefinitionId');
    const key = optionalString(body, 'processDefinitionKey');
    if (id && key) throw new ValidationError('processDefinitionId 与 processDefinitionKey 只能给一个 / Only one of processDefinitionId or processDefinitionKey should be set to update the suspension state.');
    if (!id && !key) throw new ValidationError('需要 processDefinitionId 或 processDefinitionKey / Either processDefinitionId or processDefinitionKey should be set to update the suspension state.');
    const change = definitionChange(body);
    if (id) await deps.suspension.setDefinition(id, change, principalOf(ctx));
    else await deps.suspension.setDefinitionsByKey(key!, tenantOf(body), change, principalOf(ctx));
    ctx.status = 204;
  });
  router.put('/process-definition/key/:key/suspended', async (ctx) => {
    const body = bodyOf(ctx, DEFINITION_FIELDS);
    await deps.suspension.setDefinitionsByKey(ctx.params.key, undefined, definitionChange(body), principalOf(ctx));
    ctx.status = 204;
  });
  router.put('/process-definition/:id/suspended', async (ctx) => {
    const body = bodyOf(ctx, DEFINITION_FIELDS);
    await deps.suspension.setDefinition(ctx.params.id, definitionChange(body), principalOf(ctx));
    ctx.status = 204;
  });
  return router;
}
