import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { storeUnavailability, type StoreUnavailability } from '../store/store-unavailable.js';
import { accessLog } from './access-log.js';
import type { ServerDependencies } from './dependencies.js';
import { readToken } from './handlers/link-token.js';
import { createRateLimiter, type RateDecision } from './rate-limiter.js';
import { canonicalAddress, clientAddress, clientKey } from './client-address.js';
import { errorResponse } from './respond.js';
import { listRoutes, type RouteLimit } from './routes.js';
import { sameOrigin } from './same-origin.js';
import { securityHeaders } from './security-headers.js';
import { RETRY_AFTER_SECONDS } from './waiting-store.js';

/** What the log says of a store that cannot take writes for a reason the operator must mend. */
const UNAVAILABLE_MESSAGES: Record<Exclude<StoreUnavailability, 'busy'>, string> = {
  replaced: 'server: the store file was deleted or replaced',
  damaged: 'server: the store file is damaged',
  failing: 'server: the store cannot be written (full disk, I/O error, no write access or database server down)',
};

/**
 * The HTTP application: the routes of routes.ts behind access logging, security headers, rate limits
 * (per client, or per signed link), body size limits and, for the forms that ask, a same-origin check. A store that another writer holds, or whose
 * file is gone or damaged, gets 503 with Retry-After; other errors a generic 500 page (the detail goes to the
 * log only). Tests call `app.request(url)` in process; `listen` puts it on a socket.
 */
export function createApp(deps: ServerDependencies): Hono {
  const app = new Hono();
  const limiter = createRateLimiter(deps.limits.perClient);
  const trustedProxies = new Set(deps.config.env.trustedProxies.map(canonicalAddress));

  const tooMany = (decision: Extract<RateDecision, { allowed: false }>): Response => errorResponse(deps.pages, 429, { 'retry-after': String(decision.retryAfterSeconds) });
  const clientOf = (c: Context): string => `client:${clientKey(clientAddress(c, trustedProxies))}`;
  // A link's token is in its query, but the preference form posts it in the body.
  const tokenInBody = (c: Context): boolean => c.req.method === 'POST' && c.req.query('token') === undefined;
  // Before any body is read: a client over its limit is answered at once, and cannot hold a
  // connection by trickling a body (a form, or a token in one) that would be charged only once in.
  const chargedBeforeBody = (limit: Exclude<RouteLimit, { by: 'none' }>): MiddlewareHandler => async (c, next) => {
    if (limit.by === 'client' || tokenInBody(c)) {
      const decision = limiter.take(clientOf(c), deps.clock.now());
      if (!decision.allowed) return tooMany(decision);
    }
    await next();
  };
  // Verifying a token is one key lookup (a read, never waiting for writers) and one HMAC, cheaper than
  // the work it guards: a valid link is limited by its subscriber, a bad one in a query by its client.
  const chargedByLink = (limit: Extract<RouteLimit, { by: 'link' }>): MiddlewareHandler => async (c, next) => {
    const now = deps.clock.now();
    const link = await readToken(c, deps, limit.purpose, now);
    if (link.ok || !tokenInBody(c)) {
      const decision = limiter.take(link.ok ? `link:${link.subscriber.id}` : clientOf(c), now);
      if (!decision.allowed) return tooMany(decision);
    }
    await next();
  };
  const fromThisSite = sameOrigin(deps.config.siteUrl, deps.pages);
  const limitedBody = bodyLimit({ maxSize: deps.limits.bodyBytes, onError: () => errorResponse(deps.pages, 413) });

  app.use(accessLog(deps.logger));
  app.use(securityHeaders());
  app.onError((error, c) => {
    const where = { err: error, method: c.req.method, path: new URL(c.req.url).pathname };
    const unavailable = storeUnavailability(error);
    if (unavailable !== undefined) {
      if (unavailable === 'busy') deps.logger.warn(where, 'server: the store stayed busy');
      // Not a passing condition: the operator must restore the file (or restart) before writes work again.
      else deps.logger.error(where, UNAVAILABLE_MESSAGES[unavailable]);
      return errorResponse(deps.pages, 503, { 'retry-after': String(RETRY_AFTER_SECONDS) });
    }
    deps.logger.error(where, 'server: request failed');
    return errorResponse(deps.pages, 500);
  });

  for (const route of listRoutes(deps)) {
    for (const [method, handler] of Object.entries(route.handlers)) {
      // A POST's body is bounded before anything reads it: the link's limit may read its token from the form.
      const guards = [
        ...(method === 'POST' && route.sameOrigin ? [fromThisSite] : []),
        ...(route.limit.by === 'none' ? [] : [chargedBeforeBody(route.limit)]),
        ...(method === 'POST' ? [limitedBody] : []),
        ...(route.limit.by === 'link' ? [chargedByLink(route.limit)] : []),
      ];
      app.on(method, [route.path], ...guards, handler);
    }
    const allow = Object.keys(route.handlers).flatMap((method) => (method === 'GET' ? ['GET', 'HEAD'] : [method]));
    app.all(route.path, () => errorResponse(deps.pages, 405, { allow: allow.join(', ') }));
  }
  return app;
}
