import type { MiddlewareHandler } from 'hono';
import type { Pages } from './pages.js';
import { errorResponse } from './respond.js';

/**
 * Refuses a form posted from another site (cross-site request forgery), as browsers tell it: by
 * `Sec-Fetch-Site` where they send it (every current browser), else by `Origin` against the request's
 * host or the site URL. A request with neither header is no browser's and goes on: the token it must
 * carry is what guards it. Not for the RFC 8058 one-click POST, which mail providers send from their
 * own servers.
 */
export function sameOrigin(siteUrl: string, pages: Pages): MiddlewareHandler {
  const siteOrigin = new URL(siteUrl).origin;
  return async (c, next) => {
    const fetchSite = c.req.header('sec-fetch-site');
    const origin = c.req.header('origin');
    const allowed =
      fetchSite !== undefined
        ? fetchSite === 'same-origin' || fetchSite === 'none'
        : origin === undefined || origin === siteOrigin || sameHost(origin, c.req.header('host'));
    if (!allowed) return errorResponse(pages, 403);
    await next();
  };
}

/** True when an Origin header names the host the request was sent to (`null` and junk name none). */
function sameHost(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}
