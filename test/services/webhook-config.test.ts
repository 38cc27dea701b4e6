import test from 'ava';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { makeLogger } from '../../src/log.ts';

/* NOTIFY_WEBHOOK_URL: checked at start-up, and its token never quoted back or logged. */

const TOKEN = 'hook-t0ken-秘密';
const url = `https://hooks.example.org/bpm?token=${encodeURIComponent(TOKEN)}`;

test('NOTIFY_WEBHOOK_URL needs PUBLIC_BASE_URL; the error does not quote the URL', (t) => {
  const err = t.throws(() => loadConfig({ NOTIFY_WEBHOOK_URL: url }), { instanceOf: ConfigError });
  t.regex(err!.message, /NOTIFY_WEBHOOK_URL: .*PUBLIC_BASE_URL/);
  t.false(err!.message.includes(encodeURIComponent(TOKEN)));
});

test('a NOTIFY_WEBHOOK_URL that is not http(s) is refused without quoting it', (t) => {
  for (const bad of [`ftp://hooks.example.org/${TOKEN}`, `not a url ${TOKEN}`]) {
    const err = t.throws(() => loadConfig({ NOTIFY_WEBHOOK_URL: bad, PUBLIC_BASE_URL: 'https://bpm.example.org' }), { instanceOf: ConfigError });
    t.regex(err!.message, /NOTIFY_WEBHOOK_URL/);
    t.false(err!.message.includes(TOKEN));
  }
});

test('set with PUBLIC_BASE_URL it is configured; the logger censors it alone or inside a logged config', (t) => {
  const c = loadConfig({ NOTIFY_WEBHOOK_URL: url, PUBLIC_BASE_URL: 'https://bpm.example.org' });
  t.is(c.notifyWebhookUrl, url);
  t.is(loadConfig({}).notifyWebhookUrl, undefined);
  const lines: string[] = [];
  const log = makeLogger('info', { write: (s: string) => { lines.push(s); } });
  log.info({ config: c }, 'config');
  log.info({ NOTIFY_WEBHOOK_URL: url, webhookUrl: url }, 'hook');
  t.is(lines.length, 2);
  t.false(lines.some((l) => l.includes(encodeURIComponent(TOKEN))));
});
