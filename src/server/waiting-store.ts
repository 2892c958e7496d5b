import { setTimeout as sleep } from 'node:timers/promises';
import type { SqliteOptions } from '../store/sqlite-store.js';
import { storeUnavailability } from '../store/store-unavailable.js';
import type { ServerStore } from './dependencies.js';

/**
 * How `serve` opens an SQLite store: SQLite's own busy wait blocks the one event loop (every route
 * froze behind one waiting write), so it is off and the server waits between attempts instead.
 */
export const SERVER_SQLITE_OPTIONS: SqliteOptions = { busyTimeoutMs: 0 };

/** What a 503 for a busy or replaced store tells the client to wait before trying again. */
export const RETRY_AFTER_SECONDS = 2;

/** Pause between attempts at a busy store: short, and other requests run meanwhile. */
const RETRY_MS = 20;

/**
 * The server's view of `store` where each call that finds the store busy (another process holds the
 * write lock) is tried again every few milliseconds, without blocking other requests, for at most
 * `waitMs`; then the busy error goes to the app, which answers 503 with Retry-After.
 */
export function waitingStore(store: ServerStore, waitMs: number): ServerStore {
  const patiently = async <T>(call: () => Promise<T>): Promise<T> => {
    const deadline = performance.now() + waitMs;
    for (;;) {
      try {
        return await call();
      } catch (error) {
        if (storeUnavailability(error) !== 'busy' || performance.now() + RETRY_MS > deadline) throw error;
        await sleep(RETRY_MS);
      }
    }
  };
  return {
    findSubscriber: (address) => patiently(() => store.findSubscriber(address)),
    addSubscribers: (subscribers, now) => patiently(() => store.addSubscribers(subscribers, now)),
    getSubscriber: (id) => patiently(() => store.getSubscriber(id)),
    setSubscriberStatus: (id, status, now, reason) => patiently(() => store.setSubscriberStatus(id, status, now, reason)),
    setSubscriberPreferences: (id, preferences, now) => patiently(() => store.setSubscriberPreferences(id, preferences, now)),
    checkWritable: () => patiently(() => store.checkWritable()),
  };
}
