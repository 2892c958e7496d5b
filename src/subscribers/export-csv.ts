import type { Subscriber, SubscriberStatus, SubscriberStore } from '../store/store.js';
import { formatCsvRow } from './csv-cell.js';
import { pageSubscribers } from './page-subscribers.js';

/** The columns `briefing subscribers import` reads back, so export + import moves a list between stores. */
export const EXPORT_COLUMNS = ['address', 'name', 'status', 'source', 'created', 'confirmed', 'unsubscribed', 'topics'] as const;

function subscriberRow(subscriber: Subscriber): string {
  return formatCsvRow([
    subscriber.address,
    subscriber.name,
    subscriber.status,
    subscriber.source,
    subscriber.createdAt.toISOString(),
    subscriber.confirmedAt?.toISOString() ?? null,
    subscriber.unsubscribedAt?.toISOString() ?? null,
    // Ids separated by spaces; empty: every topic.
    subscriber.topics === null ? null : subscriber.topics.join(' '),
  ]);
}

/** The list as CSV lines (header first), streamed. */
export async function* exportSubscriberCsv(store: Pick<SubscriberStore, 'listSubscribers'>, status?: SubscriberStatus): AsyncGenerator<string> {
  yield EXPORT_COLUMNS.join(',');
  for await (const subscriber of pageSubscribers(store, status)) yield subscriberRow(subscriber);
}
