import type { Subscriber, SubscriberStatus } from '../../store/store.js';
import { formatZoneTime } from '../../schedule/zone-time.js';
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
    topics: subscriber.topics,
    pausedAt: subscriber.pausedAt?.toISOString() ?? null,
    statusReason: subscriber.statusReason,
    statusChangedAt: subscriber.statusChangedAt?.toISOString() ?? null,
  });
}

/** Tab-separated: address, status, name, topics (`all` for every topic), `paused since TIME` or empty, why and when the status last changed. */
function asText(subscriber: Subscriber, zone: string): string {
  const time = (date: Date | null): string => (date === null ? '' : formatZoneTime(date, zone));
  return [
    subscriber.address,
    subscriber.status,
    subscriber.name ?? '',
    subscriber.topics === null ? 'all' : subscriber.topics.join(','),
    subscriber.pausedAt === null ? '' : `paused since ${time(subscriber.pausedAt)}`,
    subscriber.statusReason ?? '',
    time(subscriber.statusChangedAt),
  ].join('\t');
}

/** `briefing subscribers list [--status S] [--json]`: one line per subscriber, streamed in keyset pages. */
export default async function subscribersList(context: CliContext, options: ListOptions): Promise<number> {
  const store = await context.openStore();
  try {
    const zone = options.json ? '' : context.config().timeZone;
    for await (const subscriber of pageSubscribers(store, options.status)) {
      context.print(options.json ? asJson(subscriber) : asText(subscriber, zone));
    }
    return 0;
  } finally {
    await store.close();
  }
}
