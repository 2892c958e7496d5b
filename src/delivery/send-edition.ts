import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { BriefingError, isBriefingError } from '../errors.js';
import { processAlive } from '../process-alive.js';
import type { Delivery, DeliveryCounts, DeliveryOutcome, OutboxStore, TopicChoice } from '../store/store.js';
import { personaliseMessage, type MessageRecipient, type MessageTemplate } from './message.js';
import { OutcomeRecorder } from './outcome-recorder.js';
import { subscriberLinks } from './tokens.js';
import { TransportError, type OutgoingMessage, type Transport } from './transport.js';

/** Room in a message buffer for the recipient's own bytes (headers, links, name) beyond the template's. */
const SCRATCH_SLACK = 16 * 1024;

/** The outbox operations the sender uses, and nothing else. */
export type SenderStore = Pick<
  OutboxStore,
  'enqueueDeliveries' | 'claimDeliveries' | 'renewLease' | 'recordOutcomes' | 'sendingWorkers' | 'deliveryCounts'
>;

/** The messages of one send: the template of each topic choice's briefing. */
export interface EditionTemplates {
  /** Undefined for a choice none was prepared for (a delivery enqueued by another sender since). */
  templateFor(topics: TopicChoice): MessageTemplate | undefined;
  /** Bytes of the largest template: sizes the reusable message buffers. */
  readonly largest: number;
}

/** Map key of a topic choice: stored choices are canonical (sorted, unique), so equal choices join to equal text. */
function choiceKey(topics: TopicChoice): string | null {
  return topics === null ? null : topics.join(',');
}

/** The templates of the choices given; a choice not listed has none. */
export function templatesByChoice(entries: ReadonlyArray<readonly [TopicChoice, MessageTemplate]>): EditionTemplates {
  const byKey = new Map(entries.map(([topics, template]) => [choiceKey(topics), template]));
  return { templateFor: (topics) => byKey.get(choiceKey(topics)), largest: Math.max(0, ...entries.map(([, template]) => template.size)) };
}

/** One template for every choice: an edition whose record predates topic choices, a test's send. */
export function oneTemplate(template: MessageTemplate): EditionTemplates {
  return { templateFor: () => template, largest: template.size };
}

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
  /** Each delivery's own return path and unsubscribe mailbox, when returned mail is read (VERP). */
  returnAddresses?: (delivery: Delivery) => NonNullable<MessageRecipient['returns']>;
  /** For the backoff jitter; Math.random by default. */
  random?: () => number;
  worker?: string;
}

/** `host:pid:random`: unique per run, and tells which process on which host holds a row. */
export function workerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
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
  input: { editionId: string; templates: EditionTemplates; enqueue: boolean },
): Promise<SendSummary> {
  const { store, clock, logger } = dependencies;
  const { editionId } = input;
  const started = performance.now();
  const enqueued = input.enqueue ? await store.enqueueDeliveries(editionId, clock.now()) : 0;
  const deadWorkers = deadWorkersOnThisHost(await store.sendingWorkers(editionId));
  if (deadWorkers.length > 0) logger.info({ editionId, deadWorkers }, 'taking over the deliveries of stopped senders');
  const initial = await store.deliveryCounts(editionId);
  const run = new EditionSend(dependencies, input.templates, { editionId, deadWorkers, initial, started });
  await run.deliverAll();
  await run.releaseUntried();
  run.throwIfStopped();
  const counts = await store.deliveryCounts(editionId);
  const summary = run.progress();
  return {
    ...summary,
    enqueued,
    rate: summary.elapsedMs > 0 ? (summary.sent * 1000) / summary.elapsedMs : 0,
    counts,
    stopped: dependencies.stopSignal?.aborted === true && (counts.queued > 0 || counts.sending > 0),
    complete: counts.queued === 0 && counts.sending === 0,
  };
}

/**
 * One run of the sender over one edition, in the order a delivery goes through it: `claim` a batch
 * from the outbox, `personalise` each message, `handToTransport`, and record its outcome (through
 * the OutcomeRecorder, in batched transactions). `deliverAll` is the loop that paces them.
 */
