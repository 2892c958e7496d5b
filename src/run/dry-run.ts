import { existsSync } from 'node:fs';
import { storeLocation } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import type { OpenedEdition } from './open-edition.js';
import { openSlotEdition, resolveTarget } from './open-slot-edition.js';
import type { RunContext } from './run-context.js';

/** What a send would do: the edition, how many would get it, how many already did. */
export interface DryRunReport {
  id: string;
  opened: OpenedEdition;
  recipients: number;
  alreadySent: number;
}

/** What opening an edition reads and (when recording) writes. */
type EditionLookup = Pick<Store, 'getEdition' | 'previousEdition' | 'createEdition'>;

/** A store that does not exist yet: no editions, nothing to continue from. */
const NO_EDITIONS: EditionLookup = {
  getEdition: async () => undefined,
  previousEdition: async () => undefined,
  createEdition: async () => false,
};

/** `send --dry-run`: the edition, its subject and how many would get it (one with `--to`); no record, delivery or file is written. */
export async function dryRunSend(context: RunContext, request: { date?: string; testCopy: boolean }): Promise<DryRunReport> {
  const config = context.config();
  const target = resolveTarget(config, context.clock.now(), request.date);
  const location = storeLocation(config.env.databaseUrl, config.paths.data);
  // Opening a SQLite store that does not exist would create it: then there is no one to send to.
  const store = location.kind === 'sqlite' && !existsSync(location.file) ? undefined : await context.openStore();
  try {
    const lookup = store ?? NO_EDITIONS;
    const opened = await openSlotEdition({ config, clock: context.clock, store: lookup }, { target, stored: await lookup.getEdition(target.id), persist: false });
    const counts = (await store?.deliveryCounts(target.id)) ?? { queued: 0, sending: 0, sent: 0, failed: 0, skipped: 0 };
    const enqueued = counts.queued + counts.sending + counts.sent + counts.failed > 0;
    const recipients = request.testCopy ? 1 : enqueued ? counts.queued + counts.sending : ((await store?.countSubscribers('active')) ?? 0);
    return { id: target.id, opened, recipients, alreadySent: counts.sent };
  } finally {
    await store?.close();
  }
}
