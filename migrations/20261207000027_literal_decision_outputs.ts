import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// A decision literal expression's one output has no clause: Camunda 7's
// history records it with clauseId null (and no rule), named only by its
// variable. So an output row's clause_id may be null.
export async function up(db: Knex): Promise<void> {
  await execScript(db, `alter table history_decision_outputs alter column clause_id drop not null;`);
}

// Going back, such outputs keep their row under an empty clause id (no clause has one).
export async function down(db: Knex): Promise<void> {
  await execScript(db, `
    update history_decision_outputs set clause_id = '' where clause_id is null;
    alter table history_decision_outputs alter column clause_id set not null;
  `);
}
