import { randomUUID } from 'node:crypto';
import test from 'ava';
import { backends } from '../helpers/db.ts';
import { fixture, oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, makeUser, startTestServer, vars, type Client, type TestServer } from '../helpers/server.ts';

for (const backend of backends) {
  let c!: { server: TestServer; admin: Client; worker: Client; office: Client };
  test.before(async () => {
    const server = await startTestServer(backend);
    await server.services.deployments.deploy(oneResource('external-check.bpmn', fixture('external-check.bpmn')));
    c = { server, admin: client(server.url, ADMIN.user, ADMIN.password), worker: await makeUser(server, 'inc-robot', ['workers']), office: await makeUser(server, 'inc-office', ['office']) };
  });
  test.after.always(async () => c?.server.stop());
  const t = (title: string) => `${backend.name}: ${title}`;

  /** An external task failed down to no retries: a failedExternalTask incident. */
  async function failedTaskIncident(): Promise<{ pi: string; incident: string; task: string }> {
    const pi = (await c.admin.post('/engine-rest/process-definition/key/external-check/start', { variables: vars({ mode: 'fail', urgency: 1 }) })).body.id as string;
    const [task] = (await c.admin.get(`/engine-rest/external-task?processInstanceId=${pi}`)).body;
    await c.worker.post(`/engine-rest/external-task/${task.id}/lock`, { workerId: 'w', lockDuration: 60_000 });
    const failed = await c.worker.post(`/engine-rest/external-task/${task.id}/failure`, { workerId: 'w', errorMessage: '离线', retries: 0 });
    if (failed.status !== 204) throw new Error(JSON.stringify(failed.body));
    const [incident] = (await c.admin.get(`/engine-rest/incident?processInstanceId=${pi}`)).body;
    return { pi, incident: incident.id, task: task.id };
  }

  test.serial(t('PUT and DELETE /incident/{id}/annotation set and clear the note, shown with the incident and its history'), async (t) => {
    const { pi, incident } = await failedTaskIncident();
    t.is((await c.office.put(`/engine-rest/incident/${incident}/annotation`, { annotation: 'x' })).status, 403);
    t.is((await c.admin.put(`/engine-rest/incident/${incident}/annotation`, { annotation: 7 })).status, 400);
    const unknown = await c.admin.put('/engine-rest/incident/nope/annotation', { annotation: 'x' });
    t.is(unknown.status, 400, 'Camunda answers 400 for an unknown incident');
    t.regex(unknown.body.message, /incident with id nope does not exist/);

    t.is((await c.admin.put(`/engine-rest/incident/${incident}/annotation`, { annotation: '磁带库维修中 / tape library under repair' })).status, 204);
    t.is((await c.admin.get(`/engine-rest/incident/${incident}`)).body.annotation, '磁带库维修中 / tape library under repair');
    t.is((await c.admin.get(`/engine-rest/history/incident?processInstanceId=${pi}`)).body[0].annotation, '磁带库维修中 / tape library under repair');
    t.is((await c.admin.delete(`/engine-rest/incident/${incident}/annotation`)).status, 204);
    t.is((await c.admin.get(`/engine-rest/incident/${incident}`)).body.annotation, null);

    const ops = (await c.admin.get(`/engine-rest/history/user-operation?entityType=Incident`)).body as { operationType: string }[];
    t.true(ops.some((o) => o.operationType === 'SetAnnotation'));
    t.true(ops.some((o) => o.operationType === 'ClearAnnotation'));
  });

  test.serial(t('DELETE /incident/{id} refuses a failed external task (retries resolve it), and resolves an incident of another type'), async (t) => {
    const { incident, task } = await failedTaskIncident();
    t.is((await c.office.delete(`/engine-rest/incident/${incident}`)).status, 403);
    t.is((await c.admin.delete('/engine-rest/incident/nope')).status, 404);
    const refused = await c.admin.delete(`/engine-rest/incident/${incident}`);
    t.is(refused.status, 400);
    t.regex(refused.body.message, /failedExternalTask/);
    t.is((await c.admin.get(`/engine-rest/incident/${incident}`)).status, 200, 'still open');
    t.is((await c.admin.put(`/engine-rest/external-task/${task}/retries`, { retries: 1 })).status, 204);
    t.is((await c.admin.get(`/engine-rest/incident/${incident}`)).status, 404, 'retries resolved it');

    // No engine path raises another type yet; a row of one stands for a custom incident.
    const { pi } = await failedTaskIncident();
    const custom = randomUUID();
    await c.server.db('incidents').insert({ id: custom, incident_type: 'custom', process_instance_id: pi, definition_id: (await c.admin.get(`/engine-rest/process-instance/${pi}`)).body.definitionId, activity_id: 'check', configuration: null, message: '人工标记' });
    t.is((await c.admin.delete(`/engine-rest/incident/${custom}`)).status, 204);
    t.is((await c.admin.get(`/engine-rest/incident/${custom}`)).status, 404);
    const [history] = (await c.admin.get(`/engine-rest/history/incident?incidentId=${custom}`)).body;
    t.true(history.resolved);
    t.is((await c.admin.delete(`/engine-rest/incident/${custom}`)).status, 404, 'resolved once');
    // Camunda's historic open / resolved / deleted flags: a deleted incident is not a resolved one.
    t.is((await c.admin.delete(`/engine-rest/process-instance/${pi}`)).status, 204);
    const of = async (flags: string) => (await c.admin.get(`/engine-rest/history/incident?processInstanceId=${pi}&${flags}`)).body.map((i: { id: string; incidentType: string }) => i.incidentType);
    t.deepEqual(await of('resolved=true'), ['custom']);
    t.deepEqual(await of('deleted=true'), ['failedExternalTask'], 'ended with its instance');
    t.deepEqual(await of('open=true'), []);
    t.deepEqual(await of('resolved=true&deleted=true'), [], 'each flag must hold');
    t.deepEqual((await c.admin.get(`/engine-rest/history/incident/count?processInstanceId=${pi}&resolved=true`)).body, { count: 1 });
  });
}
