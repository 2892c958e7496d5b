import type { MiddlewareHandler } from 'hono';

/** No script at all; styles and images from the site (and https images in articles); forms post only here. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; style-src 'self'; img-src 'self' https: data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/**
 * For the web version of a briefing (editions/): the email's HTML keeps its inline styles, which an
 * email needs; scripts stay forbidden all the same.
 */
export const EMAIL_PAGE_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'");

const HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  // Confirmation and unsubscribe URLs carry tokens: never leak them to another site.
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
};

/** Sets each security header a response does not set itself (the web version of a briefing has its own policy). */
export function addSecurityHeaders(headers: Headers): void {
  for (const [name, value] of Object.entries(HEADERS)) {
    if (!headers.has(name)) headers.set(name, value);
  }
}

/** Adds the security headers to every response the app makes. */
export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    addSecurityHeaders(c.res.headers);
  };
}
