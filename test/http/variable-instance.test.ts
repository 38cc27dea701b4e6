import test from 'ava';
import { backends } from '../helpers/db.ts';
import { fixture, oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, makeUser, startTestServer, type Client, type TestServer } from '../helpers/server.ts';

/*
 * Camunda's runtime `/variable-instance` over real HTTP: only variables of
 * running instances the caller may see, sealed ones opened for a reader
 * allowed to see them, Camunda's filters in both the GET and the POST form,
 * a count that is the list's length, and every read traced.
 */

const FILE_TEXT = '附件内容 attachment-vi-7';

for (const backend of backends) {
  let c!: { server: TestServer; admin: Client; data: Client; network: Client };
  test.before(async () => {
    const server = await startTestServer(backend);
    await server.services.deployments.deploy(oneResource('sensitive-data.bpmn', fixture('sensitive-data.bpmn')));
    c = {
      server, admin: client(server.url, ADMIN.user, ADMIN.password),
      data: await makeUser(server, 'data-vi', ['data-security']), network: await makeUser(server, 'net-vi', ['network-security']),
    };
  });
  test.after.always(async () => c?.server.stop());
  const t = (title: string) => `${backend.name}: ${title}`;

  async function start(applicant: string, level: number): Promise<string> {
    const r = await c.data.post('/engine-rest/process-definition/key/sensitive-data/start', {
      variables: { applicant: { value: applicant }, idNumber: { value: '110101199003071234' }, secret_level: { value: level, type: 'Double' } },
    });
    if (r.status !== 200) throw new Error(`start: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.id;
  }
  const lastRead = async () => c.server.db('trace').where({ operation: 'Read', entity_type: 'Variable' }).orderBy('id', 'desc').first();

  test.serial(t('a reader sees the variables of instances they may see, sealed ones opened, in Camunda\'s shape; an outsider none'), async (t) => {
    const id = await start('张三', 3.5);
    const r = await c.data.get(`/engine-rest/variable-instance?processInstanceIdIn=${id}&sortBy=variableName&sortOrder=asc`);
    t.is(r.status, 200, JSON.stringify(r.body));
    const secret = r.body.find((v: any) => v.name === 'secret_level');
    t.deepEqual(secret, {
      id: `${id}:secret_level`, name: 'secret_level', value: 3.5, type: 'Double', valueInfo: {},
      processDefinitionId: secret.processDefinitionId, processInstanceId: id, executionId: id, caseInstanceId: null, caseExecutionId: null,
      taskId: null, batchId: null, activityInstanceId: id, tenantId: null, errorMessage: null,
    });
    t.truthy(secret.processDefinitionId);
    t.is((await c.server.db('variables').where({ process_instance_id: id, name: 'secret_level' }).first()).key_id != null, true, 'sealed at rest');
    const names = r.body.map((v: any) => v.name);
    t.deepEqual(names, [...names].sort(), 'sorted by name');
    t.true(names.includes('applicant'));

    t.deepEqual((await c.network.get(`/engine-rest/variable-instance?processInstanceIdIn=${id}`)).body, [], 'an outsider sees none');
    t.deepEqual((await c.network.get('/engine-rest/variable-instance')).body, [], 'nor without a filter');
    t.is((await c.network.get(`/engine-rest/variable-instance/${id}:secret_level`)).status, 404);
    t.is((await c.network.get('/engine-rest/variable-instance/count')).body.count, 0);

    const one = await c.data.get(`/engine-rest/variable-instance/${encodeURIComponent(`${id}:secret_level`)}`);
    t.is(one.status, 200);
    t.is(one.body.value, 3.5);
    const row = await lastRead();
    t.is(row.process_instance_id, id, 'the read is in the instance\'s chain');
    t.deepEqual(row.details.variables, ['secret_level']);
    t.is(row.user_id, 'data-vi');
    t.is((await c.admin.get('/engine-rest/variable-instance/nope')).status, 404);
    t.is((await c.admin.get(`/engine-rest/variable-instance/${id}:nope`)).status, 404);
  });

  test.serial(t('filters in both forms; count is the list\'s length; a finished instance\'s variables are history only'), async (t) => {
    const a = await start('李四', 10);
    const b = await start('王五', 20);
    const both = [a, b];
    const get = async (q: string) => (await c.data.get(`/engine-rest/variable-instance?processInstanceIdIn=${both.join(',')}&${q}`)).body as any[];
    const post = async (body: object) => {
      const r = await c.data.post('/engine-rest/variable-instance', { processInstanceIdIn: both, ...body });
      t.is(r.status, 200, JSON.stringify(r.body));
      return r.body as any[];
    };
    const count = async (body: object) => (await c.data.post('/engine-rest/variable-instance/count', { processInstanceIdIn: both, ...body })).body.count;

    t.deepEqual((await get('variableName=applicant')).map((v) => v.value).sort(), ['李四', '王五']);
    t.deepEqual((await get('variableNameLike=secret%25')).map((v) => v.value).sort(), [10, 20]);
    t.deepEqual((await get('variableName=APPLICANT&variableNamesIgnoreCase=true')).length, 2);
    t.deepEqual((await get('variableValues=secret_level_gt_15')).map((v) => [v.processInstanceId, v.name, v.value]), [[b, 'secret_level', 20]],
      'a value condition on a sealed variable selects the variables whose value matches');
    t.deepEqual(await get('variableValues=secret_level_gt_15,applicant_eq_王五'), [], 'conditions hold for one variable together');
    t.deepEqual((await get(`executionIdIn=${a}`)).every((v) => v.processInstanceId === a), true);
    t.deepEqual((await get(`activityInstanceIdIn=${b}`)).every((v) => v.processInstanceId === b), true);

    const byValue = await post({ variableValues: [{ name: 'secret_level', operator: 'lteq', value: 20 }], sorting: [{ sortBy: 'variableName', sortOrder: 'desc' }] });
    t.deepEqual(byValue.map((v) => v.value).sort(), [10, 20]);
    t.is(await count({ variableValues: [{ name: 'secret_level', operator: 'lteq', value: 20 }] }), byValue.length);
    t.deepEqual((await post({ variableValues: [{ name: 'applicant', operator: 'eq', value: '李四' }] })).map((v) => [v.processInstanceId, v.value]), [[a, '李四']]);
    const desc = await post({ sorting: [{ sortBy: 'variableName', sortOrder: 'desc' }] });
    t.deepEqual(desc.map((v) => v.name), desc.map((v) => v.name).sort().reverse());
    t.deepEqual((await post({ variableValues: [{ name: 'applicant', operator: 'like', value: '王%' }], variableName: 'applicant' })).map((v) => v.value), ['王五']);
    const all = await post({});
    t.is(await count({}), all.length);
    t.is((await c.data.get(`/engine-rest/variable-instance/count?processInstanceIdIn=${both.join(',')}`)).body.count, all.length);
    const counted = await lastRead();
    t.is(counted.details.route, 'GET /engine-rest/variable-instance/count', 'a count is traced as the count, not as a variable by id');
    t.is(counted.details.count, all.length);
    t.deepEqual(counted.details.processInstanceIds, both);
    t.is((await c.data.post('/engine-rest/variable-instance?firstResult=1&maxResults=1', { processInstanceIdIn: both })).body.length, 1);

    // The POST query is traced with its filter and the instances it returned.
    const row = await lastRead();
    t.is(row.details.route, 'POST /engine-rest/variable-instance');
    t.deepEqual(row.details.filter, { processInstanceIdIn: both });
    t.is(row.details.count, 1);

    // Refused up front, naming what: criteria with nothing to match here, bad operators, bad sorting.
    for (const bad of [{ taskIdIn: ['x'] }, { variableValues: [{ name: 'a', operator: 'nope', value: 1 }] }, { sorting: [{ sortBy: 'tenantId', sortOrder: 'asc' }] }, { nope: 1 }]) {
      const r = await c.data.post('/engine-rest/variable-instance', bad);
      t.is(r.status, 400, JSON.stringify(bad));
      t.is(typeof r.body.message, 'string');
    }
    t.is((await c.data.get('/engine-rest/variable-instance?variableValues=nonsense')).status, 400);
    t.is((await c.data.get('/engine-rest/variable-instance?caseInstanceIdIn=x')).status, 400);

    t.is((await c.admin.delete(`/engine-rest/process-instance/${a}`)).status, 204);
    t.deepEqual((await get('variableName=applicant')).map((v) => v.value), ['王五'], 'an ended instance\'s variables are not runtime');
  });

  test.serial(t('a File variable\'s bytes from /data, traced with its name and instance; a String has no data'), async (t) => {
    const id = await start('赵六', 1);
    const file = { value: Buffer.from(FILE_TEXT).toString('base64'), type: 'File', valueInfo: { filename: 'a.txt', mimeType: 'text/plain', encoding: 'UTF-8' } };
    t.is((await c.data.put(`/engine-rest/process-instance/${id}/variables/attachment`, file)).status, 204);
    const res = await fetch(`${c.server.url}/engine-rest/variable-instance/${id}:attachment/data`, { headers: { Authorization: `Basic ${Buffer.from('data-vi:data-vi-password').toString('base64')}` } });
    t.is(res.status, 200);
    t.is(Buffer.from(await res.arrayBuffer()).toString('utf8'), FILE_TEXT);
    const row = await lastRead();
    t.is(row.details.route, 'GET /engine-rest/variable-instance/:id/data');
    t.is(row.process_instance_id, id);
    t.deepEqual(row.details.variables, ['attachment']);
    t.is((await c.data.get(`/engine-rest/variable-instance/${id}:applicant/data`)).status, 400);
    t.is((await c.network.get(`/engine-rest/variable-instance/${id}:attachment/data`)).status, 404);
  });
}
