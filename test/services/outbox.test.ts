import test from 'ava';
import { ManualClock } from '../../src/clock.ts';
import { backends } from '../helpers/db.ts';
import { adminPrincipal, fixture, oneResource } from '../helpers/fixtures.ts';
import { NO_PROCESSES, startTestServer, type TestServer } from '../helpers/server.ts';

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
}
