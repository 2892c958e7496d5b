import path from 'node:path';
import { loadArticles } from '../../content/load-articles.js';
import { formatSendSummary } from '../../delivery/send-progress.js';
import { chooseDueEdition } from '../../schedule/due-edition.js';
import { runEditionSlot } from '../../schedule/run-slot.js';
import { seedSampleSubscribers } from '../../subscribers/seed-sample.js';
import type { CliContext } from '../context.js';
import { buildSite, formatBuildSummary } from './build.js';

interface RunOptions {
  json?: boolean;
}

function shown(file: string): string {
  return path.relative(process.cwd(), file) || file;
}

/**
 * `briefing run` (`npm start`): one pass of what the schedule does. Seeds an empty store with the
 * sample subscribers, builds the feeds and archive, plans the due edition (see chooseDueEdition for
 * the first edition of a fresh store), sends it and prints what it did. A skipped edition (nothing
 * new) is a normal outcome: exit 0. Exit 1 when deliveries failed or are left for a retry; a stop
 * signal ends the send gracefully (exit 0) and the next run or `briefing send --resume` continues it.
 */
export default async function run(context: CliContext, options: RunOptions): Promise<number> {
  const config = context.config();
  const store = await context.openStore();
  const lines: string[] = [];
  const say = (line: string): void => {
    if (options.json) lines.push(line);
    else context.print(line);
  };
  try {
    const now = context.clock.now();
    const seeded = (await seedSampleSubscribers(store, config.sampleSubscribers === undefined ? undefined : shown(config.sampleSubscribers), now))?.created ?? 0;
    if (seeded > 0) say(`Seeded ${seeded} sample subscriber${seeded === 1 ? '' : 's'} from ${shown(config.sampleSubscribers ?? '')}`);
    const articles = await loadArticles({ dir: config.paths.content, topics: config.topics, timeZone: config.timeZone, maxRecordBytes: config.content.maxRecordBytes });
    const firstEdition = (await store.previousEdition(new Date(now.getTime() + 1))) === undefined;
    const due = chooseDueEdition({
      cron: config.schedule.cron,
      zone: config.timeZone,
      now,
      firstLookBackHours: config.edition.firstLookBackHours,
      articles,
      firstEdition,
    });
    if (due === undefined) {
      say(`No edition is due: schedule.cron "${config.schedule.cron}" has no slot before now`);
      if (options.json) context.print(JSON.stringify({ edition: null, seeded }));
      return 0;
    }
    if (due.reason === 'newest-content' && due.due !== undefined) {
      say(
        `First edition: the due edition ${due.due.id} would have nothing from the last ${config.edition.firstLookBackHours} hours, ` +
          `so it is edition ${due.target.id}, the one due after the newest content`,
      );
    }
    let via: string | undefined;
    const report = await runEditionSlot(
      {
        config,
        store,
        clock: context.clock,
        logger: context.logger,
        interactive: context.interactive && !options.json,
        createTransport: (editionId) => context.createTransport(editionId),
        buildSite: (articles) => buildSite(config, { articles }),
        onSendStart: (transport) => {
          via = config.env.smtpUrl === undefined ? `Wrote ${transport.description} (BRIEFING_SMTP_URL is not set)` : `Sent via ${transport.description}`;
        },
      },
      { target: due.target, articles },
      context.stopSignal,
    );
    const { site } = report;
    say(formatBuildSummary(site));
    if (report.outcome === 'skipped') say(report.message ?? `Edition ${report.edition} skipped`);
    else if (report.outcome === 'already-sent') say(`Edition ${report.edition} was sent already: ${report.subject ?? ''}`);
    else say(`Edition ${report.edition}: ${report.subject ?? ''}`);
    if (via !== undefined) say(via);
    if (report.send !== undefined) for (const line of formatSendSummary(report.send)) say(line);
    if (options.json) {
      context.print(JSON.stringify({ edition: report.edition, reason: due.reason, outcome: report.outcome, subject: report.subject, message: report.message, seeded, site, send: report.send, lines }));
    }
    if (report.send === undefined) return 0;
    if (report.send.stopped) return 0;
    return report.send.counts.failed > 0 || !report.send.complete ? 1 : 0;
  } finally {
    await store.close();
  }
}
