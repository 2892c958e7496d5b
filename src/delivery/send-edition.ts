import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { BriefingError, isBriefingError } from '../errors.js';
import type { Delivery, DeliveryCounts, DeliveryOutcome, OutboxStore } from '../store/store.js';
import { personaliseMessage, type MessageTemplate } from './message.js';
import { createToken, unsubscribeUrl } from './tokens.js';
import { TransportError, type Transport } from './transport.js';

/** Room in a message buffer for the recipient's own bytes (headers, links, name) beyond the template's. */
const SCRATCH_SLACK = 16 * 1024;
/** Longest an outcome waits for others to share its transaction while messages are still in flight. */
const RECORD_DELAY_MS = 20;

/** The outbox operations the sender uses, and nothing else. */
export type SenderStore = Pick<
  OutboxStore,
  'enqueueDeliveries' | 'claimDeliveries' | 'renewLease' | 'recordOutcomes' | 'sendingWorkers' | 'deliveryCounts'
>;

/** Where a send stands, reported after each recorded batch. */
export interface SendProgress {
  editionId: string;
  /** Deliveries of the edition (all statuses) and how many are finished (sent or failed). */
  total: number;
  done: number;
  /** This run's outcomes. */
  sent: number;
  failed: number;
  bounced: number;
  retried: number;
  elapsedMs: number;
}

/** What a send did: this run's outcomes and the edition's counts at the end. */
export interface SendSummary extends SendProgress {
  enqueued: number;
  /** Messages accepted per second in this run. */
  rate: number;
  counts: DeliveryCounts;
  /** True when a stop signal ended the run before the edition was done. */
  stopped: boolean;
  /** True when no delivery of the edition is queued or sending any more. */
  complete: boolean;
}

/** The parts a send needs; tests give a real store, a real SMTP transport and their own clock. */
export interface SenderDependencies {
  store: SenderStore;
  transport: Transport;
  clock: { now(): Date };
  settings: Config['delivery'];
  secret: string;
  siteUrl: string;
  logger: Logger;
  stopSignal?: AbortSignal;
  onProgress?: (progress: SendProgress) => void;
  /** For the backoff jitter; Math.random by default. */
  random?: () => number;
  worker?: string;
}

/** `host:pid:random`: unique per run, and tells which process on which host holds a row. */
export function workerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Workers of this host whose process is gone: their rows are taken over at once, not after the lease. */
export function deadWorkersOnThisHost(workers: readonly string[]): string[] {
  const host = hostname();
  return workers.filter((worker) => {
    const parts = worker.split(':');
    const pid = Number(parts[parts.length - 2]);
    return parts.slice(0, -2).join(':') === host && Number.isInteger(pid) && pid > 0 && pid !== process.pid && !processAlive(pid);
  });
}

