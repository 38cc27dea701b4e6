import test from 'ava';
import { backends } from '../helpers/db.ts';
import { fixture, oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, makeUser, NO_PROCESSES, startTestServer, vars, type Client, type TestServer } from '../helpers/server.ts';

/*
 * Camunda's task identity links over real HTTP: the assignee, owner and
 * candidates of a task as links, read by who may see the task; the assignee
 * set as set-assignee allows; candidates and owner changed by administrators
 * only, since they decide who sees the task.
 */

for (const backend of backends) {
  let c!: { s: TestServer; office: Client; network: Client; admin: Client };
  const t = (title: string) => `${backend.name}: ${title}`;

  test.before(async () => {
    const s = await startTestServer(backend, NO_PROCESSES);
    await s.services.deployments.deploy(oneResource('form-rest.bpmn', fixture('forms-rest/form-rest.bpmn')));
    c = {
      s, admin: client(s.url, ADMIN.user, ADMIN.password),
      office: await makeUser(s, 'office-link', ['office']),
      network: await makeUser(s, 'network-link', ['network-security']),
    };
  });
  test.after.always(async () => c?.s.stop());

  async function reviewTask() {
    const r = await c.office.post('/engine-rest/process-definition/key/form-rest/submit-form', { variables: vars({ applicant: '王五' }) });
    if (r.status !== 200) throw new Error(`${r.status} ${JSON.stringify(r.body)}`);
    const [task] = (await c.office.get(`/engine-rest/task?processInstanceId=${r.body.id}`)).body;
    return { id: task.id as string, pi: r.body.id as string };
  }

  test.serial(t('the links of a task are its candidates, then its assignee once claimed; filtered by type'), async (t) => {
    const { id } = await reviewTask();
    const r = await c.office.get(`/engine-rest/task/${id}/identity-links`);
    t.is(r.status, 200);
    t.deepEqual(r.body, [{ userId: null, groupId: 'office', type: 'candidate' }]);
    t.is((await c.network.get(`/engine-rest/task/${id}/identity-links`)).status, 404, 'not offered to the network group');
    t.is((await c.office.post(`/engine-rest/task/${id}/identity-links`, { userId: 'office-link', type: 'assignee' })).status, 204);
    t.deepEqual((await c.office.get(`/engine-rest/task/${id}/identity-links`)).body, [
      { userId: 'office-link', groupId: null, type: 'assignee' }, { userId: null, groupId: 'office', type: 'candidate' },
    ]);
    t.deepEqual((await c.office.get(`/engine-rest/task/${id}/identity-links?type=assignee`)).body, [{ userId: 'office-link', groupId: null, type: 'assignee' }]);
    t.is((await c.office.post(`/engine-rest/task/${id}/identity-links/delete`, { userId: 'office-link', type: 'assignee' })).status, 204);
    t.is((await c.office.get(`/engine-rest/task/${id}`)).body.assignee, null);
  });

  test.serial(t('only administrators add or remove candidates; an added candidate sees the task, a removed one no longer; traced'), async (t) => {
    const { id, pi } = await reviewTask();
    const add = { userId: 'network-link', type: 'candidate' };
    const refused = await c.office.post(`/engine-rest/task/${id}/identity-links`, add);
    t.is(refused.status, 403);
    t.regex(refused.body.message, /administrators/);
    t.is((await c.network.get(`/engine-rest/task/${id}`)).status, 404);

    t.is((await c.admin.post(`/engine-rest/task/${id}/identity-links`, add)).status, 204);
    t.is((await c.admin.post(`/engine-rest/task/${id}/identity-links`, add)).status, 204, 'adding again changes nothing');
    t.is((await c.network.get(`/engine-rest/task/${id}`)).status, 200, 'the new candidate sees it');
    t.deepEqual((await c.network.get(`/engine-rest/task/${id}/identity-links?type=candidate`)).body, [
      { userId: 'network-link', groupId: null, type: 'candidate' }, { userId: null, groupId: 'office', type: 'candidate' },
    ]);
    t.is((await c.admin.post(`/engine-rest/task/${id}/identity-links`, { groupId: 'network-security', type: 'candidate' })).status, 204);
    t.is((await c.admin.post(`/engine-rest/task/${id}/identity-links`, { userId: 'office-link', type: 'owner' })).status, 204);
    t.is((await c.office.get(`/engine-rest/task/${id}`)).body.owner, 'office-link');

    t.is((await c.admin.post(`/engine-rest/task/${id}/identity-links/delete`, add)).status, 204);
    t.is((await c.admin.post(`/engine-rest/task/${id}/identity-links/delete`, { groupId: 'network-security', type: 'candidate' })).status, 204);
    t.is((await c.network.get(`/engine-rest/task/${id}`)).status, 404, 'removed: no longer visible');
    const rows = await c.s.db('trace').where({ process_instance_id: pi, user_id: ADMIN.user, entity_id: id }).whereIn('operation', ['AddIdentityLink', 'DeleteIdentityLink']).orderBy('id');
    t.deepEqual(rows.map((r: { operation: string }) => r.operation), ['AddIdentityLink', 'AddIdentityLink', 'AddIdentityLink', 'AddIdentityLink', 'DeleteIdentityLink', 'DeleteIdentityLink']);
  });

  test.serial(t('a link that is not one user or one group of a kept type, or names nobody, is refused with a JSON body and changes nothing'), async (t) => {
    const { id } = await reviewTask();
    const cases: [unknown, RegExp][] = [
      [{ userId: 'office-link', groupId: 'office', type: 'candidate' }, /not both/],
      [{ type: 'candidate' }, /requires userId or groupId/],
      [{ userId: 'office-link', type: 'watcher' }, /watcher/],
      [{ userId: 'office-link' }, /type/],
      [{ groupId: 'office', type: 'assignee' }, /group/],
      [{ userId: 'nobody-here', type: 'candidate' }, /no user/],
      [{ groupId: 'no-such-group', type: 'candidate' }, /no group/],
      [{ userId: 42, type: 'candidate' }, /userId/],
    ];
    for (const [body, message] of cases) {
      const r = await c.admin.post(`/engine-rest/task/${id}/identity-links`, body);
      t.is(r.status, 400, JSON.stringify(body));
      t.is(r.body.type, 'InvalidRequestException');
      t.regex(r.body.message, message);
    }
    t.deepEqual((await c.admin.get(`/engine-rest/task/${id}/identity-links`)).body, [{ userId: null, groupId: 'office', type: 'candidate' }]);
    t.is((await c.admin.post('/engine-rest/task/no-such-task/identity-links', { userId: 'office-link', type: 'candidate' })).status, 404);
  });
}
