import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import { rawPathname } from './respond.js';

/**
 * One structured log line per request: method, path (never the query, which carries tokens), status,
 * bytes of body sent and milliseconds taken.
 */
export function accessLog(logger: Logger): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const status = c.res.status;
    const bodyless = c.req.method === 'HEAD' || status === 304 || c.res.body === null;
    logger.info(
      {
        method: c.req.method,
        path: rawPathname(c),
        status,
        bytes: bodyless ? 0 : Number(c.res.headers.get('content-length') ?? 0),
        ms: Math.round((performance.now() - started) * 10) / 10,
      },
      'request',
    );
  };
}
