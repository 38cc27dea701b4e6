import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Clock } from '../clock.ts';
import { AppError, ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import type { TopicNotifier } from '../store/notify.ts';
import { insertIncident, resolveIncidents } from '../store/incidents.ts';
import { logJobSuccess } from '../store/job-log.ts';
import { findInstance } from '../store/instances.ts';
import { firstSuspendedInstance } from '../store/suspension.ts';
import {
  countTimers, deleteTimer, findTimer, queryTimers, recordTimerFailure, lockTimers, setTimerDue, setTimerPriority, setTimerRetries, setTimersSuspended, timerExists,
  type TimerQuery, type TimerRow, type TimerSelection,
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
/**
 * A timer fired, in its firing's transaction: the job log says so, and one
 * that had failed (until it raised an incident, perhaps) has its incident over.
 */
const afterFiring = (timer: TimerRow) => async (trx: Db) => {
  if (timer.last_error) await resolveIncidents(trx, timer.id);
  await logJobSuccess(trx, timer);
};

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

    /**
     * PUT /job/{id}/retries: as Camunda's SetJobRetriesCmd, retries again
     * resolve the incident of a timer that had none left (it may be tried at
     * once), and none left raise one (it waits for a person).
     */
    async setRetries(id: string, retries: unknown, principal: Principal): Promise<void> {
      assertAdmin(principal);
      const n = checkRetries(retries);
      await db.transaction(async (trx) => {
        const before = await setTimerRetries(trx, id, n);
        if (!before) throw new NotFoundError(`作业不存在 / no job ${id}`);
        if (before.retries === 0 && n > 0) await resolveIncidents(trx, id);
        if (before.retries > 0 && n === 0) {
          const incidentId = randomUUID();
          const message = before.last_error;
          await insertIncident(trx, {
            id: incidentId, incident_type: 'failedJob', process_instance_id: before.process_instance_id,
            definition_id: before.definition_id, activity_id: before.activity_id, configuration: id, message,
          });
          await execution.events.incidentRaised(trx, { id: incidentId, instanceId: before.process_instance_id, definitionId: before.definition_id, activityId: before.activity_id, message });
        }
        await trace.record(trx, principal, {
          operation: 'SetJobRetries', entityType: 'Job', entityId: id, processInstanceId: before.process_instance_id, details: { from: before.retries, to: n },
        });
        await notifier.announce(trx, [TIMERS_TOPIC]);
      });
    },

    /**
     * PUT /job/{id}/suspended and PUT /job/suspended: a suspended timer is not
     * fired by any scheduler until activated (overdue, it fires on the next
     * pass then). One being fired this moment is refused (409), as Camunda's
     * optimistic lock would, so that a 204 means it will not fire. A timer
     * of a suspended instance cannot be activated alone (409): nothing of its
     * instance moves until the instance is activated.
     */
    async setSuspended(sel: TimerSelection & { one?: string }, suspended: boolean, principal: Principal): Promise<void> {
      assertAdmin(principal);
      const now = await clock.now();
      await db.transaction(async (trx) => {
        const rows = await lockTimers(trx, sel.one ? { ids: [sel.one] } : sel);
        if (sel.one && !rows.length) throw new NotFoundError(`作业不存在 / no job ${sel.one}`);
        const firing = rows.find((r) => r.locked_by != null && r.locked_until != null && new Date(r.locked_until) > now);
        if (firing) throw new ConflictError(`作业 ${firing.id} 正在执行，请稍后再试 / job ${firing.id} is being executed; try again later`);
        if (!suspended) {
          const held = await firstSuspendedInstance(trx, rows.map((r) => r.process_instance_id));
          if (held) throw new ConflictError(`流程实例 ${held} 已挂起，请先激活实例 / process instance ${held} is suspended; activate the instance first`, undefined, 'SuspendedEntityInteractionException');
        }
        const changed = await setTimersSuspended(trx, rows.map((r) => r.id), suspended);
        await trace.record(trx, principal, changed.map((r) => ({
          operation: suspended ? 'SuspendJob' : 'ActivateJob', entityType: 'Job', entityId: r.id, processInstanceId: r.process_instance_id,
        })));
        if (!suspended && changed.length) await notifier.announce(trx, [TIMERS_TOPIC]);
      });
    },

    /**
     * DELETE /job/{id}: the timer is gone and never fires; its element keeps
     * waiting (an intermediate timer until the instance is modified or
     * cancelled, a boundary timer's task until it is done), as in Camunda,
     * where the engine state's timer is re-registered on resume but armed
     * nowhere (engine/recorder.ts). Its incident, if any, goes with it.
     * One being fired this moment is refused, as Camunda refuses it.
     */
    async delete(id: string, principal: Principal): Promise<void> {
      assertAdmin(principal);
      const now = await clock.now();
      await db.transaction(async (trx) => {
        const [timer] = await lockTimers(trx, { ids: [id] });
        if (!timer) throw new NotFoundError(`作业不存在 / no job ${id}`);
        if (timer.locked_by != null && timer.locked_until != null && new Date(timer.locked_until) > now) {
          throw new ConflictError(`作业正在执行，请稍后再试 / cannot delete job ${id} while it is being executed; try again later`);
        }
        await deleteTimer(trx, id);
        await trace.record(trx, principal, {
          operation: 'Delete', entityType: 'Job', entityId: id, processInstanceId: timer.process_instance_id, details: { activityId: timer.activity_id, dueDate: timer.due_at },
        });
      });
    },

    /**
     * PUT /job/{id}/priority: kept and shown. As in Camunda's default
     * configuration, it does not order the firing (due time does).
     */
    async setPriority(id: string, priority: unknown, principal: Principal): Promise<void> {
      assertAdmin(principal);
      if (typeof priority !== 'number' || !Number.isSafeInteger(priority)) {
        throw new ValidationError(`priority 必须是整数 / priority must be an integer, got ${JSON.stringify(priority ?? null)}`, { field: 'priority' });
      }
      await db.transaction(async (trx) => {
        const before = await setTimerPriority(trx, id, priority);
        if (!before) throw new NotFoundError(`作业不存在 / no job ${id}`);
        await trace.record(trx, principal, {
          operation: 'SetPriority', entityType: 'Job', entityId: id, processInstanceId: before.process_instance_id, details: { from: Number(before.priority), to: priority },
        });
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
        // The row, its job-log row and its incident's end commit together.
        await db.transaction((trx) => deleteTimer(trx, timer.id));
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

/** Camunda's retries: a non-negative integer (its message, for clients that show it). */
function checkRetries(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 2_147_483_647) {
    throw new ValidationError(`重试次数必须是非负整数 / The number of job retries must be a non-negative Integer, but '${String(value)}' has been provided.`);
  }
  return value;
}

export type TimerService = ReturnType<typeof makeTimerService>;
