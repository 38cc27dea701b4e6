import test from 'ava';
import { backends } from '../helpers/db.ts';
import { fixture } from '../helpers/fixtures.ts';
import { ADMIN, client, makeUser, startTestServer, type Client, type TestServer } from '../helpers/server.ts';

/** A multipart deployment exactly as Camunda Modeler 5 sends it. */
function modelerForm(fileName: string, bytes: Buffer, extra: Record<string, string> = {}): FormData {
  const form = new FormData();
  form.append('deployment-name', fileName.replace(/\.bpmn$/, ''));
  form.append('deployment-source', 'Camunda Modeler');
  form.append('deploy-changed-only', 'true');
  for (const [k, v] of Object.entries(extra)) form.append(k, v);
  form.append(fileName, new Blob([bytes]), fileName);
  return form;
}

for (const backend of backends) {
  let c!: { server: TestServer; admin: Client; office: Client };
  const basic = `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}`;
  test.before(async () => {
    const server = await startTestServer(backend);
    c = { server, admin: client(server.url, ADMIN.user, ADMIN.password), office: await makeUser(server, 'office-d', ['office']) };
  });
  test.after.always(async () => c?.server.stop());
  const t = (title: string) => `${backend.name}: ${title}`;
  const deploy = (form: FormData, auth = basic) =>
    fetch(`${c.server.url}/engine-rest/deployment/create`, { method: 'POST', body: form, headers: { Authorization: auth } });

  test.serial(t("Camunda Modeler's deploy and start-instance exchange works unchanged"), async (t) => {
    const probe = await fetch(`${c.server.url}/engine-rest/deployment?maxResults=0`);
    t.is(probe.status, 401, 'the unauthenticated probe asks for credentials');
    t.is((await c.admin.get('/engine-rest/deployment?maxResults=0')).status, 200);
    t.regex((await c.admin.get('/engine-rest/version')).body.version, /^7\./);
    const bytes = fixture('parallel-review.bpmn');
    const res = await deploy(modelerForm('parallel-review.bpmn', bytes));
    t.is(res.status, 200);
    t.is(res.headers.get('content-type'), 'application/json');
    const body: any = await res.json();
    t.is(body.source, 'Camunda Modeler');
    const [definitionId] = Object.keys(body.deployedProcessDefinitions);
    t.is(body.deployedProcessDefinitions[definitionId].key, 'parallel-review');
    const started = await c.admin.post(`/engine-rest/process-definition/${definitionId}/start`, {});
    t.is(started.status, 200);
    t.is(started.body.definitionId, definitionId);
    // The resource comes back byte-identical.
    const resources = (await c.admin.get(`/engine-rest/deployment/${body.id}/resources`)).body;
    t.deepEqual(resources.map((r: { name: string }) => r.name), ['parallel-review.bpmn']);
    const data = await fetch(`${c.server.url}/engine-rest/deployment/${body.id}/resources/${resources[0].id}/data`, { headers: { Authorization: basic } });
    t.true(Buffer.compare(Buffer.from(await data.arrayBuffer()), bytes) === 0);
    // Deploying the same diagram again creates no version, and still names a definition to start.
    const again: any = await (await deploy(modelerForm('parallel-review.bpmn', bytes))).json();
    t.deepEqual(Object.keys(again.deployedProcessDefinitions), [definitionId]);
    t.is((await c.admin.get('/engine-rest/process-definition/count?key=parallel-review')).body.count, 1);
  });

  test.serial(t('a diagram that cannot be executed is refused with ENGINE-09005, resource, element, line and column'), async (t) => {
    const before = (await c.admin.get('/engine-rest/deployment/count')).body.count;
    const res = await deploy(modelerForm('broken-condition.bpmn', fixture('broken-condition.bpmn')));
    t.is(res.status, 400);
    const body: any = await res.json();
    t.is(body.type, 'ParseException');
    t.true(body.message.startsWith('ENGINE-09005 Could not parse BPMN process.'));
    const [problem] = body.details['broken-condition.bpmn'].errors;
    t.like(problem, { mainElementId: 'yes', line: 7, column: 5 });
    t.is((await c.admin.get('/engine-rest/deployment/count')).body.count, before, 'nothing is half-written');
  });

  test.serial(t('only administrators deploy; bad requests get 400'), async (t) => {
    const office = `Basic ${Buffer.from('office-d:office-d-password').toString('base64')}`;
    t.is((await deploy(modelerForm('parallel-review.bpmn', fixture('parallel-review.bpmn')), office)).status, 403);
    const notMultipart = await c.admin.post('/engine-rest/deployment/create', { hello: 'world' });
    t.is(notMultipart.status, 415);
    t.regex(notMultipart.body.message, /multipart/);
    const empty = new FormData();
    empty.append('deployment-name', 'nothing');
    t.is((await deploy(empty)).status, 400);
    const badFlag = await deploy(modelerForm('parallel-review.bpmn', fixture('parallel-review.bpmn'), { 'enable-duplicate-filtering': 'yes' }));
    t.is(badFlag.status, 400);
    t.is((await c.admin.get('/engine-rest/deployment/nope')).status, 404);
  });

  test.serial(t('deleting a deployment with instances needs cascade, and removes them'), async (t) => {
    const bytes = Buffer.from(fixture('two-versions-a.bpmn').toString().replaceAll('versioned', 'doomed'));
    const body: any = await (await deploy(modelerForm('doomed.bpmn', bytes))).json();
    const [definitionId] = Object.keys(body.deployedProcessDefinitions);
    const started = await c.admin.post(`/engine-rest/process-definition/${definitionId}/start`, {});
    const refused = await c.admin.delete(`/engine-rest/deployment/${body.id}`);
    t.is(refused.status, 409);
    t.is((await c.office.delete(`/engine-rest/deployment/${body.id}?cascade=true`)).status, 403);
    t.is((await c.admin.delete(`/engine-rest/deployment/${body.id}?cascade=true`)).status, 204);
    t.is((await c.admin.get(`/engine-rest/deployment/${body.id}`)).status, 404);
    t.is((await c.admin.get(`/engine-rest/process-definition/${definitionId}`)).status, 404);
    t.deepEqual((await c.admin.get(`/engine-rest/task?processInstanceId=${started.body.id}`)).body, []);
  });

  test.serial(t("a Camunda Form deployed beside the diagram is served as the task's deployed form"), async (t) => {
    const form = new FormData();
    form.append('deployment-name', 'with-form');
    form.append('deployment-source', 'Camunda Modeler');
    form.append('with-form.bpmn', new Blob([fixture('with-form.bpmn')]), 'with-form.bpmn');
    form.append('catalogue.form', new Blob([fixture('catalogue.form')]), 'catalogue.form');
    const body: any = await (await deploy(form)).json();
    t.deepEqual((await c.admin.get(`/engine-rest/deployment/${body.id}/resources`)).body.map((r: { name: string }) => r.name), ['catalogue.form', 'with-form.bpmn']);
    const [definitionId] = Object.keys(body.deployedProcessDefinitions);
    const started = await c.admin.post(`/engine-rest/process-definition/${definitionId}/start`, {});
    const [task] = (await c.admin.get(`/engine-rest/task?processInstanceId=${started.body.id}`)).body;
    t.deepEqual(task.camundaFormRef, { key: 'catalogue-form', binding: 'latest', version: null });
    const res = await fetch(`${c.server.url}/engine-rest/task/${task.id}/deployed-form`, { headers: { Authorization: basic } });
    t.is(res.status, 200);
    t.is(res.headers.get('content-type'), 'application/json');
    t.true(Buffer.compare(Buffer.from(await res.arrayBuffer()), fixture('catalogue.form')) === 0);
    t.is((await c.office.get(`/engine-rest/task/${task.id}/deployed-form`)).status, 404, 'not offered to the office');
  });
}
