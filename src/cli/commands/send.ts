import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadArticles } from '../../content/load-articles.js';
import { deliverEdition, messageOptions } from '../../delivery/deliver-edition.js';
import { checkAddress } from '../../delivery/mime-header.js';
import { personaliseMessage, prepareMessage } from '../../delivery/message.js';
import { formatSendSummary } from '../../delivery/send-progress.js';
import { createToken, unsubscribeUrl } from '../../delivery/tokens.js';
import { TransportError } from '../../delivery/transport.js';
import { resolveEditionSlot } from '../../edition/edition-slot.js';
import { openEdition, type OpenedEdition } from '../../edition/open-edition.js';
import { BriefingError } from '../../errors.js';
import { chooseDueEdition } from '../../schedule/due-edition.js';
import { formatZoneTime } from '../../schedule/zone-time.js';
import { storeLocation } from '../../store/open-store.js';
import type { EditionStatus, Store } from '../../store/store.js';
import { parseAddress } from '../../address.js';
import type { CliContext } from '../context.js';

interface SendOptions {
  date?: string;
  to?: string;
  dryRun?: boolean;
  resume?: boolean;
  json?: boolean;
  force?: boolean;
  replan?: boolean;
}

/** Later than any slot: `previousEdition(END_OF_TIME)` is the newest edition that went out. */
const END_OF_TIME = new Date(8.64e15);

/**
 * `briefing send [--date D] [--to ADDR] [--dry-run] [--resume] [--json]`: opens edition D (the due
 * one by default), recording it, enqueues one delivery per active subscriber and delivers them.
 * `--resume` only continues an edition already enqueued; `--to` sends one `[TEST]` copy and leaves
 * the outbox alone; `--dry-run` says what would be sent and writes nothing. A slot still to come
 * is refused without `--force` (recording it now would skip it for good); `--replan` forgets an
 * edition none of whose deliveries went out so it is planned again. Exit code 1 when any
 * delivery of the edition failed or the send stopped before the end.
 */
export default async function send(context: CliContext, options: SendOptions): Promise<number> {
  if (options.to !== undefined && options.resume) {
    throw new BriefingError('cli', 'usage', '--to sends one test copy and cannot be combined with --resume', { exitCode: 2 });
  }
  if (options.replan && (options.date === undefined || options.resume || options.to !== undefined || options.dryRun)) {
    throw new BriefingError('cli', 'usage', '--replan needs --date D and cannot be combined with --resume, --to or --dry-run', { exitCode: 2 });
  }
  const config = context.config();
  const now = context.clock.now();
  const { id, slot } = resolveEditionSlot({ cron: config.schedule.cron, zone: config.timeZone, now, ...(options.date === undefined ? {} : { date: options.date }) });
  if (options.dryRun) return dryRun(context, options, id);
  // A test copy records nothing, so any date may be previewed by mail.
  if (options.to === undefined && slot.getTime() > now.getTime() && !options.force) {
    throw new BriefingError(
      'delivery',
      'future-edition',
      `edition ${id} is due at ${formatZoneTime(slot, config.timeZone)}, still to come: sending it now would record it before its articles exist; wait for its slot, or add --force`,
    );
  }
  const store = await context.openStore();
  try {
    if (options.to !== undefined) return await testCopy(context, store, options, options.to);
    if (options.replan) {
      const forgotten = await replan(store, id);
      if (forgotten !== undefined && !options.json) context.print(`Edition ${id} was ${forgotten}; planning it again`);
    }
    if (options.resume) {
      const counts = await store.deliveryCounts(id);
      if ((await store.getEdition(id)) === undefined || counts.queued + counts.sending + counts.sent + counts.failed === 0) {
        throw new BriefingError('delivery', 'nothing-to-resume', `edition ${id} has not been enqueued yet: run \`briefing send --date ${id}\` without --resume`);
      }
    }
    const opened = await open(context, store, id, true);
    if (opened.kind === 'skipped') {
      const message = skipNotice(opened, config.timeZone);
      context.print(options.json ? JSON.stringify({ edition: opened.id, skipped: true, message }) : message);
      return 0;
    }
    let transportDescription = '';
    const summary = await deliverEdition(
      {
        config,
        store,
        createTransport: (editionId) => context.createTransport(editionId),
        clock: context.clock,
        logger: context.logger,
        interactive: context.interactive && !options.json,
        stopSignal: context.stopSignal,
        onStart: (transport) => {
          transportDescription = transport.description;
          if (!options.json) {
            context.print(`Edition ${opened.id}: ${opened.briefing.subject}`);
            context.print(viaLine(config.env.smtpUrl, transport.description));
          }
        },
      },
      { briefing: opened.briefing, resume: options.resume === true },
    );
    if (options.json) {
      context.print(JSON.stringify({ edition: opened.id, subject: opened.briefing.subject, transport: transportDescription, ...summary }));
    } else {
      for (const line of formatSendSummary(summary)) context.print(line);
    }
    return summary.counts.failed > 0 || !summary.complete ? 1 : 0;
  } finally {
    await store.close();
  }
}

