import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// Process instances, their typed variables and user tasks. `rev` is the
// optimistic lock: every save is `where rev = <rev read>`, so two commands
// advancing one instance at once cannot both win.
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    create table process_instances (
      id text primary key,
      definition_id text not null references process_definitions(id),
      definition_key text not null,
      business_key text,
      tenant_id text,
      state text not null,
      engine_state jsonb,
      rev integer not null default 1,
      start_user_id text,
      start_time timestamptz not null default now(),
      end_time timestamptz,
      end_reason text
    );
    create index process_instances_definition_idx on process_instances(definition_id);
    create index process_instances_key_idx on process_instances(definition_key, state);
    create index process_instances_business_key_idx on process_instances(business_key);

    create table variables (
      process_instance_id text not null references process_instances(id) on delete cascade,
      name text not null,
      type text not null,
      value jsonb,
      updated_at timestamptz not null default now(),
      primary key (process_instance_id, name)
    );

    create table tasks (
      id text primary key,
      process_instance_id text not null references process_instances(id) on delete cascade,
      definition_id text not null,
      definition_key text not null,
      task_definition_key text not null,
      execution_id text not null,
      name text,
      description text,
      assignee text,
      owner text,
      candidate_users text[] not null default '{}',
      candidate_groups text[] not null default '{}',
      priority integer not null default 50,
      due timestamptz,
      follow_up timestamptz,
      form_key text,
      created_at timestamptz not null default now(),
      end_time timestamptz,
      delete_reason text,
      completed_by text
    );
    -- One task per waiting engine execution: a replayed wait cannot open a second.
    create unique index tasks_execution_idx on tasks(process_instance_id, execution_id);
    create index tasks_open_groups_idx on tasks using gin (candidate_groups) where end_time is null;
    create index tasks_open_assignee_idx on tasks(assignee) where end_time is null;
    create index tasks_open_created_idx on tasks(created_at) where end_time is null;
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, `drop table tasks, variables, process_instances;
`);
}
