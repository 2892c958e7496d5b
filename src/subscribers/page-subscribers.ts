import type { Subscriber, SubscriberStatus, SubscriberStore } from '../store/store.js';

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
