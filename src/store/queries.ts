import type { Dialect } from './dialect.js';
import type { Query } from './sql-task.js';

const SUBSCRIBER_COLUMNS = 'id, address, name, status, source, created_at, confirmed_at, unsubscribed_at, link_key, topics, paused_at, status_reason, status_changed_at';
const DELIVERY_COLUMNS =
  'd.edition_id, d.subscriber_id, s.address, s.name, s.link_key, d.topics, d.status, d.attempts, d.last_reply, d.not_before, d.worker, d.lease_until, d.updated_at';
const EDITION_COLUMNS = 'id, slot, status, cutoff, subject, note, memory, created_at, updated_at';

/**
 * Every statement of the store by name (listmonk style), written once for both dialects and
 * prepared when the store opens, so a broken query fails at start rather than mid-send.
 */
export function buildQueries(d: Dialect) {
  const q = (name: string, text: string): Query => ({ name: `briefing.${name}`, text: d.placeholders(text.replace(/\s+/g, ' ').trim()) });
  const outcome = (status: 'sent' | 'failed') => `
    UPDATE deliveries SET status = '${status}', last_reply = $4, lease_until = NULL, updated_at = $5
    WHERE edition_id = $1 AND subscriber_id = $2 AND status = 'sending' AND worker = $3`;
  return {
    // Subscribers. Rows travel as JSON arrays: [address, key, name, status, source, created, confirmed, unsubscribed, link key, topics].
    subscribersByKeys: q('subscribersByKeys', `
      SELECT ${SUBSCRIBER_COLUMNS}, address_key FROM subscribers WHERE address_key IN ${d.jsonList('$1', 'text')}`),
    insertSubscribers: q('insertSubscribers', `
      INSERT INTO subscribers (address, address_key, name, status, source, created_at, confirmed_at, unsubscribed_at, link_key, topics)
      SELECT ${[0, 1, 2, 3, 4].map((i) => d.jsonField('r', i, 'text')).join(', ')},
        ${[5, 6, 7].map((i) => d.jsonField('r', i, 'time')).join(', ')}, ${d.jsonField('r', 8, 'text')}, ${d.jsonField('r', 9, 'text')}
      FROM ${d.jsonRows('$1', 'r')} WHERE true
      ON CONFLICT (address_key) DO NOTHING`),
    // Rows: [id, name, status, confirmed, unsubscribed, topics, status reason, status changed].
    updateSubscribers: q('updateSubscribers', `
      UPDATE subscribers AS s SET name = ${d.jsonField('r', 1, 'text')}, status = ${d.jsonField('r', 2, 'text')},
        confirmed_at = ${d.jsonField('r', 3, 'time')}, unsubscribed_at = ${d.jsonField('r', 4, 'time')},
        topics = ${d.jsonField('r', 5, 'text')}, status_reason = ${d.jsonField('r', 6, 'text')}, status_changed_at = ${d.jsonField('r', 7, 'time')}
      FROM ${d.jsonRows('$1', 'r')} WHERE s.id = ${d.jsonField('r', 0, 'bigint')}`),
    getSubscriber: q('getSubscriber', `SELECT ${SUBSCRIBER_COLUMNS} FROM subscribers WHERE id = $1`),
    findSubscriber: q('findSubscriber', `SELECT ${SUBSCRIBER_COLUMNS} FROM subscribers WHERE address_key = $1`),
    // $1 id, $2 status, $3 now, $4 reason.
    setSubscriberStatus: q('setSubscriberStatus', `
      UPDATE subscribers SET status = $2,
        confirmed_at = CASE WHEN $2 = 'active' AND status <> 'active' THEN $3 ELSE confirmed_at END,
        unsubscribed_at = CASE WHEN $2 = 'unsubscribed' AND status <> 'unsubscribed' THEN $3 ELSE unsubscribed_at END,
        status_reason = $4, status_changed_at = $3
      WHERE id = $1`),
    // $1 id, $2 topics, $3 paused (1 or 0), $4 now: an earlier pause keeps its time.
    setSubscriberPreferences: q('setSubscriberPreferences', `
      UPDATE subscribers SET topics = $2, paused_at = CASE WHEN $3 = 1 THEN coalesce(paused_at, $4) ELSE NULL END
      WHERE id = $1 AND status IN ('pending', 'active')`),
    recentStatusChanges: q('recentStatusChanges', `
      SELECT ${SUBSCRIBER_COLUMNS} FROM subscribers WHERE status_changed_at IS NOT NULL ORDER BY status_changed_at DESC, id DESC LIMIT $1`),
    // $1 key, $2 subscriber, $3 edition, $4 kind, $5 detail, $6 now.
    insertReturnedMail: q('insertReturnedMail', `
      INSERT INTO returned_mail (key, subscriber_id, edition_id, kind, detail, received_at) VALUES ($1, $2, $3, $4, $5, $6)
      ON CONFLICT (key) DO NOTHING`),
    // Soft bounces of distinct editions since $2 (a report without an edition counts on its own).
    countSoftBounces: q('countSoftBounces', `
      SELECT count(DISTINCT coalesce(edition_id, key)) AS count FROM returned_mail
      WHERE subscriber_id = $1 AND kind = 'soft-bounce' AND received_at > $2`),
    // Someone who leaves (or bounces) gets no edition still waiting in the outbox; rows already sent stay as history.
    dropQueuedDeliveries: q('dropQueuedDeliveries', `
      DELETE FROM deliveries WHERE status = 'queued' AND subscriber_id IN ${d.jsonList('$1', 'bigint')}`),
    // $1 id, $2 reason, $3 now.
    bounceSubscriber: q('bounceSubscriber', `
      UPDATE subscribers SET status = 'bounced', status_reason = $2, status_changed_at = $3 WHERE id = $1 AND status IN ('active', 'pending')`),
    removeSubscriber: q('removeSubscriber', 'DELETE FROM subscribers WHERE id = $1'),
    listSubscribers: q('listSubscribers', `SELECT ${SUBSCRIBER_COLUMNS} FROM subscribers WHERE id > $1 ORDER BY id LIMIT $2`),
    listSubscribersByStatus: q('listSubscribersByStatus', `
      SELECT ${SUBSCRIBER_COLUMNS} FROM subscribers WHERE status = $3 AND id > $1 ORDER BY id LIMIT $2`),
    countSubscribers: q('countSubscribers', 'SELECT count(*) AS count FROM subscribers'),
    countSubscribersByStatus: q('countSubscribersByStatus', 'SELECT count(*) AS count FROM subscribers WHERE status = $1'),

    // Editions.
    createEdition: q('createEdition', `
      INSERT INTO editions (id, slot, status, cutoff, subject, note, memory, created_at, updated_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT (id) DO NOTHING`),
    getEdition: q('getEdition', `SELECT ${EDITION_COLUMNS} FROM editions WHERE id = $1`),
    setEditionStatus: q('setEditionStatus', 'UPDATE editions SET status = $2, updated_at = $3 WHERE id = $1'),
    setEditionStatusAndNote: q('setEditionStatusAndNote', 'UPDATE editions SET status = $2, updated_at = $3, note = $4 WHERE id = $1'),
    listEditions: q('listEditions', `SELECT ${EDITION_COLUMNS} FROM editions ORDER BY slot DESC, id DESC LIMIT $1`),
    previousEdition: q('previousEdition', `
      SELECT ${EDITION_COLUMNS} FROM editions WHERE status IN ('sent', 'sending') AND slot < $1
      ORDER BY slot DESC, id DESC LIMIT 1`),
    // One statement, so a sender claiming deliveries at the same moment either sees the edition or none of it.
    reopenEdition: q('reopenEdition', `
      DELETE FROM editions WHERE id = $1 AND status <> 'sent'
        AND NOT EXISTS (SELECT 1 FROM deliveries WHERE edition_id = $1 AND status IN ('sent', 'sending'))`),

    // Outbox.
    // In id order: senders enqueueing at once wait on each other's rows in one order, never in a cycle.
    enqueueDeliveries: q('enqueueDeliveries', `
      INSERT INTO deliveries (edition_id, subscriber_id, status, attempts, updated_at, topics)
      SELECT $1, id, 'queued', 0, $2, topics FROM subscribers WHERE status = 'active' AND paused_at IS NULL ORDER BY id
      ON CONFLICT (edition_id, subscriber_id) DO NOTHING`),
    // $1 edition, $2 limit, $3 now, $4 worker, $5 lease until, $6 dead workers (JSON). Queued rows
    // and rows whose lease lapsed (or whose worker died) are read apart, each from the
    // (edition, status, subscriber) index in order, so a claim costs the same late in a send as early.
    claimDeliveries: q('claimDeliveries', `
      WITH due AS (
        SELECT subscriber_id FROM deliveries
        WHERE edition_id = $1 AND status = 'queued' AND (not_before IS NULL OR not_before <= $3)
        ORDER BY subscriber_id LIMIT $2 ${d.skipLocked}
      ), lapsed AS (
        SELECT subscriber_id FROM deliveries
        WHERE edition_id = $1 AND status = 'sending' AND (lease_until <= $3 OR worker IN ${d.jsonList('$6', 'text')})
        ORDER BY subscriber_id LIMIT $2 ${d.skipLocked}
      )
      UPDATE deliveries SET status = 'sending', attempts = attempts + 1, worker = $4, lease_until = $5, updated_at = $3
      WHERE edition_id = $1 AND subscriber_id IN (
        SELECT subscriber_id FROM (SELECT subscriber_id FROM due UNION ALL SELECT subscriber_id FROM lapsed) AS claimable
        ORDER BY subscriber_id LIMIT $2)
      RETURNING subscriber_id`),
    deliveriesByIds: q('deliveriesByIds', `
      SELECT ${DELIVERY_COLUMNS} FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
      WHERE d.edition_id = $1 AND d.subscriber_id IN ${d.jsonList('$2', 'bigint')} ORDER BY d.subscriber_id`),
    // Rows locked in subscriber order, as recordOutcomes does: a renewal and a recording never deadlock.
    renewLease: q('renewLease', `
      UPDATE deliveries SET lease_until = $3 WHERE edition_id = $1 AND worker = $2 AND status = 'sending' AND subscriber_id IN (
        SELECT subscriber_id FROM deliveries WHERE edition_id = $1 AND worker = $2 AND status = 'sending'
        ORDER BY subscriber_id ${d.lockRows})`),
    // $1 edition, $2 subscriber, $3 worker, $4 reply, $5 now (, $6 not before).
    markSent: q('markSent', outcome('sent')),
    // $1 edition, $2 worker, $3 now, $4 rows [subscriber, reply]: a batch in one statement, for a
    // server where each statement is a round trip. Rows are locked in subscriber order first, as
    // everywhere, so it never deadlocks with a lease renewal.
    markSentBatch: q('markSentBatch', `
      WITH held AS (
        SELECT subscriber_id FROM deliveries
        WHERE edition_id = $1 AND status = 'sending' AND worker = $2
          AND subscriber_id IN (SELECT ${d.jsonField('k', 0, 'bigint')} FROM ${d.jsonRows('$4', 'k')})
        ORDER BY subscriber_id ${d.lockRows})
      UPDATE deliveries SET status = 'sent', last_reply = ${d.jsonField('r', 1, 'text')}, lease_until = NULL, updated_at = $3
      FROM held, ${d.jsonRows('$4', 'r')}
      WHERE deliveries.edition_id = $1 AND deliveries.subscriber_id = held.subscriber_id
        AND held.subscriber_id = ${d.jsonField('r', 0, 'bigint')} AND deliveries.status = 'sending' AND deliveries.worker = $2`),
    markFailed: q('markFailed', outcome('failed')),
    markRetry: q('markRetry', `
      UPDATE deliveries SET status = 'queued', last_reply = $4, worker = NULL, lease_until = NULL, updated_at = $5, not_before = $6
      WHERE edition_id = $1 AND subscriber_id = $2 AND status = 'sending' AND worker = $3`),
    // The same, giving back the attempt its claim counted (see DeliveryOutcome's `untried`).
    markUntried: q('markUntried', `
      UPDATE deliveries SET status = 'queued', last_reply = $4, worker = NULL, lease_until = NULL, updated_at = $5, not_before = $6,
        attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END
      WHERE edition_id = $1 AND subscriber_id = $2 AND status = 'sending' AND worker = $3`),
    deliveryTopicChoices: q('deliveryTopicChoices', `
      SELECT DISTINCT topics FROM deliveries WHERE edition_id = $1 AND status IN ('queued', 'sending') ORDER BY topics`),
    // $1 edition, $2 topics (null: every topic), $3 reason, $4 now.
    skipDeliveries: q('skipDeliveries', `
      UPDATE deliveries SET status = 'skipped', last_reply = $3, updated_at = $4
      WHERE edition_id = $1 AND status = 'queued' AND (topics = $2 OR (topics IS NULL AND $2 IS NULL))`),
    sendingWorkers: q('sendingWorkers', `
      SELECT DISTINCT worker FROM deliveries WHERE edition_id = $1 AND status = 'sending' AND worker IS NOT NULL ORDER BY worker`),
    deliveryCounts: q('deliveryCounts', 'SELECT status, count(*) AS count FROM deliveries WHERE edition_id = $1 GROUP BY status'),
    listDeliveries: q('listDeliveries', `
      SELECT ${DELIVERY_COLUMNS} FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
      WHERE d.edition_id = $1 AND d.subscriber_id > $2 ORDER BY d.subscriber_id LIMIT $3`),
    listDeliveriesByStatus: q('listDeliveriesByStatus', `
      SELECT ${DELIVERY_COLUMNS} FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
      WHERE d.edition_id = $1 AND d.subscriber_id > $2 AND d.status = $4 ORDER BY d.subscriber_id LIMIT $3`),
  } as const;
}

/** The named statements of one dialect, as the store uses them. */
export type Queries = ReturnType<typeof buildQueries>;
