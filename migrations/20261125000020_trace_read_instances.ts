import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// A read that returned data of several process instances names them in
// `details.processInstanceIds` (one instance goes in `process_instance_id`).
// GET /history/user-operation?processInstanceId=… finds both; this index
// keeps the second kind from scanning the whole trace.
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    create index trace_read_instances_idx on trace using gin ((details->'processInstanceIds') jsonb_path_ops);
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, `drop index trace_read_instances_idx;
`);
}
