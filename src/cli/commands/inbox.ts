import path from 'node:path';
import { BriefingError } from '../../errors.js';
import { connectImapMailbox } from '../../returns/mailbox-imap.js';
import { openMaildirMailbox } from '../../returns/mailbox-maildir.js';
import { stdinMailbox } from '../../returns/mailbox-stdin.js';
import type { Mailbox, MailboxOptions } from '../../returns/mailbox.js';
import { readInbox, returnSettings, type InboxOutcome } from '../../run/inbox.js';
import { storeUnavailability } from '../../store/store-unavailable.js';
import type { CliContext } from '../context.js';

interface InboxOptions {
  maildir?: string;
  stdin?: boolean;
  watch?: boolean;
  json?: boolean;
}

/** sysexits(3) EX_TEMPFAIL: an MTA piping mail to `inbox --stdin` keeps the message and tries again later. */
const EX_TEMPFAIL = 75;

function describeOutcome(outcome: InboxOutcome): string {
  if (outcome.kind === 'unknown') return `unknown, kept: ${outcome.why}`;
  const { result } = outcome;
  if (!result.recorded) return `${outcome.returned} for subscriber ${outcome.subscriberId}: ${result.reason === 'repeat' ? 'seen before' : 'no such subscriber'}`;
  const change = result.changed ? `now ${result.status}` : `still ${result.status}`;
  const soft = outcome.returned === 'soft-bounce' ? ` (${result.softBounces} soft in the window)` : '';
  return `${outcome.returned} for subscriber ${outcome.subscriberId}: ${change}${soft}`;
}

/** Where returned mail is read from: --maildir DIR, --stdin, else the IMAP mailbox of BRIEFING_IMAP_URL. */
async function openMailbox(context: CliContext, options: InboxOptions): Promise<Mailbox> {
  const config = context.config();
  const { maxMessageBytes } = returnSettings(config);
  const limits: MailboxOptions = {
    maxBytes: maxMessageBytes,
    ...(config.returns === undefined ? {} : { handledFolder: config.returns.handledFolder, unknownFolder: config.returns.unknownFolder }),
  };
  const sources = [options.maildir !== undefined, options.stdin === true].filter(Boolean).length;
  if (sources > 1) throw new BriefingError('cli', 'inbox-source', 'give one of --maildir DIR and --stdin, not both', { exitCode: 2 });
  if (options.stdin === true) {
    if (options.watch === true) throw new BriefingError('cli', 'inbox-source', '--watch reads a mailbox as mail arrives; standard input holds one message', { exitCode: 2 });
    return stdinMailbox(context.stdin(), { maxBytes: maxMessageBytes, unknownMaildir: path.join(config.paths.data, 'unknown-mail') });
  }
  if (options.maildir !== undefined) {
    if (options.watch === true) throw new BriefingError('cli', 'inbox-source', '--watch needs an IMAP mailbox (BRIEFING_IMAP_URL); run --maildir from cron instead', { exitCode: 2 });
    return openMaildirMailbox(options.maildir, limits);
  }
  const url = config.env.imapUrl;
  if (url === undefined) {
    throw new BriefingError('cli', 'inbox-source', 'say where returned mail is: --maildir DIR, --stdin, or an IMAP mailbox in BRIEFING_IMAP_URL (imaps://user:password@host/INBOX)', { exitCode: 2 });
  }
  return connectImapMailbox(url, { ...limits, watch: options.watch === true });
}

/**
 * `briefing inbox [--maildir DIR | --stdin] [--watch] [--json]`: reads returned mail (bounce
 * reports, complaints, mailto unsubscribes) and applies it to the list; one line per message, then
 * a summary. With --stdin a store that cannot write now exits 75 (EX_TEMPFAIL) so the MTA retries.
 */
export default async function inbox(context: CliContext, options: InboxOptions): Promise<number> {
  const mailbox = await openMailbox(context, options);
  try {
    const report = await readInbox(context, mailbox, {
      settled: (message, outcome) => {
        if (options.json !== true) context.print(`${message.id}: ${describeOutcome(outcome)}`);
      },
    });
    if (options.json === true) context.print(JSON.stringify({ mailbox: mailbox.describe, ...report }));
    else {
      const recorded = Object.entries(report.recorded).filter(([, count]) => count > 0).map(([kind, count]) => `${count} ${kind}`);
      context.print(`${mailbox.describe}: ${report.read} read, ${recorded.length === 0 ? 'nothing recorded' : recorded.join(', ')}, ${report.changed} status changes, ${report.repeats} seen before, ${report.unknown} unknown kept`);
    }
    return 0;
  } catch (error) {
    if (options.stdin === true && storeUnavailability(error) !== undefined) {
      throw new BriefingError('cli', 'inbox-busy', `the store cannot take the returned mail now (${storeUnavailability(error)}): exit ${EX_TEMPFAIL}, so the mail server tries again later`, { cause: error, exitCode: EX_TEMPFAIL });
    }
    throw error;
  } finally {
    await mailbox.close();
  }
}
