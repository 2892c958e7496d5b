import { createHash, randomBytes } from 'node:crypto';
import { DateTime } from 'luxon';
import type { Briefing, TokenField } from '../email/briefing.js';
import { tokenSplitter, tokenValue, type SplitBody } from '../email/personalise.js';
import { BriefingError } from '../errors.js';
import type { DkimSigner } from './dkim.js';
import { checkAddress, encodePhrase, encodeUnstructured, formatMailbox, headerLine, refuseControlCharacters } from './mime-header.js';
import { quotedPrintable } from './quoted-printable.js';
import { dotSafe, pieceShape, type PieceShape } from './smtp-transparency.js';
import type { OutgoingMessage } from './transport.js';

/** Publication facts every message of an edition carries. */
export interface MessageOptions {
  sender: { name: string; address: string; replyTo?: string | undefined; unsubscribeAddress?: string | undefined };
  /** `List-Id` identifier (a domain-like name) and the list's human name. */
  listId: string;
  listName: string;
  /** Zone of the `Date` header (the publication's). */
  timeZone: string;
  /** `[TEST] ` for test copies sent with `send --to`. */
  subjectPrefix?: string;
  /** Signs each message when DKIM is configured. */
  dkim?: DkimSigner | undefined;
}

/** Who one message goes to; `subscriberId` is null for a test copy to an address outside the list. */
export interface MessageRecipient {
  subscriberId: number | null;
  address: string;
  name: string | null;
  unsubscribeUrl: string;
  /** The signed link to the subscriber's preference page, in the body's footer. */
  preferencesUrl: string;
  /**
   * This message's own return addresses when returned mail is read (VERP): the envelope sender that
   * bounces come back to, and the mailto: of List-Unsubscribe. Absent: the publication's fixed ones.
   */
  returns?: { envelopeFrom: string; unsubscribeMailto: string };
}

/** A personalised value goes into the text part as is and into the HTML part escaped. */
interface Slot {
  field: TokenField;
  html: boolean;
  /** Whether more of the same part follows the slot (then it ends with a soft line break). */
  more: boolean;
}

/**
 * The edition's message with everything that is the same for every recipient built and encoded
 * once: header fields, MIME structure, the quoted-printable body around the personal tokens.
 */
export interface MessageTemplate {
  readonly editionId: string;
  readonly subject: string;
  readonly fromAddress: string;
  /** Header fields that follow the personal ones (From … Content-Type), each with CRLF. */
  readonly staticHeaders: readonly string[];
  /** The body: encoded bytes and personal slots, in order. */
  readonly body: ReadonlyArray<Buffer | Slot>;
  /** Each encoded piece's shape for SMTP's dot-stuffing (undefined at a slot), found once. */
  readonly bodyShapes: ReadonlyArray<PieceShape | undefined>;
  readonly mailto: string | undefined;
  /** Message-ID parts: the edition id as a dot-atom part, and the list id as the domain. */
  readonly messageIdEdition: string;
  readonly messageIdDomain: string;
  readonly timeZone: string;
  readonly dkim: DkimSigner | undefined;
  /** The last Date header formatted, kept with the template (not the module) so editions never share it. */
  readonly lastDate: { second: number; text: string };
  /** Bytes every message has (fixed headers and body pieces): sizes the sender's reusable buffers. */
  readonly size: number;
}

const CRLF = '\r\n';

/**
 * Splits one part at its tokens (cut by the one token substituter, see tokenSplitter) into encoded
 * static bytes and slots; a slot's `more` says whether non-empty content of the part follows it.
 */
function encodePart(content: string, html: boolean, split: (body: string) => SplitBody): Array<Buffer | Slot> {
  const { parts, fields } = split(content);
  const result: Array<Buffer | Slot> = [];
  // Whether anything follows: a field still to come (fields are never empty), or a non-empty part from `nextPart` on.
  const followed = (nextPart: number, fieldLeft: boolean): boolean => fieldLeft || parts.slice(nextPart).some((rest) => rest !== '');
  parts.forEach((part, index) => {
    if (part !== '') result.push(Buffer.from(quotedPrintable(part, followed(index + 1, index < fields.length)), 'ascii'));
    const field = fields[index];
    if (field !== undefined) result.push({ field, html, more: followed(index + 1, index + 1 < fields.length) });
  });
  return result;
}

