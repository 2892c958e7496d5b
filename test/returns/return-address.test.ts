import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isBriefingError } from '../../src/errors.js';
import { bounceAddress, readReturnAddress, unsubscribeAddress, verifyReturnAddress, type ReturnAddress } from '../../src/returns/return-address.js';

const SECRET = 'a-test-secret-that-is-long-enough';
const PREVIOUS = 'the-secret-before-rotation-0';
const KEY = 'per-subscriber-link-key-0123';
const DOMAIN = 'bounces.example.org';

const bounce = (editionId = '2025-07-24', subscriberId = 123, linkKey = KEY, secret = SECRET): string => bounceAddress(secret, { subscriberId, editionId, linkKey }, DOMAIN);
const read = (address: string): ReturnAddress => {
  const parsed = readReturnAddress(address);
  if (parsed === undefined) throw new Error(`not read: ${address}`);
  return parsed;
};
const LOCAL_PART = /^[a-z0-9+-]+$/;

describe('return addresses', () => {
  it.each([
    ['a daily slot', '2025-07-24', 'd20250724'],
    ['a minute slot', '2025-07-24T09:00', 'm202507240900'],
    ['a second slot', '2025-07-24T09:00:05', 's20250724090005'],
    ['a slug', 'special', 'b'],
    ['upper case and punctuation', 'Extra: Night/Edition', 'b'],
    ['non-ASCII', 'édition-spéciale', 'b'],
    ['what looks like a slot but is not one', '2025-7-24', 'b'],
  ])('round-trips a bounce address for %s, in lower case within 64 octets', (_label, editionId, codeStart) => {
    const address = bounce(editionId);
    const [localPart = '', domain] = address.split('@');
    expect(domain).toBe(DOMAIN);
    expect(localPart).toMatch(LOCAL_PART);
    expect(localPart.startsWith(`bounce+123-${codeStart}`)).toBe(true);
    expect(Buffer.byteLength(localPart)).toBeLessThanOrEqual(64);
    const parsed = read(address);
    expect(parsed).toMatchObject({ kind: 'bounce', subscriberId: 123, editionId, domain: DOMAIN });
    expect(verifyReturnAddress([SECRET], parsed, KEY)).toBe(true);
  });

  it('round-trips an unsubscribe address, which names no edition', () => {
    const address = unsubscribeAddress(SECRET, { subscriberId: 9_007_199_254_740_991, linkKey: KEY }, DOMAIN);
    expect(address.split('@')[0]).toMatch(LOCAL_PART);
    const parsed = read(address);
    expect(parsed).toMatchObject({ kind: 'unsubscribe', subscriberId: 9_007_199_254_740_991, editionId: null });
    expect(verifyReturnAddress([SECRET], parsed, KEY)).toBe(true);
  });

  it('reads an address whose case an MTA folded, either way', () => {
    for (const address of [bounce('Night Edition').toUpperCase(), unsubscribeAddress(SECRET, { subscriberId: 5, linkKey: KEY }, DOMAIN).toUpperCase()]) {
      const parsed = read(address);
      expect(verifyReturnAddress([SECRET], parsed, KEY)).toBe(true);
    }
    expect(read(bounce('Night Edition').toUpperCase()).editionId).toBe('Night Edition');
  });

  it('keeps a 64-bit-or-longer MAC and a short address for the usual slot ids', () => {
    const parsed = read(bounce('2025-07-24T09:00:05', 9_007_199_254_740_991));
    expect(parsed.mac.length * 5).toBeGreaterThanOrEqual(64);
    expect(bounce('2025-07-24', 42).length).toBeLessThan(64);
  });

  it('accepts an address signed with the previous secret during a rotation, and only while it is listed', () => {
    const parsed = read(bounce('2025-07-24', 7, KEY, PREVIOUS));
    expect(verifyReturnAddress([SECRET, PREVIOUS], parsed, KEY)).toBe(true);
    expect(verifyReturnAddress([SECRET], parsed, KEY)).toBe(false);
  });

  /** Changes one character of a field of the local part (as an attacker editing the token would). */
  const tamper = (address: string, field: number, replace: (value: string) => string): string => {
    const [localPart = '', domain = ''] = address.split('@');
    const [kind = '', token = ''] = localPart.split('+');
    const fields = token.split('-');
    fields[field] = replace(fields[field] ?? '');
    return `${kind}+${fields.join('-')}@${domain}`;
  };
  const flipLast = (value: string): string => value.slice(0, -1) + (value.endsWith('a') ? 'b' : 'a');

  it.each([
    ['another subscriber id (a forged bounce of someone else)', tamper(bounce(), 0, () => '124')],
    ['another edition', tamper(bounce(), 1, () => 'd20250725')],
    ['another edition form (the same digits as a minute slot)', bounce('2025-07-24').replace('-d20250724-', '-m202507240000-')],
    ['a flipped MAC character', tamper(bounce(), 2, flipLast)],
    ['the MAC of an unsubscribe address on a bounce address (another purpose)', tamper(bounce(), 2, () => read(unsubscribeAddress(SECRET, { subscriberId: 123, linkKey: KEY }, DOMAIN)).mac)],
  ])('refuses a bounce address with %s', (_label, address) => {
    const parsed = readReturnAddress(address);
    expect(parsed === undefined || !verifyReturnAddress([SECRET], parsed, KEY)).toBe(true);
  });

  it('refuses an unsubscribe address turned into a bounce address and back (the purpose is signed)', () => {
    const unsubscribe = read(unsubscribeAddress(SECRET, { subscriberId: 123, linkKey: KEY }, DOMAIN));
    expect(verifyReturnAddress([SECRET], { ...unsubscribe, kind: 'bounce', editionId: '2025-07-24' }, KEY)).toBe(false);
    const bounced = read(bounce());
    expect(verifyReturnAddress([SECRET], { ...bounced, kind: 'unsubscribe', editionId: null }, KEY)).toBe(false);
    expect(readReturnAddress(bounce().replace('bounce+', 'unsubscribe+'))).toBeUndefined();
  });

  it('refuses an address under another secret or another link key (the secret known, the key guessed)', () => {
    const parsed = read(bounce());
    expect(verifyReturnAddress([`${SECRET}!`], parsed, KEY)).toBe(false);
    expect(verifyReturnAddress([SECRET], parsed, 'guessed-link-key-01234')).toBe(false);
    expect(verifyReturnAddress([SECRET], parsed, '')).toBe(false);
    expect(verifyReturnAddress([], parsed, KEY)).toBe(false);
  });

  it.each([
    ['no plus', `bounce123-d20250724-${'a'.repeat(16)}@${DOMAIN}`],
    ['another prefix', `return+123-d20250724-${'a'.repeat(16)}@${DOMAIN}`],
    ['a zero id', `bounce+0-d20250724-${'a'.repeat(16)}@${DOMAIN}`],
    ['a leading zero', `bounce+0123-d20250724-${'a'.repeat(16)}@${DOMAIN}`],
    ['an id past 2^53', `bounce+99999999999999999-d20250724-${'a'.repeat(16)}@${DOMAIN}`],
    ['a short MAC', `bounce+123-d20250724-${'a'.repeat(15)}@${DOMAIN}`],
    ['a MAC outside base32', `bounce+123-d20250724-${'a'.repeat(15)}1@${DOMAIN}`],
    ['a date of seven digits', `bounce+123-d2025072-${'a'.repeat(16)}@${DOMAIN}`],
    ['an unknown edition form', `bounce+123-z20250724-${'a'.repeat(16)}@${DOMAIN}`],
    ['a non-canonical base32 edition (spare bits set)', `bounce+123-bmz-${'a'.repeat(16)}@${DOMAIN}`],
    ['a base32 edition that spells a slot id (a second spelling)', `bounce+123-b${'giydenjnga3s2mru'}-${'a'.repeat(16)}@${DOMAIN}`],
    ['a base32 edition holding a control character', `bounce+123-baa-${'a'.repeat(16)}@${DOMAIN}`],
    ['an empty edition', `bounce+123--${'a'.repeat(16)}@${DOMAIN}`],
    ['an extra field', `bounce+123-d20250724-${'a'.repeat(16)}-x@${DOMAIN}`],
    ['no domain', `bounce+123-d20250724-${'a'.repeat(16)}@`],
    ['no at sign', `bounce+123-d20250724-${'a'.repeat(16)}`],
    ['a local part over 64 octets', `bounce+123-b${'a'.repeat(50)}-${'a'.repeat(16)}@${DOMAIN}`],
    ['over 254 characters', `unsubscribe+123-${'a'.repeat(16)}@${'a'.repeat(240)}.org`],
    ['a huge string', 'x'.repeat(1_000_000)],
    ['a bracketed address', `<unsubscribe+123-${'a'.repeat(16)}@${DOMAIN}>`],
  ])('does not read an address with %s', (_label, address) => {
    expect(readReturnAddress(address)).toBeUndefined();
  });

  it('refuses, with a BriefingError naming it, an edition id that cannot fit in 64 octets or cannot be written', () => {
    for (const editionId of ['a-forty-character-edition-id-that-is-long', '', 'bad\u0000id', 'lone \ud800 surrogate']) {
      let caught: unknown;
      try {
        bounce(editionId);
      } catch (error) {
        caught = error;
      }
      expect(isBriefingError(caught), editionId).toBe(true);
    }
    expect(() => bounce('2025-07-24', 123, 'short')).toThrow(RangeError);
    expect(() => bounce('2025-07-24', 0)).toThrow(RangeError);
    expect(() => bounceAddress(SECRET, { subscriberId: 1, editionId: '2025-07-24', linkKey: KEY }, 'Bounces.Example.org>')).toThrow(/not a lower-case domain/);
  });

  it('round-trips every edition id that fits, and reads nothing it did not write, whatever the input', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 20, unit: 'grapheme' }), fc.integer({ min: 1, max: 2 ** 40 }), (editionId, subscriberId) => {
        let address: string;
        try {
          address = bounce(editionId, subscriberId);
        } catch (error) {
          expect(isBriefingError(error)).toBe(true);
          return;
        }
        expect(address.split('@')[0]).toMatch(LOCAL_PART);
        const parsed = read(address.toUpperCase());
        expect(parsed.editionId).toBe(editionId);
        expect(verifyReturnAddress([SECRET], parsed, KEY)).toBe(true);
      }),
      { numRuns: 500, seed: 18 },
    );
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.anything()), (input) => {
        const parsed = readReturnAddress(input);
        expect(parsed === undefined || !verifyReturnAddress([SECRET], parsed, KEY)).toBe(true);
      }),
      { numRuns: 2000, seed: 18 },
    );
  });
});
