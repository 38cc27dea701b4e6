import test from 'ava';
import { ManualClock } from '../../src/clock.ts';
import { backends } from '../helpers/db.ts';
import { fixture, oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, makeUser, NO_PROCESSES, startTestServer, vars, type Client, type TestServer } from '../helpers/server.ts';
import { messageIdOf, startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts';

/*
 * Notices of the operations on running instances (docs/notifications.md):
 * 退回 to the step sent back to, 撤回 to those the cancelled steps waited on,
 * 终止 to the initiator, an incident to the administrators and the office.
 * alice applies (modify-chain: fill → review by the office → …).
 */
for (const backend of backends) {
  const clock = new ManualClock(new Date('2026-12-01T01:00:00Z'));
  let server!: TestServer;
  let smtp!: SmtpSink;
  let c!: Record<'admin' | 'alice' | 'olga' | 'oscar' | 'robot', Client>;
  test.before(async () => {
    smtp = await startSmtpSink();
    server = await startTestServer(backend, { ...NO_PROCESSES, SMTP_URL: smtp.url(), SMTP_FROM: 'bpm@example.org', PUBLIC_BASE_URL: 'https://bpm.example.org' }, { clock, runScheduler: false });
    for (const f of ['modify-chain', 'external-check']) await server.services.deployments.deploy(oneResource(`${f}.bpmn`, fixture(`${f}.bpmn`)));
    const admin = client(server.url, ADMIN.user, ADMIN.password);
    /** A user with an email address in their profile. */
    const person = async (id: string, group: string) => {
      const r = await admin.post('/engine-rest/user/create', { profile: { id, firstName: id, email: `${id}@example.org` }, credentials: { password: `${id}-password` } });
      if (r.status !== 204) throw new Error(`user ${id}: ${r.status}`);
      await admin.put(`/engine-rest/group/${group}/members/${id}`);
      return client(server.url, id, `${id}-password`);
    };
    c = {
      admin,
      alice: await person('alice', 'app-security'), olga: await person('olga', 'office'), oscar: await person('oscar', 'office'),
      robot: await makeUser(server, 'backup-robot', ['workers']),
    };
  });
  test.after.always(async () => {
    await server?.stop();
    await smtp?.down().catch(() => undefined);
  });
  const t = (title: string) => `${backend.name}: ${title}`;
  const list = async (who: Client, type: string) => (await who.get(`/engine-rest/notification?type=${type}`)).body as { taskId: string | null; processInstanceId: string; title: string; body: string; link: string | null; taskEnded: boolean | null }[];
  const taskOf = async (id: string, key: string) => (await c.admin.get(`/engine-rest/task?processInstanceId=${id}`)).body.find((x: { taskDefinitionKey: string }) => x.taskDefinitionKey === key);
  const submitted = async () => {
    const id = (await c.alice.post('/engine-rest/process-definition/key/modify-chain/start', { variables: vars({ applicant: 'alice' }) })).body.id as string;
    const fill = await taskOf(id, 'fill');
    const r = await c.alice.post(`/engine-rest/task/${fill.id}/complete`, {});
    if (r.status !== 204) throw new Error(JSON.stringify(r.body));
    return id;
  };
  const mails = async (event: string, id: string) => {
    await server.scheduler.runDue();
    return smtp.received.filter((m) => messageIdOf(m.raw)?.includes(`email.${event}.${id}`)).map((m) => m.to).sort();
  };

  test.serial(t('退回: the step sent back to is told once, with the reason, instead of a plain assignment notice'), async (t) => {
    const id = await submitted();
    const review = await taskOf(id, 'review');
    t.is((await c.olga.post(`/engine-rest/task/${review.id}/claim`, { userId: 'olga' })).status, 204);
    t.is((await c.olga.post(`/engine-rest/task/${review.id}/return`, { activityId: 'fill', comment: '材料不全，请补充' })).status, 204);
    const back = await taskOf(id, 'fill');
    const notices = (await list(c.alice, 'task-sent-back')).filter((n) => n.taskId === back.id);
    t.is(notices.length, 1);
    t.regex(notices[0].title, /^退回：/);
    t.true(notices[0].body.includes('材料不全，请补充') && notices[0].body.includes('olga'));
    t.is(notices[0].link, `/task/${back.id}`);
    t.is((await list(c.alice, 'task-assigned')).filter((n) => n.taskId === back.id).length, 0, 'one notice, not two');
    t.deepEqual(await mails('task-sent-back', back.id), ['alice@example.org']);
    t.deepEqual(await mails('task-assigned', back.id), [], 'nor two mails');
  });

  test.serial(t('撤回: the office members the untouched review waited on are told it was withdrawn; the initiator is not'), async (t) => {
    const id = await submitted();
    const review = await taskOf(id, 'review');
    t.is((await c.alice.post(`/engine-rest/process-instance/${id}/withdraw`, { comment: '我再改改' })).status, 204);
    for (const who of [c.olga, c.oscar]) {
      const [n, ...more] = (await list(who, 'task-withdrawn')).filter((x) => x.taskId === review.id);
      t.is(more.length, 0);
      t.true(n.body.includes('我再改改'));
      t.true(n.taskEnded!);
      t.is(n.link, null);
    }
    t.is((await list(c.alice, 'task-withdrawn')).length, 0);
    t.deepEqual(await mails('task-withdrawn', review.id), ['olga@example.org', 'oscar@example.org'], 'mailed though the task ended: the notice is about its end');
  });

  test.serial(t('终止: the initiator is told who terminated it and why; terminating one\'s own instance tells nobody'), async (t) => {
    const id = await submitted();
    t.is((await c.olga.post(`/engine-rest/process-instance/${id}/terminate`, { reason: '重复申请' })).status, 204);
    const [n, ...more] = (await list(c.alice, 'instance-terminated')).filter((x) => x.processInstanceId === id);
    t.is(more.length, 0);
    t.true(n.body.includes('重复申请') && n.body.includes('olga'));
    t.deepEqual(await mails('instance-terminated', id), ['alice@example.org']);
    const own = await submitted();
    t.is((await c.alice.post(`/engine-rest/process-instance/${own}/terminate`, { reason: '不办了' })).status, 204);
    t.is((await list(c.alice, 'instance-terminated')).filter((x) => x.processInstanceId === own).length, 0);
  });

  test.serial(t('an incident (an external task out of retries) tells the administrators and the office, once'), async (t) => {
    const id = (await c.admin.post('/engine-rest/process-definition/key/external-check/start', { variables: vars({ urgency: 1 }) })).body.id as string;
    const [locked] = (await c.robot.post('/engine-rest/external-task/fetchAndLock', { workerId: 'w1', maxTasks: 1, topics: [{ topicName: 'backup-check', lockDuration: 60000 }] })).body;
    t.truthy(locked);
    const r = await c.robot.post(`/engine-rest/external-task/${locked.id}/failure`, { workerId: 'w1', errorMessage: '备份目录不可达', retries: 0, retryTimeout: 0 });
    t.is(r.status, 204, JSON.stringify(r.body));
    for (const who of [c.admin, c.olga, c.oscar]) {
      const found = (await list(who, 'incident-raised')).filter((x) => x.processInstanceId === id);
      t.is(found.length, 1);
      t.true(found[0].body.includes('备份目录不可达'));
    }
    t.is((await list(c.alice, 'incident-raised')).length, 0);
  });

  test.serial(t('驳回: an end marked notifyRejected tells the initiator "rejected" instead of "ended"; the property is refused elsewhere'), async (t) => {
    const xml = (onEnd: string, onTask = '') => `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="http://example.org">
  <bpmn:process id="reject-at-once" name="驳回测试" isExecutable="true" camunda:candidateStarterGroups="app-security">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="t1" />
    <bpmn:userTask id="t1" camunda:assignee="alice">${onTask}</bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="t1" targetRef="endRejected" />
    <bpmn:endEvent id="endRejected">${onEnd}</bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>`;
    const prop = (v: string) => `<bpmn:extensionElements><camunda:properties><camunda:property name="notifyRejected" value="${v}" /></camunda:properties></bpmn:extensionElements>`;
    await t.throwsAsync(server.services.deployments.deploy(oneResource('bad.bpmn', Buffer.from(xml('', prop('true'))))), { message: /t1/ });
    await t.throwsAsync(server.services.deployments.deploy(oneResource('bad.bpmn', Buffer.from(xml(prop('yes'))))), { message: /endRejected/ });
    await server.services.deployments.deploy(oneResource('reject-at-once.bpmn', Buffer.from(xml(prop('true')))));
    const id = (await c.alice.post('/engine-rest/process-definition/key/reject-at-once/start', {})).body.id as string;
    const task = await taskOf(id, 't1');
    t.is((await c.alice.post(`/engine-rest/task/${task.id}/complete`, {})).status, 204);
    const [n, ...more] = (await list(c.alice, 'instance-rejected')).filter((x) => x.processInstanceId === id);
    t.is(more.length, 0);
    t.regex(n.title, /^流程被驳回/);
    t.is((await list(c.alice, 'instance-ended')).filter((x) => x.processInstanceId === id).length, 0);
  });
}
