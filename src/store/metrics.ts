import type { Db } from './db.ts';

/**
 * The business state `/metrics` reports, read from the database at scrape
 * time: several server processes share one database, so only the database
 * can say how many instances run or tasks wait, whichever process answers.
 * Each query is one grouped read over an index (or a partial one); the
 * service caches the whole snapshot for a few seconds.
 */
export interface MetricsSnapshot {
  /** Instances per definition key and state (ACTIVE, COMPLETED, EXTERNALLY_/INTERNALLY_TERMINATED). */
  instances: { key: string; state: string; count: number }[];
  /** Open user tasks per candidate group; `''` for tasks offered to no group. */
  openTasks: { group: string; count: number }[];
  /** Timers a scheduler may fire that are due at `now`, and the oldest one's due time. */
  dueTimers: { kind: 'timer' | 'start_timer'; count: number; oldest: Date | null }[];
  /** Open external tasks per topic: locked by a worker, waiting for one, or out of retries (with an incident). */
  externalTasks: { topic: string; locked: number; waiting: number; failed: number }[];
  /** Notification mail not yet sent (`pending`) or given up on (`failed`); thrown BPMN messages not yet delivered. */
  outbox: { notificationsPending: number; notificationsFailed: number; messagesPending: number };
  /** Open incidents per type. */
  incidents: { type: string; count: number }[];
  /** The newest trace row's id (ids are never reused; see docs/operations.md). */
  traceLastId: number;
}

const rowsOf = (result: { rows?: unknown[] } | unknown[]): any[] => ((result as { rows?: unknown[] }).rows ?? (result as unknown[]));
const num = (v: unknown): number => Number(v ?? 0);

/** Reads the whole snapshot; `now` is the server's clock (the database's, or a test's). */
export async function readMetricsSnapshot(db: Db, now: Date): Promise<MetricsSnapshot> {
  // One after another: PGlite has a single connection, and PostgreSQL gains little from a scrape running six at once.
  const instances = rowsOf(await db.raw(`select definition_key as key, state, count(*) as count
    from process_instances group by definition_key, state`));
  const openTasks = rowsOf(await db.raw(`select coalesce(g, '') as "group", count(*) as count
    from tasks left join lateral unnest(candidate_groups) g on true
    where end_time is null group by 1`));
  const dueTimers = rowsOf(await db.raw(`
    select 'timer' as kind, count(*) as count, min(due_at) as oldest from timers t
      where due_at <= ? and retries > 0
        and not exists (select 1 from process_instances p where p.id = t.process_instance_id and p.suspended)
    union all
    select 'start_timer', count(*), min(due_at) from start_timers s
      where due_at <= ? and not superseded
        and not exists (select 1 from process_definitions d where d.id = s.definition_id and d.suspended)`, [now, now]));
  const externalTasks = rowsOf(await db.raw(`select topic,
      count(*) filter (where retries is distinct from 0 and lock_expiration_time > ?) as locked,
      count(*) filter (where retries is distinct from 0 and (lock_expiration_time is null or lock_expiration_time <= ?)) as waiting,
      count(*) filter (where retries = 0) as failed
    from external_tasks where end_time is null group by topic`, [now, now]));
  const [outbox] = rowsOf(await db.raw(`select
      (select count(*) from notification_outbox where sent_at is null and failed_at is null) as notifications_pending,
      (select count(*) from notification_outbox where failed_at is not null) as notifications_failed,
      (select count(*) from message_outbox) as messages_pending,
      (select coalesce(max(id), 0) from trace) as trace_last_id`));
  const incidents = rowsOf(await db.raw(`select incident_type as type, count(*) as count
    from incidents where end_time is null group by incident_type`));
  return {
    instances: instances.map((r) => ({ key: r.key, state: r.state, count: num(r.count) })),
    openTasks: openTasks.map((r) => ({ group: r.group, count: num(r.count) })),
    dueTimers: dueTimers.map((r) => ({ kind: r.kind, count: num(r.count), oldest: r.oldest ? new Date(r.oldest) : null })),
    externalTasks: externalTasks.map((r) => ({ topic: r.topic, locked: num(r.locked), waiting: num(r.waiting), failed: num(r.failed) })),
    outbox: { notificationsPending: num(outbox.notifications_pending), notificationsFailed: num(outbox.notifications_failed), messagesPending: num(outbox.messages_pending) },
    incidents: incidents.map((r) => ({ type: r.type, count: num(r.count) })),
    traceLastId: num(outbox.trace_last_id),
  };
}

/** Whether every migration in the folder has been applied (readiness). */
export async function pendingMigrations(db: Db): Promise<string[]> {
  const [, pending] = await (db as import('knex').Knex).migrate.list() as [unknown[], { file: string }[]];
  return pending.map((m) => m.file);
}
