import { existsSync } from 'node:fs';
import type { Edition } from '../edition/edition.js';
import { narrowEdition } from '../edition/narrow-edition.js';
import { storeLocation } from '../store/open-store.js';
import type { DeliveryStatus, Store, TopicChoice } from '../store/store.js';
import type { OpenedEdition } from './open-edition.js';
import { openSlotEdition, resolveTarget } from './open-slot-edition.js';
import type { RunContext } from './run-context.js';
import { narrowSettings } from './topic-briefings.js';

/** What a send would do: the edition, how many would get it, how many would not (nothing for their topics), how many already did. */
export interface DryRunReport {
  id: string;
  opened: OpenedEdition;
  recipients: number;
  /** Deliveries skipped, or that a send would skip, because the edition has nothing for their topics. */
  nothingForTopics: number;
  alreadySent: number;
}

/** What opening an edition reads and (when recording) writes. */
type EditionLookup = Pick<Store, 'getEdition' | 'previousEdition' | 'createEdition'>;

/** A store that does not exist yet: no editions, nothing to continue from. */
const NO_EDITIONS: EditionLookup = {
  getEdition: async () => undefined,
  previousEdition: async () => undefined,
  createEdition: async () => false,
};

/** Rows read at a time while counting readers by topic choice: memory stays one page and one count per choice. */
const PAGE = 1000;

/** The topic choices of those a send would enqueue now: active subscribers who have not paused. */
async function* subscriberChoices(store: Store): AsyncGenerator<TopicChoice> {
  for (let afterId = 0; ; ) {
    const page = await store.listSubscribers({ status: 'active', afterId, limit: PAGE });
    for (const subscriber of page) if (subscriber.pausedAt === null) yield subscriber.topics;
    const last = page.at(-1);
    if (last === undefined || page.length < PAGE) return;
    afterId = last.id;
  }
}

/** The topic choices of an enqueued edition's deliveries still to send. */
async function* deliveryChoices(store: Store, editionId: string): AsyncGenerator<TopicChoice> {
  for (const status of ['queued', 'sending'] satisfies DeliveryStatus[]) {
    for (let afterSubscriberId = 0; ; ) {
      const page = await store.listDeliveries({ editionId, status, afterSubscriberId, limit: PAGE });
      for (const delivery of page) yield delivery.topics;
      const last = page.at(-1);
      if (last === undefined || page.length < PAGE) break;
      afterSubscriberId = last.subscriberId;
    }
  }
}

/** How many of `choices` would get a message and how many nothing (narrowed to no topic with news). */
async function countRecipients(choices: AsyncIterable<TopicChoice>, fits: (topics: TopicChoice) => boolean): Promise<{ recipients: number; skipped: number }> {
  const verdicts = new Map<string | null, boolean>();
  let recipients = 0;
  let skipped = 0;
  for await (const topics of choices) {
    const key = topics === null ? null : topics.join(',');
    let fit = verdicts.get(key);
    if (fit === undefined) verdicts.set(key, (fit = fits(topics)));
    if (fit) recipients += 1;
    else skipped += 1;
  }
  return { recipients, skipped };
}

/** `send --dry-run`: the edition, its subject and how many would get it (one with `--to`); no record, delivery or file is written. */
export async function dryRunSend(context: RunContext, request: { date?: string; testCopy: boolean }): Promise<DryRunReport> {
  const config = context.config();
  const target = resolveTarget(config, context.clock.now(), request.date);
  const location = storeLocation(config.env.databaseUrl, config.paths.data);
  // Opening a SQLite store that does not exist would create it: then there is no one to send to.
  const store = location.kind === 'sqlite' && !existsSync(location.file) ? undefined : await context.openStore();
  try {
    const lookup = store ?? NO_EDITIONS;
    const opened = await openSlotEdition({ config, clock: context.clock, store: lookup }, { target, stored: await lookup.getEdition(target.id), persist: false });
    const counts = (await store?.deliveryCounts(target.id)) ?? { queued: 0, sending: 0, sent: 0, failed: 0, skipped: 0 };
    const base = { id: target.id, opened, alreadySent: counts.sent };
    if (request.testCopy) return { ...base, recipients: 1, nothingForTopics: 0 };
    if (store === undefined) return { ...base, recipients: 0, nothingForTopics: 0 };
    const enqueued = counts.queued + counts.sending + counts.sent + counts.failed + counts.skipped > 0;
    const edition: Edition | undefined = opened.kind === 'ready' ? opened.edition : undefined;
    const settings = narrowSettings(config);
    // A record from before editions kept their sections sends everyone the full briefing.
    const fits = (topics: TopicChoice): boolean => edition === undefined || narrowEdition(edition, topics, settings) !== null;
    const would = await countRecipients(enqueued ? deliveryChoices(store, target.id) : subscriberChoices(store), fits);
    return { ...base, recipients: would.recipients, nothingForTopics: counts.skipped + would.skipped };
  } finally {
    await store?.close();
  }
}
