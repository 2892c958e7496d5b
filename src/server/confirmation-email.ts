import { randomBytes } from 'node:crypto';
import { DateTime } from 'luxon';
import nodemailer from 'nodemailer';
import type { DkimSigner } from '../delivery/dkim.js';
import { encodeUnstructured, foldedHeaderValue, formatMailbox, headerLine } from '../delivery/mime-header.js';
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

/** The head's fields, each with its folded continuation lines and its CRLF, as the DKIM signer takes them. */
function headerFields(head: string): string[] {
  return head.split(/\r\n(?![ \t])/).map((field) => `${field}\r\n`);
}

/** A header value as written by the delivery stage's header encoder, which nodemailer then writes as it is. */
function prepared(name: string, value: string): { prepared: true; value: string } {
  return { prepared: true, value: foldedHeaderValue(name, value) };
}

/**
 * The confirmation message as RFC 5322 bytes, composed by nodemailer (its public stream transport
 * builds the bytes and sends nothing): one text part, marked auto-generated (RFC 3834) so
 * autoresponders stay quiet. The address fields and the subject come from the delivery stage's
 * header encoder, as in the edition's messages: it refuses CR, LF and other controls, and writes an
 * ASCII look-alike of an encoded-word as encoded-words, where nodemailer would leave it (in quotes,
 * for a name) for a lenient reader to decode into a line break. nodemailer writes an address
 * header only from its own formatting, so those lines go in front of its head. An international
 * address goes in as UTF-8 (RFC 6532). Each request gets its own Message-ID: a second request for
 * the same address is a new message with a new link, not a duplicate to drop.
 */
export async function buildConfirmationMessage(email: ConfirmationEmail): Promise<OutgoingMessage> {
  const messageId = `<confirm.${randomBytes(12).toString('hex')}@${email.listId}>`;
  const envelope = { from: email.sender.address, to: email.recipient.address };
  const addressFields = [
    headerLine('From', formatMailbox(email.sender.name, email.sender.address, 'the sender')),
    ...(email.sender.replyTo === undefined ? [] : [headerLine('Reply-To', formatMailbox(null, email.sender.replyTo, 'the reply-to'))]),
    headerLine('To', formatMailbox(email.recipient.name, email.recipient.address, 'the recipient')),
  ];
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: true });
  const composed = await composer.sendMail({
    headers: { Subject: prepared('Subject', encodeUnstructured(email.subject, 'the subject')), 'Auto-Submitted': 'auto-generated' },
    date: DateTime.fromJSDate(email.date, { zone: email.timeZone }).toRFC2822() ?? email.date.toUTCString(),
    messageId,
    text: email.text.replace(/\r\n|\r|\n/g, '\r\n'),
    envelope,
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  const message = composed.message as Buffer;
  const split = message.indexOf('\r\n\r\n');
  const headers = [...addressFields, ...headerFields(message.subarray(0, split).toString('utf8'))];
  const signature = email.dkim === undefined ? '' : email.dkim.sign(headers, message.subarray(split + 4), email.date);
  return {
    messageId,
    envelope,
    raw: Buffer.concat([Buffer.from(`${signature}${addressFields.join('')}`, 'utf8'), message]),
    subscriberId: email.recipient.subscriberId,
  };
}
