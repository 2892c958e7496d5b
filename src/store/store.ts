/**
 * The storage the rest of Briefing needs, split by consumer: the subscriber commands and the web
 * server use `SubscriberStore`, planning and the scheduler use `EditionStore`, the sender uses
 * `OutboxStore`. Every backend implements `Store` and passes test/store/store-contract.ts.
 */

export type SubscriberStatus = 'pending' | 'active' | 'unsubscribed' | 'bounced';
export const SUBSCRIBER_STATUSES: readonly SubscriberStatus[] = ['pending', 'active', 'unsubscribed', 'bounced'];

/**
 * The topic ids a subscriber reads, sorted and unique; null: every topic, including ones configured
 * later (the default, and what every subscriber from before topic subscriptions has).
 */
export type TopicChoice = readonly string[] | null;

/** At most this many topics in a choice, each a configured topic id. */
export const MAX_CHOSEN_TOPICS = 64;

export interface Subscriber {
  id: number;
  /** As given, with the domain lower-cased (and IDNA-encoded); unique ignoring the case of ASCII letters. */
  address: string;
  name: string | null;
  status: SubscriberStatus;
  source: string;
  createdAt: Date;
  confirmedAt: Date | null;
  unsubscribedAt: Date | null;
  /** Random key made with the row and mixed into its link tokens, so an id alone forges nothing; never shown. */
  linkKey: string;
  topics: TopicChoice;
  /** Set while the subscriber has paused the briefing (from the preference page): no edition is enqueued for them. */
  pausedAt: Date | null;
  /** Why and when the status last changed (`complaint`, `hard bounce: 5.1.1 …`, `unsubscribe link` …); null before any change. */
  statusReason: string | null;
  statusChangedAt: Date | null;
}

/** How the status reason of an address unsubscribed by a complaint begins (its owner marked a briefing as spam). */
export const COMPLAINT_REASON = 'complaint';

/**
 * Whether the sign-up form leaves an address alone, mailing it nothing: it bounced (a confirmation
 * would bounce again), or its owner complained (anyone may type an address into the form, and this
 * one said the mail is unwanted). Only the operator brings such an address back.
 */
export function refusesSignUp(subscriber: Pick<Subscriber, 'status' | 'statusReason'>): boolean {
  if (subscriber.status === 'bounced') return true;
  const reason = subscriber.statusReason;
  return subscriber.status === 'unsubscribed' && reason !== null && (reason === COMPLAINT_REASON || reason.startsWith(`${COMPLAINT_REASON}:`));
}

export interface NewSubscriber {
  address: string;
  name?: string | null;
  status: SubscriberStatus;
  source: string;
  /** Times carried over from another store (export/import); default: now, where the status needs one. */
  createdAt?: Date;
  confirmedAt?: Date | null;
  unsubscribedAt?: Date | null;
  /** Replaces the stored choice when given (an import's `topics` column, a sign-up's boxes); a new row defaults to every topic. */
  topics?: TopicChoice;
}

/** What happened to one address given to `addSubscribers`. */
export type AddOutcome = 'created' | 'updated' | 'unchanged' | 'kept-unsubscribed';

/** How many addresses of an import ended in each outcome. */
export type AddCounts = Record<AddOutcome, number>;

