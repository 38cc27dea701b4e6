import { createHash, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { NotFoundError, ValidationError } from '../errors.ts';
import { findLatestDefinition, listLatestPublicDefinitions, type DefinitionRow } from '../store/definitions.ts';
import { findPublicRequest, insertPublicRequest, listPublicSteps, type PublicStepRow } from '../store/public-requests.ts';
import { PUBLIC_USER, type FormField, type Principal } from '../types.ts';
import type { InstanceService } from './instances.ts';
import { parseVariables } from './variables.ts';
import type { TraceService } from './trace.ts';

/** Everyone on the internet is this one principal: no groups, no rights beyond the public routes. */
const PUBLIC: Principal = { userId: PUBLIC_USER, groups: [], isAdmin: false };

// Crockford's base32: no I, L, O or U, so a reference read aloud or copied
// from paper survives; 20 random bytes are exactly 32 characters (160 bits).
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const REFERENCE_BYTES = 20;
const REFERENCE = /^[0-9A-HJKMNP-TV-Z]{32}$/;

/** A new reference, in groups of four: `7K3M-Q0ZD-…`. */
export function newReference(): string {
  let out = '';
  let value = 0;
  let bits = 0;
  for (const byte of randomBytes(REFERENCE_BYTES)) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(value >>> bits) & 31];
    }
    value &= (1 << bits) - 1;
  }
  return out.match(/.{4}/g)!.join('-');
}

/** The canonical form of a reference as a person may type it (any case, dashes, spaces, O for 0); undefined if it cannot be one. */
export function normalizeReference(input: string): string | undefined {
  const s = input.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  return REFERENCE.test(s) ? s : undefined;
}

/** SM3 (GB/T 32905) digest of a reference: what the database keeps instead of it. */
const digest = (normalized: string) => createHash('sm3').update(normalized).digest('hex');

/** A process the public may start, with the fields its start form accepts. */
export interface PublicProcess {
  key: string;
  name: string | null;
  fields: FormField[];
}

/**
 * What the holder of a reference may learn: the process, whether it runs,
 * when it started and ended, the names of the steps done and waiting, and
 * the name of the end reached. No variables, people or ids: the steps are
 * the diagram's, public with the process.
 */
export interface PublicRequestStatus {
  processKey: string;
  processName: string | null;
  state: 'running' | 'completed' | 'closed';
  startTime: Date;
  endTime: Date | null;
  stepsDone: string[];
  currentSteps: string[];
  outcome: string | null;
}

/** The internet zone's use cases: list and start public processes, read a request's status by its reference. */
export function makePublicRequestService(db: Knex, instances: InstanceService, trace: TraceService) {
  async function publicDefinition(key: string): Promise<DefinitionRow> {
    const row = await findLatestDefinition(db, key);
    // A private process and a missing one answer alike: the public learns no names.
    if (!row?.is_public || !row.startable) throw new NotFoundError(`没有可公开办理的流程 ${key} / no public process ${key}`);
    return row;
  }

  async function status(reference: unknown, source?: string): Promise<PublicRequestStatus> {
    if (typeof reference !== 'string' || reference.length > 100) {
      throw new ValidationError('reference 为必填文本 / reference is required as text');
    }
    const normalized = normalizeReference(reference);
    const row = normalized ? await findPublicRequest(db, digest(normalized)) : undefined;
    if (!row) throw new NotFoundError('查询编号无效 / unknown reference');
    const steps = await listPublicSteps(db, row.process_instance_id);
    // A read of process data like any other, by the public from its address (never the reference itself).
    await trace.recordAlone({ userId: PUBLIC_USER, source }, {
      operation: 'Read', entityType: 'PublicRequest', entityId: row.process_instance_id, processInstanceId: row.process_instance_id,
    });
    const state = row.state === 'ACTIVE' ? 'running' : row.state === 'COMPLETED' ? 'completed' : 'closed';
    const ends = steps.filter((s) => s.activity_type === 'endEvent' && s.end_time && !s.canceled && s.activity_name);
    return {
      processKey: row.definition_key,
      processName: row.definition_name,
      state,
      startTime: row.start_time,
      endTime: row.end_time,
      stepsDone: steps.filter((s) => isStep(s) && s.end_time && !s.canceled).map((s) => s.activity_name!),
      currentSteps: state === 'running' ? steps.filter((s) => isStep(s) && !s.end_time).map((s) => s.activity_name!) : [],
      outcome: state === 'completed' ? ends.at(-1)?.activity_name ?? null : null,
    };
  }

  return {
    /** The latest versions of the public processes. */
    async processes(): Promise<PublicProcess[]> {
      return (await listLatestPublicDefinitions(db)).filter((d) => d.startable).map(toPublicProcess);
    },

    async process(key: string): Promise<PublicProcess> {
      return toPublicProcess(await publicDefinition(key));
    },

    /**
     * Starts the latest version of a public process as `public` with the
     * start form's fields and nothing else. Returns the reference, shown
     * this once: only its SM3 digest is stored, in the start's transaction.
     */
    /** `source` is the caller's address, for the trace. */
    async start(key: string, input: unknown, source?: string): Promise<{ reference: string; status: PublicRequestStatus }> {
      const row = await publicDefinition(key);
      const accepted = new Set(toPublicProcess(row).fields.map((f) => f.id));
      const variables = parseVariables(input);
      const unknown = Object.keys(variables).filter((name) => !accepted.has(name));
      if (unknown.length) {
        throw new ValidationError(
          `表单没有这些字段 / not fields of the start form: ${unknown.join(', ')}`,
          { fields: unknown.map((field) => ({ field, message: '未知字段 / unknown field' })) },
          'FormFieldValidationException',
        );
      }
      const reference = newReference();
      await instances.startDefinition(row, { variables }, { ...PUBLIC, source }, undefined, (trx, instanceId) =>
        insertPublicRequest(trx, { reference_hash: digest(normalizeReference(reference)!), process_instance_id: instanceId }));
      return { reference, status: await status(reference, source) };
    },

    status,
  };
}

/** Work a person does: user, manual, service tasks (the types are stored as `userTask`, `task`, ...). */
function isStep(s: PublicStepRow): boolean {
  return /task$/i.test(s.activity_type) && !!s.activity_name;
}

/** The start form's fields the public may fill: read-only ones are the process's to set. */
function toPublicProcess(row: DefinitionRow): PublicProcess {
  const form = row.start_event_id ? row.forms?.[row.start_event_id] ?? [] : [];
  return { key: row.key, name: row.name, fields: form.filter((f) => !f.constraints.some((c) => c.name === 'readonly')) };
}

export type PublicRequestService = ReturnType<typeof makePublicRequestService>;
