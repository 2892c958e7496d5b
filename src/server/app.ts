import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { accessLog } from './access-log.js';
import type { ServerDependencies } from './dependencies.js';
import { createRateLimiter } from './rate-limiter.js';
import { canonicalAddress, clientAddress } from './client-address.js';
import { errorResponse } from './respond.js';
import { listRoutes } from './routes.js';
import { securityHeaders } from './security-headers.js';

/**
 * The HTTP application: the routes of routes.ts behind access logging, security headers, per-client
 * rate limits and body size limits. Errors become a generic page (the detail goes to the log only).
 * Tests call `app.request(url)` in process; `listen` puts it on a socket.
 */
export function createApp(deps: ServerDependencies): Hono {
  const app = new Hono();
  const limiter = createRateLimiter(deps.limits.perClient);
  const trustedProxies = new Set(deps.config.env.trustedProxies.map(canonicalAddress));

  const rateLimited: MiddlewareHandler = async (c, next) => {
    const decision = limiter.take(clientAddress(c, trustedProxies), deps.clock.now());
    if (!decision.allowed) return errorResponse(deps.pages, 429, { 'retry-after': String(decision.retryAfterSeconds) });
    await next();
  };
  const limitedBody = bodyLimit({ maxSize: deps.limits.bodyBytes, onError: () => errorResponse(deps.pages, 413) });

  app.use(accessLog(deps.logger));
  app.use(securityHeaders());
  app.onError((error, c) => {
    deps.logger.error({ err: error, method: c.req.method, path: new URL(c.req.url).pathname }, 'server: request failed');
    return errorResponse(deps.pages, 500);
  });

  for (const route of listRoutes(deps)) {
    for (const [method, handler] of Object.entries(route.handlers)) {
      const guards = [...(route.rateLimited ? [rateLimited] : []), ...(method === 'POST' ? [limitedBody] : [])];
      app.on(method, [route.path], ...guards, handler);
    }
    const allow = Object.keys(route.handlers).flatMap((method) => (method === 'GET' ? ['GET', 'HEAD'] : [method]));
    app.all(route.path, () => errorResponse(deps.pages, 405, { allow: allow.join(', ') }));
  }
  return app;
}
