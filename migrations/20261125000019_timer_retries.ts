import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// Retries of instance timers, as Camunda's jobs have them: a firing that
// fails uses one up; at none left the timer raises an incident and is no
// longer claimed until an administrator executes it by hand.
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    alter table timers add column retries integer not null default 3;
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, `
    alter table timers drop column retries;
  `);
}
