import Router from '@koa/router';
import type { Context } from 'koa';
import { ValidationError } from '../../errors.ts';
import type { ExecutionService } from '../../services/executions.ts';
import { parseVariables } from '../../services/variables.ts';
import { executionSortColumns, type ExecutionRow } from '../../store/executions.ts';
import { eventSubscriptionSortColumns, type EventSubscriptionRow } from '../../store/messages.ts';
import { principalOf } from '../auth.ts';
import { formatDate } from '../format.ts';
import { bodyObject, pagingOf, paramsOf, queryOf, type Params } from '../params.ts';
import { suspensionFilterOf } from '../suspension-filter.ts';
import { incidentDto } from './incidents.ts';

const executionDto = (e: ExecutionRow) => ({ id: e.id, processInstanceId: e.process_instance_id, ended: false, tenantId: e.tenant_id });

const subscriptionDto = (s: EventSubscriptionRow) => ({
  id: s.execution_id, eventType: s.kind, eventName: s.message_name, executionId: s.execution_id, processInstanceId: s.process_instance_id,
  activityId: s.activity_id, createdDate: formatDate(s.created_at), tenantId: null,
});

/**
 * Camunda's execution criteria this server cannot apply exactly: incidents
 * name no execution here, variables live with the instance (or, for locals,
 * in the engine state), and there are no tenants. Refused, never ignored.
 */
const REFUSED_EXECUTION = ['incidentId', 'incidentType', 'variables', 'processVariables', 'variableNamesIgnoreCase', 'variableValuesIgnoreCase', 'tenantIdIn', 'withoutTenantId'];
/** Tenants: none here. (Conditional and compensation subscriptions, kept in no row, are refused by the service: executions.ts.) */
const REFUSED_SUBSCRIPTION = ['tenantIdIn', 'withoutTenantId', 'includeEventSubscriptionsWithoutTenantId'];

function refuse(ctx: Context, names: string[]): void {
  const given = ctx.method === 'POST' ? bodyObject(ctx) : (ctx.query as Record<string, unknown>);
  const named = names.filter((k) => given[k] != null && given[k] !== '' && !(Array.isArray(given[k]) && !(given[k] as unknown[]).length));
  if (named.length) throw new ValidationError(`不支持的查询条件 / query fields not supported here: ${named.join(', ')}`, { unsupported: named });
}

const executionFilter = (q: Params) => {
  // Read (so a body naming them is not "unknown"); refused above when given.
  for (const k of REFUSED_EXECUTION) q.raw(k);
  return {
    processInstanceId: q.string('processInstanceId'), definitionId: q.string('processDefinitionId'), definitionKey: q.string('processDefinitionKey'),
    businessKey: q.string('businessKey'), activityId: q.string('activityId'),
    signalName: q.string('signalEventSubscriptionName'), messageName: q.string('messageEventSubscriptionName'),
    suspended: suspensionFilterOf(q.bool('active'), q.bool('suspended')), sorting: q.sorting(executionSortColumns),
  };
};

const EVENT_TYPES = ['message', 'signal', 'conditional', 'compensate'] as const;

function subscriptionFilter(ctx: Context) {
  refuse(ctx, REFUSED_SUBSCRIPTION);
  const q = queryOf(ctx);
  const eventType = q.oneOf('eventType', EVENT_TYPES);
  if (eventType === 'conditional' || eventType === 'compensate') {
    throw new ValidationError(`不支持 eventType=${eventType}：本服务只记录消息和信号的等待 / eventType ${eventType} is not supported: this server keeps only message and signal subscriptions`, { unsupported: ['eventType'] });
  }
  return {
    id: q.string('eventSubscriptionId'), eventName: q.string('eventName'), kind: eventType, executionId: q.string('executionId'),
    processInstanceId: q.string('processInstanceId'), activityId: q.string('activityId'), sorting: q.sorting(eventSubscriptionSortColumns),
  };
}

/** `/execution` and `/event-subscription`: what runs and waits in the instances the caller may see. */
export function makeExecutionRoutes(deps: { executions: ExecutionService }): Router {
  const router = new Router();
  const filter = (ctx: Context) => {
    refuse(ctx, REFUSED_EXECUTION);
    return paramsOf(ctx, executionFilter);
  };
  const list = async (ctx: Context) => {
    ctx.body = (await deps.executions.list({ ...filter(ctx), ...pagingOf(ctx) }, principalOf(ctx))).map(executionDto);
  };
  const count = async (ctx: Context) => {
    const { sorting: _s, ...rest } = filter(ctx);
    ctx.body = { count: await deps.executions.count(rest, principalOf(ctx)) };
  };
  router.get('/execution', list).post('/execution', list);
  router.get('/execution/count', count).post('/execution/count', count);
  router.get('/execution/:id', async (ctx) => {
    ctx.body = executionDto(await deps.executions.get(ctx.params.id, principalOf(ctx)));
  });
  router.post('/execution/:id/signal', async (ctx) => {
    await deps.executions.signal(ctx.params.id, parseVariables(bodyObject(ctx).variables), principalOf(ctx));
    ctx.status = 204;
  });
  router.get('/execution/:id/messageSubscriptions/:messageName', async (ctx) => {
    ctx.body = subscriptionDto(await deps.executions.messageSubscription(ctx.params.id, ctx.params.messageName, principalOf(ctx)));
  });
  router.post('/execution/:id/messageSubscriptions/:messageName/trigger', async (ctx) => {
    await deps.executions.triggerMessage(ctx.params.id, ctx.params.messageName, parseVariables(bodyObject(ctx).variables), principalOf(ctx));
    ctx.status = 204;
  });
  router.post('/execution/:id/create-incident', async (ctx) => {
    const body = bodyObject(ctx);
    if (typeof body.incidentType !== 'string' || !body.incidentType) throw new ValidationError('需要 incidentType / incidentType is required');
    for (const k of ['configuration', 'message'] as const) {
      if (body[k] != null && typeof body[k] !== 'string') throw new ValidationError(`${k} 必须是文本 / ${k} must be a string`);
    }
    const row = await deps.executions.createIncident(ctx.params.id, {
      incidentType: body.incidentType, configuration: (body.configuration as string | undefined) ?? null, message: (body.message as string | undefined) ?? null,
    }, principalOf(ctx));
    ctx.body = incidentDto(row);
  });

  router.get('/event-subscription', async (ctx) => {
    ctx.body = (await deps.executions.eventSubscriptions({ ...subscriptionFilter(ctx), ...pagingOf(ctx) }, principalOf(ctx))).map(subscriptionDto);
  });
  router.get('/event-subscription/count', async (ctx) => {
    const { sorting: _s, ...rest } = subscriptionFilter(ctx);
    ctx.body = { count: await deps.executions.countEventSubscriptions(rest, principalOf(ctx)) };
  });
  return router;
}
