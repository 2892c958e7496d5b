import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Article } from '../content/article.js';
import { deliverEdition, type DeliverEditionDependencies } from '../delivery/deliver-edition.js';
import type { DkimSigner } from '../delivery/dkim.js';
import type { SendSummary } from '../delivery/send-edition.js';
import type { Transport } from '../delivery/transport.js';
import type { RunOutcome, RunSlot, SkipSlot, SlotTarget } from '../schedule/scheduler.js';
import type { EditionStore } from '../store/store.js';
import { loadContent } from './load-content.js';
import { editionSentAfter, openEdition, type OpenEditionDeps } from './open-edition.js';
import { publishEdition } from './publish-edition.js';
import { skippedSlotRecord } from './stored-edition.js';
import { briefingsForOpened } from './topic-briefings.js';

/** What one pass needs: the CLI's parts, plus the site build. */
export interface SlotRunDependencies<SiteReport> {
  config: Config;
  /** What opening an edition and delivering it use of the store. */
  store: OpenEditionDeps['store'] & DeliverEditionDependencies['store'];
  clock: { now(): Date };
  logger: Logger;
  /** True on a terminal: the send shows a progress bar. */
  interactive: boolean;
  createTransport(editionId: string): Promise<Transport>;
  /** Signs each message when DKIM is configured (built once by the composition root). */
  dkim: DkimSigner | undefined;
  /** Writes the feeds and the archive for the articles. */
  buildSite(articles: readonly Article[]): Promise<SiteReport>;
  /** Told which transport is used before the first message goes (for `briefing run`'s output). */
  onSendStart?: (transport: Transport) => void;
  /** Told what the build did, and the edition opened (`sent`: it went out before), as they happen: a send that fails after them still showed them. */
  onBuilt?: (site: SiteReport) => void;
  onOpened?: (edition: string, subject: string, sent: boolean) => void;
}

/** What one pass did: `briefing run` prints it, the scheduler logs it. */
export interface SlotRunReport<SiteReport> {
  edition: string;
  articles: number;
  site: SiteReport;
  /** `sent`: every delivery done; `already-sent`: an earlier run finished it; `skipped`: nothing to send;
   * `interrupted`: a stop request ended the send (resumed on the next start); `incomplete`: deliveries
   * are still waiting for a retry. */
  outcome: 'sent' | 'already-sent' | 'skipped' | 'interrupted' | 'incomplete';
  subject?: string;
  /** Why the edition was skipped. */
  message?: string;
  send?: SendSummary;
}

/**
 * One pass for a slot, as `briefing run` and every scheduler fire do it: build the feeds and
 * archive from the articles, open the slot's edition (planned and recorded once: the store's unique id
 * makes a second scheduler or a restart reuse the same record and rendered briefing), write its
 * web version, and deliver it through the outbox, which resumes where a killed run stopped. `signal` stops new sends.
 */
export async function runEditionSlot<SiteReport>(
  dependencies: SlotRunDependencies<SiteReport>,
  input: { target: SlotTarget; articles: readonly Article[] },
  signal: AbortSignal,
): Promise<SlotRunReport<SiteReport>> {
  const { config, store, clock, logger } = dependencies;
  const { target, articles } = input;
  const site = await dependencies.buildSite(articles);
  dependencies.onBuilt?.(site);
  const stored = await store.getEdition(target.id);
  const later = stored === undefined ? await editionSentAfter(store, target.slot) : undefined;
  if (later !== undefined) {
    // An edition sent ahead (`send --date D --force`) told this slot's stories: recorded as skipped, as a missed slot is.
    const message = `edition ${target.id} skipped: edition ${later.id}, which went out after it, already told its stories`;
    await store.createEdition(skippedSlotRecord(target, message), clock.now());
    return { edition: target.id, articles: articles.length, site, outcome: 'skipped', message };
  }
  const opened = await openEdition({ config, store, articles, clock }, { target, stored, persist: true });
  const base = { edition: opened.id, articles: articles.length, site };
  if (opened.kind === 'skipped') return { ...base, outcome: 'skipped', message: opened.message };
  const subject = opened.briefing.subject;
  dependencies.onOpened?.(opened.id, subject, opened.record?.status === 'sent');
  if (opened.record?.status === 'sent') return { ...base, outcome: 'already-sent', subject };
  // Always enqueue (it is idempotent): a run killed between marking the edition `sending` and
  // enqueueing must still give every subscriber a delivery when resumed.
  const send = await deliverEdition(
    {
      config,
      store,
      createTransport: (editionId) => dependencies.createTransport(editionId),
      dkim: dependencies.dkim,
      clock,
      logger,
      interactive: dependencies.interactive,
      stopSignal: signal,
      ...(dependencies.onSendStart === undefined ? {} : { onStart: dependencies.onSendStart }),
    },
    { editionId: opened.id, briefingsFor: briefingsForOpened({ config, logger }, opened), resume: false, beforeSending: () => publishEdition(config, opened) },
  );
  const outcome = send.complete ? 'sent' : send.stopped ? 'interrupted' : 'incomplete';
  return { ...base, outcome, subject, send };
}

/** The scheduler's RunSlot over runEditionSlot: reads the content afresh for each fire; the report becomes the run's log fields. */
export function slotRunner<SiteReport>(dependencies: SlotRunDependencies<SiteReport>): RunSlot {
  const { config } = dependencies;
  return async (target, signal): Promise<RunOutcome> => {
    const articles = await loadContent(config);
    const report = await runEditionSlot(dependencies, { target, articles }, signal);
    const counts = report.send === undefined ? {} : { sent: report.send.sent, failed: report.send.failed, retried: report.send.retried, counts: report.send.counts };
    const details = { outcome: report.outcome, articles: report.articles, ...(report.message === undefined ? {} : { note: report.message }), ...counts };
    if (report.outcome === 'skipped') return { status: 'skipped', details };
    if (report.outcome === 'interrupted' || report.outcome === 'incomplete') return { status: 'interrupted', details };
    return { status: 'sent', details };
  };
}

/** The scheduler's SkipSlot: records a slot it will not run (missed, or superseded) as a skipped edition. */
export function slotSkipper(editions: Pick<EditionStore, 'createEdition'>): SkipSlot {
  return (target, note, now) => editions.createEdition(skippedSlotRecord(target, note), now);
}
