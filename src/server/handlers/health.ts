import type { Context } from 'hono';
import { storeUnavailability } from '../../store/store-unavailable.js';
import type { ServerDependencies } from '../dependencies.js';
import { RETRY_AFTER_SECONDS } from '../waiting-store.js';

/**
 * GET /healthz for process managers: 200 when the store could take a write now; 503 `busy` when
 * another writer has held it past the store wait, 503 `unavailable` when it fails otherwise (closed,
 * its file deleted or replaced). Reads alone would say 200 while every write waits.
 */
export function healthHandler(deps: ServerDependencies): (c: Context) => Promise<Response> {
  return async (c) => {
    try {
      await deps.store.checkWritable();
      return c.json({ status: 'ok' }, 200, { 'cache-control': 'no-store' });
    } catch (error) {
      const busy = storeUnavailability(error) === 'busy';
      deps.logger.error({ err: error }, busy ? 'server: health check found the store busy' : 'server: health check failed');
      return c.json({ status: busy ? 'busy' : 'unavailable' }, 503, { 'cache-control': 'no-store', ...(busy ? { 'retry-after': String(RETRY_AFTER_SECONDS) } : {}) });
    }
  };
}
