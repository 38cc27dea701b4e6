import { randomUUID } from 'node:crypto';
import type { EngineRun } from '../engine/runner.ts';
import type { Db } from '../store/db.ts';
import { recordActivities } from '../store/activities.ts';
import { endTasksByExecution, insertTasks } from '../store/tasks.ts';
import { upsertVariables } from '../store/variables.ts';
import type { Variables } from '../types.ts';
import { engineChanges } from './variables.ts';

export interface RunContext {
  instanceId: string;
  definitionId: string;
  definitionKey: string;
  /** Variables before the run, including those the caller is setting now. */
  variables: Variables;
  /** Variables the caller set in this command (written even if the engine kept them unchanged). */
  setByCaller: Variables;
  /** The task this command completes, if any. */
  completed?: { executionId: string; by: string } | undefined;
}

/**
 * Writes everything one engine run produced: variables, tasks opened and
 * closed, element history. Call inside the transaction that saves the
 * instance state, so all of it commits or none of it does.
 */
export async function persistRun(trx: Db, ctx: RunContext, run: EngineRun): Promise<void> {
  await upsertVariables(trx, ctx.instanceId, { ...ctx.setByCaller, ...engineChanges(ctx.variables, run.variables) });
  const taskIds = new Map<string, string>();
  await insertTasks(trx, run.openedTasks.map((t) => {
    const id = randomUUID();
    taskIds.set(t.executionId, id);
    return {
      id,
      process_instance_id: ctx.instanceId,
      definition_id: ctx.definitionId,
      definition_key: ctx.definitionKey,
      task_definition_key: t.activityId,
      execution_id: t.executionId,
      name: t.name,
      description: t.description,
      assignee: t.assignee,
      candidate_users: t.candidateUsers,
      candidate_groups: t.candidateGroups,
      priority: t.priority,
      due: t.due,
      follow_up: t.followUp,
      form_key: t.formKey,
    };
  }));
  const completedId = ctx.completed?.executionId;
  if (completedId) await endTasksByExecution(trx, ctx.instanceId, [completedId], { reason: 'completed', completedBy: ctx.completed!.by });
  // Tasks the engine closed on its own (an interrupting boundary event, a terminate end) are deleted, not completed.
  const cancelled = run.closedTaskExecutions.filter((e) => e !== completedId);
  await endTasksByExecution(trx, ctx.instanceId, cancelled, { reason: 'deleted' });
  await recordActivities(trx, ctx.instanceId, run.activities, taskIds);
}
