import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Clock } from '../clock.ts';
import { instanceTimerDue } from '../engine/schedule.ts';
import type { ArmedTimer, EngineRun } from '../engine/runner.ts';
import type { Db } from '../store/db.ts';
import { cancelOpenActivities, recordActivities } from '../store/activities.ts';
import { endExternalTasksByExecution, endOpenExternalTasksOfInstance, insertExternalTasks } from '../store/external-tasks.ts';
import { deleteSubscriptions, deleteSubscriptionsOfInstance, insertSubscriptions } from '../store/messages.ts';
import type { TopicNotifier } from '../store/notify.ts';
import { insertOutbox } from '../store/outbox.ts';
import { endOpenTasksOfInstance, endTasksByExecution, insertTasks } from '../store/tasks.ts';
import { deleteTimersOfActivities, deleteTimersOfInstance, insertTimers, type NewTimerRow } from '../store/timers.ts';
import type { Variables } from '../types.ts';
import type { VariableVault } from './sealed-variables.ts';
import type { NotifyEvents } from './notify-events.ts';
import { armReminders } from './reminders.ts';
import { findInstance } from '../store/instances.ts';
import { taskTimeoutTimers } from './task-timeouts.ts';
import { recordDecisionEvaluations } from './business-rule-tasks.ts';
import { engineChanges } from './variables.ts';

/*
 * Persisting what engine runs did (execution.ts runs them): the rows each
 * run opens and closes, in the transaction that saves the instances' state.
 */

/** The notification topic that tells schedulers a timer was armed. */
export const TIMERS_TOPIC = '__timers__';

/**
 * When a timer is due by the server's clock (the database's; a test's
 * injected one), read in the server's zone (TIMEZONE): a date at that date
 * (local time there when it has no offset); a duration counts from now in
 * calendar terms, so `P3M` is three calendar months from the clock everyone
 * shares; a cycle with a start date at its next occurrence from the start.
 * Anything else keeps the span the engine computed.
 */
export function dueAt(timer: ArmedTimer, now: Date, zone: string): Date {
  const exact = instanceTimerDue(timer.timerType, timer.expression, now, zone);
  if (exact) return exact;
  if (timer.timerType === 'timeDate') return timer.expireAt;
  // The engine reads the wall clock twice while arming, so its span can be a
  // millisecond or two long; durations are written in whole seconds.
  const span = timer.expireAt.getTime() - timer.armedAt.getTime();
  return new Date(now.getTime() + (span >= 1000 ? Math.round(span / 1000) * 1000 : span));
}

/** Deletes every task, external task, timer, subscription and running element still open in an ended instance. */
export async function closeEverythingOf(trx: Db, instanceId: string): Promise<void> {
  await endOpenTasksOfInstance(trx, instanceId);
  await endOpenExternalTasksOfInstance(trx, instanceId);
  await deleteTimersOfInstance(trx, instanceId);
  await deleteSubscriptionsOfInstance(trx, instanceId);
  await cancelOpenActivities(trx, instanceId);
}

export interface RunContext {
  instanceId: string;
  definitionId: string;
  definitionKey: string;
  businessKey: string | null;
  /** Variable names the definition marks sensitive (see services/sealed-variables.ts). */
  sensitive: ReadonlySet<string>;
  /** Variables before the run, including those the caller is setting now. */
  variables: Variables;
  /** Variables the caller set in this command (written even if the engine kept them unchanged). */
  setByCaller: Variables;
  /** The wait (user or external task) this command completes, if any. */
  completed?: { executionId: string; by: string } | undefined;
  /**
   * User tasks this run opens that the diagram leaves unassigned, given to
   * someone by the command itself (activity id -> user: send back and
   * withdraw hand a step back), so they are saved and announced as assigned.
   */
  assignOpened?: Readonly<Record<string, string>> | undefined;
}

