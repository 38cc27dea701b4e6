import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import pino from 'pino';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { deriveKeys } from '../../src/crypto/keyring.ts';
import { startServer, type Server } from '../../src/server.ts';
import { backends, type TestDb } from '../helpers/db.ts';
import { adminPrincipal, fixture, oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, NO_PROCESSES } from '../helpers/server.ts';

const K1 = 'c0ffee00112233445566778899aabbcc';
const K1_OTHER = '0badc0de112233445566778899aabbcc';
const K2 = '7e57ab1e00ff11ee22dd33cc44bb55aa';
const SECRET = '备份恢复口令 Tianjin-Hongqiao-2026!';

function configOf(env: Record<string, string>) {
  return loadConfig({ PORT: '0', HOST: '127.0.0.1', ADMIN_USER: ADMIN.user, ADMIN_PASSWORD: ADMIN.password, LOG_LEVEL: 'silent', ...NO_PROCESSES, ...env });
}

/** A pino logger at the most talkative level that keeps every line it writes. */
function capturingLog() {
  const lines: string[] = [];
  return { lines, log: pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) }) };
}

/** Starts an instance of sensitive-data with a sealed variable; returns its id. */
async function startWithSecret(server: Server): Promise<string> {
  await server.services.deployments.deploy(oneResource('sensitive-data.bpmn', fixture('sensitive-data.bpmn'), { filter: true }));
  const started = await server.services.instances.startByKey('sensitive-data', {
    variables: { idNumber: { type: 'String', value: '11010119900307123X' }, secret_pass: { type: 'String', value: SECRET } },
  }, adminPrincipal);
  return started.instance.id;
}

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'sm4-keys-'));

