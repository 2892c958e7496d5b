import type { Context } from 'hono';
import { refusesSignUp } from '../../store/store.js';
import type { ServerDependencies } from '../dependencies.js';
import { linkRefused, readToken } from './link-token.js';
import { pageResponse } from '../respond.js';

/**
 * GET /confirm?token=… shows a button; only the POST it sends makes the subscriber active, so a link
 * scanner that opens the email's links subscribes no one. Expired, forged or stale links get a 400 page.
 */
export function confirmHandlers(deps: ServerDependencies): { show(c: Context): Promise<Response>; confirm(c: Context): Promise<Response> } {
  const check = async (c: Context) => {
    const now = deps.clock.now();
    const token = await readToken(c, deps, 'confirm', now);
    if (!token.ok) return { ok: false as const, response: linkRefused(deps, 'confirm', token.reason) };
    const { subscriber } = token;
    // A link mailed before the address bounced or its owner complained brings it back no more than the form does.
    if (madeBefore(token.issuedAt, subscriber.createdAt) || madeBefore(token.issuedAt, subscriber.unsubscribedAt) || refusesSignUp(subscriber)) {
      return { ok: false as const, response: linkRefused(deps, 'confirm', 'invalid') };
    }
    return { ok: true as const, subscriber, token: token.value, now };
  };
  return {
    async show(c) {
      const checked = await check(c);
      if (!checked.ok) return checked.response;
      const { subscriber } = checked;
      if (subscriber.status === 'active') return pageResponse(deps.pages, 200, 'confirmed', { address: subscriber.address });
      return pageResponse(deps.pages, 200, 'confirm', { address: subscriber.address, token: checked.token });
    },
    async confirm(c) {
      const checked = await check(c);
      if (!checked.ok) return checked.response;
      const { subscriber } = checked;
      if (subscriber.status !== 'active') {
        await deps.store.setSubscriberStatus(subscriber.id, 'active', checked.now, 'confirmed by link');
        deps.logger.info({ subscriber: subscriber.id }, 'server: subscription confirmed');
      }
      return pageResponse(deps.pages, 200, 'confirmed', { address: subscriber.address });
    },
  };
}

/**
 * True when a link was certainly made before `moment`: one mailed before the person unsubscribed must
 * not bring them back, nor one made for an earlier subscriber whose id a new one reuses. Token times
 * have whole seconds, hence the second of slack.
 */
function madeBefore(issuedAt: Date | null, moment: Date | null): boolean {
  return issuedAt !== null && moment !== null && issuedAt.getTime() + 1000 <= moment.getTime();
}