function partHeader(boundary: string, type: string): Buffer {
  return Buffer.from(
    `--${boundary}${CRLF}Content-Type: ${type}; charset=utf-8${CRLF}Content-Transfer-Encoding: quoted-printable${CRLF}${CRLF}`,
    'ascii',
  );
}

/**
 * Builds the edition's MessageTemplate once: checks every fixed value that reaches a header and
 * encodes the static bytes, so personalising a message only adds the recipient's own bytes.
 */
export function prepareMessage(briefing: Briefing, options: MessageOptions): MessageTemplate {
  const subject = `${options.subjectPrefix ?? ''}${briefing.subject}`;
  refuseControlCharacters(briefing.editionId, 'the edition id');
  refuseControlCharacters(options.listId, 'the list id');
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(options.listId) || options.listId.includes('..')) {
    throw new BriefingError('delivery', 'unsafe-header', 'the list id is not a domain-like name');
  }
  const mailto = options.sender.unsubscribeAddress === undefined ? undefined : checkAddress(options.sender.unsubscribeAddress, 'the unsubscribe address');
  // It goes into List-Unsubscribe as a mailto URL, where `=?` may be decoded as an encoded-word.
  if (mailto?.includes('=?')) throw new BriefingError('delivery', 'unsafe-header', 'the unsubscribe address contains "=?"');
  const boundary = `=_briefing_${randomBytes(12).toString('hex')}`;
  const staticHeaders = [
    headerLine('From', formatMailbox(options.sender.name, options.sender.address, 'the sender')),
    ...(options.sender.replyTo === undefined ? [] : [headerLine('Reply-To', formatMailbox(null, options.sender.replyTo, 'the reply-to'))]),
    headerLine('Subject', encodeUnstructured(subject, 'the subject')),
    headerLine('List-Id', `${encodePhrase(options.listName, 'the list name')} <${options.listId}>`),
    headerLine('List-Unsubscribe-Post', 'List-Unsubscribe=One-Click'),
    headerLine('MIME-Version', '1.0'),
    headerLine('Content-Type', `multipart/alternative; boundary="${boundary}"`),
  ];
  const split = tokenSplitter(briefing);
  const body: Array<Buffer | Slot> = [
    partHeader(boundary, 'text/plain'),
    ...encodePart(briefing.text, false, split),
    Buffer.from(CRLF),
    partHeader(boundary, 'text/html'),
    ...encodePart(briefing.html, true, split),
    Buffer.from(`${CRLF}--${boundary}--${CRLF}`, 'ascii'),
  ];
  return {
    editionId: briefing.editionId,
    subject,
    fromAddress: options.sender.address,
    staticHeaders,
    body,
    bodyShapes: body.map((piece) => (Buffer.isBuffer(piece) ? pieceShape(piece) : undefined)),
    mailto,
    messageIdEdition: briefing.editionId.replace(/[^A-Za-z0-9-]/g, '-'),
    // A dot-atom by the check above.
    messageIdDomain: options.listId,
    timeZone: options.timeZone,
    dkim: options.dkim,
    lastDate: { second: Number.NaN, text: '' },
    size: staticHeaders.reduce((sum, header) => sum + Buffer.byteLength(header), 0) + body.reduce((sum, piece) => sum + (Buffer.isBuffer(piece) ? piece.length : 0), 0),
  };
}

/** `<edition.subscriber.hash@list-id>`: the same for every attempt, so receivers can drop a resent copy. */
function messageId(template: MessageTemplate, recipient: MessageRecipient): string {
  const who = recipient.subscriberId === null ? `test-${randomBytes(6).toString('hex')}` : String(recipient.subscriberId);
  const hash = createHash('sha256').update(`${template.editionId}\0${who}\0${recipient.address.toLowerCase()}`).digest('hex').slice(0, 16);
  return `<${template.messageIdEdition}.${who}.${hash}@${template.messageIdDomain}>`;
}

/** RFC 5322 date in the publication's zone; formatted once per second however many messages go out. */
function formatDate(template: MessageTemplate, date: Date): string {
  const second = Math.floor(date.getTime() / 1000);
  const last = template.lastDate;
  if (last.second !== second) {
    last.text = DateTime.fromMillis(second * 1000, { zone: template.timeZone }).toRFC2822() ?? new Date(second * 1000).toUTCString();
    last.second = second;
  }
  return last.text;
}

