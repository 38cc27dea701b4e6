import test from 'ava';
import type { Knex } from 'knex';
import { makeTopicNotifier } from '../../src/store/notify.ts';

// The embedded notifier: no database connection is opened.
const embedded = { client: { config: { client: 'pglite' } } } as unknown as Knex;

test('a wait whose abort signal fired before it began returns at once, not after its timeout', async (t) => {
  const notifier = makeTopicNotifier(embedded);
  const abort = new AbortController();
  abort.abort();
  let done = false;
  void notifier.waitFor(['timers'], 60_000, abort.signal).then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  t.true(done, 'a stop during a scheduler round would otherwise wait the whole idle time');
});
