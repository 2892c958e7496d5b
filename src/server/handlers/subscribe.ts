import type { Context } from 'hono';
import { normaliseName, parseAddress } from '../../address.js';
import type { ServerDependencies } from '../dependencies.js';
import { createRateLimiter } from '../rate-limiter.js';
import { errorResponse, pageResponse } from '../respond.js';

/** What a valid subscribe form asks for. */
interface SubscribeRequest {
  address: string;
  /** The address's key for the per-address limit (case-insensitive). */
  key: string;
  name: string | null;
}

/**
 * POST /subscribe (form: `address`, optional `name`) and the page it leads to. A new address is
 * stored `pending`; a pending, unsubscribed or bounced one stays as it is until confirmed; an active
 * one is left alone. The answer is the same redirect for every valid address, given once the store
 * could take a write and before any work that depends on the address: looking it up, storing it
 * and mailing the confirmation run afterwards, so neither the answer nor its timing tells whether
 * the address was on the list. The redirect (303) lands on GET /subscribe/sent, which a reload
 * shows again instead of posting the form twice.
 */
export function subscribeHandlers(deps: ServerDependencies): { subscribe(c: Context): Promise<Response>; sent(c: Context): Promise<Response> } {
  const perAddress = createRateLimiter(deps.limits.perAddress);
  const sentLocation = `${new URL(deps.config.siteUrl).pathname}subscribe/sent`;

  const register = async (request: SubscribeRequest, now: Date): Promise<void> => {
    let subscriber = await deps.store.findSubscriber(request.address);
    if (subscriber === undefined) {
      await deps.store.addSubscribers([{ address: request.address, name: request.name, status: 'pending', source: 'web' }], now);
      subscriber = await deps.store.findSubscriber(request.address);
    }
    if (subscriber !== undefined && subscriber.status !== 'active' && perAddress.take(request.key, now).allowed) {
      const recipient = { subscriberId: subscriber.id, address: subscriber.address, name: subscriber.name };
      const confirmUrl = `${deps.config.siteUrl}confirm?token=${encodeURIComponent(deps.tokens.confirmToken(subscriber, now))}`;
      await deps.sendConfirmation(recipient, confirmUrl);
    }
  };

  return {
    async subscribe(c) {
      let form: Record<string, unknown>;
      try {
        form = await c.req.parseBody();
      } catch {
        return errorResponse(deps.pages, 400);
      }
      const rawAddress = typeof form.address === 'string' ? form.address : '';
      const rawName = typeof form.name === 'string' ? form.name : undefined;
      const refuse = (problem: string): Response =>
        pageResponse(deps.pages, 400, 'subscribe-invalid', { problem, address: rawAddress, name: rawName ?? '' });
      const parsed = parseAddress(rawAddress);
      if (!parsed.ok) return refuse(`The email address ${parsed.problem}.`);
      const name = normaliseName(rawName);
      if (!name.ok) return refuse(`The name ${name.problem}.`);
      // The same for every address: a busy or missing store is answered 503 now, not lost later.
      await deps.store.checkWritable();
      const now = deps.clock.now();
      deps.tasks.run('subscription', () => register({ address: parsed.address, key: parsed.key, name: name.name }, now));
      return new Response(null, { status: 303, headers: { location: sentLocation, 'content-length': '0', 'cache-control': 'no-store' } });
    },
    async sent() {
      return pageResponse(deps.pages, 200, 'subscribe-received', { confirmHours: deps.limits.confirmHours });
    },
  };
}