function viaLine(smtpUrl: string | undefined, description: string): string {
  return smtpUrl === undefined ? `Writing ${description} (BRIEFING_SMTP_URL is not set)` : `Sending via ${description}`;
}

/**
 * What a send prints for a skipped edition: that the skip is recorded (a later send of the same
 * date finds it skipped, even once articles arrive) and how to plan it again.
 */
function skipNotice(opened: OpenedEdition & { kind: 'skipped' }, zone: string): string {
  const again = `\`briefing send --date ${opened.id} --replan\` plans it again`;
  if (opened.origin === 'stored') return `Edition ${opened.id} is recorded as skipped (${opened.message}); ${again}`;
  const { since, until } = opened.window;
  return `Recorded edition ${opened.id} as skipped: nothing new between ${formatZoneTime(since, zone)} and ${formatZoneTime(until, zone)}; ${again}`;
}

/**
 * `--replan`: forgets edition `id` (a skipped edition, or one planned or enqueued of which nothing
 * went out) so this send plans it from the content as it is now. Refused once any delivery of it
 * is sent or being sent, and once a later edition went out (it already covered these articles).
 * Returns the status the forgotten record had.
 */
async function replan(store: Store, id: string): Promise<EditionStatus | undefined> {
  const existing = await store.getEdition(id);
  if (existing === undefined) return undefined;
  const latest = await store.previousEdition(END_OF_TIME);
  if (latest !== undefined && latest.slot.getTime() > existing.slot.getTime()) {
    throw new BriefingError('delivery', 'replan-refused', `edition ${id} cannot be planned again: edition ${latest.id}, sent after it, already covers its articles`);
  }
  if (!(await store.reopenEdition(id))) {
    throw new BriefingError(
      'delivery',
      'replan-refused',
      `edition ${id} cannot be planned again: some of its deliveries are sent or being sent (\`briefing send --date ${id} --resume\` continues it)`,
    );
  }
  return existing.status;
}

/**
 * The edition a test copy shows: `--date`'s, else the due one when it has something new, else the
 * newest recorded edition that was not skipped, else the one after the newest content. Nothing is
 * recorded; `why` says which was chosen when no date was given.
 */
async function testEdition(context: CliContext, store: Store, date: string | undefined): Promise<{ opened: OpenedEdition; why: string | undefined }> {
  const config = context.config();
  const now = context.clock.now();
  const due = resolveEditionSlot({ cron: config.schedule.cron, zone: config.timeZone, now, ...(date === undefined ? {} : { date }) });
  const dueEdition = await open(context, store, due.id, false);
  if (date !== undefined || dueEdition.kind === 'ready') return { opened: dueEdition, why: undefined };
  const recorded = (await store.listEditions(50)).find((record) => record.status !== 'skipped' && record.slot.getTime() <= now.getTime());
  if (recorded !== undefined) {
    return { opened: await open(context, store, recorded.id, false), why: `the newest edition with content; the due edition ${due.id} has nothing new` };
  }
  const articles = await loadArticles({ dir: config.paths.content, topics: config.topics, timeZone: config.timeZone, maxRecordBytes: config.content.maxRecordBytes });
  const newest = chooseDueEdition({ cron: config.schedule.cron, zone: config.timeZone, now, firstLookBackHours: config.edition.firstLookBackHours, articles, firstEdition: true });
  if (newest === undefined || newest.target.id === due.id) return { opened: dueEdition, why: undefined };
  return { opened: await open(context, store, newest.target.id, false), why: `the edition of the newest content; the due edition ${due.id} has nothing new` };
}