export interface SubscriberStore {
  /**
   * Adds subscribers in one transaction. An existing address keeps its id; its name is updated when
   * given; an unsubscribed or bounced address is never re-activated (`kept-unsubscribed`).
   */
  addSubscribers(subscribers: readonly NewSubscriber[], now: Date): Promise<AddOutcome[]>;
  /**
   * The bulk path of `addSubscribers` (CSV import of millions of lines): each batch of the stream in
   * a transaction of its own, with the same rules, so the write lock is held for one batch at a time;
   * memory stays that of one batch. A stream that fails part way leaves the batches before it written.
   */
  importSubscribers(batches: AsyncIterable<readonly NewSubscriber[]>, now: Date): Promise<AddCounts>;
  getSubscriber(id: number): Promise<Subscriber | undefined>;
  findSubscriber(address: string): Promise<Subscriber | undefined>;
  /**
   * Moves one subscriber to a new status, stamping confirmedAt/unsubscribedAt and recording `reason`
   * and the time as the last status change. False if unknown.
   */
  setSubscriberStatus(id: number, status: SubscriberStatus, now: Date, reason: string): Promise<boolean>;
  /**
   * The preference page's change: the topics read and whether the briefing is paused. Only for a
   * pending or active subscriber (false otherwise, and for an unknown id).
   */
  setSubscriberPreferences(id: number, preferences: { topics: TopicChoice; paused: boolean }, now: Date): Promise<boolean>;
  /**
   * Records one returned mail (a bounce report, a complaint, a mailto unsubscribe) against the
   * subscriber it names, once per `key`, and applies it: a hard bounce bounces, a complaint or an
   * unsubscribe mail unsubscribes, soft bounces bounce once `rule.softBounces` editions bounced
   * softly within `rule.windowMs`. An address that already left stays as it is, but for one that left
   * by itself and is then reported as spam (its reason becomes the complaint) or as a dead mailbox (bounced).
   */
  recordReturn(mail: ReturnedMailRecord, rule: SoftBounceRule, now: Date): Promise<ReturnResult>;
  /** The latest status changes, newest first (for `briefing status`). */
  recentStatusChanges(limit: number): Promise<Subscriber[]>;
  /** Deletes a subscriber and its deliveries. False if unknown. */
  removeSubscriber(id: number): Promise<boolean>;
  /** One page in id order after `afterId` (keyset pagination): memory never grows with the list. */
  listSubscribers(query: { status?: SubscriberStatus; afterId?: number; limit: number }): Promise<Subscriber[]>;
  countSubscribers(status?: SubscriberStatus): Promise<number>;
}

/** What a returned mail says about a subscriber. */
export type ReturnKind = 'hard-bounce' | 'soft-bounce' | 'complaint' | 'unsubscribe';

export interface ReturnedMailRecord {
  /** Unique per returned message (its Message-ID, else a digest): the same message twice counts once. */
  key: string;
  subscriberId: number;
  /** The edition the returned message was (for bounces); soft bounces count once per edition. */
  editionId: string | null;
  kind: ReturnKind;
  /** One line: the DSN status and diagnostic, the feedback type. */
  detail: string;
}

export interface SoftBounceRule {
  /** Soft bounces (of distinct editions) within the window that make an address bounced. */
  softBounces: number;
  windowMs: number;
}

export type ReturnResult =
  | { recorded: false; reason: 'repeat' | 'unknown-subscriber' }
  | { recorded: true; status: SubscriberStatus; changed: boolean; softBounces: number };

export type EditionStatus = 'planned' | 'sending' | 'sent' | 'skipped';

export interface EditionRecord {
  /** `YYYY-MM-DD`, or a slot id when several editions a day are scheduled. */
  id: string;
  /** The scheduled time the edition belongs to. */
  slot: Date;
  status: EditionStatus;
  /** End of the window of articles the edition covers; the next edition starts here. */
  cutoff: Date;
  subject: string;
  /** Why an edition was skipped, or other operator-facing notes. */
  note: string | null;
  /** Planner's memory of what was told (paragraph keys, article versions), opaque to the store. */
  memory: unknown;
  createdAt: Date;
  updatedAt: Date;
}

export interface EditionStore {
  /** Creates the edition unless one with that id exists: true only for the caller that created it. */
  createEdition(edition: Omit<EditionRecord, 'createdAt' | 'updatedAt'>, now: Date): Promise<boolean>;
  getEdition(id: string): Promise<EditionRecord | undefined>;
  setEditionStatus(id: string, status: EditionStatus, now: Date, note?: string | null): Promise<void>;
  /** Newest first by slot. */
  listEditions(limit: number): Promise<EditionRecord[]>;
  /** The newest edition with status sent or sending whose slot is before `before`. */
  previousEdition(before: Date): Promise<EditionRecord | undefined>;
  /**
   * Deletes the record of an edition none of whose deliveries is sent or sending (with its queued
   * and failed ones), so it can be planned again; false when unknown or when some already went out.
   */
  reopenEdition(id: string): Promise<boolean>;
}

