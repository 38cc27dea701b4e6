import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../config.ts';
import { createKeyFile, GENERATED_KEY_FILE, readKeyFile } from '../crypto/key-file.ts';
import type { Keyring } from '../crypto/keyring.ts';
import type { Db } from '../store/db.ts';
import { insertKeyChecks, isKeyInUse, listKeyChecks } from '../store/encryption-keys.ts';
import { lockForTransaction } from '../store/errors.ts';
import { lastTraceOf } from '../store/trace.ts';
import { SYSTEM } from '../types.ts';
import { recordTrace } from './trace.ts';

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

/**
 * Checks the keyring against the check values recorded for every key id
 * ever used, records those of new ids, and traces the configuration when it
 * changed, all in one transaction. One server at a time, so servers starting
 * together with a new key record and trace it once.
 */
async function verifyKeyring(db: Db, keyring: Keyring): Promise<void> {
  await db.transaction(async (trx) => {
    await lockForTransaction(trx, 'encryption-keys');
    const recorded = new Map((await listKeyChecks(trx)).map((r) => [r.key_id, r.check_value]));
    for (const [id, check] of recorded) {
      const keys = keyring.keysOf(id);
      if (keys && keys.check !== check) {
        throw new ConfigError(`密钥 ${id} 与写入数据时使用的密钥不同 / key id ${id} is not the key the data was written with: check SM4_KEY / SM4_KEY_FILE`);
      }
      if (!keys && (await isKeyInUse(trx, id))) {
        throw new ConfigError(`数据库中仍有用密钥 ${id} 加密的数据，但密钥环中没有它 / data encrypted under key id ${id} remains, but the keyring lacks that key: add it back (and run npm run reencrypt before retiring it)`);
      }
    }
    const fresh = keyring.ids.filter((id) => !recorded.has(id)).map((id) => ({ key_id: id, check_value: keyring.keysOf(id)!.check }));
    await insertKeyChecks(trx, fresh);
    // A server of an older version, which takes no lock, may have recorded the same id meanwhile, with another key.
    const stored = new Map((await listKeyChecks(trx)).map((r) => [r.key_id, r.check_value]));
    const clash = fresh.find((f) => stored.get(f.key_id) !== f.check_value);
    if (clash) throw new ConfigError(`密钥 ${clash.key_id} 与其他服务器使用的不同 / key id ${clash.key_id} differs from the one another server recorded`);
    await traceKeyConfiguration(trx, keyring, fresh.map((f) => f.key_id));
  });
}

/** What the trace says of a keyring: key ids only, never key material or check values. */
interface KeyConfiguration {
  currentKeyId: string;
  keyIds: string[];
}

/**
 * A `ConfigurationChange` of `EncryptionKey` by `system` when the keyring
 * differs from the last one traced: a new key id, another current key, a
 * key retired. `firstUse` names the ids this database had never seen.
 */
async function traceKeyConfiguration(trx: Db, keyring: Keyring, firstUse: string[]): Promise<void> {
  const now: KeyConfiguration = { currentKeyId: keyring.current, keyIds: [...keyring.ids].sort() };
  const last = (await lastTraceOf(trx, 'ConfigurationChange', 'EncryptionKey'))?.details as Partial<KeyConfiguration> | undefined;
  const before: KeyConfiguration | null = last?.currentKeyId ? { currentKeyId: last.currentKeyId, keyIds: last.keyIds ?? [] } : null;
  if (before && before.currentKeyId === now.currentKeyId && before.keyIds.join() === now.keyIds.join()) return;
  await recordTrace(trx, SYSTEM, {
    operation: 'ConfigurationChange', entityType: 'EncryptionKey', entityId: now.currentKeyId,
    details: {
      ...now, previousCurrentKeyId: before?.currentKeyId ?? null,
      addedKeyIds: now.keyIds.filter((id) => !before?.keyIds.includes(id)),
      removedKeyIds: before?.keyIds.filter((id) => !now.keyIds.includes(id)) ?? [],
      firstUse, host: os.hostname(),
    },
  });
}