/** `--to`: one test copy of the edition, `[TEST]` in the subject; the edition record and outbox stay as they are. */
async function testCopy(context: CliContext, store: Store, options: SendOptions, to: string): Promise<number> {
  const config = context.config();
  const parsed = parseAddress(to);
  if (!parsed.ok) throw new BriefingError('cli', 'invalid-address', `--to: address ${parsed.problem}`, { exitCode: 2 });
  checkAddress(parsed.address, '--to');
  const { opened, why } = await testEdition(context, store, options.date);
  if (opened.kind === 'skipped') {
    // Nothing to show: no test copy went out, which is a failure of what was asked.
    const message = `no test copy sent: ${opened.message}`;
    context.print(options.json ? JSON.stringify({ edition: opened.id, skipped: true, message }) : message);
    return 1;
  }
  const subscriber = await store.findSubscriber(parsed.address);
  // A subscriber's test copy carries their real link; anyone else gets the site's unsubscribe page.
  const link = subscriber === undefined ? `${config.siteUrl}unsubscribe` : unsubscribeUrl(config.siteUrl, createToken(config.env.secret, 'unsubscribe', subscriber));
  const message = personaliseMessage(
    prepareMessage(opened.briefing, messageOptions(config, '[TEST] ')),
    { subscriberId: null, address: parsed.address, name: subscriber?.name ?? null, unsubscribeUrl: link },
    context.clock.now(),
  );
  const transport = await context.createTransport(opened.id);
  try {
    const receipt = await transport.send(message);
    if (options.json) {
      context.print(JSON.stringify({ edition: opened.id, test: true, to: parsed.address, messageId: message.messageId, transport: transport.description, reply: receipt.reply, file: receipt.file, why }));
    } else {
      const which = `edition ${opened.id}${why === undefined ? '' : ` (${why})`}`;
      context.print(
        receipt.file === undefined
          ? `Sent a test copy of ${which} to ${parsed.address} via ${transport.description}; the server replied "${receipt.reply}"`
          : `Wrote a test copy of ${which} for ${parsed.address} to ${receipt.file} (BRIEFING_SMTP_URL is not set, so nothing was mailed)`,
      );
    }
    return 0;
  } catch (error) {
    if (!(error instanceof TransportError)) throw error;
    throw new BriefingError('delivery', 'test-copy-failed', `the test copy to ${parsed.address} was not accepted: ${error.message}`, { cause: error });
  } finally {
    await transport.close();
  }
}

/** What opening an edition reads and (when recording) writes. */
type EditionLookup = Pick<Store, 'getEdition' | 'previousEdition' | 'createEdition'>;

/** A store that does not exist yet: no editions, nothing to continue from. */
const NO_EDITIONS: EditionLookup = {
  getEdition: async () => undefined,
  previousEdition: async () => undefined,
  createEdition: async () => false,
};

/**
 * Opens edition `id`: a stored record is read back as it is (same content on every run, no
 * articles needed); a new edition is planned from the content, and recorded only when `record`.
 */
async function open(context: CliContext, store: EditionLookup, id: string, record: boolean): Promise<OpenedEdition> {
  const config = context.config();
  const stored = await store.getEdition(id);
  const articles = stored === undefined ? await loadArticles({ dir: config.paths.content, topics: config.topics, timeZone: config.timeZone, maxRecordBytes: config.content.maxRecordBytes }) : [];
  return openEdition({ config, store, articles, clock: context.clock }, { persist: stored !== undefined || record, date: id });
}

/** `--dry-run`: the edition, its subject and how many would get it; no record, delivery or file is written. */
async function dryRun(context: CliContext, options: SendOptions, id: string): Promise<number> {
  const config = context.config();
  const location = storeLocation(config.env.databaseUrl, config.paths.data);
  // Opening a SQLite store that does not exist would create it: then there is no one to send to.
  const store = location.kind === 'sqlite' && !existsSync(location.file) ? undefined : await context.openStore();
  try {
    const opened = await open(context, store ?? NO_EDITIONS, id, false);
    const counts = (await store?.deliveryCounts(id)) ?? { queued: 0, sending: 0, sent: 0, failed: 0 };
    const enqueued = counts.queued + counts.sending + counts.sent + counts.failed > 0;
    const recipients = options.to !== undefined ? 1 : enqueued ? counts.queued + counts.sending : ((await store?.countSubscribers('active')) ?? 0);
    const transport = config.env.smtpUrl === undefined ? `.eml files in ${path.relative(process.cwd(), path.join(config.paths.output, 'outbox', id))}/` : 'BRIEFING_SMTP_URL';
    const subject = opened.kind === 'ready' ? `${options.to === undefined ? '' : '[TEST] '}${opened.briefing.subject}` : undefined;
    if (options.json) {
      context.print(JSON.stringify({ edition: id, dryRun: true, skipped: opened.kind === 'skipped', subject, recipients, alreadySent: counts.sent, transport }));
    } else if (opened.kind === 'skipped') {
      context.print(`Dry run: ${opened.message}`);
    } else {
      context.print(`Dry run: edition ${id}, subject "${subject}"`);
      context.print(`Would send to ${recipients} ${recipients === 1 ? 'recipient' : 'recipients'}${counts.sent > 0 ? ` (${counts.sent} already sent)` : ''} via ${transport}; nothing was written`);
    }
    return 0;
  } finally {
    await store?.close();
  }
}
