import test from 'ava';
import { ManualClock } from '../../src/clock.ts';
import { backends } from '../helpers/db.ts';
import { client, makeUser, NO_PROCESSES, startTestServer, type TestServer } from '../helpers/server.ts';

for (const backend of backends) {
  const clock = new ManualClock(new Date('2026-12-01T01:00:00Z'));
  let s!: TestServer;
  test.before(async () => {
    s = await startTestServer(backend, NO_PROCESSES, { clock, runScheduler: false });
  });
  test.after.always(async () => s?.stop());
  const t = (title: string) => `${backend.name}: ${title}`;

  test.serial(t('five wrong passwords lock the user name with a growing backoff; the right one is refused while locked'), async (t) => {
    await makeUser(s, 'guessed', ['office']);
    const wrong = client(s.url, 'guessed', 'not-the-password');
    const right = client(s.url, 'guessed', 'guessed-password');
    for (let i = 0; i < 5; i++) t.is((await wrong.get('/engine-rest/task')).status, 401);
    const locked = await right.get('/engine-rest/task');
    t.is(locked.status, 429, 'locked, even with the right password');
    t.is(locked.headers.get('retry-after'), '30');
    t.regex(locked.body.message, /登录失败次数过多.*too many failed logins/);
    clock.advance(29_000);
    t.is((await right.get('/engine-rest/task')).status, 429);
    clock.advance(1000);
    // One more failure after the lock doubles it.
    t.is((await wrong.get('/engine-rest/task')).status, 401);
    t.is((await right.get('/engine-rest/task')).headers.get('retry-after'), '60');
    clock.advance(60_000);
    t.is((await right.get('/engine-rest/task')).status, 200, 'the lock passed');
    // The right password ended the streak: four new failures do not lock again.
    for (let i = 0; i < 4; i++) t.is((await wrong.get('/engine-rest/task')).status, 401);
    clock.advance(60_000);
    t.is((await client(s.url, 'guessed', 'guessed-password-x').get('/engine-rest/task')).status, 401, 'wrong, not locked');
  });

  test.serial(t('failures from one address across many user names lock that address; a streak is forgotten after 15 minutes'), async (t) => {
    clock.advance(3600_000);
    await makeUser(s, 'bystander', ['office']);
    for (let i = 0; i < 19; i++) t.is((await client(s.url, `nobody-${i}`, 'x').get('/engine-rest/task')).status, 401);
    clock.advance(16 * 60_000);
    // The streak of 19 was forgotten; 19 more are still below the limit of 20.
    for (let i = 0; i < 19; i++) t.is((await client(s.url, `nobody-${i}`, 'x').get('/engine-rest/task')).status, 401);
    t.is((await client(s.url, 'someone', 'x').get('/engine-rest/task')).status, 401, 'the 20th failure');
    const r = await client(s.url, 'bystander', 'bystander-password').get('/engine-rest/task');
    t.is(r.status, 429, 'the address is locked for every user name');
    clock.advance(30_000);
    t.is((await client(s.url, 'bystander', 'bystander-password').get('/engine-rest/task')).status, 200);
  });
}
