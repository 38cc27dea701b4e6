import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/*
 * Passwords: how they are stored (scrypt, parameters kept with each hash so
 * the cost can be raised later) and the rule a new one must pass, which
 * Camunda's /identity/password-policy endpoints describe.
 */

// scrypt cost: N=2^15 takes ~50-100 ms here, slow enough to make guessing costly.
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } satisfies ScryptOptions;
const KEY_LENGTH = 32;
/**
 * What an unknown user name's password is checked against: the same KDF,
 * at today's cost, so an unknown name answers no sooner than a known one
 * (the time must not tell which names exist). No password derives to it.
 */
export const UNKNOWN_USER_HASH = ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, Buffer.alloc(16, 0x5a).toString('base64'), Buffer.alloc(KEY_LENGTH).toString('base64')].join('$');

let kdfRuns = 0;
/** How many KDF runs this process has made: tests count them to show an unknown user costs one too. */
export const kdfRunCount = (): number => kdfRuns;

function derive(password: string, salt: Buffer, params = SCRYPT): Promise<Buffer> {
  kdfRuns++;
  return new Promise((resolve, reject) =>
    scrypt(password, salt, KEY_LENGTH, params, (err, key) => (err ? reject(err) : resolve(key))));
}

/** `scrypt$N$r$p$salt$hash`, so the cost can be raised later without breaking old hashes. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64'), key.toString('base64')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const key = await derive(password, Buffer.from(salt, 'base64'), { N: Number(n), r: Number(r), p: Number(p), maxmem: SCRYPT.maxmem });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

const MIN_PASSWORD_LENGTH = 8;

/**
 * Our password rule, one entry per part, in Camunda's password-policy shape
 * (placeholder + parameter): at least MIN_PASSWORD_LENGTH characters, at
 * least two kinds among letters, digits and others (a length rule alone lets
 * "aaaaaaaa" and "12345678" through), and at least four distinct characters.
 * Camunda has no placeholders for the last two; they are ours, named alike.
 */
const PASSWORD_RULES = [
  {
    placeholder: 'PASSWORD_POLICY_LENGTH', parameter: { minLength: String(MIN_PASSWORD_LENGTH) },
    passes: (p: string) => p.length >= MIN_PASSWORD_LENGTH,
    message: `密码至少 ${MIN_PASSWORD_LENGTH} 个字符 / password must have at least ${MIN_PASSWORD_LENGTH} characters`,
  },
  {
    placeholder: 'PASSWORD_POLICY_CHARACTER_KINDS', parameter: { minKinds: '2', kinds: 'letter,digit,symbol' },
    passes: (p: string) => [/\p{L}/u, /\p{N}/u, /[^\p{L}\p{N}]/u].filter((re) => re.test(p)).length >= 2,
    message: '密码须包含字母、数字、符号中的至少两类 / password must mix at least two of letters, digits and symbols',
  },
  {
    placeholder: 'PASSWORD_POLICY_DISTINCT_CHARACTERS', parameter: { minDistinct: '4' },
    passes: (p: string) => new Set(p).size >= 4,
    message: '密码重复字符过多 / password repeats too few distinct characters',
  },
] as const;

/** Camunda's GET /identity/password-policy: the rules, without a verdict. */
export function passwordPolicy(): { rules: { placeholder: string; parameter: Record<string, string> }[] } {
  return { rules: PASSWORD_RULES.map((r) => ({ placeholder: r.placeholder, parameter: { ...r.parameter } })) };
}

/** Camunda's POST /identity/password-policy: each rule with whether `password` passes it. */
export function checkPassword(password: string): { rules: { placeholder: string; parameter: Record<string, string>; valid: boolean }[]; valid: boolean } {
  const rules = PASSWORD_RULES.map((r) => ({ placeholder: r.placeholder, parameter: { ...r.parameter }, valid: r.passes(password) }));
  return { rules, valid: rules.every((r) => r.valid) };
}

/** Why a password is too weak (the first rule it fails), or null. */
export function passwordWeakness(password: unknown): string | null {
  if (typeof password !== 'string') return PASSWORD_RULES[0].message;
  return PASSWORD_RULES.find((r) => !r.passes(password))?.message ?? null;
}

/** A random password that passes passwordWeakness (base64url alone is letters only now and then). */
export function generatePassword(): string {
  for (;;) {
    const candidate = randomBytes(12).toString('base64url');
    if (!passwordWeakness(candidate)) return candidate;
  }
}

/** SM3 of a stored password hash: names which password a login proved, without carrying the hash itself. */
export function credentialTag(passwordHash: string): string {
  return createHash('sm3').update(passwordHash).digest('hex');
}
