import { EventEmitter } from 'node:events';
import type { Knex } from 'knex';
import pg from 'pg';
import { isEmbedded, type Db } from './db.ts';

const CHANNEL = 'bpmn_external_tasks';

/**
 * Tells long-polling workers that tasks of a topic appeared. On PostgreSQL
 * it is LISTEN/NOTIFY: the notification is sent in the transaction that
 * created the tasks, so it arrives only if that commits, and every server
 * process hears it. On the embedded database (one process) an in-process
 * event fires once the transaction has committed.
 */
export function makeTopicNotifier(db: Knex) {
  // The same server the pool talks to; undefined on the embedded database.
  const connection = isEmbedded(db) ? undefined : (db.client.config.connection as string | pg.ClientConfig);
  const databaseUrl = connection;
  const events = new EventEmitter();
  events.setMaxListeners(0);
  let listener: pg.Client | undefined;

  return {
    async start(): Promise<void> {
      if (!databaseUrl) return;
      listener = new pg.Client(typeof connection === 'string' ? { connectionString: connection } : connection);
      // A dropped listener connection only delays long polls until their timeout; log-and-go-on is the caller's.
      listener.on('error', () => undefined);
      listener.on('notification', (n) => {
        for (const topic of (n.payload ?? '').split('\n')) events.emit('topic', topic);
      });
      await listener.connect();
      await listener.query(`listen ${CHANNEL}`);
    },

    /** Announces `topics` when `trx` commits. */
    async announce(trx: Db, topics: string[]): Promise<void> {
      const unique = [...new Set(topics)];
      if (!unique.length) return;
      if (databaseUrl) {
        await trx.raw('select pg_notify(?, ?)', [CHANNEL, unique.join('\n')]);
        return;
      }
      const done = (trx as Knex.Transaction).executionPromise;
      if (done) done.then(() => unique.forEach((t) => events.emit('topic', t)), () => undefined);
      else unique.forEach((t) => events.emit('topic', t));
    },

    /** Resolves when one of `topics` is announced, after `timeoutMs`, or when `abort` fires. */
    waitFor(topics: string[], timeoutMs: number, abort?: AbortSignal): Promise<void> {
      return new Promise((resolve) => {
        const wanted = new Set(topics);
        const finish = () => {
          clearTimeout(timer);
          events.off('topic', onTopic);
          abort?.removeEventListener('abort', finish);
          resolve();
        };
        const onTopic = (topic: string) => {
          if (wanted.has(topic)) finish();
        };
        const timer = setTimeout(finish, Math.max(0, timeoutMs));
        events.on('topic', onTopic);
        abort?.addEventListener('abort', finish, { once: true });
      });
    },

    async stop(): Promise<void> {
      await listener?.end().catch(() => undefined);
    },
  };
}

export type TopicNotifier = ReturnType<typeof makeTopicNotifier>;
