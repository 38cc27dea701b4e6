import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Keyring } from './keyring.ts';

/**
 * The sealed form of a value (format version 1): SM4-CTR under a random
 * 128-bit IV, then HMAC-SM3 over version | key id | IV | ciphertext |
 * context (encrypt-then-MAC). The context names where the value belongs
 * (instance and variable), so a sealed value copied to another row fails
 * its check there. Stored as JSON, with binary parts in base64.
 */
export interface Envelope {
  v: 1;
  alg: typeof ALG;
  kid: string;
  iv: string;
  ct: string;
  mac: string;
}

const ALG = 'SM4-CTR+HMAC-SM3';
const VERSION = 1;
const IV_BYTES = 16;
const MAC_BYTES = 32;

/** Why a sealed value could not be opened. None of them says anything about the key or the plaintext. */
export type OpenFailure = 'malformed' | 'unknown-key' | 'integrity';

export class EnvelopeError extends Error {
  override name = 'EnvelopeError';
  constructor(readonly reason: OpenFailure, readonly keyId: string | null) {
    super(reason);
  }
}

/** An unambiguous byte string of the parts: each is prefixed with its length. */
export function contextOf(...parts: string[]): Buffer {
  return Buffer.concat(parts.map((p) => framed(Buffer.from(p, 'utf8'))));
}

/** Encrypts `plaintext` under the keyring's current key, bound to `context`. */
export function seal(keyring: Keyring, plaintext: Buffer, context: Buffer): Envelope {
  const kid = keyring.current;
  const keys = keyring.keysOf(kid)!;
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('sm4-ctr', keys.enc, iv);
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const mac = macOf(keys.mac, kid, iv, ct, context);
  return { v: VERSION, alg: ALG, kid, iv: iv.toString('base64'), ct: ct.toString('base64'), mac: mac.toString('base64') };
}

/**
 * Checks the MAC (in constant time) and only then decrypts. Throws
 * EnvelopeError: malformed, unknown-key (a key id the keyring lacks), or
 * integrity (altered, or sealed for another context or under another key).
 */
export function open(keyring: Keyring, stored: unknown, context: Buffer): Buffer {
  const e = parse(stored);
  const keys = keyring.keysOf(e.kid);
  if (!keys) throw new EnvelopeError('unknown-key', e.kid);
  const expected = macOf(keys.mac, e.kid, e.iv, e.ct, context);
  if (e.mac.length !== MAC_BYTES || !timingSafeEqual(expected, e.mac)) throw new EnvelopeError('integrity', e.kid);
  const decipher = createDecipheriv('sm4-ctr', keys.enc, e.iv);
  return Buffer.concat([decipher.update(e.ct), decipher.final()]);
}

/** The key id of a sealed value, or null when it is not an envelope. */
export function keyIdOf(stored: unknown): string | null {
  try {
    return parse(stored).kid;
  } catch {
    return null;
  }
}

function parse(stored: unknown): { kid: string; iv: Buffer; ct: Buffer; mac: Buffer } {
  const e = stored as Partial<Envelope> | null;
  if (!e || typeof e !== 'object' || e.v !== VERSION || e.alg !== ALG || typeof e.kid !== 'string'
    || typeof e.iv !== 'string' || typeof e.ct !== 'string' || typeof e.mac !== 'string') {
    throw new EnvelopeError('malformed', null);
  }
  const [iv, ct, mac] = [strictBase64(e.iv), strictBase64(e.ct), strictBase64(e.mac)];
  if (!iv || !ct || !mac || iv.length !== IV_BYTES) throw new EnvelopeError('malformed', e.kid);
  return { kid: e.kid, iv, ct, mac };
}

/** Strict (padded, standard alphabet) base64, or null: Buffer.from would quietly skip what is not base64. */
export function strictBase64(text: string): Buffer | null {
  return /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text) ? Buffer.from(text, 'base64') : null;
}

function macOf(key: Buffer, kid: string, iv: Buffer, ct: Buffer, context: Buffer): Buffer {
  const h = createHmac('sm3', key);
  for (const part of [Buffer.from([VERSION]), Buffer.from(kid, 'utf8'), iv, ct, context]) h.update(framed(part));
  return h.digest();
}

function framed(part: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(part.length);
  return Buffer.concat([length, part]);
}
