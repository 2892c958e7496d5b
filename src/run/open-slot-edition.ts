import type { Config } from '../config.js';
import type { Article } from '../content/article.js';
import { resolveEditionSlot } from '../edition/edition-slot.js';
import type { SlotTarget } from '../schedule/scheduler.js';
import type { EditionRecord } from '../store/store.js';
import { openEdition, type OpenEditionDeps, type OpenedEdition } from './open-edition.js';

/** The slot a use case works on, resolved once per run: `date` (a day or slot id), else the due one at `now`. */
export function resolveTarget(config: Config, now: Date, date: string | undefined): SlotTarget {
  return resolveEditionSlot({ cron: config.schedule.cron, zone: config.timeZone, now, ...(date === undefined ? {} : { date }) });
}

/**
 * Opens the slot's edition from the record the run read for it: a stored record is read back as it
 * is (same content on every run, no articles needed); a new edition is planned from the content
 * (`articles`, else read now) and recorded only when `persist`.
 */
export async function openSlotEdition(
  parts: { config: Config; clock: { now(): Date }; store: OpenEditionDeps['store']; renderer?: OpenEditionDeps['renderer'] },
  input: { target: SlotTarget; stored: EditionRecord | undefined; persist: boolean; articles?: readonly Article[] },
): Promise<OpenedEdition> {
  const { config, clock, store } = parts;
  // A stored edition needs no articles: the content modules (Markdown, YAML, the sanitizer) are loaded only to plan one.
  const articles = input.stored !== undefined ? [] : (input.articles ?? (await (await import('./load-content.js')).loadContent(config)));
  return openEdition({ config, store, articles, clock, ...(parts.renderer === undefined ? {} : { renderer: parts.renderer }) }, { target: input.target, stored: input.stored, persist: input.persist });
}
