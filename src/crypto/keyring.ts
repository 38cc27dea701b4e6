import { createHmac, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';

/**
 * The master keys for encryption at rest, by key id, one of them current.
 * Only keys derived from each master key are kept (one for SM4, one for
 * HMAC-SM3, one check value), in a private field: printing, logging or
 * JSON-serialising a Keyring shows its key ids and nothing else.
 */

/** Key ids travel in envelopes and in the database: short, plain names. */
const KEY_ID = /^[A-Za-z][A-Za-z0-9_-]{0,15}$/;
/** A 128-bit SM4 master key as hexadecimal text. */
const KEY_HEX = /^[0-9a-fA-F]{32}$/;
/** The id a single bare key gets (`SM4_KEY=<hex>`). */
export const DEFAULT_KEY_ID = 'k1';

/** Separate keys for separate jobs, so the cipher key and the MAC key never coincide. */
export interface DerivedKeys {
  /** 16 bytes, the SM4 key. */
  enc: Buffer;
  /** 32 bytes, the HMAC-SM3 key. */
  mac: Buffer;
  /** A public fingerprint (hex) that tells whether a key matches the one data was written with. */
  check: string;
}

/**
 * A key specification that cannot be used. Its message names an entry by
 * position, never by its text: a mistyped specification may hold a key
 * where an id was expected.
 */
export class KeyringFormatError extends Error {
  override name = 'KeyringFormatError';
}

const label = (master: Buffer, text: string) => createHmac('sm3', master).update(`credit-bpmn/${text}/v1`).digest();

/** Derives the SM4 key, the HMAC-SM3 key and the check value from a master key (HMAC-SM3 with labels). */
export function deriveKeys(master: Buffer): DerivedKeys {
  return {
    enc: label(master, 'sm4-ctr-encryption').subarray(0, 16),
    mac: label(master, 'hmac-sm3-authentication'),
    check: label(master, 'key-check').subarray(0, 16).toString('hex'),
  };
}

export class Keyring {
  readonly current: string;
  readonly #keys: Map<string, DerivedKeys>;

  private constructor(current: string, keys: Map<string, DerivedKeys>) {
    this.current = current;
    this.#keys = keys;
  }

  /** Builds a keyring from `{ id: hex }`; throws KeyringFormatError naming the bad entry by position. */
  static fromHex(current: string, hexById: Record<string, unknown>): Keyring {
    const keys = new Map<string, DerivedKeys>();
    for (const [i, [id, hex]] of Object.entries(hexById).entries()) {
      const n = i + 1;
      if (!KEY_ID.test(id)) {
        throw new KeyringFormatError(`第 ${n} 个密钥的编号无效 / key ${n}: invalid id; an id is a letter then up to 15 letters, digits, _ or -`);
      }
      if (typeof hex !== 'string' || !KEY_HEX.test(hex)) {
        throw new KeyringFormatError(`第 ${n} 个密钥必须是 32 位十六进制（128 位）/ key ${n} must be 32 hexadecimal characters (128 bits)`);
      }
      if (/^0+$/.test(hex)) throw new KeyringFormatError(`第 ${n} 个密钥全为零 / key ${n} is all zeros: generate a random key`);
      keys.set(id, deriveKeys(Buffer.from(hex, 'hex')));
    }
    if (!keys.size) throw new KeyringFormatError('密钥环为空 / the keyring holds no key');
    if (!keys.has(current)) throw new KeyringFormatError('当前密钥编号不在密钥环中 / the current key id is not in the keyring');
    return new Keyring(current, keys);
  }

  get ids(): string[] {
    return [...this.#keys.keys()];
  }

  /** The derived keys of `id`, for the envelope code; undefined for a key id this keyring lacks. */
  keysOf(id: string): DerivedKeys | undefined {
    return this.#keys.get(id);
  }

  toJSON(): object {
    return { current: this.current, ids: this.ids };
  }

  [inspect.custom](): string {
    return `Keyring { current: '${this.current}', ids: [${this.ids.map((i) => `'${i}'`).join(', ')}] }`;
  }

  toString(): string {
    return this[inspect.custom]();
  }
}

/**
 * Parses a key specification, from `SM4_KEY` or the contents of `SM4_KEY_FILE`:
 * - `<32 hex>`: one key, id `k1`;
 * - `k2:<hex>,k1:<hex>`: several keys, the first is current;
 * - a JSON keyring `{ "current": "k2", "keys": { "k1": "<hex>", "k2": "<hex>" } }`.
 */
export function parseKeySpec(text: string): Keyring {
  const spec = text.trim();
  if (spec.startsWith('{')) return parseJsonKeyring(spec);
  if (KEY_HEX.test(spec)) return Keyring.fromHex(DEFAULT_KEY_ID, { [DEFAULT_KEY_ID]: spec });
  const entries = spec.split(',').map((e) => e.trim()).filter(Boolean).map((entry) => {
    const colon = entry.indexOf(':');
    if (colon <= 0) throw new KeyringFormatError('密钥格式应为 32 位十六进制、"编号:十六进制,…" 或 JSON 密钥环 / expected 32 hex characters, "id:hex,id:hex…" or a JSON keyring');
    return [entry.slice(0, colon), entry.slice(colon + 1)] as const;
  });
  if (!entries.length) throw new KeyringFormatError('密钥为空 / the key is empty');
  const ids = entries.map(([id]) => id);
  const repeated = ids.find((id, i) => ids.indexOf(id) !== i);
  if (repeated) throw new KeyringFormatError(`第 ${ids.lastIndexOf(repeated) + 1} 个密钥的编号重复 / key ${ids.lastIndexOf(repeated) + 1}: its id appears twice`);
  return Keyring.fromHex(entries[0]![0], Object.fromEntries(entries));
}

function parseJsonKeyring(spec: string): Keyring {
  let parsed: unknown;
  try {
    parsed = JSON.parse(spec);
  } catch {
    // JSON.parse quotes the text it choked on: never pass its message on.
    throw new KeyringFormatError('密钥环不是有效的 JSON / the keyring is not valid JSON');
  }
  const { current, keys } = (parsed ?? {}) as { current?: unknown; keys?: unknown };
  if (typeof current !== 'string' || !keys || typeof keys !== 'object' || Array.isArray(keys)) {
    throw new KeyringFormatError('密钥环应为 {"current": "编号", "keys": {"编号": "十六进制"}} / a keyring is {"current": "<id>", "keys": {"<id>": "<hex>"}}');
  }
  return Keyring.fromHex(current, keys as Record<string, unknown>);
}

/** A new keyring file's text: one random 128-bit key, id `k1`. */
export function generateKeyringText(): string {
  return `${JSON.stringify({ current: DEFAULT_KEY_ID, keys: { [DEFAULT_KEY_ID]: randomBytes(16).toString('hex') } }, null, 2)}\n`;
}