class EditionSend {
  private readonly store: SenderStore;
  private readonly settings: Config['delivery'];
  private readonly worker: string;
  private readonly random: () => number;
  /** Shortest time between two sends (the configured and the transport's rate), 0 for none. */
  private readonly interval: number;
  private readonly recorder: OutcomeRecorder;
  /**
   * Messages handed to the transport at once: its own figure (two per connection for the pipelined
   * SMTP pool) or one per connection. The duplicate bound does not grow with it: handed-over plus
   * unrecorded stays within concurrency + recordBatch, and the recorder writes as soon as that
   * holds the next message back.
   */
  private readonly inFlight: number;
  /** Claimed deliveries not handed to the transport yet. */
  private readonly ready: Delivery[] = [];
  /** Message buffers the transport is done with, reused: at most `inFlight` of them, however long the list. */
  private readonly buffers: Buffer[] = [];
  /** Messages on the wire (handed to the transport, no outcome yet). */
  private active = 0;
  private claimedAll = false;
  private nextSendAt = 0;
  private nextRetryAt = Number.POSITIVE_INFINITY;
  /** Why the run stops early: a transport that cannot work, a store that cannot record. */
  private stopError: unknown;
  private wake: (() => void) | undefined;

  constructor(
    private readonly dependencies: SenderDependencies,
    private readonly templates: EditionTemplates,
    private readonly run: { editionId: string; deadWorkers: string[]; initial: DeliveryCounts; started: number },
  ) {
    this.store = dependencies.store;
    this.settings = dependencies.settings;
    this.worker = dependencies.worker ?? workerId();
    this.random = dependencies.random ?? Math.random;
    const rates = [this.settings.messagesPerSecond, dependencies.transport.messagesPerSecond ?? 0].filter((rate) => rate > 0);
    this.interval = rates.length === 0 ? 0 : 1000 / Math.min(...rates);
    this.inFlight = dependencies.transport.messagesInFlight ?? this.settings.concurrency;
    this.recorder = new OutcomeRecorder({
      record: (batch) => this.store.recordOutcomes(run.editionId, this.worker, batch, dependencies.clock.now()),
      recordBatch: this.settings.recordBatch,
      // Record now rather than wait for a fuller batch: no more outcomes are coming soon, the run is
      // ending, or the duplicate bound holds the next message back until these are recorded.
      ending: () => this.active === 0 || dependencies.stopSignal?.aborted === true || this.stopError !== undefined || this.atDuplicateBound(),
      failed: (error) => {
        this.stopError ??= error;
      },
      recorded: () => {
        dependencies.onProgress?.(this.progress());
        this.notify();
      },
    });
  }

  /** Where the send stands: the edition's finished deliveries and this run's outcomes so far. */
  progress(): SendProgress {
    const { initial, editionId, started } = this.run;
    const tally = this.recorder.tally;
    return { editionId, total: initial.queued + initial.sending + initial.sent + initial.failed, done: initial.sent + initial.failed + tally.sent + tally.failed, ...tally, elapsedMs: performance.now() - started };
  }

  /** Handed-over plus unrecorded messages are at the most a killed run may deliver again. */
  private atDuplicateBound(): boolean {
    return this.active + this.recorder.unrecorded >= this.settings.concurrency + this.settings.recordBatch;
  }

