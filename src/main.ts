import cluster from 'node:cluster';
import { loadConfig } from './config.ts';
import { startServer } from './server.ts';

/**
 * Composition root: configuration → server. With WORKERS > 1 on PostgreSQL,
 * that many server processes share the port (the engine runs on one thread,
 * so this is how a server uses several cores); each is a full server, and
 * the database keeps them consistent. Stops cleanly on SIGINT/SIGTERM.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  if (config.workers > 1 && cluster.isPrimary) {
    if (!config.databaseUrl) {
      process.stderr.write('WORKERS > 1 需要 DATABASE_URL / needs DATABASE_URL: the embedded database serves one process; starting one\n');
    } else {
      return superviseWorkers(config.workers);
    }
  }
  const server = await startServer(config);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.log.info({ signal }, 'stopping');
    await server.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

function superviseWorkers(count: number): void {
  let stopping = false;
  for (let i = 0; i < count; i++) cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    process.stderr.write(`worker ${worker.process.pid} exited (${signal ?? code}); starting another\n`);
    cluster.fork();
  });
  const stop = () => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    setTimeout(() => process.exit(0), 10_000).unref();
    cluster.on('exit', () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err) => {
  process.stderr.write(`启动失败 / failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
