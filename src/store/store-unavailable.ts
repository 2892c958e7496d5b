import { BriefingError } from '../errors.js';

/** Why the store cannot take a write now: another writer holds the lock, its file is gone, or its file is damaged. */
type StoreUnavailability = 'busy' | 'replaced' | 'damaged';

/**
 * Reads a store failure (or any error in its cause chain) as an operating condition rather than a
 * bug: SQLITE_BUSY and its variants, the SQLite file deleted or replaced under a running process, or
 * the file damaged (truncated, overwritten, a malformed page). Undefined for every other error.
 */
export function storeUnavailability(error: unknown): StoreUnavailability | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 10; current = current.cause, depth += 1) {
    if (current instanceof BriefingError && current.code === 'store-replaced') return 'replaced';
    if (current instanceof BriefingError && (current.code === 'store-corrupt' || current.code === 'store-empty')) return 'damaged';
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_BUSY')) return 'busy';
  }
  return undefined;
}
