import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createToken, unsubscribeUrl, verifyToken } from '../../src/delivery/tokens.js';

const SECRET = 'a-test-secret-that-is-long-enough';
const NOW = new Date('2025-07-23T07:00:00Z');

describe('tokens', () => {
  it('verifies an unsubscribe token for its subscriber, with no expiry', () => {
    const token = createToken(SECRET, 'unsubscribe', 123);
    expect(token).toMatch(/^123\.[A-Za-z0-9_-]{43}$/);
    expect(verifyToken(SECRET, 'unsubscribe', token, NOW)).toEqual({ ok: true, subscriberId: 123, expiresAt: null });
    expect(unsubscribeUrl('https://briefing.example.org/', token)).toBe(`https://briefing.example.org/unsubscribe?token=${token}`);
  });

  it('honours the expiry of a confirm token', () => {
    const expires = new Date(NOW.getTime() + 3600_000);
    const token = createToken(SECRET, 'confirm', 9, expires);
    expect(verifyToken(SECRET, 'confirm', token, NOW)).toEqual({ ok: true, subscriberId: 9, expiresAt: expires });
    expect(verifyToken(SECRET, 'confirm', token, new Date(expires.getTime() + 1000))).toEqual({ ok: false, reason: 'expired' });
  });

  it.each([
    ['another purpose', () => verifyToken(SECRET, 'confirm', createToken(SECRET, 'unsubscribe', 5), NOW), 'bad-signature'],
    ['another secret', () => verifyToken(`${SECRET}!`, 'unsubscribe', createToken(SECRET, 'unsubscribe', 5), NOW), 'bad-signature'],
    ['another subscriber id', () => verifyToken(SECRET, 'unsubscribe', createToken(SECRET, 'unsubscribe', 5).replace(/^5\./, '6.'), NOW), 'bad-signature'],
    ['a moved expiry', () => verifyToken(SECRET, 'confirm', createToken(SECRET, 'confirm', 5, new Date(NOW.getTime() + 1000)).replace(/\.(\d+)\./, (_m, s: string) => `.${Number(s) + 9999}.`), NOW), 'bad-signature'],
    ['a flipped MAC character', () => verifyToken(SECRET, 'unsubscribe', createToken(SECRET, 'unsubscribe', 5).replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')), NOW), 'bad-signature'],
    ['an empty string', () => verifyToken(SECRET, 'unsubscribe', '', NOW), 'malformed'],
    ['a number', () => verifyToken(SECRET, 'unsubscribe', 5, NOW), 'malformed'],
    ['a huge string', () => verifyToken(SECRET, 'unsubscribe', 'x'.repeat(1_000_000), NOW), 'malformed'],
    ['a zero id', () => verifyToken(SECRET, 'unsubscribe', `0.${'A'.repeat(43)}`, NOW), 'malformed'],
  ])('refuses a token with %s', (_label, check, reason) => {
    expect(check()).toEqual({ ok: false, reason });
  });

  it('never throws and never accepts what it did not sign, whatever the input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.anything()), (input) => {
        const result = verifyToken(SECRET, 'unsubscribe', input, NOW);
        expect(result.ok).toBe(false);
      }),
      { numRuns: 2000, seed: 4 },
    );
  });

  it('round-trips every subscriber id', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (id) => {
        expect(verifyToken(SECRET, 'unsubscribe', createToken(SECRET, 'unsubscribe', id), NOW)).toMatchObject({ ok: true, subscriberId: id });
      }),
      { numRuns: 500, seed: 5 },
    );
  });
});
