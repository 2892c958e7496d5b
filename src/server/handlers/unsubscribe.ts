import type { Context } from 'hono';
import type { ServerDependencies } from '../dependencies.js';
import { linkRefused, readToken } from './link-token.js';
import { pageResponse } from '../respond.js';

/**
 * GET /unsubscribe?token=… shows a button (and a link to the preference page, to change topics or
 * pause instead); POST (the button, or a mail client's RFC 8058 one-click
 * request with body `List-Unsubscribe=One-Click`) unsubscribes without cookies or scripts and answers
 * 200. A forged or altered token gets a 400 page and changes nothing.
 */
export function unsubscribeHandlers(deps: ServerDependencies): { show(c: Context): Promise<Response>; unsubscribe(c: Context): Promise<Response> } {
  return {
    async show(c) {
      const now = deps.clock.now();
      const token = await readToken(c, deps, 'unsubscribe', now);
      if (!token.ok) return linkRefused(deps, 'unsubscribe', token.reason);
      const { subscriber } = token;
      if (subscriber.status === 'unsubscribed') return pageResponse(deps.pages, 200, 'unsubscribed', {});
      // Fewer topics or a pause may be all the reader wants: the page offers the preference page too.
      const stillSubscribed = subscriber.status === 'active' || subscriber.status === 'pending';
      const preferencesToken = stillSubscribed ? deps.tokens.preferencesToken(subscriber) : undefined;
      return pageResponse(deps.pages, 200, 'unsubscribe', { address: subscriber.address, token: token.value, preferencesToken });
    },
    async unsubscribe(c) {
      const now = deps.clock.now();
      const token = await readToken(c, deps, 'unsubscribe', now);
      if (!token.ok) return linkRefused(deps, 'unsubscribe', token.reason);
      const { subscriber } = token;
      // Bounced addresses stay bounced; an address already unsubscribed keeps its first date.
      if (subscriber.status === 'active' || subscriber.status === 'pending') {
        await deps.store.setSubscriberStatus(subscriber.id, 'unsubscribed', now, 'unsubscribe link');
        deps.logger.info({ subscriber: subscriber.id }, 'server: unsubscribed');
      }
      return pageResponse(deps.pages, 200, 'unsubscribed', {});
    },
  };
}
