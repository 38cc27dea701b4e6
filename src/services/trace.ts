import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { Db } from '../store/db.ts';
import { appendTrace, countTrace, GENESIS, queryTrace, traceBatch, type TraceContent, type TraceQuery } from '../store/trace.ts';
import type { Principal } from '../types.ts';
import { assertAdmin } from './instances.ts';

/**
 * One thing an action did or read, as the trace records it. Operation and
 * entity names follow Camunda's user-operation log (`Claim`, `Task`...);
 * reads are `Read`. `details` names what changed or was read (variable
 * names, query filters), never secret values.
 */
export interface TraceFact {
  operation: string;
  entityType: string;
  entityId?: string | null | undefined;
  processInstanceId?: string | null | undefined;
  details?: Record<string, unknown> | undefined;
}

/** Who is acting: a person, a worker, or the scheduler (`system`). */
export type Actor = Pick<Principal, 'userId'> & { source?: string | undefined };

/** Stable JSON: object keys sorted at every level (jsonb does not keep key order). */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value instanceof Date ? value.toISOString() : value ?? null);
}

/** SM3 over the previous row's hash and this row's content. */
export function sealTrace(prevHash: string, row: TraceContent): string {
  const content = canonical([
    row.time.toISOString(), row.user_id, row.source, row.operation, row.entity_type, row.entity_id, row.process_instance_id, row.details,
  ]);
  return createHash('sm3').update(prevHash).update('\n').update(content).digest('hex');
}

export interface ChainReport {
  ok: boolean;
  rows: number;
  /** The last row checked: keep it elsewhere to notice rows cut off the end. */
  head: { id: string; hash: string } | null;
  /** The first row that does not verify, and why. */
  broken: { id: string; reason: string } | null;
}

const toRows = (actor: Actor, facts: TraceFact[]) => facts.map((f) => ({
  user_id: actor.userId, source: actor.source ?? null, operation: f.operation, entity_type: f.entityType,
  entity_id: f.entityId ?? null, process_instance_id: f.processInstanceId ?? null, details: f.details ?? {},
}));

/** The trace (留痕): recording, querying and verifying the SM3 chain. */
export function makeTraceService(db: Knex) {
  return {
    /** Records facts in `trx`, the transaction of the action itself. */
    async record(trx: Db, actor: Actor, facts: TraceFact | TraceFact[]): Promise<void> {
      await appendTrace(trx, toRows(actor, Array.isArray(facts) ? facts : [facts]), sealTrace);
    },

    /**
     * Runs a read, then records what it returned before the caller gets it:
     * if the trace cannot be written, the data is not handed out.
     */
    async read<T>(actor: Actor, fn: () => Promise<T>, facts: (result: T) => TraceFact | TraceFact[]): Promise<T> {
      const result = await fn();
      const list = facts(result);
      await db.transaction((trx) => appendTrace(trx, toRows(actor, Array.isArray(list) ? list : [list]), sealTrace));
      return result;
    },

    /** Walks the whole chain in order; reports the first row whose hash or link does not verify. */
    async verify(): Promise<ChainReport> {
      let prev = GENESIS;
      let rows = 0;
      let last: { id: string; hash: string } | null = null;
      for (let batch = await traceBatch(db, null, 1000); batch.length; batch = await traceBatch(db, last!.id, 1000)) {
        for (const row of batch) {
          rows++;
          if (row.prev_hash !== prev) return { ok: false, rows, head: last, broken: { id: row.id, reason: '与前一行的链接不符（前一行被删除、插入或调换）/ link to the previous row does not match (a row was deleted, inserted or moved)' } };
          if (sealTrace(prev, row) !== row.hash) return { ok: false, rows, head: last, broken: { id: row.id, reason: '内容与哈希不符（此行被修改）/ content does not match its hash (the row was edited)' } };
          prev = row.hash;
          last = { id: row.id, hash: row.hash };
        }
      }
      return { ok: true, rows, head: last, broken: null };
    },

    async query(q: TraceQuery, principal: Principal) {
      assertAdmin(principal);
      return queryTrace(db, q);
    },
    async count(q: TraceQuery, principal: Principal) {
      assertAdmin(principal);
      return countTrace(db, q);
    },
  };
}

export type TraceService = ReturnType<typeof makeTraceService>;
