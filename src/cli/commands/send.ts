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
import { storeLocation } from '../../store/open-store.js';
import type { Store } from '../../store/store.js';
import { parseAddress } from '../../subscribers/address.js';
import type { CliContext } from '../context.js';

interface SendOptions {
  date?: string;
  to?: string;
  dryRun?: boolean;
  resume?: boolean;
  json?: boolean;
}

/**
 * `briefing send [--date D] [--to ADDR] [--dry-run] [--resume] [--json]`: opens edition D (the due
 * one by default), recording it, enqueues one delivery per active subscriber and delivers them.
 * `--resume` only continues an edition already enqueued; `--to` sends one `[TEST]` copy and leaves
 * the outbox alone; `--dry-run` says what would be sent and writes nothing. Exit code 1 when any
 * delivery of the edition failed or the send stopped before the end.
 */
export default async function send(context: CliContext, options: SendOptions): Promise<number> {
  if (options.to !== undefined && options.resume) {
    throw new BriefingError('cli', 'usage', '--to sends one test copy and cannot be combined with --resume', { exitCode: 2 });
  }
  const config = context.config();
  const id = resolveEditionSlot({ cron: config.schedule.cron, zone: config.timeZone, now: context.clock.now(), ...(options.date === undefined ? {} : { date: options.date }) }).id;
  if (options.dryRun) return dryRun(context, options, id);
  const store = await context.openStore();
  try {
    if (options.to !== undefined) return await testCopy(context, store, options, options.to, id);
    if (options.resume) {
      const counts = await store.deliveryCounts(id);
      if ((await store.getEdition(id)) === undefined || counts.queued + counts.sending + counts.sent + counts.failed === 0) {
        throw new BriefingError('delivery', 'nothing-to-resume', `edition ${id} has not been enqueued yet: run \`briefing send --date ${id}\` without --resume`);
      }
    }
    const opened = await open(context, store, id, true);
    if (opened.kind === 'skipped') {
      context.print(options.json ? JSON.stringify({ edition: opened.id, skipped: true, message: opened.message }) : opened.message);
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

/** `--to`: one test copy of the edition, `[TEST]` in the subject; the edition record and outbox stay as they are. */
async function testCopy(context: CliContext, store: Store, options: SendOptions, to: string, id: string): Promise<number> {
  const config = context.config();
  const parsed = parseAddress(to);
  if (!parsed.ok) throw new BriefingError('cli', 'invalid-address', `--to: address ${parsed.problem}`, { exitCode: 2 });
  checkAddress(parsed.address, '--to');
  const opened = await open(context, store, id, false);
  if (opened.kind === 'skipped') {
    context.print(options.json ? JSON.stringify({ edition: opened.id, skipped: true, message: opened.message }) : opened.message);
    return 0;
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
      context.print(JSON.stringify({ edition: opened.id, test: true, to: parsed.address, messageId: message.messageId, transport: transport.description, reply: receipt.reply }));
    } else {
      context.print(`Sent a test copy of edition ${opened.id} to ${parsed.address} (${viaLine(config.env.smtpUrl, transport.description)}): ${receipt.reply}`);
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
  const articles = stored === undefined ? await loadArticles({ dir: config.paths.content, topics: config.topics, timeZone: config.timeZone }) : [];
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
