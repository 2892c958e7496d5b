import type { Context } from 'hono';
import { normaliseName, parseAddress } from '../../subscribers/address.js';
import type { ServerDependencies } from '../dependencies.js';
import { createRateLimiter } from '../rate-limiter.js';
import { errorResponse, pageResponse } from '../respond.js';

/**
 * POST /subscribe (form: `address`, optional `name`). A new address is stored `pending`; a pending,
 * unsubscribed or bounced one stays as it is until confirmed; an active one is left alone. Every valid
 * address gets the same page, and the confirmation email goes out after the response, so neither the
 * page nor a wait for the mail server tells whether the address was on the list.
 */
export function subscribeHandler(deps: ServerDependencies): (c: Context) => Promise<Response> {
  const perAddress = createRateLimiter(deps.limits.perAddress);
  return async (c) => {
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
    const now = deps.clock.now();
    let subscriber = await deps.store.findSubscriber(parsed.address);
    if (subscriber === undefined) {
      await deps.store.addSubscribers([{ address: parsed.address, name: name.name, status: 'pending', source: 'web' }], now);
      subscriber = await deps.store.findSubscriber(parsed.address);
    }
    if (subscriber !== undefined && subscriber.status !== 'active' && perAddress.take(parsed.key, now).allowed) {
      const recipient = { subscriberId: subscriber.id, address: subscriber.address, name: subscriber.name };
      const confirmUrl = `${deps.config.siteUrl}confirm?token=${encodeURIComponent(deps.tokens.confirmToken(subscriber, now))}`;
      deps.tasks.run('confirmation email', () => deps.sendConfirmation(recipient, confirmUrl));
    }
    return pageResponse(deps.pages, 200, 'subscribe-received', { confirmHours: deps.limits.confirmHours });
  };
}
