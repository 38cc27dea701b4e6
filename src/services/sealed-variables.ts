import { contextOf, EnvelopeError, open, seal } from '../crypto/envelope.ts';
import type { Keyring } from '../crypto/keyring.ts';
import { IntegrityError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import type { OutboxRow } from '../store/outbox.ts';
import { loadVariables, loadVariablesOf, upsertVariables, type StoredVariable } from '../store/variables.ts';
import type { Forms, TypedValue, Variables, VariableType } from '../types.ts';

/** Variables whose name starts with this are sensitive in every process (e.g. `secret_idNumber`). */
export const SENSITIVE_PREFIX = 'secret_';

/** Binary content is always sealed, whatever its name. */
const ALWAYS_SEALED: ReadonlySet<VariableType> = new Set(['Bytes', 'File']);

/** Whether a variable is stored encrypted: by its type, its name, or a form field of its definition marking it. */
export function isSensitive(name: string, type: VariableType, marked: ReadonlySet<string>): boolean {
  return ALWAYS_SEALED.has(type) || name.startsWith(SENSITIVE_PREFIX) || marked.has(name);
}

/** The variable names a definition's forms mark sensitive. */
export function markedSensitive(forms: Forms): Set<string> {
  return new Set(Object.values(forms).flat().filter((f) => f.sensitive).map((f) => f.id));
}

/**
 * Between the services and store/variables.ts: sensitive variables are
 * sealed on the way in and opened on the way out, so SQL only ever sees
 * their envelopes. `marked` is the instance's definition's
 * {@link markedSensitive} set; callers resolve it before any transaction.
 */
export function makeVariableVault(keyring: Keyring) {
  /** Where a sealed variable belongs: its instance, name and type, bound into the MAC. */
  const contextFor = (instanceId: string, name: string, type: VariableType) => contextOf('variable', instanceId, name, type);

  function toStored(instanceId: string, name: string, v: TypedValue, marked: ReadonlySet<string>): StoredVariable {
    return isSensitive(name, v.type, marked) ? sealed(instanceId, name, v) : { name, type: v.type, value: v.value ?? null, key_id: null };
  }

  /** Seals under the current key, whatever the policy says. */
  function sealed(instanceId: string, name: string, v: TypedValue): StoredVariable {
    const payload = { value: v.value ?? null, ...(v.valueInfo ? { valueInfo: v.valueInfo } : {}) };
    const envelope = seal(keyring, Buffer.from(JSON.stringify(payload), 'utf8'), contextFor(instanceId, name, v.type));
    return { name, type: v.type, value: envelope, key_id: envelope.kid };
  }

  /** Opens a stored variable; IntegrityError if it fails its check or is plain where it must be sealed. */
  function fromStored(instanceId: string, row: StoredVariable, marked: ReadonlySet<string>): TypedValue {
    if (row.key_id == null) {
      // A plain row where a sealed one belongs is a downgrade: refuse it rather than trust it.
      if (isSensitive(row.name, row.type, marked)) throw new IntegrityError(instanceId, row.name, 'unsealed', null);
      return { type: row.type, value: row.value };
    }
    let plaintext: Buffer;
    try {
      plaintext = open(keyring, row.value, contextFor(instanceId, row.name, row.type));
    } catch (err) {
      if (err instanceof EnvelopeError) throw new IntegrityError(instanceId, row.name, err.reason, err.keyId);
      throw err;
    }
    const { value, valueInfo } = JSON.parse(plaintext.toString('utf8')) as Pick<TypedValue, 'value' | 'valueInfo'>;
    return valueInfo ? { type: row.type, value, valueInfo } : { type: row.type, value };
  }

  /** Opens a waiting message's payload; IntegrityError (naming the throwing instance and the message) if it fails its check. */
  function openPayload(message: PayloadRow): Variables {
    if (message.key_id == null) return message.variables as Variables;
    try {
      return JSON.parse(open(keyring, message.variables, contextOf('outbox', message.id)).toString('utf8')) as Variables;
    } catch (err) {
      if (err instanceof EnvelopeError) throw new IntegrityError(message.source_process_instance_id, `message:${message.message_name}`, err.reason, err.keyId);
      throw err;
    }
  }

  return {
    keyring,
    /** All variables of an instance, opened. */
    async load(db: Db, instanceId: string, marked: ReadonlySet<string>): Promise<Variables> {
      const result: Variables = {};
      for (const row of await loadVariables(db, instanceId)) result[row.name] = fromStored(instanceId, row, marked);
      return result;
    },
    /** All variables of several instances, opened, by instance (every instance asked for has an entry). */
    async loadMany(db: Db, instances: { instanceId: string; marked: ReadonlySet<string> }[]): Promise<Map<string, Variables>> {
      const stored = await loadVariablesOf(db, instances.map((i) => i.instanceId));
      return new Map(instances.map(({ instanceId, marked }) => {
        const result: Variables = {};
        for (const row of stored.get(instanceId) ?? []) result[row.name] = fromStored(instanceId, row, marked);
        return [instanceId, result];
      }));
    },
    /** Inserts or replaces variables of an instance, sealing the sensitive ones. */
    async save(db: Db, instanceId: string, marked: ReadonlySet<string>, variables: Variables): Promise<void> {
      await upsertVariables(db, instanceId, Object.entries(variables).map(([name, v]) => toStored(instanceId, name, v, marked)));
    },
    open: fromStored,
    /** The stored form of a value: sealed under the current key if sensitive, plain otherwise. */
    toStored,
    /**
     * A thrown message's payload, as it waits in the outbox: sealed whole,
     * bound to the message id, when any entry is sensitive by its name or
     * type or by the throwing definition's forms.
     */
    sealPayload(messageId: string, variables: Variables, marked: ReadonlySet<string>): { variables: unknown; key_id: string | null } {
      if (!Object.entries(variables).some(([name, v]) => isSensitive(name, v.type, marked))) return { variables, key_id: null };
      const envelope = seal(keyring, Buffer.from(JSON.stringify(variables), 'utf8'), contextOf('outbox', messageId));
      return { variables: envelope, key_id: envelope.kid };
    },
    openPayload,
    /** A sealed payload opened and sealed again under the current key (the re-encryption command). */
    resealPayload(message: PayloadRow): { variables: unknown; key_id: string } {
      const envelope = seal(keyring, Buffer.from(JSON.stringify(openPayload(message)), 'utf8'), contextOf('outbox', message.id));
      return { variables: envelope, key_id: envelope.kid };
    },
    /** A sealed row opened and sealed again under the current key (the re-encryption command). */
    reseal(instanceId: string, row: StoredVariable, marked: ReadonlySet<string>): StoredVariable {
      return sealed(instanceId, row.name, fromStored(instanceId, row, marked));
    },
  };
}

export type VariableVault = ReturnType<typeof makeVariableVault>;

/** What opening a waiting message's payload needs of its outbox row. */
type PayloadRow = Pick<OutboxRow, 'id' | 'variables' | 'key_id' | 'source_process_instance_id' | 'message_name'>;
