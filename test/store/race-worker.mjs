// A separate process racing others on one store (built store from dist/): creates the edition,
// enqueues, then claims and records batches until nothing is left. Prints one JSON line at the end.
// Usage: node race-worker.mjs LOCATION_JSON WORKER EDITION START_AT_MS
import { openStoreAt } from '../../dist/store/open-store.js';

const [locationJson, worker, editionId, startAt] = process.argv.slice(2);
const store = await openStoreAt(JSON.parse(locationJson));
const now = new Date('2025-07-23T04:00:00Z');
// All workers start together so the edition creation and the first claims really collide.
await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
const created = await store.createEdition(
  { id: editionId, slot: now, status: 'sending', cutoff: now, subject: `created by ${worker}`, note: null, memory: { worker } },
  now,
);
const enqueued = await store.enqueueDeliveries(editionId, now);
const claimed = [];
for (;;) {
  const batch = await store.claimDeliveries({ editionId, worker, limit: 7, now, leaseUntil: new Date(now.getTime() + 600_000) });
  if (batch.length === 0) break;
  for (const delivery of batch) claimed.push(delivery.subscriberId);
  await store.recordOutcomes(editionId, worker, batch.map((d) => ({ subscriberId: d.subscriberId, status: 'sent', reply: `250 ${worker}` })), now);
}
await store.close();
process.stdout.write(`${JSON.stringify({ worker, created, enqueued, claimed })}\n`);
