import fc from 'fast-check';
import { encode, wrap } from 'libqp';
import { describe, expect, it } from 'vitest';
import { quotedPrintable } from '../../src/delivery/quoted-printable.js';

/** The encoding through libqp's encoder alone: what the ASCII shortcut must reproduce exactly. */
function reference(value: string, softBreak: boolean): string {
  const wrapped = wrap(encode(Buffer.from(value.replace(/\r\n|\r|\n/g, '\r\n'), 'utf8')), 74);
  const encoded = wrapped.replace(/(^|\r\n)\./g, '$1=2E');
  return softBreak && !encoded.endsWith('\r\n') ? `${encoded}=\r\n` : encoded;
}

/** Decodes quoted-printable (RFC 2045 6.7) back to the text, to check the round trip independently. */
function decode(encoded: string): string {
  const bytes = encoded.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

const printable = fc.string({ unit: fc.constantFrom(...' =.abcXYZ019:/?&%-_~<>"\''.split('')), maxLength: 300 });

describe('quotedPrintable', () => {
  it('equals libqp\u2019s encoding for printable ASCII (links, addresses) and any other text', () => {
    fc.assert(
      fc.property(fc.oneof(printable, fc.string({ unit: 'grapheme', maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 })), fc.boolean(), (value, softBreak) => {
        expect(quotedPrintable(value, softBreak)).toBe(reference(value, softBreak));
      }),
      { numRuns: 2000 },
    );
  });

  it('gives lines of at most 76 characters, no line-leading dot, and decodes back to the text', () => {
    fc.assert(
      fc.property(printable, (value) => {
        const encoded = quotedPrintable(value, false);
        for (const line of encoded.split('\r\n')) {
          expect(line.length).toBeLessThanOrEqual(76);
          expect(line.startsWith('.')).toBe(false);
        }
        expect(decode(encoded)).toBe(value);
      }),
      { numRuns: 1000 },
    );
  });

  it('escapes a hyphen that starts a value, so no personal value can start a line that passes for a MIME boundary', () => {
    expect(quotedPrintable('--boundary-look-alike', false)).toBe('=2D-boundary-look-alike');
  });

  it('encodes a trailing space and every equals sign of an unsubscribe link', () => {
    expect(quotedPrintable('https://example.org/unsubscribe?token=a.b=c ', false)).toBe('https://example.org/unsubscribe?token=3Da.b=3Dc=20');
  });
});
