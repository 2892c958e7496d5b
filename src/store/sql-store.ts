import { randomBytes } from 'node:crypto';
import { BriefingError } from '../errors.js';
import { normaliseName, parseAddress, quoteForMessage } from '../address.js';
import type { Dialect } from './dialect.js';
import type { Queries } from './queries.js';
import { row, rows, run, type Row, type SqlDriver, type Task } from './sql-task.js';
import { decodeTopicChoice, encodeTopicChoice } from './topic-choice.js';
import {
  COMPLAINT_REASON,
  refusesSignUp,
  type AddCounts,
  type AddOutcome,
  type Delivery,
  type DeliveryCounts,
  type DeliveryStatus,
  type EditionRecord,
  type EditionStatus,
  type NewSubscriber,
  type ReturnedMailRecord,
  type ReturnResult,
  type SoftBounceRule,
  type Store,
  type Subscriber,
  type SubscriberStatus,
} from './store.js';

/** SQLite gives epoch milliseconds, PostgreSQL gives Date objects. */
function toDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(Number(value));
}

function toDateOrNull(value: unknown): Date | null {
  return value === null || value === undefined ? null : toDate(value);
}

function millisOrNull(date: Date | null | undefined): number | null {
  return date ? date.getTime() : null;
}

function toSubscriber(r: Row): Subscriber {
  return {
    id: Number(r.id),
    address: String(r.address),
    name: (r.name as string | null) ?? null,
    status: r.status as SubscriberStatus,
    source: String(r.source),
    createdAt: toDate(r.created_at),
    confirmedAt: toDateOrNull(r.confirmed_at),
    unsubscribedAt: toDateOrNull(r.unsubscribed_at),
    linkKey: String(r.link_key),
    topics: decodeTopicChoice(r.topics),
    pausedAt: toDateOrNull(r.paused_at),
    statusReason: (r.status_reason as string | null) ?? null,
    statusChangedAt: toDateOrNull(r.status_changed_at),
  };
}

function toEdition(r: Row): EditionRecord {
  return {
    id: String(r.id),
    slot: toDate(r.slot),
    status: r.status as EditionStatus,
    cutoff: toDate(r.cutoff),
    subject: String(r.subject),
    note: (r.note as string | null) ?? null,
    memory: JSON.parse(String(r.memory)) as unknown,
    createdAt: toDate(r.created_at),
    updatedAt: toDate(r.updated_at),
  };
}

function toDelivery(r: Row): Delivery {
  return {
    editionId: String(r.edition_id),
    subscriberId: Number(r.subscriber_id),
    address: String(r.address),
    name: (r.name as string | null) ?? null,
    linkKey: String(r.link_key),
    topics: decodeTopicChoice(r.topics),
    status: r.status as DeliveryStatus,
    attempts: Number(r.attempts),
    lastReply: (r.last_reply as string | null) ?? null,
    notBefore: toDateOrNull(r.not_before),
    worker: (r.worker as string | null) ?? null,
    leaseUntil: toDateOrNull(r.lease_until),
    updatedAt: toDate(r.updated_at),
  };
}

/** The stored form of a subscriber while a batch is merged. */
interface SubscriberState {
  id: number | null;
  address: string;
  key: string;
  name: string | null;
  status: SubscriberStatus;
  source: string;
  createdAt: number;
  confirmedAt: number | null;
  unsubscribedAt: number | null;
  linkKey: string;
  /** Encoded (encodeTopicChoice). */
  topics: string | null;
  statusReason: string | null;
  statusChangedAt: number | null;
  dirty: boolean;
}

const FINAL_STATUSES: ReadonlySet<SubscriberStatus> = new Set(['unsubscribed', 'bounced']);

