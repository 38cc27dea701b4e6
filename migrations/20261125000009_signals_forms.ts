import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// Signals wait in the same subscription table as messages, told apart by
// kind; a user task may name a Camunda Form (camunda:formRef).
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    alter table message_subscriptions add column kind text not null default 'message';
    create index message_subscriptions_kind_name_idx on message_subscriptions(kind, message_name);
    alter table tasks add column form_ref text;
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, `
    alter table tasks drop column form_ref;
    drop index message_subscriptions_kind_name_idx;
    alter table message_subscriptions drop column kind;
  `);
}
