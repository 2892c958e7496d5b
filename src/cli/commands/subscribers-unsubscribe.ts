import { listedSubscriber } from '../listed-subscriber.js';
import type { CliContext } from '../context.js';

/**
 * `briefing subscribers unsubscribe ADDR`: marks the subscriber unsubscribed (what the one-click
 * link does): nothing more is sent to them, what is queued for them is dropped, and the row stays so
 * no import or sign-up adds them again.
 */
export default async function subscribersUnsubscribe(context: CliContext, _options: unknown, args: string[]): Promise<number> {
  const store = await context.openStore();
  try {
    const subscriber = await listedSubscriber(store, args[0]);
    if (subscriber.status === 'unsubscribed' || subscriber.status === 'bounced') {
      context.print(`${subscriber.address} is already ${subscriber.status}`);
      return 0;
    }
    await store.setSubscriberStatus(subscriber.id, 'unsubscribed', context.clock.now(), 'briefing subscribers unsubscribe');
    context.print(`unsubscribed ${subscriber.address}`);
    return 0;
  } finally {
    await store.close();
  }
}
