import { parseAddress } from '../address.js';
import { BriefingError } from '../errors.js';
import type { Store, Subscriber } from '../store/store.js';

/** The subscriber a command's address argument names: a clear error when it is no address or not on the list. */
export async function listedSubscriber(store: Pick<Store, 'findSubscriber'>, argument: string | undefined): Promise<Subscriber> {
  const address = parseAddress(argument ?? '');
  if (!address.ok) throw new BriefingError('subscribers', 'invalid-address', `address: ${address.problem}`);
  const subscriber = await store.findSubscriber(address.address);
  if (subscriber === undefined) throw new BriefingError('subscribers', 'unknown-subscriber', `${address.address} is not on the list`);
  return subscriber;
}
