import type { Knex } from 'knex';
import type { VariableChange } from '../engine/conditional.ts';
import { readLocals, writeLocals } from '../engine/local-variables.ts';
import type { CompiledRef } from '../engine/runner.ts';
import type { EngineState } from '../engine/state.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import { findInstance, saveInstanceStates, touchInstance } from '../store/instances.ts';
import { deleteVariables } from '../store/variables.ts';
import type { Variables } from '../types.ts';
import type { DefinitionService } from './definitions.ts';
import type { Execution } from './execution.ts';
import type { Actor, TraceFact, TraceService } from './trace.ts';

/*
 * Every command that changes an instance's variables outside an engine run
 * (PUT/POST/DELETE of instance or task variables, an execution's local
 * variables, a delegate resolving a task, what task listeners fired by a
 * REST change or a timeout set) goes through changeVariables, so the conditional events waiting in
 * the instance are evaluated again in the transaction that changes them, as
 * Camunda 7 evaluates them on each variable event. Commands that run the
 * engine anyway (completing a task or an external task, correlating a
 * message, a signal) pass their variables to the run (execution.ts, advance),
 * which evaluates the same way before the wait moves on.
 */

/** The caller's changes as Camunda's variable events: set and present before is an update, else a create. */
export function callerChanges(stored: Variables, set: Variables, deleted: string[]): VariableChange[] {
  return [
    ...Object.keys(set).map((name): VariableChange => ({ name, event: name in stored ? 'update' : 'create' })),
    ...deleted.map((name): VariableChange => ({ name, event: 'delete' })),
  ];
}

/** An execution's local variables set and deleted by a command (engine/local-variables.ts keeps them in the state). */
export interface LocalChange {
  executionId: string;
  set: Record<string, unknown>;
  deleted: string[];
}

/**
 * Writes `change` into `state` (NotFoundError if the execution is not
 * there); the variable events it makes, which wake the conditional events
 * listening to those names, as Camunda dispatches a local variable's events too.
 */
export function applyLocals(state: EngineState, change: LocalChange): VariableChange[] {
  const before = readLocals(state, change.executionId) ?? {};
  const deleted = change.deleted.filter((n) => n in before && !(n in change.set));
  if (!writeLocals(state, change.executionId, change.set, deleted)) throw new NotFoundError(`执行不存在 / no running execution with id ${change.executionId}`);
  return callerChanges(before as Variables, change.set as Variables, deleted);
}

const hasConditions = new WeakMap<object, boolean>();

/** Whether a definition has conditional events at all: without, a variable change needs no engine run. Remembered per loaded definition. */
export function hasConditionalEvents(def: CompiledRef): boolean {
  let known = hasConditions.get(def);
  if (known === undefined) {
    known = def.compiled.includes('bpmn:ConditionalEventDefinition');
    hasConditions.set(def, known);
  }
  return known;
}

export interface VariableChangeInput {
  instanceId: string;
  definitionId: string;
  sensitive: ReadonlySet<string>;
  modifications: Variables;
  deletions: string[];
  actor: Actor;
  fact: TraceFact;
  /** Runs in the same transaction before the trace row (a task's own change). */
  afterSave?: ((trx: Db) => Promise<void>) | undefined;
  /** An execution's locals changed in the same command. */
  locals?: LocalChange | undefined;
  /** Only on this revision of the instance (the one a listener ran on): a change meanwhile answers 409. */
  rev?: number | undefined;
}

export function makeVariableChanges(db: Knex, definitions: DefinitionService, execution: Execution, trace: TraceService) {
  return {
    /**
     * Sets and deletes variables of a running instance in one transaction.
     * When its definition has conditional events, the engine evaluates the
     * waiting ones the change concerns and the instance moves on in that same
     * transaction, under the instance's revision (a concurrent change makes
     * it re-read and run again).
     */
    async changeVariables(input: VariableChangeInput): Promise<void> {
      const { instanceId, modifications, deletions, actor, fact } = input;
      const def = await definitions.load(input.definitionId);
      if (hasConditionalEvents(def)) {
        await execution.advance({ instanceId, definitionId: input.definitionId, activityId: '', executionId: '' }, {
          variables: modifications, deletions, by: actor.userId, action: { kind: 'conditions' }, afterSave: input.afterSave, actor, fact,
          locals: input.locals, rev: input.rev,
          stillOpen: async () => (await findInstance(db, instanceId))?.state === 'ACTIVE',
        });
        return;
      }
      // Locals live in the engine state: a new revision of it, saved only over the one they were written into.
      const row = input.locals || input.rev != null ? await findInstance(db, instanceId) : undefined;
      if (row && (!row.engine_state || row.state !== 'ACTIVE')) throw new NotFoundError(`流程实例已结束 / process instance ${instanceId} is not active`);
      if (row && input.locals) applyLocals(row.engine_state!, input.locals);
      await db.transaction(async (trx) => {
        await input.afterSave?.(trx);
        await execution.vault.save(trx, instanceId, input.sensitive, modifications);
        await deleteVariables(trx, instanceId, deletions.filter((n) => !(n in modifications)));
        if (!row) await touchInstance(trx, instanceId);
        else if ((await saveInstanceStates(trx, [{ id: instanceId, rev: input.rev ?? row.rev, engineState: row.engine_state, ended: false }])).length !== 1) {
          throw new ConflictError(`流程实例已变化，请重试 / process instance ${instanceId} changed meanwhile; retry`);
        }
        await trace.record(trx, actor, { processInstanceId: instanceId, ...fact });
      });
    },
  };
}

export type VariableChanges = ReturnType<typeof makeVariableChanges>;
