import test from 'ava';
import { backends } from '../helpers/db.ts';

const schemaQuery = `
  select table_name, column_name, data_type, is_nullable, column_default
  from information_schema.columns where table_schema = 'public' and table_name not like 'knex_%'
  order by table_name, ordinal_position`;

for (const backend of backends) {
  test(`${backend.name}: migrations go up, down to nothing, and up again to the same schema`, async (t) => {
    const { db, drop } = await backend.create();
    try {
      const first = (await db.raw(schemaQuery)).rows;
      t.true(first.length > 30);
      const tables = new Set(first.map((r: { table_name: string }) => r.table_name));
      t.deepEqual([...tables].sort(), ['activity_instances', 'api_tokens', 'batch_jobs', 'batches', 'carbon_copies', 'decision_definitions', 'decision_requirements_definitions', 'deployments', 'encryption_keys', 'external_task_log', 'external_tasks', 'filters', 'groups', 'history_cleanup_jobs', 'history_decision_inputs', 'history_decision_instances', 'history_decision_outputs', 'history_details', 'identity_link_log', 'incidents', 'job_log', 'login_failures', 'memberships', 'message_outbox', 'message_subscriptions', 'notification_outbox', 'notification_preferences', 'notification_webhooks', 'notifications', 'process_definitions', 'process_instances', 'public_requests', 'resources', 'start_timers', 'task_attachments', 'task_comments', 'task_reminders', 'task_urges', 'task_variables', 'tasks', 'timers', 'trace', 'users', 'variables']);
      await db.migrate.rollback(undefined, true);
      t.deepEqual((await db.raw(schemaQuery)).rows, []);
      await db.migrate.latest();
      t.deepEqual((await db.raw(schemaQuery)).rows, first);
    } finally {
      await drop();
    }
  });
}
