import path from 'node:path';
import type { Article } from '../content/article.js';
import type { Transport } from '../delivery/transport.js';
import { chooseDueEdition, type DueEdition } from '../schedule/due-edition.js';
import { recentEditions, unfinishedOldestFirst } from '../schedule/unfinished-editions.js';
import { seedSampleSubscribers } from '../subscribers/seed-sample.js';
import { buildSite, type BuildSummary } from './build-site.js';
import { contentChanges, loadContent } from './load-content.js';
import type { RunContext } from './run-context.js';
import { runEditionSlot, type SlotRunReport } from './slot-run.js';

/** What `briefing run` did: the sample subscribers seeded, and the due edition's pass (none when no slot is due yet). */
export interface RunOnceReport {
  seeded: number;
  /** Editions an earlier run left unfinished (its server was down, or it was stopped), resumed first. */
  resumed: Array<SlotRunReport<BuildSummary>>;
  due: DueEdition | undefined;
  slot: SlotRunReport<BuildSummary> | undefined;
}


/** What a run tells its caller as it goes, before its report. */
export interface RunOnceEvents {
  /** Sample subscribers were added to an empty store from `file` (as shown to the operator). */
  seeded?(count: number, file: string): void;
  /** An unfinished edition is about to be resumed. */
  resuming?(id: string): void;
  /** The edition chosen, before its pass starts. */
  chosen?(due: DueEdition): void;
  /** The first message is about to go through this transport. */
  sendStarted?(transport: Transport): void;
  /** The due edition's pass built the site, then opened its edition (see SlotRunDependencies). */
  built?(site: BuildSummary): void;
  opened?(edition: string, subject: string, sent: boolean): void;
}

function shown(file: string): string {
  return path.relative(process.cwd(), file) || file;
}

/**
 * `briefing run`: one pass of what the schedule does. Seeds an empty store with the sample
 * subscribers, builds the feeds and archive, picks the due edition (see chooseDueEdition for the
 * first edition of a fresh store) and runs its slot: plan, record, web version, delivery.
 */
export async function runOnce(context: RunContext, input: { interactive: boolean }, events: RunOnceEvents = {}): Promise<RunOnceReport> {
  const config = context.config();
  const store = await context.openStore();
  try {
    const now = context.clock.now();
    const sample = config.sampleSubscribers === undefined ? undefined : shown(config.sampleSubscribers);
    const seeded = (await seedSampleSubscribers(store, sample, config.topics.map((topic) => topic.id), now))?.created ?? 0;
    if (seeded > 0) events.seeded?.(seeded, shown(config.sampleSubscribers ?? ''));
    const articles = await loadContent(config);
    const firstEdition = (await store.previousEdition(new Date(now.getTime() + 1))) === undefined;
    const due = chooseDueEdition({
      cron: config.schedule.cron,
      zone: config.timeZone,
      now,
      firstLookBackHours: config.edition.firstLookBackHours,
      content: contentChanges(articles),
      firstEdition,
    });
    const dependencies = {
      config,
      store,
      clock: context.clock,
      logger: context.logger,
      interactive: input.interactive,
      createTransport: (editionId: string) => context.createTransport(editionId),
      dkim: context.dkim(),
      buildSite: (loaded: readonly Article[]) => buildSite(config, { articles: loaded }),
      ...(events.sendStarted === undefined ? {} : { onSendStart: events.sendStarted }),
    };
    // What an earlier run left unfinished goes out first, oldest first, as the scheduler does.
    const resumed = [];
    for (const edition of unfinishedOldestFirst(await recentEditions(store))) {
      if (context.stopSignal.aborted || edition.id === due?.target.id) continue;
      events.resuming?.(edition.id);
      resumed.push(await runEditionSlot(dependencies, { target: { id: edition.id, slot: edition.slot }, articles }, context.stopSignal));
    }
    if (due === undefined) return { seeded, resumed, due, slot: undefined };
    events.chosen?.(due);
    const told = { onBuilt: (site: BuildSummary) => events.built?.(site), onOpened: (edition: string, subject: string, sent: boolean) => events.opened?.(edition, subject, sent) };
    const slot = await runEditionSlot({ ...dependencies, ...told }, { target: due.target, articles }, context.stopSignal);
    return { seeded, resumed, due, slot };
  } finally {
    await store.close();
  }
}
