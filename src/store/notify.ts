import { EventEmitter } from 'node:events';
import type { Knex } from 'knex';
import pg from 'pg';
import type { Logger } from 'pino';
import { isEmbedded, type Db } from './db.ts';

const CHANNEL = 'bpmn_external_tasks';

/** While the LISTEN connection is down, no wait lasts longer than this: waiters poll instead. */
export const FALLBACK_POLL_MS = 1000;
/** Longest pause between attempts to re-establish the LISTEN connection. */
const MAX_RECONNECT_MS = 30_000;

/**
 * Tells long-polling workers that tasks of a topic appeared, and schedulers
 * that a timer was armed. On PostgreSQL it is LISTEN/NOTIFY: the
 * notification is sent in the transaction that created the tasks, so it
 * arrives only if that commits, and every server process hears it. On the
 * embedded database (one process) an in-process event fires once the
 * transaction has committed.
 *
 * The LISTEN connection can drop (a restarted or failed-over database, an
 * idle-connection killer). Then it is re-established with backoff, every
 * waiter is woken to look again (what was announced meanwhile was not
 * heard), and until it is back every wait is cut to FALLBACK_POLL_MS, so
 * schedulers and long polls poll rather than sleep through new work.
 */
export function makeTopicNotifier(db: Knex) {
  // The same server the pool talks to; undefined on the embedded database.
  const connection = isEmbedded(db) ? undefined : (db.client.config.connection as string | pg.ClientConfig);
  const events = new EventEmitter();
  events.setMaxListeners(0);
  let listener: pg.Client | undefined;
  let stopped = false;
  let log: Logger | undefined;
  let retry: { timer: NodeJS.Timeout; resolve: () => void } | undefined;
  /** Whether announcements from other processes are heard now (always, on the embedded database). */
  const listening = () => !connection || listener !== undefined;

  async function listen(): Promise<void> {
    const client = new pg.Client(typeof connection === 'string' ? { connectionString: connection } : connection);
    client.on('error', (err) => dropped(client, err));
    client.on('end', () => dropped(client));
    client.on('notification', (n) => {
      for (const topic of (n.payload ?? '').split('\n')) events.emit('topic', topic);
    });
    try {
      await client.connect();
      await client.query(`listen ${CHANNEL}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    if (stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    listener = client;
  }

  /** The LISTEN connection ended or failed: wake everyone (they poll until it is back) and reconnect. */
  function dropped(client: pg.Client, err?: Error): void {
    if (client !== listener) return; // a client never established, or already handled ('error' then 'end')
    listener = undefined;
    client.end().catch(() => undefined);
    if (stopped) return;
    log?.warn({ err }, 'LISTEN 连接断开，正在重连；期间轮询 / LISTEN connection lost; reconnecting, polling meanwhile');
    events.emit('wake');
    void reconnect();
  }

  async function reconnect(): Promise<void> {
    for (let attempt = 0; !stopped; attempt++) {
      await new Promise<void>((resolve) => {
        retry = { timer: setTimeout(resolve, Math.min(MAX_RECONNECT_MS, 100 * 2 ** attempt)), resolve };
      });
      retry = undefined;
      if (stopped) return;
      try {
        await listen();
        log?.info('LISTEN 连接已恢复 / LISTEN connection re-established');
        // Announcements made while it was down were not heard: look again now.
        events.emit('wake');
        return;
      } catch (err) {
        log?.warn({ err, attempt }, 'LISTEN 重连失败，稍后重试 / LISTEN reconnect failed; retrying');
      }
    }
  }

  return {
    /** Opens the LISTEN connection (PostgreSQL); `logger` hears about drops and reconnections. */
    async start(logger?: Logger): Promise<void> {
      log = logger;
      stopped = false;
      if (connection) await listen();
    },

    get listening(): boolean {
      return listening();
    },

    /** Announces `topics` when `trx` commits. */
    async announce(trx: Db, topics: string[]): Promise<void> {
      const unique = [...new Set(topics)];
      if (!unique.length) return;
      if (connection) {
        await trx.raw('select pg_notify(?, ?)', [CHANNEL, unique.join('\n')]);
        return;
      }
      const done = (trx as Knex.Transaction).executionPromise;
      if (done) done.then(() => unique.forEach((t) => events.emit('topic', t)), () => undefined);
      else unique.forEach((t) => events.emit('topic', t));
    },

    /**
     * Resolves when one of `topics` is announced, after `timeoutMs`, when
     * `abort` fires, or when the LISTEN connection drops or comes back.
     * While it is down the wait is at most FALLBACK_POLL_MS.
     */
    waitFor(topics: string[], timeoutMs: number, abort?: AbortSignal): Promise<void> {
      return new Promise((resolve) => {
        // Already fired (a scheduler stopped during its round): its event will not come again.
        if (abort?.aborted) return resolve();
        const wanted = new Set(topics);
        const finish = () => {
          clearTimeout(timer);
          events.off('topic', onTopic);
          events.off('wake', finish);
          abort?.removeEventListener('abort', finish);
          resolve();
        };
        const onTopic = (topic: string) => {
          if (wanted.has(topic)) finish();
        };
        const timer = setTimeout(finish, Math.max(0, listening() ? timeoutMs : Math.min(timeoutMs, FALLBACK_POLL_MS)));
        events.on('topic', onTopic);
        events.on('wake', finish);
        abort?.addEventListener('abort', finish, { once: true });
      });
    },

    async stop(): Promise<void> {
      stopped = true;
      if (retry) {
        clearTimeout(retry.timer);
        retry.resolve();
      }
      const client = listener;
      listener = undefined;
      await client?.end().catch(() => undefined);
    },
  };
}

export type TopicNotifier = ReturnType<typeof makeTopicNotifier>;
