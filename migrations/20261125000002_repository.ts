import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// Deployments, their resources (bytes kept exactly as uploaded) and the
// process definitions compiled from them. `compiled` holds the engine's
// serialized definition once per version, so instances never carry it.
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    create table deployments (
      id text primary key,
      name text,
      source text,
      tenant_id text,
      deploy_time timestamptz not null default now()
    );
    create index deployments_name_idx on deployments(name, deploy_time);
    create table resources (
      id text primary key,
      deployment_id text not null references deployments(id) on delete cascade,
      name text not null,
      bytes bytea not null,
      checksum text not null
    );
    create index resources_deployment_idx on resources(deployment_id);
    create table process_definitions (
      id text primary key,
      key text not null,
      version integer not null,
      name text,
      version_tag text,
      description text,
      tenant_id text,
      deployment_id text not null references deployments(id) on delete cascade,
      resource_id text not null references resources(id) on delete cascade,
      resource_name text not null,
      checksum text not null,
      history_ttl integer,
      startable boolean not null default true,
      start_event_id text,
      compiled text not null,
      forms jsonb not null default '{}'::jsonb
    );
    create unique index process_definitions_key_version_idx
      on process_definitions(key, coalesce(tenant_id, ''), version);
    create index process_definitions_deployment_idx on process_definitions(deployment_id);
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, `drop table process_definitions, resources, deployments;
`);
}
