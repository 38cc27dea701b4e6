import type { Knex } from 'knex';
import type { VariableChange } from '../engine/conditional.ts';
import type { CompiledRef } from '../engine/runner.ts';
import type { Db } from '../store/db.ts';
import { findInstance, touchInstance } from '../store/instances.ts';
import { deleteVariables } from '../store/variables.ts';
import type { Variables } from '../types.ts';
import type { DefinitionService } from './definitions.ts';
import type { Execution } from './execution.ts';
import type { Actor, TraceFact, TraceService } from './trace.ts';

/*
 * Every command that changes an instance's variables outside an engine run
 * (PUT/POST/DELETE of instance or task variables, a delegate resolving a
 * task) goes through changeVariables, so the conditional events waiting in
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
          stillOpen: async () => (await findInstance(db, instanceId))?.state === 'ACTIVE',
        });
        return;
      }
      await db.transaction(async (trx) => {
        await input.afterSave?.(trx);
        await execution.vault.save(trx, instanceId, input.sensitive, modifications);
        await deleteVariables(trx, instanceId, deletions.filter((n) => !(n in modifications)));
        await touchInstance(trx, instanceId);
        await trace.record(trx, actor, { processInstanceId: instanceId, ...fact });
      });
    },
  };
}

export type VariableChanges = ReturnType<typeof makeVariableChanges>;
