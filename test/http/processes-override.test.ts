import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import pino from 'pino';
import { loadConfig } from '../../src/config.ts';
import { startServer, type Server } from '../../src/server.ts';
import { backends } from '../helpers/db.ts';
import { fixture } from '../helpers/fixtures.ts';
import { ADMIN, client, startTestServer, TEST_KEY_ENV } from '../helpers/server.ts';

/**
 * A diagram changed in the web modeler must not be replaced, silently, by
 * the file in processes/ the next time that file changes (an upgrade ships
 * a new one): start-up keeps the modeler's version and says so, unless
 * PROCESSES_OVERRIDE=true lets the file win.
 */
const diagram = (name: string) => Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="http://example.org/override">
  <bpmn:process id="override-demo" name="${name}" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="task" />
    <bpmn:userTask id="task" name="${name}" />
  </bpmn:process>
</bpmn:definitions>
`);

for (const backend of backends) {
  test(`${backend.name}: a changed processes/ file yields to a newer version from the web modeler, with a warning naming both, unless PROCESSES_OVERRIDE=true`, async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'processes-override-'));
    const file = path.join(dir, 'override-demo.bpmn');
    fs.writeFileSync(file, diagram('from the file'));
    const first = await startTestServer(backend, { PROCESSES_DIR: dir });
    let again: Server | undefined;
    try {
      let admin = client(first.url, ADMIN.user, ADMIN.password);
      const v1 = await admin.get('/engine-rest/process-definition/key/override-demo');
      t.is(v1.body.version, 1);
      t.is((await admin.get(`/engine-rest/deployment/${v1.body.deploymentId}`)).body.source, 'processes', 'the file deployment names its source');

      // An administrator changes the diagram in the web modeler.
      const form = new FormData();
      form.append('deployment-name', 'override-demo');
      form.append('deployment-source', 'web-modeler');
      form.append('override-demo.bpmn', new Blob([diagram('from the modeler')]), 'override-demo.bpmn');
      const made = await fetch(`${first.url}/engine-rest/deployment/create`, {
        method: 'POST', body: form, headers: { Authorization: `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}` },
      });
      t.is(made.status, 200, await made.clone().text());
      const v2 = await admin.get('/engine-rest/process-definition/key/override-demo');
      t.is(v2.body.version, 2);
      await first.close();

      // An upgrade ships a changed file; the server restarts on the same database.
      fs.writeFileSync(file, diagram('from the upgrade'));
      const lines: string[] = [];
      const log = pino({ level: 'warn' }, { write: (s: string) => void lines.push(s) });
      const env = { PORT: '0', HOST: '127.0.0.1', ADMIN_USER: ADMIN.user, ADMIN_PASSWORD: ADMIN.password, PROCESSES_DIR: dir, ...TEST_KEY_ENV };
      again = await startServer(loadConfig(env), { db: first.testDb.db, log });
      admin = client(again.url, ADMIN.user, ADMIN.password);
      const kept = await admin.get('/engine-rest/process-definition/key/override-demo');
      t.is(kept.body.id, v2.body.id, "the modeler's version stays the latest");
      t.is(kept.body.name, 'from the modeler');
      const warning = lines.map((l) => JSON.parse(l) as { msg: string; level: number }).find((l) => l.msg.includes('PROCESSES_OVERRIDE'));
      t.truthy(warning, lines.join('\n'));
      t.is(warning!.level, 40);
      t.true(warning!.msg.includes(v2.body.id) && warning!.msg.includes('override-demo.bpmn') && warning!.msg.includes('web-modeler'), warning!.msg);
      t.regex(warning!.msg, /^流程文件 .* \/ the file /);
      await again.close();

      // Restarting again still keeps it (nothing was recorded that would hide the file next time).
      again = await startServer(loadConfig(env), { db: first.testDb.db, log });
      t.is((await client(again.url, ADMIN.user, ADMIN.password).get('/engine-rest/process-definition/key/override-demo')).body.id, v2.body.id);
      await again.close();

      // The operator decides the file wins.
      again = await startServer(loadConfig({ ...env, PROCESSES_OVERRIDE: 'true' }), { db: first.testDb.db, log: pino({ level: 'silent' }) });
      admin = client(again.url, ADMIN.user, ADMIN.password);
      const v3 = await admin.get('/engine-rest/process-definition/key/override-demo');
      t.is(v3.body.version, 3);
      t.is(v3.body.name, 'from the upgrade');
      t.is((await admin.get(`/engine-rest/deployment/${v3.body.deploymentId}`)).body.source, 'processes');
    } finally {
      await again?.close().catch(() => undefined);
      await first.testDb.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

const table = (level: string) => Buffer.from(fixture('report-level.dmn').toString('utf8').replace('"三级"', `"${level}"`));

for (const backend of backends) {
  test(`${backend.name}: a changed .dmn file in processes/ yields to a decision edited in the web DMN editor just as a diagram does`, async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'processes-override-dmn-'));
    const file = path.join(dir, 'report-level.dmn');
    fs.writeFileSync(file, table('三级'));
    const first = await startTestServer(backend, { PROCESSES_DIR: dir });
    let again: Server | undefined;
    try {
      const form = new FormData();
      form.append('deployment-name', 'report-level');
      form.append('deployment-source', 'web-dmn-editor');
      form.append('report-level.dmn', new Blob([table('二级')]), 'report-level.dmn');
      const made = await fetch(`${first.url}/engine-rest/deployment/create`, {
        method: 'POST', body: form, headers: { Authorization: `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}` },
      });
      t.is(made.status, 200, await made.clone().text());
      const edited = (await client(first.url, ADMIN.user, ADMIN.password).get('/engine-rest/decision-definition/key/report-level')).body;
      t.is(edited.version, 2);
      await first.close();

      fs.writeFileSync(file, table('四级'));
      const lines: string[] = [];
      const env = { PORT: '0', HOST: '127.0.0.1', ADMIN_USER: ADMIN.user, ADMIN_PASSWORD: ADMIN.password, PROCESSES_DIR: dir, ...TEST_KEY_ENV };
      again = await startServer(loadConfig(env), { db: first.testDb.db, log: pino({ level: 'warn' }, { write: (s: string) => void lines.push(s) }) });
      const kept = (await client(again.url, ADMIN.user, ADMIN.password).get('/engine-rest/decision-definition/key/report-level')).body;
      t.is(kept.id, edited.id, "the editor's version stays the latest");
      const warning = lines.map((l) => JSON.parse(l) as { msg: string }).find((l) => l.msg.includes('PROCESSES_OVERRIDE'));
      t.truthy(warning, lines.join('\n'));
      t.true(warning!.msg.includes(edited.id) && warning!.msg.includes('report-level.dmn') && warning!.msg.includes('web-dmn-editor'), warning!.msg);
      await again.close();

      again = await startServer(loadConfig({ ...env, PROCESSES_OVERRIDE: 'true' }), { db: first.testDb.db, log: pino({ level: 'silent' }) });
      const won = (await client(again.url, ADMIN.user, ADMIN.password).get('/engine-rest/decision-definition/key/report-level')).body;
      t.is(won.version, 3, 'with PROCESSES_OVERRIDE=true the file wins');
    } finally {
      await again?.close().catch(() => undefined);
      await first.testDb.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('PROCESSES_OVERRIDE takes true or false only', (t) => {
  t.false(loadConfig({}).processesOverride);
  t.true(loadConfig({ PROCESSES_OVERRIDE: 'true' }).processesOverride);
  t.throws(() => loadConfig({ PROCESSES_OVERRIDE: 'yes' }), { message: /PROCESSES_OVERRIDE/ });
});
