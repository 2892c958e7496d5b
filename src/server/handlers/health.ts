import type { Context } from 'hono';
import type { ServerDependencies } from '../dependencies.js';

/** GET /healthz for process managers: 200 when the store answers, 503 when it does not. */
export function healthHandler(deps: ServerDependencies): (c: Context) => Promise<Response> {
  return async (c) => {
    try {
      await deps.store.listSubscribers({ limit: 1 });
      return c.json({ status: 'ok' }, 200, { 'cache-control': 'no-store' });
    } catch (error) {
      deps.logger.error({ err: error }, 'server: health check failed');
      return c.json({ status: 'unavailable' }, 503, { 'cache-control': 'no-store' });
    }
  };
}
