import test from 'ava';
import CamSDK from 'camunda-bpm-sdk-js';
import { backends } from '../helpers/db.ts';
import { fixture } from '../helpers/fixtures.ts';
import { ADMIN, makeUser, NO_PROCESSES, startTestServer, type TestServer } from '../helpers/server.ts';

/*
 * Camunda's own JavaScript SDK (camunda-bpm-sdk-js from npm, unmodified) as
 * a client of this server, through its Node client with its default engine
 * prefix (/engine-rest/engine/default/…): an office user lists definitions,
 * starts one by its form, works a task found through a saved filter and
 * reads the history; an administrator manages a user and a group. Each step
 * is the SDK's own call and what it makes of the answer.
 */

const KEY = 'form-rest';
/** The SDK's identity list and count read a single argument as the callback, so the query is always followed by one. */
const noop = () => {};

/**
 * The SDK as `user`. Its resources are module-level singletons whose HTTP
 * client each new Client replaces, so a client is made right before the calls
 * it makes (the tests run serially) and never kept across another's.
 */
function sdk(server: TestServer, user: string, password: string) {
  const client = new CamSDK.Client({
    mock: false, apiUri: `${server.url}/engine-rest`,
    headers: { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` },
  });
  return (name: string) => client.resource(name);
}

/** The SDK's error for a refused call: superagent's, carrying the HTTP status, with the server's message. */
async function refusal(t: { fail(m: string): void }, call: PromiseLike<unknown>): Promise<{ status?: number; message: string }> {
  try {
    await call;
  } catch (e) {
    return e as { status?: number; message: string };
  }
  t.fail('the call was not refused');
  return { message: '' };
}

for (const backend of backends) {
  let s!: TestServer;
  let definitionId!: string;
  const office = { user: `office-sdk-${backend.name}`, password: `office-sdk-${backend.name}-password` };
  const state: { instanceId?: string; filterId?: string; taskId?: string } = {};
  const t = (title: string) => `${backend.name}: camunda-bpm-sdk-js ${title}`;

  test.before(async () => {
    s = await startTestServer(backend, NO_PROCESSES);
    const r = await s.services.deployments.deploy({
      name: 'sdk', source: 'test', tenantId: null, duplicateFiltering: false, changedOnly: false,
      resources: [{ name: 'form-rest.bpmn', bytes: fixture('forms-rest/form-rest.bpmn') }, { name: 'approve.html', bytes: fixture('forms-rest/approve.html') }],
    });
    definitionId = r.definitions[0].id;
    await makeUser(s, office.user, ['office']);
  });
  test.after.always(async () => s?.stop());

  test.serial(t('uses the named-engine prefix by default'), (tt) => {
    const client = new CamSDK.Client({ mock: false, apiUri: `${s.url}/engine-rest` });
    tt.is(client.baseUrl, `${s.url}/engine-rest/engine/default`);
  });

  test.serial(t('office: lists the latest definitions, reads the start form and its variables, starts by submitting it'), async (tt) => {
    const api = sdk(s, office.user, office.password);
    const list = await api('process-definition').list({ latestVersion: true, sortBy: 'name', sortOrder: 'asc' });
    tt.is(list.count, 1);
    tt.deepEqual(list.items.map((d: { key: string }) => d.key), [KEY]);
    tt.is(list.items[0].id, definitionId);
    tt.is(list.items[0].name, '表单接口');

    const form = await api('process-definition').startForm({ key: KEY });
    tt.is(form.key, `embedded:engine://engine/:engine/process-definition/${definitionId}/rendered-form`);
    const fields = await api('process-definition').formVariables({ key: KEY });
    tt.deepEqual(Object.keys(fields).sort(), ['amount', 'applicant', 'due', 'level', 'urgent']);
    tt.is(fields.amount.value, 10);

    const wrong = await refusal(tt, api('process-definition').submitForm({ key: KEY, variables: { amount: { value: '0' } } }));
    tt.is(wrong.status, 400);
    tt.regex(wrong.message, /applicant|amount/);
    const started = await api('process-definition').submitForm({
      key: KEY, businessKey: `SDK-${backend.name}`, variables: { applicant: { value: '赵六', type: 'String' }, amount: { value: '5' } },
    });
    tt.is(started.definitionId, definitionId);
    tt.is(started.businessKey, `SDK-${backend.name}`);
    tt.false(started.ended);
    state.instanceId = started.id;
  });

  test.serial(t('office: saves a filter, finds it in the filter list and the task through it'), async (tt) => {
    const api = sdk(s, office.user, office.password);
    const saved = await api('filter').save({
      resourceType: 'Task', name: '我的审核', owner: office.user,
      query: { processDefinitionKey: KEY, candidateGroup: 'office', sorting: [{ sortBy: 'created', sortOrder: 'desc' }] },
      properties: { color: '#555', priority: 0 },
    });
    tt.truthy(saved.id);
    state.filterId = saved.id;
    const filters = await api('filter').list({ resourceType: 'Task' });
    tt.deepEqual(filters.map((f: { id: string }) => f.id), [saved.id]);
    tt.is((await api('filter').get(saved.id)).name, '我的审核');

    // Tasklist's call: POST filter/{id}/list?firstResult=0&maxResults=15 with extra criteria in the body.
    const tasks = await api('filter').getTasks({ id: saved.id, processInstanceId: state.instanceId });
    tt.is(tasks.length, 1, JSON.stringify(tasks));
    tt.is(tasks[0].taskDefinitionKey, 'review');
    tt.is(tasks[0].assignee, null);
    state.taskId = tasks[0].id;
  });

  test.serial(t('office: claims the task, reads its form and variables, submits it; a wrong form is refused and the task stays'), async (tt) => {
    const api = sdk(s, office.user, office.password);
    const id = state.taskId!;
    // With two arguments the SDK reads ({taskId, userId}, done); Tasklist passes the callback.
    await api('task').claim(id, office.user, () => {});
    tt.is((await api('task').get(id)).assignee, office.user);
    const listed = await api('task').list({ assignee: office.user });
    tt.deepEqual(listed.map((x: { id: string }) => x.id), [id]);

    tt.deepEqual(await api('task').form(id), { key: `embedded:engine://engine/:engine/task/${id}/rendered-form`, contextPath: null, camundaFormRef: null });
    const fields = await api('task').formVariables({ id });
    tt.deepEqual(Object.keys(fields), ['comment']);

    const wrong = await refusal(tt, api('task').submitForm({ id, variables: { comment: { value: '好' } } }));
    tt.is(wrong.status, 400);
    tt.is((await api('task').get(id)).id, id, 'still open');
    await api('task').submitForm({ id, variables: { comment: { value: '同意办理' } } });
    const next = await api('filter').getTasks({ id: state.filterId, processInstanceId: state.instanceId });
    tt.deepEqual(next.map((x: { taskDefinitionKey: string }) => x.taskDefinitionKey), ['approve']);
  });

  test.serial(t('office: reads the history of the instance, its finished task and its variables'), async (tt) => {
    const api = sdk(s, office.user, office.password);
    const instances = await api('history').processInstance({ processInstanceId: state.instanceId, firstResult: 0, maxResults: 10 });
    tt.is(instances.length, 1);
    tt.is(instances[0].businessKey, `SDK-${backend.name}`);
    tt.is(instances[0].state, 'ACTIVE');
    tt.deepEqual(await api('history').processInstanceCount({ processDefinitionKey: KEY }), { count: 1 });

    const done = await api('history').task({ processInstanceId: state.instanceId, finished: true });
    tt.deepEqual(done.map((x: { id: string; assignee: string; deleteReason: string }) => [x.id, x.assignee, x.deleteReason]), [[state.taskId, office.user, 'completed']]);
    tt.deepEqual(await api('history').taskCount({ processInstanceId: state.instanceId }), { count: 2 });

    const variables = await api('history').variableInstance({ processInstanceId: state.instanceId, variableName: 'comment', deserializeValues: false });
    tt.deepEqual(variables.map((v: { name: string; value: unknown }) => [v.name, v.value]), [['comment', '同意办理']]);
  });

  test.serial(t('office may not manage users: the SDK gets the 403'), async (tt) => {
    const api = sdk(s, office.user, office.password);
    const r = await refusal(tt, api('user').create({ id: 'not-made', firstName: 'x', lastName: 'y', password: 'not-made-password-1' }));
    tt.is(r.status, 403);
  });

  test.serial(t('administrator: creates, finds, edits and deletes a user and a group with its membership'), async (tt) => {
    const api = sdk(s, ADMIN.user, ADMIN.password);
    const id = `sdk-user-${backend.name}`;
    await api('user').create({ id, firstName: '小', lastName: '王', email: `${id}@example.org`, password: 'first-password-1' });
    tt.deepEqual(await api('user').profile(id), { id, firstName: '小', lastName: '王', email: `${id}@example.org` });
    await api('user').updateProfile({ id, firstName: '小明', lastName: '王', email: `${id}@example.net` });
    tt.is((await api('user').profile(id)).firstName, '小明');
    tt.deepEqual(await api('user').count({ id }, noop), { count: 1 });

    await api('group').create({ id: 'sdk-team', name: 'SDK 小组', type: 'WORKFLOW' });
    await api('group').createMember({ id: 'sdk-team', userId: id });
    tt.deepEqual((await api('user').list({ memberOfGroup: 'sdk-team' }, noop)).map((u: { id: string }) => u.id), [id]);
    tt.deepEqual((await api('group').list({ member: id }, noop)).map((g: { id: string }) => g.id), ['sdk-team']);
    // Searches the server does not apply are refused, naming them, rather than answered with every user or group.
    const search = await refusal(tt, api('user').list({ firstNameLike: '%小%', sortBy: 'userId', sortOrder: 'asc' }, noop));
    tt.is(search.status, 400);
    tt.regex(search.message, /firstNameLike/);
    tt.regex((await refusal(tt, api('group').list({ nameLike: '%SDK%' }, noop))).message, /nameLike/);
    await api('group').update({ id: 'sdk-team', name: 'SDK 组', type: 'WORKFLOW' });
    tt.is((await api('group').get('sdk-team')).name, 'SDK 组');

    await api('user').updateCredentials({ id, password: 'second-password-2', authenticatedUserPassword: ADMIN.password });
    // The new password works through the SDK too: the user reads their own profile.
    tt.is((await sdk(s, id, 'second-password-2')('user').profile(id)).firstName, '小明');
    const old = await refusal(tt, sdk(s, id, 'first-password-1')('user').profile(id));
    tt.is(old.status, 401);

    const admin = sdk(s, ADMIN.user, ADMIN.password);
    await admin('group').deleteMember({ id: 'sdk-team', userId: id });
    tt.deepEqual(await admin('user').list({ memberOfGroup: 'sdk-team' }, noop), []);
    await admin('group').delete({ id: 'sdk-team' });
    tt.deepEqual(await admin('group').count({ id: 'sdk-team' }, noop), { count: 0 });
    await admin('user').delete(id);
    tt.deepEqual(await admin('user').count({ id }, noop), { count: 0 });
    tt.is((await refusal(tt, admin('user').profile(id))).status, 404);
  });
}
