import type { Knex } from 'knex';
import { ping } from '../store/db.ts';
import { pendingMigrations } from '../store/metrics.ts';

/** Why the server is not ready, in the words /health/ready answers with. */
export interface Readiness {
  ok: boolean;
  database: 'UP' | 'DOWN';
  migrations: 'APPLIED' | 'PENDING' | 'UNKNOWN';
  scheduler: 'STARTED' | 'STOPPED';
  /** Fixed words for the unauthenticated answer: which check failed, never what the driver said. */
  reason?: string;
  /** The driver's own message (host, port, role names…), for the log only. */
  detail?: string;
}

/**
 * Whether the database answers within `timeoutMs` (`check`, for /health),
 * and whether this process can do its work (`ready`, for /health/ready):
 * the database answers, every migration it knows is applied, and its timer
 * scheduler runs. `schedulerStarted` is told by the composition root.
 */
export function makeHealthService(db: Knex, timeoutMs = 2000) {
  let schedulerStarted = false;
  /** `work` or a timeout error after `timeoutMs`, whichever comes first. */
  async function within<T>(work: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        work,
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} timed out`)), timeoutMs))),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }
  async function check(): Promise<{ ok: boolean; error?: string }> {
    try {
      await within(ping(db), 'database ping');
      return { ok: true };
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
  }
  return {
    check,
    setSchedulerStarted(started: boolean): void {
      schedulerStarted = started;
    },
    async ready(): Promise<Readiness> {
      const scheduler = schedulerStarted ? 'STARTED' : 'STOPPED';
      const answer = await check();
      if (!answer.ok) return { ok: false, database: 'DOWN', migrations: 'UNKNOWN', scheduler, reason: '数据库无响应 / the database does not answer', detail: answer.error };
      let pending: string[];
      try {
        pending = await within(pendingMigrations(db), 'migration check');
      } catch (err) {
        return { ok: false, database: 'UP', migrations: 'UNKNOWN', scheduler, reason: '无法检查迁移 / could not check migrations', detail: (err as Error).message };
      }
      if (pending.length) return { ok: false, database: 'UP', migrations: 'PENDING', scheduler, reason: '有未执行的迁移 / migrations not applied', detail: pending.join(', ') };
      if (!schedulerStarted) return { ok: false, database: 'UP', migrations: 'APPLIED', scheduler, reason: '定时调度未运行 / the timer scheduler is not running' };
      return { ok: true, database: 'UP', migrations: 'APPLIED', scheduler };
    },
  };
}

export type HealthService = ReturnType<typeof makeHealthService>;
