import type { Context } from 'hono';
import type { ServerDependencies } from './dependencies.js';
import { confirmHandlers } from './handlers/confirm.js';
import { healthHandler } from './handlers/health.js';
import { staticHandler } from './handlers/static.js';
import { subscribeHandler } from './handlers/subscribe.js';
import { unsubscribeHandlers } from './handlers/unsubscribe.js';

/** Methods a route answers; HEAD follows GET. Any other method gets 405 with `Allow`. */
export type RouteMethod = 'GET' | 'POST';

/** One path of the site and what answers it. */
export interface Route {
  path: string;
  handlers: Partial<Record<RouteMethod, (c: Context) => Promise<Response>>>;
  /** Counted against the per-client rate limit (the routes that touch the subscriber list). */
  rateLimited: boolean;
}

/** Every route of the server, in matching order: the one place to read what the site answers. */
export function listRoutes(deps: ServerDependencies): Route[] {
  const confirm = confirmHandlers(deps);
  const unsubscribe = unsubscribeHandlers(deps);
  return [
    { path: '/healthz', handlers: { GET: healthHandler(deps) }, rateLimited: false },
    { path: '/subscribe', handlers: { POST: subscribeHandler(deps) }, rateLimited: true },
    { path: '/confirm', handlers: { GET: confirm.show, POST: confirm.confirm }, rateLimited: true },
    { path: '/unsubscribe', handlers: { GET: unsubscribe.show, POST: unsubscribe.unsubscribe }, rateLimited: true },
    // Feeds, archive pages and web versions: the files of output/.
    { path: '*', handlers: { GET: staticHandler(deps) }, rateLimited: false },
  ];
}