/** Makes persistRuns, which writes the runs of one command or one batch. */
export function makePersistRuns(notifier: TopicNotifier, clock: Clock, zone: string, vault: VariableVault, events: NotifyEvents) {
  /**
   * Writes everything one or more engine runs produced: variables, user and
   * external tasks opened and closed, waits, timers, thrown messages, element
   * history. Call inside the transaction that saves the instances' state, so
   * all of it commits or none of it does. The runs of a batch share each
   * statement, so a batch costs about what one run does.
   */
  return async function persistRuns(trx: Db, runs: { ctx: RunContext; run: EngineRun }[]): Promise<void> {
    const evaluatedAt = runs.some(({ run }) => run.evaluatedDecisions.length) ? await clock.now(trx as Knex.Transaction) : undefined;
    for (const { ctx, run } of runs) {
      await vault.save(trx, ctx.instanceId, ctx.sensitive, { ...ctx.setByCaller, ...engineChanges(ctx.variables, run.variables) });
      // The history of the decisions its business rule tasks evaluated (business-rule-tasks.ts).
      if (evaluatedAt) await recordDecisionEvaluations(trx, ctx, run, evaluatedAt, vault.keyring);
    }
    const taskIds = new Map<RunContext, Map<string, string>>();
    const assigneeOf = (ctx: RunContext, t: EngineRun['openedTasks'][number]) => t.assignee ?? ctx.assignOpened?.[t.activityId] ?? null;
    const common = (ctx: RunContext) => ({ process_instance_id: ctx.instanceId, definition_id: ctx.definitionId, definition_key: ctx.definitionKey });
    await insertTasks(trx, runs.flatMap(({ ctx, run }) => {
      const ids = new Map<string, string>();
      taskIds.set(ctx, ids);
      return run.openedTasks.map((t) => {
        const id = t.id ?? randomUUID();
        ids.set(t.executionId, id);
        return {
          id, ...common(ctx), task_definition_key: t.activityId, execution_id: t.executionId, name: t.name, description: t.description,
          assignee: assigneeOf(ctx, t), candidate_users: t.candidateUsers, candidate_groups: t.candidateGroups, priority: t.priority,
          due: t.due, follow_up: t.followUp, form_key: t.formKey, form_ref: t.formRef,
        };
      });
    }));
    // Who is told of the tasks just opened, in this transaction (notify-events.ts).
    await events.tasksOpened(trx, runs.flatMap(({ ctx, run }) => run.openedTasks.map((t) => ({
      id: taskIds.get(ctx)!.get(t.executionId)!, name: t.name, definitionId: ctx.definitionId, taskDefinitionKey: t.activityId,
      processInstanceId: ctx.instanceId, assignee: assigneeOf(ctx, t), candidateUsers: t.candidateUsers, candidateGroups: t.candidateGroups,
    }))));
    // Their deadline reminders, armed with them (reminders.ts).
    await armReminders(trx, clock, events, notifier, runs.flatMap(({ ctx, run }) => run.openedTasks.filter((t) => t.due).map((t) => ({
      id: taskIds.get(ctx)!.get(t.executionId)!, definitionId: ctx.definitionId, taskDefinitionKey: t.activityId, due: t.due,
    }))));
    await insertExternalTasks(trx, runs.flatMap(({ ctx, run }) => run.openedExternalTasks.map((t) => ({
      id: randomUUID(), ...common(ctx), activity_id: t.activityId, execution_id: t.executionId, topic: t.topic,
      business_key: ctx.businessKey, priority: t.priority,
    }))));
    await notifier.announce(trx, runs.flatMap(({ run }) => run.openedExternalTasks.map((t) => t.topic)));
    await insertSubscriptions(trx, runs.flatMap(({ ctx, run }) => run.openedMessageWaits.map((w) => ({ ...w, instanceId: ctx.instanceId }))));
    const now = runs.some(({ run }) => run.armedTimers.length || run.thrownMessages.length || run.openedTasks.some((t) => t.timeouts.length))
      ? await clock.now(trx as Knex.Transaction) : undefined;
    const timers = runs.flatMap(({ ctx, run }) => run.armedTimers.map<NewTimerRow>((t) => ({
      id: randomUUID(), process_instance_id: ctx.instanceId, definition_id: ctx.definitionId, activity_id: t.activityId,
      execution_id: t.executionId, timer_type: t.timerType, expression: t.expression, due_at: dueAt(t, now!, zone),
    })).concat(run.openedTasks.flatMap((t) => taskTimeoutTimers(ctx, t, now!, zone))));
    await insertTimers(trx, timers);
    // Thrown messages are delivered by the scheduler once this commits (services/outbox.ts), announced like a timer falling due.
    const messages = runs.flatMap(({ ctx, run }) => run.thrownMessages.map((m) => {
      const id = randomUUID();
      return {
        id, due_at: now!, message_name: m.messageName, business_key: null, ...vault.sealPayload(id, engineChanges({}, m.variables), ctx.sensitive),
        source_process_instance_id: ctx.instanceId, source_activity_id: m.activityId, source_execution_id: m.executionId,
      };
    }));
    await insertOutbox(trx, messages);
    if (timers.length || messages.length) await notifier.announce(trx, [TIMERS_TOPIC]);
    for (const { ctx } of runs) {
      if (!ctx.completed) continue;
      const done = [{ instanceId: ctx.instanceId, executionId: ctx.completed.executionId }];
      await endTasksByExecution(trx, done, { reason: 'completed', completedBy: ctx.completed.by });
      await endExternalTasksByExecution(trx, done, 'completed');
    }
    // Waits the engine closed on its own (an interrupting boundary event, a terminate end) are deleted, not completed.
    const closed = runs.flatMap(({ ctx, run }) => run.closedWaitExecutions.map((executionId) => ({ ctx, executionId })));
    const cancelled = closed.filter((c) => c.executionId !== c.ctx.completed?.executionId).map((c) => ({ instanceId: c.ctx.instanceId, executionId: c.executionId }));
    await endTasksByExecution(trx, cancelled, { reason: 'deleted' });
    await endExternalTasksByExecution(trx, cancelled, 'deleted');
    const closedRefs = closed.map((c) => ({ instanceId: c.ctx.instanceId, executionId: c.executionId }));
    await deleteSubscriptions(trx, closedRefs);
    await deleteTimersOfActivities(trx, closedRefs);
    await recordActivities(trx, runs.map(({ ctx, run }) => ({ instanceId: ctx.instanceId, events: run.activities, taskIds: taskIds.get(ctx)! })));
    // An ended instance keeps nothing open, whatever the engine reported on the way (a
    // terminate end event stops its scope's elements without their leaving): a safety net.
    for (const { ctx, run } of runs.filter(({ run }) => run.completed)) {
      await closeEverythingOf(trx, ctx.instanceId);
      const instance = await findInstance(trx, ctx.instanceId);
      // The end it reached: one the diagram marks notifyRejected is told as 驳回.
      const endEventId = run.activities.filter((a) => a.kind === 'end' && /endevent$/i.test(a.type)).at(-1)?.activityId;
      await events.instanceEnded(trx, { id: ctx.instanceId, definitionId: ctx.definitionId, businessKey: ctx.businessKey, initiator: instance?.start_user_id ?? null, endEventId });
    }
  };
}
