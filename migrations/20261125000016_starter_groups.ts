import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// Who may start a process (Camunda's camunda:candidateStarterGroups and
// candidateStarterUsers). Null when the diagram does not say: then any
// member of the organisation's roles may. A role named here also sees the
// process's instances (the definition grants it).
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    alter table process_definitions add column starter_groups jsonb;
    alter table process_definitions add column starter_users jsonb;
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, `
    alter table process_definitions drop column starter_groups;
    alter table process_definitions drop column starter_users;
  `);
}