/** The store re-validates what it is given (the web form and the CLI both reach it): never a bad row. */
function validated(input: NewSubscriber): { input: NewSubscriber; address: string; key: string; topics: string | null | undefined } {
  const parsed = parseAddress(input.address);
  if (!parsed.ok) throw new BriefingError('store', 'invalid-address', `address ${quoteForMessage(input.address)}: ${parsed.problem}`);
  const name = normaliseName(input.name);
  if (!name.ok) throw new BriefingError('store', 'invalid-name', `name of ${parsed.address}: ${name.problem}`);
  const topics = input.topics === undefined ? undefined : encodeTopicChoice(input.topics);
  return { input: { ...input, name: name.name }, address: parsed.address, key: parsed.key, topics };
}

function created(input: NewSubscriber, address: string, key: string, topics: string | null | undefined, now: number): SubscriberState {
  return {
    id: null,
    address,
    key,
    name: input.name ?? null,
    status: input.status,
    source: input.source,
    createdAt: input.createdAt?.getTime() ?? now,
    confirmedAt: input.confirmedAt !== undefined ? millisOrNull(input.confirmedAt) : input.status === 'active' ? now : null,
    unsubscribedAt: input.unsubscribedAt !== undefined ? millisOrNull(input.unsubscribedAt) : FINAL_STATUSES.has(input.status) ? now : null,
    // 128 random bits: what makes this subscriber's link tokens unguessable, whatever the secret.
    linkKey: randomBytes(16).toString('base64url'),
    topics: topics ?? null,
    statusReason: null,
    statusChangedAt: null,
    dirty: true,
  };
}

/**
 * The merge rules of `addSubscribers`: unsubscribed and bounced are final; pending may become active
 * (the operator vouches), active never goes back to pending; a given name replaces the stored one.
 */
function merged(current: SubscriberState, input: NewSubscriber, topics: string | null | undefined, now: number): { state: SubscriberState; outcome: AddOutcome } {
  if (FINAL_STATUSES.has(current.status)) return { state: current, outcome: 'kept-unsubscribed' };
  const next = { ...current };
  if (input.name !== undefined && input.name !== null && input.name !== current.name) next.name = input.name;
  if (topics !== undefined) next.topics = topics;
  if (FINAL_STATUSES.has(input.status)) {
    next.status = input.status;
    next.unsubscribedAt = millisOrNull(input.unsubscribedAt) ?? now;
  } else if (input.status === 'active' && current.status === 'pending') {
    next.status = 'active';
    next.confirmedAt = millisOrNull(input.confirmedAt) ?? now;
  }
  if (next.status !== current.status) {
    next.statusReason = input.source;
    next.statusChangedAt = now;
  }
  const changed = next.name !== current.name || next.status !== current.status || next.topics !== current.topics;
  return changed ? { state: { ...next, dirty: true }, outcome: 'updated' } : { state: current, outcome: 'unchanged' };
}

function* addBatch(q: Queries, batch: readonly NewSubscriber[], now: number): Task<AddOutcome[]> {
  const inputs = batch.map(validated);
  const existing = yield* rows(q.subscribersByKeys, [JSON.stringify([...new Set(inputs.map((i) => i.key))])]);
  const states = new Map<string, SubscriberState>();
  for (const r of existing) {
    const s = toSubscriber(r);
    states.set(String(r.address_key), {
      ...s,
      key: String(r.address_key),
      createdAt: s.createdAt.getTime(),
      confirmedAt: millisOrNull(s.confirmedAt),
      unsubscribedAt: millisOrNull(s.unsubscribedAt),
      topics: s.topics === null ? null : s.topics.join(','),
      statusChangedAt: millisOrNull(s.statusChangedAt),
      dirty: false,
    });
  }
  // Applied in order, so a duplicate later in the batch merges into the first.
  const outcomes = inputs.map(({ input, address, key, topics }): AddOutcome => {
    const current = states.get(key);
    if (!current) {
      states.set(key, created(input, address, key, topics, now));
      return 'created';
    }
    const { state, outcome } = merged(current, input, topics, now);
    states.set(key, state);
    return outcome;
  });
  const changed = [...states.values()].filter((s) => s.dirty);
  const inserts = changed.filter((s) => s.id === null);
  const updates = changed.filter((s) => s.id !== null);
  if (inserts.length > 0) {
    const values = inserts.map((s) => [s.address, s.key, s.name, s.status, s.source, s.createdAt, s.confirmedAt, s.unsubscribedAt, s.linkKey, s.topics]);
    yield* run(q.insertSubscribers, [JSON.stringify(values)]);
  }
  if (updates.length > 0) {
    const values = updates.map((s) => [s.id, s.name, s.status, s.confirmedAt, s.unsubscribedAt, s.topics, s.statusReason, s.statusChangedAt]);
    yield* run(q.updateSubscribers, [JSON.stringify(values)]);
    const left = updates.filter((s) => FINAL_STATUSES.has(s.status)).map((s) => s.id);
    if (left.length > 0) yield* run(q.dropQueuedDeliveries, [JSON.stringify(left)]);
  }
  return outcomes;
}

