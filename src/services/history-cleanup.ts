import type { Knex } from 'knex';
import type { Clock } from '../clock.ts';
import type { HistoryCleanupConfig } from '../config.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import type { DueSource } from '../scheduler/timers.ts';
import {
  CLEANUP_JOB_ID, deleteExpiredDecisions, deleteInstancesHistory, descendantsOf, ensureCleanupJob, findCleanupJob, finishCleanupRun,
  lockExpiredRoots, scheduleCleanupJob, type CleanupJobRow,
} from '../store/history-cleanup.ts';
import { releaseFailed } from '../store/leases.ts';
import type { TopicNotifier } from '../store/notify.ts';
import { SYSTEM, type Principal } from '../types.ts';
import { currentOrNextWindow, inWindow, nextWindowStart } from './cleanup-window.ts';
import { assertAdmin } from './instances.ts';
import { makeLeasedSource, retryAt } from './leases.ts';
import { TIMERS_TOPIC } from './persist-runs.ts';
import type { TraceService } from './trace.ts';

/** Batches one firing runs before it hands the scheduler back (the job stays due, so the next round goes on). */
const BATCHES_PER_FIRING = 20;
/** How many instance ids one trace row names; the counts are always there. */
const MAX_TRACED_IDS = 100;

const notFound = () => new NotFoundError('历史清理作业不存在 / history cleanup job does not exist');

/**
 * History cleanup (Camunda's HistoryCleanupJob, removal-time strategy
 * "end"): a finished root instance's history, with the instances it
 * called, goes once its end plus its definition's historyTimeToLive (days)
 * has passed; standalone decision evaluations go by their evaluation time.
 * The trace is never touched: it is the audit, kept by TRACE_RETENTION_DAYS.
 *
 * The job is one durable row (store/history-cleanup.ts), claimed by the
 * scheduler with `for update skip locked`; each batch is one transaction that
 * locks the instances it removes with `skip locked` too, so two runs (two
 * servers, or a lease that ran out) never remove one instance twice. "Now"
 * is the injected clock's, as the scheduler's.
 */
