import { BriefingError } from '../../errors.js';
import type { SubscriberStatus } from '../../store/store.js';
import { normaliseName, parseAddress } from '../../address.js';
import type { CliContext } from '../context.js';

interface AddOptions {
  name?: string;
  status?: Extract<SubscriberStatus, 'active' | 'pending'>;
}

/**
 * `briefing subscribers add ADDR [--name N] [--status pending]`: adds or updates one subscriber;
 * an unsubscribed or bounced address is not re-activated and the exit code says so.
 */
export default async function subscribersAdd(context: CliContext, options: AddOptions, args: string[]): Promise<number> {
  const address = parseAddress(args[0] ?? '');
  if (!address.ok) throw new BriefingError('subscribers', 'invalid-address', `address: ${address.problem}`);
  const name = normaliseName(options.name);
  if (!name.ok) throw new BriefingError('subscribers', 'invalid-name', `name: ${name.problem}`);
  const status = options.status ?? 'active';
  const store = await context.openStore();
  try {
    const [outcome] = await store.addSubscribers([{ address: address.address, name: name.name, status, source: 'cli' }], context.clock.now());
    const subscriber = await store.findSubscriber(address.address);
    if (outcome === 'kept-unsubscribed') {
      throw new BriefingError('subscribers', 'kept-unsubscribed', `${address.address} is ${subscriber?.status ?? 'unsubscribed'}: not re-activated`);
    }
    context.print(`${outcome} ${subscriber?.address ?? address.address} (${subscriber?.status ?? status})`);
    return 0;
  } finally {
    await store.close();
  }
}
