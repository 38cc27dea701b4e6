import test from 'ava';
import { parseKeySpec } from '../../src/crypto/keyring.ts';
import { makeDefinitionService } from '../../src/services/definitions.ts';
import { prepareKeyring } from '../../src/services/keys.ts';
import { reencryptVariables } from '../../src/services/reencrypt.ts';
import { openDecisionValue } from '../../src/services/sealed-decision-values.ts';
import { makeVariableVault } from '../../src/services/sealed-variables.ts';
import { backends } from '../helpers/db.ts';
import { deployDmn } from '../helpers/decisions.ts';
import { ADMIN, client, NO_PROCESSES, startTestServer, TEST_SM4_KEY, type Client, type TestServer } from '../helpers/server.ts';

/*
 * Decision history is sealed (docs/encryption.md): an input expression may
 * read a sensitive variable, so no input or output value lies readable in
 * the tables; REST shows them plain; an altered, moved or plain row is an
 * IntegrityException, not a value; npm run reencrypt moves them to a new key.
 */

const K2 = 'a9b8c7d6e5f4031224354657687a8b9c';
const SECRET_SEASON = '机密季节-110101199003071234';

for (const backend of backends) {
  let c!: { server: TestServer; admin: Client };
  test.before(async () => {
    const server = await startTestServer(backend, NO_PROCESSES);
    c = { server, admin: client(server.url, ADMIN.user, ADMIN.password) };
    const r = await deployDmn(server, 'dish', ['dish.dmn']);
    if (r.status !== 200) throw new Error(`deploy: ${r.status} ${JSON.stringify(r.body)}`);
  });
  test.after.always(async () => c?.server.stop());
  const t = (title: string) => `${backend.name}: ${title}`;
  const evaluate = (season: string, guests: number) => c.admin.post('/engine-rest/decision-definition/key/dish/evaluate', {
    variables: { season: { type: 'String', value: season }, guestCount: { type: 'Integer', value: guests } },
  });
  /** Every value row of decision history, as the database's text of the whole row. */
  const rowTexts = async () => {
    const q = async (table: string) => ((await c.server.db.raw(`select t::text as text from ${table} t`)).rows as { text: string }[]).map((r) => r.text);
    return [...await q('history_decision_inputs'), ...await q('history_decision_outputs')];
  };
  const historyOf = async (id: string) => c.admin.get(`/engine-rest/history/decision-instance/${id}?includeInputs=true&includeOutputs=true`);
  const latestId = async () => (await c.admin.get('/engine-rest/history/decision-instance?sortBy=evaluationTime&sortOrder=desc&maxResults=1')).body[0].id as string;

  test.serial(t('the tables hold no input or output value, only envelopes under the current key; REST shows the plain typed values'), async (t) => {
    t.is((await evaluate('Winter', 3)).status, 200);
    const matched = await latestId();
    t.deepEqual((await evaluate(SECRET_SEASON, 3)).body, []);
    const unmatched = await latestId();
    const texts = await rowTexts();
    t.true(texts.length >= 5);
    for (const needle of ['Winter', 'Roastbeef', SECRET_SEASON]) t.false(texts.some((x) => x.includes(needle)), needle);
    const rows = await c.server.db('history_decision_inputs').whereIn('decision_instance_id', [matched, unmatched]);
    t.true(rows.every((r: any) => r.key_id === 'k1' && r.value.alg === 'SM4-CTR+HMAC-SM3' && r.value.kid === 'k1'));

    const h = (await historyOf(matched)).body;
    t.deepEqual(h.inputs.map((i: any) => [i.clauseId, i.type, i.value]), [['seasonInput', 'String', 'Winter'], ['guestsInput', 'Integer', 3]]);
    t.deepEqual(h.outputs.map((o: any) => [o.clauseId, o.ruleId, o.type, o.value]), [['dishOutput', 'winterSmall', 'String', 'Roastbeef']]);
    t.deepEqual((await historyOf(unmatched)).body.inputs.map((i: any) => i.value), [SECRET_SEASON, 3]);
  });

  test.serial(t('an altered, moved or plain value is an IntegrityException naming the decision instance, never shown'), async (t) => {
    t.is((await evaluate('Winter', 2)).status, 200);
    const id = await latestId();
    const [season, guests] = await c.server.db('history_decision_inputs').where({ decision_instance_id: id }).orderBy('position');
    const put = (row: any, value: unknown, keyId = row.key_id) => c.server.db('history_decision_inputs').where({ id: row.id }).update({ value: JSON.stringify(value), key_id: keyId });
    const refused = async (what: string, reason: RegExp) => {
      const r = await historyOf(id);
      t.is(r.status, 500, what);
      t.is(r.body.type, 'IntegrityException', what);
      t.true(r.body.message.includes(`decision-input:${id}/`), what);
      t.regex(r.body.message, reason, what);
      t.false(JSON.stringify(r.body).includes('Winter'), what);
    };
    await put(season, { ...season.value, ct: Buffer.from('Summer').toString('base64') });
    await refused('altered ciphertext', /altered/);
    await put(season, guests.value);
    await refused('moved from another row', /altered/);
    await put(season, 'Winter');
    await refused('plain', /malformed/);
    await put(season, season.value);
    t.is((await historyOf(id)).status, 200, 'put back, it reads again');
    // The list answers the same, and without includeInputs nothing is opened.
    t.is((await c.admin.get(`/engine-rest/history/decision-instance?decisionInstanceId=${id}&includeOutputs=true`)).status, 200);
    await put(season, { ...season.value, mac: guests.value.mac });
    t.is((await c.admin.get(`/engine-rest/history/decision-instance?decisionInstanceId=${id}&includeInputs=true`)).status, 500);
    t.is((await c.admin.get(`/engine-rest/history/decision-instance?decisionInstanceId=${id}`)).status, 200);
    await put(season, season.value);
  });

  test.serial(t('npm run reencrypt re-seals decision history under the new key; the old key is then no longer needed for it'), async (t) => {
    const rotated = parseKeySpec(`k2:${K2},k1:${TEST_SM4_KEY}`);
    // Only decision history is sealed here (no process ran): it alone keeps k1 from being retired.
    t.is(Number((await c.server.db('variables').whereNotNull('key_id').count({ n: '*' }))[0]!.n), 0);
    await t.throwsAsync(prepareKeyring(c.server.db, { keyring: parseKeySpec(`k2:${K2}`) }, () => undefined), { message: /k1/ });
    const before = Number((await c.server.db('history_decision_inputs').count({ n: '*' }))[0]!.n)
      + Number((await c.server.db('history_decision_outputs').count({ n: '*' }))[0]!.n);
    const result = await reencryptVariables(c.server.db, makeVariableVault(rotated), makeDefinitionService(c.server.db), { batchSize: 2 });
    t.like(result, { rotated: before, changedMeanwhile: 0, remaining: 0 });
    t.deepEqual(result.failed, []);
    const trace = await c.server.db('trace').where({ operation: 'Reencrypt', entity_type: 'DecisionInstance' });
    t.true(trace.length > 0);
    t.false(trace.some((r: any) => JSON.stringify(r.details).includes('Winter')));

    // Under k2 alone, every value opens to what REST showed before.
    const onlyK2 = parseKeySpec(`k2:${K2}`);
    for (const which of ['inputs', 'outputs'] as const) {
      const rows = await c.server.db(`history_decision_${which}`);
      t.true(rows.every((r: any) => r.key_id === 'k2' && r.value.kid === 'k2'));
      for (const r of rows) openDecisionValue(onlyK2, which === 'inputs' ? 'input' : 'output', r, null);
    }
    const seasons = (await c.server.db('history_decision_inputs').where({ clause_id: 'seasonInput' }))
      .map((r: any) => openDecisionValue(onlyK2, 'input', r, null).value);
    t.true(seasons.includes(SECRET_SEASON));
    for (const needle of ['Winter', 'Roastbeef', SECRET_SEASON]) t.false((await rowTexts()).some((x) => x.includes(needle)), needle);
    t.like(await reencryptVariables(c.server.db, makeVariableVault(rotated), makeDefinitionService(c.server.db)), { rotated: 0, remaining: 0 }, 'nothing left to do');
    t.is((await prepareKeyring(c.server.db, { keyring: onlyK2 }, () => undefined)).current, 'k2', 'k1 may now be retired');
    // The running server still has only k1: it says so rather than show anything.
    const r = await historyOf(await latestId());
    t.is(r.status, 500);
    t.regex(r.body.message, /k2/);
  });
}