/** The longest status reason kept: one line, bounded whatever a server or a report said. */
const MAX_REASON_LENGTH = 300;

function reasonLine(reason: string): string {
  const line = reason.replace(/[\u0000-\u001F\u007F-\u009F\u2028\u2029]+/g, ' ').trim();
  return line.length > MAX_REASON_LENGTH ? `${line.slice(0, MAX_REASON_LENGTH - 1)}…` : line;
}

/** What each kind of returned mail does to an address still on the list, and why it says so. */
const RETURN_EFFECTS: Record<ReturnedMailRecord['kind'], { status: SubscriberStatus; reason: string } | null> = {
  'hard-bounce': { status: 'bounced', reason: 'hard bounce' },
  complaint: { status: 'unsubscribed', reason: COMPLAINT_REASON },
  unsubscribe: { status: 'unsubscribed', reason: 'mailto unsubscribe' },
  'soft-bounce': null,
};

function* applyReturn(q: Queries, mail: ReturnedMailRecord, rule: SoftBounceRule, now: Date): Task<ReturnResult> {
  const found = yield* row(q.getSubscriber, [mail.subscriberId]);
  if (!found) return { recorded: false, reason: 'unknown-subscriber' };
  const subscriber = toSubscriber(found);
  const inserted = yield* run(q.insertReturnedMail, [mail.key, mail.subscriberId, mail.editionId, mail.kind, reasonLine(mail.detail), now]);
  if (inserted === 0) return { recorded: false, reason: 'repeat' };
  let softBounces = 0;
  let effect = RETURN_EFFECTS[mail.kind];
  if (mail.kind === 'soft-bounce') {
    softBounces = Number((yield* row(q.countSoftBounces, [mail.subscriberId, new Date(now.getTime() - rule.windowMs)]))?.count ?? 0);
    const days = Math.round(rule.windowMs / 86_400_000);
    if (softBounces >= rule.softBounces) effect = { status: 'bounced', reason: `${softBounces} soft bounces in ${days} days` };
  }
  // An address that left stays as it left, unless it left by itself and is now reported as spam or as
  // a dead mailbox: that is then what its status says, so the sign-up form leaves it alone (refusesSignUp).
  const worse = effect !== null && subscriber.status === 'unsubscribed' && !refusesSignUp(subscriber) && (mail.kind === 'complaint' || effect.status === 'bounced');
  if (effect === null || (FINAL_STATUSES.has(subscriber.status) && !worse)) return { recorded: true, status: subscriber.status, changed: false, softBounces };
  const reason = reasonLine(mail.detail === '' ? effect.reason : `${effect.reason}: ${mail.detail}`);
  yield* run(q.setSubscriberStatus, [mail.subscriberId, effect.status, now, reason]);
  yield* run(q.dropQueuedDeliveries, [JSON.stringify([mail.subscriberId])]);
  return { recorded: true, status: effect.status, changed: true, softBounces };
}

