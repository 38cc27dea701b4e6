import { loadConfig } from '../config.ts';
import { makeTraceService } from '../services/trace.ts';
import { acquireDataDirLock } from '../store/data-dir-lock.ts';
import { makeDb } from '../store/db.ts';

/**
 * `npm run verify-trace`: walks the trace's SM3 chain and reports the first
 * row that does not verify. Exit code 0 when the chain is whole, 1 when it
 * is broken, 2 when it could not be checked. On the embedded database the
 * server must be stopped first (one process per data folder); with a
 * running server, use GET /engine-rest/trace/verify instead.
 */
async function main(): Promise<number> {
  const config = loadConfig();
  const lock = config.databaseUrl ? undefined : acquireDataDirLock(config.dataDir);
  const db = makeDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const report = await makeTraceService(db).verify();
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    if (report.ok) {
      process.stdout.write(`留痕链完整 / trace chain verified: ${report.rows} rows in ${report.heads.length} chains\n`);
      return 0;
    }
    process.stdout.write(`留痕链断裂 / trace chain broken at row ${report.broken!.id}: ${report.broken!.reason}\n`);
    return 1;
  } finally {
    await db.destroy();
    lock?.release();
  }
}

main().then((code) => process.exit(code), (err) => {
  process.stderr.write(`无法校验留痕链 / could not verify the trace: ${(err as Error).message}\n`);
  process.exit(2);
});
