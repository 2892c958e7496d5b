import { randomBytes } from 'node:crypto';
import type { TokenField } from './briefing.js';

/** Every per-recipient field a template may use, as `{{recipient.name}}`, `{{recipient.address}}`, `{{unsubscribeUrl}}`, `{{preferencesUrl}}`. */
export const TOKEN_FIELDS = ['name', 'address', 'unsubscribeUrl', 'preferencesUrl'] as const satisfies readonly TokenField[];

/** A fresh per-render nonce: 96 random bits, so no article text can guess a briefing's tokens. */
export function randomNonce(): string {
  return randomBytes(12).toString('hex');
}

/**
 * The tokens of one render. Lower-case letters, digits and dashes only: HTML escaping, MJML and
 * URL attributes all leave them as they are, so each survives to be substituted.
 */
export function recipientTokens(nonce: string): Record<TokenField, string> {
  if (!/^[a-z0-9]{8,}$/.test(nonce)) {
    throw new RangeError('a token nonce is at least 8 lower-case letters or digits');
  }
  return {
    name: `briefing-${nonce}-name`,
    address: `briefing-${nonce}-address`,
    unsubscribeUrl: `briefing-${nonce}-unsubscribe-url`,
    preferencesUrl: `briefing-${nonce}-preferences-url`,
  };
}
