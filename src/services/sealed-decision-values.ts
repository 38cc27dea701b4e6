import { contextOf, EnvelopeError, open, seal } from '../crypto/envelope.ts';
import type { Keyring } from '../crypto/keyring.ts';
import { IntegrityError } from '../errors.ts';
import type { DecisionValueRow, StoredDecisionValue } from '../store/decision-instances.ts';

/*
 * The inputs and outputs of decision history, always sealed. An input
 * expression may read any process variable, a sensitive one (docs/encryption.md)
 * too, and its value would otherwise lie readable in history; which ones are
 * sensitive cannot be told from the expression, so every value is sealed.
 */

export type DecisionValueKind = 'input' | 'output';

/**
 * Where a value belongs, bound into the MAC: its decision instance and row,
 * and what history says of it (clause, type, and for an output the rule and
 * variable), so a value moved to another row, or a row relabelled, fails.
 */
function contextFor(kind: DecisionValueKind, row: Omit<DecisionValueRow, 'value'>): Buffer {
  const output = kind === 'output' ? [row.rule_id ?? '', String(row.rule_order ?? ''), row.variable_name ?? ''] : [];
  return contextOf(`decision-${kind}`, row.decision_instance_id, row.id, row.clause_id ?? '', row.type, ...output);
}

/** A value as stored: sealed under the keyring's current key. */
export function sealDecisionValue(keyring: Keyring, kind: DecisionValueKind, row: DecisionValueRow): StoredDecisionValue {
  const envelope = seal(keyring, Buffer.from(JSON.stringify({ value: row.value ?? null }), 'utf8'), contextFor(kind, row));
  return { ...row, value: envelope, key_id: envelope.kid };
}

/**
 * A stored value opened. IntegrityError (naming the process instance, if
 * any, and the decision instance and clause) when it is not sealed, was
 * altered, belongs to another row or is under a key the keyring lacks.
 */
export function openDecisionValue(keyring: Keyring, kind: DecisionValueKind, row: StoredDecisionValue, processInstanceId: string | null): DecisionValueRow {
  const { key_id: keyId, value: stored, ...rest } = row;
  const where = [processInstanceId ?? '-', `decision-${kind}:${row.decision_instance_id}/${row.clause_id}`] as const;
  if (keyId == null) throw new IntegrityError(...where, 'unsealed', null);
  try {
    const { value } = JSON.parse(open(keyring, stored, contextFor(kind, rest)).toString('utf8')) as { value: unknown };
    return { ...rest, value };
  } catch (err) {
    if (err instanceof EnvelopeError) throw new IntegrityError(...where, err.reason, err.keyId);
    throw err;
  }
}

/** A stored value opened and sealed again under the current key (the re-encryption command). */
export function resealDecisionValue(keyring: Keyring, kind: DecisionValueKind, row: StoredDecisionValue, processInstanceId: string | null): StoredDecisionValue {
  return sealDecisionValue(keyring, kind, openDecisionValue(keyring, kind, row, processInstanceId));
}
