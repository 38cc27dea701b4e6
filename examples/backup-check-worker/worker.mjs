// The program the backup verification process (processes/backup-verification.bpmn) waits for:
// it fetches tasks of topic `backup-check`, looks at the newest backup in BACKUP_DIR, and reports
// backupId, backupOk, checkedAt and details, which the data security group's restore test and the
// office's sign-off then read. An example to adapt: real checks (the appliance's API, tape
// catalogue, checksums) go in checkBackup().
import fs from 'node:fs/promises';
import path from 'node:path';
import { BasicAuthInterceptor, Client, Variables, logger } from 'camunda-external-task-client-js';

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) {
    process.stderr.write(`缺少环境变量 / missing environment variable ${name}\n`);
    process.exit(2);
  }
  return value;
};

const config = {
  baseUrl: env('ENGINE_URL', 'http://localhost:8080/engine-rest'),
  user: env('WORKER_USER'),
  password: env('WORKER_PASSWORD'),
  backupDir: env('BACKUP_DIR'),
  maxAgeHours: Number(env('BACKUP_MAX_AGE_HOURS', '26')),
};

/**
 * The newest entry (file or folder) in the backup folder: present, not empty, and
 * younger than BACKUP_MAX_AGE_HOURS. Returns what the process records.
 */
export async function checkBackup(dir, maxAgeHours, now = new Date()) {
  const entries = [];
  for (const name of await fs.readdir(dir)) {
    const stat = await fs.stat(path.join(dir, name));
    entries.push({ name, stat });
  }
  entries.sort((a, b) => b.stat.mtimeMs - a.stat.mtimeMs);
  const newest = entries[0];
  if (!newest) return { backupId: '-', backupOk: false, details: `备份目录为空 / no backup in ${dir}` };
  const ageHours = (now.getTime() - newest.stat.mtimeMs) / 3_600_000;
  const size = newest.stat.isDirectory() ? (await fs.readdir(path.join(dir, newest.name))).length : newest.stat.size;
  if (size === 0) return { backupId: newest.name, backupOk: false, details: `最新备份为空 / the newest backup ${newest.name} is empty` };
  if (ageHours > maxAgeHours) {
    return { backupId: newest.name, backupOk: false, details: `最新备份已 ${ageHours.toFixed(1)} 小时 / the newest backup is ${ageHours.toFixed(1)} h old (limit ${maxAgeHours} h)` };
  }
  return { backupId: newest.name, backupOk: true, details: `最新备份 ${ageHours.toFixed(1)} 小时前 / newest backup ${ageHours.toFixed(1)} h ago` };
}

const client = new Client({
  baseUrl: config.baseUrl,
  workerId: `backup-check-${process.pid}`,
  use: logger,
  asyncResponseTimeout: 20_000,
  lockDuration: 60_000,
  interceptors: new BasicAuthInterceptor({ username: config.user, password: config.password }),
});

client.subscribe('backup-check', async ({ task, taskService }) => {
  try {
    const result = await checkBackup(config.backupDir, config.maxAgeHours);
    const variables = new Variables().setAll({ ...result, checkedAt: new Date().toISOString() });
    await taskService.complete(task, variables);
  } catch (err) {
    // The folder could not be read at all: a technical failure, retried, then an incident for the administrators.
    const retries = task.retries == null ? 3 : task.retries - 1;
    await taskService.handleFailure(task, {
      errorMessage: `无法检查备份 / could not check the backup: ${err.message}`.slice(0, 500),
      retries, retryTimeout: 10 * 60_000,
    });
  }
});

const stop = () => {
  client.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