  /** Claims, sends and records until the edition has nothing left this run can send, or a stop. */
  async deliverAll(): Promise<void> {
    const { settings } = this;
    const { stopSignal, clock } = this.dependencies;
    const onStop = (): void => {
      this.recorder.schedule();
      this.notify();
    };
    stopSignal?.addEventListener('abort', onStop, { once: true });
    const renewal = this.renewLeaseRegularly();
    try {
      for (;;) {
        if (stopSignal?.aborted || this.stopError !== undefined) break;
        // Claim the next batch before this one runs dry, so the connections never wait for the store.
        if (this.ready.length <= this.inFlight && (!this.claimedAll || this.ready.length === 0)) await this.claim();
        if (this.ready.length === 0) {
          if (this.active > 0 || this.recorder.unrecorded > 0) {
            await this.changed();
            continue;
          }
          const counts = await this.store.deliveryCounts(this.run.editionId);
          if (counts.queued === 0 && counts.sending === 0) break;
          // Only retries that are not due yet (or rows another live sender holds): wait for the
          // earliest retry this run set, else look again in a second.
          const now = clock.now().getTime();
          if (this.nextRetryAt <= now) this.nextRetryAt = Number.POSITIVE_INFINITY;
          await sleep(Math.min(1000, Math.max(20, this.nextRetryAt - now)), stopSignal);
          continue;
        }
        // A kill loses the outcomes of what is on the wire or not yet recorded: together they stay
        // within concurrency + recordBatch, the most messages a resumed send can deliver twice.
        if (this.active >= this.inFlight || this.atDuplicateBound()) {
          await this.changed();
          continue;
        }
        if (this.interval > 0) {
          const now = performance.now();
          if (this.nextSendAt > now) {
            await sleep(this.nextSendAt - now, stopSignal);
            continue;
          }
          this.nextSendAt = Math.max(now, this.nextSendAt) + this.interval;
        }
        const delivery = this.ready.shift();
        if (delivery) this.handToTransport(delivery);
      }
      while (this.active > 0 || this.recorder.unrecorded > 0) await this.changed();
    } finally {
      clearInterval(renewal);
      stopSignal?.removeEventListener('abort', onStop);
    }
  }

  /** Claimed but never tried (the run stopped): hand them back now rather than after the lease. */
  async releaseUntried(): Promise<void> {
    if (this.ready.length === 0) return;
    const now = this.dependencies.clock.now();
    const released = this.ready.splice(0).map((delivery): DeliveryOutcome => ({ subscriberId: delivery.subscriberId, status: 'retry', reply: 'not tried: the send stopped', notBefore: now, untried: true }));
    await this.store.recordOutcomes(this.run.editionId, this.worker, released, now);
  }

  /** A run that stopped on an error ends with it; a transport's is told with what to do next. */
  throwIfStopped(): void {
    const error = this.stopError;
    if (error instanceof TransportError) {
      throw new BriefingError('delivery', 'transport-failed', `${error.message}; the undelivered messages stay queued: run \`briefing send --resume --date ${this.run.editionId}\` once it is fixed`, {
        cause: error,
      });
    }
    if (error !== undefined) throw error;
  }

  /** The next batch of the edition's deliveries, under this run's lease (taking over dead senders' rows). */
  private async claim(): Promise<void> {
    const { settings } = this;
    const now = this.dependencies.clock.now();
    const claimed = await this.store.claimDeliveries({
      editionId: this.run.editionId,
      worker: this.worker,
      limit: settings.batchSize,
      now,
      leaseUntil: new Date(now.getTime() + settings.leaseSeconds * 1000),
      deadWorkers: this.run.deadWorkers,
    });
    this.ready.push(...claimed);
    this.claimedAll = claimed.length < settings.batchSize;
  }

  /**
   * The subscriber's message, written into `scratch`; a failed outcome instead when their address
   * or name cannot go in a header (the others are still sent).
   */
  private personalise(delivery: Delivery, scratch: Buffer): OutgoingMessage | DeliveryOutcome {
    const { siteUrl, secret, clock } = this.dependencies;
    const template = this.templates.templateFor(delivery.topics);
    if (template === undefined) {
      // Enqueued by another sender after this one prepared its briefings: this run cannot send it; a resumed run will.
      const topics = delivery.topics?.join(', ') ?? 'every topic';
      this.stopError ??= new BriefingError('delivery', 'unprepared-topics', `a delivery for topics ${topics} was enqueued after this send prepared its briefings; run \`briefing send --resume --date ${this.run.editionId}\` to send it`);
      return { subscriberId: delivery.subscriberId, status: 'retry', reply: `not sent: no briefing prepared for topics ${topics}`, notBefore: clock.now(), untried: true };
    }
    try {
      const links = subscriberLinks(siteUrl, secret, { id: delivery.subscriberId, linkKey: delivery.linkKey });
      const returns = this.dependencies.returnAddresses?.(delivery);
      const recipient: MessageRecipient = { subscriberId: delivery.subscriberId, address: delivery.address, name: delivery.name, ...links, ...(returns === undefined ? {} : { returns }) };
      return personaliseMessage(template, recipient, clock.now(), scratch);
    } catch (error) {
      if (!isBriefingError(error)) throw error;
      return { subscriberId: delivery.subscriberId, status: 'failed', reply: `not sent: ${error.message}`, bounce: false };
    }
  }

