import test from 'ava';
import { backends } from '../helpers/db.ts';
import { adminPrincipal, fixture, oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, makeUser, NO_PROCESSES, startTestServer, type Client, type TestServer } from '../helpers/server.ts';

/*
 * Camunda's /authorization, read-only and derived from the role model: the
 * rows describe who may do what, and /authorization/check answers what the
 * server would actually do, which each assertion here compares with doing it.
 */

const KEY = 'filter-two-roles';
const OFFICE_ONLY = 'auth-office-only';
type Check = { permissionName: string; resourceType: number; resourceId?: string; userId?: string };

for (const backend of backends) {
  let s!: TestServer;
  let admin!: Client;
  let office!: Client;
  let network!: Client;
  let pi!: string;
  let officeTask!: string;
  const t = (title: string) => `${backend.name}: ${title}`;
  const check = async (who: Client, c: Check) => {
    const qs = new URLSearchParams({ resourceName: 'x', ...Object.fromEntries(Object.entries(c).map(([k, v]) => [k, String(v)])) });
    const r = await who.get(`/engine-rest/authorization/check?${qs}`);
    if (r.status !== 200) throw new Error(`check ${qs}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.authorized as boolean;
  };

  test.before(async () => {
    s = await startTestServer(backend, NO_PROCESSES);
    await s.services.deployments.deploy(oneResource(`${KEY}.bpmn`, fixture(`${KEY}.bpmn`)));
    const officeOnly = fixture(`${KEY}.bpmn`).toString('utf8').replace(`<bpmn:process id="${KEY}" isExecutable="true">`, `<bpmn:process id="${OFFICE_ONLY}" isExecutable="true" camunda:candidateStarterGroups="office">`);
    await s.services.deployments.deploy(oneResource(`${OFFICE_ONLY}.bpmn`, Buffer.from(officeOnly)));
    admin = client(s.url, ADMIN.user, ADMIN.password);
    office = await makeUser(s, 'office-a', ['office']);
    network = await makeUser(s, 'network-a', ['network-security']);
    await makeUser(s, 'worker-a', ['workers']);
    pi = (await s.services.instances.startByKey(KEY, { variables: {} }, adminPrincipal)).instance.id;
    officeTask = (await s.services.tasks.list({ processInstanceId: pi }, adminPrincipal)).find((x) => x.candidate_groups.includes('office'))!.id;
  });
  test.after.always(async () => s?.stop());

  test.serial(t('rows are Camunda-shaped, stable and filtered: administrators see all, others what speaks of them'), async (tt) => {
    const all = await admin.get('/engine-rest/authorization?sortBy=resourceType&sortOrder=asc');
    tt.is(all.status, 200);
    const ids = all.body.map((r: { id: string }) => r.id);
    tt.deepEqual((await admin.get('/engine-rest/authorization?sortBy=resourceType&sortOrder=asc')).body.map((r: { id: string }) => r.id), ids, 'stable');
    tt.deepEqual(all.body.map((r: { resourceType: number }) => r.resourceType), [...all.body.map((r: { resourceType: number }) => r.resourceType)].sort((a, b) => a - b));
    const start = all.body.find((r: { id: string }) => r.id === `start-${OFFICE_ONLY}-group-office`);
    tt.deepEqual(start, { id: `start-${OFFICE_ONLY}-group-office`, type: 1, permissions: ['CREATE_INSTANCE'], userId: null, groupId: 'office', resourceType: 6, resourceId: OFFICE_ONLY, removalTime: null, rootProcessInstanceId: null });
    tt.falsy(all.body.find((r: { id: string }) => r.id === `start-${OFFICE_ONLY}-group-network-security`));
    tt.truthy(all.body.find((r: { id: string }) => r.id === `start-${KEY}-group-network-security`), 'no starters named: every role');
    tt.deepEqual((await admin.get('/engine-rest/authorization/revoke-workers-6')).body.type, 2);
    tt.deepEqual((await admin.get('/engine-rest/authorization?type=0')).body.map((r: { userId: string }) => r.userId).filter((u: string) => u !== '*'), []);
    const count = await admin.get('/engine-rest/authorization/count?groupIdIn=office');
    tt.is(count.body.count, (await admin.get('/engine-rest/authorization?groupIdIn=office')).body.length);
    tt.is((await admin.get('/engine-rest/authorization?firstResult=1&maxResults=2')).body.length, 2);
    const own = (await office.get('/engine-rest/authorization')).body as { userId: string | null; groupId: string | null }[];
    tt.true(own.length > 0);
    tt.true(own.every((r) => r.userId === 'office-a' || r.userId === '*' || r.groupId === 'office'));
    tt.is((await office.get('/engine-rest/authorization/self-network-a')).status, 403);
    tt.is((await office.get('/engine-rest/authorization/self-office-a')).status, 200);
    tt.is((await admin.get('/engine-rest/authorization/no-such')).status, 404);
    tt.is((await admin.get('/engine-rest/authorization?foo=1')).status, 400);
  });

  test.serial(t('check answers what the server does: starting, tasks, users, groups, deployments'), async (tt) => {
    // Starting: office may start the office-only process, network may not; both are refused or not the same way by the start itself.
    tt.true(await check(office, { permissionName: 'CREATE_INSTANCE', resourceType: 6, resourceId: OFFICE_ONLY }));
    tt.false(await check(network, { permissionName: 'CREATE_INSTANCE', resourceType: 6, resourceId: OFFICE_ONLY }));
    tt.is((await network.post(`/engine-rest/process-definition/key/${OFFICE_ONLY}/start`, {})).status, 403);
    tt.is((await office.post(`/engine-rest/process-definition/key/${OFFICE_ONLY}/start`, {})).status, 200);
    tt.false(await check(office, { permissionName: 'CREATE_INSTANCE', resourceType: 6 }), 'not every process');
    tt.true(await check(admin, { permissionName: 'CREATE_INSTANCE', resourceType: 6 }));
    // A task offered to office: office may read and work it, network may not even read it.
    tt.true(await check(office, { permissionName: 'READ', resourceType: 7, resourceId: officeTask }));
    tt.false(await check(network, { permissionName: 'READ', resourceType: 7, resourceId: officeTask }));
    tt.is((await network.get(`/engine-rest/task/${officeTask}`)).status, 404);
    tt.true(await check(office, { permissionName: 'TASK_WORK', resourceType: 7, resourceId: officeTask }));
    tt.is((await office.post(`/engine-rest/task/${officeTask}/claim`, { userId: 'office-a' })).status, 204);
    tt.true(await check(office, { permissionName: 'TASK_WORK', resourceType: 7, resourceId: officeTask }));
    tt.false(await check(admin, { permissionName: 'CREATE', resourceType: 7 }), 'standalone tasks are not created here');
    // Instances: office sees the instance of its task, network sees its own group's task's instance too.
    tt.true(await check(office, { permissionName: 'READ', resourceType: 8, resourceId: pi }));
    tt.false(await check(office, { permissionName: 'DELETE', resourceType: 8, resourceId: pi }));
    tt.is((await office.delete(`/engine-rest/process-instance/${pi}`)).status, 403);
    // Users and groups: oneself and one's groups.
    tt.true(await check(office, { permissionName: 'UPDATE', resourceType: 1, resourceId: 'office-a' }));
    tt.false(await check(office, { permissionName: 'UPDATE', resourceType: 1, resourceId: 'network-a' }));
    tt.is((await office.put('/engine-rest/user/network-a/profile', { id: 'network-a' })).status, 403);
    tt.true(await check(office, { permissionName: 'READ', resourceType: 2, resourceId: 'office' }));
    tt.false(await check(office, { permissionName: 'READ', resourceType: 2, resourceId: 'network-security' }));
    tt.false(await check(office, { permissionName: 'CREATE', resourceType: 9 }));
    tt.is((await office.get('/engine-rest/deployment')).status, 200);
    tt.true(await check(office, { permissionName: 'READ', resourceType: 9 }));
    // Nobody changes authorizations, administrators included.
    tt.false(await check(admin, { permissionName: 'CREATE', resourceType: 4 }));
    tt.true(await check(admin, { permissionName: 'READ', resourceType: 4 }));
  });

  test.serial(t('check for another user is for administrators; workers are revoked everything a person may'), async (tt) => {
    tt.false(await check(admin, { permissionName: 'READ', resourceType: 6, userId: 'worker-a' }));
    tt.true(await check(admin, { permissionName: 'READ', resourceType: 6, userId: 'office-a' }));
    tt.is((await client(s.url, 'worker-a', 'worker-a-password').get('/engine-rest/process-definition')).status, 403);
    tt.is((await office.get('/engine-rest/authorization/check?permissionName=READ&resourceName=x&resourceType=6&userId=network-a')).status, 403);
    const r = await office.get('/engine-rest/authorization/check?permissionName=READ&resourceName=ProcessDefinition&resourceType=6&resourceId=x');
    tt.deepEqual(r.body, { permissionName: 'READ', resourceName: 'ProcessDefinition', resourceId: 'x', authorized: true });
    tt.is((await office.get('/engine-rest/authorization/check?permissionName=READ&resourceName=x')).status, 400);
    tt.is((await office.get('/engine-rest/authorization/check?permissionName=FLY&resourceName=x&resourceType=6')).status, 400);
    tt.is((await office.get('/engine-rest/authorization/check?permissionName=READ&resourceName=x&resourceType=11')).status, 400);
  });

  test.serial(t('every row a person sees holds when checked for them; the workers\' revocations hold for a worker'), async (tt) => {
    const rows = (await office.get('/engine-rest/authorization')).body as { type: number; permissions: string[]; resourceType: number; resourceId: string }[];
    tt.true(rows.length >= 8);
    for (const r of rows) {
      for (const permissionName of r.permissions) {
        const one = r.resourceId === '*' ? {} : { resourceId: r.resourceId };
        tt.is(await check(office, { permissionName, resourceType: r.resourceType, ...one }), r.type !== 2, `${permissionName} on ${r.resourceType}/${r.resourceId}`);
      }
    }
    const revoked = (await admin.get('/engine-rest/authorization?type=2&groupIdIn=workers')).body as { permissions: string[]; resourceType: number }[];
    tt.true(revoked.length > 0);
    for (const r of revoked) for (const permissionName of r.permissions) tt.false(await check(admin, { permissionName, resourceType: r.resourceType, userId: 'worker-a' }));
  });

  test.serial(t('creating, changing and deleting are refused 501 saying the rows follow the roles; OPTIONS lists reads only'), async (tt) => {
    for (const [method, url] of [['POST', '/engine-rest/authorization/create'], ['PUT', '/engine-rest/authorization/global-6'], ['DELETE', '/engine-rest/authorization/global-6']] as const) {
      const r = await admin.raw(method, url, method === 'DELETE' ? undefined : {});
      tt.is(r.status, 501, `${method} ${url}`);
      tt.regex(r.body.message, /角色推导.* \/ .*derived from the roles/);
    }
    const rels = (r: { body: { links: { method: string; rel: string }[] } }) => r.body.links.map((l) => `${l.method} ${l.rel}`);
    tt.deepEqual(rels(await office.raw('OPTIONS', '/engine-rest/authorization')), ['GET list', 'GET count']);
    tt.deepEqual(rels(await office.raw('OPTIONS', '/engine-rest/authorization/self-office-a')), ['GET self']);
    tt.deepEqual(rels(await office.raw('OPTIONS', '/engine-rest/authorization/self-network-a')), []);
  });
}
