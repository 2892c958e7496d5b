import path from 'node:path';
import { formatSendSummary } from '../../delivery/send-progress.js';
import { BriefingError } from '../../errors.js';
import type { OpenedEdition } from '../../run/open-edition.js';
import { sendToSubscribers } from '../../run/send.js';
import { formatZoneTime } from '../../schedule/zone-time.js';
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
  const date = options.date === undefined ? {} : { date: options.date };
  if (options.dryRun) return dryRun(context, options, date);
  if (options.to !== undefined) return testCopy(context, options, { ...date, to: options.to });
  const config = context.config();
  const report = await sendToSubscribers(
    context,
    { ...date, resume: options.resume === true, replan: options.replan === true, force: options.force === true, interactive: context.interactive && !options.json },
    {
      replanned: (id, status) => {
        if (!options.json) context.print(`Edition ${id} was ${status}; planning it again`);
      },
      started: (opened, transport) => {
        if (options.json) return;
        context.print(`Edition ${opened.id}: ${opened.briefing.subject}`);
        context.print(viaLine(config.env.smtpUrl, transport.description));
      },
    },
  );
  if (report.kind === 'skipped') {
    const message = skipNotice(report.opened, config.timeZone);
    context.print(options.json ? JSON.stringify({ edition: report.opened.id, skipped: true, message }) : message);
    return 0;
  }
  const { opened, summary } = report;
  if (options.json) {
    context.print(JSON.stringify({ edition: opened.id, subject: opened.briefing.subject, transport: report.transport, ...summary }));
  } else {
    for (const line of formatSendSummary(summary)) context.print(line);
  }
  return summary.counts.failed > 0 || !summary.complete ? 1 : 0;
}

function viaLine(smtpUrl: string | undefined, description: string): string {
  return smtpUrl === undefined ? `Writing ${description} (BRIEFING_SMTP_URL is not set)` : `Sending via ${description}`;
}

/**
 * What a send prints for a skipped edition: that the skip is recorded (a later send of the same
 * date finds it skipped, even once articles arrive) and, when it was skipped just now for want of
 * news, how to plan it again.
 */
function skipNotice(opened: OpenedEdition & { kind: 'skipped' }, zone: string): string {
  const again = `\`briefing send --date ${opened.id} --replan\` plans it again`;
  // A recorded skip's note says why, and how to plan it again where that can be done.
  if (opened.origin === 'stored') return `Edition ${opened.id} is recorded as skipped: ${opened.message}`;
  const { since, until } = opened.window;
  return `Recorded edition ${opened.id} as skipped: nothing new between ${formatZoneTime(since, zone)} and ${formatZoneTime(until, zone)}; ${again}`;
}

/** `--to`: prints what the test copy did; no test copy is a failure of what was asked (exit 1). */
async function testCopy(context: CliContext, options: SendOptions, request: { date?: string; to: string }): Promise<number> {
  const { sendTestCopy } = await import('../../run/test-copy.js');
  const report = await sendTestCopy(context, request);
  if (report.kind === 'skipped' || report.kind === 'nothing-for-topics') {
    const message = `no test copy sent: ${report.kind === 'skipped' ? report.opened.message : report.message}`;
    context.print(options.json ? JSON.stringify({ edition: report.opened.id, skipped: true, message }) : message);
    return 1;
  }
  const { opened, why, to, receipt, transport } = report;
  if (options.json) {
    context.print(JSON.stringify({ edition: opened.id, test: true, to, messageId: report.messageId, transport, reply: receipt.reply, file: receipt.file, why }));
  } else {
    const which = `edition ${opened.id}${why === undefined ? '' : ` (${why})`}`;
    context.print(
      receipt.file === undefined
        ? `Sent a test copy of ${which} to ${to} via ${transport}; the server replied "${receipt.reply}"`
        : `Wrote a test copy of ${which} for ${to} to ${receipt.file} (BRIEFING_SMTP_URL is not set, so nothing was mailed)`,
    );
  }
  return 0;
}

/** `--dry-run`: prints the edition, its subject and how many would get it. */
async function dryRun(context: CliContext, options: SendOptions, date: { date?: string }): Promise<number> {
  const config = context.config();
  const { dryRunSend } = await import('../../run/dry-run.js');
  const { id, opened, recipients, nothingForTopics, alreadySent } = await dryRunSend(context, { ...date, testCopy: options.to !== undefined });
  const transport = config.env.smtpUrl === undefined ? `.eml files in ${path.relative(process.cwd(), path.join(config.paths.output, 'outbox', id))}/` : 'BRIEFING_SMTP_URL';
  const subject = opened.kind === 'ready' ? `${options.to === undefined ? '' : '[TEST] '}${opened.briefing.subject}` : undefined;
  if (options.json) {
    context.print(JSON.stringify({ edition: id, dryRun: true, skipped: opened.kind === 'skipped', subject, recipients, nothingForTopics, alreadySent, transport }));
  } else if (opened.kind === 'skipped') {
    context.print(`Dry run: ${opened.message}`);
  } else {
    context.print(`Dry run: edition ${id}, subject "${subject}"`);
    const notes = [...(nothingForTopics > 0 ? [`${nothingForTopics} skipped: nothing for their topics`] : []), ...(alreadySent > 0 ? [`${alreadySent} already sent`] : [])];
    context.print(`Would send to ${recipients} ${recipients === 1 ? 'recipient' : 'recipients'}${notes.length > 0 ? ` (${notes.join('; ')})` : ''} via ${transport}; nothing was written`);
  }
  return 0;
}
