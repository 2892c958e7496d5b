import { copyFileSync } from 'node:fs';
import { pino } from 'pino';
import type { Config } from '../config.js';
import { createTransport } from '../delivery/create-transport.js';
import type { MessageTemplate } from '../delivery/message.js';
import { oneTemplate, sendEdition, type SenderStore } from '../delivery/send-edition.js';
import { openStoreAt } from '../store/open-store.js';

/** What the outbox cost within a real send. */
export interface OutboxShare {
  /** Messages accepted per second by the whole send. */
  sendRate: number;
  /** Deliveries finished per second of time spent in the store's outbox calls alone. */
  bookkeepingRate: number;
  /** Outbox transactions (claims and recorded batches) and outcomes recorded per transaction. */
  transactions: number;
  outcomesPerRecord: number;
}

/**
 * Wraps the sender's store so every call's time is added up, and recorded batches counted. The clock
 * starts before the call is made: a store may do part of its work before it returns its promise.
 */
export function meteredStore(store: SenderStore, tally: { ms: number; claims: number; records: number; outcomes: number }): SenderStore {
  const time = async <T>(call: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    try {
      return await call();
    } finally {
      tally.ms += performance.now() - start;
    }
  };
  return {
    enqueueDeliveries: (...args) => time(() => store.enqueueDeliveries(...args)),
    claimDeliveries: (...args) => {
      tally.claims += 1;
      return time(() => store.claimDeliveries(...args));
    },
    renewLease: (...args) => time(() => store.renewLease(...args)),
    recordOutcomes: (editionId, worker, outcomes, now) => {
      tally.records += 1;
      tally.outcomes += outcomes.length;
      return time(() => store.recordOutcomes(editionId, worker, outcomes, now));
    },
    sendingWorkers: (...args) => time(() => store.sendingWorkers(...args)),
    deliveryCounts: (...args) => time(() => store.deliveryCounts(...args)),
  };
}

/**
 * The outbox bookkeeping within a real send: the sender (enqueue, claims, outcomes recorded in the
 * batches it makes at speed) runs in this process against a copy of a seeded SQLite store and an
 * SMTP pool to `smtpUrl`, with the store's calls timed. The time in those calls (their wait behind
 * other work in the event loop included, so it errs high) gives the bookkeeping rate.
 */
export async function measureOutboxShare(
  file: string,
  seedFile: string,
  options: { edition: string; template: MessageTemplate; config: Config; smtpUrl: string; secret: string },
): Promise<OutboxShare> {
  copyFileSync(seedFile, file);
  const { config, edition } = options;
  const store = await openStoreAt({ kind: 'sqlite', file });
  const logger = pino({ level: 'silent' });
  const transport = await createTransport({ env: { ...config.env, smtpUrl: options.smtpUrl }, paths: config.paths, delivery: config.delivery }, edition, logger);
  const tally = { ms: 0, claims: 0, records: 0, outcomes: 0 };
  try {
    const now = new Date();
    await store.createEdition({ id: edition, slot: now, status: 'sending', cutoff: now, subject: options.template.subject, note: null, memory: null }, now);
    const summary = await sendEdition(
      { store: meteredStore(store, tally), transport, clock: { now: () => new Date() }, settings: config.delivery, secret: options.secret, siteUrl: config.siteUrl, logger },
      { editionId: edition, templates: oneTemplate(options.template), enqueue: true },
    );
    if (summary.sent !== summary.total) throw new Error(`the in-process send sent ${summary.sent} of ${summary.total} messages`);
    return {
      sendRate: summary.rate,
      bookkeepingRate: (summary.sent * 1000) / tally.ms,
      transactions: tally.claims + tally.records,
      outcomesPerRecord: tally.outcomes / Math.max(1, tally.records),
    };
  } finally {
    await transport.close();
    await store.close();
  }
}
