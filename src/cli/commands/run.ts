import { formatSendSummary } from '../../delivery/send-progress.js';
import { runOnce } from '../../run/run-once.js';
import type { CliContext } from '../context.js';
import { formatBuildSummary } from './build.js';

interface RunOptions {
  json?: boolean;
}

/**
 * `briefing run` (`npm start`): one pass of what the schedule does (see runOnce: editions an
 * earlier run left unfinished first, then the due one) and prints what it did. A skipped edition
 * (nothing new) is a normal outcome: exit 0. Exit 1 when deliveries failed or are left for a retry;
 * a stop signal ends the send gracefully (exit 0) and the next run or `briefing send --resume`
 * continues it.
 */
export default async function run(context: CliContext, options: RunOptions): Promise<number> {
  const config = context.config();
  const lines: string[] = [];
  const say = (line: string): void => {
    if (options.json) lines.push(line);
    else context.print(line);
  };
  let via: string | undefined;
  const { seeded, resumed, due, slot: report } = await runOnce(
    context,
    { interactive: context.interactive && !options.json },
    {
      seeded: (count, file) => say(`Seeded ${count} sample subscriber${count === 1 ? '' : 's'} from ${file}`),
      resuming: (id) => say(`Resuming edition ${id}, which an earlier run left unfinished`),
      chosen: (chosen) => {
        if (chosen.reason === 'newest-content' && chosen.due !== undefined) {
          say(
            `First edition: the due edition ${chosen.due.id} would have nothing from the last ${config.edition.firstLookBackHours} hours, ` +
              `so it is edition ${chosen.target.id}, the one due after the newest content`,
          );
        }
      },
      sendStarted: (transport) => {
        via = config.env.smtpUrl === undefined ? `Wrote ${transport.description} (BRIEFING_SMTP_URL is not set)` : `Sent via ${transport.description}`;
      },
      // Told as they happen: a send that then fails (its server down) has still shown what was built and planned.
      built: (site) => say(formatBuildSummary(site)),
      opened: (edition, subject, sent) => say(sent ? `Edition ${edition} was sent already: ${subject}` : `Edition ${edition}: ${subject}`),
    },
  );
  for (const earlier of resumed) {
    say(`Edition ${earlier.edition} (resumed): ${earlier.outcome === 'skipped' ? (earlier.message ?? 'skipped') : (earlier.subject ?? '')}`);
    if (earlier.send !== undefined) for (const line of formatSendSummary(earlier.send)) say(line);
  }
  const resumedFailed = resumed.some((earlier) => earlier.send !== undefined && !earlier.send.stopped && (earlier.send.counts.failed > 0 || !earlier.send.complete));
  const resumedJson = resumed.map((earlier) => ({ edition: earlier.edition, outcome: earlier.outcome, send: earlier.send }));
  if (due === undefined || report === undefined) {
    say(`No edition is due: schedule.cron "${config.schedule.cron}" has no slot before now`);
    if (options.json) context.print(JSON.stringify({ edition: null, seeded, resumed: resumedJson }));
    return resumedFailed ? 1 : 0;
  }
  const { site } = report;
  if (report.outcome === 'skipped') say(report.message ?? `Edition ${report.edition} skipped`);
  if (via !== undefined) say(via);
  if (report.send !== undefined) for (const line of formatSendSummary(report.send)) say(line);
  if (options.json) {
    context.print(
      JSON.stringify({ edition: report.edition, reason: due.reason, outcome: report.outcome, subject: report.subject, message: report.message, seeded, resumed: resumedJson, site, send: report.send, lines }),
    );
  }
  if (resumedFailed) return 1;
  if (report.send === undefined) return 0;
  if (report.send.stopped) return 0;
  return report.send.counts.failed > 0 || !report.send.complete ? 1 : 0;
}
