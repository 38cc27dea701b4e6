import test from 'ava';
import { ManualClock } from '../../src/clock.ts';
import { backends } from '../helpers/db.ts';
import { adminPrincipal, fixture, oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, NO_PROCESSES, startTestServer, type TestServer } from '../helpers/server.ts';

/*
 * A timer date without an offset is local time in the server's TIMEZONE,
 * for boundary and intermediate timers as for start timers and cron, and
 * whatever zone the host runs in. Los Angeles: west of the host (UTC in CI),
 * so reading the date in the host's zone makes it look past and the engine
 * would pass the timer at once.
 */
const ZONE = 'America/Los_Angeles';

for (const backend of backends) {
  // 04:00 on 4 December in Los Angeles (12:00Z).
  const clock = new ManualClock(new Date('2026-12-04T12:00:00Z'));
  let s!: TestServer;
  test.before(async () => {
    s = await startTestServer(backend, { ...NO_PROCESSES, TIMEZONE: ZONE }, { clock, runScheduler: false });
    await s.services.deployments.deploy(oneResource('wait-date.bpmn', fixture('wait-date.bpmn')));
    // The two-hour deadline of the decision becomes a local date.
    const localDeadline = fixture('deadlines.bpmn').toString()
      .replace('<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT2H</bpmn:timeDuration>', '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">2026-12-04T10:00:00</bpmn:timeDate>');
    await s.services.deployments.deploy(oneResource('deadlines.bpmn', Buffer.from(localDeadline)));
  });
  test.after.always(async () => s?.stop());
  const t = (title: string) => `${backend.name}: ${title}`;
  const open = async (id: string) => (await s.services.tasks.list({ processInstanceId: id }, adminPrincipal)).map((x) => x.task_definition_key).sort();
  const armed = (id: string) => s.db('timers').where({ process_instance_id: id });

  test.serial(t('a local date on an intermediate timer is read in TIMEZONE, not in the host\'s zone'), async (t) => {
    t.not(Intl.DateTimeFormat().resolvedOptions().timeZone, ZONE, 'the host must be in another zone for this test to say anything');
    const id = (await s.services.instances.startByKey('wait-date', { variables: { maintenanceWindow: { type: 'String', value: '2026-12-04T09:00:00' } } }, adminPrincipal)).instance.id;
    t.deepEqual(await open(id), [], 'still waiting: 09:00 in Los Angeles is five hours ahead');
    const [timer] = await armed(id);
    t.is(new Date(timer.due_at).toISOString(), '2026-12-04T17:00:00.000Z');
    // The API shows it in the same zone, as the configuration says (not the host's environment).
    const [job] = (await client(s.url, ADMIN.user, ADMIN.password).get(`/engine-rest/job?processInstanceId=${id}`)).body;
    t.is(job.dueDate, '2026-12-04T09:00:00.000-0800');
    clock.set(new Date('2026-12-04T16:59:59Z'));
    t.is(await s.scheduler.runDue(), 0);
    clock.set(new Date('2026-12-04T17:00:00Z'));
    t.is(await s.scheduler.runDue(), 1);
    t.deepEqual(await open(id), ['apply']);
    // With an offset, a date means what it says.
    const explicit = (await s.services.instances.startByKey('wait-date', { variables: { maintenanceWindow: { type: 'String', value: '2026-12-05T09:00:00+08:00' } } }, adminPrincipal)).instance.id;
    t.is(new Date((await armed(explicit))[0].due_at).toISOString(), '2026-12-05T01:00:00.000Z');
  });

  test.serial(t('a local date on a boundary timer is read in TIMEZONE'), async (t) => {
    clock.set(new Date('2026-12-04T12:00:00Z'));
    const id = (await s.services.instances.startByKey('deadlines', { variables: {} }, adminPrincipal)).instance.id;
    t.deepEqual(await open(id), ['decide'], 'the deadline (10:00 in Los Angeles, 18:00Z) has not passed');
    t.is(new Date((await armed(id))[0].due_at).toISOString(), '2026-12-04T18:00:00.000Z');
    clock.set(new Date('2026-12-04T18:00:00Z'));
    t.is(await s.scheduler.runDue(), 1);
    t.deepEqual(await open(id), ['escalate']);
  });
}