/** `skipped`: the edition had nothing for the subscriber's topics, so no message went. */
export type DeliveryStatus = 'queued' | 'sending' | 'sent' | 'failed' | 'skipped';

export interface Delivery {
  editionId: string;
  subscriberId: number;
  address: string;
  name: string | null;
  /** The subscriber's link key, for the unsubscribe token of this message. */
  linkKey: string;
  /** The subscriber's topics when the delivery was enqueued: which variant of the briefing they get. */
  topics: TopicChoice;
  status: DeliveryStatus;
  attempts: number;
  lastReply: string | null;
  /** Earliest time a queued delivery may be tried again (retry backoff). */
  notBefore: Date | null;
  /** Worker holding a `sending` row, and until when. */
  worker: string | null;
  leaseUntil: Date | null;
  updatedAt: Date;
}

export interface DeliveryCounts {
  queued: number;
  sending: number;
  sent: number;
  failed: number;
  skipped: number;
}

export interface OutboxStore {
  /**
   * One `queued` delivery per active subscriber who has not paused, with their topics as they are
   * now; existing rows are left alone. Returns rows added.
   */
  enqueueDeliveries(editionId: string, now: Date): Promise<number>;
  /** The distinct topic choices of the edition's queued and sending deliveries: the briefing variants a send needs. */
  deliveryTopicChoices(editionId: string): Promise<TopicChoice[]>;
  /** Marks the edition's queued deliveries of exactly this topic choice `skipped` (nothing for them), with `reason`. Returns how many. */
  skipDeliveries(editionId: string, topics: TopicChoice, reason: string, now: Date): Promise<number>;
  /**
   * Claims up to `limit` deliveries for `worker`: queued ones due by `now`, and `sending` ones whose
   * lease expired (or whose worker is listed in `deadWorkers`). Claimed rows become `sending`,
   * attempts + 1, leased until `leaseUntil`. Two live workers never get the same row.
   */
  claimDeliveries(request: {
    editionId: string;
    worker: string;
    limit: number;
    now: Date;
    leaseUntil: Date;
    deadWorkers?: readonly string[];
  }): Promise<Delivery[]>;
  /** Extends the lease of the rows this worker holds. */
  renewLease(editionId: string, worker: string, leaseUntil: Date): Promise<void>;
  /** Records outcomes in one transaction; only rows still held by `worker` change. */
  recordOutcomes(editionId: string, worker: string, outcomes: readonly DeliveryOutcome[], now: Date): Promise<void>;
  /** Workers holding `sending` rows of the edition (to detect dead ones on this host). */
  sendingWorkers(editionId: string): Promise<string[]>;
  deliveryCounts(editionId: string): Promise<DeliveryCounts>;
  listDeliveries(query: { editionId: string; status?: DeliveryStatus; afterSubscriberId?: number; limit: number }): Promise<Delivery[]>;
}

export type DeliveryOutcome =
  | { subscriberId: number; status: 'sent'; reply: string }
  | { subscriberId: number; status: 'failed'; reply: string; bounce: boolean }
  | {
      subscriberId: number;
      status: 'retry';
      reply: string;
      notBefore: Date;
      /**
       * The message was not tried for its own sake: it was never handed to the server, or the server
       * could not work at all (unreachable, silent, refusing the login). Its claim is then not counted
       * as one of its attempts, so an outage does not use up what `delivery.maxAttempts` allows.
       */
      untried?: boolean;
    };

/** Every backend: SQLite (embedded default) and PostgreSQL (scale-out). */
export interface Store extends SubscriberStore, EditionStore, OutboxStore {
  readonly kind: 'sqlite' | 'postgres';
  /**
   * Fails (see storeUnavailability) when a write would: on SQLite it takes the write lock and lets it go
   * at once; on PostgreSQL, where writers take row locks, it proves the server answers a transaction.
   */
  checkWritable(): Promise<void>;
  close(): Promise<void>;
}
