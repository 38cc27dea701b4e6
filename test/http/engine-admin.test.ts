import fs from 'node:fs';
import test from 'ava';
import { ManualClock } from '../../src/clock.ts';
import { backends } from '../helpers/db.ts';
import { adminPrincipal } from '../helpers/fixtures.ts';
import { repoRoot, type Client, type TestServer } from '../helpers/server.ts';
import { startTimerServer } from '../helpers/timer-server.ts';

/*
 * Issue 18 item 7, the engine's administrative reads: the schema log (our
 * migrations), the start timers as job definitions, and Camunda's engine
 * metrics counted from history. Administrators only.
 */

for (const backend of backends) {
  const clock = new ManualClock(new Date('2026-12-01T01:00:00Z'));
  let s!: TestServer;
  let admin!: Client;
  let office!: Client;
  test.before(async () => {
    ({ s, admin, office } = await startTimerServer(backend, clock, 'zhou-office', [['m-wait', 'intermediate', 'timeDuration', 'PT1H'], ['m-tick', 'start', 'timeCycle', 'R/PT1H']]));
  });
  test.after.always(async () => s?.stop());
  const t = (title: string) => `${backend.name}: ${title}`;

  test.serial(t('the schema log lists every migration applied, by version, sorted and paged as Camunda does'), async (t) => {
    const files = fs.readdirSync(`${repoRoot}/migrations`).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, '')).sort();
    t.is((await office.get('/engine-rest/schema/log')).status, 403);
    const all = await admin.get('/engine-rest/schema/log');
    t.is(all.status, 200);
    t.deepEqual(all.body.map((e: { version: string }) => e.version).sort(), files);
    for (const e of all.body) t.regex(e.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}$/);
    const one = await admin.get('/engine-rest/schema/log?version=20261207000040_job_suspension');
    t.deepEqual(one.body.map((e: { version: string }) => e.version), ['20261207000040_job_suspension']);
    t.is(typeof one.body[0].id, 'string');
    const byBody = await admin.post('/engine-rest/schema/log?maxResults=2', { sorting: [{ sortBy: 'timestamp', sortOrder: 'desc' }] });
    t.is(byBody.status, 200);
    t.is(byBody.body.length, 2);
    t.true(byBody.body[0].timestamp >= byBody.body[1].timestamp);
    t.is((await admin.post('/engine-rest/schema/log', { sorting: [{ sortBy: 'name', sortOrder: 'asc' }] })).status, 400);
    t.is((await admin.post('/engine-rest/schema/log', { versions: 'x' })).status, 400, 'an unknown criterion is refused');
  });

  test.serial(t('job definitions: one by id and the count, as the list has them'), async (t) => {
    const list = (await admin.get('/engine-rest/job-definition?processDefinitionKey=m-tick')).body;
    t.is(list.length, 1);
    t.like((await admin.get(`/engine-rest/job-definition/${encodeURIComponent(list[0].id)}`)).body, { id: list[0].id, activityId: 'tick', jobType: 'timer-start-event' });
    t.is((await admin.get('/engine-rest/job-definition/no-such')).status, 404);
    t.is((await admin.get('/engine-rest/job-definition/count?processDefinitionKey=m-tick')).body.count, 1);
    t.is((await admin.post('/engine-rest/job-definition/count', { processDefinitionKey: 'm-none' })).body.count, 0);
    t.is((await admin.get('/engine-rest/job-definition/count')).body.count, (await admin.get('/engine-rest/job-definition')).body.length);
    t.is((await office.get('/engine-rest/job-definition/count')).status, 403);
  });

  test.serial(t('engine metrics count what history recorded; names not recorded are refused by name'), async (t) => {
    const sum = async (name: string, query = '') => {
      const r = await admin.get(`/engine-rest/metrics/${name}/sum${query}`);
      t.is(r.status, 200, JSON.stringify(r.body));
      return r.body.result as number;
    };
    const before = { start: await sum('activity-instance-start'), end: await sum('activity-instance-end'), root: await sum('root-process-instance-start') };
    for (let i = 0; i < 3; i++) await s.services.instances.startByKey('m-wait', { variables: {} }, adminPrincipal);
    // Each instance: its start event started and ended, its timer started and waiting.
    t.is(await sum('activity-instance-start'), before.start + 6);
    t.is(await sum('activity-instance-end'), before.end + 3);
    t.is(await sum('root-process-instance-start'), before.root + 3);
    t.is(await sum('root-process-instance-start', '?startDate=2999-01-01T00:00:00.000%2B0000'), 0, 'nothing yet to come');
    t.is(await sum('root-process-instance-start', '?endDate=2000-01-01T00:00:00.000%2B0000'), 0, 'nothing so long ago');

    const refused = await admin.get('/engine-rest/metrics/job-failed/sum');
    t.is(refused.status, 400);
    t.regex(refused.body.message, /job-failed/);
    t.is((await admin.get('/engine-rest/metrics/activity-instance-start/sum?startDate=yesterday')).status, 400);
    t.is((await office.get('/engine-rest/metrics/activity-instance-start/sum')).status, 403);

    const intervals = await admin.get('/engine-rest/metrics?name=root-process-instance-start&interval=60');
    t.is(intervals.status, 200);
    t.is(intervals.body.reduce((n: number, r: { value: number }) => n + r.value, 0), await sum('root-process-instance-start'));
    for (const r of intervals.body) t.like(r, { name: 'root-process-instance-start', reporter: null });
    const stamps = intervals.body.map((r: { timestamp: string }) => Date.parse(r.timestamp.replace(/(\d\d)(\d\d)$/, '$1:$2')));
    t.deepEqual(stamps, [...stamps].sort((a, b) => b - a), 'the latest first');
    for (const ms of stamps) t.is(ms % 60_000, 0, 'aligned to the interval');
    const every = await admin.get('/engine-rest/metrics?maxResults=200');
    t.true(every.body.some((r: { name: string }) => r.name === 'activity-instance-end'));
    t.is((await admin.get('/engine-rest/metrics?maxResults=201')).status, 400);
    t.is((await admin.get('/engine-rest/metrics?reporter=host-1')).status, 400);
    t.is((await admin.get('/engine-rest/metrics?name=unique-task-workers')).status, 400);
  });
}
