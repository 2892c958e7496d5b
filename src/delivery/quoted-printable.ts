import { encode as encodeQuotedPrintable, wrap as wrapQuotedPrintable } from 'libqp';

const CRLF = '\r\n';
/** Two short of RFC 2045's 76, so a line-leading dot can become `=2E` (see quotedPrintable). */
const QP_LINE = 74;

/**
 * Printable ASCII: libqp's encoder keeps every character of it but `=`, a space that ends a line
 * and a hyphen that starts one (so no line can pass for a MIME boundary).
 */
const PLAIN_ASCII = /^[\x20-\x7e]*$/;

/**
 * libqp's quoted-printable encoding of `text` (nodemailer's published encoder). Personal values (links, addresses, most
 * names) are printable ASCII, where the result is the text with `=` written `=3D`: one string
 * instead of the encoder's one per character, for every slot of every message.
 */
function encode(text: string): string {
  if (PLAIN_ASCII.test(text) && !text.endsWith(' ') && !text.startsWith('-')) return text.replaceAll('=', '=3D');
  return encodeQuotedPrintable(Buffer.from(text, 'utf8'));
}

/**
 * Quoted-printable lines of at most 76 characters; `softBreak` ends the piece on a new line. A dot
 * that starts a line is written `=2E`: no line of the body then needs SMTP dot-stuffing, so the
 * client sends the message bytes as they are, without a copy.
 */
export function quotedPrintable(value: string, softBreak: boolean): string {
  const wrapped = wrapQuotedPrintable(encode(value.replace(/\r\n|\r|\n/g, CRLF)), QP_LINE);
  const encoded = wrapped.replace(/(^|\r\n)\./g, '$1=2E');
  return softBreak && !encoded.endsWith(CRLF) ? `${encoded}=${CRLF}` : encoded;
}
