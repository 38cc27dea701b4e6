import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import pino from 'pino';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { parseKeySpec } from '../../src/crypto/keyring.ts';
import { startServer, type Server } from '../../src/server.ts';
import { makeDefinitionService } from '../../src/services/definitions.ts';
import { prepareKeyring } from '../../src/services/keys.ts';
import { reencryptVariables } from '../../src/services/reencrypt.ts';
import { makeTraceService } from '../../src/services/trace.ts';
import { makeVariableVault } from '../../src/services/sealed-variables.ts';
import { backends, type TestDb } from '../helpers/db.ts';
import { adminPrincipal, fixture, oneResource } from '../helpers/fixtures.ts';
import { ADMIN, NO_PROCESSES } from '../helpers/server.ts';
import { runNpmScript } from '../helpers/npm-script.ts';

const K1 = '3c1d5e7f90a2b4c6d8e0f1a3b5c7d9e1';
const K2 = 'a9b8c7d6e5f4031224354657687a8b9c';
const ROTATED = `k2:${K2},k1:${K1}`;

function configOf(env: Record<string, string>) {
  return loadConfig({ PORT: '0', HOST: '127.0.0.1', ADMIN_USER: ADMIN.user, ADMIN_PASSWORD: ADMIN.password, LOG_LEVEL: 'silent', ...NO_PROCESSES, ...env });
}

async function startWithSecrets(server: Server, n: number): Promise<string> {
  const started = await server.services.instances.startByKey('sensitive-data', {
    variables: {
      applicant: { type: 'String', value: `申请人${n}` }, idNumber: { type: 'String', value: `1101011990030712${n}` },
      secret_level: { type: 'Integer', value: n }, scan: { type: 'File', value: Buffer.from(`扫描件${n}`).toString('base64'), valueInfo: { filename: `scan${n}.txt` } },
    },
  }, adminPrincipal);
  return started.instance.id;
}

const expected = (n: number) => ({
  applicant: `申请人${n}`, idNumber: `1101011990030712${n}`, secret_level: n, scan: Buffer.from(`扫描件${n}`).toString('base64'),
});

async function readBack(server: Server, id: string) {
  const v = await server.services.instances.variables(id, adminPrincipal);
  return { applicant: v.applicant?.value, idNumber: v.idNumber?.value, secret_level: v.secret_level?.value, scan: v.scan?.value };
}

async function keyIds(testDb: TestDb): Promise<Record<string, number>> {
  const rows: { key_id: string; n: number | string }[] = await testDb.db('variables').whereNotNull('key_id').groupBy('key_id').select('key_id').count({ n: '*' });
  return Object.fromEntries(rows.map((r) => [r.key_id, Number(r.n)]));
}

/** The re-encryption the command runs, here in-process against the same database. */
function reencrypt(testDb: TestDb, spec: string, options: Parameters<typeof reencryptVariables>[3] = {}) {
  return reencryptVariables(testDb.db, makeVariableVault(parseKeySpec(spec)), makeDefinitionService(testDb.db), options);
}

