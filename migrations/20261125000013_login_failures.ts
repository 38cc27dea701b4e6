import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// Failed logins per user and per source address, so that password guessing
// is slowed down by a lockout that grows with each failure, the same for
// every server process sharing the database.
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    create table login_failures (
      key text primary key,
      failures integer not null,
      last_failure timestamptz not null,
      locked_until timestamptz
    );
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, `drop table login_failures;
`);
}
