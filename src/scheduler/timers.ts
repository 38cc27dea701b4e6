import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { TIMERS_TOPIC } from '../services/execution.ts';
import type { TimerService } from '../services/timers.ts';
import type { TopicNotifier } from '../store/notify.ts';

export interface TimerSchedulerOptions {
  /** Timers claimed per round. */
  batch?: number;
  /** How long a claim holds before another server may take the timer over. */
  lockMs?: number;
  /** Longest sleep between rounds, so a missed notification costs at most this. */
  maxIdleMs?: number;
}

/**
 * Fires due timers. A round claims due timers (database locks, so several
 * server processes share the work and each timer fires once) and fires
 * them one by one; then it sleeps until the next due time, or until a newly
 * armed timer is announced. It logs and goes on after any error: a timer
 * that fails is retried with backoff, and the loop never stops the server.
 */
export function makeTimerScheduler(timers: TimerService, notifier: TopicNotifier, log: Logger, options: TimerSchedulerOptions = {}) {
  const owner = `scheduler-${randomUUID()}`;
  const batch = options.batch ?? 20;
  const lockMs = options.lockMs ?? 5 * 60_000;
  const maxIdleMs = options.maxIdleMs ?? 30_000;
  let stopping: AbortController | undefined;
  let loop: Promise<void> | undefined;

  /** Claims and fires until nothing is due. Returns how many fired. Tests drive this directly. */
  async function runDue(): Promise<number> {
    let fired = 0;
    for (;;) {
      const claimed = await timers.claimDue(owner, batch, lockMs);
      if (!claimed.length) return fired;
      for (const timer of claimed) {
        try {
          await timers.fire(timer);
          fired++;
        } catch (err) {
          log.warn({ err, timer: timer.id, instance: timer.process_instance_id, activity: timer.activity_id }, 'timer failed; will retry');
          await timers.fail(timer, err).catch((e) => log.error({ err: e }, 'could not record timer failure'));
        }
      }
    }
  }

  async function run(signal: AbortSignal): Promise<void> {
    let errors = 0;
    while (!signal.aborted) {
      let sleepMs = maxIdleMs;
      try {
        await runDue();
        sleepMs = Math.min(maxIdleMs, (await timers.msUntilNext()) ?? maxIdleMs);
        errors = 0;
      } catch (err) {
        errors++;
        sleepMs = Math.min(maxIdleMs, 500 * 2 ** Math.min(errors, 6));
        log.error({ err }, 'timer scheduler round failed; retrying');
      }
      if (sleepMs > 0) await notifier.waitFor([TIMERS_TOPIC], sleepMs, signal);
    }
  }

  return {
    runDue,
    start(): void {
      stopping = new AbortController();
      loop = run(stopping.signal);
    },
    async stop(): Promise<void> {
      stopping?.abort();
      await loop;
    },
  };
}

export type TimerScheduler = ReturnType<typeof makeTimerScheduler>;
