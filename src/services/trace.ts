import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { Db } from '../store/db.ts';
import { appendTrace, CHAINS, countTrace, GENESIS, queryTrace, traceBatch, type TraceContent, type TraceQuery } from '../store/trace.ts';
import { PUBLIC_USER, SYSTEM_USER, type Principal } from '../types.ts';
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
export type Actor = Pick<Principal, 'userId'> & { source?: string | undefined; groups?: string[] | undefined };

/**
 * The user an engine run is for (`currentUser()` in expressions): the actor,
 * unless it is the server itself or the anonymous public, which Camunda would
 * run without an authenticated user.
 */
export function runUserOf(actor: Actor): { id: string; groups: string[] } | null {
  if (actor.userId === SYSTEM_USER || actor.userId === PUBLIC_USER) return null;
  return { id: actor.userId, groups: [...(actor.groups ?? [])] };
}

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
  /** The last row of each chain: keep them elsewhere to notice rows cut off the end, or a chain rewritten. */
  heads: { chain: number; id: string; hash: string }[];
  /** The first row (lowest id) that does not verify, and why. */
  broken: { id: string; chain: number; reason: string } | null;
}

/**
 * The chain a group of facts goes to: a process instance's rows always to
 * the same one (its trace is one ordered chain), others by who acted.
 */
export function chainOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return h % CHAINS;
}

const toRows = (actor: Actor, facts: TraceFact[], chain: number) => facts.map((f) => ({
  chain, user_id: actor.userId, source: actor.source ?? null, operation: f.operation, entity_type: f.entityType,
  entity_id: f.entityId ?? null, process_instance_id: f.processInstanceId ?? null, details: f.details ?? {},
}));

/**
 * Records facts in `trx`, the transaction of the action itself. For what
 * runs before the services exist (the keyring at start-up) or without
 * them (the command-line tools); otherwise use the service's `record`.
 */
export async function recordTrace(trx: Db, actor: Actor, facts: TraceFact | TraceFact[]): Promise<void> {
  await recordTraces(trx, [{ actor, facts: Array.isArray(facts) ? facts : [facts] }]);
}

/**
 * Records the facts of several actions sharing one transaction (the
 * scheduler fires a batch of timers in one), each action's facts in order on
 * the chain of its first fact's instance (or its actor), as `recordTrace` would.
 */
export async function recordTraces(trx: Db, actions: { actor: Actor; facts: TraceFact[] }[]): Promise<void> {
  const rows = actions.filter((a) => a.facts.length)
    .flatMap(({ actor, facts }) => toRows(actor, facts, chainOf(facts[0].processInstanceId ?? actor.userId)));
  await appendTrace(trx, rows, sealTrace);
}

/** The trace (留痕): recording, querying and verifying the SM3 chain. */
export function makeTraceService(db: Knex) {
  const record = recordTrace;

  return {
    record,
    recordMany: recordTraces,

    /**
     * Records facts in a transaction of their own, for what has none to
     * share: a read (recorded before its data is handed out, so data the
     * trace could not record is not handed out), a refused login, a throw.
     */
    async recordAlone(actor: Actor, facts: TraceFact | TraceFact[]): Promise<void> {
      await db.transaction((trx) => record(trx, actor, facts));
    },

    /** Walks every chain in order; reports the first row (lowest id) whose hash or link does not verify. */
    async verify(): Promise<ChainReport> {
      let rows = 0;
      const heads: ChainReport['heads'] = [];
      let broken: ChainReport['broken'] = null;
      for (let chain = 0; chain < CHAINS; chain++) {
        let prev = GENESIS;
        let last: { id: string; hash: string } | null = null;
        let fault: { id: string; chain: number; reason: string } | null = null;
        walk: for (let batch = await traceBatch(db, chain, null, 1000); batch.length; batch = await traceBatch(db, chain, last!.id, 1000)) {
          for (const row of batch) {
            rows++;
            if (row.prev_hash !== prev) fault = { id: row.id, chain, reason: '与前一行的链接不符（前一行被删除、插入或调换）/ link to the previous row does not match (a row was deleted, inserted or moved)' };
            else if (row.subMillisecond || sealTrace(prev, row) !== row.hash) fault = { id: row.id, chain, reason: '内容与哈希不符（此行被修改）/ content does not match its hash (the row was edited)' };
            if (fault) break walk;
            prev = row.hash;
            last = { id: row.id, hash: row.hash };
          }
        }
        if (last) heads.push({ chain, ...last });
        if (fault && (!broken || Number(fault.id) < Number(broken.id))) broken = fault;
      }
      return { ok: !broken, rows, heads, broken };
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
