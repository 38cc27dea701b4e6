import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { CalledProcess, PassedValue } from '../engine/call-activity.ts';
import { EngineRunError, startProcess, type EngineRun } from '../engine/runner.ts';
import type { EngineState } from '../engine/state.ts';
import { listOpenExecutions } from '../store/activities.ts';
import type { Db } from '../store/db.ts';
import { groupMembersFor } from './group-members.ts';
import { withDecisions } from './business-rule-tasks.ts';
import { findCalledDefinition } from '../store/definitions.ts';
import { endCalledInstances, findInstance, insertInstance, markInternallyTerminated, saveInstanceStates, type InstanceRow } from '../store/instances.ts';
import type { Variables } from '../types.ts';
import { toLoaded, type DefinitionService } from './definitions.ts';
import { ProcessEngineError, toEngineError } from './engine-errors.ts';
import type { WaitTarget } from './execution.ts';
import type { RunContext } from './persist-runs.ts';
import { runUserOf, type Actor, type TraceService } from './trace.ts';
import type { VariableVault } from './sealed-variables.ts';
import { assertDefinitionActive, suspendedError } from './suspension.ts';
import { dateNames, engineChanges, engineValues } from './variables.ts';

/*
 * Call activities, the server's side (Camunda 7 semantics). A command's run
 * may reach a call activity: the called process starts as an instance of its
 * own, in the same transaction. A command's run may end an instance that a
 * call activity called: its caller goes on, in the same transaction, with
 * what `camunda:out` passes back, or with the BPMN error the child ended
 * with when the caller catches it. Both cascade (a child that ends at once, a
 * grandchild), so a command is planned as a list of engine runs, one or more
 * per instance, computed before the transaction and saved in it together,
 * each stored instance under its revision (a lost race re-runs the command).
 */

/** One engine run of a command: the instance it ran on, stored or created by it. */
export interface Step {
  ctx: RunContext;
  run: EngineRun;
  /** Execution ids running before this run. */
  open: string[];
  stored?: InstanceRow | undefined;
  created?: NewInstance | undefined;
  /** The call activity execution this run completed for a child that ended. */
  resumedCall?: string | undefined;
  /** This instance ended with a BPMN error its caller caught: it ends as deleted with the call activity. */
  errorCaught?: boolean | undefined;
}

export type NewInstance = Omit<InstanceRow, 'start_time' | 'end_time' | 'rev' | 'engine_state' | 'state'>;

/** A runaway recursion (a process calling itself at once) fails instead of filling the database. */
const MAX_STEPS = 200;

type RunWait = (w: {
  def: Awaited<ReturnType<DefinitionService['load']>>; instance: InstanceRow; state: EngineState; before: Variables; open: string[]; target: WaitTarget;
  action: { kind: 'call'; variables: Record<string, unknown> } | { kind: 'error'; code: string; message: string }; setByCaller: Variables; user: ReturnType<typeof runUserOf>;
}) => Promise<{ ctx: RunContext; run: EngineRun }>;

