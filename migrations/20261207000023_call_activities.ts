import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// A call activity's child is an instance of its own, linked to the element
// that called it: the parent instance and the call activity's execution. The
// parent is resumed through this link when the child ends, the child is
// cancelled through it when the call activity is, and Camunda's
// superProcessInstance / subProcessInstance filters read it.
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    alter table process_instances add column super_process_instance_id text;
    alter table process_instances add column super_execution_id text;
    create index process_instances_super on process_instances (super_process_instance_id) where super_process_instance_id is not null;
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, `
    drop index process_instances_super;
    alter table process_instances drop column super_execution_id;
    alter table process_instances drop column super_process_instance_id;
  `);
}
