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
}