export function makeCallActivities(deps: {
  db: Knex; definitions: DefinitionService; vault: VariableVault; trace: TraceService; runWait: RunWait;
  persistRuns: (trx: Db, runs: { ctx: RunContext; run: EngineRun }[]) => Promise<void>;
  closeEverythingOf: (trx: Db, instanceId: string) => Promise<void>;
  engineNow: () => Date | undefined; zone: string;
}) {
  const { db, definitions, vault } = deps;

  /** Every run a command makes, starting with its own: children started, callers resumed. */
  async function plan(first: Step, actor: Actor): Promise<Step[]> {
    const steps = [first];
    for (let i = 0; i < steps.length; i++) {
      if (steps.length > MAX_STEPS) throw new ProcessEngineError(`调用层级过多 / more than ${MAX_STEPS} process instances in one command: does a process call itself?`);
      const s = steps[i]!;
      for (const call of s.run.calledProcesses) steps.push(await startChild(s, call, actor));
      if (s.run.completed) {
        const resumed = await resumeCaller(s, steps, actor);
        if (resumed) steps.push(resumed);
      }
    }
    return steps;
  }

  /** The variables of a step's instance after its run, typed. */
  const after = (s: Step): Variables => ({ ...s.ctx.variables, ...engineChanges(s.ctx.variables, s.run.variables) });

  /** Keeps a passed variable's stored type when it is copied unchanged; infers it otherwise. */
  function typed(passed: Record<string, PassedValue>, from: Variables): Variables {
    const out: Variables = {};
    for (const [name, p] of Object.entries(passed)) {
      const original = p.source === undefined ? undefined : from[p.source];
      out[name] = original && JSON.stringify(original.value) === JSON.stringify(p.value) ? original : engineChanges({}, { [name]: p.value })[name]!;
    }
    return out;
  }

  async function startChild(s: Step, call: CalledProcess, actor: Actor): Promise<Step> {
    const caller = await definitions.get(s.ctx.definitionId);
    const row = await findCalledDefinition(db, {
      key: call.calledElement, tenantId: caller.tenant_id, binding: call.binding, deploymentId: caller.deployment_id, version: call.version, versionTag: call.versionTag,
    });
    const which = call.binding === 'latest' ? '' : ` (${call.binding}${call.binding === 'version' ? ` ${call.version}` : call.binding === 'versionTag' ? ` ${call.versionTag}` : ''})`;
    if (!row) {
      throw new ProcessEngineError(`调用活动 ${call.activityId} 调用的流程 ${call.calledElement} 未部署 / call activity ${call.activityId}: no process deployed with key '${call.calledElement}'${which}`, { activityId: call.activityId });
    }
    // Camunda's createProcessInstance refuses a suspended definition, and with it the call.
    assertDefinitionActive(row);
    if (!row.startable) {
      throw new ProcessEngineError(`被调用的流程 ${row.key} 没有空启动事件 / call activity ${call.activityId}: process ${row.key} has no none start event to start at`, { activityId: call.activityId });
    }
    const def = toLoaded(row);
    const variables = typed(call.variables, after(s));
    const id = randomUUID();
    const businessKey = call.passBusinessKey ? s.ctx.businessKey : null;
    const members = await groupMembersFor(db, def);
    const run = await withDecisions(db, def, variables, (decisions) => startProcess(def.compiledFor(null), {
      variables: engineValues(variables), now: deps.engineNow(), zone: deps.zone,
      execution: { processInstanceId: id, businessKey, processDefinitionId: def.id, user: runUserOf(actor), dates: dateNames(variables) }, members, decisions,
    })).catch((err) => {
      throw toEngineError(err);
    });
    return {
      ctx: { instanceId: id, definitionId: def.id, definitionKey: def.key, businessKey, sensitive: def.sensitive, variables, setByCaller: variables },
      run, open: [],
      created: {
        id, definition_id: def.id, definition_key: def.key, business_key: businessKey, tenant_id: row.tenant_id, start_user_id: actor.userId,
        end_reason: null, start_event_id: null, super_process_instance_id: s.ctx.instanceId, super_execution_id: call.executionId,
      },
    };
  }

  /** The execution ids running after a step's run. */
  function openAfter(s: Step): string[] {
    const open = new Set(s.open);
    for (const a of s.run.activities) {
      if (a.kind === 'start') open.add(a.executionId);
      else open.delete(a.executionId);
    }
    return [...open];
  }

  /** The instance that called `link`, as it stands in this command (after its own runs here) or in the store. */
  async function callerOf(link: NewInstance, steps: Step[]) {
    if (!link.super_process_instance_id || !link.super_execution_id) return null;
    const prior = steps.findLast((x) => x.ctx.instanceId === link.super_process_instance_id);
    if (prior?.run.completed) return null;
    const instance = prior ? (prior.stored ?? ({ ...prior.created!, rev: 0 } as InstanceRow)) : await findInstance(db, link.super_process_instance_id);
    if (!instance || (!prior && instance.state !== 'ACTIVE')) return null;
    // A suspended caller does not move, so the child cannot end into it (Camunda: ensureNotSuspended on the caller's execution).
    if (instance.suspended) throw suspendedError('Execution', link.super_execution_id);
    const def = await definitions.load(instance.definition_id);
    const before = prior ? after(prior) : await vault.load(db, instance.id, def.sensitive);
    const open = prior ? openAfter(prior) : await listOpenExecutions(db, instance.id);
    const target: WaitTarget = { instanceId: instance.id, definitionId: def.id, activityId: activityOf(steps, link), executionId: link.super_execution_id };
    return {
      instance, before, call: link.super_execution_id,
      base: { def, instance, state: prior ? prior.run.state : instance.engine_state!, open, target },
      keep: { stored: prior ? prior.stored : instance, created: prior?.created, open },
    };
  }

  /**
   * A BPMN error an instance ended with, thrown from the call activity that
   * called it; caught by nothing in that caller, Camunda looks in the
   * caller's caller, and so on up. Returns the run of the instance that
   * caught it (its call activity interrupted, which ends the instances below
   * it), or null when nothing caught it.
   */
  async function throwUp(link: NewInstance, code: string, message: string, steps: Step[], actor: Actor): Promise<Step | null> {
    const caller = await callerOf(link, steps);
    if (!caller) return null;
    try {
      const { ctx, run } = await deps.runWait({ ...caller.base, before: caller.before, action: { kind: 'error', code, message }, setByCaller: {}, user: runUserOf(actor) });
      return { ...caller.keep, ctx, run };
    } catch (err) {
      if (!(err instanceof EngineRunError)) throw err;
      return throwUp(caller.instance, code, message, steps, actor);
    }
  }

  /**
   * A child ended: its caller's call activity completes with `camunda:out`,
   * or, when the child ended with a BPMN error, the error is thrown from the
   * call activity for a boundary event there (or further up) to catch, as
   * Camunda propagates it. Caught by nothing, the error end was a none end,
   * as in Camunda 7.
   */
  async function resumeCaller(child: Step, steps: Step[], actor: Actor): Promise<Step | null> {
    const link = child.stored ?? child.created!;
    if (child.run.uncaughtError) {
      const caught = await throwUp(link, child.run.uncaughtError.code, child.run.uncaughtError.message, steps, actor);
      if (caught) {
        child.errorCaught = true;
        return caught;
      }
    }
    const caller = await callerOf(link, steps);
    if (!caller) return null;
    const childVariables = after(child);
    // The out mapping runs in the engine (call-activity.ts applyOut); its values keep the child's types here.
    const { ctx, run } = await deps.runWait({ ...caller.base, before: caller.before, action: { kind: 'call', variables: engineValues(childVariables) }, setByCaller: {}, user: runUserOf(actor) });
    const passed = typed(run.passedOut, childVariables);
    return { ...caller.keep, ctx: { ...ctx, variables: { ...caller.before, ...passed }, setByCaller: passed }, run, resumedCall: caller.call };
  }

  /**
   * Saves a planned command: creates the new instances, saves each stored
   * one under the revision it was read at (false when one lost a race: the
   * caller re-runs), writes every run, and ends the children of call
   * activities that were cancelled or whose instance ended.
   */
  async function save(trx: Db, steps: Step[], actor: Actor): Promise<Map<string, Omit<InstanceRow, 'engine_state'>> | null> {
    const last = new Map<string, Step>();
    const first = new Map<string, Step>();
    for (const s of steps) {
      last.set(s.ctx.instanceId, s);
      if (!first.has(s.ctx.instanceId)) first.set(s.ctx.instanceId, s);
    }
    const inserted = new Map<string, Omit<InstanceRow, 'engine_state'>>();
    const updates: { id: string; rev: number; engineState: EngineState | null; ended: boolean }[] = [];
    for (const [id, s] of first) {
      const end = last.get(id)!.run;
      if (s.created) {
        inserted.set(id, await insertInstance(trx, {
          ...s.created, state: end.completed ? 'COMPLETED' : 'ACTIVE', engine_state: end.completed ? null : end.state, ended: end.completed,
        }));
      } else {
        updates.push({ id, rev: s.stored!.rev, engineState: end.completed ? null : end.state, ended: end.completed });
      }
    }
    if ((await saveInstanceStates(trx, updates)).length !== updates.length) return null;
    await deps.persistRuns(trx, steps.map(({ ctx, run }) => ({ ctx, run })));
    for (const s of steps.filter((x) => x.errorCaught)) await markInternallyTerminated(trx, s.ctx.instanceId);
    const cancelled = steps.map((s) => ({ instanceId: s.ctx.instanceId, executionIds: s.run.closedCalls.filter((e) => e !== s.resumedCall) }))
      .filter((c) => c.executionIds.length);
    const ended = [...last.values()].filter((s) => s.run.completed).map((s) => ({ instanceId: s.ctx.instanceId, executionIds: null }));
    if (cancelled.length || ended.length) {
      for (const id of await endCalledInstances(trx, [...cancelled, ...ended], 'INTERNALLY_TERMINATED', null)) await deps.closeEverythingOf(trx, id);
    }
    for (const s of steps.filter((x) => x.created?.super_process_instance_id)) {
      await deps.trace.record(trx, actor, {
        operation: 'Create', entityType: 'ProcessInstance', entityId: s.ctx.instanceId, processInstanceId: s.ctx.instanceId,
        details: { processDefinitionId: s.ctx.definitionId, processDefinitionKey: s.ctx.definitionKey, superProcessInstanceId: s.created!.super_process_instance_id },
      });
    }
    return inserted;
  }

  /** Whether a run needs more than its own instance saved (advanceMany leaves those to advance). */
  const reaches = (instance: InstanceRow, run: EngineRun) =>
    run.calledProcesses.length > 0 || run.closedCalls.length > 0 || (run.completed && instance.super_process_instance_id != null);

  return { plan, save, reaches };
}

/** The call activity's element id in the caller, from the child's own first step (the call that started it) or the stored link. */
function activityOf(steps: Step[], link: NewInstance): string {
  for (const s of steps) {
    const call = s.run.calledProcesses.find((c) => c.executionId === link.super_execution_id);
    if (call) return call.activityId;
  }
  // Execution ids are the element id and a suffix (bpmn-elements' getUniqueId).
  return link.super_execution_id!.replace(/_[0-9a-f]+$/, '');
}

export type CallActivities = ReturnType<typeof makeCallActivities>;
