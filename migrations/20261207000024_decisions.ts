import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// DMN decisions, versioned per key as process definitions are. A DMN
// resource's <definitions> is Camunda's decision requirements definition,
// stored (as Camunda 7 does) only when it holds more than one decision.
// `compiled` is the evaluator's form of one decision, written once per
// version. Every evaluation leaves a history row per decision evaluated (the
// required ones point at their root), with the inputs it saw and the
// outputs of the rules that matched, as typed values. Those values are
// always sealed (SM4 + HMAC-SM3, services/sealed-decision-values.ts), `key_id`
// naming the key: an input expression may read any variable, a sensitive one
// too, so history may not hold any of them readable. History names its
// decision by id and key as plain values, no foreign key: as in Camunda, it
// outlives a deployment deleted without cascade (services/deployments.ts).
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    create table decision_requirements_definitions (
      id text primary key,
      key text not null,
      version integer not null,
      name text,
      category text,
      tenant_id text,
      deployment_id text not null references deployments(id) on delete cascade,
      resource_id text not null references resources(id) on delete cascade,
      resource_name text not null,
      checksum text not null
    );
    create unique index decision_requirements_key_version_idx
      on decision_requirements_definitions(key, coalesce(tenant_id, ''), version);
    create index decision_requirements_deployment_idx on decision_requirements_definitions(deployment_id);
    create table decision_definitions (
      id text primary key,
      key text not null,
      version integer not null,
      name text,
      category text,
      version_tag text,
      history_ttl integer,
      tenant_id text,
      deployment_id text not null references deployments(id) on delete cascade,
      resource_id text not null references resources(id) on delete cascade,
      resource_name text not null,
      checksum text not null,
      decision_requirements_definition_id text references decision_requirements_definitions(id) on delete cascade,
      decision_requirements_definition_key text,
      compiled text not null
    );
    create unique index decision_definitions_key_version_idx
      on decision_definitions(key, coalesce(tenant_id, ''), version);
    create index decision_definitions_deployment_idx on decision_definitions(deployment_id);
    create table history_decision_instances (
      id text primary key,
      decision_definition_id text not null,
      decision_definition_key text not null,
      decision_definition_name text,
      decision_requirements_definition_id text,
      decision_requirements_definition_key text,
      evaluation_time timestamptz not null,
      process_definition_id text,
      process_definition_key text,
      process_instance_id text,
      root_process_instance_id text,
      execution_id text,
      activity_id text,
      activity_instance_id text,
      user_id text,
      tenant_id text,
      root_decision_instance_id text references history_decision_instances(id) on delete cascade,
      collect_result_value double precision
    );
    create index history_decision_instances_definition_idx on history_decision_instances(decision_definition_key, evaluation_time);
    create index history_decision_instances_process_idx on history_decision_instances(process_instance_id) where process_instance_id is not null;
    create index history_decision_instances_root_idx on history_decision_instances(root_decision_instance_id) where root_decision_instance_id is not null;
    create table history_decision_inputs (
      id text primary key,
      decision_instance_id text not null references history_decision_instances(id) on delete cascade,
      position integer not null,
      clause_id text not null,
      clause_name text,
      type text not null,
      value jsonb not null,
      key_id text not null
    );
    create index history_decision_inputs_instance_idx on history_decision_inputs(decision_instance_id, position);
    create index history_decision_inputs_key_idx on history_decision_inputs(key_id);
    create table history_decision_outputs (
      id text primary key,
      decision_instance_id text not null references history_decision_instances(id) on delete cascade,
      position integer not null,
      clause_id text not null,
      clause_name text,
      rule_id text,
      rule_order integer,
      variable_name text,
      type text not null,
      value jsonb not null,
      key_id text not null
    );
    create index history_decision_outputs_instance_idx on history_decision_outputs(decision_instance_id, position);
    create index history_decision_outputs_key_idx on history_decision_outputs(key_id);
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, `
    drop table history_decision_outputs, history_decision_inputs, history_decision_instances,
      decision_definitions, decision_requirements_definitions;
  `);
}
