import test from 'ava';
import { ManualClock } from '../../src/clock.ts';
import { ParseError } from '../../src/errors.ts';
import { backends } from '../helpers/db.ts';
import { adminPrincipal, fixture, oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, makeUser, NO_PROCESSES, startTestServer, type TestServer } from '../helpers/server.ts';

const DAY = 24 * 3600_000;

for (const backend of backends) {
  // 2026-12-01 00:00 in Asia/Shanghai; the scheduler loop is off and the tests drive it.
  const clock = new ManualClock(new Date('2026-11-30T16:00:00Z'));
  let s!: TestServer;
  test.before(async () => {
    s = await startTestServer(backend, NO_PROCESSES, { clock, runScheduler: false });
  });
  test.after.always(async () => s?.stop());
  const t = (title: string) => `${backend.name}: ${title}`;
  // The start timers in force (not those set aside for a newer version).
  const startTimers = (key: string) => s.db('start_timers').where({ definition_key: key, superseded: false });
  const instances = async (key: string) => Number((await s.db('process_instances').where({ definition_key: key }).count({ n: '*' }))[0].n);

  test.serial(t('a daily cron start fires at 02:00 Shanghai time; after three days down it fires once and keeps its schedule'), async (t) => {
    await s.services.deployments.deploy(oneResource('patrol-daily.bpmn', fixture('patrol-daily.bpmn'), { filter: true }));
    const [timer] = await startTimers('patrol-daily');
    t.is(new Date(timer.due_at).toISOString(), '2026-11-30T18:00:00.000Z', '02:00 on 1 December in Asia/Shanghai');
    clock.advance(2 * 3600_000 - 1000);
    t.is(await s.scheduler.runDue(), 0);
    clock.advance(1000);
    t.is(await s.scheduler.runDue(), 1);
    t.is(await instances('patrol-daily'), 1);
    // The instance ran past its start event: its first task is open.
    const [started] = await s.db('process_instances').where({ definition_key: 'patrol-daily' });
    t.deepEqual((await s.db('tasks').where({ process_instance_id: started.id }).whereNull('end_time')).map((x: { task_definition_key: string }) => x.task_definition_key), ['patrol']);
    t.is(new Date((await startTimers('patrol-daily'))[0].due_at).toISOString(), '2026-12-01T18:00:00.000Z');
    // The server is down for three days and comes back at 09:00 on 4 December.
    clock.advance(3 * DAY + 7 * 3600_000);
    t.is(await s.scheduler.runDue(), 1, 'one catch-up firing, not three');
    t.is(await instances('patrol-daily'), 2);
    t.is(new Date((await startTimers('patrol-daily'))[0].due_at).toISOString(), '2026-12-04T18:00:00.000Z', 'back on schedule: 02:00 on 5 December');
    t.is(await s.scheduler.runDue(), 0);
  });

  test.serial(t('an identical redeploy keeps the one start timer; a new version replaces it; deleting that version restores it'), async (t) => {
    const [before] = await startTimers('patrol-daily');
    const again = await s.services.deployments.deploy(oneResource('patrol-daily.bpmn', fixture('patrol-daily.bpmn'), { filter: true }));
    t.true(again.duplicate);
    t.deepEqual((await startTimers('patrol-daily')).map((r: { id: string }) => r.id), [before.id]);
    const v2 = await s.services.deployments.deploy(oneResource('patrol-daily.bpmn', Buffer.from(fixture('patrol-daily.bpmn').toString().replace('巡检记录', '巡检记录（新版）')), { filter: true }));
    const afterV2 = await startTimers('patrol-daily');
    t.is(afterV2.length, 1);
    t.is(afterV2[0].definition_id, v2.definitions[0].id);
    await s.services.deployments.remove(v2.deployment.id, true, adminPrincipal);
    const restored = await startTimers('patrol-daily');
    t.is(restored.length, 1);
    t.is(restored[0].definition_id, before.definition_id);
    const admin = client(s.url, ADMIN.user, ADMIN.password);
    const [definition] = (await admin.get('/engine-rest/job-definition?processDefinitionKey=patrol-daily')).body;
    t.like(definition, { processDefinitionId: before.definition_id, activityId: 'every2am', jobType: 'timer-start-event', jobConfiguration: 'CYCLE: 0 0 2 * * ?' });
    const staff = await makeUser(s, 'net-jobs', ['network-security']);
    t.is((await staff.get('/engine-rest/job-definition')).status, 403);
  });

  test.serial(t('an R3 weekly cycle fires three times, then stops'), async (t) => {
    await s.services.deployments.deploy(oneResource('weekly-three.bpmn', fixture('weekly-three.bpmn')));
    const [first] = await startTimers('weekly-three');
    // The cycle began on 1 December, before now (4 December): its first firing from now on is 8 December.
    t.is(new Date(first.due_at).toISOString(), '2026-12-07T18:00:00.000Z');
    for (let week = 0; week < 3; week++) {
      clock.set(new Date(new Date('2026-12-07T18:00:00Z').getTime() + week * 7 * DAY));
      t.is(await s.scheduler.runDue() >= 1, true);
    }
    t.is(await instances('weekly-three'), 3);
    t.deepEqual(await startTimers('weekly-three'), []);
  });

  const HOUR = 3600_000;
  const deployTimer = (key: string, definition: string, label: string) =>
    s.services.deployments.deploy(oneResource(`${key}.bpmn`, timerStartProcess(key, definition, label)));
  const cycleXml = (c: string) => `<bpmn:timeCycle xsi:type="bpmn:tFormalExpression">${c}</bpmn:timeCycle>`;
  const dateXml = (d: string) => `<bpmn:timeDate xsi:type="bpmn:tFormalExpression">${d}</bpmn:timeDate>`;
  const startedBy = async (key: string) => (await s.db('process_instances').where({ definition_key: key }).orderBy('start_time').select('definition_id'))
    .map((r: { definition_id: string }) => r.definition_id);

  test.serial(t('deleting the newest version restores the previous version\'s start timers as they stood, never re-firing what already fired'), async (t) => {
    const t0 = await clock.now();
    // An R3 hourly cycle: fired once by v1, then v2 takes the key over and fires once itself.
    const v1 = await deployTimer('restore-cycle', cycleXml('R3/PT1H'), 'v1');
    clock.set(new Date(t0.getTime() + HOUR));
    await s.scheduler.runDue();
    t.deepEqual(await startedBy('restore-cycle'), [v1.definitions[0].id]);
    clock.set(new Date(t0.getTime() + 1.5 * HOUR));
    const v2 = await deployTimer('restore-cycle', cycleXml('R3/PT1H'), 'v2');
    clock.set(new Date(t0.getTime() + 2.6 * HOUR));
    await s.scheduler.runDue();
    t.deepEqual(await startedBy('restore-cycle'), [v1.definitions[0].id, v2.definitions[0].id], 'v1 set aside did not fire at +2h; v2 fired at +2.5h');
    // v2 goes: v1 resumes with the two firings it had left, at its next hour from now, not at once.
    await s.services.deployments.remove(v2.deployment.id, true, adminPrincipal);
    const [restored] = await startTimers('restore-cycle');
    t.like(restored, { definition_id: v1.definitions[0].id, repeats_left: 1, superseded: false });
    t.is(new Date(restored.due_at).getTime(), t0.getTime() + 3 * HOUR, 'v1\'s own schedule, counted from when it was armed');
    // (v2's instance went with it: the deletion cascaded.)
    const byV1 = async () => (await startedBy('restore-cycle')).filter((id) => id === v1.definitions[0].id).length;
    await s.scheduler.runDue();
    t.is(await byV1(), 1, 'nothing fired on restoring');
    clock.set(new Date(t0.getTime() + 3 * HOUR));
    await s.scheduler.runDue();
    clock.set(new Date(t0.getTime() + 4 * HOUR));
    await s.scheduler.runDue();
    t.is(await byV1(), 3, 'v1 fired its three in all (+1h, +3h, +4h)');
    t.deepEqual(await startTimers('restore-cycle'), []);
    // A finished cycle is not restarted when a later version comes and goes.
    const v3 = await deployTimer('restore-cycle', cycleXml('R3/PT1H'), 'v3');
    await s.services.deployments.remove(v3.deployment.id, true, adminPrincipal);
    t.deepEqual(await startTimers('restore-cycle'), [], 'the finished R3 stays finished');

    // A one-shot date that v1 fired is not fired again when v2 is deleted.
    const now = await clock.now();
    const at = (ms: number) => new Date(now.getTime() + ms).toISOString();
    const once1 = await deployTimer('restore-once', dateXml(at(HOUR)), 'v1');
    clock.set(new Date(now.getTime() + HOUR));
    await s.scheduler.runDue();
    const once2 = await deployTimer('restore-once', dateXml(at(5 * HOUR)), 'v2');
    await s.services.deployments.remove(once2.deployment.id, true, adminPrincipal);
    t.deepEqual(await startTimers('restore-once'), [], 'v1\'s date fired; nothing to give back');
    clock.set(new Date(now.getTime() + 6 * HOUR));
    await s.scheduler.runDue();
    t.deepEqual(await startedBy('restore-once'), [once1.definitions[0].id], 'fired once, by v1, at its date');

    // A one-shot set aside before its date, whose date passed meanwhile, is not fired late either.
    const late1 = await deployTimer('restore-late', dateXml(at(7 * HOUR)), 'v1');
    const late2 = await deployTimer('restore-late', dateXml(at(9 * HOUR)), 'v2');
    clock.set(new Date(now.getTime() + 8 * HOUR));
    await s.services.deployments.remove(late2.deployment.id, true, adminPrincipal);
    t.deepEqual(await startTimers('restore-late'), []);
    await s.scheduler.runDue();
    t.deepEqual(await startedBy('restore-late'), []);
    void late1;
  });

  test.serial(t('deleting an older deployment leaves the newest\'s timers untouched'), async (t) => {
    const now = await clock.now();
    const date = new Date(now.getTime() + HOUR).toISOString();
    // Both versions have the same date; v2 owns it and fires it.
    const v1 = await deployTimer('older-once', dateXml(date), 'v1');
    const v2 = await deployTimer('older-once', dateXml(date), 'v2');
    const cycle1 = await deployTimer('older-cycle', cycleXml('R/PT6H'), 'v1');
    const cycle2 = await deployTimer('older-cycle', cycleXml('R/PT6H'), 'v2');
    clock.set(new Date(now.getTime() + HOUR));
    await s.scheduler.runDue();
    t.deepEqual(await startedBy('older-once'), [v2.definitions[0].id]);
    const [armed] = await startTimers('older-cycle');
    t.is(armed.definition_id, cycle2.definitions[0].id);
    // Deleting v1 (not the newest) must not hand the key back to anyone: the date stays fired.
    clock.advance(24 * HOUR);
    await s.services.deployments.remove(v1.deployment.id, true, adminPrincipal);
    await s.services.deployments.remove(cycle1.deployment.id, true, adminPrincipal);
    t.deepEqual(await startTimers('older-once'), []);
    t.deepEqual(await startTimers('older-cycle'), [armed], 'the newest\'s cycle row is exactly as it was');
    const before = (await startedBy('older-cycle')).length;
    await s.scheduler.runDue();
    t.deepEqual(await startedBy('older-once'), [v2.definitions[0].id], 'no second firing of the date');
    t.is((await startedBy('older-cycle')).length, before + 1, 'the overdue cycle fires once, as it would have anyway');
    await s.services.deployments.remove(cycle2.deployment.id, true, adminPrincipal);
  });

  test.serial(t('a start timer fired twice at once starts one instance, and the loser records no failure'), async (t) => {
    const { deployment } = await deployTimer('raced', cycleXml('R/PT1H'), 'v1');
    t.teardown(() => s.services.deployments.remove(deployment.id, true, adminPrincipal));
    clock.advance(HOUR);
    const [row] = await s.db('start_timers').where({ definition_key: 'raced' });
    // As when a claim's lease ran out while its server was still firing, and another server took it.
    const results = await Promise.allSettled([s.services.startTimers.fire(row), s.services.startTimers.fire(row)]);
    t.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled']);
    t.is((await startedBy('raced')).length, 1);
    const [after] = await startTimers('raced');
    t.like(after, { attempts: 0, last_error: null });
    t.is(new Date(after.due_at).getTime(), new Date(row.due_at).getTime() + HOUR);
  });

  test.serial(t('a start timer whose due time was written in SQL (with microseconds) fires and moves on'), async (t) => {
    const { deployment } = await deployTimer('sql-due', cycleXml('R/PT1H'), 'v1');
    t.teardown(() => s.services.deployments.remove(deployment.id, true, adminPrincipal));
    // As an operator (or the three-server test) makes it due: now() has microseconds; a JS Date has milliseconds.
    await s.db('start_timers').where({ definition_key: 'sql-due' }).update({ due_at: s.db.raw(`now() - interval '1.234567 seconds'`) });
    clock.set(new Date());
    await s.scheduler.runDue();
    t.is((await startedBy('sql-due')).length, 1);
    const [after] = await startTimers('sql-due');
    t.true(new Date(after.due_at) > (await clock.now()), 'moved on to its next occurrence');
    t.like(after, { attempts: 0, last_error: null });
  });

  test.serial(t('a monthly start cycle from 31 January fires on the last day of each shorter month and returns to the 31st'), async (t) => {
    const saved = await clock.now();
    const { deployment } = await s.services.deployments.deploy(oneResource('month-end.bpmn',
      timerStartProcess('month-end', '<bpmn:timeCycle xsi:type="bpmn:tFormalExpression">R/2027-01-31T09:00:00+08:00/P1M</bpmn:timeCycle>')));
    t.teardown(async () => {
      await s.services.deployments.remove(deployment.id, true, adminPrincipal);
      clock.set(saved);
    });
    const due = async () => new Date((await startTimers('month-end'))[0].due_at).toISOString();
    const fired: string[] = [];
    for (let i = 0; i < 4; i++) {
      fired.push(await due());
      clock.set(new Date(await due()));
      await s.scheduler.runDue();
      t.is(await instances('month-end'), i + 1);
    }
    // 09:00 in Shanghai is 01:00Z.
    t.deepEqual(fired, ['2027-01-31T01:00:00.000Z', '2027-02-28T01:00:00.000Z', '2027-03-31T01:00:00.000Z', '2027-04-30T01:00:00.000Z']);
    t.is(await due(), '2027-05-31T01:00:00.000Z');
  });

  test.serial(t('a one-second cycle that began in 2020 is deployed at once, fires once after downtime, and goes on from now'), async (t) => {
    const saved = await clock.now();
    clock.set(new Date('2026-12-10T00:00:00.400Z'));
    const began = performance.now();
    const { deployment } = await s.services.deployments.deploy(oneResource('every-second.bpmn',
      timerStartProcess('every-second', '<bpmn:timeCycle xsi:type="bpmn:tFormalExpression">R/2020-01-01T00:00:00Z/PT1S</bpmn:timeCycle>')));
    t.teardown(async () => {
      await s.services.deployments.remove(deployment.id, true, adminPrincipal);
      clock.set(saved);
    });
    // Stepping through 220 million missed seconds took about a minute and returned a date in 2020.
    t.true(performance.now() - began < 10_000, 'deployed without stepping through every second since 2020');
    t.is(new Date((await startTimers('every-second'))[0].due_at).toISOString(), '2026-12-10T00:00:01.000Z');
    // Three days down: one firing, not 259 200.
    clock.set(new Date('2026-12-13T00:00:00.400Z'));
    await s.scheduler.runDue();
    t.is(await instances('every-second'), 1);
    t.is(new Date((await startTimers('every-second'))[0].due_at).toISOString(), '2026-12-13T00:00:01.000Z', 'the next second after now');
    clock.advance(600);
    await s.scheduler.runDue();
    t.is(await instances('every-second'), 2, 'and then once a second');
  });

  test.serial(t('a start timer that cannot be scheduled is refused at deployment'), async (t) => {
    const bad = Buffer.from(fixture('patrol-daily.bpmn').toString().replace('0 0 2 * * ?', 'every night').replaceAll('patrol-daily', 'patrol-bad'));
    const err = await t.throwsAsync(s.services.deployments.deploy(oneResource('patrol-bad.bpmn', bad)), { instanceOf: ParseError });
    t.regex(err.message, /every night/);
    t.deepEqual(await startTimers('patrol-bad'), []);
    // Cron belongs to start events: on a boundary timer the engine could not arm it.
    const cronBoundary = Buffer.from(fixture('expression-deadline.bpmn').toString().replace('${reportWindow}', '0 0 9 * * ?').replace('timeDuration', 'timeCycle').replace('</bpmn:timeDuration>', '</bpmn:timeCycle>'));
    const refused = await t.throwsAsync(s.services.deployments.deploy(oneResource('cron-boundary.bpmn', cronBoundary)), { instanceOf: ParseError });
    t.regex(refused.message, /cron/);
    t.regex(refused.message, /element late/);
  });
}

/** A one-task process `key` whose start event has the timer `definition` (e.g. `<bpmn:timeCycle …>…</bpmn:timeCycle>`). */
export function timerStartProcess(key: string, definition: string, label = '巡检记录'): Buffer {
  return Buffer.from(fixture('patrol-daily.bpmn').toString().replaceAll('patrol-daily', key)
    .replace('<bpmn:timeCycle xsi:type="bpmn:tFormalExpression">0 0 2 * * ?</bpmn:timeCycle>', definition)
    .replace('巡检记录', label));
}
