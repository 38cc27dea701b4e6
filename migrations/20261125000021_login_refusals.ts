import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// Attempts refused while a key is locked are counted here, not traced one
// row each: the first refusal of a lock writes its LoginLocked row, the
// count of the rest is traced once the lock has ended (services/login-guard.ts).
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    alter table login_failures add column refused integer not null default 0;
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, `alter table login_failures drop column refused;
`);
}
