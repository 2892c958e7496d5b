import type { Subscriber, SubscriberStatus } from '../../store/store.js';
import { pageSubscribers } from '../../subscribers/page-subscribers.js';
import type { CliContext } from '../context.js';

interface ListOptions {
  status?: SubscriberStatus;
  json?: boolean;
}

function asJson(subscriber: Subscriber): string {
  return JSON.stringify({
    id: subscriber.id,
    address: subscriber.address,
    name: subscriber.name,
    status: subscriber.status,
    source: subscriber.source,
    createdAt: subscriber.createdAt.toISOString(),
    confirmedAt: subscriber.confirmedAt?.toISOString() ?? null,
    unsubscribedAt: subscriber.unsubscribedAt?.toISOString() ?? null,
  });
}

/** `briefing subscribers list [--status S] [--json]`: one line per subscriber, streamed in keyset pages. */
export default async function subscribersList(context: CliContext, options: ListOptions): Promise<number> {
  const store = await context.openStore();
  try {
    for await (const subscriber of pageSubscribers(store, options.status)) {
      context.print(options.json ? asJson(subscriber) : [subscriber.address, subscriber.status, subscriber.name ?? ''].join('\t'));
    }
    return 0;
  } finally {
    await store.close();
  }
}
