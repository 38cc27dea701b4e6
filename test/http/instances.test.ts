import test from 'ava';
import { backends } from '../helpers/db.ts';
import { fixture, oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, makeUser, startTestServer, vars, type Client, type TestServer } from '../helpers/server.ts';

for (const backend of backends) {
  let c!: { server: TestServer; admin: Client; network: Client; office: Client };
  test.before(async () => {
    const server = await startTestServer(backend);
    await server.services.deployments.deploy(oneResource('parallel-review.bpmn', fixture('parallel-review.bpmn')));
    c = {
      server, admin: client(server.url, ADMIN.user, ADMIN.password),
      network: await makeUser(server, 'net-i', ['network-security']), office: await makeUser(server, 'office-i', ['office']),
    };
  });
  test.after.always(async () => c?.server.stop());
  const t = (title: string) => `${backend.name}: ${title}`;
  const start = async () => (await c.admin.post('/engine-rest/process-definition/key/parallel-review/start', { variables: vars({ ticket: 'T-1' }) })).body.id as string;

  test.serial(t('activity-instances shows what is active, for highlighting a diagram'), async (t) => {
    const id = await start();
    const tree = (await c.network.get(`/engine-rest/process-instance/${id}/activity-instances`)).body;
    t.is(tree.activityId, 'parallel-review');
    t.deepEqual(tree.childActivityInstances.map((a: { activityId: string }) => a.activityId).sort(), ['dataCheck', 'networkCheck']);
    const [task] = (await c.network.get(`/engine-rest/task?processInstanceId=${id}`)).body;
    await c.network.post(`/engine-rest/task/${task.id}/complete`, { variables: vars({ networkOk: true }) });
    const after = (await c.admin.get(`/engine-rest/process-instance/${id}/activity-instances`)).body;
    // The join holding networkCheck's token shows as an instance of the gateway, as in Camunda.
    t.deepEqual(after.childActivityInstances.map((a: { activityId: string }) => a.activityId), ['dataCheck', 'join']);
    t.is((await c.office.get(`/engine-rest/process-instance/${id}/activity-instances`)).status, 404);
  });

  test.serial(t('a start that cannot run as Camunda would is refused naming the field, and starts nothing'), async (t) => {
    const url = '/engine-rest/process-definition/key/parallel-review/start';
    const before = (await c.admin.get('/engine-rest/process-instance/count?processDefinitionKey=parallel-review')).body.count;
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ startInstructions: [{ type: 'startBeforeActivity', activityId: 'dataCheck' }] }, /startInstructions/],
      [{ skipIoMappings: true }, /skipIoMappings=true/],
      [{ skipCustomListeners: true }, /skipCustomListeners=true/],
      [{ caseInstanceId: 'case-1' }, /caseInstanceId/],
      [{ businesKey: 'typo' }, /businesKey/],
    ];
    for (const [body, message] of cases) {
      const r = await c.admin.post(url, { variables: vars({ ticket: 'T-refused' }), ...body });
      t.is(r.status, 400, JSON.stringify(body));
      t.regex(r.body.message, message);
    }
    t.is((await c.admin.get('/engine-rest/process-instance/count?processDefinitionKey=parallel-review')).body.count, before);
    // Defaults and nulls, as clients send them, are fine.
    const ok = await c.admin.post(url, { variables: vars({ ticket: 'T-ok' }), skipIoMappings: false, skipCustomListeners: false, startInstructions: [], caseInstanceId: null });
    t.is(ok.status, 200, JSON.stringify(ok.body));
  });

  test.serial(t('instance lists sort the Camunda way: runtime by businessKey, history by startTime; a bad sortBy is a 400'), async (t) => {
    const ids: string[] = [];
    for (const key of ['SORT-B', 'SORT-A', 'SORT-C']) {
      ids.push((await c.admin.post('/engine-rest/process-definition/key/parallel-review/start', { businessKey: key, variables: vars({ ticket: key }) })).body.id);
    }
    const runtime = (await c.admin.get('/engine-rest/process-instance?processDefinitionKey=parallel-review&sortBy=businessKey&sortOrder=desc')).body
      .map((i: { businessKey: string }) => i.businessKey).filter((k: string | null) => k?.startsWith('SORT-'));
    t.deepEqual(runtime, ['SORT-C', 'SORT-B', 'SORT-A']);
    const oldestFirst = (await c.admin.get('/engine-rest/history/process-instance?processDefinitionKey=parallel-review&sortBy=startTime&sortOrder=asc')).body
      .map((i: { id: string }) => i.id).filter((id: string) => ids.includes(id));
    t.deepEqual(oldestFirst, ids);
    const bad = await c.admin.get('/engine-rest/history/process-instance?sortBy=color&sortOrder=asc');
    t.is(bad.status, 400);
    t.regex(bad.body.message, /sortBy/);
    t.is((await c.admin.get('/engine-rest/process-instance?sortBy=startTime&sortOrder=asc')).status, 400, 'not a runtime sort key in Camunda');
  });

  test.serial(t('variables: read, set, modify and delete by someone working on the instance; others refused'), async (t) => {
    const id = await start();
    const base = `/engine-rest/process-instance/${id}/variables`;
    t.deepEqual((await c.network.get(`${base}/ticket`)).body, { value: 'T-1', type: 'String', valueInfo: {} });
    t.is((await c.network.put(`${base}/severity`, { value: 3, type: 'Integer' })).status, 204);
    t.is((await c.network.post(base, { modifications: { note: { value: '已检查' } }, deletions: ['ticket'] })).status, 204);
    const all = (await c.network.get(base)).body;
    t.deepEqual(Object.keys(all).sort(), ['note', 'severity']);
    t.is((await c.network.delete(`${base}/note`)).status, 204);
    t.is((await c.network.get(`${base}/note`)).status, 404);
    t.is((await c.office.put(`${base}/severity`, { value: 1, type: 'Integer' })).status, 404, 'outsiders do not learn it exists');
    t.is((await c.network.put(`${base}/severity`, { value: 'high', type: 'Integer' })).status, 400);
    t.is((await c.network.post(base, { deletions: 'ticket' })).status, 400);
  });

  test.serial(t('history/variable-instance: variables of visible instances, running or finished'), async (t) => {
    const id = await start();
    const rows = (await c.network.get(`/engine-rest/history/variable-instance?processInstanceId=${id}`)).body;
    t.deepEqual(rows.map((r: { name: string; value: unknown; type: string }) => `${r.name}=${r.value}:${r.type}`), ['ticket=T-1:String']);
    t.deepEqual((await c.office.get(`/engine-rest/history/variable-instance?processInstanceId=${id}`)).body, [], 'outsiders see none');
    t.is((await c.office.get('/engine-rest/history/variable-instance')).status, 403, 'non-administrators name their instances');
    t.true((await c.admin.get('/engine-rest/history/variable-instance?variableName=ticket')).body.length >= 1);
  });

  test.serial(t('deleting an instance ends its tasks as deleted and keeps its history'), async (t) => {
    const id = await start();
    t.is((await c.network.delete(`/engine-rest/process-instance/${id}`)).status, 403);
    t.is((await c.admin.delete(`/engine-rest/process-instance/${id}?deleteReason=重复发起`)).status, 204);
    t.deepEqual((await c.admin.get(`/engine-rest/task?processInstanceId=${id}`)).body, []);
    const [h] = (await c.admin.get(`/engine-rest/history/process-instance?processInstanceId=${id}`)).body;
    t.is(h.state, 'EXTERNALLY_TERMINATED');
    t.is(h.deleteReason, '重复发起');
    const tasks = (await c.admin.get(`/engine-rest/history/task?processInstanceId=${id}`)).body;
    t.deepEqual(tasks.map((x: { deleteReason: string }) => x.deleteReason), ['deleted', 'deleted']);
    t.is((await c.admin.delete(`/engine-rest/process-instance/${id}`)).status, 404);
    t.is((await c.admin.get(`/engine-rest/process-instance/${id}`)).status, 404);
  });
}
