import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// A job's own suspension (Camunda's PUT /job/{id}/suspended and PUT /job/suspended):
// a timer may be suspended while its instance runs on. A timer is suspended when
// either it or its instance is (migration 20261207000029 keeps the instance's state
// on the instance); the scheduler takes neither. False by default: existing timers
// keep running as before. A job's priority (PUT /job/{id}/priority) is kept and
// shown; as in Camunda's default configuration (jobExecutorAcquireByPriority
// false) the scheduler takes due jobs by due time, not by priority.
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    alter table timers add column job_suspended boolean not null default false;
    alter table timers add column priority bigint not null default 0;
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, `
    alter table timers drop column priority;
    alter table timers drop column job_suspended;
  `);
}
