import type { Knex } from 'knex';
import { ping } from '../store/db.ts';

/** Whether the database answers within `timeoutMs`. */
export function makeHealthService(db: Knex, timeoutMs = 2000) {
  return {
    async check(): Promise<{ ok: boolean; error?: string }> {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          ping(db),
          new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('database ping timed out')), timeoutMs))),
        ]);
        return { ok: true };
      } catch (err) {
        return { ok: false, error: (err as Error).message };
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

export type HealthService = ReturnType<typeof makeHealthService>;
