import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// Statistics and reports for monitors read aggregates over every instance of
// a definition; these partial indexes keep them to the rows that count (the
// running instances, the open activity instances, failed timers, open
// incidents, finished instances and tasks by end time), so a monitor polling
// /process-definition/statistics does not scan all history.
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    create index process_instances_running_idx on process_instances(definition_id) where state = 'ACTIVE';
    create index process_instances_ended_idx on process_instances(end_time) where end_time is not null;
    create index activity_instances_open_idx on activity_instances(process_instance_id) where end_time is null;
    create index timers_failed_idx on timers(definition_id) where retries = 0;
    create index incidents_definition_idx on incidents(definition_id, activity_id);
    create index tasks_ended_idx on tasks(end_time) where end_time is not null;
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, `
    drop index process_instances_running_idx, process_instances_ended_idx, activity_instances_open_idx,
      timers_failed_idx, incidents_definition_idx, tasks_ended_idx;
  `);
}
