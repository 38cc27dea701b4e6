import test from 'ava';
import { backends } from '../helpers/db.ts';
import { makeUser, NO_PROCESSES, startTestServer } from '../helpers/server.ts';

/*
 * POST /task and /task/count: a criterion the server does not apply would
 * answer with more tasks than asked for, so it is refused naming it, at the
 * top level and inside an or-query. What Camunda's Tasklist sends with every
 * query while asking nothing (empty variable lists, false flags) passes.
 */
for (const backend of backends) {
  test(`${backend.name}: unknown task query criteria are 400 naming them; Tasklist's empty defaults pass`, async (t) => {
    const s = await startTestServer(backend, NO_PROCESSES);
    try {
      const office = await makeUser(s, 'office-q', ['office']);
      const unknown = await office.post('/engine-rest/task', { candidateGroup: 'office', tenantIdIn: ['t1'] });
      t.is(unknown.status, 400);
      t.regex(unknown.body.message, /tenantIdIn/);
      const inOr = await office.post('/engine-rest/task/count', { orQueries: [{ candidateGroup: 'office' }, { taskDefinitionKey: 'review' }] });
      t.is(inOr.status, 400);
      t.regex(inOr.body.message, /orQueries\[1\]\.taskDefinitionKey/);
      const asksForVariables = await office.post('/engine-rest/task', { processVariables: [{ name: 'x', operator: 'eq', value: 1 }] });
      t.is(asksForVariables.status, 400, 'a variable condition is a criterion');
      const tasklist = await office.post('/engine-rest/task', {
        candidateGroup: 'office', processVariables: [], taskVariables: [], caseInstanceVariables: [], variableNamesIgnoreCase: false,
        variableValuesIgnoreCase: false, orQueries: [], sorting: [{ sortBy: 'created', sortOrder: 'desc' }], taskId: null,
      });
      t.is(tasklist.status, 200, JSON.stringify(tasklist.body));
      t.deepEqual(tasklist.body, []);
    } finally {
      await s.stop();
    }
  });
}
