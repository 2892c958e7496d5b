/**
 * The storage the rest of Briefing needs, split by consumer: the subscriber commands and the web
 * server use `SubscriberStore`, planning and the scheduler use `EditionStore`, the sender uses
 * `OutboxStore`. Every backend implements `Store` and passes test/store/store-contract.ts.
 */

export type SubscriberStatus = 'pending' | 'active' | 'unsubscribed' | 'bounced';
export const SUBSCRIBER_STATUSES: readonly SubscriberStatus[] = ['pending', 'active', 'unsubscribed', 'bounced'];

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
  /** Moves one subscriber to a new status, stamping confirmedAt/unsubscribedAt. False if unknown. */
  setSubscriberStatus(id: number, status: SubscriberStatus, now: Date): Promise<boolean>;
  /** Deletes a subscriber and its deliveries. False if unknown. */
  removeSubscriber(id: number): Promise<boolean>;
  /** One page in id order after `afterId` (keyset pagination): memory never grows with the list. */
  listSubscribers(query: { status?: SubscriberStatus; afterId?: number; limit: number }): Promise<Subscriber[]>;
  countSubscribers(status?: SubscriberStatus): Promise<number>;
}

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

export type DeliveryStatus = 'queued' | 'sending' | 'sent' | 'failed';

export interface Delivery {
  editionId: string;
  subscriberId: number;
  address: string;
  name: string | null;
  /** The subscriber's link key, for the unsubscribe token of this message. */
  linkKey: string;
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
}

export interface OutboxStore {
  /** One `queued` delivery per active subscriber; existing rows are left alone. Returns rows added. */
  enqueueDeliveries(editionId: string, now: Date): Promise<number>;
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
  | { subscriberId: number; status: 'retry'; reply: string; notBefore: Date };

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