function zeroCounts(): AddCounts {
  return { created: 0, updated: 0, unchanged: 0, 'kept-unsubscribed': 0 };
}

/** The Store over any SQL driver: all logic of both backends lives here once. */
export function createSqlStore(dialect: Dialect, driver: SqlDriver, q: Queries): Store {
  const read = <T>(task: () => Task<T>): Promise<T> => driver.execute(task, 'read');
  const write = <T>(task: () => Task<T>): Promise<T> => driver.execute(task, 'write');
  return {
    kind: dialect.kind,

    addSubscribers: (subscribers, now) => write(() => addBatch(q, subscribers, now.getTime())),

    importSubscribers: async (batches, now) => {
      const counts = zeroCounts();
      const iterator = batches[Symbol.asyncIterator]();
      let pending = iterator.next();
      try {
        for (;;) {
          const next = await pending;
          if (next.done) return counts;
          // Read the next batch while this one is written (PostgreSQL works while the file is parsed).
          pending = iterator.next();
          pending.catch(() => undefined); // awaited on the next turn; never an unhandled rejection
          // One transaction per batch: others (the server, a sender) get the lock between batches.
          for (const outcome of await write(() => addBatch(q, next.value, now.getTime()))) counts[outcome] += 1;
        }
      } finally {
        // On failure, let the source close its file.
        await Promise.resolve(iterator.return?.()).catch(() => undefined);
      }
    },

    getSubscriber: (id) => read(() => row(q.getSubscriber, [id])).then((r) => (r ? toSubscriber(r) : undefined)),

    findSubscriber: (address) => {
      const parsed = parseAddress(address);
      if (!parsed.ok) return Promise.resolve(undefined);
      return read(() => row(q.findSubscriber, [parsed.key])).then((r) => (r ? toSubscriber(r) : undefined));
    },

    setSubscriberStatus: (id, status, now, reason) =>
      write(function* () {
        const changed = yield* run(q.setSubscriberStatus, [id, status, now, reasonLine(reason)]);
        if (changed > 0 && FINAL_STATUSES.has(status)) yield* run(q.dropQueuedDeliveries, [JSON.stringify([id])]);
        return changed > 0;
      }),

    setSubscriberPreferences: (id, { topics, paused }, now) => {
      const encoded = encodeTopicChoice(topics);
      return write(() => run(q.setSubscriberPreferences, [id, encoded, paused ? 1 : 0, now])).then((n) => n > 0);
    },

    recordReturn: (mail, rule, now) => write(() => applyReturn(q, mail, rule, now)),

    recentStatusChanges: (limit) => read(() => rows(q.recentStatusChanges, [limit])).then((result) => result.map(toSubscriber)),

    removeSubscriber: (id) => write(() => run(q.removeSubscriber, [id])).then((n) => n > 0),

    listSubscribers: ({ status, afterId, limit }) =>
      read(() =>
        status === undefined
          ? rows(q.listSubscribers, [afterId ?? 0, limit])
          : rows(q.listSubscribersByStatus, [afterId ?? 0, limit, status]),
      ).then((result) => result.map(toSubscriber)),

    countSubscribers: (status) =>
      read(() => (status === undefined ? row(q.countSubscribers) : row(q.countSubscribersByStatus, [status]))).then((r) =>
        Number(r?.count ?? 0),
      ),

    createEdition: (edition, now) =>
      write(() =>
        run(q.createEdition, [
          edition.id,
          edition.slot,
          edition.status,
          edition.cutoff,
          edition.subject,
          edition.note,
          JSON.stringify(edition.memory ?? null),
          now,
        ]),
      ).then((n) => n === 1),

    getEdition: (id) => read(() => row(q.getEdition, [id])).then((r) => (r ? toEdition(r) : undefined)),

    setEditionStatus: async (id, status, now, note) => {
      await write(() =>
        note === undefined ? run(q.setEditionStatus, [id, status, now]) : run(q.setEditionStatusAndNote, [id, status, now, note]),
      );
    },

    listEditions: (limit) => read(() => rows(q.listEditions, [limit])).then((result) => result.map(toEdition)),

    previousEdition: (before) => read(() => row(q.previousEdition, [before])).then((r) => (r ? toEdition(r) : undefined)),

    reopenEdition: (id) => write(() => run(q.reopenEdition, [id])).then((n) => n > 0),

    enqueueDeliveries: (editionId, now) => write(() => run(q.enqueueDeliveries, [editionId, now])),

    claimDeliveries: ({ editionId, worker, limit, now, leaseUntil, deadWorkers = [] }) =>
      write(function* () {
        const claimed = yield* rows(q.claimDeliveries, [editionId, limit, now, worker, leaseUntil, JSON.stringify(deadWorkers)]);
        if (claimed.length === 0) return [];
        const ids = claimed.map((r) => Number(r.subscriber_id));
        return (yield* rows(q.deliveriesByIds, [editionId, JSON.stringify(ids)])).map(toDelivery);
      }),

    renewLease: async (editionId, worker, leaseUntil) => {
      await write(() => run(q.renewLease, [editionId, worker, leaseUntil]));
    },

    recordOutcomes: async (editionId, worker, outcomes, now) => {
      // Subscriber order: concurrent writers lock rows in the same order and never deadlock.
      const ordered = [...outcomes].sort((a, b) => a.subscriberId - b.subscriberId);
      const sentAtOnce = dialect.sentInOneStatement ? ordered.filter((outcome) => outcome.status === 'sent') : [];
      await write(function* () {
        if (sentAtOnce.length > 0) yield* run(q.markSentBatch, [editionId, worker, now, JSON.stringify(sentAtOnce.map((outcome) => [outcome.subscriberId, outcome.reply]))]);
        for (const outcome of ordered) {
          const held = [editionId, outcome.subscriberId, worker, outcome.reply, now] as const;
          if (outcome.status === 'sent') {
            if (sentAtOnce.length === 0) yield* run(q.markSent, held);
          } else if (outcome.status === 'retry') {
            yield* run(outcome.untried === true ? q.markUntried : q.markRetry, [...held, outcome.notBefore]);
          } else {
            const changed = yield* run(q.markFailed, held);
            if (changed > 0 && outcome.bounce && (yield* run(q.bounceSubscriber, [outcome.subscriberId, reasonLine(`refused: ${outcome.reply}`), now])) > 0) {
              yield* run(q.dropQueuedDeliveries, [JSON.stringify([outcome.subscriberId])]);
            }
          }
        }
      });
    },

    deliveryTopicChoices: (editionId) =>
      read(() => rows(q.deliveryTopicChoices, [editionId])).then((result) => result.map((r) => decodeTopicChoice(r.topics))),

    skipDeliveries: (editionId, topics, reason, now) => {
      const encoded = encodeTopicChoice(topics);
      return write(() => run(q.skipDeliveries, [editionId, encoded, reasonLine(reason), now]));
    },

    sendingWorkers: (editionId) => read(() => rows(q.sendingWorkers, [editionId])).then((result) => result.map((r) => String(r.worker))),

    deliveryCounts: (editionId) =>
      read(() => rows(q.deliveryCounts, [editionId])).then((result) => {
        const counts: DeliveryCounts = { queued: 0, sending: 0, sent: 0, failed: 0, skipped: 0 };
        for (const r of result) counts[r.status as DeliveryStatus] = Number(r.count);
        return counts;
      }),

    listDeliveries: ({ editionId, status, afterSubscriberId, limit }) =>
      read(() =>
        status === undefined
          ? rows(q.listDeliveries, [editionId, afterSubscriberId ?? 0, limit])
          : rows(q.listDeliveriesByStatus, [editionId, afterSubscriberId ?? 0, limit, status]),
      ).then((result) => result.map(toDelivery)),

    checkWritable: () => write(function* (): Task<void> {}),

    close: () => driver.close(),
  };
}
