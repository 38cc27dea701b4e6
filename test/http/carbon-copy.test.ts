import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { ManualClock } from '../../src/clock.ts';
import { backends } from '../helpers/db.ts';
import { ADMIN, client, deployBpmn as deploy, NO_PROCESSES, startTestServer, vars, type Client, type TestServer } from '../helpers/server.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts';

/*
 * 抄送 (carbon copy) over real HTTP: a step's ccUsers / ccGroups copy the
 * instance when it completes, the person working on a task copies it
 * explicitly; recipients find it unread in "抄送我的", read the instance as
 * a participant may (and no more), and the trace records the grant and
 * their reads. Mail goes to a real SMTP server on a loopback port.
 */

const FIXTURE = fs.readFileSync(path.resolve(import.meta.dirname, '../fixtures/carbon-copy.bpmn'));

for (const backend of backends) {
  const clock = new ManualClock(new Date('2026-12-01T01:00:00Z'));
  let server!: TestServer;
  let smtp!: SmtpSink;
  const users: Record<string, Client> = {};
  const t = (title: string) => `${backend.name}: ${title}`;
  const admin = () => client(server.url, ADMIN.user, ADMIN.password);

  test.before(async () => {
    smtp = await startSmtpSink();
    server = await startTestServer(backend, {
      ...NO_PROCESSES, SMTP_URL: smtp.url(), SMTP_FROM: '流程通知 <bpm@example.org>', PUBLIC_BASE_URL: 'https://bpm.example.org',
    }, { clock, runScheduler: false });
    // reader-g is copied through its group; outsider is in a role the process does not name.
    const people: [string, string[]][] = [
      ['starter', ['office']], ['drafter', []], ['reader-a', []], ['reader-g', ['data-security']], ['outsider', ['app-security']], ['lead-a', ['leading-group']],
    ];
    for (const [id, groups] of people) {
      const r = await admin().post('/engine-rest/user/create', { profile: { id, firstName: id, email: `${id}@example.org` }, credentials: { password: `${id}-password` } });
      if (r.status !== 204) throw new Error(`user ${id}: ${r.status}`);
      for (const g of groups) await admin().put(`/engine-rest/group/${g}/members/${id}`);
      users[id] = client(server.url, id, `${id}-password`);
    }
    const d = await deploy(server.url, 'carbon-copy', FIXTURE);
    if (d.status !== 200) throw new Error(`deploy: ${d.status} ${JSON.stringify(d.body)}`);
  });
  test.after.always(async () => {
    await server?.stop();
    await smtp?.down();
  });

  const unread = async (user: string) => (await users[user].get('/engine-rest/carbon-copy/count?unread=true')).body.count as number;
  /** Starts an instance and completes its draft step as drafter; the instance and its open review task. */
  const drafted = async (businessKey: string) => {
    const r = await users.starter.post('/engine-rest/process-definition/key/carbon-copy/start', { businessKey, variables: vars({ drafter: 'drafter', title: '年度报告' }) });
    if (r.status !== 200) throw new Error(`start: ${r.status} ${JSON.stringify(r.body)}`);
    const [draft] = (await users.drafter.get(`/engine-rest/task?processInstanceId=${r.body.id}`)).body;
    const done = await users.drafter.post(`/engine-rest/task/${draft.id}/complete`, {});
    if (done.status !== 204) throw new Error(`complete: ${done.status} ${JSON.stringify(done.body)}`);
    const [review] = (await users['lead-a'].get(`/engine-rest/task?processInstanceId=${r.body.id}`)).body;
    return { instanceId: r.body.id as string, draftId: draft.id as string, reviewId: review.id as string };
  };

  test.serial(t('ccUsers/ccGroups copy the instance on completion: unread in 抄送我的, readable by the recipients, the grant and reads traced, mailed'), async (t) => {
    t.is((await users['reader-a'].get('/engine-rest/process-instance?businessKey=cc-1')).body.length, 0);
    const { instanceId, reviewId } = await drafted('cc-1');
    t.is(await unread('reader-a'), 1);
    t.is(await unread('reader-g'), 1, 'a member of ccGroups at completion');
    t.is(await unread('outsider'), 0);
    t.is(await unread('drafter'), 0);
    const [item] = (await users['reader-a'].get('/engine-rest/carbon-copy?unread=true&firstResult=0&maxResults=10')).body;
    t.like(item, {
      processInstanceId: instanceId, processDefinitionKey: 'carbon-copy', processDefinitionName: '抄送测试 / carbon copy test', businessKey: 'cc-1',
      from: 'drafter', message: null, read: false, activityId: 'draft',
    });
    t.truthy(item.id && item.created);

    // Read as a participant may: the instance, its variables, its history.
    t.is((await users['reader-a'].get(`/engine-rest/process-instance/${instanceId}`)).status, 200);
    const variables = await users['reader-a'].get(`/engine-rest/process-instance/${instanceId}/variables`);
    t.is(variables.status, 200);
    t.is(variables.body.title.value, '年度报告');
    t.is((await users['reader-g'].get(`/engine-rest/process-instance/${instanceId}/variables`)).status, 200);
    t.is((await users['reader-a'].get(`/engine-rest/process-instance/${instanceId}/activity-instances`)).status, 200);
    const history = (await users['reader-a'].get(`/engine-rest/history/activity-instance?processInstanceId=${instanceId}`)).body;
    t.true(history.some((a: { activityId: string }) => a.activityId === 'draft'));
    t.is((await users['reader-a'].get(`/engine-rest/history/variable-instance?processInstanceId=${instanceId}`)).body.length > 0, true);
    // … and no more: its open task is not theirs to see, claim or complete.
    t.is((await users['reader-a'].get(`/engine-rest/task/${reviewId}`)).status, 404);
    t.is((await users['reader-a'].post(`/engine-rest/task/${reviewId}/claim`, { userId: 'reader-a' })).status, 404);
    t.is((await users['reader-a'].post(`/engine-rest/task/${reviewId}/complete`, {})).status, 404);
    t.is((await users['reader-a'].post(`/engine-rest/process-instance/${instanceId}/variables`, { modifications: vars({ title: 'x' }) })).status, 403);
    // Someone not copied sees nothing.
    t.is((await users.outsider.get(`/engine-rest/process-instance/${instanceId}`)).status, 404);
    t.is((await users.outsider.get(`/engine-rest/process-instance/${instanceId}/variables`)).status, 404);

    const log = (q: string) => admin().get(`/engine-rest/history/user-operation?processInstanceId=${instanceId}&${q}`).then((r) => r.body);
    const [grant] = await log('operationType=CarbonCopy');
    t.like(grant, { userId: 'drafter', entityType: 'ProcessInstance', entityId: instanceId });
    t.deepEqual([...grant.details.recipients].sort(), ['reader-a', 'reader-g'], 'ghost-user, no user, is skipped');
    const reads = await log('operationType=Read&userId=reader-a');
    t.true(reads.some((r: { entityType: string }) => r.entityType === 'Variable'), 'the recipient\'s read of the variables is traced');
    t.true(reads.some((r: { entityType: string }) => r.entityType === 'ProcessInstance'));

    const [note] = (await users['reader-a'].get('/engine-rest/notification?type=instance-cc')).body;
    t.like(note, { processInstanceId: instanceId, taskId: null, link: `/copied/instance/${instanceId}`, read: false });
    t.regex(note.title, /^抄送：抄送测试/);
    await server.scheduler.runDue();
    await server.scheduler.runDue();
    t.deepEqual(smtp.received.map((m) => m.to).filter((a) => a.startsWith('reader')).sort(), ['reader-a@example.org', 'reader-g@example.org']);
  });

  test.serial(t('marking a copy read clears the unread count; another\'s copy is 404; bad filters are 400'), async (t) => {
    const [item] = (await users['reader-a'].get('/engine-rest/carbon-copy?unread=true')).body;
    t.is((await users.outsider.post(`/engine-rest/carbon-copy/${item.id}/read`)).status, 404);
    t.is(await unread('reader-a'), 1);
    t.is((await users['reader-a'].post(`/engine-rest/carbon-copy/${item.id}/read`)).status, 204);
    t.is(await unread('reader-a'), 0);
    t.is((await users['reader-a'].get('/engine-rest/carbon-copy/count')).body.count, 1);
    t.like((await users['reader-a'].get('/engine-rest/carbon-copy?unread=false')).body[0], { id: item.id, read: true });
    t.is((await users['reader-a'].post(`/engine-rest/carbon-copy/${item.id}/read`)).status, 204, 'reading again is fine');
    t.is((await users['reader-a'].get('/engine-rest/carbon-copy?unread=maybe')).status, 400);
    const [mark] = (await admin().get('/engine-rest/history/user-operation?operationType=ReadCarbonCopy&userId=reader-a')).body;
    t.like(mark, { entityType: 'CarbonCopy', entityId: item.id, processInstanceId: item.processInstanceId });
  });

  test.serial(t('POST /task/{id}/cc by who may complete it copies the instance with a message; unknown users and groups are 400 naming them'), async (t) => {
    const { instanceId, reviewId } = await drafted('cc-2');
    t.is((await users.outsider.get(`/engine-rest/process-instance/${instanceId}`)).status, 404);
    const bad = await users['lead-a'].post(`/engine-rest/task/${reviewId}/cc`, { userIds: ['outsider', 'nobody-here'], groupIds: ['no-such-group'] });
    t.is(bad.status, 400);
    t.is(bad.body.type, 'InvalidRequestException');
    t.regex(bad.body.message, /user nobody-here, group no-such-group/);
    t.is((await users.outsider.get(`/engine-rest/process-instance/${instanceId}`)).status, 404, 'nothing half-written');
    t.is((await users['lead-a'].post(`/engine-rest/task/${reviewId}/cc`, {})).status, 400);
    t.is((await users['lead-a'].post(`/engine-rest/task/${reviewId}/cc`, { userIds: 'outsider' })).status, 400);
    t.is((await users['reader-a'].post(`/engine-rest/task/${reviewId}/cc`, { userIds: ['outsider'] })).status, 404, 'a cc recipient may not act on the task');

    const before = await unread('outsider');
    const r = await users['lead-a'].post(`/engine-rest/task/${reviewId}/cc`, { userIds: ['outsider'], message: '请知悉' });
    t.is(r.status, 200, JSON.stringify(r.body));
    t.deepEqual(r.body, { copied: 1 });
    t.is(await unread('outsider'), before + 1);
    t.like((await users.outsider.get('/engine-rest/carbon-copy?unread=true')).body[0], { processInstanceId: instanceId, from: 'lead-a', message: '请知悉', activityId: 'review' });
    t.is((await users.outsider.get(`/engine-rest/process-instance/${instanceId}`)).status, 200);
    const [note] = (await users.outsider.get('/engine-rest/notification?type=instance-cc')).body;
    t.true(note.body.includes('请知悉') && note.body.includes('lead-a'));
    t.deepEqual((await users['lead-a'].post(`/engine-rest/task/${reviewId}/cc`, { userIds: ['outsider'] })).body, { copied: 0 }, 'one copy per instance, step and person');
    t.is(await unread('outsider'), before + 1);
    const [grant] = (await admin().get(`/engine-rest/history/user-operation?processInstanceId=${instanceId}&operationType=CarbonCopy&userId=lead-a`)).body;
    t.deepEqual(grant.details.recipients, ['outsider']);
    // Once the task is done, it can no longer copy.
    t.is((await users['lead-a'].post(`/engine-rest/task/${reviewId}/claim`, { userId: 'lead-a' })).status, 204);
    t.is((await users['lead-a'].post(`/engine-rest/task/${reviewId}/complete`, {})).status, 204);
    t.is((await users['lead-a'].post(`/engine-rest/task/${reviewId}/cc`, { userIds: ['reader-a'] })).status, 404);
    const finished = (await users['reader-a'].get(`/engine-rest/history/process-instance?processInstanceId=${instanceId}`)).body;
    t.like(finished[0], { id: instanceId, state: 'COMPLETED' }, 'a finished instance stays readable to its recipients');
    t.is((await users['reader-a'].get(`/engine-rest/history/variable-instance?processInstanceId=${instanceId}`)).body.length > 0, true);
  });

  test.serial(t('a deleted user\'s copies, notices and unsent mail go with them: a new user given the same id inherits no read grant'), async (t) => {
    const { instanceId } = await drafted('cc-deleted');
    t.is((await users['reader-a'].get(`/engine-rest/process-instance/${instanceId}`)).status, 200);
    t.is((await admin().delete('/engine-rest/user/reader-a')).status, 204);
    const created = await admin().post('/engine-rest/user/create', { profile: { id: 'reader-a', email: 'reader-a@example.org' }, credentials: { password: 'reader-a-password' } });
    t.is(created.status, 204);
    t.is(await unread('reader-a'), 0);
    t.is((await users['reader-a'].get('/engine-rest/carbon-copy/count')).body.count, 0);
    t.is((await users['reader-a'].get('/engine-rest/notification')).body.length, 0);
    t.is((await users['reader-a'].get(`/engine-rest/process-instance/${instanceId}`)).status, 404);
    t.is((await users['reader-a'].get(`/engine-rest/history/process-instance?processInstanceId=${instanceId}`)).body.length, 0);
    // The copy the other recipient got is untouched.
    t.is((await users['reader-g'].get(`/engine-rest/process-instance/${instanceId}`)).status, 200);
  });

  test.serial(t('ccUsers/ccGroups outside a user task, or not plain ids, are refused at deployment naming the element'), async (t) => {
    const onProcess = FIXTURE.toString('utf8').replace('<bpmn:startEvent id="start" />', '<bpmn:startEvent id="start"><bpmn:extensionElements><camunda:properties><camunda:property name="ccUsers" value="reader-a" /></camunda:properties></bpmn:extensionElements></bpmn:startEvent>');
    const r = await deploy(server.url, 'cc-bad-1', onProcess);
    t.is(r.status, 400);
    t.regex(r.body.message, /start: carbon-copy property ccUsers applies to a user task only/);
    const badIds = FIXTURE.toString('utf8').replace('value="data-security"', 'value="data security,"');
    const r2 = await deploy(server.url, 'cc-bad-2', badIds);
    t.is(r2.status, 400);
    t.regex(r2.body.message, /draft: property ccGroups must be ids separated by commas; invalid: "data security", ""/);
  });
}
