import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { BriefingsForChoices, ChoiceBriefing } from '../delivery/deliver-edition.js';
import type { Briefing } from '../email/briefing.js';
import type { BriefingTemplates } from '../email/briefing-templates.js';
import type { Edition } from '../edition/edition.js';
import { narrowEdition, type NarrowSettings } from '../edition/narrow-edition.js';
import type { TopicChoice } from '../store/store.js';
import type { OpenedEdition } from './open-edition.js';

/** What making the briefings of topic choices needs. */
export interface TopicBriefingParts {
  config: Config;
  logger: Pick<Logger, 'info'>;
  /** Loaded from `config.paths.templates` when a choice needs a render and none is given. */
  templates?: BriefingTemplates;
}

/** How the publication narrows an edition to a topic choice: its topics now, and who reads the general section. */
export function narrowSettings(config: Pick<Config, 'topics' | 'edition'>): NarrowSettings {
  return { topicIds: config.topics.map((topic) => topic.id), generalSectionReaders: config.edition.generalSectionReaders };
}

/** Why a choice's deliveries are skipped: "nothing for topics protests, war". */
function nothingFor(topics: readonly string[]): string {
  return `nothing for topics ${topics.join(', ')}`;
}

/**
 * The briefing of each topic choice of an opened edition: every topic (null, or a choice naming all
 * of them) gets the edition's own briefing; another choice its edition narrowed to its topics, all
 * of them rendered in one MJML compile, or nothing when none of its topics has news. A record stored
 * before editions kept their sections gives every choice the full briefing, and says so once.
 */
export async function topicBriefings(parts: TopicBriefingParts, opened: OpenedEdition & { kind: 'ready' }, choices: readonly TopicChoice[]): Promise<ChoiceBriefing[]> {
  const { config } = parts;
  const edition = opened.edition;
  if (edition === undefined) {
    if (choices.some((topics) => topics !== null)) {
      parts.logger.info({ edition: opened.id }, `edition ${opened.id} was stored before editions kept their sections: every topic choice gets the full briefing`);
    }
    return choices.map((topics) => ({ topics, briefing: opened.briefing }));
  }
  const settings = narrowSettings(config);
  const narrowed = choices.map((topics) => ({ topics, edition: narrowEdition(edition, topics, settings) }));
  const toRender = narrowed.filter((entry): entry is { topics: TopicChoice; edition: Edition } => entry.edition !== null && entry.edition !== edition);
  // The renderer's modules are loaded only when a choice needs its own render (most sends have none).
  const rendered = toRender.length === 0 ? [] : await renderChoices(parts, toRender.map((entry) => entry.edition));
  if (rendered.length > 0) {
    parts.logger.info({ edition: opened.id, choices: choices.length, rendered: rendered.length }, `edition ${opened.id}: ${rendered.length} topic briefings rendered in one MJML compile for ${choices.length} topic choices`);
  }
  const briefingOf = new Map<Edition, Briefing>(toRender.map((entry, index) => [entry.edition, rendered[index] as Briefing]));
  return narrowed.map(({ topics, edition: variant }) => {
    if (variant === null) return { topics, skip: nothingFor(topics ?? []) };
    return { topics, briefing: briefingOf.get(variant) ?? opened.briefing };
  });
}

async function renderChoices(parts: TopicBriefingParts, editions: readonly Edition[]): Promise<Briefing[]> {
  const [{ renderBriefingEmails }, { loadBriefingTemplates }] = await Promise.all([import('../email/render-briefing.js'), import('../email/briefing-templates.js')]);
  const templates = parts.templates ?? (await loadBriefingTemplates(parts.config.paths.templates));
  return renderBriefingEmails(editions, { config: parts.config, templates });
}

/** topicBriefings for a send: the function deliverEdition asks once it knows the choices. */
export function briefingsForOpened(parts: TopicBriefingParts, opened: OpenedEdition & { kind: 'ready' }): BriefingsForChoices {
  return (choices) => topicBriefings(parts, opened, choices);
}
