import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Briefing } from '../email/briefing.js';
import type { EditionStore, OutboxStore, TopicChoice } from '../store/store.js';
import type { DkimSigner } from './dkim.js';
import { prepareMessage, type MessageOptions, type MessageTemplate } from './message.js';
import { sendEdition, templatesByChoice, type SenderDependencies, type SenderStore, type SendSummary } from './send-edition.js';
import { createProgressReporter } from './send-progress.js';
import type { Transport } from './transport.js';
import { bounceAddress, unsubscribeAddress } from '../returns/return-address.js';

/** The message options of a publication: sender, list and zone from the configuration, and its DKIM signer (built once by the composition root). */
export function messageOptions(config: Pick<Config, 'sender' | 'listId' | 'title' | 'timeZone'>, dkim: DkimSigner | undefined, subjectPrefix?: string): MessageOptions {
  return {
    sender: config.sender,
    listId: config.listId,
    listName: config.title,
    timeZone: config.timeZone,
    ...(subjectPrefix === undefined ? {} : { subjectPrefix }),
    dkim,
  };
}

/**
 * Each delivery's own return addresses when `returns.domain` is configured (VERP): bounces and
 * mailto unsubscribes then name the subscriber and edition they are about. Checked once here, so an
 * edition id too long for an address stops the send before any message rather than failing each.
 */
export function returnAddressesOf(config: Pick<Config, 'returns' | 'env'>, editionId: string): SenderDependencies['returnAddresses'] {
  const domain = config.returns?.domain;
  if (domain === undefined) return undefined;
  const secret = config.env.secret;
  bounceAddress(secret, { subscriberId: 1, editionId, linkKey: 'x'.repeat(22) }, domain);
  return (delivery) => ({
    envelopeFrom: bounceAddress(secret, { subscriberId: delivery.subscriberId, editionId, linkKey: delivery.linkKey }, domain),
    unsubscribeMailto: unsubscribeAddress(secret, { subscriberId: delivery.subscriberId, linkKey: delivery.linkKey }, domain),
  });
}

/** What delivering an edition needs; `send` and `run` pass the CLI's parts. */
export interface DeliverEditionDependencies {
  config: Config;
  store: SenderStore & Pick<OutboxStore, 'deliveryTopicChoices' | 'skipDeliveries'> & Pick<EditionStore, 'setEditionStatus'>;
  createTransport(editionId: string): Promise<Transport>;
  /** Signs each message when DKIM is configured. */
  dkim: DkimSigner | undefined;
  clock: { now(): Date };
  logger: Logger;
  /** True on a terminal: a progress bar instead of log lines. */
  interactive: boolean;
  stopSignal?: AbortSignal;
  /** Told which transport is used before the first message goes. */
  onStart?: (transport: Transport) => void;
}

/** What one topic choice of a send gets: its briefing, or nothing, with why (its deliveries are skipped). */
export type ChoiceBriefing = { topics: TopicChoice; briefing: Briefing } | { topics: TopicChoice; skip: string };

/** The briefings of the topic choices a send has to serve, made by the use case (which knows the edition). */
export type BriefingsForChoices = (choices: readonly TopicChoice[]) => Promise<ChoiceBriefing[]>;

/**
 * Sends an edition to its subscribers: opens the transport, runs `beforeSending` (the caller's
 * work that must be done before the first message, such as putting the edition's web version on
 * the site) while its connections open, marks the edition `sending`, enqueues (unless resuming),
 * asks for the briefing of each topic choice still to serve, skips the deliveries of choices with
 * nothing for them, builds each briefing's message once, delivers with progress, and marks the
 * edition `sent` once no delivery is left queued or sending. The transport is always closed.
 */
export async function deliverEdition(
  dependencies: DeliverEditionDependencies,
  input: { editionId: string; briefingsFor: BriefingsForChoices; resume: boolean; beforeSending?: () => Promise<void> },
): Promise<SendSummary> {
  const { config, store, clock } = dependencies;
  const { editionId } = input;
  const returnAddresses = returnAddressesOf(config, editionId);
  const transport = await dependencies.createTransport(editionId);
  // The connections open (greeting, EHLO: round trips to the server) while the caller's work before
  // sending is done, the outbox is filled and the messages prepared. One turn of the event loop lets
  // their connects go out: net.connect issues them on the next tick, which the work below would
  // otherwise hold back.
  transport.connectAhead?.();
  await new Promise<void>((resolve) => setImmediate(resolve));
  const progress = await createProgressReporter({ interactive: dependencies.interactive, logger: dependencies.logger });
  try {
    await input.beforeSending?.();
    await store.setEditionStatus(editionId, 'sending', clock.now());
    const enqueued = input.resume ? 0 : await store.enqueueDeliveries(editionId, clock.now());
    // The choices of what is enqueued now: a subscriber who changes topics later keeps this edition's.
    const briefings = await input.briefingsFor(await store.deliveryTopicChoices(editionId));
    const options = messageOptions(config, dependencies.dkim);
    const templates: Array<readonly [TopicChoice, MessageTemplate]> = [];
    for (const choice of briefings) {
      if ('skip' in choice) await store.skipDeliveries(editionId, choice.topics, choice.skip, clock.now());
      else templates.push([choice.topics, prepareMessage(choice.briefing, options)]);
    }
    dependencies.onStart?.(transport);
    const summary = await sendEdition(
      {
        store,
        transport,
        clock,
        settings: config.delivery,
        secret: config.env.secret,
        siteUrl: config.siteUrl,
        logger: dependencies.logger,
        ...(returnAddresses === undefined ? {} : { returnAddresses }),
        ...(dependencies.stopSignal === undefined ? {} : { stopSignal: dependencies.stopSignal }),
        onProgress: (report) => progress.update(report),
      },
      { editionId, templates: templatesByChoice(templates), enqueue: false },
    );
    if (summary.complete) await store.setEditionStatus(editionId, 'sent', clock.now());
    return { ...summary, enqueued };
  } finally {
    progress.finish();
    await transport.close();
  }
}
