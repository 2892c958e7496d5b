import { createHmac, timingSafeEqual } from 'node:crypto';
import { BriefingError } from '../errors.js';
import { decodeBase32, encodeBase32 } from './base32.js';

/**
 * Per-delivery return addresses (VERP): `bounce+<id>-<edition>-<mac>@domain`, the envelope sender
 * that bounces come back to, and `unsubscribe+<id>-<mac>@domain`, the mailto: of List-Unsubscribe.
 * Only lower-case letters, digits, `+` and `-`, so an MTA that folds the case of a local part
 * changes nothing; the MAC is checked against the subscriber's link key, as link tokens are.
 */

/** What mail to an address means: a returned delivery, or a request to leave the list. */
export type ReturnKind = 'bounce' | 'unsubscribe';

/** The delivery a bounce address names. */
export interface BounceSubject {
  subscriberId: number;
  editionId: string;
  linkKey: string;
}

/** The subscriber an unsubscribe address names (it serves every edition). */
export interface UnsubscribeSubject {
  subscriberId: number;
  linkKey: string;
}

/** A return address as read, not yet verified: the caller looks up the subscriber's link key, then verifies. */
export interface ReturnAddress {
  kind: ReturnKind;
  subscriberId: number;
  editionId: string | null;
  /** The MAC as written (lower-case base32). */
  mac: string;
  /** The domain, lower-cased, for the caller to compare with its own. */
  domain: string;
}

/** RFC 5321: a local part of at most 64 octets, a path of at most 254 (read no further than that). */
const MAX_LOCAL_PART = 64;
const MAX_ADDRESS = 254;
/** 80 bits of HMAC-SHA256: exactly 16 base32 characters, past any online guessing by mail. */
const MAC_BYTES = 10;
const MAC_PATTERN = /^[a-z2-7]{16}$/;
const ID_PATTERN = /^[1-9][0-9]{0,15}$/;
/** The same link-key floor as link tokens: shorter cannot be random enough to stand in for secrecy. */
const MIN_LINK_KEY_LENGTH = 16;
const DOMAIN_PATTERN = /^(?=.{1,200}$)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/;

/**
 * Slot ids (`2025-07-24`, `2025-07-24T09:00`, `2025-07-24T09:00:05`) as their digits behind a
 * letter naming the form (`#` is a digit in the template); anything else as `b` + base32 of its UTF-8.
 */
const EDITION_FORMS = [
  { tag: 'd', template: '####-##-##' },
  { tag: 'm', template: '####-##-##T##:##' },
  { tag: 's', template: '####-##-##T##:##:##' },
] as const;
const GENERAL_TAG = 'b';

/** Whether a text outside the slot forms can be a general edition id: control characters would blur the MAC's field separators, a lone surrogate would not survive UTF-8. */
function writableEditionId(editionId: string): boolean {
  return editionId !== '' && !/[\u0000-\u001f\u007f]/.test(editionId) && Buffer.from(editionId, 'utf8').toString('utf8') === editionId;
}

function fitsTemplate(template: string, text: string): boolean {
  return text.length === template.length && [...template].every((char, index) => (char === '#' ? /[0-9]/.test(text[index] ?? '') : char === text[index]));
}

function encodeEdition(editionId: string): string {
  const form = EDITION_FORMS.find(({ template }) => fitsTemplate(template, editionId));
  if (form !== undefined) return form.tag + editionId.replace(/[^0-9]/g, '');
  if (!writableEditionId(editionId)) {
    throw new BriefingError('returns', 'bad-edition-id', `edition id ${JSON.stringify(editionId.slice(0, 60))} cannot be written in a return address`);
  }
  return GENERAL_TAG + encodeBase32(Buffer.from(editionId, 'utf8'));
}

