import { BriefingError } from '../errors.js';

/**
 * Why the store cannot take a write now: another writer holds the lock, its file is gone, its file is
 * damaged, or it fails for a reason of the machine (full disk, I/O error, no write access, PostgreSQL down).
 */
export type StoreUnavailability = 'busy' | 'replaced' | 'damaged' | 'failing';

/** The store's one-line faults (store-fault.ts) for conditions of the machine, not of the program. */
const FAILING = new Set(['store-full', 'store-io', 'store-read-only', 'store-unavailable']);

/**
 * Reads a store failure (or any error in its cause chain) as an operating condition rather than a
 * bug: SQLITE_BUSY and its variants, the SQLite file deleted or replaced under a running process, or
 * the file damaged (truncated, overwritten, a malformed page), or a fault of the machine (full disk,
 * I/O error, read-only file, PostgreSQL unreachable). Undefined for every other error.
 */
export function storeUnavailability(error: unknown): StoreUnavailability | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 10; current = current.cause, depth += 1) {
    if (current instanceof BriefingError && current.code === 'store-replaced') return 'replaced';
    if (current instanceof BriefingError && (current.code === 'store-corrupt' || current.code === 'store-empty')) return 'damaged';
    if (current instanceof BriefingError && FAILING.has(current.code)) return 'failing';
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_BUSY')) return 'busy';
  }
  return undefined;
}
