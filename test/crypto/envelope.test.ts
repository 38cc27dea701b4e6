import { createCipheriv } from 'node:crypto';
import { inspect } from 'node:util';
import test from 'ava';
import { contextOf, EnvelopeError, open, seal, type Envelope } from '../../src/crypto/envelope.ts';
import { deriveKeys, generateKeyringText, KeyringFormatError, parseKeySpec } from '../../src/crypto/keyring.ts';

const K1 = '0123456789abcdeffedcba9876543210';
const K2 = '8f4c2a1e6b3d5f7091a2b3c4d5e6f708';
const ring = parseKeySpec(`k2:${K2},k1:${K1}`);
const ctx = contextOf('variable', 'instance-1', 'idNumber', 'String');

test('Node\'s sm4-ctr is SM4: its first keystream block is the GB/T 32907 test vector', (t) => {
  // CTR encrypts zeros to E(K, IV); with K = IV = the standard's plaintext, E is the standard's ciphertext.
  const cipher = createCipheriv('sm4-ctr', Buffer.from(K1, 'hex'), Buffer.from(K1, 'hex'));
  t.is(cipher.update(Buffer.alloc(16)).toString('hex'), '681edf34d206965e86b3e94f536e4246');
});

test('seal and open round-trip under the current key, with a fresh IV each time', (t) => {
  const plain = Buffer.from('{"value":"110101199003071234"}');
  const a = seal(ring, plain, ctx);
  const b = seal(ring, plain, ctx);
  t.is(a.kid, 'k2');
  t.not(a.iv, b.iv);
  t.not(a.ct, b.ct);
  t.deepEqual(open(ring, a, ctx), plain);
  t.false(JSON.stringify(a).includes('110101199003071234'));
});

test('every single flipped bit of IV, ciphertext or MAC is detected', (t) => {
  const sealed = seal(ring, Buffer.from('秘密'), ctx);
  for (const part of ['iv', 'ct', 'mac'] as const) {
    const bytes = Buffer.from(sealed[part], 'base64');
    for (let i = 0; i < bytes.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const copy = Buffer.from(bytes);
        copy[i]! ^= bit;
        const e = t.throws(() => open(ring, { ...sealed, [part]: copy.toString('base64') }, ctx), { instanceOf: EnvelopeError });
        t.is(e?.reason, 'integrity');
      }
    }
  }
});

test('a value opened in another context, or under a relabelled key id, fails its check', (t) => {
  const sealed = seal(ring, Buffer.from('x'), ctx);
  for (const other of [contextOf('variable', 'instance-2', 'idNumber', 'String'), contextOf('variable', 'instance-1', 'other', 'String'),
    contextOf('variable', 'instance-1', 'idNumber', 'Json'), contextOf('variable', 'instance-1id', 'Number', 'String')]) {
    t.is(t.throws(() => open(ring, sealed, other), { instanceOf: EnvelopeError })?.reason, 'integrity');
  }
  t.is(t.throws(() => open(ring, { ...sealed, kid: 'k1' }, ctx), { instanceOf: EnvelopeError })?.reason, 'integrity');
  t.is(t.throws(() => open(ring, { ...sealed, kid: 'k7' }, ctx), { instanceOf: EnvelopeError })?.reason, 'unknown-key');
  for (const bad of [null, 'text', { ...sealed, v: 2 }, { ...sealed, iv: 'AAAA' }, { ...sealed, ct: 'not base64!' }, { ...sealed, alg: 'SM4-ECB' }]) {
    t.is(t.throws(() => open(ring, bad, ctx), { instanceOf: EnvelopeError })?.reason, 'malformed');
  }
});

test('old keys still open what they sealed after another key became current', (t) => {
  const old = parseKeySpec(K1);
  const sealed: Envelope = seal(old, Buffer.from('written under k1'), ctx);
  t.is(sealed.kid, 'k1');
  t.is(open(ring, sealed, ctx).toString(), 'written under k1');
});

test('encryption and MAC keys are derived apart from the master key and from each other', (t) => {
  const keys = deriveKeys(Buffer.from(K1, 'hex'));
  t.is(keys.enc.length, 16);
  t.is(keys.mac.length, 32);
  t.false(keys.enc.equals(Buffer.from(K1, 'hex')));
  t.false(keys.mac.subarray(0, 16).equals(keys.enc));
});

test('a keyring prints, logs and serialises as its key ids only', (t) => {
  for (const shown of [JSON.stringify(ring), inspect(ring, { showHidden: true, depth: 10 }), String(ring), `${ring}`, JSON.stringify({ config: { ring } })]) {
    t.regex(shown, /k2/);
    for (const secret of [K1, K2, K1.toUpperCase(), Buffer.from(K1, 'hex').toString('base64')]) t.false(shown.includes(secret), shown);
  }
  t.deepEqual(JSON.parse(JSON.stringify(ring)), { current: 'k2', ids: ['k2', 'k1'] });
});

test('key specifications: bare hex, id:hex lists, JSON keyrings; bad ones are refused without being quoted', (t) => {
  t.is(parseKeySpec(` ${K1}\n`).current, 'k1');
  t.deepEqual(parseKeySpec(`k2:${K2}, k1:${K1}`).ids, ['k2', 'k1']);
  const json = parseKeySpec(JSON.stringify({ current: 'k1', keys: { k1: K1, k2: K2 } }));
  t.is(json.current, 'k1');
  const generated = parseKeySpec(generateKeyringText());
  t.deepEqual(generated.ids, ['k1']);
  const bad = [
    K1.slice(0, 30), `${K1}00`, `${K1.slice(0, 31)}g`, '00000000000000000000000000000000', `${K1}:${K2}`, `k1:${K1},k1:${K2}`,
    `{"current":"k3","keys":{"k1":"${K1}"}}`, `{"current":"k1","keys":{"k1":"${K1}"`, `{"current":"k1","keys":{"k1":"${K1.slice(1)}"}}`, '',
  ];
  for (const spec of bad) {
    const e = t.throws(() => parseKeySpec(spec), { instanceOf: KeyringFormatError }, spec);
    for (const secret of [K1, K2, K1.slice(0, 16), K1.slice(0, 30), K1.slice(1)]) t.false(e?.message.includes(secret) ?? true, `${spec}: ${e?.message}`);
    t.regex(e?.message ?? '', /[\u4e00-\u9fff].*\/ [a-z]/i, 'Chinese / English');
  }
});
