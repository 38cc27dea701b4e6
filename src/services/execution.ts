import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { instanceTimerDue } from '../engine/schedule.ts';
import type { EngineState } from '../engine/state.ts';
import { signalActivity, type ArmedTimer, type EngineRun, type SignalInput } from '../engine/runner.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import { cancelOpenActivities, listOpenExecutions, listOpenExecutionsOf, recordActivities } from '../store/activities.ts';
import { endExternalTasksByExecution, endOpenExternalTasksOfInstance, insertExternalTasks } from '../store/external-tasks.ts';
import { findInstance, findInstances, saveInstanceStates, type InstanceRow } from '../store/instances.ts';
import { deleteSubscriptions, deleteSubscriptionsOfInstance, insertSubscriptions } from '../store/messages.ts';
import { insertOutbox } from '../store/outbox.ts';
import { deleteTimersOfActivities, deleteTimersOfInstance, insertTimers, type NewTimerRow } from '../store/timers.ts';
import { deleteVariables } from '../store/variables.ts';
import { callerChanges } from './conditions.ts';
import type { Clock } from '../clock.ts';
import type { TopicNotifier } from '../store/notify.ts';
import { endOpenTasksOfInstance, endTasksByExecution, insertTasks } from '../store/tasks.ts';
import type { Variables } from '../types.ts';
import type { DefinitionService, LoadedDefinition } from './definitions.ts';
import { runUserOf, type Actor, type TraceFact, type TraceService } from './trace.ts';
import { toEngineError } from './engine-errors.ts';
import type { VariableVault } from './sealed-variables.ts';
import { dateNames, engineChanges, engineValues } from './variables.ts';
import { makeCallActivities } from './call-activities.ts';
import { taskTimeoutTimers } from './task-timeouts.ts';
import { groupMembersFor } from './group-members.ts';

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

/** How often a command re-reads and re-runs after losing an optimistic-lock race. */
const MAX_ATTEMPTS = 5;

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
}

export interface WaitTarget {
  instanceId: string;
  definitionId: string;
  activityId: string;
  executionId: string;
}

/** A timer that a batch fires (see advanceMany): which, who fires it, and the trace fact. */
export interface BatchWait {
  target: WaitTarget;
  /** Only timers: a batch completes no task, so it has no completing user to record. */
  action: { kind: 'timer' };
  actor: Actor;
  fact: TraceFact;
  /** Runs in the batch's transaction after the instance is saved. */
  afterSave?: ((trx: Db) => Promise<void>) | undefined;
}

/**
 * The write side of execution: persisting what an engine run did, and
 * advancing a saved instance past one of its waits under optimistic locking.
 */
