import { DateTime } from 'luxon';
import { formatZoneTime } from '../schedule/zone-time.js';
import type { Config } from '../config.js';
import type { Article } from '../content/article.js';
import type { Briefing } from '../email/briefing.js';
import type { BriefingTemplates } from '../email/briefing-templates.js';
import type { MjmlRenderer } from '../email/compile-mjml.js';
import type { EditionRecord, EditionStore } from '../store/store.js';
import { outlineEdition, type Edition, type EditionOutline, type EditionWindow } from '../edition/edition.js';
import { planEdition } from '../edition/plan-edition.js';
import { readStoredEdition, type StoredEdition } from './stored-edition.js';

/** What opening an edition needs; the store is only read unless the request persists. */
export interface OpenEditionDeps {
  config: Config;
  store: Pick<EditionStore, 'getEdition' | 'previousEdition' | 'createEdition'>;
  articles: readonly Article[];
  clock: { now(): Date };
  /** Loaded from `config.paths.templates` when not given. */
  templates?: BriefingTemplates;
  /** An MJML renderer the caller started ahead, for the render if there is one (the caller closes it). */
  renderer?: MjmlRenderer;
}

/** Which edition to open, and whether to record it. */
export interface OpenEditionRequest {
  /** The slot, resolved once by the run (see resolveEditionSlot). */
  target: { id: string; slot: Date };
  /** The slot's record as the run read it, reused as stored when given; undefined: plan afresh. */
  stored: EditionRecord | undefined;
  /** Create the edition record (send, run) or only look (preview, a test copy). */
  persist: boolean;
}

interface OpenedFields {
  id: string;
  /** The slot's date in the publication zone. */
  date: string;
  slot: Date;
  window: EditionWindow;
  outline: EditionOutline;
  /** `planned`: planned by this call (and stored if it persisted); `stored`: an existing record, reused as is. */
  origin: 'planned' | 'stored';
  /**
   * The edition's content: the plan this call made, or the one a record kept (its sections), from
   * which each topic choice's briefing is rendered; undefined for a record stored before it kept them.
   */
  edition: Edition | undefined;
  /** The stored record, when persisting or reusing one. */
  record: EditionRecord | undefined;
}

/** An edition ready to send (with its briefing), or skipped because nothing is new (with the message to print). */
export type OpenedEdition = (OpenedFields & { kind: 'ready'; briefing: Briefing }) | (OpenedFields & { kind: 'skipped'; message: string });

/** Later than any slot: `previousEdition(END_OF_TIME)` is the newest edition that went out. */
const END_OF_TIME = new Date(8.64e15);

/**
 * The newest edition that went out (sent or being sent), when its slot is later than `slot`: it
 * already told the stories an edition planned now for `slot` would tell again.
 */
export async function editionSentAfter(store: Pick<EditionStore, 'previousEdition'>, slot: Date): Promise<EditionRecord | undefined> {
  const latest = await store.previousEdition(END_OF_TIME);
  return latest !== undefined && latest.slot.getTime() > slot.getTime() ? latest : undefined;
}

/**
 * Finds or makes the edition a use case works on, for preview, send, run and schedule alike. A
 * record the run read for the slot is reused as it is (so a resumed send re-sends identical content
 * and two schedulers agree); otherwise the edition is planned from the previous sent edition's
 * cut-off and memory and rendered, and when persisting its record (memory and rendered briefing) is
 * created once thanks to the unique edition id. An edition with nothing new is skipped (recorded as
 * such) unless `edition.sendWhenEmpty`.
 */
