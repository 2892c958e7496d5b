import { isIP, isIPv4, isIPv6 } from 'node:net';
import { domainToASCII } from 'node:url';

/** A valid address, and the key that makes duplicates (case-insensitive domain, local part equal but for ASCII case) equal. */
export interface ParsedAddress {
  ok: true;
  /** Local part as given (quotes only where needed) + `@` + the lower-case ASCII (IDNA) domain. */
  address: string;
  /**
   * `address` with its local part in Unicode NFC and its ASCII letters lower-cased: the unique key of
   * a subscriber and of the per-address limits (`Reader.One@` and `reader.one@` are one mailbox).
   * Only ASCII is folded, as the store's migration does in SQL, so both always agree.
   */
  key: string;
}

/** Why a text is not an address, phrased to follow the field name (`address: …`). */
export interface Refusal {
  ok: false;
  problem: string;
}

/** C0/C1 controls (CR, LF, TAB, NUL …), line separators and bidi overrides: refused in every field. */
const FORBIDDEN = /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;
/** RFC 5322 atext, widened to UTF-8 by RFC 6531. */
const DOT_ATOM = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u{80}-\u{10ffff}]+(?:\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u{80}-\u{10ffff}]+)*$/u;
/** RFC 5321 Quoted-string: qtextSMTP (space included) or a quoted pair, UTF-8 allowed (RFC 6531). */
const QUOTED_STRING = /^"(?:[\x20\x21\x23-\x5b\x5d-\x7e\u{80}-\u{10ffff}]|\\[\x20-\x7e])*"$/u;
/** What a domain may be written with before IDNA: letters, marks and digits of any script, `-`, dots. */
const DOMAIN_TEXT = /^[\p{L}\p{M}\p{N}\-.\u3002\uff0e\uff61]+$/u;
const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

const LIMITS = { local: 64, domain: 255, label: 63, address: 254 } as const;

function refuse(problem: string): Refusal {
  return { ok: false, problem };
}

function octets(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Shows hostile input safely inside a message: control characters become `\u` escapes. */
export function quoteForMessage(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
}

/** The local part in its simplest RFC 5321 form: a dot-atom when it can be one, else a minimal quoted string. */
function canonicalLocal(local: string): string | Refusal {
  if (DOT_ATOM.test(local)) return local;
  if (!QUOTED_STRING.test(local)) {
    return refuse(`${quoteForMessage(local)} is not a valid local part (letters, digits, ${"!#$%&'*+-/=?^_`{|}~"} and single dots, or a quoted string)`);
  }
  const content = local.slice(1, -1).replace(/\\(.)/gu, '$1');
  if (content === '') return refuse('the local part is empty');
  return DOT_ATOM.test(content) ? content : `"${content.replace(/(["\\])/g, '\\$1')}"`;
}

/** The domain as lower-case ASCII: IDNA (UTS 46) for international names, or an address literal. */
function asciiDomain(domain: string): string | Refusal {
  if (domain.startsWith('[') && domain.endsWith(']')) {
    const literal = domain.slice(1, -1);
    if (/^ipv6:/i.test(literal) && isIPv6(literal.slice(5))) return `[IPv6:${literal.slice(5).toLowerCase()}]`;
    if (isIPv4(literal)) return domain;
    return refuse(`${quoteForMessage(domain)} is not a valid address literal`);
  }
  if (!DOMAIN_TEXT.test(domain)) {
    return refuse(`the domain ${quoteForMessage(domain)} may only contain letters, digits, hyphens and dots`);
  }
  // Plain ASCII names need no IDNA mapping (the common case, and a fast path for large imports).
  const ascii = /^[A-Za-z0-9.-]+$/.test(domain) && !/(^|\.)xn--/i.test(domain) ? domain.toLowerCase() : domainToASCII(domain);
  if (ascii === '') return refuse(`the domain ${quoteForMessage(domain)} is not a valid international domain name`);
  if (octets(ascii) > LIMITS.domain) return refuse(`the domain is longer than ${LIMITS.domain} octets`);
  const labels = ascii.split('.');
  if (labels.length < 2) return refuse(`the domain ${quoteForMessage(domain)} needs a dot (a top-level domain alone receives no mail)`);
  for (const label of labels) {
    if (label.length > LIMITS.label) return refuse(`a domain label is longer than ${LIMITS.label} octets`);
    if (!LDH_LABEL.test(label)) return refuse(label === '' ? `the domain ${quoteForMessage(domain)} has an empty label` : `the domain ${quoteForMessage(domain)} has an invalid label ${quoteForMessage(label)}`);
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? '')) {
    return refuse(`the domain ${quoteForMessage(domain)} looks like an IP address; write it as [1.2.3.4]`);
  }
  return ascii;
}

/**
 * Validates an address (RFC 5321/5322 addr-spec, RFC 6531 UTF-8 local parts, IDNA domains) and
 * returns its stored form and duplicate key; refuses control characters anywhere.
 */
export function parseAddress(input: string): ParsedAddress | Refusal {
  if (FORBIDDEN.test(input)) return refuse('contains a control character (CR, LF, TAB or similar)');
  const text = input.trim();
  if (text === '') return refuse('is empty');
  const at = text.lastIndexOf('@');
  if (at <= 0 || at === text.length - 1) return refuse(`${quoteForMessage(text)} is not an address: it needs a name, an @ and a domain, like you@example.org`);
  const local = canonicalLocal(text.slice(0, at));
  if (typeof local !== 'string') return local;
  if (octets(local) > LIMITS.local) return refuse(`the local part is longer than ${LIMITS.local} octets`);
  const domain = asciiDomain(text.slice(at + 1));
  if (typeof domain !== 'string') return domain;
  const address = `${local}@${domain}`;
  if (octets(address) > LIMITS.address) return refuse(`is longer than ${LIMITS.address} octets`);
  return { ok: true, address, key: `${local.normalize('NFC').replace(/[A-Z]+/g, (letters) => letters.toLowerCase())}@${domain}` };
}

/** A display name, or null for none. */
export interface NormalisedName {
  ok: true;
  name: string | null;
}

const NAME_MAX_LENGTH = 200;

/** Trims a display name, folds runs of white space and applies NFC; refuses control characters. */
export function normaliseName(input: string | null | undefined): NormalisedName | Refusal {
  if (input === null || input === undefined) return { ok: true, name: null };
  if (FORBIDDEN.test(input)) return refuse('contains a control character (CR, LF, TAB or similar)');
  const name = input.normalize('NFC').replace(/\s+/gu, ' ').trim();
  if ([...name].length > NAME_MAX_LENGTH) return refuse(`is longer than ${NAME_MAX_LENGTH} characters`);
  return { ok: true, name: name === '' ? null : name };
}

/** True for hosts whose traffic never leaves the machine (where a password may travel unencrypted). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  return bare === 'localhost' || bare === '::1' || (isIP(bare) === 4 && bare.startsWith('127.'));
}
