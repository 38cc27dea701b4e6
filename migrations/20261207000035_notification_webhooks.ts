import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// Webhook channels of notifications (issue 17, item 4). `notification_webhooks`
// holds the per-role robots administrators manage: 企业微信, 钉钉 or generic
// JSON, one group each. Their URL (a 企业微信 robot's key is in it) and secret
// are stored sealed (SM4-CTR + HMAC-SM3 envelopes, as sealed variables are),
// `key_id` naming the key; `url_masked` is what the API shows instead.
// Webhook messages ride the existing `notification_outbox`: a row per event
// and webhook (channel `webhook`, `address` the webhook's id or `global` for
// NOTIFY_WEBHOOK_URL), so it is about no single user (`user_id` null) and
// carries the event as JSON (`payload`) and its task, so that the unsent
// messages about a task that ends are dropped with it, as mail is.
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    create table notification_webhooks (
      id text primary key,
      name text not null,
      group_id text not null,
      format text not null,
      url jsonb not null,
      url_masked text not null,
      secret jsonb,
      key_id text not null,
      enabled boolean not null default true,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create index notification_webhooks_group_idx on notification_webhooks(group_id) where enabled;
    alter table notification_outbox alter column user_id drop not null;
    alter table notification_outbox add column payload jsonb;
    alter table notification_outbox add column task_id text;
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, `
    delete from notification_outbox where channel <> 'email';
    alter table notification_outbox drop column task_id;
    alter table notification_outbox drop column payload;
    alter table notification_outbox alter column user_id set not null;
    drop table notification_webhooks;
  `);
}
