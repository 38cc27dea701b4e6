import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// Suspension (Camunda's SUSPENSION_STATE_): a suspended process instance
// keeps its tasks, timers and external tasks but nothing of it moves until it
// is activated; a suspended definition starts no new instances. Tasks, timers
// and external tasks take their instance's state (one source of truth, so a
// suspend is one row's update), hence no column of their own. The partial
// index serves the scheduler's and fetchAndLock's "not suspended" test.
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    alter table process_instances add column suspended boolean not null default false;
    alter table process_definitions add column suspended boolean not null default false;
    create index process_instances_suspended on process_instances (id) where suspended;
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, `
    drop index process_instances_suspended;
    alter table process_definitions drop column suspended;
    alter table process_instances drop column suspended;
  `);
}
