import test from 'ava';
import { backends } from '../helpers/db.ts';
import { fixture, oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, makeUser, NO_PROCESSES, startTestServer, vars, type Client, type TestServer } from '../helpers/server.ts';

/*
 * Camunda's POST /task/{id}/bpmnError over real HTTP: the error a person
 * throws from a user task is caught by the error boundary event on it, with
 * the variables given and the code and message variables set.
 */

for (const backend of backends) {
  let c!: { s: TestServer; office: Client; network: Client; admin: Client };
  const t = (title: string) => `${backend.name}: ${title}`;

  test.before(async () => {
    const s = await startTestServer(backend, NO_PROCESSES);
    await s.services.deployments.deploy(oneResource('task-error.bpmn', fixture('forms-rest/task-error.bpmn')));
    await s.services.deployments.deploy(oneResource('task-escalation.bpmn', fixture('forms-rest/task-escalation.bpmn')));
    c = {
      s, admin: client(s.url, ADMIN.user, ADMIN.password),
      office: await makeUser(s, 'office-err', ['office']),
      network: await makeUser(s, 'network-err', ['network-security']),
    };
  });
  test.after.always(async () => c?.s.stop());

  async function start() {
    const r = await c.office.post('/engine-rest/process-definition/key/task-error/start', {});
    if (r.status !== 200) throw new Error(`${r.status} ${JSON.stringify(r.body)}`);
    return r.body.id as string;
  }
  async function open(pi: string) {
    return (await c.office.get(`/engine-rest/task?processInstanceId=${pi}`)).body as { id: string; taskDefinitionKey: string }[];
  }

  test.serial(t('a BPMN error thrown from a user task is caught by its error boundary event'), async (t) => {
    const pi = await start();
    const [task] = await open(pi);
    t.is((await c.network.post(`/engine-rest/task/${task.id}/bpmnError`, { errorCode: 'REJECTED' })).status, 404);
    const r = await c.office.post(`/engine-rest/task/${task.id}/bpmnError`, { errorCode: 'REJECTED', errorMessage: '材料不全', variables: vars({ note: '补材料' }) });
    t.is(r.status, 204, JSON.stringify(r.body));
    t.deepEqual((await open(pi)).map((x) => x.taskDefinitionKey), ['rework']);
    const v = (await c.admin.get(`/engine-rest/process-instance/${pi}/variables`)).body;
    t.is(v.note.value, '补材料');
    t.is(v.code.value, 'REJECTED');
    t.is(v.why.value, '材料不全');
    const [row] = await c.s.db('tasks').where({ id: task.id });
    t.truthy(row.end_time);
    const traced = await c.s.db('trace').where({ process_instance_id: pi, operation: 'BpmnError', user_id: 'office-err' });
    t.is(traced.length, 1);
  });

  test.serial(t('an error no boundary event catches is refused with a JSON body naming it, and nothing changes'), async (t) => {
    const pi = await start();
    const [task] = await open(pi);
    const r = await c.office.post(`/engine-rest/task/${task.id}/bpmnError`, { errorCode: 'OTHER', variables: vars({ note: 'x' }) });
    t.is(r.status, 400);
    t.is(r.body.type, 'ProcessEngineException');
    t.regex(r.body.message, /no error boundary event or error event sub-process catches error OTHER/);
    t.deepEqual((await open(pi)).map((x) => x.id), [task.id], 'the task is still open');
    t.is((await c.admin.get(`/engine-rest/process-instance/${pi}/variables`)).body.note, undefined, 'its variables were not set');
    t.is((await c.s.db('trace').where({ process_instance_id: pi, operation: 'BpmnError' })).length, 0);
  });

  test.serial(t('a body without an error code, with a wrong message type, or on a task that is not there is refused with a JSON body'), async (t) => {
    const pi = await start();
    const [task] = await open(pi);
    for (const body of [{}, { errorCode: '' }, { errorCode: 7 }, { errorCode: 'REJECTED', errorMessage: 5 }]) {
      const r = await c.office.post(`/engine-rest/task/${task.id}/bpmnError`, body);
      t.is(r.status, 400, JSON.stringify(body));
      t.is(r.body.type, 'InvalidRequestException');
    }
    const missing = await c.office.post('/engine-rest/task/no-such-task/bpmnError', { errorCode: 'REJECTED' });
    t.is(missing.status, 404);
    t.is(typeof missing.body.message, 'string');
    t.deepEqual((await open(pi)).map((x) => x.id), [task.id]);
  });

  async function startEscalation() {
    const r = await c.office.post('/engine-rest/process-definition/key/task-escalation/start', {});
    if (r.status !== 200) throw new Error(`${r.status} ${JSON.stringify(r.body)}`);
    const [task] = await open(r.body.id);
    return { pi: r.body.id as string, task: task.id };
  }
  const keys = async (pi: string) => (await open(pi)).map((x) => x.taskDefinitionKey).sort();

  test.serial(t('an escalation from a user task opens the path of its non-interrupting boundary event beside the task'), async (t) => {
    const { pi, task } = await startEscalation();
    t.is((await c.network.post(`/engine-rest/task/${task}/bpmnEscalation`, { escalationCode: 'HELP' })).status, 404);
    const r = await c.office.post(`/engine-rest/task/${task}/bpmnEscalation`, { escalationCode: 'HELP', variables: vars({ reason: '需要协助' }) });
    t.is(r.status, 204, JSON.stringify(r.body));
    t.deepEqual(await keys(pi), ['assist', 'review']);
    t.is((await c.admin.get(`/engine-rest/process-instance/${pi}/variables`)).body.reason.value, '需要协助');
    t.is((await c.s.db('trace').where({ process_instance_id: pi, operation: 'BpmnEscalation', user_id: 'office-err' })).length, 1);
    t.is((await c.office.post(`/engine-rest/task/${task}/complete`, {})).status, 204, 'the task goes on as before');
    t.deepEqual(await keys(pi), ['assist']);
  });

  test.serial(t('an escalation caught by an interrupting boundary event ends the task and takes the boundary path'), async (t) => {
    const { pi, task } = await startEscalation();
    t.is((await c.office.post(`/engine-rest/task/${task}/bpmnEscalation`, { escalationCode: 'GIVE_UP' })).status, 204);
    t.deepEqual(await keys(pi), ['takeOver']);
    t.truthy((await c.s.db('tasks').where({ id: task }))[0].end_time);
  });

  test.serial(t('an escalation no boundary event on the task catches, or a body without a code, is refused with a JSON body and nothing changes'), async (t) => {
    const { pi, task } = await startEscalation();
    for (const code of ['NOBODY', 'NOT_DEFINED']) {
      const r = await c.office.post(`/engine-rest/task/${task}/bpmnEscalation`, { escalationCode: code, variables: vars({ reason: 'x' }) });
      t.is(r.status, 400);
      t.is(r.body.type, 'InvalidRequestException');
      t.regex(r.body.message, new RegExp(`no escalation boundary event on task ${task} catches escalation ${code}`));
    }
    for (const body of [{}, { escalationCode: '' }, { escalationCode: 3 }]) t.is((await c.office.post(`/engine-rest/task/${task}/bpmnEscalation`, body)).status, 400);
    t.deepEqual(await keys(pi), ['review']);
    t.is((await c.admin.get(`/engine-rest/process-instance/${pi}/variables`)).body.reason, undefined);
  });
}
