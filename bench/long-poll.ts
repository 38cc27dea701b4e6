/**
 * Long polling of external tasks: what 50 waiting workers cost the server,
 * and how soon a new task reaches a waiting worker.
 *
 *   node --import tsx bench/long-poll.ts
 *
 * Uses PostgreSQL (LISTEN/NOTIFY) when one answers, else PGlite. Prints the
 * server's CPU while 50 fetchAndLock requests wait (no busy loop means
 * near zero), then the delay from each start request to its delivery.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ADMIN, client, findPostgres, freshDatabase, inProcessServer } from './lib.ts';

const WAITERS = 50;
const WINDOW_MS = 3000;
const DELIVERIES = 20;

const adminUrl = await findPostgres();
const database = adminUrl ? await freshDatabase(adminUrl) : undefined;
const server = await inProcessServer(database?.url);
try {
  await server.services.deployments.deploy({
    name: 'external-check', source: 'bench', tenantId: null, duplicateFiltering: false, changedOnly: false,
    resources: [{ name: 'external-check.bpmn', bytes: fs.readFileSync(path.join(import.meta.dirname, 'fixtures', 'external-check.bpmn')) }],
  });
  const admin = client(server.url, ADMIN.user, ADMIN.password);
  await admin('POST', '/engine-rest/user/create', { profile: { id: 'robot' }, credentials: { password: 'robot-password' } });
  await admin('PUT', '/engine-rest/group/workers/members/robot');
  const worker = client(server.url, 'robot', 'robot-password');
  const fetch = (timeout: number) => worker('POST', '/engine-rest/external-task/fetchAndLock', {
    workerId: 'bench', maxTasks: 1, asyncResponseTimeout: timeout, topics: [{ topicName: 'backup-check', lockDuration: 60_000 }],
  });

  await fetch(0); // the first login runs the password KDF; keep it out of the window
  // 1. CPU of the server process while 50 workers wait and nothing happens.
  const waiting = Array.from({ length: WAITERS }, () => fetch(WINDOW_MS + 2000));
  await new Promise((resolve) => setTimeout(resolve, 300)); // let the requests arrive
  const before = process.cpuUsage();
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
  const used = process.cpuUsage(before);
  const wall = performance.now() - started;
  console.log(`database: ${database ? 'PostgreSQL' : 'PGlite'}; node ${process.version}`);
  console.log(`${WAITERS} workers waiting ${WINDOW_MS} ms: server+client process CPU ${((used.user + used.system) / 1000).toFixed(1)} ms (${(((used.user + used.system) / 1000 / wall) * 100).toFixed(2)} % of one core)`);

  await Promise.allSettled(waiting);

  // 2. Delivery latency: one worker waits; a task is created; how long until the worker has it.
  const latencies: number[] = [];
  for (let i = 0; i < DELIVERIES; i++) {
    const waiter = fetch(20_000);
    await new Promise((resolve) => setTimeout(resolve, 50)); // let the fetch arrive and start waiting
    const t0 = performance.now();
    void admin('POST', '/engine-rest/process-definition/key/external-check/start', { variables: { mode: { value: 'ok' }, urgency: { value: 1 } } });
    const got = await waiter;
    if (got.body.length !== 1) throw new Error('the waiting worker got no task');
    latencies.push(performance.now() - t0);
  }
  latencies.sort((a, b) => a - b);
  console.log(`from sending the start request to the waiting worker holding the task: p50 ${latencies[Math.floor(latencies.length / 2)].toFixed(1)} ms, max ${latencies[latencies.length - 1].toFixed(1)} ms (${DELIVERIES} tasks)`);
} finally {
  await server.stop();
  await database?.drop();
}
