import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// Camunda's incident annotation (PUT/DELETE /incident/{id}/annotation): a
// person's note on why an incident is there, shown with the incident and in
// its history.
export async function up(db: Knex): Promise<void> {
  await execScript(db, 'alter table incidents add column annotation text;');
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, 'alter table incidents drop column annotation;');
}
