import test from 'ava';
import type { Knex } from 'knex';
import { backends } from '../helpers/db.ts';
import { fixture, oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, makeUser, startTestServer, type Client, type TestServer } from '../helpers/server.ts';

// Values distinctive enough that finding one anywhere in the database can only mean a leak.
const ID_NUMBER = '110101199003071234';
const LEVEL = 7349.0625;
const NOTE = '涉及个人信息泄露，需上报公安机关';
const FILE_TEXT = '机密附件：备份恢复口令清单 CONFIDENTIAL-ATTACHMENT-42';
const BYTES = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x42, 0x13, 0x37, 0x99, 0x01, 0x02, 0x03]);
const APPLICANT = '王小明';

/** Every form in which a plaintext could sit in a database row: as text, JSON, base64 and hex. */
function forms(plain: string | Buffer): string[] {
  const bytes = Buffer.isBuffer(plain) ? plain : Buffer.from(plain, 'utf8');
  const out = [bytes.toString('base64'), bytes.toString('hex')];
  if (!Buffer.isBuffer(plain)) out.push(plain, JSON.stringify(plain), JSON.stringify({ value: plain }));
  // base64 of the same bytes at the other two alignments inside a longer text
  for (const pad of [1, 2]) out.push(Buffer.concat([Buffer.alloc(pad), bytes]).toString('base64').slice(4));
  return out.filter((s) => s.length >= 6);
}

/** Every row of every table, as text: where a leak would show. */
async function wholeDatabase(db: Knex): Promise<string> {
  const tables = (await db.raw(`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`)).rows
    .map((r: { table_name: string }) => r.table_name);
  const parts: string[] = [];
  for (const table of tables) {
    for (const row of (await db.raw(`select t::text as row from "${table}" t`)).rows) parts.push(`${table}: ${row.row}`);
  }
  return parts.join('\n');
}

