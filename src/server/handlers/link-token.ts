import type { Context } from 'hono';
import type { Subscriber } from '../../store/store.js';
import type { ServerDependencies, TokenRefusal } from '../dependencies.js';
import { pageResponse } from '../respond.js';

/** A request's token, verified for a purpose. */
type ReadToken = { ok: true; value: string; subscriber: Subscriber; issuedAt: Date | null } | { ok: false; reason: TokenRefusal };

/**
 * The `token` query parameter, verified for `purpose` against its subscriber's link key. Verified once
 * per request: the rate limiter reads it first and the handler gets the same answer, not a second
 * store read.
 */
export function readToken(c: Context, deps: ServerDependencies, purpose: 'confirm' | 'unsubscribe', now: Date): Promise<ReadToken> {
  const key = `token:${purpose}`;
  const known = c.get(key) as Promise<ReadToken> | undefined;
  if (known !== undefined) return known;
  const value = c.req.query('token');
  const verified: Promise<ReadToken> =
    value === undefined || value === ''
      ? Promise.resolve({ ok: false, reason: 'invalid' })
      : deps.tokens.verify(value, purpose, now).then((result) => (result.ok ? { ...result, value } : result));
  c.set(key, verified);
  return verified;
}

const REASONS: Readonly<Record<'confirm' | 'unsubscribe', Record<TokenRefusal, string>>> = {
  confirm: {
    expired: 'This confirmation link has expired. Subscribe again from the front page to get a new one.',
    invalid: 'This confirmation link is not valid: it may have been cut or altered. Subscribe again to get a new one.',
  },
  unsubscribe: {
    expired: 'This unsubscribe link has expired. Use the link in the latest briefing.',
    invalid: 'This unsubscribe link is not valid: it may have been cut or altered. Use the link in the latest briefing.',
  },
};

/** The 400 page for a link whose token was refused. */
export function linkRefused(deps: ServerDependencies, purpose: 'confirm' | 'unsubscribe', reason: TokenRefusal): Response {
  return pageResponse(deps.pages, 400, 'link-invalid', { reason: REASONS[purpose][reason] });
}
