import { BriefingError } from '../../errors.js';
import type { SubscriberStatus, TopicChoice } from '../../store/store.js';
import { unknownTopicIds } from '../../store/topic-choice.js';
import { normaliseName, parseAddress } from '../../address.js';
import type { CliContext } from '../context.js';

interface AddOptions {
  name?: string;
  status?: Extract<SubscriberStatus, 'active' | 'pending'>;
  topics?: string;
}

/** `--topics talks,war`: configured topic ids, comma-separated; a wrong one is a usage error (exit 2) naming the known ones. */
function parseTopics(text: string, known: readonly string[]): TopicChoice {
  const ids = text.split(',').map((id) => id.trim()).filter((id) => id !== '');
  const usage = (message: string) => new BriefingError('subscribers', 'invalid-topics', `--topics: ${message} (known: ${known.join(', ')})`, { exitCode: 2 });
  if (ids.length === 0) throw usage('name at least one topic');
  const unknown = unknownTopicIds(ids, known);
  if (unknown.length > 0) throw usage(`unknown topic${unknown.length === 1 ? '' : 's'} ${unknown.map((id) => JSON.stringify(id.slice(0, 64))).join(', ')}`);
  return ids;
}

/**
 * `briefing subscribers add ADDR [--name N] [--status pending] [--topics talks,war]`: adds or updates
 * one subscriber (`--topics` replaces their topics; a new one without it gets every topic); an
 * unsubscribed or bounced address is not re-activated and the exit code says so.
 */
export default async function subscribersAdd(context: CliContext, options: AddOptions, args: string[]): Promise<number> {
  const address = parseAddress(args[0] ?? '');
  if (!address.ok) throw new BriefingError('subscribers', 'invalid-address', `address: ${address.problem}`);
  const name = normaliseName(options.name);
  if (!name.ok) throw new BriefingError('subscribers', 'invalid-name', `name: ${name.problem}`);
  const status = options.status ?? 'active';
  const topics = options.topics === undefined ? undefined : parseTopics(options.topics, context.config().topics.map((topic) => topic.id));
  const store = await context.openStore();
  try {
    const [outcome] = await store.addSubscribers(
      [{ address: address.address, name: name.name, status, source: 'cli', ...(topics === undefined ? {} : { topics }) }],
      context.clock.now(),
    );
    const subscriber = await store.findSubscriber(address.address);
    if (outcome === 'kept-unsubscribed') {
      throw new BriefingError('subscribers', 'kept-unsubscribed', `${address.address} is ${subscriber?.status ?? 'unsubscribed'}: not re-activated (if they ask to come back, \`briefing subscribers remove ${address.address} --forget\` erases the address, then add it again)`);
    }
    context.print(`${outcome} ${subscriber?.address ?? address.address} (${subscriber?.status ?? status})`);
    return 0;
  } finally {
    await store.close();
  }
}