for (const backend of backends) {
  let c!: { server: TestServer; admin: Client; data: Client; network: Client };
  test.before(async () => {
    const server = await startTestServer(backend);
    await server.services.deployments.deploy(oneResource('sensitive-data.bpmn', fixture('sensitive-data.bpmn')));
    c = {
      server, admin: client(server.url, ADMIN.user, ADMIN.password),
      data: await makeUser(server, 'data-e', ['data-security']), network: await makeUser(server, 'net-e', ['network-security']),
    };
  });
  test.after.always(async () => c?.server.stop());
  const t = (title: string) => `${backend.name}: ${title}`;
  const db = () => c.server.testDb.db;

  /** Starts an instance with a form-marked, a prefix-named and a plain variable; returns its id. */
  async function start(): Promise<string> {
    const r = await c.data.post('/engine-rest/process-definition/key/sensitive-data/start', {
      variables: {
        applicant: { value: APPLICANT }, idNumber: { value: ID_NUMBER }, secret_level: { value: LEVEL, type: 'Double' },
      },
    });
    if (r.status !== 200) throw new Error(`start: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.id;
  }
  const rowOf = async (id: string, name: string) => db()('variables').where({ process_instance_id: id, name }).first();
  const setValue = (id: string, name: string, value: unknown, keyId?: string | null) =>
    db()('variables').where({ process_instance_id: id, name }).update({ value: JSON.stringify(value), ...(keyId !== undefined ? { key_id: keyId } : {}) });

  test.serial(t('sensitive variables round-trip over HTTP while the database holds only ciphertext'), async (t) => {
    const id = await start();
    const [task] = (await c.data.get(`/engine-rest/task?processInstanceId=${id}`)).body;
    t.is((await c.data.post(`/engine-rest/task/${task.id}/claim`, { userId: 'data-e' })).status, 204);
    t.is((await c.data.put(`/engine-rest/process-instance/${id}/variables/reviewNote`, { value: NOTE })).status, 204);

    const vars = (await c.data.get(`/engine-rest/process-instance/${id}/variables`)).body;
    t.deepEqual(vars.idNumber, { value: ID_NUMBER, type: 'String', valueInfo: {} }, 'marked by a form field property');
    t.deepEqual(vars.secret_level, { value: LEVEL, type: 'Double', valueInfo: {} }, 'marked by the secret_ prefix');
    t.deepEqual(vars.reviewNote, { value: NOTE, type: 'String', valueInfo: {} }, 'marked on the task form');
    t.deepEqual(vars.applicant, { value: APPLICANT, type: 'String', valueInfo: {} });

    // The same values through every other read path.
    t.is((await c.data.get(`/engine-rest/task/${task.id}/variables/idNumber`)).body.value, ID_NUMBER);
    t.is((await c.data.get(`/engine-rest/task/${task.id}/form-variables`)).body.reviewNote.value, NOTE);
    const history = (await c.admin.get(`/engine-rest/history/variable-instance?processInstanceId=${id}`)).body;
    t.is(history.find((v: { name: string }) => v.name === 'idNumber').value, ID_NUMBER);
    t.is((await c.network.get(`/engine-rest/process-instance/${id}/variables`)).status, 404, 'outsiders still see nothing');

    const rows = await db()('variables').where({ process_instance_id: id }).orderBy('name');
    t.deepEqual(rows.map((r) => [r.name, r.key_id]), [['applicant', null], ['idNumber', 'k1'], ['reviewNote', 'k1'], ['secret_level', 'k1']]);
    const sealed = rows.find((r) => r.name === 'idNumber');
    t.like(sealed.value, { v: 1, alg: 'SM4-CTR+HMAC-SM3', kid: 'k1' });
    t.is(rows.find((r) => r.name === 'applicant').value, APPLICANT, 'plain variables stay plain and queryable');

    const everything = await wholeDatabase(db());
    t.true(everything.includes(APPLICANT), 'the scan does find a plain value');
    for (const plain of [ID_NUMBER, String(LEVEL), NOTE]) {
      for (const form of forms(plain)) t.false(everything.includes(form), `no table holds ${plain} as ${form}`);
    }
  });

  test.serial(t('the engine runs on the decrypted values: a gateway after a task reads a sealed variable'), async (t) => {
    const id = await start();
    const [task] = (await c.data.get(`/engine-rest/task?processInstanceId=${id}`)).body;
    await c.data.post(`/engine-rest/task/${task.id}/claim`, { userId: 'data-e' });
    t.is((await c.data.post(`/engine-rest/task/${task.id}/complete`, { variables: { reviewNote: { value: NOTE } } })).status, 204);
    const [next] = (await c.data.get(`/engine-rest/task?processInstanceId=${id}`)).body;
    t.is(next?.taskDefinitionKey, 'escalate', '${secret_level > 2} was true');
    t.is((await rowOf(id, 'reviewNote')).key_id, 'k1', 'a value set on completion is sealed too');
    // Nor does the saved engine state, the element history or anything else the run wrote carry them.
    const everything = await wholeDatabase(db());
    for (const plain of [ID_NUMBER, String(LEVEL), NOTE]) {
      for (const form of forms(plain)) t.false(everything.includes(form), `no table holds ${plain} as ${form}`);
    }
  });

  test.serial(t('Bytes and File variables are always sealed and round-trip as base64, and as bytes from /data'), async (t) => {
    const id = await start();
    const base = `/engine-rest/process-instance/${id}/variables`;
    const file = { value: Buffer.from(FILE_TEXT).toString('base64'), type: 'File', valueInfo: { filename: '口令清单.txt', mimeType: 'text/plain', encoding: 'UTF-8' } };
    t.is((await c.data.put(`${base}/attachment`, file)).status, 204);
    t.is((await c.data.put(`${base}/blob`, { value: BYTES.toString('base64'), type: 'Bytes' })).status, 204);

    t.deepEqual((await c.data.get(`${base}/attachment`)).body, file);
    t.deepEqual((await c.data.get(`${base}/blob`)).body, { value: BYTES.toString('base64'), type: 'Bytes', valueInfo: {} });
    const res = await fetch(`${c.server.url}${base}/attachment/data`, { headers: { Authorization: `Basic ${Buffer.from('data-e:data-e-password').toString('base64')}` } });
    t.is(res.status, 200);
    t.is(res.headers.get('content-type'), 'text/plain; charset=utf-8');
    t.regex(res.headers.get('content-disposition') ?? '', /^attachment;/);
    t.is(Buffer.from(await res.arrayBuffer()).toString('utf8'), FILE_TEXT);
    t.is((await c.data.get(`${base}/applicant/data`)).status, 400, 'a String has no /data');

    t.is((await rowOf(id, 'attachment')).key_id, 'k1');
    t.is((await rowOf(id, 'blob')).key_id, 'k1');
    const everything = await wholeDatabase(db());
    for (const form of [...forms(FILE_TEXT), ...forms(BYTES), '口令清单']) t.false(everything.includes(form), `no table holds ${form}`);

    const bad = await c.data.put(`${base}/other`, { value: 'not base64!', type: 'Bytes' });
    t.is(bad.status, 400);
    t.regex(bad.body.message, /base64/);
    t.is((await c.data.put(`${base}/other`, { value: 'AAAA', type: 'File' })).status, 400, 'a File needs a filename');
  });

  test.serial(t('a flipped byte, a swapped row or a plain downgrade is refused with 500 naming the variable, leaking nothing'), async (t) => {
    const id = await start();
    const other = await start();
    const original = await rowOf(id, 'idNumber');
    const flip = (b64: string, at: number) => {
      const bytes = Buffer.from(b64, 'base64');
      bytes[at % bytes.length]! ^= 0x01;
      return bytes.toString('base64');
    };
    const tampered: [string, () => Promise<unknown>, string][] = [
      ['a ciphertext byte', () => setValue(id, 'idNumber', { ...original.value, ct: flip(original.value.ct, 3) }), 'integrity'],
      ['a MAC byte', () => setValue(id, 'idNumber', { ...original.value, mac: flip(original.value.mac, 31) }), 'integrity'],
      ['an IV byte', () => setValue(id, 'idNumber', { ...original.value, iv: flip(original.value.iv, 0) }), 'integrity'],
      ['the key id inside the envelope', async () => setValue(id, 'idNumber', { ...original.value, kid: 'k9' }, 'k9'), 'unknown-key'],
      ['the envelope of another variable of this instance', async () => setValue(id, 'idNumber', (await rowOf(id, 'secret_level')).value), 'integrity'],
      ['the same variable of another instance', async () => setValue(id, 'idNumber', (await rowOf(other, 'idNumber')).value), 'integrity'],
      ['a plain value put in its place', () => setValue(id, 'idNumber', 'forged', null), 'unsealed'],
      ['a truncated envelope', () => setValue(id, 'idNumber', { v: 1, kid: 'k1' }), 'malformed'],
    ];
    for (const [what, tamper, reason] of tampered) {
      await tamper();
      for (const path of [`/engine-rest/process-instance/${id}/variables`, `/engine-rest/history/variable-instance?processInstanceId=${id}`]) {
        const res = await c.admin.get(path);
        t.is(res.status, 500, `${what}: ${path}`);
        t.is(res.body.type, 'IntegrityException');
        t.true(res.body.message.includes('idNumber') && res.body.message.includes(id), `${what}: names the variable and the instance`);
        t.regex(res.body.message, /^流程实例 .* 完整性校验失败.* \/ integrity check failed/);
        t.is(res.body.details.reason, reason, what);
        const text = JSON.stringify(res.body);
        for (const form of forms(ID_NUMBER)) t.false(text.includes(form), `${what}: no plaintext in the answer`);
      }
      await setValue(id, 'idNumber', original.value, original.key_id);
    }
    t.is((await c.admin.get(`/engine-rest/process-instance/${id}/variables/idNumber`)).body.value, ID_NUMBER, 'restored, readable again');

    // A tampered value also stops the engine: completing the task must not run on it.
    await setValue(id, 'secret_level', { ...(await rowOf(id, 'secret_level')).value, mac: flip((await rowOf(id, 'secret_level')).value.mac, 0) });
    const [task] = (await c.data.get(`/engine-rest/task?processInstanceId=${id}`)).body;
    await c.data.post(`/engine-rest/task/${task.id}/claim`, { userId: 'data-e' });
    const refused = await c.data.post(`/engine-rest/task/${task.id}/complete`, { variables: {} });
    t.is(refused.status, 500);
    t.is(refused.body.details.variableName, 'secret_level');
    t.is((await c.data.get(`/engine-rest/task?processInstanceId=${id}`)).body[0]?.id, task.id, 'the task stays open');
  });

  test.serial(t('a sensitive variable cannot be a correlation key: the database cannot compare ciphertext'), async (t) => {
    const res = await c.admin.post('/engine-rest/message', { messageName: 'anything', correlationKeys: { secret_level: { value: LEVEL } } });
    t.is(res.status, 400);
    t.regex(res.body.message, /secret_level/);
  });
}
