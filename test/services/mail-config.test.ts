import test from 'ava';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { makeLogger } from '../../src/log.ts';

/* SMTP settings: checked at start-up, and the password never quoted back. */

const SECRET = 'pa55-秘密';
const url = `smtps://bpm:${encodeURIComponent(SECRET)}@smtp.example.org:465`;

test('SMTP_URL needs SMTP_FROM and PUBLIC_BASE_URL; the error does not quote the password', (t) => {
  const err = t.throws(() => loadConfig({ SMTP_URL: url }), { instanceOf: ConfigError });
  t.regex(err!.message, /SMTP_FROM and PUBLIC_BASE_URL/);
  t.false(err!.message.includes(encodeURIComponent(SECRET)) || err!.message.includes(SECRET));
});

test('an SMTP_URL that is not smtp:// or smtps:// is refused without quoting it', (t) => {
  const bad = `http://bpm:${SECRET}@smtp.example.org`;
  const err = t.throws(() => loadConfig({ SMTP_URL: bad, SMTP_FROM: 'bpm@example.org', PUBLIC_BASE_URL: 'https://bpm.example.org' }), { instanceOf: ConfigError });
  t.regex(err!.message, /SMTP_URL: must be smtp/);
  t.false(err!.message.includes(SECRET));
});

test('with all three set, mail is configured; without SMTP_URL there is none', (t) => {
  const c = loadConfig({ SMTP_URL: url, SMTP_FROM: '流程通知 <bpm@example.org>', PUBLIC_BASE_URL: 'https://bpm.example.org' });
  t.deepEqual(c.mail, { url, from: '流程通知 <bpm@example.org>' });
  t.is(c.publicBaseUrl, 'https://bpm.example.org');
  t.is(loadConfig({}).mail, undefined);
});

test('the logger censors the SMTP settings, alone or inside a logged config', (t) => {
  const lines: string[] = [];
  const log = makeLogger('info', { write: (s: string) => { lines.push(s); } });
  const c = loadConfig({ SMTP_URL: url, SMTP_FROM: 'bpm@example.org', PUBLIC_BASE_URL: 'https://bpm.example.org' });
  log.info({ config: c }, 'config');
  log.info({ mail: c.mail, SMTP_URL: url }, 'mail');
  t.is(lines.length, 2);
  t.false(lines.some((l) => l.includes(encodeURIComponent(SECRET))));
});
