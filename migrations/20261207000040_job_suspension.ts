import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// A job's own suspension (Camunda's PUT /job/{id}/suspended and PUT /job/suspended):
// a timer may be suspended while its instance runs on. A timer is suspended when
// either it or its instance is (migration 20261207000029 keeps the instance's state
// on the instance); the scheduler takes neither. False by default: existing timers
// keep running as before.
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    alter table timers add column job_suspended boolean not null default false;
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, `
    alter table timers drop column job_suspended;
  `);
}
