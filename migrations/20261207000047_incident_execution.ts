import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// The execution an incident was raised on (POST /execution/{id}/create-incident):
// shown as the incident's executionId, and the incident ends (deleted) with
// that execution, as Camunda removes an execution's incidents when it ends.
// Older incidents (failed external tasks and timers) name none; they end with
// their task or timer (configuration) as before.
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    alter table incidents add column execution_id text;
    create index incidents_execution_idx on incidents(process_instance_id, execution_id) where end_time is null and execution_id is not null;
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, 'alter table incidents drop column execution_id;');
}
