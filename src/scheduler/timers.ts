import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { TIMERS_TOPIC } from '../services/persist-runs.ts';

/** Something with due work: instance timers, start timers. */
export interface DueSource<Row extends { id: string }> {
  claimDue(owner: string, limit: number, lockMs: number): Promise<Row[]>;
  fire(row: Row): Promise<void>;
  /** Fires several in one go where a source can; returns those fired, the rest go to `fire` one by one. */
  fireMany?(rows: Row[]): Promise<Row[]>;
  /** Rows with one key go to one lane, so two lanes never race for one process instance. */
  laneKey?(row: Row): string;
  fail(row: Row, error: unknown): Promise<void>;
  msUntilNext(): Promise<number | undefined>;
}
import type { TopicNotifier } from '../store/notify.ts';

export interface TimerSchedulerOptions {
  /** Timers claimed per round. */
  batch?: number;
  /** How long a claim holds before another server may take the timer over. */
  lockMs?: number;
  /** Longest sleep between rounds, so a missed notification costs at most this. */
  maxIdleMs?: number;
  /**
   * Lanes that fire the claimed rows side by side, each its share of the
   * batch (in one transaction, where the source can), then what is left one
   * by one. Each timer belongs to its own instance (or start event), so they
   * seldom contend; the optimistic lock settles the rare two timers of one
   * instance. Keep it below the connection pool size.
   */
  concurrency?: number;
}

/**
 * Fires due timers. A round claims due timers (database locks, so several
 * server processes share the work and each timer fires once) and fires
 * them, a few at a time; then it sleeps until the next due time, or until a newly
 * armed timer is announced. It logs and goes on after any error: a timer
 * that fails is retried with backoff, and the loop never stops the server.
 */
/**
 * Deals `rows` to at most `lanes` lanes, key by key in order of first
 * appearance, so the lanes come out even and rows sharing a key share a lane.
 */
export function shares<Row extends { id: string }>(rows: Row[], lanes: number, keyOf: (row: Row) => string = (row) => row.id): Row[][] {
  const out: Row[][] = Array.from({ length: Math.max(1, Math.min(lanes, rows.length)) }, () => []);
  const laneOf = new Map<string, number>();
  for (const row of rows) {
    const key = keyOf(row);
    let lane = laneOf.get(key);
    if (lane === undefined) laneOf.set(key, (lane = laneOf.size % out.length));
    out[lane].push(row);
  }
  return out.filter((share) => share.length);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function makeTimerScheduler(sources: DueSource<any>[], notifier: TopicNotifier, log: Logger, options: TimerSchedulerOptions = {}) {
  const owner = `scheduler-${randomUUID()}`;
  const batch = options.batch ?? 80;
  const lockMs = options.lockMs ?? 5 * 60_000;
  const maxIdleMs = options.maxIdleMs ?? 30_000;
  const concurrency = Math.max(1, options.concurrency ?? 2);
  let stopping: AbortController | undefined;
  let loop: Promise<void> | undefined;

  /**
   * Claims and fires until nothing is due. Returns how many fired. Tests drive this directly.
   * The sources take turns a batch at a time, so a start timer or a message due now does
   * not wait behind a backlog of thousands of instance timers.
   */
  async function runDue(): Promise<number> {
    let fired = 0;
    for (let claimedAny = true; claimedAny;) {
      claimedAny = false;
      for (const source of sources) {
        const claimed = await source.claimDue(owner, batch, lockMs);
        if (!claimed.length) continue;
        claimedAny = true;
        const lane = async (share: typeof claimed) => {
          let left = share;
          if (source.fireMany && share.length > 1) {
            const done = new Set(await source.fireMany(share).catch((err) => {
              log.warn({ err, timers: share.length }, 'firing a batch of timers failed; firing them one by one');
              return [];
            }));
            fired += done.size;
            left = share.filter((row) => !done.has(row));
          }
          for (const timer of left) {
            try {
              await source.fire(timer);
              fired++;
            } catch (err) {
              log.warn({ err, timer: timer.id, attempts: timer.attempts + 1 }, 'timer failed; retried with backoff (instance timers: until their retries are used up, then an incident)');
              await source.fail(timer, err).catch((e) => log.error({ err: e }, 'could not record timer failure'));
            }
          }
        };
        await Promise.all(shares(claimed, concurrency, source.laneKey?.bind(source)).map(lane));
      }
    }
    return fired;
  }

  async function run(signal: AbortSignal): Promise<void> {
    let errors = 0;
    while (!signal.aborted) {
      let sleepMs = maxIdleMs;
      try {
        await runDue();
        const waits = await Promise.all(sources.map((s) => s.msUntilNext()));
        sleepMs = Math.min(maxIdleMs, ...waits.filter((w): w is number => w !== undefined));
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
