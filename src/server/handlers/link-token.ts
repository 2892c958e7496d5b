import type { Context } from 'hono';
import type { TokenPurpose } from '../../delivery/tokens.js';
import type { Subscriber } from '../../store/store.js';
import type { ServerDependencies, TokenRefusal } from '../dependencies.js';
import { readForm } from '../form-fields.js';
import { pageResponse } from '../respond.js';

/** A request's token, verified for a purpose. */
type ReadToken = { ok: true; value: string; subscriber: Subscriber; issuedAt: Date | null } | { ok: false; reason: TokenRefusal };

/**
 * The link's token, verified for `purpose` against its subscriber's link key: the `token` query
 * parameter, or on a POST without one the form's `token` field (the preference form carries it hidden,
 * so it stays out of the URL it posts to). Verified once per request: the rate limiter reads it first
 * and the handler gets the same answer, not a second store read.
 */
export function readToken(c: Context, deps: ServerDependencies, purpose: TokenPurpose, now: Date): Promise<ReadToken> {
  const key = `token:${purpose}`;
  const known = c.get(key) as Promise<ReadToken> | undefined;
  if (known !== undefined) return known;
  const verified: Promise<ReadToken> = tokenValue(c).then((value) =>
    value === undefined || value === ''
      ? { ok: false, reason: 'invalid' }
      : deps.tokens.verify(value, purpose, now).then((result): ReadToken => (result.ok ? { ...result, value } : result)),
  );
  c.set(key, verified);
  return verified;
}

async function tokenValue(c: Context): Promise<string | undefined> {
  const query = c.req.query('token');
  if (query !== undefined || c.req.method !== 'POST') return query;
  return (await readForm(c))?.text('token');
}

const REASONS: Readonly<Record<TokenPurpose, Record<TokenRefusal, string>>> = {
  confirm: {
    expired: 'This confirmation link has expired. Subscribe again from the front page to get a new one.',
    invalid: 'This confirmation link is not valid: it may have been cut or altered. Subscribe again to get a new one.',
  },
  unsubscribe: {
    expired: 'This unsubscribe link has expired. Use the link in the latest briefing.',
    invalid: 'This unsubscribe link is not valid: it may have been cut or altered. Use the link in the latest briefing.',
  },
  preferences: {
    expired: 'This link to your preferences has expired. Use the link in the latest briefing.',
    invalid: 'This link to your preferences is not valid: it may have been cut or altered. Use the link in the latest briefing.',
  },
};

/** The 400 page for a link whose token was refused. */
export function linkRefused(deps: ServerDependencies, purpose: TokenPurpose, reason: TokenRefusal): Response {
  return pageResponse(deps.pages, 400, 'link-invalid', { reason: REASONS[purpose][reason] });
}