/** Exponential backoff with jitter: half the doubled delay fixed, half random, capped. */
export function retryDelay(attempts: number, settings: Pick<Config['delivery'], 'retryBaseMs' | 'retryMaxMs'>, random: () => number): number {
  const delay = Math.min(settings.retryMaxMs, settings.retryBaseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(delay / 2 + random() * (delay / 2));
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Delivers an edition from the outbox: enqueues (idempotently, unless resuming), then claims
 * batches under a lease, sends with bounded concurrency and an optional rate, and records outcomes
 * in batched transactions. Messages on the wire and outcomes not yet recorded together stay within
 * `concurrency + recordBatch`, so a killed process leaves at most that many messages accepted but
 * not marked sent (the duplicate bound).
 * 4xx, timeouts and resets retry with backoff up to maxAttempts; 5xx fail at once (a refused
 * recipient bounces). A stop signal ends claiming, lets in-flight messages finish and returns.
 */
export async function sendEdition(
  dependencies: SenderDependencies,
  input: { editionId: string; template: MessageTemplate; enqueue: boolean },
): Promise<SendSummary> {
  const { store, transport, clock, settings, logger, stopSignal } = dependencies;
  const { editionId, template } = input;
  const random = dependencies.random ?? Math.random;
  const worker = dependencies.worker ?? workerId();
  const started = performance.now();
  const enqueued = input.enqueue ? await store.enqueueDeliveries(editionId, clock.now()) : 0;
  const deadWorkers = deadWorkersOnThisHost(await store.sendingWorkers(editionId));
  if (deadWorkers.length > 0) logger.info({ editionId, deadWorkers }, 'taking over the deliveries of stopped senders');
  const initial = await store.deliveryCounts(editionId);
  const total = initial.queued + initial.sending + initial.sent + initial.failed;
  const tally = { sent: 0, failed: 0, bounced: 0, retried: 0 };
  const rates = [settings.messagesPerSecond, transport.messagesPerSecond ?? 0].filter((rate) => rate > 0);
  const interval = rates.length === 0 ? 0 : 1000 / Math.min(...rates);
  let nextSendAt = 0;

  const ready: Delivery[] = [];
  /** Outcomes the server gave that are not recorded yet, and how many of them a running flush is writing. */
  const pending: DeliveryOutcome[] = [];
  let recording = 0;
  const buffers: Buffer[] = [];
  /** Messages on the wire (handed to the transport, no outcome yet). */
  let active = 0;
  let flushing: Promise<void> | undefined;
  let flushTimer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  let stopError: unknown;
  let nextRetryAt = Number.POSITIVE_INFINITY;
  let claimedAll = false;

  const progress = (): SendProgress => ({
    editionId,
    total,
    done: initial.sent + initial.failed + tally.sent + tally.failed,
    ...tally,
    elapsedMs: performance.now() - started,
  });
  const notify = (): void => {
    const waiting = wake;
    wake = undefined;
    waiting?.();
  };
  const changed = (): Promise<void> => new Promise((resolve) => (wake = resolve));
  const onStop = (): void => {
    scheduleFlush();
    notify();
  };
  stopSignal?.addEventListener('abort', onStop, { once: true });

  const unrecorded = (): number => pending.length + recording;
  /** Record now rather than wait for a fuller batch: no more outcomes are coming soon, or the run is ending. */
  const urgent = (): boolean => pending.length >= settings.recordBatch || active === 0 || stopSignal?.aborted === true || stopError !== undefined;

  async function flush(): Promise<void> {
    // Outcomes that arrive in the same turn of the event loop share one transaction.
    await new Promise((resolve) => setImmediate(resolve));
    while (pending.length > 0) {
      const batch = pending.splice(0);
      recording = batch.length;
      try {
        await store.recordOutcomes(editionId, worker, batch, clock.now());
      } catch (error) {
        stopError ??= error;
      }
      recording = 0;
      for (const outcome of batch) {
        if (outcome.status === 'sent') tally.sent += 1;
        else if (outcome.status === 'retry') tally.retried += 1;
        else {
          tally.failed += 1;
          if (outcome.bounce) tally.bounced += 1;
        }
      }
      dependencies.onProgress?.(progress());
      notify();
      if (!urgent()) break;
    }
    flushing = undefined;
    if (pending.length > 0) scheduleFlush();
  }

  /**
   * Outcomes are recorded once `recordBatch` of them wait (sooner when nothing else is in flight,
   * and at most RECORD_DELAY_MS late), so the outbox costs one transaction per batch, not per message.
   */
  function scheduleFlush(): void {
    if (flushing !== undefined || pending.length === 0) return;
    if (urgent()) {
      clearTimeout(flushTimer);
      flushTimer = undefined;
      flushing = flush();
    } else {
      flushTimer ??= setTimeout(() => {
        flushTimer = undefined;
        flushing ??= flush();
      }, RECORD_DELAY_MS);
    }
  }

  function complete(outcome: DeliveryOutcome, onTheWire: boolean): void {
    if (onTheWire) active -= 1;
    pending.push(outcome);
    scheduleFlush();
    notify();
  }

  function outcomeOf(delivery: Delivery, error: unknown): DeliveryOutcome {
    const subscriberId = delivery.subscriberId;
    if (!(error instanceof TransportError) || error.fatal) {
      // The transport cannot work (or a bug): stop, and leave the delivery queued for the next run.
      stopError ??= error;
      return { subscriberId, status: 'retry', reply: `not sent: ${error instanceof Error ? error.message : String(error)}`, notBefore: clock.now() };
    }
    if (!error.temporary) return { subscriberId, status: 'failed', reply: error.message, bounce: error.bounce };
    if (delivery.attempts >= settings.maxAttempts) {
      return { subscriberId, status: 'failed', reply: `${error.message} (gave up after ${delivery.attempts} attempts)`, bounce: false };
    }
    const notBefore = new Date(clock.now().getTime() + retryDelay(delivery.attempts, settings, random));
    nextRetryAt = Math.min(nextRetryAt, notBefore.getTime());
    return { subscriberId, status: 'retry', reply: error.message, notBefore };
  }

  function dispatch(delivery: Delivery): void {
    // Each message is written into a buffer of its own that is reused once the transport is done
    // with it: at most `concurrency` of them, however long the list.
    const scratch = buffers.pop() ?? Buffer.allocUnsafe(template.size + SCRATCH_SLACK);
    let message;
    try {
      const url = unsubscribeUrl(dependencies.siteUrl, createToken(dependencies.secret, 'unsubscribe', { id: delivery.subscriberId, linkKey: delivery.linkKey }));
      message = personaliseMessage(template, { subscriberId: delivery.subscriberId, address: delivery.address, name: delivery.name, unsubscribeUrl: url }, clock.now(), scratch);
    } catch (error) {
      buffers.push(scratch);
      if (!isBriefingError(error)) throw error;
      // This subscriber's address or name cannot go in a header: fail it, send the others.
      complete({ subscriberId: delivery.subscriberId, status: 'failed', reply: `not sent: ${error.message}`, bounce: false }, false);
      return;
    }
    active += 1;
    transport
      .send(message)
      .then(
        (receipt): DeliveryOutcome => ({ subscriberId: delivery.subscriberId, status: 'sent', reply: receipt.reply }),
        (error: unknown) => outcomeOf(delivery, error),
      )
      .then((outcome) => {
        buffers.push(scratch);
        complete(outcome, true);
      });
  }

  async function claim(): Promise<void> {
    const now = clock.now();
    const claimed = await store.claimDeliveries({
      editionId,
      worker,
      limit: settings.batchSize,
      now,
      leaseUntil: new Date(now.getTime() + settings.leaseSeconds * 1000),
      deadWorkers,
    });
    ready.push(...claimed);
    claimedAll = claimed.length < settings.batchSize;
  }

  const renewal = setInterval(() => {
    const now = clock.now();
    store.renewLease(editionId, worker, new Date(now.getTime() + settings.leaseSeconds * 1000)).catch((error: unknown) => {
      logger.warn({ editionId, error: String(error) }, 'could not renew the delivery lease');
    });
  }, (settings.leaseSeconds * 1000) / 3);
  renewal.unref();

  try {
    for (;;) {
      if (stopSignal?.aborted || stopError !== undefined) break;
      // Claim the next batch before this one runs dry, so the connections never wait for the store.
      if (ready.length <= settings.concurrency && (!claimedAll || ready.length === 0)) await claim();
      if (ready.length === 0) {
        if (active > 0 || unrecorded() > 0) {
          await changed();
          continue;
        }
        const counts = await store.deliveryCounts(editionId);
        if (counts.queued === 0 && counts.sending === 0) break;
        // Only retries that are not due yet (or rows another live sender holds): wait for the
        // earliest retry this run set, else look again in a second.
        const now = clock.now().getTime();
        if (nextRetryAt <= now) nextRetryAt = Number.POSITIVE_INFINITY;
        await sleep(Math.min(1000, Math.max(20, nextRetryAt - now)), stopSignal);
        continue;
      }
      // A kill loses the outcomes of what is on the wire or not yet recorded: together they stay
      // within concurrency + recordBatch, the most messages a resumed send can deliver twice.
      if (active >= settings.concurrency || active + unrecorded() >= settings.concurrency + settings.recordBatch) {
        await changed();
        continue;
      }
      if (interval > 0) {
        const now = performance.now();
        if (nextSendAt > now) {
          await sleep(nextSendAt - now, stopSignal);
          continue;
        }
        nextSendAt = Math.max(now, nextSendAt) + interval;
      }
      const delivery = ready.shift();
      if (delivery) dispatch(delivery);
    }
    while (active > 0 || unrecorded() > 0) await changed();
  } finally {
    clearInterval(renewal);
    stopSignal?.removeEventListener('abort', onStop);
  }
  if (ready.length > 0) {
    // Claimed but never tried: hand them back now rather than after the lease.
    const now = clock.now();
    const released = ready.splice(0).map((delivery): DeliveryOutcome => ({ subscriberId: delivery.subscriberId, status: 'retry', reply: 'not tried: the send stopped', notBefore: now }));
    await store.recordOutcomes(editionId, worker, released, now);
  }
  if (stopError instanceof TransportError) {
    throw new BriefingError('delivery', 'transport-failed', `${stopError.message}; the undelivered messages stay queued: run \`briefing send --resume\` once it is fixed`, {
      cause: stopError,
    });
  }
  if (stopError !== undefined) throw stopError;
  const counts = await store.deliveryCounts(editionId);
  const summary = progress();
  return {
    ...summary,
    enqueued,
    rate: summary.elapsedMs > 0 ? (tally.sent * 1000) / summary.elapsedMs : 0,
    counts,
    stopped: stopSignal?.aborted === true && (counts.queued > 0 || counts.sending > 0),
    complete: counts.queued === 0 && counts.sending === 0,
  };
}
