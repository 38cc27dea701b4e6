import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { NotFoundError, ValidationError } from '../errors.ts';
import { countExecutions, lockRunningExecution, queryExecutions, type ExecutionQuery, type ExecutionRow } from '../store/executions.ts';
import { insertIncident, queryIncidents, type IncidentRow } from '../store/incidents.ts';
import {
  countEventSubscriptions, queryEventSubscriptions, scopeHasUnrecordedEvents, subscriptionExists, type EventSubscriptionQuery, type EventSubscriptionRow,
} from '../store/messages.ts';
import type { Principal, Variables } from '../types.ts';
import type { Execution } from './execution.ts';
import { assertAdmin, visibility } from './instances.ts';
import type { TraceService } from './trace.ts';

/** Incident types the server raises itself, ended or resolved with their timer or external task. */
const BUILT_IN_INCIDENTS = new Set(['failedJob', 'failedExternalTask']);

/*
 * Camunda's `/execution` and `/event-subscription`: reads of what runs and
 * waits in the instances a caller may see (store/executions.ts says what an
 * execution is here), and the commands that move one waiting execution on
 * (its message or signal, delivered as POST /message and /signal deliver
 * them) or raise an incident on it. Commands are for administrators, as
 * resolving an incident is; workers reach none of this (http/app.ts).
 */

/** What `createIncident` takes: Camunda's CreateIncidentDto. */
export interface NewIncident {
  incidentType: string;
  configuration: string | null;
  message: string | null;
}

