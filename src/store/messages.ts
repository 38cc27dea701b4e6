import type { Knex } from 'knex';
import type { MessageWait } from '../engine/runner.ts';
import type { Variables } from '../types.ts';
import { refPairs, type Db, type ExecutionRef } from './db.ts';
import { visibleInstanceIds } from './instances.ts';
import { countOf, paged, type Page } from './paging.ts';

export interface SubscriptionRow {
  process_instance_id: string;
  execution_id: string;
  activity_id: string;
  message_id: string;
  message_name: string;
  definition_id: string;
  business_key: string | null;
}

export async function insertSubscriptions(db: Db, waits: (MessageWait & { instanceId: string })[]): Promise<void> {
  if (!waits.length) return;
  await db('message_subscriptions').insert(waits.map((w) => ({
    process_instance_id: w.instanceId, execution_id: w.executionId, activity_id: w.activityId, message_id: w.messageId, message_name: w.messageName, kind: w.kind,
  }))).onConflict(['process_instance_id', 'execution_id']).ignore();
}

export async function deleteSubscriptions(db: Db, executions: ExecutionRef[]): Promise<void> {
  if (!executions.length) return;
  await db('message_subscriptions').whereIn(['process_instance_id', 'execution_id'], refPairs(executions)).delete();
}

export async function deleteSubscriptionsOfInstance(db: Db, instanceId: string): Promise<void> {
  await db('message_subscriptions').where({ process_instance_id: instanceId }).delete();
}

export async function subscriptionExists(db: Db, instanceId: string, executionId: string): Promise<boolean> {
  return (await db('message_subscriptions').where({ process_instance_id: instanceId, execution_id: executionId }).first('execution_id')) != null;
}

/**
 * Waiting elements of running instances that a message of this name would
 * reach, narrowed by business key, instance and correlation keys (variables
 * that must hold exactly these values).
 */
export async function findSubscriptions(db: Db, q: {
  kind?: 'message' | 'signal';
  messageName: string; businessKey?: string | undefined; processInstanceId?: string | undefined; correlationKeys: Variables;
}): Promise<SubscriptionRow[]> {
  const b = db('message_subscriptions as s').join('process_instances as i', 'i.id', 's.process_instance_id')
    .select('s.*', 'i.definition_id', 'i.business_key')
    // A suspended instance is not correlated (Camunda's query.active(); signals: SUSPENSION_STATE_ = 1).
    .where('s.message_name', q.messageName).where('s.kind', q.kind ?? 'message').where('i.state', 'ACTIVE').where('i.suspended', false)
    .orderBy('s.created_at').orderBy('s.execution_id');
  if (q.businessKey) b.where('i.business_key', q.businessKey);
  if (q.processInstanceId) b.where('i.id', q.processInstanceId);
  for (const [name, v] of Object.entries(q.correlationKeys)) {
    // A sealed value is an envelope: the database cannot compare it, so it never matches.
    b.whereExists((e) => e.select(db.raw('1')).from('variables as v').whereRaw('v.process_instance_id = i.id')
      .andWhere('v.name', name).whereNull('v.key_id').andWhereRaw('v.value = ?::jsonb', [JSON.stringify(v.value ?? null)]));
  }
  return b;
}

/** What an event subscription row carries for Camunda's `/event-subscription` (the subscription's id is its execution's). */
export interface EventSubscriptionRow {
  process_instance_id: string;
  execution_id: string;
  activity_id: string;
  message_id: string;
  message_name: string;
  kind: 'message' | 'signal';
  created_at: Date;
}

/** Camunda's sortBy names for event subscriptions, and their columns. */
export const eventSubscriptionSortColumns = { created: 'created_at' } as const;

export interface EventSubscriptionQuery extends Page {
  id?: string | undefined;
  eventName?: string | undefined;
  kind?: 'message' | 'signal' | undefined;
  executionId?: string | undefined;
  processInstanceId?: string | undefined;
  activityId?: string | undefined;
  visibleTo?: { userId: string; groups: string[] } | undefined;
}

function eventSubscriptions(db: Db, q: EventSubscriptionQuery): Knex.QueryBuilder {
  const b = db('message_subscriptions as s').join('process_instances as i', 'i.id', 's.process_instance_id').where('i.state', 'ACTIVE');
  if (q.id) b.where('s.execution_id', q.id);
  if (q.eventName) b.where('s.message_name', q.eventName);
  if (q.kind) b.where('s.kind', q.kind);
  if (q.executionId) b.where('s.execution_id', q.executionId);
  if (q.processInstanceId) b.where('s.process_instance_id', q.processInstanceId);
  if (q.activityId) b.where('s.activity_id', q.activityId);
  if (q.visibleTo) b.whereIn('s.process_instance_id', visibleInstanceIds(db, q.visibleTo));
  return b;
}

/** The message and signal subscriptions of running instances matching `q`, paged. */
export async function queryEventSubscriptions(db: Db, q: EventSubscriptionQuery): Promise<EventSubscriptionRow[]> {
  const b = eventSubscriptions(db, q).select('s.process_instance_id', 's.execution_id', 's.activity_id', 's.message_id', 's.message_name', 's.kind', 's.created_at');
  return paged(b, q, [{ column: 'created_at', order: 'asc' }], 's.execution_id', 's.');
}

/** How many subscriptions match (paging ignored). */
export async function countEventSubscriptions(db: Db, q: EventSubscriptionQuery): Promise<number> {
  return countOf(eventSubscriptions(db, q));
}

/**
 * Whether running instances in this scope (one instance, or all the caller
 * sees) run a definition with conditional or compensation events: their
 * subscriptions live in the engine state, not in rows, so a listing of every
 * kind there would be incomplete.
 */
export async function scopeHasUnrecordedEvents(db: Db, q: Pick<EventSubscriptionQuery, 'processInstanceId' | 'visibleTo'>): Promise<boolean> {
  const instances = db('process_instances as i').where('i.state', 'ACTIVE').select('i.definition_id');
  if (q.processInstanceId) instances.where('i.id', q.processInstanceId);
  if (q.visibleTo) instances.whereIn('i.id', visibleInstanceIds(db, q.visibleTo));
  const found = await db('process_definitions as d').whereIn('d.id', instances)
    .where((w) => w.where('d.compiled', 'like', '%bpmn:ConditionalEventDefinition%').orWhere('d.compiled', 'like', '%bpmn:CompensateEventDefinition%'))
    .first('d.id');
  return found != null;
}