function decodeEdition(code: string): string | undefined {
  const tag = code.slice(0, 1);
  const body = code.slice(1);
  const form = EDITION_FORMS.find((candidate) => candidate.tag === tag);
  if (form !== undefined) {
    const digits = [...body];
    const editionId = form.template.replace(/#/g, () => digits.shift() ?? 'x');
    return digits.length === 0 && fitsTemplate(form.template, editionId) ? editionId : undefined;
  }
  if (tag !== GENERAL_TAG) return undefined;
  const text = decodeBase32(body)?.toString('utf8');
  // Only what encodeEdition writes for that text reads back: one edition id, one spelling.
  return text !== undefined && writableEditionId(text) && encodeEdition(text) === code ? text : undefined;
}

function mac(secret: string, kind: ReturnKind, subscriberId: number, editionId: string | null, linkKey: string): Buffer {
  return createHmac('sha256', secret)
    .update(`briefing-return\0${kind}\0${subscriberId}\0${editionId ?? ''}\0${linkKey}`)
    .digest()
    .subarray(0, MAC_BYTES);
}

function checkSubject(subscriberId: number, linkKey: string, domain: string): void {
  if (!Number.isSafeInteger(subscriberId) || subscriberId < 1) throw new RangeError(`return address subscriber id must be a positive integer, not ${subscriberId}`);
  if (linkKey.length < MIN_LINK_KEY_LENGTH) throw new RangeError('a return address needs the subscriber link key');
  if (!DOMAIN_PATTERN.test(domain)) throw new BriefingError('returns', 'bad-domain', `return address domain ${JSON.stringify(domain.slice(0, 60))} is not a lower-case domain name`);
}

function address(localPart: string, domain: string): string {
  if (Buffer.byteLength(localPart) > MAX_LOCAL_PART) {
    throw new BriefingError('returns', 'address-too-long', `return address ${localPart}@${domain} has a local part over ${MAX_LOCAL_PART} octets; use a shorter edition id`);
  }
  return `${localPart}@${domain}`;
}

/** The envelope sender of one delivery: bounces of it name the subscriber and the edition. */
export function bounceAddress(secret: string, subject: BounceSubject, domain: string): string {
  checkSubject(subject.subscriberId, subject.linkKey, domain);
  const code = encodeEdition(subject.editionId);
  const signature = encodeBase32(mac(secret, 'bounce', subject.subscriberId, subject.editionId, subject.linkKey));
  return address(`bounce+${subject.subscriberId}-${code}-${signature}`, domain);
}

/** A subscriber's List-Unsubscribe mailto: mail to it (RFC 2369) asks to leave the list. */
export function unsubscribeAddress(secret: string, subject: UnsubscribeSubject, domain: string): string {
  checkSubject(subject.subscriberId, subject.linkKey, domain);
  const signature = encodeBase32(mac(secret, 'unsubscribe', subject.subscriberId, null, subject.linkKey));
  return address(`unsubscribe+${subject.subscriberId}-${signature}`, domain);
}

/**
 * Reads a return address (any case) without verifying it, so the caller can look up the named
 * subscriber's link key; undefined for anything that is not one, and for input over 254 characters.
 */
export function readReturnAddress(input: unknown): ReturnAddress | undefined {
  if (typeof input !== 'string' || input.length > MAX_ADDRESS) return undefined;
  const text = input.toLowerCase();
  const at = text.lastIndexOf('@');
  const localPart = text.slice(0, at);
  const domain = text.slice(at + 1);
  if (at < 1 || localPart.length > MAX_LOCAL_PART || !DOMAIN_PATTERN.test(domain)) return undefined;
  const plus = localPart.indexOf('+');
  if (plus < 0) return undefined;
  const kind = localPart.slice(0, plus);
  const fields = localPart.slice(plus + 1).split('-');
  if (kind === 'bounce' && fields.length === 3) {
    const [id = '', code = '', signature = ''] = fields;
    const editionId = decodeEdition(code);
    if (!ID_PATTERN.test(id) || !MAC_PATTERN.test(signature) || editionId === undefined) return undefined;
    return { kind, subscriberId: Number(id), editionId, mac: signature, domain };
  }
  if (kind === 'unsubscribe' && fields.length === 2) {
    const [id = '', signature = ''] = fields;
    if (!ID_PATTERN.test(id) || !MAC_PATTERN.test(signature)) return undefined;
    return { kind, subscriberId: Number(id), editionId: null, mac: signature, domain };
  }
  return undefined;
}

/**
 * Whether a read return address was signed for the subscriber with this link key, under any of
 * `secrets` (current first, then the previous one during a rotation). Constant time: every secret
 * is tried whichever matches.
 */
export function verifyReturnAddress(secrets: readonly string[], parsed: ReturnAddress, linkKey: string): boolean {
  const given = decodeBase32(parsed.mac);
  if (given === undefined || given.length !== MAC_BYTES || !Number.isSafeInteger(parsed.subscriberId)) return false;
  let matched = false;
  for (const secret of secrets) {
    const expected = mac(secret, parsed.kind, parsed.subscriberId, parsed.kind === 'bounce' ? parsed.editionId : null, linkKey);
    if (timingSafeEqual(given, expected)) matched = true;
  }
  return matched && linkKey.length >= MIN_LINK_KEY_LENGTH && (parsed.kind === 'unsubscribe' || parsed.editionId !== null);
}
