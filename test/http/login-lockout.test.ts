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

  /** Sends `n` wrong logins at once; answers counted by status. */
  const burst = async (n: number, who: (i: number) => [string, string]) => {
    const replies = await Promise.all(Array.from({ length: n }, (_, i) => client(s.url, ...who(i)).get('/engine-rest/task')));
    const by = (status: number) => replies.filter((r) => r.status === status).length;
    return { wrong: by(401), locked: by(429), other: replies.filter((r) => r.status !== 401 && r.status !== 429).map((r) => r.status) };
  };
  const traced = async (userId: string, operation: string) => Number((await s.db('trace').where({ user_id: userId, operation }).count({ n: '*' }))[0].n);

  test.serial(t('forty different wrong passwords at once for one user get at most five password checks; the rest are refused as locked'), async (t) => {
    clock.advance(3 * 3600_000);
    await makeUser(s, 'raced', ['office']);
    const r = await burst(40, (i) => ['raced', `wrong-guess-${i}`]);
    t.deepEqual(r.other, []);
    t.true(r.wrong >= 1 && r.wrong <= 5, `${r.wrong} answered 401, the limit is 5`);
    t.is(r.wrong + r.locked, 40);
    t.is((await client(s.url, 'raced', 'raced-password').get('/engine-rest/task')).status, 429, 'locked after the burst');
    t.is(await traced('raced', 'LoginFailure'), r.wrong);
    t.is(await traced('raced', 'LoginLocked'), r.locked + 1);
  });

  test.serial(t('the same wrong password forty times at once is one password check, yet forty attempts: at most five answered 401'), async (t) => {
    clock.advance(3 * 3600_000);
    await makeUser(s, 'repeated', ['office']);
    const r = await burst(40, () => ['repeated', 'the-same-wrong-guess']);
    t.deepEqual(r.other, []);
    t.true(r.wrong >= 1 && r.wrong <= 5, `${r.wrong} answered 401, the limit is 5`);
    t.is(r.wrong + r.locked, 40);
  });

  test.serial(t('forty user names at once from one address get at most twenty password checks'), async (t) => {
    clock.advance(3 * 3600_000);
    const r = await burst(40, (i) => [`spray-${i}`, 'spray-guess-1']);
    t.deepEqual(r.other, []);
    t.true(r.wrong >= 1 && r.wrong <= 20, `${r.wrong} answered 401, the limit per address is 20`);
    t.is(r.wrong + r.locked, 40);
  });

  test.serial(t('right passwords at once all succeed and leave no count behind on the address'), async (t) => {
    clock.advance(3 * 3600_000);
    // The spray before left this address locked; start it clean, so what is left below is this test's.
    await s.db('login_failures').where({ key: 'addr:127.0.0.1' }).delete();
    await makeUser(s, 'busy', ['office']);
    const replies = await Promise.all(Array.from({ length: 12 }, () => client(s.url, 'busy', 'busy-password').get('/engine-rest/task')));
    t.deepEqual(replies.map((r) => r.status), Array(12).fill(200));
    t.falsy(await s.db('login_failures').where({ key: 'user:busy' }).first());
    // Each right password takes its attempt back from the address; an address whose failures are all
    // taken back, and that is not locked, is forgotten rather than kept for ever.
    t.falsy(await s.db('login_failures').where({ key: 'addr:127.0.0.1' }).first());
  });
}
