import type { Context } from 'hono';
import type { ServerDependencies } from '../dependencies.js';
import { errorResponse, rawPathname } from '../respond.js';
import { EMAIL_PAGE_CONTENT_SECURITY_POLICY } from '../security-headers.js';
import { createStaticFiles } from '../static-files.js';

/** GET/HEAD of anything else: a file of output/ (`/` and `/editions/D/` serve their index.html). */
export function staticHandler(deps: ServerDependencies): (c: Context) => Promise<Response> {
  const files = createStaticFiles({ root: deps.config.paths.output });
  return async (c) => {
    const result = await files.serve(rawPathname(c), c.req.raw.headers);
    switch (result.kind) {
      case 'response':
        if (result.relative.startsWith('editions/') && result.relative.endsWith('.html')) {
          result.headers.set('content-security-policy', EMAIL_PAGE_CONTENT_SECURITY_POLICY);
        }
        return new Response(result.body, { status: result.status, headers: result.headers });
      case 'redirect':
        return new Response(null, { status: 301, headers: { location: result.location, 'content-length': '0' } });
      case 'bad-request':
        return errorResponse(deps.pages, 400);
      case 'not-found':
        return errorResponse(deps.pages, 404);
    }
  };
}
