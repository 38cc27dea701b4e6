import type { Knex } from 'knex';

/**
 * Where "now" comes from. The server asks the database, so every server
 * process agrees on when a timer is due; tests inject a clock they move,
 * so timer tests never wait for time to pass.
 */
export interface Clock {
  /** Now; inside a transaction pass it, so the question goes on that connection (PGlite has one). */
  now(trx?: Knex | Knex.Transaction): Promise<Date>;
  /**
   * Now without asking anyone, when this clock can say so (an injected one).
   * The engine compares timer dates with it; without it the engine uses the
   * process's own clock, which the database's follows closely enough.
   */
  peek?(): Date;
}

/** The database's clock (production). */
export function makeDbClock(db: Knex): Clock {
  return {
    async now(trx) {
      const result = await (trx ?? db).raw('select now() as now');
      const row = (result.rows ?? result)[0];
      return new Date(row.now);
    },
  };
}

/** A clock that moves only when told to (tests). */
export class ManualClock implements Clock {
  private current: number;
  constructor(start: Date = new Date()) {
    this.current = start.getTime();
  }
  async now(): Promise<Date> {
    return new Date(this.current);
  }
  peek(): Date {
    return new Date(this.current);
  }
  advance(ms: number): void {
    this.current += ms;
  }
  set(date: Date): void {
    this.current = date.getTime();
  }
}
