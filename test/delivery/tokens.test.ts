import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createToken, tokenSubscriberId, unsubscribeUrl, verifyToken } from '../../src/delivery/tokens.js';

const SECRET = 'a-test-secret-that-is-long-enough';
const SECRETS = [SECRET];
const KEY = 'per-subscriber-link-key-0123';
const NOW = new Date('2025-07-23T07:00:00Z');
const subject = (id: number, linkKey = KEY) => ({ id, linkKey });

describe('tokens', () => {
  it('verifies an unsubscribe token for its subscriber, with no expiry', () => {
    const token = createToken(SECRET, 'unsubscribe', subject(123));
    expect(token).toMatch(/^123\.[A-Za-z0-9_-]{43}$/);
    expect(tokenSubscriberId(token)).toBe(123);
    expect(verifyToken(SECRETS, 'unsubscribe', token, KEY, NOW)).toEqual({ ok: true, subscriberId: 123, expiresAt: null });
    expect(unsubscribeUrl('https://briefing.example.org/', token)).toBe(`https://briefing.example.org/unsubscribe?token=${token}`);
  });

  it('honours the expiry of a confirm token', () => {
    const expires = new Date(NOW.getTime() + 3600_000);
    const token = createToken(SECRET, 'confirm', subject(9), expires);
    expect(verifyToken(SECRETS, 'confirm', token, KEY, NOW)).toEqual({ ok: true, subscriberId: 9, expiresAt: expires });
    expect(verifyToken(SECRETS, 'confirm', token, KEY, new Date(expires.getTime() + 1000))).toEqual({ ok: false, reason: 'expired' });
  });

  it.each([
    ['another purpose', () => verifyToken(SECRETS, 'confirm', createToken(SECRET, 'unsubscribe', subject(5)), KEY, NOW), 'bad-signature'],
    ['another secret', () => verifyToken([`${SECRET}!`], 'unsubscribe', createToken(SECRET, 'unsubscribe', subject(5)), KEY, NOW), 'bad-signature'],
    ['another subscriber id', () => verifyToken(SECRETS, 'unsubscribe', createToken(SECRET, 'unsubscribe', subject(5)).replace(/^5\./, '6.'), KEY, NOW), 'bad-signature'],
    ['another link key (the secret known, the key guessed)', () => verifyToken(SECRETS, 'unsubscribe', createToken(SECRET, 'unsubscribe', subject(5, 'guessed-link-key-01234')), KEY, NOW), 'bad-signature'],
    ['an empty link key on both sides', () => verifyToken(SECRETS, 'unsubscribe', `5.${'A'.repeat(43)}`, '', NOW), 'bad-signature'],
    ['a moved expiry', () => verifyToken(SECRETS, 'confirm', createToken(SECRET, 'confirm', subject(5), new Date(NOW.getTime() + 1000)).replace(/\.(\d+)\./, (_m, s: string) => `.${Number(s) + 9999}.`), KEY, NOW), 'bad-signature'],
    ['a flipped MAC character', () => verifyToken(SECRETS, 'unsubscribe', createToken(SECRET, 'unsubscribe', subject(5)).replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')), KEY, NOW), 'bad-signature'],
    ['an empty string', () => verifyToken(SECRETS, 'unsubscribe', '', KEY, NOW), 'malformed'],
    ['a number', () => verifyToken(SECRETS, 'unsubscribe', 5, KEY, NOW), 'malformed'],
    ['a huge string', () => verifyToken(SECRETS, 'unsubscribe', 'x'.repeat(1_000_000), KEY, NOW), 'malformed'],
    ['a zero id', () => verifyToken(SECRETS, 'unsubscribe', `0.${'A'.repeat(43)}`, KEY, NOW), 'malformed'],
  ])('refuses a token with %s', (_label, check, reason) => {
    expect(check()).toEqual({ ok: false, reason });
  });

  it('refuses to sign without a link key', () => {
    expect(() => createToken(SECRET, 'unsubscribe', subject(5, ''))).toThrow(RangeError);
  });

  it('accepts a token of the previous secret during a rotation, and only while that secret is listed', () => {
    const old = createToken('the-secret-before-rotation-0', 'unsubscribe', subject(7));
    expect(verifyToken([SECRET, 'the-secret-before-rotation-0'], 'unsubscribe', old, KEY, NOW)).toMatchObject({ ok: true, subscriberId: 7 });
    expect(verifyToken(SECRETS, 'unsubscribe', old, KEY, NOW)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('never throws and never accepts what it did not sign, whatever the input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.anything()), (input) => {
        const result = verifyToken(SECRETS, 'unsubscribe', input, KEY, NOW);
        expect(result.ok).toBe(false);
        expect(() => tokenSubscriberId(input)).not.toThrow();
      }),
      { numRuns: 2000, seed: 4 },
    );
  });

  it('round-trips every subscriber id', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (id) => {
        const token = createToken(SECRET, 'unsubscribe', subject(id));
        expect(tokenSubscriberId(token)).toBe(id);
        expect(verifyToken(SECRETS, 'unsubscribe', token, KEY, NOW)).toMatchObject({ ok: true, subscriberId: id });
      }),
      { numRuns: 500, seed: 5 },
    );
  });
});
