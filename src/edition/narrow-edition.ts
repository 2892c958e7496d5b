import type { Edition } from './edition.js';
import { GENERAL_SECTION_ID } from './plan-edition.js';

/** Who gets the general section (news matching no topic) among readers of chosen topics. */
export type GeneralSectionReaders = 'everyone' | 'every-topic';

/** What narrowing needs to know of the publication: its topic ids now, and the general section's rule. */
export interface NarrowSettings {
  topicIds: readonly string[];
  generalSectionReaders: GeneralSectionReaders;
}

/**
 * The edition a reader of `topics` gets (null: every topic): the sections of their topics, plus the
 * general section unless it is kept for readers of every topic. A choice that names every configured
 * topic reads the whole edition, as null does; ids no longer configured match nothing. Returns null
 * when none of the chosen topics has news: the general section alone is no reason to mail anyone.
 */
export function narrowEdition(edition: Edition, topics: readonly string[] | null, settings: NarrowSettings): Edition | null {
  if (topics === null || settings.topicIds.every((id) => topics.includes(id))) return edition;
  // Only configured topics count: a retired id, or the general section's own id, chooses nothing.
  const chosen = new Set(topics.filter((id) => settings.topicIds.includes(id)));
  const sections = edition.sections.filter((section) => chosen.has(section.id));
  if (sections.length === 0) return null;
  const general = settings.generalSectionReaders === 'everyone' ? edition.sections.filter((section) => section.id === GENERAL_SECTION_ID) : [];
  return { ...edition, sections: [...sections, ...general], empty: false };
}
