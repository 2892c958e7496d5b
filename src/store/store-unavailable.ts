import { BriefingError } from '../errors.js';

/** Why the store cannot take a write now: another writer holds the lock, or its file is gone. */
type StoreUnavailability = 'busy' | 'replaced';

/**
 * Reads a store failure (or any error in its cause chain) as a passing condition rather than a bug:
 * SQLITE_BUSY and its variants, or the SQLite file deleted or replaced under a running process.
 * Undefined for every other error.
 */
export function storeUnavailability(error: unknown): StoreUnavailability | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 10; current = current.cause, depth += 1) {
    if (current instanceof BriefingError && current.code === 'store-replaced') return 'replaced';
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_BUSY')) return 'busy';
  }
  return undefined;
}
