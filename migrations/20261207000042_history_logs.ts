import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// Camunda's history logs (issue 18 item 9), each written in the transaction
// of the change it records, and gone with its instance's history.
// `history_details`: every value a variable took (Camunda's variable
// updates); `value` and `key_id` are the variable row's own, so a sensitive
// value stays sealed under the envelope it was stored in. `revision` counts
// the variable's earlier updates; `initial` marks values set as the instance
// started (written in the transaction that inserted it, whose now() is its
// start_time). `seq` orders rows written in one transaction.
// `identity_link_log`: who a task was for, as it changed: assignee and
// owner (the old one's delete, the new one's add), candidate users and
// groups; `assigner_id` is who changed it (null: the diagram, at creation).
// `external_task_log`: an external task as it was when created, when a
// worker reported a failure, and as it ended (success or deletion).
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    create table history_details (
      id text primary key,
      seq bigserial not null,
      process_instance_id text not null references process_instances(id) on delete cascade,
      variable_name text not null,
      variable_type text not null,
      value jsonb,
      key_id text,
      revision integer not null,
      initial boolean not null,
      time timestamptz not null default now()
    );
    create index history_details_instance_idx on history_details(process_instance_id, variable_name, seq);
    create table identity_link_log (
      id text primary key,
      seq bigserial not null,
      time timestamptz not null default now(),
      process_instance_id text not null references process_instances(id) on delete cascade,
      task_id text not null,
      type text not null,
      user_id text,
      group_id text,
      operation_type text not null,
      assigner_id text
    );
    create index identity_link_log_instance_idx on identity_link_log(process_instance_id, seq);
    create index identity_link_log_task_idx on identity_link_log(task_id);
    create table external_task_log (
      id text primary key,
      seq bigserial not null,
      time timestamptz not null default now(),
      external_task_id text not null,
      process_instance_id text not null references process_instances(id) on delete cascade,
      definition_id text not null,
      definition_key text not null,
      activity_id text not null,
      execution_id text not null,
      topic text not null,
      worker_id text,
      retries integer,
      priority integer not null,
      error_message text,
      error_details text,
      state text not null
    );
    create index external_task_log_instance_idx on external_task_log(process_instance_id, seq);
    create index external_task_log_task_idx on external_task_log(external_task_id);
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, `
    drop table external_task_log;
    drop table identity_link_log;
    drop table history_details;
  `);
}
