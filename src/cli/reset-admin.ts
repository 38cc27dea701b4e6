import { loadConfig } from '../config.ts';
import { AppError } from '../errors.ts';
import { resetAdministratorPassword } from '../services/password-reset.ts';
import { acquireDataDirLock } from '../store/data-dir-lock.ts';
import { makeDb } from '../store/db.ts';

/**
 * `npm run reset-admin [-- <user>]`, on the host: a new random password for
 * the administrator (ADMIN_USER, or the only member of camunda-admin, or the
 * one named), unlocked, printed here and nowhere else (no logger runs in
 * this tool). It opens the database as the server does (DATABASE_URL, or
 * DATA_DIR's embedded one, which the server must have released: stop it
 * first). Exit code 0 on success, 1 when the user cannot be reset, 2 when
 * the database could not be reached.
 */
async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.length > 1 || args[0]?.startsWith('-')) {
    process.stderr.write('用法 / usage: npm run reset-admin [-- <user>]\n');
    return 1;
  }
  const config = loadConfig();
  const lock = config.databaseUrl ? undefined : acquireDataDirLock(config.dataDir);
  const db = makeDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const { user, password, revokedTokens } = await resetAdministratorPassword(db, { user: args[0], fallbackUser: config.adminUser });
    process.stdout.write(`\n管理员 / administrator: ${user}\n新密码 / new password: ${password}\n`
      + `已解除锁定${revokedTokens ? `，已吊销 ${revokedTokens} 个 API 令牌` : ''} / unlocked${revokedTokens ? `, ${revokedTokens} API token(s) revoked` : ''}\n`
      + '请登录后立即修改此密码 / sign in and change it now; it is not shown again\n\n');
    return 0;
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    process.stderr.write(`无法重置 / cannot reset: ${err.message}\n`);
    return 1;
  } finally {
    await db.destroy();
    lock?.release();
  }
}

main().then((code) => process.exit(code), (err) => {
  process.stderr.write(`无法重置管理员密码 / could not reset the administrator password: ${(err as Error).message}\n`);
  process.exit(2);
});
