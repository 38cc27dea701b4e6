import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// Who holds an external task's lock: the authenticated account that fetched
// it, beside the worker id it chose. The worker id is only a name the
// client sends, so any worker could otherwise complete another's task by
// sending it. Locks taken before this migration have no account and can be
// worked by nobody; they expire and the task is fetched again.
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    alter table external_tasks add column lock_user_id text;
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, `
    alter table external_tasks drop column lock_user_id;
  `);
}
