import type { Context } from 'hono';
import type { PageName, Pages } from './pages.js';

/**
 * An HTML page response. Pages carry tokens and answers about one person, so no cache keeps them;
 * the length is set so HEAD and the access log see the real size.
 */
export function pageResponse(pages: Pages, status: number, name: PageName, data: Record<string, unknown>, headers: Record<string, string> = {}): Response {
  const body = Buffer.from(pages.render(name, data), 'utf8');
  return new Response(body, {
    status,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-length': String(body.length),
      'cache-control': 'no-store',
      ...headers,
    },
  });
}

/** 303 See Other after a form was taken: the browser GETs `location`, so a reload shows it again instead of posting twice. */
export function redirectResponse(location: string): Response {
  return new Response(null, { status: 303, headers: { location, 'content-length': '0', 'cache-control': 'no-store' } });
}

/** Statuses the server answers with an error page. */
export type ErrorStatus = 400 | 403 | 404 | 405 | 413 | 429 | 500 | 503;

/** Headings and messages of the error pages, by status. */
const ERRORS: Readonly<Record<ErrorStatus, { heading: string; message: string }>> = {
  400: { heading: 'Bad request', message: 'The address of this page is not valid.' },
  403: { heading: 'Not from this site', message: 'This form can only be sent from a page of this site.' },
  404: { heading: 'Page not found', message: 'There is no page at this address.' },
  405: { heading: 'Method not allowed', message: 'This page cannot be used that way.' },
  413: { heading: 'Request too large', message: 'The form sent more data than this site accepts.' },
  429: { heading: 'Too many requests', message: 'Please wait a moment before trying again.' },
  500: { heading: 'Something went wrong', message: 'The request could not be completed. Please try again later.' },
  503: { heading: 'Unavailable', message: 'The site cannot answer right now. Please try again later.' },
};

/** The error page for `status`, without any detail of what failed inside. */
export function errorResponse(pages: Pages, status: ErrorStatus, headers: Record<string, string> = {}): Response {
  return pageResponse(pages, status, 'error', ERRORS[status], headers);
}

/** The request path as sent (still percent-encoded), without query: what logs and file lookup see. */
export function rawPathname(c: Context): string {
  return new URL(c.req.url).pathname;
}
