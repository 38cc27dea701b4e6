import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// A thrown message's payload may forward sensitive variables; until it is
// delivered it waits in message_outbox. `key_id` set means `variables`
// holds one sealed envelope of the whole payload (see
// services/sealed-variables.ts), as variables.key_id does for a variable.
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    alter table message_outbox add column key_id text;
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, `
    alter table message_outbox drop column key_id;
  `);
}
