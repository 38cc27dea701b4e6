import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// Start timers across versions. A new version no longer deletes the start
// timers of the one before: it sets them aside (`superseded`), where the
// scheduler does not claim them, so that deleting the new version gives
// them back as they stood: a fired one-shot stays fired, a finished R3
// cycle stays finished, a running one keeps the firings it had left.
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    alter table start_timers add column superseded boolean not null default false;
  `);
}

export async function down(db: Knex): Promise<void> {
  // Before this, only the newest version's start timers existed: the set-aside
  // ones would all fire again under the older code.
  await execScript(db, `
    delete from start_timers where superseded;
    alter table start_timers drop column superseded;
  `);
}