  /** Sends one delivery's message; its outcome is recorded when the transport answers. */
  private handToTransport(delivery: Delivery): void {
    const scratch = this.buffers.pop() ?? Buffer.allocUnsafe(this.templates.largest + SCRATCH_SLACK);
    const message = this.personalise(delivery, scratch);
    if (!('raw' in message)) {
      this.buffers.push(scratch);
      this.complete(message, false);
      return;
    }
    this.active += 1;
    this.dependencies.transport
      .send(message)
      .then(
        (receipt): DeliveryOutcome => ({ subscriberId: delivery.subscriberId, status: 'sent', reply: receipt.reply }),
        (error: unknown) => this.outcomeOf(delivery, error),
      )
      .then((outcome) => {
        this.buffers.push(scratch);
        this.complete(outcome, true);
      });
  }

  /** What a refused send means: retry later (4xx, timeouts), fail (5xx, or out of attempts), or stop the run (the transport cannot work). */
  private outcomeOf(delivery: Delivery, error: unknown): DeliveryOutcome {
    const { clock } = this.dependencies;
    const { settings } = this;
    const subscriberId = delivery.subscriberId;
    if (!(error instanceof TransportError) || error.fatal) {
      // The transport cannot work (or a bug): stop, and leave the delivery queued for the next run,
      // its attempt given back (an outage is not this message's failure).
      this.stopError ??= error;
      return { subscriberId, status: 'retry', reply: `not sent: ${error instanceof Error ? error.message : String(error)}`, notBefore: clock.now(), untried: true };
    }
    if (!error.temporary) return { subscriberId, status: 'failed', reply: error.message, bounce: error.bounce };
    if (delivery.attempts >= settings.maxAttempts) {
      return { subscriberId, status: 'failed', reply: `${error.message} (gave up after ${delivery.attempts} attempts)`, bounce: false };
    }
    const notBefore = new Date(clock.now().getTime() + retryDelay(delivery.attempts, settings, this.random));
    this.nextRetryAt = Math.min(this.nextRetryAt, notBefore.getTime());
    return { subscriberId, status: 'retry', reply: error.message, notBefore };
  }

  /** An outcome is in: off the wire, onto the recorder, and the loop looks again. */
  private complete(outcome: DeliveryOutcome, onTheWire: boolean): void {
    if (onTheWire) this.active -= 1;
    this.recorder.add(outcome);
    this.notify();
  }

  /** Keeps this run's lease on its claimed rows while it works (a third of the lease at a time). */
  private renewLeaseRegularly(): NodeJS.Timeout {
    const { clock, logger } = this.dependencies;
    const { editionId } = this.run;
    const renewal = setInterval(() => {
      const now = clock.now();
      this.store.renewLease(editionId, this.worker, new Date(now.getTime() + this.settings.leaseSeconds * 1000)).catch((error: unknown) => {
        logger.warn({ editionId, error: String(error) }, 'could not renew the delivery lease');
      });
    }, (this.settings.leaseSeconds * 1000) / 3);
    renewal.unref();
    return renewal;
  }

  /** Resolves at the next outcome or recorded batch (or a stop). */
  private changed(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }

  private notify(): void {
    const waiting = this.wake;
    this.wake = undefined;
    waiting?.();
  }
}
