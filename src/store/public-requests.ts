import type { Db } from './db.ts';
import type { InstanceRow } from './instances.ts';

/** A request started from the internet zone, as its reference may see it. */
export interface PublicRequestRow {
  process_instance_id: string;
  definition_key: string;
  definition_name: string | null;
  state: InstanceRow['state'];
  start_time: Date;
  end_time: Date | null;
}

/** One element the request passed or waits at; only what a status may show. */
export interface PublicStepRow {
  activity_name: string | null;
  activity_type: string;
  end_time: Date | null;
  canceled: boolean;
}

export async function insertPublicRequest(db: Db, row: { reference_hash: string; process_instance_id: string }): Promise<void> {
  await db('public_requests').insert(row);
}

/**
 * The request whose reference has this digest. Looked up by the digest
 * (primary key), never by the reference: how long a comparison takes can
 * only tell a guesser about digests, which says nothing about references.
 */
export async function findPublicRequest(db: Db, referenceHash: string): Promise<PublicRequestRow | undefined> {
  return db('public_requests as r')
    .join('process_instances as i', 'i.id', 'r.process_instance_id')
    .join('process_definitions as d', 'd.id', 'i.definition_id')
    .select('i.id as process_instance_id', 'i.definition_key', 'd.name as definition_name', 'i.state', 'i.start_time', 'i.end_time')
    .where('r.reference_hash', referenceHash)
    .first();
}

/** The elements of an instance in the order they were entered: names and types, no data, no people. */
export async function listPublicSteps(db: Db, instanceId: string): Promise<PublicStepRow[]> {
  return db('activity_instances').select('activity_name', 'activity_type', 'end_time', 'canceled')
    .where({ process_instance_id: instanceId }).orderBy('seq');
}
