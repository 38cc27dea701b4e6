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
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, `
    drop table history_details;
  `);
}