export function makeHistoryCleanupService(db: Knex, clock: Clock, trace: TraceService, notifier: TopicNotifier, config: HistoryCleanupConfig, zone: string) {
  const leased = makeLeasedSource<CleanupJobRow>(db, 'history_cleanup_jobs', clock);
  const window = config.window;
  let ensured = false;

  /** One batch in one transaction: up to batchSize roots (with what they called) and decision evaluations, traced. */
  async function runBatch(): Promise<{ instances: number; decisions: number; full: boolean }> {
    return db.transaction(async (trx) => {
      const now = await clock.now(trx);
      const roots = await lockExpiredRoots(trx, now, config.batchSize);
      const ids = [...roots, ...await descendantsOf(trx, roots)];
      await deleteInstancesHistory(trx, ids);
      const decisions = await deleteExpiredDecisions(trx, now, config.batchSize);
      if (ids.length || decisions.length) {
        await trace.record(trx, SYSTEM, {
          operation: 'HistoryCleanup', entityType: 'Job', entityId: CLEANUP_JOB_ID,
          details: { processInstances: ids.length, processInstanceIds: ids.slice(0, MAX_TRACED_IDS), decisionInstances: decisions.length, decisionInstanceIds: decisions.slice(0, MAX_TRACED_IDS) },
        });
      }
      return { instances: ids.length, decisions: decisions.length, full: roots.length === config.batchSize || decisions.length === config.batchSize };
    });
  }

  /**
   * Runs batches until nothing is due, the window closes (a scheduled run;
   * one asked for runs whatever the time) or BATCHES_PER_FIRING are done.
   * Returns how many instances and evaluations went, and whether more remain.
   */
  async function runBatches(asked: boolean): Promise<{ removed: number; more: boolean }> {
    let removed = 0;
    for (let i = 0; i < BATCHES_PER_FIRING; i++) {
      if (!asked && window && !inWindow(await clock.now(), window, zone)) return { removed, more: false };
      const batch = await runBatch();
      removed += batch.instances + batch.decisions;
      if (!batch.full) return { removed, more: false };
    }
    return { removed, more: true };
  }

  /** Runs the claimed job, then schedules it: at once if more is due, else at the next window's start (none without a window). */
  async function fire(row: CleanupJobRow): Promise<void> {
    // Due outside any window: it was asked for (POST /history/cleanup), which runs whatever the time.
    const asked = !window || !row.due_at || !inWindow(row.due_at, window, zone);
    const { removed, more } = await runBatches(asked);
    await db.transaction(async (trx) => {
      const now = await clock.now(trx);
      const next = more ? now : window ? nextWindowStart(now, window, zone) : null;
      await finishCleanupRun(trx, row.locked_by ?? '', removed, now, row.due_at, next);
      // A run that removed nothing changed nothing: the job row keeps its time and count (last_run_at, last_removed).
      if (removed) await trace.record(trx, SYSTEM, { operation: 'HistoryCleanup', entityType: 'Job', entityId: CLEANUP_JOB_ID, details: { run: 'ended', removed, nextDueDate: next?.toISOString() ?? null } });
    });
  }

  const source: DueSource<CleanupJobRow> = {
    async claimDue(owner, limit, lockMs) {
      if (!config.enabled) return [];
      if (window && !ensured) {
        await ensureCleanupJob(db, currentOrNextWindow(await clock.now(), window, zone).start);
        ensured = true;
      }
      return leased.claimDue(owner, limit, lockMs);
    },
    fire,
    /** A run that failed is tried again with a backoff, a retry used up (Camunda's job retries); none left, it waits to be asked for. */
    async fail(row, error) {
      const message = error instanceof Error ? error.message : String(error);
      await releaseFailed(db, 'history_cleanup_jobs', row.id, message, await retryAt(clock, row.attempts), { retries: db.raw('greatest(retries - 1, 0)') });
    },
    msUntilNext: async () => (config.enabled ? leased.msUntilNext() : undefined),
  };

  return {
    /** The scheduler's due source: the cleanup job, when due. */
    source,
    /** Runs one batch now (tests: two runs side by side). */
    runBatch,

    /**
     * POST /history/cleanup: makes the job due now (`immediatelyDue`), or at
     * the window's start, and wakes the scheduler. Administrators only; traced.
     */
    async schedule(immediatelyDue: boolean, principal: Principal): Promise<CleanupJobRow> {
      assertAdmin(principal);
      if (!config.enabled) throw new ValidationError('历史清理已停用（HISTORY_CLEANUP_ENABLED=false）/ history cleanup is disabled (HISTORY_CLEANUP_ENABLED=false)');
      if (!immediatelyDue && !window) {
        throw new ValidationError('未配置清理时间窗，immediatelyDue=false 无从安排 / immediatelyDue=false needs a cleanup window (HISTORY_CLEANUP_BATCH_WINDOW_START_TIME / END_TIME)', { field: 'immediatelyDue' });
      }
      return db.transaction(async (trx) => {
        const now = await clock.now(trx);
        const due = immediatelyDue || !window ? now : new Date(Math.max(now.getTime(), currentOrNextWindow(now, window, zone).start.getTime()));
        const row = await scheduleCleanupJob(trx, due);
        await trace.record(trx, principal, { operation: 'HistoryCleanup', entityType: 'Job', entityId: CLEANUP_JOB_ID, details: { immediatelyDue, dueDate: due.toISOString() } });
        await notifier.announce(trx, [TIMERS_TOPIC]);
        return row;
      });
    },

    /** GET /history/cleanup/job: the job, 404 when there is none yet. */
    async job(principal: Principal): Promise<CleanupJobRow> {
      assertAdmin(principal);
      const row = await findCleanupJob(db);
      if (!row) throw notFound();
      return row;
    },

    /** GET /history/cleanup/jobs: the job, as a list (empty when there is none yet). */
    async jobs(principal: Principal): Promise<CleanupJobRow[]> {
      assertAdmin(principal);
      const row = await findCleanupJob(db);
      return row ? [row] : [];
    },

    /** GET /history/cleanup/configuration: the current or next window (null without one), and whether cleanup runs. */
    async configuration(principal: Principal): Promise<{ start: Date | null; end: Date | null; enabled: boolean }> {
      assertAdmin(principal);
      if (!window) return { start: null, end: null, enabled: config.enabled };
      const w = currentOrNextWindow(await clock.now(), window, zone);
      return { start: w.start, end: w.end, enabled: config.enabled };
    },
  };
}

export type HistoryCleanupService = ReturnType<typeof makeHistoryCleanupService>;