/** Joins the pieces into `scratch` when it is big enough (no allocation per message), else into a new Buffer. */
function join(pieces: readonly Buffer[], scratch: Buffer | undefined): Buffer {
  const length = pieces.reduce((sum, piece) => sum + piece.length, 0);
  if (scratch === undefined || scratch.length < length) return Buffer.concat(pieces, length);
  let offset = 0;
  for (const piece of pieces) offset += piece.copy(scratch, offset);
  return scratch.subarray(0, length);
}

/**
 * One recipient's message: the template's bytes plus this recipient's To, Date, Message-ID,
 * List-Unsubscribe and body values (and a DKIM signature when configured). Throws BriefingError
 * for a recipient whose address, name or link cannot go in a header safely. With `scratch`, the
 * message is written into it when it fits: the caller reuses it once the message is sent.
 */
export function personaliseMessage(template: MessageTemplate, recipient: MessageRecipient, date: Date, scratch?: Buffer): OutgoingMessage {
  refuseControlCharacters(recipient.unsubscribeUrl, 'the unsubscribe link');
  // Printable ASCII but for the comma and angle brackets that delimit List-Unsubscribe entries, and
  // no `=?`: readers that decode encoded-words in this field (Python's email does) would make it CR LF.
  if (!/^https?:\/\/[!-+\--;=?-~]+$/.test(recipient.unsubscribeUrl) || recipient.unsubscribeUrl.includes('=?')) {
    throw new BriefingError('delivery', 'unsafe-header', 'the unsubscribe link is not an ASCII http(s) URL without spaces, commas, angle brackets or "=?"');
  }
  const id = messageId(template, recipient);
  const returns = recipient.returns === undefined ? undefined : { envelopeFrom: checkAddress(recipient.returns.envelopeFrom, 'the return path'), mailto: checkAddress(recipient.returns.unsubscribeMailto, 'the unsubscribe address') };
  if (returns?.mailto.includes('=?')) throw new BriefingError('delivery', 'unsafe-header', 'the unsubscribe address contains "=?"');
  const mailto = returns?.mailto ?? template.mailto;
  const unsubscribe = mailto === undefined ? `<${recipient.unsubscribeUrl}>` : `<${recipient.unsubscribeUrl}>, <mailto:${mailto}?subject=unsubscribe>`;
  const personalHeaders = [
    headerLine('To', formatMailbox(recipient.name, recipient.address, 'the recipient')),
    headerLine('Date', formatDate(template, date)),
    headerLine('Message-ID', id),
    headerLine('List-Unsubscribe', unsubscribe),
  ];
  const headers = [...personalHeaders, ...template.staticHeaders];
  // The same slot kind often recurs (the unsubscribe link in both parts): its value is made, encoded and shaped once.
  const encoded = new Map<string, { bytes: Buffer; shape: PieceShape }>();
  const pieces = template.body.map((piece, index) => {
    if (Buffer.isBuffer(piece)) return { bytes: piece, shape: template.bodyShapes[index] as PieceShape };
    const key = `${piece.field}${piece.html ? '<' : '.'}${piece.more ? '+' : '.'}`;
    let value = encoded.get(key);
    if (value === undefined) {
      const bytes = Buffer.from(quotedPrintable(tokenValue(recipient, piece.field, piece.html), piece.more), 'ascii');
      value = { bytes, shape: pieceShape(bytes) };
      encoded.set(key, value);
    }
    return value;
  });
  let body = pieces.map((piece) => piece.bytes);
  let signature = '';
  if (template.dkim !== undefined) {
    const whole = Buffer.concat(body);
    signature = template.dkim.sign(headers, whole, date);
    body = [whole];
  }
  // UTF-8 only where an RFC 6531 address stands; everything else in the head is ASCII.
  const head = Buffer.from(`${signature}${headers.join('')}${CRLF}`, 'utf8');
  // Only the head is scanned per message: the body's shapes are the template's and the slots'.
  const safe = dotSafe([pieceShape(head), ...pieces.map((piece) => piece.shape)]);
  return {
    messageId: id,
    envelope: { from: returns?.envelopeFrom ?? template.fromAddress, to: recipient.address },
    raw: join([head, ...body], scratch),
    ...(safe ? { dotSafe: true } : {}),
    ...(recipient.subscriberId === null ? {} : { subscriberId: recipient.subscriberId }),
  };
}
