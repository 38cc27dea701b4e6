import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { ManualClock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config.ts';
import { startServer, type Server } from '../../src/server.ts';
import { backends } from '../helpers/db.ts';
import { ADMIN, client, NO_PROCESSES, startTestServer, TEST_KEY_ENV, vars, deployBpmn as deploy, type Client, type TestServer } from '../helpers/server.ts';
import { messageIdOf, startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts';

const FIXTURE = fs.readFileSync(path.resolve(import.meta.dirname, '../fixtures/notify-due.bpmn'), 'utf8');
const HOUR = 3600_000;

for (const backend of backends) {
  const clock = new ManualClock(new Date('2026-12-01T01:00:00Z'));
  let server!: TestServer;
  /** After a restart, the server now running on the same database. */
  let current!: Server;
  let smtp!: SmtpSink;
  const users: Record<string, Client> = {};
  const env = () => ({ ...NO_PROCESSES, SMTP_URL: smtp.url(), SMTP_FROM: '流程通知 <bpm@example.org>', PUBLIC_BASE_URL: 'https://bpm.example.org' });
  test.before(async () => {
    smtp = await startSmtpSink();
    server = await startTestServer(backend, env(), { clock, runScheduler: false });
    current = server;
    const admin = client(server.url, ADMIN.user, ADMIN.password);
    for (const [id, groups] of [['lead-a', ['leading-group']], ['lead-b', ['leading-group']], ['office-x', ['office']], ['signer', ['office']]] as const) {
      const r = await admin.post('/engine-rest/user/create', { profile: { id, firstName: id, email: `${id}@example.org` }, credentials: { password: `${id}-password` } });
      if (r.status !== 204) throw new Error(`user ${id}: ${r.status}`);
      for (const g of groups) await admin.put(`/engine-rest/group/${g}/members/${id}`);
      users[id] = client(server.url, id, `${id}-password`);
    }
    const d = await deploy(server.url, 'notify-due', FIXTURE);
    if (d.status !== 200) throw new Error(`deploy: ${d.status} ${JSON.stringify(d.body)}`);
  });
  test.after.always(async () => {
    if (current !== server) await current.close();
    await server?.stop();
    await smtp?.down().catch(() => undefined);
  });
  const t = (title: string) => `${backend.name}: ${title}`;
  const as = (user: string) => client(current.url, user, `${user}-password`);
  const admin = () => client(current.url, ADMIN.user, ADMIN.password);
  const ofType = async (user: string, type: string) => (await as(user).get(`/engine-rest/notification?type=${type}`)).body as { taskId: string; title: string; body: string }[];
  /** Starts an instance whose tasks are due `inMs` from the clock's now. */
  const start = async (inMs: number) => {
    const due = new Date(clock.peek().getTime() + inMs).toISOString();
    const r = await as('office-x').post('/engine-rest/process-definition/key/notify-due/start', { variables: vars({ due, signer: 'signer' }) });
    if (r.status !== 200) throw new Error(`start: ${r.status} ${JSON.stringify(r.body)}`);
    const [task] = (await admin().get(`/engine-rest/task?processInstanceId=${r.body.id}`)).body;
    return { instanceId: r.body.id as string, taskId: task.id as string };
  };
  const drive = async () => {
    await current.scheduler.runDue();
    await current.scheduler.runDue();
  };
  /** Mails of `event` about the task, told apart by their Message-ID (made from the idempotency key). */
  const mailsAbout = (taskId: string, event: string) => smtp.received.filter((m) => messageIdOf(m.raw)?.includes(`email.${event}.${taskId}`));

  test.serial(t('a task due in two days is reminded 24 h before and when overdue, once each, in-app and by mail'), async (t) => {
    const { taskId } = await start(48 * HOUR);
    await drive();
    t.is((await ofType('lead-a', 'task-due-soon')).filter((n) => n.taskId === taskId).length, 0, 'nothing before the lead time');
    clock.advance(24 * HOUR + 60_000);
    await drive();
    await drive();
    for (const u of ['lead-a', 'lead-b']) {
      const soon = (await ofType(u, 'task-due-soon')).filter((n) => n.taskId === taskId);
      t.is(soon.length, 1, u);
      t.regex(soon[0].title, /^即将到期：领导小组审阅/);
      t.true(soon[0].body.includes('2026-12-03 09:00'), 'the due date in Beijing time');
    }
    t.is((await ofType('lead-a', 'task-overdue')).filter((n) => n.taskId === taskId).length, 0, 'not overdue yet');
    t.is(mailsAbout(taskId, 'task-due-soon').length, 2, 'one mail each to lead-a and lead-b');
    clock.advance(24 * HOUR);
    await drive();
    await drive();
    for (const u of ['lead-a', 'lead-b']) {
      t.is((await ofType(u, 'task-overdue')).filter((n) => n.taskId === taskId).length, 1, u);
      t.is((await ofType(u, 'task-due-soon')).filter((n) => n.taskId === taskId).length, 1, `${u}: due soon still once`);
    }
    t.is(mailsAbout(taskId, 'task-due-soon').length, 2);
    t.is(mailsAbout(taskId, 'task-overdue').length, 2);
  });

  test.serial(t('the lead time is the task\'s notifyDueSoon, and an assigned task reminds its assignee only'), async (t) => {
    const { taskId } = await start(10 * HOUR);
    await as('lead-a').post(`/engine-rest/task/${taskId}/claim`, { userId: 'lead-a' });
    await as('lead-a').post(`/engine-rest/task/${taskId}/complete`, {});
    const [sign] = (await admin().get(`/engine-rest/task?taskDefinitionKey=sign&assignee=signer`)).body.filter((x: { due: string }) => x.due);
    t.truthy(sign);
    clock.advance(5 * HOUR);
    await drive();
    t.is((await ofType('signer', 'task-due-soon')).filter((n) => n.taskId === sign.id).length, 0, 'PT4H: not yet at 5 h before');
    clock.advance(HOUR + 60_000);
    await drive();
    t.is((await ofType('signer', 'task-due-soon')).filter((n) => n.taskId === sign.id).length, 1);
    t.is((await ofType('lead-a', 'task-due-soon')).filter((n) => n.taskId === sign.id).length, 0, 'a former candidate is not told');
    t.is((await ofType('lead-a', 'task-due-soon')).filter((n) => n.taskId === taskId).length, 0, 'the completed review task reminded nobody');
    clock.advance(4 * HOUR);
    await drive();
    t.is((await ofType('signer', 'task-overdue')).filter((n) => n.taskId === sign.id).length, 1);
    // notifyDueSoon=false and notifyOverdue=false: the filing step reminds nobody.
    await as('signer').post(`/engine-rest/task/${sign.id}/complete`, {});
    const [file] = (await admin().get(`/engine-rest/task?taskDefinitionKey=file&assignee=signer`)).body;
    clock.advance(48 * HOUR);
    await drive();
    t.is((await ofType('signer', 'task-overdue')).filter((n) => n.taskId === file.id).length, 0);
    t.is((await ofType('signer', 'task-due-soon')).filter((n) => n.taskId === file.id).length, 0);
  });

  test.serial(t('a new due date (PUT /task/{id}) moves the reminders; a task that ends has none'), async (t) => {
    const { taskId } = await start(30 * HOUR);
    const task = (await admin().get(`/engine-rest/task/${taskId}`)).body;
    const later = new Date(clock.peek().getTime() + 100 * HOUR).toISOString().replace('Z', '+0000');
    const put = await admin().put(`/engine-rest/task/${taskId}`, { name: task.name, priority: task.priority, due: later });
    t.is(put.status, 204, JSON.stringify(put.body));
    clock.advance(31 * HOUR);
    await drive();
    t.is((await ofType('lead-a', 'task-due-soon')).filter((n) => n.taskId === taskId).length, 0, 'the old date reminds of nothing');
    t.is((await ofType('lead-a', 'task-overdue')).filter((n) => n.taskId === taskId).length, 0);
    clock.advance(46 * HOUR);
    await drive();
    const soon = (await ofType('lead-a', 'task-due-soon')).filter((n) => n.taskId === taskId);
    t.is(soon.length, 1, '24 h before the new date');
    // The task ends: its overdue reminder goes with it.
    await as('lead-a').post(`/engine-rest/task/${taskId}/claim`, { userId: 'lead-a' });
    await as('lead-a').post(`/engine-rest/task/${taskId}/complete`, {});
    t.is(Number((await current.db('task_reminders').where({ task_id: taskId }).count('* as c'))[0].c), 0);
    clock.advance(48 * HOUR);
    await drive();
    t.is((await ofType('lead-a', 'task-overdue')).filter((n) => n.taskId === taskId).length, 0);
  });

  test.serial(t('a suspended instance\'s reminders wait, and fire once after activation'), async (t) => {
    const { instanceId, taskId } = await start(2 * HOUR);
    t.is((await admin().put(`/engine-rest/process-instance/${instanceId}/suspended`, { suspended: true })).status, 204);
    clock.advance(3 * HOUR);
    await drive();
    t.is((await ofType('lead-a', 'task-due-soon')).filter((n) => n.taskId === taskId).length, 0, 'nothing while suspended');
    t.is((await ofType('lead-a', 'task-overdue')).filter((n) => n.taskId === taskId).length, 0);
    t.is((await current.db('task_reminders').where({ task_id: taskId })).length, 2, 'kept, not spent');
    t.is((await admin().put(`/engine-rest/process-instance/${instanceId}/suspended`, { suspended: false })).status, 204);
    await drive();
    await drive();
    t.is((await ofType('lead-a', 'task-overdue')).filter((n) => n.taskId === taskId).length, 1, 'overdue once, after activation');
  });

  test.serial(t('reminders armed before a restart fire after it, once'), async (t) => {
    const { taskId } = await start(48 * HOUR);
    await current.close();
    clock.advance(25 * HOUR);
    const config = loadConfig({
      PORT: '0', HOST: '127.0.0.1', ADMIN_USER: ADMIN.user, ADMIN_PASSWORD: ADMIN.password,
      LOG_LEVEL: 'silent', ...TEST_KEY_ENV, ...env(),
    });
    current = await startServer(config, { db: server.testDb.db, clock, runScheduler: false, log: pino({ level: 'silent' }) });
    await drive();
    await drive();
    t.is((await ofType('lead-b', 'task-due-soon')).filter((n) => n.taskId === taskId).length, 1);
    t.is(mailsAbout(taskId, 'task-due-soon').length, 2);
  });

  test.serial(t('notifyDueSoon and notifyOverdue are checked at deployment: a bad value or a wrong element is 400 naming it'), async (t) => {
    const bad = [
      ['<camunda:property name="notifyDueSoon" value="4h" />', 'review'],
      ['<camunda:property name="notifyDueSoon" value="PT0S" />', 'review'],
      ['<camunda:property name="notifyOverdue" value="maybe" />', 'review'],
    ];
    for (const [prop, element] of bad) {
      const xml = FIXTURE.replace('<bpmn:userTask id="review" name="领导小组审阅 / leading group review" camunda:candidateGroups="leading-group" camunda:dueDate="${due}" />',
        `<bpmn:userTask id="review" name="r" camunda:candidateGroups="leading-group"><bpmn:extensionElements><camunda:properties>${prop}</camunda:properties></bpmn:extensionElements></bpmn:userTask>`);
      const r = await deploy(current.url, 'bad-due', xml);
      t.is(r.status, 400, prop);
      t.true(r.body.message!.includes(element), r.body.message);
    }
    const onStart = FIXTURE.replace('<bpmn:startEvent id="start" />', '<bpmn:startEvent id="start"><bpmn:extensionElements><camunda:properties><camunda:property name="notifyDueSoon" value="PT1H" /></camunda:properties></bpmn:extensionElements></bpmn:startEvent>');
    const r = await deploy(current.url, 'bad-due', onStart);
    t.is(r.status, 400);
    t.true(r.body.message!.includes('start'), r.body.message);
    const onProcess = FIXTURE.replace('<bpmn:startEvent id="start" />', '<bpmn:extensionElements><camunda:properties><camunda:property name="notifyDueSoon" value="P1D" /><camunda:property name="notifyOverdue" value="false" /></camunda:properties></bpmn:extensionElements><bpmn:startEvent id="start" />');
    t.is((await deploy(current.url, 'good-due', onProcess)).status, 200);
  });
}
