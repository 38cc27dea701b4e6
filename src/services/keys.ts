import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../config.ts';
import { createKeyFile, GENERATED_KEY_FILE, readKeyFile } from '../crypto/key-file.ts';
import type { Keyring } from '../crypto/keyring.ts';
import type { Db } from '../store/db.ts';
import { insertKeyChecks, isKeyInUse, listKeyChecks } from '../store/encryption-keys.ts';

/** Where the keyring comes from, as configured. */
export interface KeySource {
  /** Given in SM4_KEY. */
  keyring?: Keyring | undefined;
  /** SM4_KEY_FILE. */
  keyFile?: string | undefined;
  /** Embedded mode's DATA_DIR: without a key, one is generated there on first start. */
  generateIn?: string | undefined;
}

/** Says why a PostgreSQL server without a key will not start; checked before connecting. */
export function assertKeyConfigured(source: KeySource): void {
  if (source.keyring || source.keyFile || source.generateIn) return;
  throw new ConfigError(
    '使用 PostgreSQL 时必须配置加密密钥 SM4_KEY 或 SM4_KEY_FILE / with DATABASE_URL an encryption key is required: set SM4_KEY or SM4_KEY_FILE (see docs/encryption.md)',
  );
}

/**
 * The keyring to run with, checked against the database: every key id ever
 * used has a check value there, so a wrong key, or a lost one that data
 * still needs, stops the start instead of producing unreadable data. In
 * embedded mode without a key, a keyring file is generated in DATA_DIR on
 * the first start, and never while encrypted data already exists.
 */
export async function prepareKeyring(db: Db, source: KeySource, warn: (message: string) => void): Promise<Keyring> {
  assertKeyConfigured(source);
  const keyring = source.keyring ?? (source.keyFile ? readKeyFile(source.keyFile, warn) : await embeddedKeyring(db, source.generateIn!, warn));
  await verifyKeyring(db, keyring);
  return keyring;
}

async function embeddedKeyring(db: Db, dataDir: string, warn: (message: string) => void): Promise<Keyring> {
  const file = path.join(dataDir, GENERATED_KEY_FILE);
  if (fs.existsSync(file)) return readKeyFile(file, warn);
  const known = await listKeyChecks(db);
  if (known.length) {
    throw new ConfigError(
      `找不到密钥文件 ${file}，而数据库中已有用密钥 ${known.map((k) => k.key_id).join(', ')} 加密的数据；请从备份恢复该文件或设置 SM4_KEY_FILE / `
      + `the key file ${file} is missing but the database holds data encrypted under key id(s) ${known.map((k) => k.key_id).join(', ')}: restore the file from a backup or set SM4_KEY_FILE`,
    );
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const keyring = createKeyFile(file, warn);
  warn(`已生成加密密钥文件 ${file}，请与数据分开备份：丢失它，加密的变量将无法读取 / generated the encryption key file ${file}: back it up apart from the data; without it encrypted variables cannot be read`);
  return keyring;
}

async function verifyKeyring(db: Db, keyring: Keyring): Promise<void> {
  const recorded = new Map((await listKeyChecks(db)).map((r) => [r.key_id, r.check_value]));
  for (const [id, check] of recorded) {
    const keys = keyring.keysOf(id);
    if (keys && keys.check !== check) {
      throw new ConfigError(`密钥 ${id} 与写入数据时使用的密钥不同 / key id ${id} is not the key the data was written with: check SM4_KEY / SM4_KEY_FILE`);
    }
    if (!keys && (await isKeyInUse(db, id))) {
      throw new ConfigError(`数据库中仍有用密钥 ${id} 加密的数据，但密钥环中没有它 / data encrypted under key id ${id} remains, but the keyring lacks that key: add it back (and run npm run reencrypt before retiring it)`);
    }
  }
  const fresh = keyring.ids.filter((id) => !recorded.has(id)).map((id) => ({ key_id: id, check_value: keyring.keysOf(id)!.check }));
  if (!fresh.length) return;
  await insertKeyChecks(db, fresh);
  // Another server may have recorded the same id at the same moment, with another key.
  const now = new Map((await listKeyChecks(db)).map((r) => [r.key_id, r.check_value]));
  const clash = fresh.find((f) => now.get(f.key_id) !== f.check_value);
  if (clash) throw new ConfigError(`密钥 ${clash.key_id} 与其他服务器使用的不同 / key id ${clash.key_id} differs from the one another server recorded`);
}
