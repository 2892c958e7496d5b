import { describe, expect, it } from 'vitest';
import { meteredStore } from '../../src/bench/outbox-figure.js';
import type { SenderStore } from '../../src/delivery/send-edition.js';
import { sqliteFixture } from '../store/store-fixtures.js';

/** Keeps the thread busy for `ms`, as a store's synchronous work would. */
function busyFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('the outbox figure’s meter', () => {
  it('counts a store call’s work done before its promise is returned, and its wait after', async () => {
    const fixture = await sqliteFixture();
    try {
      const real: SenderStore = fixture.store;
      // A store that does 30 ms of its work before it returns its promise, then the real call.
      const store: SenderStore = {
        ...real,
        deliveryCounts: (editionId) => {
          busyFor(30);
          return real.deliveryCounts(editionId);
        },
      };
      const tally = { ms: 0, claims: 0, records: 0, outcomes: 0 };
      const counts = await meteredStore(store, tally).deliveryCounts('2025-07-24');
      expect(counts).toEqual({ queued: 0, sending: 0, sent: 0, failed: 0, skipped: 0 });
      expect(tally.ms).toBeGreaterThanOrEqual(30);

      // Work done after the promise is returned (a query the driver runs later) counts too.
      const later: SenderStore = {
        ...real,
        deliveryCounts: async (editionId) => {
          await new Promise((resolve) => setTimeout(resolve, 20));
          return real.deliveryCounts(editionId);
        },
      };
      const afterwards = { ms: 0, claims: 0, records: 0, outcomes: 0 };
      await meteredStore(later, afterwards).deliveryCounts('2025-07-24');
      expect(afterwards.ms).toBeGreaterThanOrEqual(19);
    } finally {
      await fixture.cleanup();
    }
  });
});
