import nodemailer from 'nodemailer';
import type { Knex } from 'knex';
import type { Clock } from '../clock.ts';
import type { MailConfig } from '../config.ts';
import { releaseFailed } from '../store/leases.ts';
import { deferOutbox, markOutboxFailed, markOutboxSent, type NotificationOutboxRow } from '../store/notifications.ts';
import { findPreferences } from '../store/notification-preferences.ts';
import { preferencesOf, quietUntil } from './notification-preferences.ts';
import { makeLeasedSource, retryAt } from './leases.ts';

/** Attempts before a message is given up for good (backoff 1 s, 2 s, 4 s… so about 8.5 minutes in all). */
export const MAX_MAIL_ATTEMPTS = 10;

/** Sends one message; the transport (SMTP, a webhook) or a test's. */
export type SendMail = (row: NotificationOutboxRow) => Promise<void>;

/** A message that can never be delivered (its webhook was deleted): given up at once, not retried. */
export class UndeliverableError extends Error {
  override name = 'UndeliverableError';
}

/** One sender for every outside channel: each row goes to its channel's transport. */
export function makeChannelSend(channels: Record<string, SendMail | undefined>): SendMail {
  return async (row) => {
    const send = channels[row.channel];
    if (!send) throw new UndeliverableError(`渠道 ${row.channel} 未配置 / channel ${row.channel} is not configured`);
    await send(row);
  };
}

/**
 * Mail through SMTP (nodemailer). The Message-ID is made from the row's
 * idempotency key: a message sent again after a crash between the send and
 * its record carries the same Message-ID, which mail stores and clients
 * deduplicate by (at-least-once to the SMTP server, see docs/notifications.md).
 */
export function makeSmtpSend(mail: MailConfig): SendMail {
  const transport = nodemailer.createTransport(mail.url);
  return async (row) => {
    await transport.sendMail({
      from: mail.from, to: row.address, subject: row.subject, text: row.body,
      messageId: `<${row.idempotency_key.replace(/[^A-Za-z0-9.-]/g, '.')}@notifications.bpm>`,
    });
  };
}

/**
 * The scheduler's source for the notification outbox: claims due messages
 * (`for update skip locked`, so several servers never take one row at once),
 * sends each and records it sent; a failure is put back with a growing
 * backoff and, after MAX_MAIL_ATTEMPTS, recorded as failed for good with its
 * last error (at once for an UndeliverableError). Mail and webhook messages
 * share this one outbox and sender. Nothing here runs inside a user's request.
 */
/** Recorded on a mail given up because its recipient turned email off before it went. */
export const EMAIL_TURNED_OFF = '收件人已关闭邮件通知 / the recipient turned email off';

export function makeNotificationSender(db: Knex, clock: Clock, send: SendMail) {
  const leased = makeLeasedSource<NotificationOutboxRow>(db, 'notification_outbox', clock);
  return {
    claimDue: leased.claimDue,
    msUntilNext: leased.msUntilNext,
    async fire(row: NotificationOutboxRow): Promise<void> {
      // Read as it is sent, so quiet hours set after the mail was queued hold it too; held, never dropped.
      // Webhook rows have no user: a group chat keeps no one's quiet hours.
      if (row.user_id !== null) {
        const prefs = preferencesOf(await findPreferences(db, row.user_id));
        // Email turned off since it was queued (or while quiet hours held it): given up, never sent.
        if (row.channel === 'email' && !prefs.email) return markOutboxFailed(db, row.id, EMAIL_TURNED_OFF, await clock.now());
        const held = quietUntil(prefs, await clock.now());
        if (held) return deferOutbox(db, row.id, held);
      }
      await send(row);
      await markOutboxSent(db, row.id, await clock.now());
    },
    async fail(row: NotificationOutboxRow, error: unknown): Promise<void> {
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof UndeliverableError || row.attempts + 1 >= MAX_MAIL_ATTEMPTS) await markOutboxFailed(db, row.id, message, await clock.now());
      else await releaseFailed(db, 'notification_outbox', row.id, message, await retryAt(clock, row.attempts));
    },
  };
}

export type NotificationSender = ReturnType<typeof makeNotificationSender>;