export function makeExecution(
  db: Knex, definitions: DefinitionService, notifier: TopicNotifier, clock: Clock, zone: string, vault: VariableVault, trace: TraceService,
) {
  /**
   * Writes everything one or more engine runs produced: variables, user and
   * external tasks opened and closed, waits, timers, thrown messages, element
   * history. Call inside the transaction that saves the instances' state, so
   * all of it commits or none of it does. The runs of a batch share each
   * statement, so a batch costs about what one run does.
   */
  async function persistRuns(trx: Db, runs: { ctx: RunContext; run: EngineRun }[]): Promise<void> {
    for (const { ctx, run } of runs) {
      await vault.save(trx, ctx.instanceId, ctx.sensitive, { ...ctx.setByCaller, ...engineChanges(ctx.variables, run.variables) });
    }
    const taskIds = new Map<RunContext, Map<string, string>>();
    const common = (ctx: RunContext) => ({ process_instance_id: ctx.instanceId, definition_id: ctx.definitionId, definition_key: ctx.definitionKey });
    await insertTasks(trx, runs.flatMap(({ ctx, run }) => {
      const ids = new Map<string, string>();
      taskIds.set(ctx, ids);
      return run.openedTasks.map((t) => {
        const id = randomUUID();
        ids.set(t.executionId, id);
        return {
          id, ...common(ctx), task_definition_key: t.activityId, execution_id: t.executionId, name: t.name, description: t.description,
          assignee: t.assignee, candidate_users: t.candidateUsers, candidate_groups: t.candidateGroups, priority: t.priority,
          due: t.due, follow_up: t.followUp, form_key: t.formKey, form_ref: t.formRef,
        };
      });
    }));
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
    for (const { ctx } of runs.filter(({ run }) => run.completed)) await closeEverythingOf(trx, ctx.instanceId);
  }

  /**
   * Runs one wait of a read, running instance through the engine: `before`
   * are its variables (with the caller's), `open` the executions still
   * running. Returns the run and the context its save needs (see persistRuns).
   */
  async function runWait(w: {
    def: LoadedDefinition; instance: InstanceRow; state: EngineState; before: Variables; open: string[]; target: WaitTarget;
    action: SignalInput['action']; setByCaller: Variables; completed?: RunContext['completed']; changes?: SignalInput['changes'];
    /** Whose command this is (`currentUser()`); none for the server's own (timers). */
    user?: ReturnType<typeof runUserOf> | undefined;
  }): Promise<{ ctx: RunContext; run: EngineRun }> {
    const { def, instance, before, target } = w;
    const run = await signalActivity(def.compiledFor(instance.start_event_id), {
      state: w.state, variables: engineValues(before), openExecutions: new Set(w.open), changes: w.changes,
      activityId: target.activityId, executionId: target.executionId, action: w.action, now: clock.peek?.(), zone,
      execution: { processInstanceId: instance.id, businessKey: instance.business_key, processDefinitionId: def.id, user: w.user ?? null, dates: dateNames(before) },
      members: await groupMembersFor(db, def),
    });
    return {
      run,
      ctx: {
        instanceId: instance.id, definitionId: def.id, definitionKey: def.key, businessKey: instance.business_key, sensitive: def.sensitive,
        // A wait a conditional boundary event interrupted before its turn was cancelled, not completed.
        variables: before, setByCaller: w.setByCaller, completed: run.preempted ? undefined : w.completed,
      },
    };
  }

  /** An instance's new revision as saveInstanceStates takes it. */
  const stateOf = (instance: InstanceRow, run: EngineRun) => ({ id: instance.id, rev: instance.rev, engineState: run.completed ? null : run.state, ended: run.completed });

  /**
   * Completes (or throws a BPMN error from) one wait of a saved instance and
   * saves the result. On a lost race it re-reads and re-runs on the new
   * state, as long as `stillOpen` says the wait is still there.
   */
  async function advance(
    target: WaitTarget,
    opts: {
      variables: Variables; by: string; action?: SignalInput['action']; stillOpen: () => Promise<boolean>; afterSave?: (trx: Db) => Promise<void>;
      /** Variables the caller deletes in the same command (only with the `conditions` action). */
      deletions?: string[];
      /** Who did it and what, for the trace row written in the same transaction. */
      actor: Actor; fact: TraceFact;
    },
  ): Promise<void> {
    const def = await definitions.load(target.definitionId);
    for (let attempt = 1; ; attempt++) {
      // The instance first: a variable change committed after this read moves its revision
      // (touchInstance), so a run on the values read below cannot save over it.
      const instance = await findInstance(db, target.instanceId);
      const [stored, openList] = await Promise.all([vault.load(db, target.instanceId, def.sensitive), listOpenExecutions(db, target.instanceId)]);
      if (!instance || instance.state !== 'ACTIVE' || !instance.engine_state) {
        throw new NotFoundError(`流程实例已结束 / process instance ${target.instanceId} is not active`);
      }
      const completed = !opts.action || opts.action.kind === 'signal' ? { executionId: target.executionId, by: opts.by } : undefined;
      const deleted = (opts.deletions ?? []).filter((n) => n in stored && !(n in opts.variables));
      const before = { ...stored, ...opts.variables };
      for (const name of deleted) delete before[name];
      const { ctx, run } = await runWait({
        def, instance, state: instance.engine_state, before, open: openList, target,
        action: opts.action, setByCaller: opts.variables, completed, changes: callerChanges(stored, opts.variables, deleted), user: runUserOf(opts.actor),
      }).catch((err) => {
        throw toEngineError(err);
      });
      // Children its call activities start, callers its end resumes (call-activities.ts).
      const steps = await calls.plan({ ctx, run, open: openList, stored: instance }, opts.actor).catch((err) => {
        throw toEngineError(err);
      });
      const saved = await db.transaction(async (trx) => {
        if (!(await calls.save(trx, steps, opts.actor))) return false;
        // Deleted after: a script the change set going may have set one of them again, and then it stays.
        await deleteVariables(trx, instance.id, deleted.filter((n) => !(n in run.variables)));
        await opts.afterSave?.(trx);
        await trace.record(trx, opts.actor, { processInstanceId: instance.id, ...opts.fact });
        return true;
      });
      if (saved) return;
      // Someone advanced the instance meanwhile (e.g. a parallel branch): re-read and re-run on the new state.
      if (!(await opts.stillOpen())) throw new ConflictError(`任务已被他人完成 / the task was completed concurrently`);
      if (attempt >= MAX_ATTEMPTS) throw new ConflictError(`流程实例并发修改过多，请重试 / too many concurrent changes to process instance ${instance.id}; retry`);
    }
  }

  /**
   * Advances a batch of waits that need nothing from a caller (the
   * scheduler's due timers): one read for all their instances, an engine run
   * each, one transaction for all, so a batch costs a few statements per
   * wait instead of a dozen. Best effort: returns the items it advanced. Those
   * it left are for the caller to advance one by one with `advance`, which
   * re-reads on a lost race and reports failures: a wait whose instance is
   * no longer running or whose run failed, all but one wait of one instance,
   * and an instance that changed meanwhile.
   */
  async function advanceMany<Item extends BatchWait>(items: Item[]): Promise<Item[]> {
    const batch = [...new Map(items.map((i) => [i.target.instanceId, i] as const)).values()];
    if (!batch.length) return [];
    const defs = new Map(await Promise.all([...new Set(batch.map((i) => i.target.definitionId))].map(async (id) => [id, await definitions.load(id)] as const)));
    const ids = batch.map((i) => i.target.instanceId);
    // The instances first, as in `advance`.
    const instances = await findInstances(db, ids);
    const [stored, open] = await Promise.all([
      vault.loadMany(db, batch.map((i) => ({ instanceId: i.target.instanceId, marked: defs.get(i.target.definitionId)!.sensitive }))),
      listOpenExecutionsOf(db, ids),
    ]);
    const byId = new Map(instances.map((i) => [i.id, i]));
    const prepared: { item: Item; instance: InstanceRow; ctx: RunContext; run: EngineRun }[] = [];
    for (const item of batch) {
      const { target } = item;
      const instance = byId.get(target.instanceId);
      if (!instance || instance.state !== 'ACTIVE' || !instance.engine_state) continue;
      try {
        const { ctx, run } = await runWait({
          def: defs.get(target.definitionId)!, instance, state: instance.engine_state, before: stored.get(instance.id)!,
          open: open.get(instance.id) ?? [], target, action: item.action, setByCaller: {},
        });
        // A run reaching another instance (a call activity's child, its caller) is left for `advance`.
        if (calls.reaches(instance, run)) continue;
        prepared.push({ item, instance, ctx, run });
      } catch {
        // Left for `advance`, which reports the failure as its own.
      }
    }
    // An instance that changed since it was read (a person completed a task in it) fails its
    // revision check: the transaction rolls back and runs again at once without it, reusing
    // the other runs, whose revisions still guard them. The ones dropped go to `advance`.
    const lostRace = new Error('lost race');
    let saving = prepared;
    for (let attempt = 1; saving.length && attempt <= MAX_ATTEMPTS; attempt++) {
      try {
        await db.transaction(async (trx) => {
          const saved = new Set(await saveInstanceStates(trx, saving.map(({ instance, run }) => stateOf(instance, run))));
          if (saved.size !== saving.length) {
            saving = saving.filter((p) => saved.has(p.instance.id));
            throw lostRace;
          }
          await persistRuns(trx, saving);
          for (const { item } of saving) await item.afterSave?.(trx);
          await trace.recordMany(trx, saving.map(({ item, instance }) => ({ actor: item.actor, facts: [{ processInstanceId: instance.id, ...item.fact }] })));
        });
        return saving.map((p) => p.item);
      } catch (err) {
        if (err !== lostRace) throw err;
      }
    }
    return [];
  }

  const calls = makeCallActivities({
    db, definitions, vault, trace, runWait: runWait as never, persistRuns, closeEverythingOf, engineNow: () => clock.peek?.(), zone,
  });

  return {
    advanceMany,
    /** Call activities: a command's children and resumed callers, planned and saved together. */
    calls,
    /** Writes one engine run (see persistRuns). */
    persistRun: (trx: Db, ctx: RunContext, run: EngineRun) => persistRuns(trx, [{ ctx, run }]),
    advance,
    /** "now" for the engine when the clock is injected (see Clock.peek). */
    engineNow: () => clock.peek?.(),
    /** The server's time zone, for the engine to read local timer dates in. */
    zone,
    /** Variables in and out of the store, sealed where sensitive. */
    vault,
  };
}

export type Execution = ReturnType<typeof makeExecution>;
