import { BriefingError } from '../../errors.js';
import { parseAddress } from '../../subscribers/address.js';
import type { CliContext } from '../context.js';

/** `briefing subscribers remove ADDR`: deletes the subscriber and their deliveries. */
export default async function subscribersRemove(context: CliContext, _options: unknown, args: string[]): Promise<number> {
  const address = parseAddress(args[0] ?? '');
  if (!address.ok) throw new BriefingError('subscribers', 'invalid-address', `address: ${address.problem}`);
  const store = await context.openStore();
  try {
    const subscriber = await store.findSubscriber(address.address);
    if (!subscriber || !(await store.removeSubscriber(subscriber.id))) {
      throw new BriefingError('subscribers', 'unknown-subscriber', `${address.address} is not on the list`);
    }
    context.print(`removed ${subscriber.address}`);
    return 0;
  } finally {
    await store.close();
  }
}
