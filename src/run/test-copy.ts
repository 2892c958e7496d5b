import { messageOptions } from '../delivery/deliver-edition.js';
import { checkAddress } from '../delivery/mime-header.js';
import { personaliseMessage, prepareMessage } from '../delivery/message.js';
import { subscriberLinks } from '../delivery/tokens.js';
import { neutralLinks } from '../email/web-version.js';
import { TransportError, type SendReceipt } from '../delivery/transport.js';
import { parseAddress } from '../address.js';
import { BriefingError } from '../errors.js';
import { chooseDueEdition } from '../schedule/due-edition.js';
import type { SlotTarget } from '../schedule/scheduler.js';
import type { Store } from '../store/store.js';
import { contentChanges, loadContent } from './load-content.js';
import type { OpenedEdition } from './open-edition.js';
import { openSlotEdition, resolveTarget } from './open-slot-edition.js';
import type { RunContext } from './run-context.js';
import { topicBriefings } from './topic-briefings.js';

/** What a test copy did: nothing (the edition had nothing to show), or one message through a transport. */
export type TestCopyReport =
  | { kind: 'skipped'; opened: OpenedEdition & { kind: 'skipped' } }
  /** The address is a subscriber whose topics have nothing in this edition: they would get no message. */
  | { kind: 'nothing-for-topics'; opened: OpenedEdition & { kind: 'ready' }; to: string; message: string }
  | {
      kind: 'sent';
      opened: OpenedEdition & { kind: 'ready' };
      /** Why this edition, when no date was given and the due one had nothing new. */
      why: string | undefined;
      to: string;
      messageId: string;
      transport: string;
      receipt: SendReceipt;
    };

/**
 * `send --to`: one test copy of the edition, `[TEST]` in the subject; the edition record and outbox
 * stay as they are, so any date may be previewed by mail.
 */
export async function sendTestCopy(context: RunContext, request: { date?: string; to: string }): Promise<TestCopyReport> {
  const config = context.config();
  const due = resolveTarget(config, context.clock.now(), request.date);
  const store = await context.openStore();
  try {
    const parsed = parseAddress(request.to);
    if (!parsed.ok) throw new BriefingError('cli', 'invalid-address', `--to: address ${parsed.problem}`, { exitCode: 2 });
    checkAddress(parsed.address, '--to');
    const { opened, why } = await testEdition(context, store, due, request.date !== undefined);
    if (opened.kind === 'skipped') return { kind: 'skipped', opened };
    const subscriber = await store.findSubscriber(parsed.address);
    // A subscriber's test copy is the briefing of their topics, with their real links; anyone else gets the whole briefing and the site's pages.
    const [own] = await topicBriefings({ config, logger: context.logger }, opened, [subscriber?.topics ?? null]);
    if (own === undefined || 'skip' in own) {
      return { kind: 'nothing-for-topics', opened, to: parsed.address, message: `edition ${opened.id} has ${own?.skip ?? 'nothing'}, the topics ${parsed.address} reads` };
    }
    const links = subscriber === undefined ? neutralLinks(config.siteUrl) : subscriberLinks(config.siteUrl, config.env.secret, subscriber);
    const message = personaliseMessage(
      prepareMessage(own.briefing, messageOptions(config, context.dkim(), '[TEST] ')),
      { subscriberId: null, address: parsed.address, name: subscriber?.name ?? null, ...links },
      context.clock.now(),
    );
    const transport = await context.createTransport(opened.id);
    try {
      const receipt = await transport.send(message);
      return { kind: 'sent', opened, why, to: parsed.address, messageId: message.messageId, transport: transport.description, receipt };
    } catch (error) {
      if (!(error instanceof TransportError)) throw error;
      throw new BriefingError('delivery', 'test-copy-failed', `the test copy to ${parsed.address} was not accepted: ${error.message}`, { cause: error });
    } finally {
      await transport.close();
    }
  } finally {
    await store.close();
  }
}

/**
 * The edition a test copy shows: the dated one, else the due one when it has something new, else
 * the newest recorded edition that was not skipped, else the one after the newest content. Nothing
 * is recorded; `why` says which was chosen when no date was given.
 */
async function testEdition(context: RunContext, store: Store, due: SlotTarget, dated: boolean): Promise<{ opened: OpenedEdition; why: string | undefined }> {
  const config = context.config();
  const now = context.clock.now();
  const parts = { config, clock: context.clock, store };
  const dueRecord = await store.getEdition(due.id);
  // Content is read once: for the due edition when it has no record, else only if the fallback needs it.
  let articles = dueRecord === undefined ? await loadContent(config) : undefined;
  const dueEdition = await openSlotEdition(parts, { target: due, stored: dueRecord, persist: false, ...(articles === undefined ? {} : { articles }) });
  if (dated || dueEdition.kind === 'ready') return { opened: dueEdition, why: undefined };
  const recorded = (await store.listEditions(50)).find((record) => record.status !== 'skipped' && record.slot.getTime() <= now.getTime());
  if (recorded !== undefined) {
    const opened = await openSlotEdition(parts, { target: recorded, stored: recorded, persist: false });
    return { opened, why: `the newest edition with content; the due edition ${due.id} has nothing new` };
  }
  articles ??= await loadContent(config);
  const newest = chooseDueEdition({ cron: config.schedule.cron, zone: config.timeZone, now, firstLookBackHours: config.edition.firstLookBackHours, content: contentChanges(articles), firstEdition: true });
  if (newest === undefined || newest.target.id === due.id) return { opened: dueEdition, why: undefined };
  const opened = await openSlotEdition(parts, { target: newest.target, stored: await store.getEdition(newest.target.id), persist: false, articles });
  return { opened, why: `the edition of the newest content; the due edition ${due.id} has nothing new` };
}
