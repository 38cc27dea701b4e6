import test from 'ava';
import { ManualClock } from '../../src/clock.ts';
import { backends } from '../helpers/db.ts';
import { adminPrincipal, fixture, oneResource } from '../helpers/fixtures.ts';
import { NO_PROCESSES, startTestServer, type TestServer } from '../helpers/server.ts';

/** The same pair, forwarding a sensitive variable in the message. */
const sealedPair = fixture('raise-incident.bpmn').toString('utf8')
  .replace('<camunda:inputParameter name="source">backup-verification</camunda:inputParameter>',
    '<camunda:inputParameter name="secret_contact">${secret_contact}</camunda:inputParameter>')
  .replace(/outbox-raiser/g, 'outbox-sealed-raiser').replace(/outbox-receiver/g, 'outbox-sealed-receiver').replace(/outbox-test-raised/g, 'outbox-test-sealed');
const CONTACT = '13800138000 张警官';

const raiserOnly = fixture('raise-incident.bpmn').toString('utf8')
  .replace(/<bpmn:process id="outbox-receiver"[\s\S]*?<\/bpmn:process>/, '')
  .replace(/outbox-raiser/g, 'outbox-lonely').replace(/outbox-test-raised/g, 'outbox-test-nobody');

for (const backend of backends) {
  const clock = new ManualClock(new Date('2026-12-01T01:00:00Z'));
  let s!: TestServer;
  test.before(async () => {
    s = await startTestServer(backend, NO_PROCESSES, { clock, runScheduler: false });
    await s.services.deployments.deploy(oneResource('raise-incident.bpmn', fixture('raise-incident.bpmn')));
    await s.services.deployments.deploy(oneResource('lonely.bpmn', Buffer.from(raiserOnly)));
    await s.services.deployments.deploy(oneResource('sealed.bpmn', Buffer.from(sealedPair)));
  });
  test.after.always(async () => s?.stop());
  const t = (title: string) => `${backend.name}: ${title}`;

  test.serial(t('a thrown message is kept with the run that threw it, then delivered once: it starts the receiving process'), async (t) => {
    const { instance } = await s.services.instances.startByKey('outbox-raiser', { variables: { what: { type: 'String', value: '备份校验失败' } } }, adminPrincipal);
    t.is(instance.state, 'COMPLETED', 'the thrower went on without waiting');
    const [pending] = await s.services.outbox.pending(instance.id);
    t.like(pending, { message_name: 'outbox-test-raised', source_activity_id: 'raise' });
    t.deepEqual(pending.variables, { summary: { type: 'String', value: '备份校验失败' }, source: { type: 'String', value: 'backup-verification' } });
    t.deepEqual(await s.db('process_instances').where({ definition_key: 'outbox-receiver' }), [], 'nothing delivered before the scheduler runs');

    t.is(await s.scheduler.runDue(), 1);
    t.is(await s.scheduler.runDue(), 0, 'delivered exactly once');
    t.deepEqual(await s.services.outbox.pending(instance.id), []);
    const received = await s.db('process_instances').where({ definition_key: 'outbox-receiver' });
    t.is(received.length, 1);
    t.is(received[0].start_user_id, 'system');
    const vars = await s.services.instances.variables(received[0].id, adminPrincipal);
    t.like(vars.summary, { type: 'String', value: '备份校验失败' });
    const [task] = await s.services.tasks.list({ processInstanceId: received[0].id }, adminPrincipal);
    t.is(task.task_definition_key, 'handle');
  });

  test.serial(t('a message nobody receives stays in the outbox with its reason, and is retried with backoff'), async (t) => {
    const { instance } = await s.services.instances.startByKey('outbox-lonely', { variables: { what: { type: 'String', value: 'x' } } }, adminPrincipal);
    t.is(await s.scheduler.runDue(), 0);
    const [row] = await s.services.outbox.pending(instance.id);
    t.is(row.attempts, 1);
    t.regex(row.last_error ?? '', /outbox-test-nobody/);
    t.true(new Date(row.locked_until!).getTime() > (await clock.now()).getTime(), 'not retried at once');
    // The receiver is deployed later: the next attempt delivers it.
    await s.services.deployments.deploy(oneResource('late.bpmn', Buffer.from(fixture('raise-incident.bpmn').toString('utf8').replace(/outbox-test-raised/g, 'outbox-test-nobody')
      .replace(/outbox-raiser/g, 'outbox-raiser-2').replace(/outbox-receiver/g, 'outbox-late-receiver'))));
    clock.advance(60_000);
    t.is(await s.scheduler.runDue(), 1);
    t.deepEqual(await s.services.outbox.pending(instance.id), []);
    t.is((await s.db('process_instances').where({ definition_key: 'outbox-late-receiver' })).length, 1);
  });

  test.serial(t('a message forwarding a sensitive variable waits in the outbox sealed, and its receiver keeps it sealed'), async (t) => {
    const start = () => s.services.instances.startByKey('outbox-sealed-raiser', {
      variables: { what: { type: 'String', value: '可疑登录' }, secret_contact: { type: 'String', value: CONTACT } },
    }, adminPrincipal);
    const { instance } = await start();
    const [pending] = await s.services.outbox.pending(instance.id);
    t.deepEqual(pending.variables.secret_contact, { type: 'String', value: CONTACT }, 'opened for the server');
    const [stored] = await s.db('message_outbox').where({ source_process_instance_id: instance.id });
    t.is(stored.key_id, 'k1');
    t.false(JSON.stringify(stored).includes(CONTACT) || JSON.stringify(stored).includes('可疑登录'), 'the whole payload is sealed');

    t.is(await s.scheduler.runDue(), 1);
    const [received] = await s.db('process_instances').where({ definition_key: 'outbox-sealed-receiver' });
    t.is((await s.services.instances.variables(received.id, adminPrincipal)).secret_contact?.value, CONTACT);
    t.is((await s.db('variables').where({ process_instance_id: received.id, name: 'secret_contact' }).first()).key_id, 'k1');

    // A tampered payload is not delivered: the attempt fails, saying which message of which instance.
    const second = (await start()).instance.id;
    const [row] = await s.db('message_outbox').where({ source_process_instance_id: second });
    await s.db('message_outbox').where({ id: row.id }).update({ variables: JSON.stringify({ ...row.variables, mac: Buffer.alloc(32).toString('base64') }) });
    t.is(await s.scheduler.runDue(), 0);
    const [failed] = await s.db('message_outbox').where({ id: row.id });
    t.regex(failed.last_error, new RegExp(`integrity check failed for variable message:outbox-test-sealed of process instance ${second}`));
    t.false(failed.last_error.includes(CONTACT));
    await s.db('message_outbox').where({ id: row.id }).delete();
  });
}
