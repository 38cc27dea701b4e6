import type { Knex } from 'knex';
import type { EngineState } from '../engine/state.ts';
import { signalActivity, type EngineRun, type SignalInput } from '../engine/runner.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import { listOpenExecutions, listOpenExecutionsOf } from '../store/activities.ts';
import { findInstance, findInstances, saveInstanceStates, type InstanceRow } from '../store/instances.ts';
import { deleteVariables } from '../store/variables.ts';
import { applyLocals, callerChanges, type LocalChange } from './conditions.ts';
import type { Clock } from '../clock.ts';
import type { TopicNotifier } from '../store/notify.ts';
import type { Variables } from '../types.ts';
import type { DefinitionService, LoadedDefinition } from './definitions.ts';
import { runUserOf, type Actor, type TraceFact, type TraceService } from './trace.ts';
import { toEngineError } from './engine-errors.ts';
import type { VariableVault } from './sealed-variables.ts';
import { dateNames, engineValues } from './variables.ts';
import { makeCallActivities } from './call-activities.ts';
import { groupMembersFor } from './group-members.ts';
import { closeEverythingOf, makePersistRuns, type RunContext } from './persist-runs.ts';
import { makeNotifyEvents, type NotifyOptions } from './notify-events.ts';
import { armReminders, type DueTask } from './reminders.ts';
import { withDecisions } from './business-rule-tasks.ts';
import { suspendedError } from './suspension.ts';

/** How often a command re-reads and re-runs after losing an optimistic-lock race. */
const MAX_ATTEMPTS = 5;
/** Thrown inside a transaction to roll back a save that lost an optimistic-lock race. */
const LOST_RACE = new Error('lost race');

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
 * The write side of execution: advancing a saved instance past one of its
 * waits under optimistic locking, and saving what its runs did (persist-runs.ts).
 */
export function makeExecution(
  db: Knex, definitions: DefinitionService, notifier: TopicNotifier, clock: Clock, zone: string, vault: VariableVault, trace: TraceService,
  notifyOptions: NotifyOptions = { email: false, publicBaseUrl: undefined },
) {
  const events = makeNotifyEvents(clock, notifyOptions, notifier, zone);
  const persistRuns = makePersistRuns(notifier, clock, zone, vault, events);

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
    const members = await groupMembersFor(db, def);
    const run = await withDecisions(db, def, before, (decisions) => signalActivity(def.compiledFor(instance.start_event_id), {
      state: w.state, variables: engineValues(before), openExecutions: new Set(w.open), changes: w.changes,
      activityId: target.activityId, executionId: target.executionId, action: w.action, now: clock.peek?.(), zone,
      execution: { processInstanceId: instance.id, businessKey: instance.business_key, processDefinitionId: def.id, user: w.user ?? null, dates: dateNames(before) },
      members, decisions,
    }));
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
      /** An execution's local variables the caller sets and deletes, written into the state before the run (conditions.ts). */
      locals?: LocalChange | undefined;
      /** Only on this revision of the instance (what a listener ran on): another answers 409, never a re-run. */
      rev?: number | undefined;
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
      // Nothing of a suspended instance moves (Camunda's ExecutionEntity.ensureNotSuspended); read with the
      // revision, so a suspension landing after this read fails the save below and the re-read refuses.
      if (instance.suspended) throw suspendedError('Execution', target.executionId);
      if (opts.rev != null && instance.rev !== opts.rev) throw new ConflictError(`流程实例已变化，请重试 / process instance ${instance.id} changed meanwhile; retry`);
      const localChanges = opts.locals ? applyLocals(instance.engine_state, opts.locals) : [];
      const completed = !opts.action || opts.action.kind === 'signal' ? { executionId: target.executionId, by: opts.by } : undefined;
      const deleted = (opts.deletions ?? []).filter((n) => n in stored && !(n in opts.variables));
      const before = { ...stored, ...opts.variables };
      for (const name of deleted) delete before[name];
      const ran = await runWait({
        def, instance, state: instance.engine_state, before, open: openList, target,
        action: opts.action, setByCaller: opts.variables, completed, changes: [...callerChanges(stored, opts.variables, deleted), ...localChanges], user: runUserOf(opts.actor),
      }).catch(async (err) => {
        // The instance read before a concurrent save committed and the open waits after it, the
        // run can find its wait gone ("is not waiting"): with the revision moved, that is a lost
        // race, re-read below like any other, not the caller's mistake.
        if ((await findInstance(db, target.instanceId))?.rev !== instance.rev) return undefined;
        throw toEngineError(err);
      });
      if (!ran) {
        if (!(await opts.stillOpen())) throw new ConflictError(`任务已被他人完成 / the task was completed concurrently`);
        if (attempt >= MAX_ATTEMPTS) throw new ConflictError(`流程实例并发修改过多，请重试 / too many concurrent changes to process instance ${instance.id}; retry`);
        continue;
      }
      const { ctx, run } = ran;
      // Children its call activities start, callers its end resumes (call-activities.ts).
      const steps = await calls.plan({ ctx, run, open: openList, stored: instance }, opts.actor).catch((err) => {
        throw toEngineError(err);
      });
      // A lost race rolls back: a command saving several instances (a child and the caller it
      // resumes) may have saved some before finding another moved, and none of it may stay.
      const saved = await db.transaction(async (trx) => {
        if (!(await calls.save(trx, steps, opts.actor))) throw LOST_RACE;
        // Deleted after: a script the change set going may have set one of them again, and then it stays.
        await deleteVariables(trx, instance.id, deleted.filter((n) => !(n in run.variables)));
        await opts.afterSave?.(trx);
        await trace.record(trx, opts.actor, { processInstanceId: instance.id, ...opts.fact });
      }).then(() => true, (err) => {
        if (err === LOST_RACE) return false;
        throw err;
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
      // A suspended one is left to `advance`, which refuses it; the scheduler does not claim its timers anyway.
      if (!instance || instance.state !== 'ACTIVE' || !instance.engine_state || instance.suspended) continue;
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
    /** Notifications written in a command's transaction (notify-events.ts). */
    events,
    /** Re-arms a task's deadline reminders for a due date it was given (reminders.ts). */
    armReminders: (trx: Db, tasks: DueTask[]) => armReminders(trx, clock, events, notifier, tasks),
  };
}

export type Execution = ReturnType<typeof makeExecution>;