test.serial('embedded first start generates a keyring file (mode 0600) in DATA_DIR, and later starts use it', async (t) => {
  const dataDir = tempDir();
  try {
    const { lines, log } = capturingLog();
    const first = await startServer(configOf({ DATA_DIR: dataDir }), { log });
    const id = await startWithSecret(first);
    await first.close();
    const file = path.join(dataDir, 'sm4-keyring.json');
    t.is(fs.statSync(file).mode & 0o777, 0o600);
    const keyring = JSON.parse(fs.readFileSync(file, 'utf8'));
    t.is(keyring.current, 'k1');
    t.regex(keyring.keys.k1, /^[0-9a-f]{32}$/);
    t.true(lines.some((l) => l.includes('generated the encryption key file')), 'says so, and asks for a backup');
    t.false(lines.join('\n').includes(keyring.keys.k1), 'without printing the key');

    const second = await startServer(configOf({ DATA_DIR: dataDir }), { log: pino({ level: 'silent' }) });
    t.is((await second.services.instances.variables(id, adminPrincipal)).secret_pass?.value, SECRET);
    await second.close();
    t.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), keyring, 'the file is not replaced');

    // Lost key file: no new key is generated over data the old one encrypted.
    fs.rmSync(file);
    const refused = await t.throwsAsync(startServer(configOf({ DATA_DIR: dataDir }), { log: pino({ level: 'silent' }) }), { instanceOf: ConfigError });
    t.regex(refused!.message, /找不到密钥文件 .* \/ the key file .* is missing .* k1/);
    t.false(fs.existsSync(file));
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('PostgreSQL without SM4_KEY or SM4_KEY_FILE is refused at start-up, before connecting', async (t) => {
  // Nothing listens on port 1: had it tried to connect, the error would say so.
  const e = await t.throwsAsync(startServer(configOf({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' }), { log: pino({ level: 'silent' }) }), { instanceOf: ConfigError });
  t.regex(e!.message, /^使用 PostgreSQL 时必须配置加密密钥 .* \/ with DATABASE_URL an encryption key is required: set SM4_KEY or SM4_KEY_FILE/);
});

test('a bad SM4_KEY, or both SM4_KEY and SM4_KEY_FILE, is a configuration error that does not quote the key', (t) => {
  for (const [env, pattern] of [
    [{ SM4_KEY: K1.slice(0, 31) }, /SM4_KEY: .*32/],
    [{ SM4_KEY: `${K1}:${K2}` }, /SM4_KEY: .*invalid id/],
    [{ SM4_KEY: K1, SM4_KEY_FILE: '/tmp/k.json' }, /SM4_KEY, SM4_KEY_FILE: .*not both/],
  ] as const) {
    const e = t.throws(() => configOf(env), { instanceOf: ConfigError });
    t.regex(e!.message, pattern);
    for (const secret of [K1, K1.slice(0, 31), K2]) t.false(e!.message.includes(secret), e!.message);
  }
  t.false(JSON.stringify(configOf({ SM4_KEY: K1 })).includes(K1), 'a Config shows no key when logged');
});

for (const backend of backends) {
  const t = (title: string) => `${backend.name}: ${title}`;
  const boot = (testDb: TestDb, env: Record<string, string>, log = pino({ level: 'silent' })) => startServer(configOf(env), { db: testDb.db, log });

  test.serial(t('a wrong key for a key id already used, or a key the data still needs, stops the start'), async (t) => {
    const testDb = await backend.create();
    try {
      const server = await boot(testDb, { SM4_KEY: K1 });
      await startWithSecret(server);
      await server.close();
      const wrong = await t.throwsAsync(boot(testDb, { SM4_KEY: K1_OTHER }), { instanceOf: ConfigError });
      t.regex(wrong!.message, /密钥 k1 与写入数据时使用的密钥不同 \/ key id k1 is not the key the data was written with/);
      const missing = await t.throwsAsync(boot(testDb, { SM4_KEY: `k2:${K2}` }), { instanceOf: ConfigError });
      t.regex(missing!.message, /data encrypted under key id k1 remains, but the keyring lacks that key/);
      for (const m of [wrong!.message, missing!.message]) for (const k of [K1, K1_OTHER, K2]) t.false(m.includes(k));
      await (await boot(testDb, { SM4_KEY: K1 })).close();
    } finally {
      await testDb.drop();
    }
  });

  test.serial(t('SM4_KEY_FILE takes a JSON keyring; a file other users can read is warned about'), async (t) => {
    const testDb = await backend.create();
    const dir = tempDir();
    try {
      const file = path.join(dir, 'keyring.json');
      fs.writeFileSync(file, JSON.stringify({ current: 'k2', keys: { k1: K1, k2: K2 } }), { mode: 0o644 });
      fs.chmodSync(file, 0o644);
      const { lines, log } = capturingLog();
      const server = await boot(testDb, { SM4_KEY_FILE: file }, log);
      const id = await startWithSecret(server);
      t.is((await testDb.db('variables').where({ process_instance_id: id, name: 'secret_pass' }).first()).key_id, 'k2');
      await server.close();
      t.true(lines.some((l) => l.includes('is readable by other users')));
      const text = lines.join('\n');
      t.false(text.includes(K1) || text.includes(K2));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      await testDb.drop();
    }
  });

  test.serial(t('the key never appears in logs, even at trace level, nor in error answers'), async (t) => {
    const testDb = await backend.create();
    const { lines, log } = capturingLog();
    const server = await boot(testDb, { SM4_KEY: K1 }, log);
    try {
      const id = await startWithSecret(server);
      const admin = client(server.url, ADMIN.user, ADMIN.password);
      const bodies: string[] = [];
      bodies.push(JSON.stringify((await admin.get(`/engine-rest/process-instance/${id}/variables`)).body));
      // A tampered value: logged as an integrity failure, answered 500.
      const row = await testDb.db('variables').where({ process_instance_id: id, name: 'secret_pass' }).first();
      await testDb.db('variables').where({ process_instance_id: id, name: 'secret_pass' }).update({ value: JSON.stringify({ ...row.value, mac: Buffer.alloc(32).toString('base64') }) });
      const failed = await admin.get(`/engine-rest/process-instance/${id}/variables`);
      t.is(failed.status, 500);
      bodies.push(JSON.stringify(failed.body));
      bodies.push(JSON.stringify((await admin.put(`/engine-rest/process-instance/${id}/variables/blob`, { type: 'Bytes', value: '%%' })).body));
      bodies.push(JSON.stringify((await admin.get('/engine-rest/process-instance/nope/variables')).body));

      const text = lines.join('\n');
      t.true(text.includes('integrity check failed') && text.includes('secret_pass'), 'the failure is logged, naming the variable');
      t.true(text.includes('encryption at rest'), 'start-up says which key ids are in use');
      const derived = deriveKeys(Buffer.from(K1, 'hex'));
      const secrets = [K1, K1.toUpperCase(), Buffer.from(K1, 'hex').toString('base64'), derived.enc.toString('hex'), derived.mac.toString('hex'),
        derived.enc.toString('base64'), derived.mac.toString('base64')];
      for (const s of secrets) {
        t.false(text.includes(s), `logs do not hold ${s}`);
        for (const b of bodies) t.false(b.includes(s), `answers do not hold ${s}`);
      }
      t.false(text.includes(SECRET), 'nor the plaintext');
      t.false(bodies[1]!.includes(SECRET));
    } finally {
      await server.close();
      await testDb.drop();
    }
  });
}
