import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a token lets its bearer do; part of the signed data, so a token of one purpose never serves another. */
export type TokenPurpose = 'unsubscribe' | 'confirm' | 'preferences';

/** The result of checking a token: the subscriber it names, or why it is refused. */
export type TokenCheck =
  | { ok: true; subscriberId: number; expiresAt: Date | null }
  | { ok: false; reason: 'malformed' | 'bad-signature' | 'expired' };

/** Whom a token is for: the subscriber's id and the random key stored with them (never shown). */
export interface TokenSubject {
  id: number;
  linkKey: string;
}

/** Tokens longer than this are refused before any work, so hostile input costs nothing. */
const MAX_TOKEN_LENGTH = 128;
const TOKEN_PATTERN = /^([1-9][0-9]{0,15})(?:\.([0-9]{1,12}))?\.([A-Za-z0-9_-]{43})$/;
/** A link key shorter than this cannot be random enough to stand in for the list's secrecy. */
const MIN_LINK_KEY_LENGTH = 16;

function signature(secret: string, purpose: TokenPurpose, subscriberId: number, expires: string, linkKey: string): Buffer {
  return createHmac('sha256', secret).update(`briefing-token\0${purpose}\0${subscriberId}\0${expires}\0${linkKey}`).digest();
}

/**
 * Signs (purpose, subscriber id, optional expiry, the subscriber's random link key) with
 * HMAC-SHA256 under BRIEFING_SECRET: `<id>.<mac>` or `<id>.<expiry seconds>.<mac>`, the MAC in
 * base64url, safe in a URL as is. The link key makes a token unforgeable from the id alone, even
 * by someone who knows the secret.
 */
export function createToken(secret: string, purpose: TokenPurpose, subject: TokenSubject, expiresAt?: Date): string {
  if (!Number.isSafeInteger(subject.id) || subject.id < 1) {
    throw new RangeError(`token subscriber id must be a positive integer, not ${subject.id}`);
  }
  if (subject.linkKey.length < MIN_LINK_KEY_LENGTH) throw new RangeError('a token needs the subscriber link key');
  const expires = expiresAt === undefined ? '' : String(Math.floor(expiresAt.getTime() / 1000));
  const mac = signature(secret, purpose, subject.id, expires, subject.linkKey).toString('base64url');
  return expires === '' ? `${subject.id}.${mac}` : `${subject.id}.${expires}.${mac}`;
}

/** The subscriber id a well-formed token names (not yet verified), to look up its link key; undefined for anything else. */
export function tokenSubscriberId(token: unknown): number | undefined {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return undefined;
  const id = Number(TOKEN_PATTERN.exec(token)?.[1]);
  return Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

/**
 * Checks a token for a purpose against the subscriber's link key, in constant time, under each of
 * `secrets` (the current BRIEFING_SECRET first, then BRIEFING_SECRET_PREVIOUS during a rotation);
 * any input, however hostile, gives a TokenCheck.
 */
export function verifyToken(secrets: readonly string[], purpose: TokenPurpose, token: unknown, linkKey: string, now: Date): TokenCheck {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'malformed' };
  const match = TOKEN_PATTERN.exec(token);
  if (!match) return { ok: false, reason: 'malformed' };
  const [, id = '', expires = '', mac = ''] = match;
  const subscriberId = Number(id);
  if (!Number.isSafeInteger(subscriberId)) return { ok: false, reason: 'malformed' };
  const given = Buffer.from(mac, 'base64url');
  // Every secret is tried, so the time taken does not tell which one matched.
  let matched = false;
  for (const secret of secrets) {
    const expected = signature(secret, purpose, subscriberId, expires, linkKey);
    // base64url of 43 characters can decode to 32 bytes only; the length check keeps timingSafeEqual from throwing.
    if (given.length === expected.length && timingSafeEqual(given, expected)) matched = true;
  }
  if (!matched || linkKey.length < MIN_LINK_KEY_LENGTH || given.toString('base64url') !== mac) {
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

/** The preference page of a subscriber (topics, pause, leave): `${siteUrl}preferences?token=…`. */
export function preferencesUrl(siteUrl: string, token: string): string {
  return `${siteUrl}preferences?token=${token}`;
}

/** A subscriber's two signed links every briefing carries: one-click unsubscribe and the preference page. */
export function subscriberLinks(siteUrl: string, secret: string, subject: TokenSubject): { unsubscribeUrl: string; preferencesUrl: string } {
  return {
    unsubscribeUrl: unsubscribeUrl(siteUrl, createToken(secret, 'unsubscribe', subject)),
    preferencesUrl: preferencesUrl(siteUrl, createToken(secret, 'preferences', subject)),
  };
}
