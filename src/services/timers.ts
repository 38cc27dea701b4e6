import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Clock } from '../clock.ts';
import { AppError, ConflictError, NotFoundError } from '../errors.ts';
import type { TopicNotifier } from '../store/notify.ts';
import { insertIncident, resolveIncidents } from '../store/incidents.ts';
import { findInstance } from '../store/instances.ts';
import {
  countTimers, deleteTimer, findTimer, queryTimers, recordTimerFailure, setTimerDue, timerExists, type TimerQuery, type TimerRow,
} from '../store/timers.ts';
import { SYSTEM, SYSTEM_USER, type Principal } from '../types.ts';
import { TIMERS_TOPIC } from './persist-runs.ts';
import { makeLeasedSource, retryAt } from './leases.ts';
import { isTaskTimeout, type TaskTimeouts } from './task-timeouts.ts';
import { assertAdmin, visibility } from './instances.ts';
import type { Execution, WaitTarget } from './execution.ts';
import type { Actor, TraceFact, TraceService } from './trace.ts';
import type { Db } from '../store/db.ts';

const targetOf = (timer: TimerRow): WaitTarget => ({
  instanceId: timer.process_instance_id, definitionId: timer.definition_id, activityId: timer.activity_id, executionId: timer.execution_id,
});
const factOf = (timer: TimerRow): TraceFact => ({
  operation: 'Execute', entityType: 'Job', entityId: timer.id, details: { activityId: timer.activity_id, dueDate: timer.due_at },
});
/** A timer that had failed (until it raised an incident, perhaps) fired now: its incident is over. */
const afterFiring = (timer: TimerRow) => (timer.last_error ? (trx: Db) => resolveIncidents(trx, timer.id) : undefined);

/** Armed timers: claiming the due ones, firing them, recording a failure; Camunda's job view of them. */
export function makeTimerService(db: Knex, execution: Execution, clock: Clock, notifier: TopicNotifier, trace: TraceService, timeouts: TaskTimeouts) {
  /** Fires a timer on behalf of `actor`: the scheduler (`system`) or an administrator. */
  async function fire(timer: TimerRow, actor: Actor = SYSTEM): Promise<void> {
    if (isTaskTimeout(timer)) return timeouts.fire(timer, actor, factOf(timer));
    await execution.advance(targetOf(timer), {
      variables: {}, by: SYSTEM_USER, action: { kind: 'timer' }, stillOpen: () => timerExists(db, timer.id),
      afterSave: afterFiring(timer), actor, fact: factOf(timer),
    });
  }

  /**
   * Fires a batch of due timers in one transaction (see Execution.advanceMany);
   * returns those fired. The others are for `fire`, one by one.
   */
  async function fireMany(timers: TimerRow[]): Promise<TimerRow[]> {
    // A timeout listener's timer signals no engine: those are fired one by one.
    const done = await execution.advanceMany(timers.filter((timer) => !isTaskTimeout(timer)).map((timer) => ({
      timer, target: targetOf(timer), action: { kind: 'timer' as const }, actor: SYSTEM, fact: factOf(timer), afterSave: afterFiring(timer),
    })));
    return done.map((d) => d.timer);
  }

  async function get(id: string): Promise<TimerRow> {
    const row = await findTimer(db, id);
    if (!row) throw new NotFoundError(`作业不存在 / no job ${id}`);
    return row;
  }

  return {
    /** Armed timers of the instances the caller may see (all, for administrators): the monitor's view. */
    list: (q: TimerQuery, principal: Principal) => queryTimers(db, { ...q, visibleTo: visibility(principal) }),
    count: (q: TimerQuery, principal: Principal) => countTimers(db, { ...q, visibleTo: visibility(principal) }),
    async get(id: string, principal: Principal) {
      const [row] = await queryTimers(db, { id, visibleTo: visibility(principal) });
      if (!row) throw new NotFoundError(`作业不存在 / no job ${id}`);
      return row;
    },
    /** An administrator fires a timer now, whatever its due time. */
    async execute(id: string, principal: Principal): Promise<void> {
      assertAdmin(principal);
      await fire(await get(id), principal);
    },
    /** An administrator moves a timer's due time; schedulers are told to look again. */
    async setDueDate(id: string, due: Date, principal: Principal): Promise<void> {
      assertAdmin(principal);
      await db.transaction(async (trx) => {
        const timer = await findTimer(trx, id);
        if (!timer || !(await setTimerDue(trx, id, due))) throw new NotFoundError(`作业不存在 / no job ${id}`);
        await trace.record(trx, principal, {
          operation: 'SetDueDate', entityType: 'Job', entityId: id, processInstanceId: timer.process_instance_id, details: { from: timer.due_at, to: due },
        });
        await notifier.announce(trx, [TIMERS_TOPIC]);
      });
    },

    /** Claiming and the next due time (see services/leases.ts). */
    ...makeLeasedSource<TimerRow>(db, 'timers', clock),

    /**
     * Records a failed firing, as Camunda does a failed job: a retry is used
     * up (unless the failure was the database's or a lost race, which only
     * back off) and the timer is tried again after a backoff; with none left it
     * raises an incident (`failedJob`) and is not claimed again until an
     * administrator executes it. A timer whose instance is no longer running
     * has nothing to fire and is removed.
     */
    async fail(timer: TimerRow, error: unknown): Promise<void> {
      const instance = await findInstance(db, timer.process_instance_id);
      if (!instance || instance.state !== 'ACTIVE') {
        await deleteTimer(db, timer.id);
        return;
      }
      const message = error instanceof Error ? error.message : String(error);
      // As in Camunda, a lost optimistic-lock race does not use up a retry; nor does a database
      // hiccup (no connection, a timeout): only the model failing does. The others back off.
      const useRetry = error instanceof AppError && !(error instanceof ConflictError);
      const retry = await retryAt(clock, timer.attempts);
      await db.transaction(async (trx) => {
        const left = await recordTimerFailure(trx, timer.id, message, retry, useRetry);
        if (left !== 0) return;
        const incidentId = randomUUID();
        await insertIncident(trx, {
          id: incidentId, incident_type: 'failedJob', process_instance_id: timer.process_instance_id,
          definition_id: timer.definition_id, activity_id: timer.activity_id, configuration: timer.id, message,
        });
        await execution.events.incidentRaised(trx, { id: incidentId, instanceId: timer.process_instance_id, definitionId: timer.definition_id, activityId: timer.activity_id, message });
      });
    },

    /**
     * Fires one timer: resumes its instance, lets the timer complete, saves.
     * The timer row goes in the same transaction, so it fires at most once;
     * if it was cancelled meanwhile (the task was done first), nothing happens.
     */
    fire,
    fireMany,
    /** A process instance's timers share a lane, so the lanes do not race each other for it. */
    laneKey: (timer: TimerRow) => timer.process_instance_id,
  };
}

export type TimerService = ReturnType<typeof makeTimerService>;
