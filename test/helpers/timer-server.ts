import type { ManualClock } from '../../src/clock.ts';
import type { Backend } from './db.ts';
import { oneResource } from './fixtures.ts';
import { ADMIN, client, makeUser, NO_PROCESSES, startTestServer, type Client, type TestServer } from './server.ts';
import { timerDiagram } from './timer-diagrams.ts';

/** A timer diagram to deploy: `[key, kind, type, value]` as timerDiagram takes them. */
export type TimerSpec = [key: string, kind: Parameters<typeof timerDiagram>[0], type: string, value: string];

/**
 * The set-up the job tests share: a server on `clock` with its scheduler off
 * (tests fire timers with `scheduler.runDue()`), nothing from processes/, an
 * administrator, an office user named `officeUser`, and the timer diagrams deployed.
 */
export async function startTimerServer(backend: Backend, clock: ManualClock, officeUser: string, diagrams: TimerSpec[]): Promise<{ s: TestServer; admin: Client; office: Client }> {
  const s = await startTestServer(backend, NO_PROCESSES, { clock, runScheduler: false });
  const office = await makeUser(s, officeUser, ['office']);
  for (const [key, kind, type, value] of diagrams) {
    await s.services.deployments.deploy(oneResource(`${key}.bpmn`, Buffer.from(timerDiagram(kind, type, value, key))));
  }
  return { s, admin: client(s.url, ADMIN.user, ADMIN.password), office };
}
