import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Clock } from '../clock.ts';
import { timeoutDue, timeoutExecutionId, timeoutListenerOf, timeoutRefOf } from '../engine/task-timeouts.ts';
import type { WaitingTask } from '../engine/user-tasks.ts';
import type { Db } from '../store/db.ts';
import { resolveIncidents } from '../store/incidents.ts';
import { findInstance } from '../store/instances.ts';
import type { TopicNotifier } from '../store/notify.ts';
import { listOpenTasksOfInstance } from '../store/tasks.ts';
import { deleteTimer, insertTimers, timerExists, type NewTimerRow, type TimerRow } from '../store/timers.ts';
import type { DefinitionService } from './definitions.ts';
import type { Execution } from './execution.ts';
import { TIMERS_TOPIC, type RunContext } from './persist-runs.ts';
import { makeTaskListeners } from './task-listeners.ts';
import { makeVariableChanges } from './conditions.ts';
import type { Actor, TraceFact, TraceService } from './trace.ts';

/*
 * `timeout` task listeners (engine/task-timeouts.ts): their timers are armed
 * with the task (persistRuns), and fired here instead of signalling the
 * engine: the listener runs over the variables and the task's locals, the
 * task stays open, and what it set is saved in the transaction that deletes
 * the timer row (and arms a cycle's next one). A failing script throws, and
 * the scheduler records the failure as for any timer (retries, incident).
 */

/** The timer rows of a new task's timeout listeners, first firing each. */
export function taskTimeoutTimers(ctx: RunContext, task: WaitingTask, now: Date, zone: string): NewTimerRow[] {
  return task.timeouts.flatMap((l) => {
    const due = timeoutDue(l.spec, 1, now, zone);
    return due ? [{
      id: randomUUID(), process_instance_id: ctx.instanceId, definition_id: ctx.definitionId, activity_id: task.activityId,
      execution_id: timeoutExecutionId({ taskExecutionId: task.executionId, index: l.index, firing: 1 }),
      timer_type: l.spec.timerType, expression: l.spec.expression, due_at: due,
    }] : [];
  });
}

/** Whether a timer row is a timeout listener's (fired by `fire` here, not by the engine). */
export const isTaskTimeout = (timer: TimerRow) => timeoutRefOf(timer.execution_id) != null;

export function makeTaskTimeouts(db: Knex, definitions: DefinitionService, execution: Execution, clock: Clock, notifier: TopicNotifier, trace: TraceService) {
  const listeners = makeTaskListeners(db, definitions, execution);
  const variableChanges = makeVariableChanges(db, definitions, execution, trace);
  return {
    /** Fires a timeout listener's timer; one whose task or instance is gone has nothing to fire and is removed. */
    async fire(timer: TimerRow, actor: Actor, fact: TraceFact): Promise<void> {
      const ref = timeoutRefOf(timer.execution_id)!;
      const instance = await findInstance(db, timer.process_instance_id);
      const task = instance?.engine_state && instance.state === 'ACTIVE'
        ? (await listOpenTasksOfInstance(db, instance.id)).find((t) => t.execution_id === ref.taskExecutionId) : undefined;
      const def = instance && task ? await definitions.load(instance.definition_id) : undefined;
      const listener = def && task ? timeoutListenerOf(def.compiledFor(instance!.start_event_id), task.task_definition_key, ref.index) : null;
      if (!instance || !task || !def || !listener) {
        // The row, its job-log row and its incident's end commit together.
        await db.transaction((trx) => deleteTimer(trx, timer.id));
        return;
      }
      const listened = await listeners.run(task, instance, def, [{ event: 'timeout', code: listener.code, task: true, ...(listener.expression !== undefined ? { expression: listener.expression } : {}) }]);
      // Saved as every variable change is (conditions.ts), with the timer's own rows, in one transaction.
      await variableChanges.changeVariables({
        ...listened, actor, fact,
        afterSave: async (trx) => {
          if (!(await timerExists(trx, timer.id))) throw new TimerGone(); // fired or removed meanwhile: nothing is saved
          if (timer.last_error) await resolveIncidents(trx, timer.id);
          await deleteTimer(trx, timer.id, 'success');
          // The value the row holds: an expression was resolved when the task was created, as Camunda keeps a job's repeat.
          await armNext(trx, timer, { timerType: timer.timer_type as 'timeCycle', expression: timer.expression ?? listener.spec.expression }, ref);
        },
      }).catch((err) => {
        if (!(err instanceof TimerGone)) throw err;
      });
    },
  };

  /** A cycle's next firing, as a new row (its execution id counts the firings). */
  async function armNext(trx: Db, timer: TimerRow, spec: Parameters<typeof timeoutDue>[0], ref: NonNullable<ReturnType<typeof timeoutRefOf>>) {
    const due = timeoutDue(spec, ref.firing + 1, await clock.now(trx as Knex.Transaction), execution.zone, timer.due_at);
    if (!due) return;
    await insertTimers(trx, [{
      id: randomUUID(), process_instance_id: timer.process_instance_id, definition_id: timer.definition_id, activity_id: timer.activity_id,
      execution_id: timeoutExecutionId({ ...ref, firing: ref.firing + 1 }), timer_type: timer.timer_type, expression: timer.expression, due_at: due,
    }]);
    await notifier.announce(trx, [TIMERS_TOPIC]);
  }
}

/** The timer was fired or removed by another server meanwhile: the firing saves nothing. */
class TimerGone extends Error {}

export type TaskTimeouts = ReturnType<typeof makeTaskTimeouts>;
