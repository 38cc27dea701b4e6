import test from 'ava';
import { backends } from '../helpers/db.ts';
import { ADMIN, client, makeUser, NO_PROCESSES, startTestServer, type Client, type TestServer } from '../helpers/server.ts';

/*
 * Camunda's identity endpoints beyond create and list, over real HTTP:
 * profiles (one's own or an administrator's business), counts, deleting
 * and unlocking users, reading, renaming and deleting groups, identity/groups,
 * the password policy and verify. What would leave the server without an
 * administrator, or without a group its processes name, is refused.
 */

for (const backend of backends) {
  let c!: { s: TestServer; admin: Client; office: Client; network: Client };
  const t = (title: string) => `${backend.name}: ${title}`;
  const traceOf = async (entityId: string, operation: string) => c.s.db('trace').where({ entity_id: entityId, operation });

  test.before(async () => {
    const s = await startTestServer(backend, NO_PROCESSES);
    c = {
      s, admin: client(s.url, ADMIN.user, ADMIN.password),
      office: await makeUser(s, 'office-ib', ['office']),
      network: await makeUser(s, 'network-ib', ['network-security']),
    };
  });
  test.after.always(async () => c?.s.stop());

  test.serial(t('users and groups list sorted and paged as Camunda Admin asks; a criterion not applied is refused'), async (tt) => {
    const ids = (r: { body: { id: string }[] }) => r.body.map((x) => x.id);
    const desc = await c.admin.get('/engine-rest/user?sortBy=userId&sortOrder=desc');
    tt.is(desc.status, 200, JSON.stringify(desc.body));
    tt.deepEqual(ids(desc), [...ids(desc)].sort().reverse());
    const page = await c.admin.get('/engine-rest/user?sortBy=userId&sortOrder=asc&firstResult=1&maxResults=1');
    tt.deepEqual(ids(page), [[...ids(desc)].sort()[1]]);
    const groups = await c.admin.get('/engine-rest/group?sortBy=id&sortOrder=asc&firstResult=0&maxResults=2');
    tt.is(groups.status, 200, JSON.stringify(groups.body));
    tt.is(groups.body.length, 2);
    const all = ids(await c.admin.get('/engine-rest/group?sortBy=id&sortOrder=desc'));
    tt.deepEqual(all, [...all].sort().reverse());
    const posted = await c.admin.post('/engine-rest/group?firstResult=1&maxResults=1', { sorting: [{ sortBy: 'id', sortOrder: 'asc' }] });
    tt.is(posted.status, 200, JSON.stringify(posted.body));
    tt.deepEqual(ids(posted), [[...all].sort()[1]]);
    tt.is((await c.admin.get('/engine-rest/user?sortBy=password')).status, 400);
    tt.is((await c.admin.get('/engine-rest/group?nameLike=%25')).status, 400);
  });

  test.serial(t('a user reads and updates their own profile; the email is what notifications use; others are refused'), async (tt) => {
    const own = await c.office.get('/engine-rest/user/office-ib/profile');
    tt.is(own.status, 200);
    tt.deepEqual(own.body, { id: 'office-ib', firstName: 'office-ib', lastName: null, email: null });
    const put = await c.office.put('/engine-rest/user/office-ib/profile', { id: 'office-ib', firstName: '王', lastName: '五', email: 'wangwu@example.org' });
    tt.is(put.status, 204, JSON.stringify(put.body));
    tt.deepEqual((await c.admin.get('/engine-rest/user/office-ib/profile')).body, { id: 'office-ib', firstName: '王', lastName: '五', email: 'wangwu@example.org' });
    tt.is((await c.s.db('users').where({ id: 'office-ib' }).first()).email, 'wangwu@example.org');
    tt.is((await traceOf('office-ib', 'Update')).length, 1);
    tt.is((await c.network.get('/engine-rest/user/office-ib/profile')).status, 403);
    tt.is((await c.network.put('/engine-rest/user/office-ib/profile', { firstName: 'x' })).status, 403);
    const renamed = await c.office.put('/engine-rest/user/office-ib/profile', { id: 'someone-else' });
    tt.is(renamed.status, 400);
    tt.regex(renamed.body.message, /someone-else/);
    tt.is((await c.office.put('/engine-rest/user/office-ib/profile', { email: 'not an address' })).status, 400);
    tt.is((await c.admin.get('/engine-rest/user/nobody-here/profile')).status, 404);
    tt.is((await c.s.db('users').where({ id: 'office-ib' }).first()).email, 'wangwu@example.org', 'refused changes wrote nothing');
  });

  test.serial(t('counts of users and groups'), async (tt) => {
    tt.deepEqual((await c.admin.get('/engine-rest/user/count')).body, { count: 3 });
    tt.deepEqual((await c.admin.get('/engine-rest/user/count?memberOfGroup=office')).body, { count: 1 });
    tt.deepEqual((await c.office.get('/engine-rest/user/count?id=office-ib')).body, { count: 1 });
    tt.is((await c.office.get('/engine-rest/user/count')).status, 403);
    const groups = Number((await c.s.db('groups').count({ n: '*' }))[0].n);
    tt.deepEqual((await c.admin.get('/engine-rest/group/count')).body, { count: groups });
    tt.deepEqual((await c.office.get('/engine-rest/group/count?member=office-ib')).body, { count: 1 });
    tt.deepEqual((await c.office.post('/engine-rest/group/count', { member: 'office-ib' })).body, { count: 1 });
    // A criterion not read would count the wrong rows: refused, naming it.
    const unread = await c.admin.get('/engine-rest/user/count?firstName=王');
    tt.is(unread.status, 400);
    tt.regex(unread.body.message, /firstName/);
    tt.is((await c.admin.post('/engine-rest/group/count', { name: 'x' })).status, 400);
  });

  test.serial(t('groups: members read their own, administrators rename them; built-in groups cannot be deleted'), async (tt) => {
    const office = await c.office.get('/engine-rest/group/office');
    tt.is(office.status, 200);
    tt.deepEqual(Object.keys(office.body).sort(), ['id', 'name', 'type']);
    tt.is(office.body.id, 'office');
    tt.is((await c.network.get('/engine-rest/group/office')).status, 403);
    tt.is((await c.admin.get('/engine-rest/group/no-such-group')).status, 404);
    tt.is((await c.admin.post('/engine-rest/group/create', { id: 'ib-temp', name: '临时' })).status, 204);
    tt.is((await c.admin.put('/engine-rest/group/ib-temp/members/network-ib')).status, 204);
    tt.is((await c.admin.put('/engine-rest/group/ib-temp', { id: 'ib-temp', name: '改名', type: 'WORKFLOW' })).status, 204);
    tt.deepEqual((await c.admin.get('/engine-rest/group/ib-temp')).body, { id: 'ib-temp', name: '改名', type: 'WORKFLOW' });
    tt.is((await c.admin.put('/engine-rest/group/ib-temp', { id: 'other', name: 'x' })).status, 400);
    tt.is((await c.office.put('/engine-rest/group/ib-temp', { name: 'x' })).status, 403);
    for (const builtIn of ['office', 'camunda-admin', 'leading-group']) {
      const r = await c.admin.delete(`/engine-rest/group/${builtIn}`);
      tt.is(r.status, 400, builtIn);
      tt.regex(r.body.message, new RegExp(builtIn));
    }
    tt.is((await c.office.delete('/engine-rest/group/ib-temp')).status, 403);
    tt.is((await c.admin.delete('/engine-rest/group/ib-temp')).status, 204);
    tt.is((await c.admin.get('/engine-rest/group/ib-temp')).status, 404);
    tt.is((await c.s.db('memberships').where({ group_id: 'ib-temp' })).length, 0);
    tt.deepEqual((await traceOf('ib-temp', 'Update')).length, 1);
    tt.deepEqual((await traceOf('ib-temp', 'Delete')).length, 1);
  });

  test.serial(t("identity/groups: the user's groups and the users who share them"), async (tt) => {
    await makeUser(c.s, 'office-ib2', ['office']);
    const r = await c.office.get('/engine-rest/identity/groups?userId=office-ib');
    tt.is(r.status, 200);
    tt.deepEqual(r.body.groups.map((g: { id: string }) => g.id), ['office']);
    tt.deepEqual(r.body.groupUsers.map((u: { id: string }) => u.id), ['office-ib', 'office-ib2']);
    tt.deepEqual(r.body.groupUsers[1], { id: 'office-ib2', firstName: 'office-ib2', lastName: null, displayName: 'office-ib2' });
    tt.is((await c.network.get('/engine-rest/identity/groups?userId=office-ib')).status, 403);
    tt.is((await c.office.get('/engine-rest/identity/groups')).status, 400);
  });

  test.serial(t('the password policy describes the rule user creation applies, and checks a password against it'), async (tt) => {
    const policy = await c.office.get('/engine-rest/identity/password-policy');
    tt.is(policy.status, 200);
    tt.deepEqual(policy.body.rules[0], { placeholder: 'PASSWORD_POLICY_LENGTH', parameter: { minLength: '8' } });
    const weak = await c.office.post('/engine-rest/identity/password-policy', { password: 'aaaaaaaaaa' });
    tt.is(weak.status, 200);
    tt.false(weak.body.valid);
    tt.deepEqual(weak.body.rules.map((r: { valid: boolean }) => r.valid), [true, false, false]);
    tt.is((await c.admin.post('/engine-rest/user/create', { profile: { id: 'weak-ib' }, credentials: { password: 'aaaaaaaaaa' } })).status, 400);
    const strong = await c.office.post('/engine-rest/identity/password-policy', { password: 'long-enough-1' });
    tt.true(strong.body.valid);
    tt.is((await c.admin.post('/engine-rest/user/create', { profile: { id: 'strong-ib' }, credentials: { password: 'long-enough-1' } })).status, 204);
    tt.is((await c.office.post('/engine-rest/identity/password-policy', {})).status, 400);
  });

  test.serial(t('unlock ends the login lockout of a user'), async (tt) => {
    await makeUser(c.s, 'locked-ib', []);
    const wrong = client(c.s.url, 'locked-ib', 'wrong-password-1');
    for (let i = 0; i < 5; i++) tt.is((await wrong.get('/engine-rest/user/locked-ib/profile')).status, 401);
    const right = client(c.s.url, 'locked-ib', 'locked-ib-password');
    tt.is((await right.get('/engine-rest/user/locked-ib/profile')).status, 429, 'locked');
    tt.is((await c.office.post('/engine-rest/user/locked-ib/unlock')).status, 403);
    tt.is((await c.admin.post('/engine-rest/user/locked-ib/unlock')).status, 204);
    tt.is((await right.get('/engine-rest/user/locked-ib/profile')).status, 200, 'unlocked');
    tt.is((await traceOf('locked-ib', 'Unlock')).length, 1);
    tt.is((await c.admin.post('/engine-rest/user/nobody-here/unlock')).status, 404);
  });

  test.serial(t("verify checks a password like a login: counted toward the lockout, one's own or by an administrator"), async (tt) => {
    await makeUser(c.s, 'verify-ib', []);
    const own = client(c.s.url, 'strong-ib', 'long-enough-1');
    tt.deepEqual((await own.post('/engine-rest/identity/verify', { username: 'strong-ib', password: 'long-enough-1' })).body, { authenticatedUser: 'strong-ib', authenticated: true });
    tt.is((await own.post('/engine-rest/identity/verify', { username: 'verify-ib', password: 'x' })).status, 403);
    for (let i = 0; i < 5; i++) {
      const r = await c.admin.post('/engine-rest/identity/verify', { username: 'verify-ib', password: `wrong-${i}` });
      tt.deepEqual(r.body, { authenticatedUser: 'verify-ib', authenticated: false });
    }
    tt.is((await traceOf('verify-ib', 'LoginFailure')).length, 5);
    tt.is((await c.admin.post('/engine-rest/identity/verify', { username: 'verify-ib', password: 'verify-ib-password' })).status, 429, 'locked like a login');
    tt.is((await c.admin.post('/engine-rest/user/verify-ib/unlock')).status, 204);
    tt.true((await c.admin.post('/engine-rest/identity/verify', { username: 'verify-ib', password: 'verify-ib-password' })).body.authenticated);
    tt.is((await c.admin.post('/engine-rest/identity/verify', { username: 'verify-ib' })).status, 400);
  });

  test.serial(t('deleting users: not oneself, not the last administrator; memberships and tokens go with the user'), async (tt) => {
    const self = await c.admin.delete(`/engine-rest/user/${ADMIN.user}`);
    tt.is(self.status, 400);
    tt.regex(self.body.message, /yourself/);
    tt.is((await c.network.delete('/engine-rest/user/office-ib')).status, 403);
    tt.is((await c.admin.delete('/engine-rest/user/office-ib')).status, 204);
    tt.is((await c.s.db('memberships').where({ user_id: 'office-ib' })).length, 0);
    tt.is((await traceOf('office-ib', 'Delete')).length, 1);
    tt.is((await c.office.get('/engine-rest/user/office-ib/profile')).status, 401, 'a deleted user signs in no more');
    tt.is((await c.admin.delete('/engine-rest/user/office-ib')).status, 404);
    // Two administrators delete each other at once: one of them stays.
    const second = await makeUser(c.s, 'admin-ib', ['camunda-admin']);
    const [a, b] = await Promise.all([c.admin.delete('/engine-rest/user/admin-ib'), second.delete(`/engine-rest/user/${ADMIN.user}`)]);
    tt.deepEqual([a.status, b.status].filter((x) => x === 204).length, 1, `${a.status} ${b.status}`);
    tt.is((await c.s.db('memberships').where({ group_id: 'camunda-admin' })).length, 1, 'one administrator left');
  });
}
