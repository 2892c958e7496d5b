import type { Context } from 'hono';
import type { TokenPurpose } from '../delivery/tokens.js';
import type { ServerDependencies } from './dependencies.js';
import { confirmHandlers } from './handlers/confirm.js';
import { healthHandler } from './handlers/health.js';
import { preferencesHandlers } from './handlers/preferences.js';
import { staticHandler } from './handlers/static.js';
import { subscribeHandlers } from './handlers/subscribe.js';
import { unsubscribeHandlers } from './handlers/unsubscribe.js';

/** Methods a route answers; HEAD follows GET. Any other method gets 405 with `Allow`. */
export type RouteMethod = 'GET' | 'POST';

/**
 * How a route is rate limited: not at all, per client address, or per signed link: a request whose
 * token verifies for `purpose` counts against that link's subscriber, not its client (a mail
 * provider sends many readers' one-click unsubscribes from few addresses); any other per client.
 */
export type RouteLimit = { by: 'none' } | { by: 'client' } | { by: 'link'; purpose: TokenPurpose };

/** One path of the site and what answers it. */
export interface Route {
  path: string;
  handlers: Partial<Record<RouteMethod, (c: Context) => Promise<Response>>>;
  /** Routes that touch the subscriber list are limited; files and the health check are not. */
  limit: RouteLimit;
  /**
   * POSTs only from pages of this site (see same-origin.ts): the preference form. Not the other
   * forms: the subscribe form may be embedded in another site, and the RFC 8058 one-click POST comes
   * from mail providers' servers.
   */
  sameOrigin?: true;
}

/** Every route of the server, in matching order: the one place to read what the site answers. */
export function listRoutes(deps: ServerDependencies): Route[] {
  const subscribe = subscribeHandlers(deps);
  const confirm = confirmHandlers(deps);
  const unsubscribe = unsubscribeHandlers(deps);
  const preferences = preferencesHandlers(deps);
  return [
    { path: '/healthz', handlers: { GET: healthHandler(deps) }, limit: { by: 'none' } },
    { path: '/subscribe', handlers: { POST: subscribe.subscribe }, limit: { by: 'client' } },
    // Where a subscribe POST sends the browser (303), so reloading the page does not post again.
    { path: '/subscribe/sent', handlers: { GET: subscribe.sent }, limit: { by: 'none' } },
    { path: '/confirm', handlers: { GET: confirm.show, POST: confirm.confirm }, limit: { by: 'link', purpose: 'confirm' } },
    { path: '/unsubscribe', handlers: { GET: unsubscribe.show, POST: unsubscribe.unsubscribe }, limit: { by: 'link', purpose: 'unsubscribe' } },
    {
      path: '/preferences',
      handlers: { GET: preferences.show, POST: preferences.save },
      limit: { by: 'link', purpose: 'preferences' },
      sameOrigin: true,
    },
    // Feeds, archive pages and web versions: the files of output/.
    { path: '*', handlers: { GET: staticHandler(deps) }, limit: { by: 'none' } },
  ];
}
