/** RFC 4648 base32 in lower case: what survives an MTA that folds the case of a local part. */
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** Base32 of `bytes`, lower case, without padding (padding `=` is not allowed in a local part). */
export function encodeBase32(bytes: Uint8Array): string {
  let text = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      text += ALPHABET[(buffer >>> bits) & 31];
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) text += ALPHABET[(buffer << (5 - bits)) & 31];
  return text;
}

/**
 * The bytes of unpadded lower-case base32, or undefined for anything else, including a text whose
 * spare trailing bits are not zero: only the canonical spelling decodes, so one value has one text.
 */
export function decodeBase32(text: string): Buffer | undefined {
  const bytes: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of text) {
    const value = ALPHABET.indexOf(char);
    if (value < 0) return undefined;
    buffer = (buffer << 5) | value;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >>> bits) & 255);
    }
    buffer &= (1 << bits) - 1;
  }
  // Leftover bits must be fewer than 5 (else a character carried nothing) and all zero.
  if (bits >= 5 || buffer !== 0) return undefined;
  return Buffer.from(bytes);
}
