import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail { to: string; raw: string }

/** The Message-ID header of a received mail (undefined when it has none). */
export function messageIdOf(raw: string): string | undefined {
  return /^Message-ID:\s*(<[^>]+>)/im.exec(raw)?.[1];
}

/**
 * A real SMTP server on a loopback port that keeps what it receives; `down()`
 * and `up()` stop and restart it on that port. `hold` (when set) is awaited
 * before a message is accepted, so a test can keep a delivery in flight.
 */
export async function startSmtpSink(options: { hold?: () => Promise<void> } = {}) {
  const received: ReceivedMail[] = [];
  let server: SMTPServer;
  let port = 0;
  const listen = async () => {
    server = new SMTPServer({
      authOptional: true, disabledCommands: ['STARTTLS', 'AUTH'], logger: false,
      onData(stream, session, done) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          void (options.hold?.() ?? Promise.resolve()).then(() => {
            for (const rcpt of session.envelope.rcptTo) received.push({ to: rcpt.address, raw });
            done();
          });
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    port = (server.server.address() as AddressInfo).port;
  };
  await listen();
  return {
    received, url: () => `smtp://127.0.0.1:${port}`,
    down: () => new Promise<void>((resolve) => server.close(() => resolve())),
    up: listen,
  };
}

export type SmtpSink = Awaited<ReturnType<typeof startSmtpSink>>;