for (const backend of backends) {
  const t = (title: string) => `${backend.name}: ${title}`;
  const boot = (testDb: TestDb, key: string) => startServer(configOf({ SM4_KEY: key }), { db: testDb.db, log: pino({ level: 'silent' }) });

  test.serial(t('after rotation data written under k1 stays readable, new data goes under k2, and reencrypt moves the rest to k2'), async (t) => {
    const testDb = await backend.create();
    try {
      const first = await boot(testDb, K1);
      await first.services.deployments.deploy(oneResource('sensitive-data.bpmn', fixture('sensitive-data.bpmn')));
      const old = [await startWithSecrets(first, 1), await startWithSecrets(first, 2), await startWithSecrets(first, 3)];
      await first.close();
      t.deepEqual(await keyIds(testDb), { k1: 9 });

      const rotated = await boot(testDb, ROTATED);
      for (const [i, id] of old.entries()) t.deepEqual(await readBack(rotated, id), expected(i + 1), 'old data readable by its key id');
      const fresh = await startWithSecrets(rotated, 4);
      t.deepEqual(await keyIds(testDb), { k1: 9, k2: 3 }, 'new writes use the current key');
      const timesBefore = await testDb.db('variables').orderBy(['process_instance_id', 'name']).select('name', 'updated_at');

      // While the server runs, in small batches.
      const batches: number[] = [];
      const result = await reencrypt(testDb, ROTATED, { batchSize: 2, onBatch: (r) => batches.push(r.rotated) });
      // The nine sealed variables, and the nine values they were recorded with (GET /history/detail).
      t.like(result, { rotated: 18, sealed: 0, changedMeanwhile: 0, remaining: 0 });
      t.deepEqual(result.failed, []);
      // Five batches of sealed rows, then two of the four plain ones (none sensitive, none rewritten).
      t.deepEqual(batches, [2, 4, 6, 8, 9, 9, 9]);
      t.deepEqual(await keyIds(testDb), { k2: 12 });
      t.deepEqual(await testDb.db('variables').orderBy(['process_instance_id', 'name']).select('name', 'updated_at'), timesBefore, 'history times unchanged');
      for (const [i, id] of [...old, fresh].entries()) t.deepEqual(await readBack(rotated, id), expected(i + 1));
      t.like(await reencrypt(testDb, ROTATED), { rotated: 0, sealed: 0, remaining: 0 }, 'a second run has nothing to do');
      await rotated.close();

      // k1 can now be retired.
      const retired = await boot(testDb, `k2:${K2}`);
      t.deepEqual(await readBack(retired, old[0]!), expected(1));
      // The values recorded along the way (GET /history/detail) open too.
      const recorded = await retired.services.historyDetails.query({ processInstanceIds: [old[0]!] }, adminPrincipal);
      t.is(recorded.find((d) => d.variable_name === 'idNumber')?.value, expected(1).idNumber);
      await retired.close();
    } finally {
      await testDb.drop();
    }
  });

  test.serial(t('a key configuration taking effect and a re-encryption leave their rows by system, once, with no key in them'), async (t) => {
    const testDb = await backend.create();
    const keyRows = async () => (await testDb.db('trace').where({ operation: 'ConfigurationChange', entity_type: 'EncryptionKey' }).orderBy('id'))
      .map((r: { user_id: string; entity_id: string; details: Record<string, unknown> }) => {
        const { currentKeyId, keyIds, previousCurrentKeyId, addedKeyIds, removedKeyIds, firstUse } = r.details;
        return { user: r.user_id, entity: r.entity_id, currentKeyId, keyIds, previousCurrentKeyId, addedKeyIds, removedKeyIds, firstUse };
      });
    try {
      const first = await boot(testDb, K1);
      await first.services.deployments.deploy(oneResource('sensitive-data.bpmn', fixture('sensitive-data.bpmn')));
      const id = await startWithSecrets(first, 8);
      await first.close();
      await (await boot(testDb, K1)).close();
      t.deepEqual(await keyRows(), [
        { user: 'system', entity: 'k1', currentKeyId: 'k1', keyIds: ['k1'], previousCurrentKeyId: null, addedKeyIds: ['k1'], removedKeyIds: [], firstUse: ['k1'] },
      ], 'the first key, once: the same keyring again changes nothing');
      // A wrong key under a used id is refused, and its transaction leaves no row.
      await t.throwsAsync(boot(testDb, `k2:${K2},k1:${K2}`), { instanceOf: ConfigError });
      t.is((await keyRows()).length, 1);
      // Servers starting together with a new key record and trace it once.
      await Promise.all([1, 2, 3].map(() => prepareKeyring(testDb.db, { keyring: parseKeySpec(ROTATED) }, () => undefined)));
      t.deepEqual((await keyRows()).slice(1), [
        { user: 'system', entity: 'k2', currentKeyId: 'k2', keyIds: ['k1', 'k2'], previousCurrentKeyId: 'k1', addedKeyIds: ['k2'], removedKeyIds: [], firstUse: ['k2'] },
      ]);

      const [{ last }] = await testDb.db('trace').max({ last: 'id' });
      const result = await reencrypt(testDb, ROTATED, { batchSize: 2 });
      t.like(result, { rotated: 6, remaining: 0 }, 'three variables and their three recorded values');
      const rows = await testDb.db('trace').where('id', '>', last).orderBy('id');
      t.true(rows.every((r: { user_id: string; operation: string }) => r.user_id === 'system' && r.operation === 'Reencrypt'));
      const batches = rows.filter((r: { entity_type: string }) => r.entity_type === 'Variable');
      t.deepEqual(batches.map((r: { details: { rotated: number } }) => r.details.rotated), [2, 1], 'a row per batch, in its transaction');
      t.true(batches.every((r: { process_instance_id: string }) => r.process_instance_id === id));
      const details = rows.filter((r: { entity_type: string }) => r.entity_type === 'HistoryDetail');
      t.deepEqual(details.map((r: { details: { rotated: number } }) => r.details.rotated), [2, 1]);
      t.like(rows.at(-1), { entity_type: 'EncryptionKey', entity_id: 'k2', details: { currentKeyId: 'k2', rotated: 6, sealed: 0, changedMeanwhile: 0, remaining: 0, failed: [] } });
      t.is(rows.length, 5);

      await (await boot(testDb, `k2:${K2}`)).close();
      t.like((await keyRows()).at(-1), { currentKeyId: 'k2', keyIds: ['k2'], previousCurrentKeyId: 'k2', addedKeyIds: [], removedKeyIds: ['k1'] }, 'k1 retired');
      const everything = JSON.stringify(await testDb.db('trace').select('*'));
      for (const key of [K1, K2]) t.false(everything.includes(key), 'no key material in the trace');
      t.true((await makeTraceService(testDb.db).verify()).ok);
    } finally {
      await testDb.drop();
    }
  });

  test.serial(t('reencrypt never overwrites a value a server changed after it was read'), async (t) => {
    const testDb = await backend.create();
    try {
      const first = await boot(testDb, K1);
      await first.services.deployments.deploy(oneResource('sensitive-data.bpmn', fixture('sensitive-data.bpmn')));
      const id = await startWithSecrets(first, 5);
      await first.close();
      const server = await boot(testDb, ROTATED);
      try {
        // Between reading a batch and writing it (when the batch's definitions are looked up), someone changes a variable.
        const definitions = makeDefinitionService(testDb.db);
        let raced = false;
        const racing: typeof definitions = {
          ...definitions,
          async load(definitionId) {
            if (!raced) {
              raced = true;
              await server.services.instances.modifyVariables(id, { modifications: { idNumber: { type: 'String', value: '改过的号码' } }, deletions: [] }, adminPrincipal);
            }
            return definitions.load(definitionId);
          },
        };
        const result = await reencryptVariables(testDb.db, makeVariableVault(parseKeySpec(ROTATED)), racing);
        t.true(raced);
        // Two variables and the three values recorded under k1 (the server's change was recorded under k2).
        t.like(result, { rotated: 5, changedMeanwhile: 1, remaining: 0 });
        t.is((await readBack(server, id)).idNumber, '改过的号码', "the server's write stands");
        t.deepEqual(await keyIds(testDb), { k2: 3 }, 'the server wrote it under its current key');
      } finally {
        await server.close();
      }
    } finally {
      await testDb.drop();
    }
  });

  test.serial(t('a message waiting in the outbox under k1 is re-encrypted too, and still opens after k1 is retired'), async (t) => {
    const testDb = await backend.create();
    try {
      // A thrower forwarding a sensitive variable, and nobody to receive it: the message waits.
      const lonely = fixture('raise-incident.bpmn').toString('utf8')
        .replace(/<bpmn:process id="outbox-receiver"[\s\S]*?<\/bpmn:process>/, '')
        .replace('<camunda:inputParameter name="source">backup-verification</camunda:inputParameter>',
          '<camunda:inputParameter name="secret_contact">${secret_contact}</camunda:inputParameter>');
      const first = await boot(testDb, K1);
      await first.services.deployments.deploy(oneResource('lonely.bpmn', Buffer.from(lonely)));
      const { instance } = await first.services.instances.startByKey('outbox-raiser', {
        variables: { what: { type: 'String', value: '告警' }, secret_contact: { type: 'String', value: '值班电话 022-12345678' } },
      }, adminPrincipal);
      await first.close();
      t.is((await testDb.db('message_outbox').first()).key_id, 'k1');

      const result = await reencrypt(testDb, ROTATED);
      t.like(result, { rotated: 3, remaining: 0 }, "the thrower's own secret_contact, its recorded value, and the message");
      t.is((await testDb.db('message_outbox').first()).key_id, 'k2');
      const retired = await boot(testDb, `k2:${K2}`);
      const [pending] = await retired.services.outbox.pending(instance.id);
      t.is(pending?.variables.secret_contact?.value, '值班电话 022-12345678');
      await retired.close();
    } finally {
      await testDb.drop();
    }
  });

  test.serial(t('a task\'s own sealed variables under k1 are re-encrypted too, and still open after k1 is retired'), async (t) => {
    const testDb = await backend.create();
    try {
      const first = await boot(testDb, K1);
      await first.services.deployments.deploy(oneResource('sensitive-data.bpmn', fixture('sensitive-data.bpmn')));
      const id = await startWithSecrets(first, 1);
      const task = await testDb.db('tasks').where({ process_instance_id: id }).first();
      await first.services.localVariables.modifyTaskLocals(task.id, { modifications: { secret_note: { type: 'String', value: '只给本任务' } }, deletions: [] }, adminPrincipal);
      await first.close();
      t.is((await testDb.db('task_variables').where({ task_id: task.id }).first()).key_id, 'k1');

      const result = await reencrypt(testDb, ROTATED);
      t.like(result, { rotated: 7, remaining: 0 }, "the instance's three sealed variables, their recorded values, and the task's own");
      t.is((await testDb.db('task_variables').where({ task_id: task.id }).first()).key_id, 'k2');
      const retired = await boot(testDb, `k2:${K2}`);
      const { variables } = await retired.services.localVariables.taskLocals(task.id, adminPrincipal);
      t.is(variables.secret_note?.value, '只给本任务');
      await retired.close();
    } finally {
      await testDb.drop();
    }
  });

  test.serial(t('reencrypt seals sensitive values stored plain and reports values failing their check without stopping'), async (t) => {
    const testDb = await backend.create();
    try {
      const server = await boot(testDb, K1);
      await server.services.deployments.deploy(oneResource('sensitive-data.bpmn', fixture('sensitive-data.bpmn')));
      const id = await startWithSecrets(server, 6);
      // A value written before encryption existed, and one that was tampered with.
      await testDb.db('variables').insert({ process_instance_id: id, name: 'secret_legacy', type: 'String', value: JSON.stringify('旧明文') });
      const row = await testDb.db('variables').where({ process_instance_id: id, name: 'idNumber' }).first();
      await testDb.db('variables').where({ process_instance_id: id, name: 'idNumber' }).update({ value: JSON.stringify({ ...row.value, ct: Buffer.from('x').toString('base64') }) });
      const before = await server.services.instances.variables(id, adminPrincipal).catch((err: Error) => err);
      t.regex((before as Error).message, /idNumber|secret_legacy/, 'reading refuses both until they are dealt with');

      const result = await reencrypt(testDb, ROTATED);
      // Two variables and the three values recorded (untampered) at the start.
      t.like(result, { rotated: 5, sealed: 1, remaining: 1 });
      t.deepEqual(result.failed, [{ processInstanceId: id, variableName: 'idNumber', reason: 'integrity' }]);
      const legacy = await testDb.db('variables').where({ process_instance_id: id, name: 'secret_legacy' }).first();
      t.is(legacy.key_id, 'k2');
      t.false(JSON.stringify(legacy.value).includes('旧明文'));
      await server.close();
    } finally {
      await testDb.drop();
    }
  });
}

