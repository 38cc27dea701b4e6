import test from 'ava';
import { ManualClock } from '../../src/clock.ts';
import { backends } from '../helpers/db.ts';
import { ADMIN, client, makeUser, NO_PROCESSES, startTestServer, type Client, type TestServer } from '../helpers/server.ts';
import { assertNothingLeft, assertRefusedFixture, deployFixture, start, tasksOf } from './helpers.ts';

/*
 * Non-interrupting timer cycles on boundary events (cancelActivity="false",
 * `R2/PT1H`, `R/PT1H`) driven by the injected clock: each firing is a timer
 * row of its own, runs the boundary's path, and arms the next firing in the
 * same command; the timer goes when the activity ends. A repeating cycle
 * whose path would hold a token (a user task per reminder, which Camunda
 * keeps open side by side) is refused at deployment, as it would not run so.
 */

const HOUR = 3_600_000;

for (const backend of backends) {
  const clock = new ManualClock(new Date('2026-12-01T01:00:00Z'));
  let s!: TestServer;
  let admin!: Client;
  let office!: Client;
  const t = (title: string) => `${backend.name}: ${title}`;
  test.before(async () => {
    s = await startTestServer(backend, NO_PROCESSES, { clock, runScheduler: false });
    admin = client(s.url, ADMIN.user, ADMIN.password);
    office = await makeUser(s, 'cycle-office', ['office']);
    for (const name of ['timer-cycle', 'timer-cycle-unbounded']) {
      const r = await deployFixture(s, name);
      if (r.status !== 200) throw new Error(`deploy ${name}: ${r.status} ${JSON.stringify(r.body)}`);
    }
  });
  test.after.always(async () => s?.stop());

  const jobs = async (id: string) => (await admin.get(`/engine-rest/job?processInstanceId=${id}`)).body;
  const rows = (id: string) => s.db('timers').where({ process_instance_id: id });
  const reminders = async (id: string) => (await admin.get(`/engine-rest/process-instance/${id}/variables/reminders`)).body.value;
  const counts = async (id: string, activityId: string) =>
    (await admin.get(`/engine-rest/history/activity-instance?processInstanceId=${id}&activityId=${activityId}`)).body.filter((a: any) => a.endTime && !a.canceled).length;
  async function completeReport(id: string) {
    const [report] = await tasksOf(admin, id);
    const r = await office.post(`/engine-rest/task/${report.id}/complete`, {});
    if (r.status !== 204) throw new Error(`complete report: ${r.status} ${JSON.stringify(r.body)}`);
  }

  test.serial(t('R2/PT1H: two firings an hour apart, each a durable row armed by the one before, each running the path; then no timer'), async (t) => {
    const id = await start(office, 'timer-cycle', { reminders: { value: 0, type: 'Integer' } });
    const [first] = await rows(id);
    t.is(new Date(first.due_at).getTime(), (await clock.now()).getTime() + HOUR);
    t.is((await jobs(id)).length, 1, 'the armed firing is a job');
    clock.advance(HOUR - 1000);
    t.is(await s.scheduler.runDue(), 0, 'not before its time');
    clock.advance(1000);
    t.is(await s.scheduler.runDue(), 1);
    t.is(await reminders(id), 1);
    const [second] = await rows(id);
    t.truthy(second, 'the next firing is armed');
    t.is(new Date(second.due_at).getTime(), (await clock.now()).getTime() + HOUR, 'armed in the firing command, one period on');
    t.deepEqual((await tasksOf(admin, id)).map((x) => x.taskDefinitionKey), ['report'], 'the activity stays open');
    clock.advance(HOUR);
    t.is(await s.scheduler.runDue(), 1);
    t.is(await reminders(id), 2);
    t.deepEqual(await rows(id), [], 'two repetitions, then nothing armed');
    clock.advance(10 * HOUR);
    t.is(await s.scheduler.runDue(), 0);
    t.is(await counts(id, 'count'), 2, 'the path ran once per firing');
    await completeReport(id);
    await assertNothingLeft(t, s, admin, id);
  });

  test.serial(t('R/PT1H: fires every hour for as long as the activity is open; completing it removes the armed timer in the same command'), async (t) => {
    const id = await start(office, 'timer-cycle-unbounded', { reminders: { value: 0, type: 'Integer' } });
    for (let i = 1; i <= 3; i++) {
      clock.advance(HOUR);
      t.is(await s.scheduler.runDue(), 1);
      t.is(await reminders(id), i);
      t.is((await rows(id)).length, 1, 'always the next firing armed');
    }
    await completeReport(id);
    t.deepEqual(await rows(id), [], 'the timer went with the activity');
    clock.advance(5 * HOUR);
    t.is(await s.scheduler.runDue(), 0);
    await assertNothingLeft(t, s, admin, id);
  });

  test.serial(t('a repeating cycle whose path would hold a token is refused at deployment, naming the boundary; a cycle firing once is not'), async (t) => {
    const body = await assertRefusedFixture(t, s, admin, 'timer-cycle-refused', [
      ['remind', /remind: each firing of a repeating non-interrupting timer is a token of its own in Camunda 7, but its path reaches chase \(UserTask\)/],
    ]);
    t.notRegex(body.message, /element once/, 'R1 fires once: nothing to run side by side');
  });
}
