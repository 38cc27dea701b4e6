import test from 'ava';
import { ManualClock } from '../../src/clock.ts';
import { kdfRunCount } from '../../src/services/passwords.ts';
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
    // Refused attempts are counted, not traced one row each: one row for the lock, the count in login_failures.
    t.is(await traced('raced', 'LoginLocked'), 1);
    t.is((await s.db('login_failures').where({ key: 'user:raced' }).first()).refused, r.locked + 1);
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

  test.serial(t('the lock doubles from 30 s up to the hour, and stays at the hour for failures after each lock is waited out'), async (t) => {
    clock.advance(3 * 3600_000);
    await makeUser(s, 'patient', ['office']);
    const wrong = client(s.url, 'patient', 'not-the-password');
    const right = client(s.url, 'patient', 'patient-password');
    for (let i = 0; i < 5; i++) t.is((await wrong.get('/engine-rest/task')).status, 401);
    // Each wait is the whole lock; then one more wrong password. A streak used to be forgotten 15 minutes after
    // its last failure, so from the 960 s lock on, waiting it out started a fresh streak with five free guesses.
    for (const seconds of [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]) {
      const locked = await right.get('/engine-rest/task');
      t.is(locked.status, 429, `locked for ${seconds} s`);
      t.is(locked.headers.get('retry-after'), String(seconds));
      clock.advance(seconds * 1000 - 1000);
      t.is((await right.get('/engine-rest/task')).status, 429, 'still locked a second before the end');
      clock.advance(1000);
      t.is((await wrong.get('/engine-rest/task')).status, 401, `the lock of ${seconds} s has ended`);
    }
    // The streak is remembered for 15 minutes after its lock ends.
    clock.advance(3600_000 + 14 * 60_000);
    t.is((await wrong.get('/engine-rest/task')).status, 401);
    t.is((await right.get('/engine-rest/task')).headers.get('retry-after'), '3600', 'still the hour, 14 minutes after the lock');
    // ... and forgotten 15 minutes after it.
    clock.advance(3600_000 + 16 * 60_000);
    t.is((await wrong.get('/engine-rest/task')).status, 401);
    t.is((await right.get('/engine-rest/task')).status, 200, 'a fresh streak: one failure does not lock');
  });

  test.serial(t('a hundred attempts against a locked name leave one LoginLocked row; their count is traced once the lock ends'), async (t) => {
    clock.advance(3 * 3600_000);
    await makeUser(s, 'hammered', ['office']);
    for (let i = 0; i < 5; i++) t.is((await client(s.url, 'hammered', `wrong-${i}`).get('/engine-rest/task')).status, 401);
    const r = await burst(100, (i) => ['hammered', i % 10 ? `guess-${i}` : 'hammered-password']);
    t.deepEqual(r, { wrong: 0, locked: 100, other: [] });
    const locked = async () => s.db('trace').where({ user_id: 'hammered', operation: 'LoginLocked' }).orderBy('id');
    t.is((await locked()).length, 1, 'one row for the lock, not one per refused attempt');
    t.like((await locked())[0], { entity_type: 'User', entity_id: 'hammered', source: '127.0.0.1' });
    t.is((await s.db('login_failures').where({ key: 'user:hammered' }).first()).refused, 100);
    clock.advance(30_000);
    t.is((await client(s.url, 'hammered', 'hammered-password').get('/engine-rest/task')).status, 200);
    const rows = await locked();
    t.is(rows.length, 2, 'the count, in one row after the lock');
    t.like(rows[1].details, { locked: 'user', key: 'user:hammered', refusedWhileLocked: 100 });
    t.is(await traced('hammered', 'LoginFailure'), 5);
    const report = await s.services.trace.verify();
    t.true(report.ok, JSON.stringify(report.broken));
  });

  test.serial(t('a password for an unknown user name runs the KDF as for a known one, and is never remembered'), async (t) => {
    clock.advance(3 * 3600_000);
    await makeUser(s, 'known', ['office']);
    const runs = async (call: () => Promise<{ status: number }>, status: number) => {
      const before = kdfRunCount();
      t.is((await call()).status, status);
      return kdfRunCount() - before;
    };
    t.is(await runs(() => client(s.url, 'known', 'wrong-password-1').get('/engine-rest/task'), 401), 1, 'a known name, a wrong password');
    t.is(await runs(() => client(s.url, 'no-such-user', 'wrong-password-1').get('/engine-rest/task'), 401), 1, 'an unknown name costs the same');
    t.is(await runs(() => client(s.url, 'no-such-user', 'wrong-password-1').get('/engine-rest/task'), 401), 1, 'and again: an unknown name is never cached');
    t.is(await runs(() => client(s.url, 'known', 'known-password').get('/engine-rest/task'), 200), 1);
    t.is(await runs(() => client(s.url, 'known', 'known-password').get('/engine-rest/task'), 200), 0, 'a right password is remembered for a minute');
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
