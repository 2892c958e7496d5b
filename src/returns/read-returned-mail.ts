import { createHash } from 'node:crypto';
import type { Attachment, Headers, ParsedMail } from 'mailparser';
import { RETURNS_DEFAULTS } from '../config.js';
import { headerAddresses, headerText, listUnsubscribeMailbox, oneLine, parseMail, readFieldGroups } from './parse-mail.js';
import { readReturnAddress, type ReturnKind } from './return-address.js';

/** What a returned message is: a failed or delayed delivery (RFC 3464), a complaint (RFC 5965), a mailto unsubscribe (RFC 2369), or none of these. */
export type ReturnedMailKind = 'hard-bounce' | 'soft-bounce' | 'complaint' | 'unsubscribe' | 'unknown';

/** One returned message as read, before any return address in it is verified. */
export interface ReturnedMail {
  kind: ReturnedMailKind;
  /** The Message-ID, else `sha256:` and the hash of the raw bytes: the same message read twice has the same key. */
  key: string;
  /**
   * Candidate `bounce+`/`unsubscribe+` addresses (lower case), most trustworthy first: those the
   * receiving MTA wrote (X-Original-To, Delivered-To) before those the sender wrote. Never empty
   * unless the kind is unknown. Each must still be verified against the subscriber's link key.
   */
  returnAddresses: string[];
  /** The DSN status code of the worst recipient (`5.1.1`), when there is one. */
  status: string | null;
  /** One line for the record: the Diagnostic-Code, `Feedback-Type: abuse`, the subject. */
  detail: string;
  /** Why the message is unknown; empty otherwise. */
  why: string;
}

/** Bounds on reading returned mail. */
export interface ReturnedMailLimits {
  /** Larger messages are not parsed (they are unknown); `returns.maxMessageBytes` of the config. */
  maxBytes: number;
}

export const DEFAULT_RETURNED_MAIL_LIMITS: ReturnedMailLimits = { maxBytes: RETURNS_DEFAULTS.maxMessageBytes };

const MAX_DETAIL = 200;
const MAX_KEY = 250;
/** RFC 3463 status codes: class 2, 4 or 5, then subject and detail. */
const STATUS = /^[245]\.[0-9]{1,3}\.[0-9]{1,3}$/;
/** RFC 5965 and its registry: the feedback types that mean "this recipient did not want this mail". */
const COMPLAINT_TYPES = new Set(['abuse', 'fraud', 'virus']);
const ENVELOPE_HEADERS = ['x-original-to', 'delivered-to', 'to'];
/** Where a report carries the returned original: whole, or its header only. */
const ORIGINAL_TYPES = new Set(['message/rfc822', 'message/global', 'text/rfc822-headers', 'message/global-headers']);

type Severity = 'hard' | 'soft' | 'none';

interface RecipientOutcome {
  severity: Severity;
  status: string | null;
  detail: string;
}

function sha256Key(raw: Buffer): string {
  return `sha256:${createHash('sha256').update(raw).digest('hex')}`;
}

function unknown(key: string, why: string, detail = ''): ReturnedMail {
  return { kind: 'unknown', key, returnAddresses: [], status: null, detail, why };
}

/** The lower-case return addresses of the wanted kinds among `candidates`, first occurrence first. */
function returnAddresses(candidates: readonly string[], kinds: readonly ReturnKind[]): string[] {
  const found = candidates.map((address) => address.toLowerCase()).filter((address) => {
    const parsed = readReturnAddress(address);
    return parsed !== undefined && kinds.includes(parsed.kind);
  });
  return [...new Set(found)];
}

function envelopeAddresses(headers: Headers): string[] {
  return ENVELOPE_HEADERS.flatMap((name) => headerAddresses(headers, name));
}

/** A part directly under the top-level multipart/report (mailparser numbers nested parts `3.1`, …). */
function reportPart(mail: ParsedMail, types: ReadonlySet<string>): Attachment | undefined {
  return mail.attachments.find((part) => typeof part.partId === 'string' && !part.partId.includes('.') && types.has(part.contentType.toLowerCase()));
}

/** The headers of the returned original (message/rfc822 or text/rfc822-headers), when the report carries it. */
async function originalHeaders(mail: ParsedMail): Promise<Headers | undefined> {
  const part = reportPart(mail, ORIGINAL_TYPES);
  if (part === undefined) return undefined;
  const original = await parseMail(part.content);
  return typeof original === 'string' ? undefined : original.headers;
}

/** What one recipient's fields say: failed with 5.x.x is hard; failed with 4.x.x, or delayed, is soft. */
function recipientOutcome(fields: Headers): RecipientOutcome | undefined {
  const action = headerText(fields, 'action')?.trim().toLowerCase();
  const statusText = headerText(fields, 'status')?.trim().split(/\s/)[0];
  if (action === undefined && statusText === undefined) return undefined;
  const status = statusText !== undefined && STATUS.test(statusText) ? statusText : null;
  const severity: Severity = action === 'delayed' ? 'soft' : action !== 'failed' || status === null ? 'none' : status.startsWith('5') ? 'hard' : status.startsWith('4') ? 'soft' : 'none';
  const diagnostic = headerText(fields, 'diagnostic-code');
  const detail = oneLine(diagnostic ?? `Action: ${action ?? '(none)'}; Status: ${statusText ?? '(none)'}`, MAX_DETAIL);
  return { severity, status, detail };
}

const SEVERITY_ORDER: Record<Severity, number> = { hard: 2, soft: 1, none: 0 };

