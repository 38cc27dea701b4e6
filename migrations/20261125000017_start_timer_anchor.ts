import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// When a start timer's cycle without a start date (`R/P1M`) was armed. Its
// n-th occurrence is anchor + n × period, computed, not the previous due
// date plus one period: a monthly cycle armed on the 31st returns to the
// end of each month instead of drifting to the 28th.
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    alter table start_timers add column anchor_at timestamptz;
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, `
    alter table start_timers drop column anchor_at;
  `);
}
