import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { ManualClock } from '../../src/clock.ts';
import { backends } from '../helpers/db.ts';
import { ADMIN, client, deployBpmn as deploy, NO_PROCESSES, startTestServer, vars, type Client, type TestServer } from '../helpers/server.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts';

const FIXTURE = fs.readFileSync(path.resolve(import.meta.dirname, '../fixtures/notify-offer.bpmn'));
/** A parallel 会签 over `${signers}`, each instance assigned by name. */
const MULTI = fs.readFileSync(path.resolve(import.meta.dirname, '../fixtures/modify-multi.bpmn'));

for (const backend of backends) {
  const clock = new ManualClock(new Date('2026-12-01T01:00:00Z'));
  let server!: TestServer;
  let smtp!: SmtpSink;
  const users: Record<string, Client> = {};
  test.before(async () => {
    smtp = await startSmtpSink();
    server = await startTestServer(backend, {
      ...NO_PROCESSES, SMTP_URL: smtp.url(), SMTP_FROM: '流程通知 <bpm@example.org>', PUBLIC_BASE_URL: 'https://bpm.example.org/',
    }, { clock, runScheduler: false });
    const admin = client(server.url, ADMIN.user, ADMIN.password);
    const people: [string, string[], boolean][] = [
      ['lead-a', ['leading-group'], true], ['lead-b', ['leading-group'], true], ['lead-c', ['leading-group'], false],
      ['office-x', ['office'], true], ['cand-user', ['office'], true], ['filer', ['office'], true],
    ];
    for (const [id, groups, email] of people) {
      const r = await admin.post('/engine-rest/user/create', { profile: { id, firstName: id, ...(email ? { email: `${id}@example.org` } : {}) }, credentials: { password: `${id}-password` } });
      if (r.status !== 204) throw new Error(`user ${id}: ${r.status}`);
      for (const g of groups) await admin.put(`/engine-rest/group/${g}/members/${id}`);
      users[id] = client(server.url, id, `${id}-password`);
    }
    const d = await deploy(server.url, 'notify-offer', FIXTURE);
    if (d.status !== 200) throw new Error(`deploy: ${d.status} ${JSON.stringify(d.body)}`);
    const m = await deploy(server.url, 'modify-multi', MULTI);
    if (m.status !== 200) throw new Error(`deploy: ${m.status} ${JSON.stringify(m.body)}`);
  });
  test.after.always(async () => {
    await server?.stop();
    await smtp?.down().catch(() => undefined);
  });
  const t = (title: string) => `${backend.name}: ${title}`;
  const unread = async (user: string) => (await users[user].get('/engine-rest/notification/count?unread=true')).body.count as number;
  const start = async (businessKey: string) => {
    const r = await users['office-x'].post('/engine-rest/process-definition/key/notify-offer/start', { businessKey, variables: vars({ filer: 'filer' }) });
    if (r.status !== 200) throw new Error(`start: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.id as string;
  };
  const admin = () => client(server.url, ADMIN.user, ADMIN.password);
  /** A 会签 instance with one open review task per signer; their tasks by assignee. */
  const countersign = async (signers: string[]) => {
    const r = await admin().post('/engine-rest/process-definition/key/modify-multi/start', { variables: { signers: { value: JSON.stringify(signers), type: 'Json' } } });
    if (r.status !== 200) throw new Error(`start: ${r.status} ${JSON.stringify(r.body)}`);
    const tasks: { id: string; assignee: string }[] = (await admin().get(`/engine-rest/task?processInstanceId=${r.body.id}`)).body;
    return { instanceId: r.body.id as string, tasks: new Map(tasks.map((x) => [x.assignee, x.id])) };
  };
  /** Sends what the outbox holds now; the addresses mailed. */
  const sendMail = async () => {
    const before = smtp.received.length;
    await server.scheduler.runDue();
    await server.scheduler.runDue();
    return smtp.received.slice(before).map((x) => x.to).sort();
  };

  test.serial(t('a task offered to leading-group and a candidate user notifies each in-app and mails each member with an address exactly once'), async (t) => {
    const instanceId = await start('offer-1');
    const task = (await users['lead-a'].get(`/engine-rest/task?processInstanceId=${instanceId}`)).body[0];
    for (const u of ['lead-a', 'lead-b', 'lead-c', 'cand-user']) t.is(await unread(u), 1, u);
    t.is(await unread('office-x'), 0, 'the initiator is not a candidate');
    const [n] = (await users['lead-a'].get('/engine-rest/notification?unread=true&firstResult=0&maxResults=10')).body;
    t.like(n, { type: 'task-offered', taskId: task.id, processInstanceId: instanceId, link: `/task/${task.id}`, read: false });
    t.regex(n.title, /^待办：领导小组审阅/);
    t.is(smtp.received.length, 0, 'nothing is mailed inside the request');
    await server.scheduler.runDue();
    await server.scheduler.runDue();
    t.deepEqual(smtp.received.map((m) => m.to).sort(), ['cand-user@example.org', 'lead-a@example.org', 'lead-b@example.org']);
    // The body is quoted-printable: undo its soft line breaks before looking for the link.
    const mail = smtp.received.find((m) => m.to === 'lead-a@example.org')!.raw.replace(/=\r?\n/g, '');
    t.true(mail.includes(`https://bpm.example.org/task/${task.id}`));
    t.regex(mail, /Subject: =\?UTF-8\?/i, 'a Chinese subject, encoded');
    t.regex(mail, /Message-ID:\s*<email\.task-offered\./i, 'the Message-ID carries the idempotency key');
  });

  test.serial(t('only one\'s own notifications: another\'s is 404; reading clears the mark; read-all; bad parameters are 400'), async (t) => {
    const [mine] = (await users['lead-a'].get('/engine-rest/notification?unread=true')).body;
    t.is((await users['lead-b'].post(`/engine-rest/notification/${mine.id}/read`)).status, 404);
    t.is(await unread('lead-a'), 1);
    t.is((await users['lead-a'].post(`/engine-rest/notification/${mine.id}/read`)).status, 204);
    t.is(await unread('lead-a'), 0);
    t.like((await users['lead-a'].get('/engine-rest/notification')).body[0], { id: mine.id, read: true });
    t.is((await users['lead-b'].post('/engine-rest/notification/read-all')).body.count, 1);
    t.is(await unread('lead-b'), 0);
    t.is((await users['lead-a'].get('/engine-rest/notification?unread=maybe')).status, 400);
    t.is((await users['lead-a'].get('/engine-rest/notification?type=spam')).status, 400);
    t.is((await users['lead-a'].get('/engine-rest/notification?maxResults=-1')).status, 400);
  });

  test.serial(t('a silenced step notifies nobody; an assigned step notifies its assignee; set-assignee notifies the new one; the initiator hears the end'), async (t) => {
    const instanceId = await start('offer-2');
    const before = Object.fromEntries(await Promise.all(Object.keys(users).map(async (u) => [u, await unread(u)] as const)));
    const decide = (await users['lead-a'].get(`/engine-rest/task?processInstanceId=${instanceId}`)).body[0];
    t.is((await users['lead-a'].post(`/engine-rest/task/${decide.id}/claim`, { userId: 'lead-a' })).status, 204);
    t.is(await unread('lead-a'), before['lead-a'], 'a claim is not notified to the claimer');
    t.is((await users['lead-a'].post(`/engine-rest/task/${decide.id}/assignee`, { userId: 'lead-b' })).status, 204);
    t.is(await unread('lead-b'), before['lead-b'] + 1, 'set-assignee notifies the new assignee');
    t.like((await users['lead-b'].get('/engine-rest/notification?type=task-assigned')).body[0], { taskId: decide.id });
    t.is((await users['lead-b'].post(`/engine-rest/task/${decide.id}/complete`, {})).status, 204);
    const quiet = (await users['lead-b'].get(`/engine-rest/task?processInstanceId=${instanceId}`)).body[0];
    t.is(quiet.taskDefinitionKey, 'quiet');
    t.is(await unread('lead-b'), before['lead-b'] + 1, 'notify=false on the step');
    t.is((await users['lead-b'].post(`/engine-rest/task/${quiet.id}/claim`, { userId: 'lead-b' })).status, 204);
    t.is((await users['lead-b'].post(`/engine-rest/task/${quiet.id}/assignee`, { userId: 'lead-c' })).status, 204);
    t.is(await unread('lead-c'), before['lead-c'], 'a silenced step stays silent when reassigned');
    t.is((await users['lead-c'].post(`/engine-rest/task/${quiet.id}/complete`, {})).status, 204);
    const file = (await users['filer'].get(`/engine-rest/task?processInstanceId=${instanceId}`)).body[0];
    t.is(await unread('filer'), before['filer'] + 1);
    const [assigned] = (await users['filer'].get('/engine-rest/notification?type=task-assigned')).body;
    t.like(assigned, { taskId: file.id, link: `/task/${file.id}` });
    t.is((await users['filer'].post(`/engine-rest/task/${file.id}/complete`, {})).status, 204);
    const [ended] = (await users['office-x'].get('/engine-rest/notification?type=instance-ended')).body;
    t.like(ended, { processInstanceId: instanceId, taskId: null, link: `/monitor/instance/${instanceId}` });
    t.regex(ended.title, /^流程已结束/);
  });

  test.serial(t('SMTP down: the request succeeds, the mail waits with its error and goes out once SMTP is back'), async (t) => {
    await server.scheduler.runDue();
    const sent = smtp.received.length;
    await smtp.down();
    const instanceId = await start('offer-3');
    t.truthy(instanceId);
    await server.scheduler.runDue();
    const rows = await server.db('notification_outbox').whereNull('sent_at').select('*');
    t.is(rows.length, 3);
    t.true(rows.every((r) => r.attempts === 1 && r.last_error && r.failed_at === null));
    t.false(rows.some((r) => /password/i.test(r.last_error)));
    await smtp.up();
    await server.scheduler.runDue();
    t.is(smtp.received.length, sent, 'the backoff holds until its time');
    clock.advance(2000);
    await server.scheduler.runDue();
    t.is(smtp.received.length, sent + 3);
    await server.scheduler.runDue();
    t.is(smtp.received.length, sent + 3, 'each once');
  });

  test.serial(t('催办: the initiator urges the candidates with a message, once an hour; beyond is 429; a comment and a trace show it'), async (t) => {
    const instanceId = await start('urge-1');
    const task = (await users['lead-a'].get(`/engine-rest/task?processInstanceId=${instanceId}`)).body[0];
    t.is((await users['lead-a'].post(`/engine-rest/task/${task.id}/urge`, { message: '快' })).status, 403, 'a candidate is neither initiator nor office');
    t.is((await users['office-x'].post(`/engine-rest/task/${task.id}/urge`, {})).status, 400);
    t.is((await users['office-x'].post('/engine-rest/task/no-such-task/urge', { message: '快' })).status, 404);
    const before = await unread('lead-b');
    const first = await users['office-x'].post(`/engine-rest/task/${task.id}/urge`, { message: '请今天内审阅' });
    t.is(first.status, 200);
    t.deepEqual(first.body, { notified: 4 });
    t.is(await unread('lead-b'), before + 1);
    const [urged] = (await users['lead-b'].get('/engine-rest/notification?type=task-urged')).body;
    t.like(urged, { taskId: task.id, link: `/task/${task.id}` });
    t.true(urged.body.includes('请今天内审阅') && urged.body.includes('office-x'));
    const again = await users['office-x'].post(`/engine-rest/task/${task.id}/urge`, { message: '再催' });
    t.is(again.status, 429);
    t.is(again.body.type, 'RateLimitedException');
    t.regex(again.body.message, /一小时内只能催办一次/);
    t.truthy(again.headers.get('retry-after'));
    clock.advance(3600_000);
    t.is((await users['office-x'].post(`/engine-rest/task/${task.id}/urge`, { message: '再催' })).status, 200, 'an hour later by the clock');
    const comments = (await users['lead-a'].get(`/engine-rest/task/${task.id}/comment`)).body.map((c: { message: string; userId: string }) => [c.userId, c.message]);
    t.deepEqual(comments, [['office-x', '催办 / Urge: 请今天内审阅'], ['office-x', '催办 / Urge: 再催']]);
    const admin = client(server.url, ADMIN.user, ADMIN.password);
    const traced = (await admin.get(`/engine-rest/history/user-operation?operationType=Urge&processInstanceId=${instanceId}`)).body;
    t.is(traced.length, 2);
    t.true(traced.every((e: { userId: string }) => e.userId === 'office-x'));
  });

  test.serial(t('notify properties: values other than true/false and carbon-copy expressions are refused at deployment'), async (t) => {
    const bad = FIXTURE.toString('utf8').replace('name="notify" value="false"', 'name="notify" value="maybe"');
    const r = await deploy(server.url, 'bad-notify', bad);
    t.is(r.status, 400);
    t.regex(r.body.message, /notify must be one value, true or false/);
    const cc = FIXTURE.toString('utf8').replace('name="notify" value="false"', 'name="ccUsers" value="${copyTo}"');
    const r2 = await deploy(server.url, 'cc-notify', cc);
    t.is(r2.status, 400);
    t.regex(r2.body.message, /ccUsers takes literal ids separated by commas; expressions are not supported/);
  });

  test.serial(t('转办 notifies the new assignee in-app and by mail, not the one who did it'), async (t) => {
    await sendMail();
    const { instanceId, tasks } = await countersign(['lead-c', 'lead-b']);
    await sendMail();
    const before = await unread('lead-a');
    const own = await unread('lead-c');
    const r = await users['lead-c'].post(`/engine-rest/task/${tasks.get('lead-c')}/transfer`, { userId: 'lead-a' });
    t.is(r.status, 204, JSON.stringify(r.body));
    t.is(await unread('lead-a'), before + 1);
    t.is(await unread('lead-c'), own, 'the one who transferred is not told');
    const [n] = (await users['lead-a'].get('/engine-rest/notification?type=task-assigned')).body;
    t.like(n, { taskId: tasks.get('lead-c'), link: `/task/${tasks.get('lead-c')}` });
    t.deepEqual(await sendMail(), ['lead-a@example.org']);
    await admin().delete(`/engine-rest/process-instance/${instanceId}`);
  });

  test.serial(t('转办 of a 会签 instance to one who already holds an open instance of it is 400, so nobody gets two votes'), async (t) => {
    const { instanceId, tasks } = await countersign(['lead-a', 'lead-b']);
    const r = await users['lead-a'].post(`/engine-rest/task/${tasks.get('lead-a')}/transfer`, { userId: 'lead-b' });
    t.is(r.status, 400);
    t.regex(r.body.message, /already have an unfinished instance/);
    const open = (await users['lead-b'].get(`/engine-rest/task?processInstanceId=${instanceId}&assignee=lead-b`)).body;
    t.is(open.length, 1, 'lead-b still holds one instance');
    t.is((await users['lead-a'].get(`/engine-rest/task/${tasks.get('lead-a')}`)).body.assignee, 'lead-a', 'nothing changed');
    t.is((await users['lead-a'].post(`/engine-rest/task/${tasks.get('lead-a')}/transfer`, { userId: 'lead-c' })).status, 204, 'to one without an instance it goes');
    await admin().delete(`/engine-rest/process-instance/${instanceId}`);
  });

  test.serial(t('终止: mail not yet sent for the ended tasks is dropped; their in-app notifications stay, saying the task ended'), async (t) => {
    await sendMail();
    const instanceId = await start('terminate-1');
    const task = (await users['lead-a'].get(`/engine-rest/task?processInstanceId=${instanceId}`)).body[0];
    t.is((await users['office-x'].post(`/engine-rest/process-instance/${instanceId}/terminate`, { reason: '不再需要' })).status, 204);
    t.deepEqual(await sendMail(), [], 'no 待办 mail for a task that is gone');
    const offered = async (id: string) => (await users['lead-a'].get('/engine-rest/notification?type=task-offered')).body.find((x: { processInstanceId: string }) => x.processInstanceId === id);
    t.like(await offered(instanceId), { taskId: task.id, taskEnded: true, link: null });
    const open = await start('terminate-2');
    const fresh = await offered(open);
    t.is(fresh.taskEnded, false);
    t.is(fresh.link, `/task/${fresh.taskId}`);
    t.is((await sendMail()).length, 3, 'an open task\'s mail still goes');
  });

  test.serial(t('催办 notifies whoever holds the task once it is locked, not whom it was read with before'), async (t) => {
    const { instanceId, tasks } = await countersign(['lead-a', 'lead-c']);
    const taskId = tasks.get('lead-a')!;
    const before = { a: await unread('lead-a'), b: await unread('lead-b') };
    if (backend.name === 'postgres') {
      // A transfer commits while the urge waits for the task's lock: the urge read the task before it.
      await server.db.transaction(async (trx) => {
        await trx('tasks').where({ id: taskId }).forUpdate().first('id');
        const urging = users['office-x'].post(`/engine-rest/task/${taskId}/urge`, { message: '请尽快' });
        // Outside the transaction: pg_stat_activity is read once per transaction.
        const waiting = () => server.db.raw(`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query like '%"tasks"%for update'`);
        while ((await waiting()).rows[0].n === 0) await new Promise((r) => setImmediate(r));
        await trx('tasks').where({ id: taskId }).update({ assignee: 'lead-b' });
        return { urging }; // not awaited here: it waits for this transaction's commit
      }).then(async ({ urging }) => {
        const r = await urging;
        t.is(r.status, 200, JSON.stringify(r.body));
      });
    } else {
      // One connection: nothing can land between the read and the lock; the transfer goes first.
      t.is((await users['lead-a'].post(`/engine-rest/task/${taskId}/transfer`, { userId: 'lead-b' })).status, 204);
      t.is((await users['office-x'].post(`/engine-rest/task/${taskId}/urge`, { message: '请尽快' })).status, 200);
    }
    t.is(await unread('lead-a'), before.a, 'the former assignee is not urged');
    const urged = (await users['lead-b'].get('/engine-rest/notification?type=task-urged')).body.filter((n: { taskId: string }) => n.taskId === taskId);
    t.is(urged.length, 1, 'the one who holds it now is urged');
    await admin().delete(`/engine-rest/process-instance/${instanceId}`);
  });

  test.serial(t('a cascade deployment delete drops the unsent mail of the tasks it removes, as ending them does'), async (t) => {
    await sendMail();
    const d = await deploy(server.url, 'notify-offer-again', FIXTURE);
    t.is(d.status, 200);
    const deploymentId = d.body.id as string;
    const instanceId = await start('cascade-1');
    const task = (await users['lead-a'].get(`/engine-rest/task?processInstanceId=${instanceId}`)).body[0];
    t.truthy(task, 'the new version offers its task');
    const unsent = async () => Number((await server.db('notification_outbox').whereNull('sent_at').whereNull('failed_at').count({ n: '*' }))[0]!.n);
    t.true(await unsent() > 0, 'its 待办 mail waits in the outbox');
    t.is((await admin().delete(`/engine-rest/deployment/${deploymentId}?cascade=true`)).status, 204);
    t.is(await unsent(), 0, 'the removed task\'s mail is gone with it');
    t.deepEqual(await sendMail(), [], 'no 待办 mail for a task that no longer exists');
    const offered = (await users['lead-a'].get('/engine-rest/notification?type=task-offered')).body.find((x: { processInstanceId: string }) => x.processInstanceId === instanceId);
    t.like(offered, { taskId: task.id, taskEnded: true, link: null });
  });
}