export function makeExecutionService(db: Knex, execution: Execution, trace: TraceService) {
  /** One execution the caller may see; 404 otherwise (a hidden one is not revealed). */
  async function visibleExecution(id: string, principal: Principal): Promise<ExecutionRow> {
    const [row] = await queryExecutions(db, { id, visibleTo: visibility(principal), maxResults: 1 });
    if (!row) throw new NotFoundError(`执行不存在 / execution ${id} does not exist`);
    return row;
  }

  /** The subscription of a visible execution, of this kind and (for messages) name, if it has one. */
  async function subscriptionOf(id: string, principal: Principal, kind?: 'message', name?: string): Promise<{ execution: ExecutionRow; sub?: EventSubscriptionRow }> {
    const execution = await visibleExecution(id, principal);
    const [sub] = await queryEventSubscriptions(db, { executionId: id, processInstanceId: execution.process_instance_id, kind, eventName: name });
    return { execution, sub };
  }

  /** Moves a waiting execution on through its subscription, as a correlated message or signal would. */
  async function deliver(e: ExecutionRow, sub: EventSubscriptionRow, variables: Variables, principal: Principal, operation: string): Promise<void> {
    await execution.advance(
      { instanceId: e.process_instance_id, definitionId: e.definition_id, activityId: sub.activity_id, executionId: e.id },
      {
        variables, by: principal.userId, action: { kind: 'message', messageId: sub.message_id },
        stillOpen: () => subscriptionExists(db, e.process_instance_id, e.id), actor: principal,
        fact: {
          operation, entityType: 'Execution', entityId: e.id, processInstanceId: e.process_instance_id,
          details: { eventType: sub.kind, eventName: sub.message_name, activityId: sub.activity_id, variables: Object.keys(variables) },
        },
      },
    );
  }

  /**
   * Only message and signal subscriptions are rows here. A query of no type
   * and no name (conditional and compensation subscriptions have none) over
   * instances that may hold those would leave them out: refused, naming
   * eventType, rather than answered short.
   */
  async function assertListable(q: Omit<EventSubscriptionQuery, 'visibleTo'>, principal: Principal): Promise<void> {
    if (q.kind || q.eventName) return;
    if (await scopeHasUnrecordedEvents(db, { processInstanceId: q.processInstanceId, visibleTo: visibility(principal) })) {
      throw new ValidationError('请给出 eventType（message 或 signal）：这些流程实例含条件或补偿事件，其订阅本服务不列出 / give eventType (message or signal): these process instances have conditional or compensation events, whose subscriptions this server does not list', { unsupported: ['eventType'] });
    }
  }

  return {
    list: (q: Omit<ExecutionQuery, 'visibleTo'>, principal: Principal) => queryExecutions(db, { ...q, visibleTo: visibility(principal) }),
    count: (q: Omit<ExecutionQuery, 'visibleTo'>, principal: Principal) => countExecutions(db, { ...q, visibleTo: visibility(principal) }),
    get: visibleExecution,

    /** Camunda's messageEventSubscription: 404 when the execution does not wait for that message. */
    async messageSubscription(id: string, messageName: string, principal: Principal): Promise<EventSubscriptionRow> {
      const { sub } = await subscriptionOf(id, principal, 'message', messageName);
      if (!sub) throw new NotFoundError(`执行 ${id} 没有等待消息 ${messageName} / execution ${id} has no message subscription for ${messageName}`);
      return sub;
    },

    /** Delivers the message an execution waits for (Camunda's messageEventReceived). */
    async triggerMessage(id: string, messageName: string, variables: Variables, principal: Principal): Promise<void> {
      assertAdmin(principal);
      const { execution: e, sub } = await subscriptionOf(id, principal, 'message', messageName);
      if (!sub) throw new ValidationError(`执行 ${id} 没有等待消息 ${messageName} / execution ${id} has no pending message subscription for ${messageName}`);
      await deliver(e, sub, variables, principal, 'TriggerMessage');
    },

    /**
     * Camunda's signal(executionId): moves on an execution waiting for a
     * message or signal (a receive task, an intermediate catch event). Others
     * (a user task, an external task, a root execution) have their own way
     * on and are refused, as Camunda refuses to signal them.
     */
    async signal(id: string, variables: Variables, principal: Principal): Promise<void> {
      assertAdmin(principal);
      const { execution: e, sub } = await subscriptionOf(id, principal);
      if (!sub) {
        throw new ValidationError(`执行 ${id} 不在等待消息或信号，不能触发 / execution ${id} cannot be signaled: it does not wait for a message or signal (complete its task instead)`);
      }
      await deliver(e, sub, variables, principal, 'Signal');
    },

    /** A custom incident on an element's execution (Camunda's createIncident), shown and resolved as any other. */
    async createIncident(id: string, input: NewIncident, principal: Principal): Promise<IncidentRow> {
      assertAdmin(principal);
      const e = await visibleExecution(id, principal);
      if (!e.activity_id) {
        throw new ValidationError(`执行 ${id} 是流程实例本身，请在其运行中的元素的执行上创建事件 / execution ${id} is the process instance itself: create the incident on the execution of one of its running elements`);
      }
      // Incidents of these types are ended by their timer or external task (matched by configuration):
      // one made by hand would be ended, or resolved, by a job it does not belong to.
      if (BUILT_IN_INCIDENTS.has(input.incidentType)) {
        throw new ValidationError(`事件类型 ${input.incidentType} 由服务器自己产生，请用其他类型 / incidentType ${input.incidentType} is raised by the server itself: choose another type for a custom incident`, { field: 'incidentType' });
      }
      const incidentId = randomUUID();
      await db.transaction(async (trx) => {
        if (!await lockRunningExecution(trx, e.process_instance_id, id)) {
          throw new NotFoundError(`执行已结束 / execution ${id} has ended`);
        }
        await insertIncident(trx, {
          id: incidentId, incident_type: input.incidentType, process_instance_id: e.process_instance_id, definition_id: e.definition_id,
          activity_id: e.activity_id!, configuration: input.configuration, message: input.message, execution_id: e.id,
        });
        await trace.record(trx, principal, {
          operation: 'CreateIncident', entityType: 'Incident', entityId: incidentId, processInstanceId: e.process_instance_id,
          details: { incidentType: input.incidentType, executionId: id, activityId: e.activity_id },
        });
      });
      const [row] = await queryIncidents(db, { id: incidentId });
      return row;
    },

    async eventSubscriptions(q: Omit<EventSubscriptionQuery, 'visibleTo'>, principal: Principal): Promise<EventSubscriptionRow[]> {
      await assertListable(q, principal);
      return queryEventSubscriptions(db, { ...q, visibleTo: visibility(principal) });
    },
    async countEventSubscriptions(q: Omit<EventSubscriptionQuery, 'visibleTo'>, principal: Principal): Promise<number> {
      await assertListable(q, principal);
      return countEventSubscriptions(db, { ...q, visibleTo: visibility(principal) });
    },
  };
}

export type ExecutionService = ReturnType<typeof makeExecutionService>;
