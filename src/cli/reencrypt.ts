import { loadConfig } from '../config.ts';
import { makeDefinitionService } from '../services/definitions.ts';
import { assertKeyConfigured, prepareKeyring } from '../services/keys.ts';
import { reencryptVariables } from '../services/reencrypt.ts';
import { makeVariableVault } from '../services/sealed-variables.ts';
import { acquireDataDirLock } from '../store/data-dir-lock.ts';
import { makeDb, migrateLatest } from '../store/db.ts';

/**
 * `npm run reencrypt`: after a new key became current (see
 * docs/encryption.md), rewrites every sealed variable, waiting message and
 * decision history value under it and seals
 * sensitive variables still stored plain. Same configuration as the server.
 * On PostgreSQL it may run while servers run; the embedded database is
 * locked by a running server, so stop it first. Exits 1 if any value failed
 * its integrity check (they are listed and left as they are).
 */
async function main(): Promise<number> {
  const config = loadConfig();
  const keys = { keyring: config.sm4Keyring, keyFile: config.sm4KeyFile, generateIn: config.databaseUrl ? undefined : config.dataDir };
  assertKeyConfigured(keys);
  const lock = config.databaseUrl ? undefined : acquireDataDirLock(config.dataDir);
  const db = makeDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax: 2 });
  const say = (text: string) => process.stdout.write(`${text}\n`);
  try {
    await migrateLatest(db);
    const keyring = await prepareKeyring(db, keys, (message) => process.stderr.write(`${message}\n`));
    say(`当前密钥 / current key id: ${keyring.current}`);
    const result = await reencryptVariables(db, makeVariableVault(keyring), makeDefinitionService(db), {
      onBatch: (r) => say(`… ${r.rotated + r.sealed} 已重写 / rewritten`),
    });
    say(`已换用当前密钥 / re-encrypted under ${keyring.current}: ${result.rotated}`);
    say(`明文敏感变量已加密 / plain sensitive variables sealed: ${result.sealed}`);
    say(`运行中被服务器改写、未覆盖 / changed by a running server meanwhile, left to it: ${result.changedMeanwhile}`);
    for (const f of result.failed) {
      say(`完整性校验失败，未改动 / failed its integrity check, left as is: instance ${f.processInstanceId} variable ${f.variableName} (${f.reason})`);
    }
    say(`仍用旧密钥加密 / still under an older key: ${result.remaining}${result.remaining > result.failed.length
      ? '（请确认所有服务器已使用新密钥后再运行一次 / make sure every server runs with the new key, then run this again）' : ''}`);
    return result.failed.length ? 1 : 0;
  } finally {
    await db.destroy();
    lock?.release();
  }
}

main().then((code) => process.exit(code), (err) => {
  process.stderr.write(`重新加密失败 / re-encryption failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
