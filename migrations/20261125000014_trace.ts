import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// The trace (留痕): one row per API action and per read of process data,
// written in the transaction of the action it records. Each row carries an
// SM3 hash over its content and the previous row's hash, so editing,
// deleting or reordering rows breaks the chain at that row. There are
// CHAINS parallel chains (\`chain\`), a process instance's rows always in the
// same one, so that appenders of different instances do not wait on each
// other's commits. In production
// the server's database role has only INSERT and SELECT here (see
// sql/trace-grants.sql); the migration role owns the table.
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    create table trace (
      id bigint generated always as identity primary key,
      chain smallint not null default 0,
      time timestamptz not null,
      user_id text not null,
      source text,
      operation text not null,
      entity_type text not null,
      entity_id text,
      process_instance_id text,
      details jsonb not null default '{}',
      prev_hash text not null,
      hash text not null
    );
    create index trace_chain_idx on trace(chain, id);
    create index trace_user_idx on trace(user_id, id);
    create index trace_instance_idx on trace(process_instance_id, id);
    create index trace_time_idx on trace(time);
    create index trace_operation_idx on trace(operation, id);
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, `drop table trace;
`);
}