export async function openEdition(deps: OpenEditionDeps, request: OpenEditionRequest): Promise<OpenedEdition> {
  const { config, store, clock } = deps;
  const zone = config.timeZone;
  const { id, slot } = request.target;
  if (request.stored !== undefined) return fromRecord(request.stored, zone);

  const previousRecord = await store.previousEdition(slot);
  const previous = previousRecord === undefined ? undefined : { cutoff: previousRecord.cutoff, memory: readStoredEdition(previousRecord.id, previousRecord.memory).memory };
  const now = clock.now();
  const edition = planEdition({
    id,
    slot,
    asOf: now,
    timeZone: zone,
    siteUrl: config.siteUrl,
    articles: deps.articles,
    topics: config.topics,
    settings: config.edition,
    previous,
  });
  const outline = outlineEdition(edition);
  const fields = { id, date: edition.date, slot, window: edition.window, outline, origin: 'planned' as const, edition };
  const stored = (briefing: Briefing | null): StoredEdition => ({
    version: 1,
    since: edition.window.since.toISOString(),
    memory: edition.memory,
    outline,
    briefing,
    ...(briefing === null ? {} : { sections: edition.sections }),
  });

  if (edition.empty && !config.edition.sendWhenEmpty) {
    const message = skipMessage(id, edition.window, zone, request.persist);
    if (!request.persist) {
      return { ...fields, kind: 'skipped', message, record: undefined };
    }
    const record = { id, slot, status: 'skipped' as const, cutoff: edition.window.until, subject: '', note: message, memory: stored(null) };
    return (await store.createEdition(record, now)) ? { ...fields, kind: 'skipped', message, record: { ...record, createdAt: now, updatedAt: now } } : reread(store, id, zone);
  }

  // Loaded here, not at the top: a send of a stored edition never renders, and starts sooner without them.
  const [{ renderBriefing }, { loadBriefingTemplates }] = await Promise.all([import('../email/render-briefing.js'), import('../email/briefing-templates.js')]);
  const templates = deps.templates ?? (await loadBriefingTemplates(config.paths.templates));
  const briefing = await renderBriefing(edition, { config, templates, ...(deps.renderer === undefined ? {} : { renderer: deps.renderer }) });
  if (!request.persist) {
    return { ...fields, kind: 'ready', briefing, record: undefined };
  }
  const record = { id, slot, status: 'planned' as const, cutoff: edition.window.until, subject: briefing.subject, note: null, memory: stored(briefing) };
  return (await store.createEdition(record, now)) ? { ...fields, kind: 'ready', briefing, record: { ...record, createdAt: now, updatedAt: now } } : reread(store, id, zone);
}

/** Another process created the record first: theirs is the edition. */
async function reread(store: OpenEditionDeps['store'], id: string, zone: string): Promise<OpenedEdition> {
  const record = await store.getEdition(id);
  if (record === undefined) {
    throw new Error(`edition ${id} was created but cannot be read back`);
  }
  return fromRecord(record, zone);
}

/** An edition as its record stored it. */
function fromRecord(record: EditionRecord, zone: string): OpenedEdition {
  const stored = readStoredEdition(record.id, record.memory);
  const date = DateTime.fromJSDate(record.slot, { zone }).toISODate() ?? record.id;
  const window = { since: new Date(stored.since), until: record.cutoff };
  const { sections } = stored;
  const edition =
    sections === undefined ? undefined : { id: record.id, date, slot: record.slot, window, sections, memory: stored.memory, empty: sections.length === 0 };
  const fields = { id: record.id, date, slot: record.slot, window, outline: stored.outline, origin: 'stored' as const, edition, record };
  if (record.status === 'skipped' || stored.briefing === null) {
    return { ...fields, kind: 'skipped', message: record.note ?? `edition ${record.id} was skipped` };
  }
  return { ...fields, kind: 'ready', briefing: stored.briefing };
}

/** Why an edition is skipped, and, when the skip is recorded, how to plan it again once content arrives. */
function skipMessage(id: string, window: EditionWindow, zone: string, recorded: boolean): string {
  const nothingNew = `edition ${id}: nothing new between ${formatZoneTime(window.since, zone)} and ${formatZoneTime(window.until, zone)}`;
  return recorded
    ? `${nothingNew}, so it is recorded as skipped (\`briefing send --date ${id} --replan\` plans it again; edition.sendWhenEmpty sends empty editions)`
    : `${nothingNew}, so it would be skipped (set edition.sendWhenEmpty to send empty editions)`;
}
