import type { Knex } from 'knex';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Clock } from '../clock.ts';
import { readMetricsSnapshot, type MetricsSnapshot } from '../store/metrics.ts';
import type { ChainReport } from './trace.ts';

/**
 * What `/metrics` reports (Prometheus text format, see docs/operations.md).
 *
 * Two kinds, on purpose. HTTP requests and their latency are counted in this
 * process: that is where they happen, and Prometheus sums the processes. The
 * business state (instances, tasks, timers, external tasks, outboxes,
 * incidents, trace) is read from the database at scrape time: several server
 * processes share one database, and a per-process counter of, say, instances
 * started would count only what this process happened to run and start from
 * zero at every restart. The database's answer is the same whichever process
 * Prometheus reaches. It is cached for `cacheMs`, and concurrent scrapes
 * share one read, so a scrape storm costs the database one read per period.
 */
export function makeMetrics(db: Knex, clock: Clock, options: { cacheMs: number }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const httpRequests = new Counter({
    name: 'bpmn_http_requests_total', help: 'HTTP requests answered, by method, route pattern and status (this process)',
    labelNames: ['method', 'route', 'status'] as const, registers,
  });
  const httpDuration = new Histogram({
    name: 'bpmn_http_request_duration_seconds', help: 'Time to answer an HTTP request, by method, route pattern and status (this process)',
    labelNames: ['method', 'route', 'status'] as const, buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers,
  });

  let cached: { at: number; value: Promise<{ snapshot: MetricsSnapshot; now: Date } | null> } | undefined;
  /** The snapshot, at most `cacheMs` old; null when the database could not be read (bpmn_database_up 0). */
  function snapshot() {
    if (!cached || performance.now() - cached.at >= options.cacheMs) {
      const value = clock.now().then(async (now) => ({ snapshot: await readMetricsSnapshot(db, now), now })).catch(() => null);
      cached = { at: performance.now(), value };
    }
    return cached.value;
  }
  /** A gauge filled from the snapshot at scrape time; label sets that are gone disappear with `reset`. */
  function fromDb<L extends string>(name: string, help: string, labelNames: readonly L[], fill: (g: Gauge<L>, s: MetricsSnapshot, now: Date) => void) {
    return new Gauge<L>({
      name, help, labelNames, registers,
      async collect() {
        const read = await snapshot();
        // Reset and filled in one tick, after the wait: two scrapes at once must not add to each other's values.
        this.reset();
        if (read) fill(this, read.snapshot, read.now);
      },
    });
  }

  new Gauge({
    name: 'bpmn_database_up', help: '1 when the last metrics read of the database succeeded, 0 when it failed (the business gauges are then absent)', registers,
    async collect() {
      this.set((await snapshot()) ? 1 : 0);
    },
  });
  fromDb('bpmn_process_instances_started', 'Process instances ever started and still recorded, by process definition key (database)', ['process_definition_key'], (g, s) => {
    for (const r of s.instances) g.inc({ process_definition_key: r.key }, r.count);
  });
  fromDb('bpmn_process_instances_running', 'Process instances not ended, by process definition key (database)', ['process_definition_key'], (g, s) => {
    for (const r of s.instances) if (r.state === 'ACTIVE') g.inc({ process_definition_key: r.key }, r.count);
  });
  fromDb('bpmn_process_instances_ended', 'Process instances ended, by process definition key and end state (database)', ['process_definition_key', 'state'], (g, s) => {
    for (const r of s.instances) if (r.state !== 'ACTIVE') g.set({ process_definition_key: r.key, state: r.state }, r.count);
  });
  fromDb('bpmn_tasks_open', 'Open user tasks by candidate group (role); candidate_group="" for tasks offered to no group (database)', ['candidate_group'], (g, s) => {
    for (const r of s.openTasks) g.set({ candidate_group: r.group }, r.count);
  });
  fromDb('bpmn_timers_due', 'Timers due now and not yet fired (kind: timer, start_timer) (database)', ['kind'], (g, s) => {
    for (const r of s.dueTimers) g.set({ kind: r.kind }, r.count);
  });
  fromDb('bpmn_timers_due_lag_seconds', 'How long the oldest due timer has been due, in seconds; 0 when none is due (database)', ['kind'], (g, s, now) => {
    for (const r of s.dueTimers) g.set({ kind: r.kind }, r.oldest ? Math.max(0, (now.getTime() - r.oldest.getTime()) / 1000) : 0);
  });
  fromDb('bpmn_external_tasks', 'Open external tasks by topic and state: locked (by a worker), waiting (for one), failed (no retries left) (database)', ['topic', 'state'], (g, s) => {
    for (const r of s.externalTasks) {
      g.set({ topic: r.topic, state: 'locked' }, r.locked);
      g.set({ topic: r.topic, state: 'waiting' }, r.waiting);
      g.set({ topic: r.topic, state: 'failed' }, r.failed);
    }
  });
  fromDb('bpmn_notification_outbox', 'Notification mail by state: pending (not yet sent), failed (given up on, kept as a record) (database)', ['state'], (g, s) => {
    g.set({ state: 'pending' }, s.outbox.notificationsPending);
    g.set({ state: 'failed' }, s.outbox.notificationsFailed);
  });
  fromDb('bpmn_message_outbox_pending', 'Thrown BPMN messages not yet delivered (database)', [], (g, s) => g.set(s.outbox.messagesPending));
  fromDb('bpmn_incidents_open', 'Open incidents by type (database)', ['incident_type'], (g, s) => {
    for (const r of s.incidents) g.set({ incident_type: r.type }, r.count);
  });
  fromDb('bpmn_trace_last_row_id', 'Id of the newest trace row: ids are never reused, so it counts the rows written (plus any ids of rolled-back transactions) (database)', [], (g, s) => g.set(s.traceLastId));

  // Registered at the first verification: before one ran there is no outcome to report, and a 0 would read as "broken".
  const verificationOk = new Gauge({ name: 'bpmn_trace_verification_ok', help: '1 when the last trace chain verification in this process found the chain whole, 0 when broken; absent before one ran', registers: [] });
  const verificationTime = new Gauge({ name: 'bpmn_trace_verification_timestamp_seconds', help: 'When the last trace chain verification in this process finished (Unix time)', registers: [] });
  const verificationRows = new Gauge({ name: 'bpmn_trace_verification_rows', help: 'Trace rows the last verification in this process walked', registers: [] });

  // Knex's pool (tarn) on PostgreSQL; PGlite's single connection has one too.
  const pool = () => (db.client as { pool?: { numUsed(): number; numFree(): number; numPendingAcquires(): number; numPendingCreates(): number; max: number } }).pool;
  new Gauge({
    name: 'bpmn_db_pool_connections', help: 'Database pool connections by state: used, free, pending_acquires (requests waiting for one), pending_creates, max', labelNames: ['state'] as const, registers,
    collect() {
      const p = pool();
      if (!p) return;
      this.set({ state: 'used' }, p.numUsed());
      this.set({ state: 'free' }, p.numFree());
      this.set({ state: 'pending_acquires' }, p.numPendingAcquires());
      this.set({ state: 'pending_creates' }, p.numPendingCreates());
      this.set({ state: 'max' }, p.max);
    },
  });

  return {
    registry,
    /** Counts one answered request; `route` is the router's pattern, never the raw path (ids would make a series each). */
    observeRequest(method: string, route: string, status: number, seconds: number): void {
      const labels = { method, route, status: String(status) };
      httpRequests.inc(labels);
      httpDuration.observe(labels, seconds);
    },
    /** Keeps the outcome of a trace verification run by this process (GET /engine-rest/trace/verify). */
    recordVerification(report: ChainReport): void {
      if (!registry.getSingleMetric('bpmn_trace_verification_ok')) for (const g of [verificationOk, verificationTime, verificationRows]) registry.registerMetric(g);
      verificationOk.set(report.ok ? 1 : 0);
      verificationRows.set(report.rows);
      verificationTime.set(Date.now() / 1000);
    },
    /** The exposition text and its content type. */
    async render(): Promise<{ contentType: string; body: string }> {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

export type Metrics = ReturnType<typeof makeMetrics>;
