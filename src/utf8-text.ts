import { isUtf8 } from 'node:buffer';

/**
 * Where text that must be UTF-8 is not: a file saved in another encoding (Latin-1, Windows-1252)
 * would otherwise turn each such byte into U+FFFD without a word, in pages, feeds and the list.
 */
export interface NotUtf8 {
  /** Offset of the first byte that is not part of well-formed UTF-8. */
  offset: number;
  /** Its line, from 1 (line feeds before it, plus one). */
  line: number;
  /** The byte, as the message shows it (`0xE9`). */
  byte: string;
}

/** Whether `bytes` are well-formed UTF-8, and if not, where they first are not. */
export function checkUtf8(bytes: Uint8Array): NotUtf8 | undefined {
  // The native check is fast; the scan below runs only for bytes already known to be bad.
  if (isUtf8(bytes)) return undefined;
  const offset = firstInvalidByte(bytes);
  let line = 1;
  for (let at = bytes.indexOf(0x0a); at !== -1 && at < offset; at = bytes.indexOf(0x0a, at + 1)) line += 1;
  return { offset, line, byte: `0x${(bytes[offset] ?? 0).toString(16).toUpperCase().padStart(2, '0')}` };
}

/**
 * How many of `bytes` end on a character boundary: a multi-byte sequence the end cuts short (a chunk
 * of a stream) is left out, for the next chunk to complete.
 */
export function utf8Boundary(bytes: Uint8Array): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back += 1) {
    const byte = bytes[bytes.length - back] as number;
    if ((byte & 0xc0) === 0x80) continue;
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return length > back ? bytes.length - back : bytes.length;
  }
  return bytes.length;
}

/** The problem's words for a file that is not UTF-8. */
export function notUtf8Message(bad: NotUtf8): string {
  return `is not UTF-8 text (byte ${bad.byte}): save it as UTF-8`;
}

/** The offset of the first byte that starts no well-formed UTF-8 sequence (RFC 3629: no overlong forms, surrogates or code points past U+10FFFF). */
function firstInvalidByte(bytes: Uint8Array): number {
  let at = 0;
  while (at < bytes.length) {
    const lead = bytes[at] as number;
    if (lead < 0x80) {
      at += 1;
      continue;
    }
    const following = lead >= 0xc2 && lead <= 0xdf ? 1 : lead >= 0xe0 && lead <= 0xef ? 2 : lead >= 0xf0 && lead <= 0xf4 ? 3 : 0;
    if (following === 0 || at + following >= bytes.length) return at;
    for (let next = 1; next <= following; next += 1) if (((bytes[at + next] as number) & 0xc0) !== 0x80) return at;
    const second = bytes[at + 1] as number;
    if ((lead === 0xe0 && second < 0xa0) || (lead === 0xed && second > 0x9f) || (lead === 0xf0 && second < 0x90) || (lead === 0xf4 && second > 0x8f)) return at;
    at += following + 1;
  }
  return 0;
}
