import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// A task's own (task-local) variables, as Camunda's `task.setVariableLocal`
// and `/task/{id}/localVariables` keep them: on the task, not on its
// instance. Rows stay when the task ends (the task row does too), as
// Camunda's history keeps them; they go with the task's instance. `key_id`
// set means the value is sealed, as for `variables`.
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    create table task_variables (
      task_id text not null references tasks(id) on delete cascade,
      process_instance_id text not null references process_instances(id) on delete cascade,
      name text not null,
      type text not null,
      value jsonb,
      key_id text,
      updated_at timestamptz not null default now(),
      primary key (task_id, name)
    );
    create index task_variables_instance on task_variables (process_instance_id);
    create index task_variables_key_id_idx on task_variables (key_id) where key_id is not null;
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, `drop table task_variables;`);
}
