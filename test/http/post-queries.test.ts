import test from 'ava';
import { backends } from '../helpers/db.ts';
import { fixture, oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, startTestServer, vars, type Client, type TestServer } from '../helpers/server.ts';

/*
 * Camunda's query-by-body: POST /x (and /x/count) with the GET form's criteria as a JSON body, paging
 * in the query string. The same parser reads both, so the same criteria give the same answer; a body
 * field no criterion reads is a 400 naming it, never a silently broader answer.
 */
for (const backend of backends) {
  let c!: { server: TestServer; admin: Client; pis: string[] };
  test.before(async () => {
    const server = await startTestServer(backend);
    await server.services.deployments.deploy(oneResource('parallel-review.bpmn', fixture('parallel-review.bpmn')));
    await server.services.deployments.deploy(oneResource('external-check.bpmn', fixture('external-check.bpmn')));
    await server.services.deployments.deploy(oneResource('deadlines.bpmn', fixture('deadlines.bpmn')));
    const admin = client(server.url, ADMIN.user, ADMIN.password);
    const pis: string[] = [];
    for (const key of ['PQ-B', 'PQ-A', 'PQ-C']) {
      pis.push((await admin.post('/engine-rest/process-definition/key/parallel-review/start', { businessKey: key, variables: vars({ ticket: key }) })).body.id);
    }
    await admin.post('/engine-rest/process-definition/key/external-check/start', { variables: vars({ mode: 'ok' }) });
    await admin.post('/engine-rest/process-definition/key/deadlines/start', { variables: vars({}) });
    c = { server, admin, pis };
  });
  test.after.always(async () => c?.server.stop());
  const t = (title: string) => `${backend.name}: ${title}`;

  /** [GET url, POST url, body]: the same criteria in both forms. */
  const pairs = (): [string, string, Record<string, unknown>][] => [
    ['/process-instance?processDefinitionKey=parallel-review&sortBy=businessKey&sortOrder=desc&maxResults=2', '/process-instance?maxResults=2',
      { processDefinitionKey: 'parallel-review', sorting: [{ sortBy: 'businessKey', sortOrder: 'desc' }] }],
    [`/process-instance?processInstanceIds=${c.pis[0]},${c.pis[2]}`, '/process-instance', { processInstanceIds: [c.pis[0], c.pis[2]] }],
    ['/process-instance/count?businessKeyLike=PQ-%25', '/process-instance/count', { businessKeyLike: 'PQ-%' }],
    ['/history/process-instance?processDefinitionKey=parallel-review&unfinished=true&sortBy=businessKey&sortOrder=asc', '/history/process-instance',
      { processDefinitionKey: 'parallel-review', unfinished: true, sorting: [{ sortBy: 'businessKey', sortOrder: 'asc' }] }],
    ['/history/process-instance/count?processInstanceBusinessKey=PQ-A', '/history/process-instance/count', { processInstanceBusinessKey: 'PQ-A' }],
    [`/history/task?processInstanceId=${c.pis[1]}&sortBy=name&sortOrder=asc`, '/history/task', { processInstanceId: c.pis[1], sorting: [{ sortBy: 'name', sortOrder: 'asc' }] }],
    [`/history/variable-instance?processInstanceIdIn=${c.pis[0]},${c.pis[1]}&variableName=ticket`, '/history/variable-instance',
      { processInstanceIdIn: [c.pis[0], c.pis[1]], variableName: 'ticket' }],
    [`/history/activity-instance?processInstanceId=${c.pis[2]}&unfinished=true`, '/history/activity-instance', { processInstanceId: c.pis[2], unfinished: true }],
    ['/external-task?topicName=backup-check&locked=false', '/external-task', { topicName: 'backup-check', locked: false }],
    ['/external-task/count?topicName=backup-check', '/external-task/count', { topicName: 'backup-check' }],
    ['/job?processDefinitionKey=deadlines&active=true', '/job', { processDefinitionKey: 'deadlines', active: true }],
    ['/job/count?processDefinitionKey=deadlines', '/job/count', { processDefinitionKey: 'deadlines' }],
    ['/job-definition', '/job-definition', {}],
    ['/group?member=admin', '/group', { member: 'admin' }],
  ];

  test.serial(t('each POST query answers what its GET form answers for the same criteria, also under the engine prefix'), async (t) => {
    let found = 0;
    for (const [get, post, body] of pairs()) {
      const g = await c.admin.get(`/engine-rest${get}`);
      const p = await c.admin.post(`/engine-rest${post}`, body);
      const named = await c.admin.post(`/engine-rest/engine/default${post}`, body);
      t.is(g.status, 200, `${get}: ${JSON.stringify(g.body)}`);
      t.is(p.status, 200, `POST ${post}: ${JSON.stringify(p.body)}`);
      t.deepEqual(p.body, g.body, `POST ${post}`);
      t.deepEqual(named.body, g.body, `POST /engine/default${post}`);
      if ((Array.isArray(p.body) && p.body.length) || p.body.count > 0) found++;
    }
    // Equal answers prove nothing if they are all empty.
    t.true(found >= pairs().length - 1, `${found} of ${pairs().length} found something`);
  });

  test.serial(t('the criteria do filter: a query by body is not a list of everything'), async (t) => {
    const sorted = (await c.admin.post('/engine-rest/process-instance?maxResults=2', { processDefinitionKey: 'parallel-review', sorting: [{ sortBy: 'businessKey', sortOrder: 'desc' }] })).body;
    t.deepEqual(sorted.map((i: { businessKey: string }) => i.businessKey), ['PQ-C', 'PQ-B']);
    const two = (await c.admin.post('/engine-rest/process-instance', { processInstanceIds: [c.pis[0], c.pis[2]] })).body;
    t.deepEqual(two.map((i: { id: string }) => i.id).sort(), [c.pis[0], c.pis[2]].sort());
    t.deepEqual((await c.admin.post('/engine-rest/history/process-instance/count', { processInstanceBusinessKey: 'PQ-A' })).body, { count: 1 });
    const ext = (await c.admin.post('/engine-rest/external-task/count', { topicName: 'backup-check' })).body.count;
    t.is(ext, 1);
    t.deepEqual((await c.admin.post('/engine-rest/external-task/count', { topicName: 'no-such-topic' })).body, { count: 0 });
    t.true((await c.admin.post('/engine-rest/job/count', { processDefinitionKey: 'deadlines' })).body.count >= 1);
    t.deepEqual((await c.admin.post('/engine-rest/job/count', { processDefinitionKey: 'deadlines', messages: true })).body, { count: 0 });
  });

  test.serial(t('a body field no criterion reads is a 400 naming it; a wrongly typed one is a 400 naming it'), async (t) => {
    const unknown = await c.admin.post('/engine-rest/process-instance', { processDefinitionKey: 'parallel-review', tenantIdIn: ['t1'], variables: [{ name: 'ticket', operator: 'eq', value: 'PQ-A' }] });
    t.is(unknown.status, 400);
    t.is(unknown.body.type, 'InvalidRequestException');
    t.regex(unknown.body.message, /tenantIdIn, variables/);
    // Also after an early answer: messages=true matches nothing here, and the typo is still refused.
    const typo = await c.admin.post('/engine-rest/job', { messages: true, procesDefinitionKey: 'x' });
    t.is(typo.status, 400);
    t.regex(typo.body.message, /procesDefinitionKey/);
    for (const [url, body, name] of [
      ['/process-instance', { processInstanceIds: 'a,b' }, 'processInstanceIds'],
      ['/history/process-instance', { finished: 'true' }, 'finished'],
      ['/external-task/count', { topicName: 7 }, 'topicName'],
      ['/process-instance', { sorting: [{ sortBy: 'nonsense', sortOrder: 'asc' }] }, 'sorting'],
      ['/process-instance', { sorting: { sortBy: 'businessKey', sortOrder: 'asc' } }, 'sorting'],
    ] as const) {
      const r = await c.admin.post(`/engine-rest${url}`, body);
      t.is(r.status, 400, `${url} ${JSON.stringify(body)}`);
      t.true(String(r.body.message).includes(name), r.body.message);
    }
    const notObject = await c.admin.post('/engine-rest/history/task', [1, 2]);
    t.is(notObject.status, 400);
    t.is((await c.admin.post('/engine-rest/process-instance?maxResults=-1', {})).status, 400);
  });

  test.serial(t('a query by body is traced as a read, with its criteria and the instances it names'), async (t) => {
    const since = new Date(Date.now() - 1000);
    await c.admin.post('/engine-rest/history/variable-instance', { processInstanceIdIn: [c.pis[0], c.pis[1]], variableName: 'ticket' });
    const rows = await c.server.db('trace').where({ operation: 'Read', entity_type: 'Variable', user_id: ADMIN.user }).where('time', '>=', since);
    const details = rows.map((r: { details: unknown }) => (typeof r.details === 'string' ? JSON.parse(r.details) : r.details) as Record<string, unknown>);
    const row = details.find((d) => d.route === 'POST /engine-rest/history/variable-instance');
    t.truthy(row, JSON.stringify(details));
    t.deepEqual((row!.filter as Record<string, unknown>).variableName, 'ticket');
    t.deepEqual((row!.processInstanceIds as string[]).sort(), [c.pis[0], c.pis[1]].sort());
  });
}