async function readDeliveryStatus(mail: ParsedMail, key: string): Promise<ReturnedMail> {
  const part = reportPart(mail, new Set(['message/delivery-status', 'message/global-delivery-status']));
  if (part === undefined) return unknown(key, 'a delivery-status report without its message/delivery-status part');
  const outcomes = (await readFieldGroups(part.content)).map(recipientOutcome).filter((outcome) => outcome !== undefined);
  const worst = outcomes.reduce<RecipientOutcome | undefined>((chosen, outcome) => (chosen === undefined || SEVERITY_ORDER[outcome.severity] > SEVERITY_ORDER[chosen.severity] ? outcome : chosen), undefined);
  if (worst === undefined || worst.severity === 'none') return unknown(key, 'a delivery-status report with no failed or delayed recipient', worst?.detail);
  const original = await originalHeaders(mail);
  // The DSN comes to the envelope sender, our bounce+ address; the original's Return-Path says it again.
  const candidates = [...envelopeAddresses(mail.headers), ...(original === undefined ? [] : headerAddresses(original, 'return-path'))];
  const addresses = returnAddresses(candidates, ['bounce']);
  if (addresses.length === 0) return unknown(key, 'a delivery-status report naming no bounce+ address', worst.detail);
  return { kind: worst.severity === 'hard' ? 'hard-bounce' : 'soft-bounce', key, returnAddresses: addresses, status: worst.status, detail: worst.detail, why: '' };
}

async function readFeedbackReport(mail: ParsedMail, key: string): Promise<ReturnedMail> {
  const part = reportPart(mail, new Set(['message/feedback-report']));
  if (part === undefined) return unknown(key, 'a feedback report without its message/feedback-report part');
  const [fields] = await readFieldGroups(part.content);
  const type = fields === undefined ? undefined : headerText(fields, 'feedback-type')?.trim().toLowerCase();
  const detail = oneLine(`Feedback-Type: ${type ?? '(none)'}`, MAX_DETAIL);
  if (fields === undefined || type === undefined || !COMPLAINT_TYPES.has(type)) return unknown(key, `a feedback report that is not a complaint (${detail})`, detail);
  // Providers redact the recipient, so the original's To is never used: its return path and unsubscribe mailbox name the delivery.
  const original = await originalHeaders(mail);
  const mailto = original === undefined ? undefined : listUnsubscribeMailbox(original);
  const candidates = [
    ...(original === undefined ? [] : headerAddresses(original, 'return-path')),
    // The original's envelope sender as the report states it (RFC 5965 Original-Mail-From).
    ...headerAddresses(fields, 'original-mail-from'),
    ...(mailto === undefined ? [] : [mailto]),
    ...envelopeAddresses(mail.headers),
  ];
  const addresses = returnAddresses(candidates, ['bounce', 'unsubscribe']);
  if (addresses.length === 0) return unknown(key, 'a complaint naming no bounce+ or unsubscribe+ address', detail);
  return { kind: 'complaint', key, returnAddresses: addresses, status: null, detail, why: '' };
}

/** Mail to an unsubscribe+ address (RFC 2369 mailto), whatever its subject and body; From is never trusted. */
function readMailtoUnsubscribe(mail: ParsedMail, key: string): ReturnedMail {
  const addresses = returnAddresses(envelopeAddresses(mail.headers), ['unsubscribe']);
  if (addresses.length === 0) return unknown(key, 'neither a report nor addressed to an unsubscribe+ address');
  // A vacation reply (RFC 3834) answers a message; it asks for nothing.
  if (headerText(mail.headers, 'auto-submitted')?.trim().toLowerCase().startsWith('auto-replied')) {
    return unknown(key, 'an automatic reply (Auto-Submitted: auto-replied) to an unsubscribe+ address');
  }
  return { kind: 'unsubscribe', key, returnAddresses: addresses, status: null, detail: oneLine(`Subject: ${mail.subject ?? ''}`, MAX_DETAIL), why: '' };
}

/** The report type of a top-level multipart/report (`delivery-status`, `feedback-report`, …), else undefined. */
function reportType(mail: ParsedMail): string | undefined {
  const contentType = mail.headers.get('content-type') as { value?: unknown; params?: Record<string, unknown> } | undefined;
  if (typeof contentType?.value !== 'string' || contentType.value.toLowerCase() !== 'multipart/report') return undefined;
  const type = contentType.params?.['report-type'];
  return typeof type === 'string' ? type.trim().toLowerCase() : '';
}

/**
 * Reads one returned message: a DSN, an ARF complaint, a mailto unsubscribe, or unknown (with why).
 * Parsed with mailparser under size bounds; never throws, whatever the input.
 */
export async function readReturnedMail(raw: Buffer, limits: ReturnedMailLimits = DEFAULT_RETURNED_MAIL_LIMITS): Promise<ReturnedMail> {
  if (raw.length > limits.maxBytes) return unknown(sha256Key(raw), `larger than ${limits.maxBytes} bytes (${raw.length}); not read`);
  const mail = await parseMail(raw);
  if (typeof mail === 'string') return unknown(sha256Key(raw), mail);
  const messageId = oneLine(mail.messageId ?? '', MAX_KEY + 1);
  const key = messageId !== '' && messageId.length <= MAX_KEY ? messageId : sha256Key(raw);
  const type = reportType(mail);
  if (type === 'delivery-status') return readDeliveryStatus(mail, key);
  if (type === 'feedback-report') return readFeedbackReport(mail, key);
  if (type !== undefined) return unknown(key, `a multipart/report of type ${JSON.stringify(oneLine(type, 60))}, neither a DSN nor a feedback report`);
  return readMailtoUnsubscribe(mail, key);
}
