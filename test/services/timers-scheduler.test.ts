import test from 'ava';
import pino from 'pino';
import { makeTimerScheduler, shares, type DueSource } from '../../src/scheduler/timers.ts';
import { TIMERS_TOPIC } from '../../src/services/persist-runs.ts';
import type { TopicNotifier } from '../../src/store/notify.ts';

/*
 * The scheduler loop itself, on sources and a notifier made up for the
 * purpose (no database): what it claims in which order, how it survives
 * errors, and what wakes it.
 */
const log = pino({ level: 'silent' });

/** A source of `n` due rows named `${name}-i`, claimed `limit` at a time, recording what fired. */
function source(name: string, n: number, fired: string[], overrides: Partial<DueSource<{ id: string }>> = {}): DueSource<{ id: string }> {
  const due = Array.from({ length: n }, (_, i) => ({ id: `${name}-${i}` }));
  return {
    async claimDue(_owner, limit) {
      return due.splice(0, limit);
    },
    async fire(row) {
      fired.push(row.id);
    },
    async fail() {},
    async msUntilNext() {
      return due.length ? 0 : undefined;
    },
    ...overrides,
  };
}

/** A notifier whose announcements the test makes by hand. */
function notifier(): TopicNotifier & { announceNow(topic: string): void; waits: number; timedOut: number } {
  const waiters = new Set<{ topics: string[]; resolve: () => void }>();
  const n = {
    waits: 0,
    /** Waits that ended by running out their time, not by an announcement or an abort. */
    timedOut: 0,
    listening: true,
    async start() {},
    async stop() {},
    async announce() {},
    announceNow(topic: string) {
      for (const w of [...waiters]) if (w.topics.includes(topic)) w.resolve();
    },
    waitFor(topics: string[], timeoutMs: number, abort?: AbortSignal) {
      n.waits++;
      return new Promise<void>((resolve) => {
        const w = { topics, resolve: () => { clearTimeout(timer); waiters.delete(w); resolve(); } };
        const timer = setTimeout(() => {
          n.timedOut++;
          w.resolve();
        }, timeoutMs);
        waiters.add(w);
        abort?.addEventListener('abort', w.resolve, { once: true });
      });
    },
  };
  return n as unknown as TopicNotifier & { announceNow(topic: string): void; waits: number; timedOut: number };
}

test('the sources take turns a batch at a time: a start timer due now does not wait behind thousands of instance timers', async (t) => {
  const fired: string[] = [];
  const scheduler = makeTimerScheduler([source('timer', 1000, fired), source('start', 1, fired)], notifier(), log, { batch: 20, concurrency: 1 });
  t.is(await scheduler.runDue(), 1001);
  const at = fired.indexOf('start-0');
  t.true(at >= 0 && at <= 20, `the start timer fired as the ${at + 1}th, after one batch of instance timers`);
});

test('a failing firing is recorded and the round goes on', async (t) => {
  const fired: string[] = [];
  const failed: string[] = [];
  const flaky = source('timer', 3, fired, {
    async fire(row) {
      if (row.id === 'timer-1') throw new Error('engine says no');
      fired.push(row.id);
    },
    async fail(row, err) {
      failed.push(`${row.id}: ${(err as Error).message}`);
    },
  });
  t.is(await makeTimerScheduler([flaky], notifier(), log).runDue(), 2);
  t.deepEqual(fired, ['timer-0', 'timer-2']);
  t.deepEqual(failed, ['timer-1: engine says no']);
});

test('the loop survives a round that throws (the database away), backs off and goes on', async (t) => {
  const fired: string[] = [];
  let outages = 2;
  const rows = source('timer', 1, fired);
  const flaky: DueSource<{ id: string }> = {
    ...rows,
    async claimDue(owner, limit, lockMs) {
      if (outages-- > 0) throw new Error('connection refused');
      return rows.claimDue(owner, limit, lockMs);
    },
  };
  // Back-off sleeps are capped by maxIdleMs: short here, so the test waits milliseconds.
  const scheduler = makeTimerScheduler([flaky], notifier(), log, { maxIdleMs: 5 });
  scheduler.start();
  for (let i = 0; i < 200 && !fired.length; i++) await new Promise((r) => setTimeout(r, 5));
  await scheduler.stop();
  t.deepEqual(fired, ['timer-0'], 'fired once the outage was over');
});

test('a sleeping loop wakes when a timer is announced, not at the end of its idle sleep', async (t) => {
  const fired: string[] = [];
  const due: { id: string }[] = [];
  const later: DueSource<{ id: string }> = {
    async claimDue() {
      return due.splice(0);
    },
    async fire(row) {
      fired.push(row.id);
    },
    async fail() {},
    async msUntilNext() {
      return undefined; // nothing armed: sleep the longest
    },
  };
  const n = notifier();
  const scheduler = makeTimerScheduler([later], n, log, { maxIdleMs: 60_000 });
  scheduler.start();
  t.teardown(() => scheduler.stop());
  while (n.waits < 1) await new Promise((r) => setImmediate(r));
  due.push({ id: 'armed-now' });
  n.announceNow(TIMERS_TOPIC);
  while (n.waits < 2) await new Promise((r) => setImmediate(r));
  t.deepEqual(fired, ['armed-now']);
  t.is(n.timedOut, 0, 'woken by the announcement, not by the end of its 60 s idle sleep');
});

test('claimed rows are dealt to lanes evenly, and the rows of one instance always share a lane', (t) => {
  const rows = ['a', 'b', 'a', 'c', 'd', 'b', 'e'].map((instance, i) => ({ id: `t${i}`, instance }));
  const lanes = shares(rows, 2, (r) => r.instance);
  t.deepEqual(lanes.map((l) => l.map((r) => r.id)), [['t0', 't2', 't3', 't6'], ['t1', 't4', 't5']]);
  for (const instance of ['a', 'b']) t.is(lanes.filter((l) => l.some((r) => r.instance === instance)).length, 1, `${instance} in one lane`);
  t.deepEqual(shares(rows.slice(0, 1), 4).map((l) => l.length), [1], 'never an empty lane');
  t.deepEqual(shares(rows, 3).map((l) => l.length), [3, 2, 2], 'without a key, row by row');
});
