import type { Subscriber, SubscriberStatus, SubscriberStore } from '../store/store.js';
import { formatCsvRow } from './csv-cell.js';

/** The columns `briefing subscribers import` reads back, so export + import moves a list between stores. */
export const EXPORT_COLUMNS = ['address', 'name', 'status', 'source', 'created', 'confirmed', 'unsubscribed'] as const;

function subscriberRow(subscriber: Subscriber): string {
  return formatCsvRow([
    subscriber.address,
    subscriber.name,
    subscriber.status,
    subscriber.source,
    subscriber.createdAt.toISOString(),
    subscriber.confirmedAt?.toISOString() ?? null,
    subscriber.unsubscribedAt?.toISOString() ?? null,
  ]);
}

/** Every subscriber (of one status) in keyset pages: memory stays that of one page. */
export async function* pageSubscribers(
  store: Pick<SubscriberStore, 'listSubscribers'>,
  status: SubscriberStatus | undefined,
  pageSize = 1000,
): AsyncGenerator<Subscriber> {
  let afterId = 0;
  for (;;) {
    const page = await store.listSubscribers({ ...(status ? { status } : {}), afterId, limit: pageSize });
    yield* page;
    const last = page.at(-1);
    if (last === undefined || page.length < pageSize) return;
    afterId = last.id;
  }
}

/** The list as CSV lines (header first), streamed. */
export async function* exportSubscriberCsv(store: Pick<SubscriberStore, 'listSubscribers'>, status?: SubscriberStatus): AsyncGenerator<string> {
  yield EXPORT_COLUMNS.join(',');
  for await (const subscriber of pageSubscribers(store, status)) yield subscriberRow(subscriber);
}
