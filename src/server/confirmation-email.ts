import { randomBytes } from 'node:crypto';
import { DateTime } from 'luxon';
import { encode as encodeQuotedPrintable, wrap as wrapQuotedPrintable } from 'nodemailer/lib/qp/index.js';
import type { DkimSigner } from '../delivery/dkim.js';
import { encodeUnstructured, formatMailbox, headerLine } from '../delivery/mime-header.js';
import type { OutgoingMessage } from '../delivery/transport.js';

/** What the double opt-in message is made of; the text comes from templates/web/confirmation-email.txt.hbs. */
export interface ConfirmationEmail {
  sender: { name: string; address: string; replyTo?: string | undefined };
  /** Domain-like list id: the Message-ID's domain. */
  listId: string;
  timeZone: string;
  subject: string;
  text: string;
  recipient: { subscriberId: number; address: string; name: string | null };
  date: Date;
  dkim?: DkimSigner | undefined;
}

/**
 * The confirmation message as RFC 5322 bytes: one quoted-printable text part, marked auto-generated
 * (RFC 3834) so autoresponders stay quiet. Every header value passes the delivery stage's checks, so
 * a name with CR or LF can never add a header; an international address goes in as UTF-8 (RFC 6532). Each request gets its own Message-ID: a second request
 * for the same address is a new message with a new link, not a duplicate to drop.
 */
export function buildConfirmationMessage(email: ConfirmationEmail): OutgoingMessage {
  const messageId = `<confirm.${randomBytes(12).toString('hex')}@${email.listId}>`;
  const headers = [
    headerLine('From', formatMailbox(email.sender.name, email.sender.address, 'the sender')),
    ...(email.sender.replyTo === undefined ? [] : [headerLine('Reply-To', formatMailbox(null, email.sender.replyTo, 'the reply-to'))]),
    headerLine('To', formatMailbox(email.recipient.name, email.recipient.address, 'the recipient')),
    headerLine('Subject', encodeUnstructured(email.subject, 'the subject')),
    headerLine('Date', DateTime.fromJSDate(email.date, { zone: email.timeZone }).toRFC2822() ?? email.date.toUTCString()),
    headerLine('Message-ID', messageId),
    headerLine('Auto-Submitted', 'auto-generated'),
    headerLine('MIME-Version', '1.0'),
    headerLine('Content-Type', 'text/plain; charset=utf-8'),
    headerLine('Content-Transfer-Encoding', 'quoted-printable'),
  ];
  const text = email.text.replace(/\r\n|\r|\n/g, '\r\n');
  const body = Buffer.from(`${wrapQuotedPrintable(encodeQuotedPrintable(Buffer.from(text, 'utf8')), 76)}\r\n`, 'ascii');
  const signature = email.dkim === undefined ? '' : email.dkim.sign(headers, body, email.date);
  return {
    messageId,
    envelope: { from: email.sender.address, to: email.recipient.address },
    raw: Buffer.concat([Buffer.from(`${signature}${headers.join('')}\r\n`, 'utf8'), body]),
    subscriberId: email.recipient.subscriberId,
  };
}
