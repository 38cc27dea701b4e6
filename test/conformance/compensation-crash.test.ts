import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { backends } from '../helpers/db.ts';
import { boot, tempDirs, Tail } from '../helpers/child-server.ts';
import { ADMIN, client } from '../helpers/server.ts';

/*
 * A compensation throw waiting at its user-task handlers survives kill -9:
 * the real server runs as a child process and is SIGKILLed while the throw
 * waits; the server booted again on the same database still has the handler
 * tasks open and the throw waiting, and goes on past the throw only once every
 * handler is completed. Nothing of the wait is held in memory.
 */

const OFFICE = { user: 'comp-crash-office', password: 'comp-crash-office-password' };
const fixture = fs.readFileSync(path.resolve(import.meta.dirname, 'fixtures', 'compensation-throw.bpmn'));

async function deploy(url: string): Promise<void> {
  const form = new FormData();
  form.append('deployment-name', 'compensation-throw');
  form.append('compensation-throw.bpmn', new Blob([fixture]), 'compensation-throw.bpmn');
  const res = await fetch(`${url}/engine-rest/deployment/create`, {
    method: 'POST', body: form, headers: { Authorization: `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}` },
  });
  if (res.status !== 200) throw new Error(`deploy: ${res.status} ${await res.text()}`);
}

async function openKeys(office: ReturnType<typeof client>, id: string): Promise<string[]> {
  return (await office.get(`/engine-rest/task?processInstanceId=${id}`)).body.map((x: { taskDefinitionKey: string }) => x.taskDefinitionKey).sort();
}

async function complete(office: ReturnType<typeof client>, id: string, key: string): Promise<void> {
  const [task] = (await office.get(`/engine-rest/task?processInstanceId=${id}&taskDefinitionKey=${key}`)).body;
  if (!task) throw new Error(`no open task ${key}`);
  const r = await office.post(`/engine-rest/task/${task.id}/complete`, {});
  if (r.status !== 204) throw new Error(`complete ${key}: ${r.status} ${JSON.stringify(r.body)}`);
}

for (const backend of backends) {
  test.serial(`${backend.name}: a throw waiting at its handlers survives kill -9 and goes on after them`, async (t) => {
    t.timeout(120_000);
    const tail = new Tail();
    // No shipped procedures: the server boots faster, and only the fixture runs.
    const processesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpmn-comp-crash-processes-'));
    tempDirs.push(processesDir);
    let dbEnv: Record<string, string>;
    let drop = async () => {};
    if (backend.name === 'pglite') {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpmn-comp-crash-'));
      tempDirs.push(dataDir);
      dbEnv = { DATA_DIR: dataDir, PROCESSES_DIR: processesDir };
    } else {
      const testDb = await backend.create({ migrate: false });
      dbEnv = { DATABASE_URL: testDb.url!, PROCESSES_DIR: processesDir };
      drop = () => testDb.drop();
    }
    try {
      let running = await boot(dbEnv, tail, `${backend.name}#1`);
      const admin = client(running.url, ADMIN.user, ADMIN.password);
      t.is((await admin.post('/engine-rest/user/create', { profile: { id: OFFICE.user, firstName: '办公室' }, credentials: { password: OFFICE.password } })).status, 204);
      t.is((await admin.put(`/engine-rest/group/office/members/${OFFICE.user}`, {})).status, 204);
      await deploy(running.url);
      let office = client(running.url, OFFICE.user, OFFICE.password);
      const started = await office.post('/engine-rest/process-definition/key/compensation-throw/start', {});
      t.is(started.status, 200);
      const id: string = started.body.id;
      await complete(office, id, 'bookHotel');
      await complete(office, id, 'bookFlight');
      t.deepEqual(await openKeys(office, id), ['bookCar', 'cancelFlight', 'cancelHotel']);
      running.child.kill('SIGKILL');
      t.is((await running.exited).signal, 'SIGKILL');

      running = await boot(dbEnv, tail, `${backend.name}#2`);
      office = client(running.url, OFFICE.user, OFFICE.password);
      t.deepEqual(await openKeys(office, id), ['bookCar', 'cancelFlight', 'cancelHotel'], 'the handlers are still open after the restart');
      await complete(office, id, 'cancelFlight');
      t.deepEqual(await openKeys(office, id), ['bookCar', 'cancelHotel'], 'the throw still waits');
      await complete(office, id, 'cancelHotel');
      t.deepEqual(await openKeys(office, id), ['bookCar', 'report']);
      await complete(office, id, 'report');
      await complete(office, id, 'bookCar');
      const [hist] = (await office.get(`/engine-rest/history/process-instance?processInstanceId=${id}`)).body;
      t.is(hist?.state, 'COMPLETED');
      running.child.kill('SIGTERM');
      await running.exited;
    } catch (err) {
      t.log(tail.text());
      throw err;
    } finally {
      await drop();
    }
  });
}
