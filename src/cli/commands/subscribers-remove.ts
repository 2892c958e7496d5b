import { BriefingError } from '../../errors.js';
import { listedSubscriber } from '../listed-subscriber.js';
import type { CliContext } from '../context.js';

interface RemoveOptions {
  forget?: boolean;
}

/**
 * `briefing subscribers remove ADDR [--forget]`: deletes the subscriber and their deliveries. The
 * row of an unsubscribed or bounced address is what keeps imports and sign-ups from adding it
 * again, so deleting it needs `--forget` (an erasure request); without it the command refuses.
 */
export default async function subscribersRemove(context: CliContext, options: RemoveOptions, args: string[]): Promise<number> {
  const store = await context.openStore();
  try {
    const subscriber = await listedSubscriber(store, args[0]);
    const suppressed = subscriber.status === 'unsubscribed' || subscriber.status === 'bounced';
    if (suppressed && !options.forget) {
      throw new BriefingError(
        'subscribers',
        'suppressed-subscriber',
        `${subscriber.address} is ${subscriber.status}: its row keeps it from being added again by an import, so it stays (it is sent nothing); add --forget to erase it anyway`,
      );
    }
    if (!(await store.removeSubscriber(subscriber.id))) {
      throw new BriefingError('subscribers', 'unknown-subscriber', `${subscriber.address} is not on the list`);
    }
    context.print(suppressed ? `erased ${subscriber.address} (it was ${subscriber.status}; an import may add it again)` : `removed ${subscriber.address}`);
    return 0;
  } finally {
    await store.close();
  }
}
