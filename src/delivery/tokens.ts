import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a token lets its bearer do; part of the signed data, so a token of one purpose never serves another. */
export type TokenPurpose = 'unsubscribe' | 'confirm';

/** The result of checking a token: the subscriber it names, or why it is refused. */
export type TokenCheck =
  | { ok: true; subscriberId: number; expiresAt: Date | null }
  | { ok: false; reason: 'malformed' | 'bad-signature' | 'expired' };

/** Tokens longer than this are refused before any work, so hostile input costs nothing. */
const MAX_TOKEN_LENGTH = 128;
const TOKEN_PATTERN = /^([1-9][0-9]{0,15})(?:\.([0-9]{1,12}))?\.([A-Za-z0-9_-]{43})$/;

function signature(secret: string, purpose: TokenPurpose, subscriberId: number, expires: string): Buffer {
  return createHmac('sha256', secret).update(`briefing-token\0${purpose}\0${subscriberId}\0${expires}`).digest();
}

/**
 * Signs (purpose, subscriber id, optional expiry) with HMAC-SHA256 under BRIEFING_SECRET:
 * `<id>.<mac>` or `<id>.<expiry seconds>.<mac>`, the MAC in base64url, safe in a URL as is.
 */
export function createToken(secret: string, purpose: TokenPurpose, subscriberId: number, expiresAt?: Date): string {
  if (!Number.isSafeInteger(subscriberId) || subscriberId < 1) {
    throw new RangeError(`token subscriber id must be a positive integer, not ${subscriberId}`);
  }
  const expires = expiresAt === undefined ? '' : String(Math.floor(expiresAt.getTime() / 1000));
  const mac = signature(secret, purpose, subscriberId, expires).toString('base64url');
  return expires === '' ? `${subscriberId}.${mac}` : `${subscriberId}.${expires}.${mac}`;
}

/** Checks a token for a purpose in constant time; any input, however hostile, gives a TokenCheck. */
export function verifyToken(secret: string, purpose: TokenPurpose, token: unknown, now: Date): TokenCheck {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'malformed' };
  const match = TOKEN_PATTERN.exec(token);
  if (!match) return { ok: false, reason: 'malformed' };
  const [, id = '', expires = '', mac = ''] = match;
  const subscriberId = Number(id);
  if (!Number.isSafeInteger(subscriberId)) return { ok: false, reason: 'malformed' };
  const given = Buffer.from(mac, 'base64url');
  const expected = signature(secret, purpose, subscriberId, expires);
  // base64url of 43 characters can decode to 32 bytes only; the length check keeps timingSafeEqual from throwing.
  if (given.length !== expected.length || !timingSafeEqual(given, expected) || given.toString('base64url') !== mac) {
    return { ok: false, reason: 'bad-signature' };
  }
  const expiresAt = expires === '' ? null : new Date(Number(expires) * 1000);
  if (expiresAt !== null && expiresAt.getTime() <= now.getTime()) return { ok: false, reason: 'expired' };
  return { ok: true, subscriberId, expiresAt };
}

/** The one-click unsubscribe link of a subscriber: `${siteUrl}unsubscribe?token=…` (siteUrl ends in `/`). */
export function unsubscribeUrl(siteUrl: string, token: string): string {
  return `${siteUrl}unsubscribe?token=${token}`;
}
