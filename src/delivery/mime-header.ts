import { BriefingError } from '../errors.js';

/**
 * Header values of outgoing mail (RFC 5322, RFC 2047): every value that reaches a header passes
 * through here, so a CR, LF or other control character can never start a header of its own.
 */

// C0 controls, DEL, C1 controls, the Unicode line and paragraph separators, and bidi overrides.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const PRINTABLE_ASCII = /^[\u0020-\u007e]*$/;
const ATEXT_PHRASE = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]*$/;
/** RFC 5322 atext, widened to UTF-8 by RFC 6531 (such an address needs SMTPUTF8). */
const DOT_ATOM_LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u{80}-\u{10ffff}-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u{80}-\u{10ffff}-]+)*$/u;
const QUOTED_LOCAL = /^"(?:[\u0020\u0021\u0023-\u005b\u005d-\u007e]|\\[\u0020-\u007e])*"$/;
const DOMAIN = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const ADDRESS_LITERAL = /^\[[\u0021-\u005a\u005e-\u007e]+\]$/;
/** Bytes of UTF-8 per encoded-word: 45 bytes → 60 base64 characters → 72 with `=?UTF-8?B?…?=`, under RFC 2047's 75. */
const ENCODED_WORD_BYTES = 45;
const SOFT_LINE = 78;
const HARD_LINE = 998;

function unsafe(what: string, problem: string): BriefingError {
  return new BriefingError('delivery', 'unsafe-header', `${what} ${problem}`);
}

/** Refuses a value with a line break or control character; names only `what`, never the value. */
export function refuseControlCharacters(value: string, what: string): void {
  if (CONTROL_CHARACTERS.test(value)) throw unsafe(what, 'contains a line break or control character');
}

/**
 * Checks an envelope/header address (addr-spec: dot-atom or quoted local part, UTF-8 allowed in a
 * dot-atom; host name or address literal, international domains arrive IDNA-encoded). Returns it
 * unchanged.
 */
export function checkAddress(address: string, what: string): string {
  refuseControlCharacters(address, what);
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (at < 1 || Buffer.byteLength(address) > 254 || Buffer.byteLength(local) > 64) throw unsafe(what, 'is not a valid address');
  if (!DOT_ATOM_LOCAL.test(local) && !QUOTED_LOCAL.test(local)) throw unsafe(what, 'is not a valid address');
  if (!DOMAIN.test(domain) && !ADDRESS_LITERAL.test(domain)) throw unsafe(what, 'has an invalid domain');
  return address;
}

/** True for an address with UTF-8 in it: it travels only with SMTPUTF8 (RFC 6531), raw in the headers (RFC 6532). */
export function needsSmtpUtf8(address: string): boolean {
  return !PRINTABLE_ASCII.test(address);
}

/** RFC 2047 B encoded-words of whole characters, one per folded line. */
function encodedWords(value: string): string {
  const words: string[] = [];
  let chunk: Buffer[] = [];
  let size = 0;
  for (const character of value) {
    const bytes = Buffer.from(character, 'utf8');
    if (size + bytes.length > ENCODED_WORD_BYTES && size > 0) {
      words.push(`=?UTF-8?B?${Buffer.concat(chunk).toString('base64')}?=`);
      chunk = [];
      size = 0;
    }
    chunk.push(bytes);
    size += bytes.length;
  }
  if (size > 0) words.push(`=?UTF-8?B?${Buffer.concat(chunk).toString('base64')}?=`);
  return words.join('\r\n ');
}

/**
 * An unstructured value (Subject): as is when printable ASCII without a look-alike of an
 * encoded-word, else encoded-words. Control characters are refused.
 */
export function encodeUnstructured(value: string, what: string): string {
  refuseControlCharacters(value, what);
  if (PRINTABLE_ASCII.test(value) && !value.includes('=?')) return value;
  return encodedWords(value);
}

/** A display name as an RFC 5322 phrase: atoms, a quoted string, or encoded-words. */
export function encodePhrase(name: string, what: string): string {
  refuseControlCharacters(name, what);
  if (ATEXT_PHRASE.test(name) && !name.includes('=?') && name.trim() === name && name !== '') return name;
  if (PRINTABLE_ASCII.test(name) && !name.includes('=?')) return `"${name.replace(/(["\\])/g, '\\$1')}"`;
  return encodedWords(name);
}

/** `Name <address>`, or `<address>` alone when there is no name. */
export function formatMailbox(name: string | null | undefined, address: string, what: string): string {
  checkAddress(address, `${what} address`);
  const phrase = name ? encodePhrase(name, `${what} name`) : '';
  return phrase === '' ? `<${address}>` : `${phrase} <${address}>`;
}

/**
 * One header field with CRLF, folded at spaces to keep lines near 78 characters; a line that still
 * passes 998 (a giant URL) is refused rather than sent broken.
 */
export function headerLine(name: string, value: string): string {
  const lines: string[] = [];
  for (const [index, line] of `${name}: ${value}`.split('\r\n').entries()) {
    // Never fold at the space after the colon or the one a continuation line starts with.
    let first = index === 0 ? name.length + 2 : 1;
    let rest = line;
    while (rest.length > SOFT_LINE) {
      const before = rest.lastIndexOf(' ', SOFT_LINE);
      const at = before >= first ? before : rest.indexOf(' ', Math.max(SOFT_LINE, first));
      if (at < first) break;
      lines.push(rest.slice(0, at));
      rest = rest.slice(at);
      first = 1;
    }
    lines.push(rest);
  }
  refuseLongLines(lines, `the ${name} header`);
  return `${lines.join('\r\n')}\r\n`;
}

function refuseLongLines(lines: readonly string[], what: string): void {
  if (lines.some((line) => line.length > HARD_LINE)) throw unsafe(what, `has a line longer than ${HARD_LINE} characters`);
}

/** The value of headerLine(name, value) without its name and CRLF: folded the same, for a composer that writes the name. */
export function foldedHeaderValue(name: string, value: string): string {
  return headerLine(name, value).slice(name.length + 2, -2);
}