/** `npm run reencrypt` as an operator runs it, with this environment. */
const runCommand = (env: Record<string, string>) => runNpmScript('reencrypt', env);

test.serial('npm run reencrypt moves an embedded DATA_DIR to the new key, and refuses while a server holds it', async (t) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sm4-reencrypt-'));
  try {
    const server = await startServer(configOf({ DATA_DIR: dataDir, SM4_KEY: K1 }), { log: pino({ level: 'silent' }) });
    await server.services.deployments.deploy(oneResource('sensitive-data.bpmn', fixture('sensitive-data.bpmn')));
    const id = await startWithSecrets(server, 7);
    const busy = await runCommand({ DATA_DIR: dataDir, SM4_KEY: ROTATED });
    await server.close();
    t.is(busy.code, 1);
    t.regex(busy.out, /重新加密失败 \/ re-encryption failed: .*in use by process/);

    const done = await runCommand({ DATA_DIR: dataDir, SM4_KEY: ROTATED });
    t.is(done.code, 0, done.out);
    t.regex(done.out, /re-encrypted under k2: 6\n/, "three variables and their three recorded values");
    t.regex(done.out, /still under an older key: 0\n/);
    for (const k of [K1, K2]) t.false(busy.out.includes(k) || done.out.includes(k));

    const retired = await startServer(configOf({ DATA_DIR: dataDir, SM4_KEY: `k2:${K2}` }), { log: pino({ level: 'silent' }) });
    t.deepEqual(await readBack(retired, id), expected(7));
    await retired.close();
    await t.throwsAsync(startServer(configOf({ DATA_DIR: dataDir, SM4_KEY: `k1:${K2}` }), { log: pino({ level: 'silent' }) }), { instanceOf: ConfigError },
      'a different key under a used id is still refused');
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
