import { DateTime } from 'luxon';
import { lastChanged, type Article, type ArticleBlock, type ArticleImage, type ArticleSection } from '../content/article.js';
import type { Config, Topic } from '../config.js';
import type { Edition, EditionItem, EditionMemory, EditionSection } from './edition.js';
import { dateInZone } from './edition-slot.js';
import { fingerprintText } from './fingerprint.js';

/** Id of the section that collects article sections matching no topic. */
export const GENERAL_SECTION_ID = 'general';

/** How long memory keeps what was told: a story is not expected to resurface after two months. */
const MEMORY_DAYS = 60;

/** What planning needs to know about the edition before this one. */
export interface PreviousEdition {
  /** End of its window: this edition starts here. */
  cutoff: Date;
  memory: EditionMemory;
}

/** Everything an edition is planned from; planning does no I/O. */
export interface PlanEditionInput {
  id: string;
  slot: Date;
  /** When planning happens: the window never reaches past it (default: the slot). */
  asOf?: Date;
  timeZone: string;
  /** Base of archive links for articles without a canonical URL. */
  siteUrl: string;
  articles: readonly Article[];
  topics: ReadonlyArray<Pick<Topic, 'id' | 'title'>>;
  settings: Pick<Config['edition'], 'firstLookBackHours' | 'generalSection' | 'generalTitle'>;
  /** The last edition sent (or being sent); undefined for the first edition. */
  previous: PreviousEdition | undefined;
}

/**
 * Plans one edition: picks the articles changed in its window, routes each article section to a
 * topic, and tells every paragraph once across the edition and the editions before it.
 *
 * Two records can be versions of one story (a morning preview and an evening wrap-up share
 * paragraphs word for word). A record that repeats a paragraph already told, here or in an earlier
 * edition, by another record is treated as a new version of that story: it is marked `updated` and
 * only its new paragraphs are shown. So are records whose earlier version was sent. Records are read
 * oldest first so the later version is the one that loses the repeats, and shown newest first so
 * what is new leads.
 */
export function planEdition(input: PlanEditionInput): Edition {
  const { slot, timeZone, settings } = input;
  const date = dateInZone(slot, timeZone);
  const until = input.asOf !== undefined && input.asOf < slot ? input.asOf : slot;
  const since = input.previous?.cutoff ?? DateTime.fromJSDate(slot).minus({ hours: settings.firstLookBackHours }).toJSDate();
  const prior = pruneMemory(input.previous?.memory ?? { told: {}, sent: {} }, slot, timeZone);
  const within = (time: Date | undefined): boolean => time !== undefined && time > since && time <= until;

  const articles = input.articles
    .filter((article) => within(article.published) || within(article.updated))
    .sort(
      (a, b) =>
        lastChanged(a).getTime() - lastChanged(b).getTime() ||
        a.published.getTime() - b.published.getTime() ||
        a.id.localeCompare(b.id),
    );

  const topicTitles = new Map(input.topics.map((topic) => [topic.id, topic.title]));
  const routeSection = (section: ArticleSection): string | undefined =>
    section.topics.find((topic) => topicTitles.has(topic)) ?? (settings.generalSection ? GENERAL_SECTION_ID : undefined);

  /** Fingerprint → id of the article that told it in this edition. */
  const toldNow = new Map<string, string>();
  const sent: Record<string, string> = { ...prior.sent };
  const planned: Array<Array<{ sectionId: string; item: EditionItem }>> = [];

  for (const article of articles) {
    let repeatsOtherStory = false;
    let repeatsEarlierEdition = false;
    /** True when the fingerprint is new; records it as told by this article. */
    const tell = (fingerprint: string): boolean => {
      const teller = fingerprint in prior.told ? null : toldNow.get(fingerprint);
      if (teller === undefined) {
        toldNow.set(fingerprint, article.id);
        return true;
      }
      if (teller !== article.id) {
        repeatsOtherStory = true;
        repeatsEarlierEdition ||= teller === null;
      }
      return false;
    };
    const drafts: Array<{ sectionId: string; section: ArticleSection; blocks: ArticleBlock[] }> = [];
    for (const section of article.sections) {
      const sectionId = routeSection(section);
      if (sectionId !== undefined) {
        drafts.push({ sectionId, section, blocks: section.blocks.filter((block) => tell(fingerprintText(block.text))) });
      }
    }
    const version = lastChanged(article).toISOString();
    const toldBefore = article.id in prior.sent || repeatsEarlierEdition;
    const status = toldBefore || repeatsOtherStory ? 'updated' : 'new';
    const url = article.url ?? `${input.siteUrl}articles/${encodeURIComponent(article.id)}.html`;
    const pieces = drafts
      .filter((draft) => draft.blocks.length > 0)
      .map(({ sectionId, section, blocks }) => ({
        sectionId,
        item: {
          articleId: article.id,
          title: article.title,
          url,
          source: article.source,
          published: article.published,
          ...(article.updated === undefined ? {} : { updated: article.updated }),
          status,
          toldBefore,
          heading: section.heading,
          blocks,
          images: mediaOf(article, section, articleImages(article)).filter((image) => tell(imageFingerprint(image))),
          videos: mediaOf(article, section, article.videos).filter((video) => tell(fingerprintText(`video ${video.title}`))),
        } satisfies EditionItem,
      }));
    sent[article.id] = version;
    planned.push(pieces);
  }

  // Newest story first in every section, its parts in the article's order.
  const newestFirst = [...planned].reverse();
  const sectionIds = [...input.topics.map((topic) => topic.id), GENERAL_SECTION_ID];
  const sections: EditionSection[] = sectionIds
    .map((id) => ({
      id,
      title: topicTitles.get(id) ?? settings.generalTitle,
      items: newestFirst.flatMap((pieces) => pieces.filter((piece) => piece.sectionId === id).map((piece) => piece.item)),
    }))
    .filter((section) => section.items.length > 0);

  const told = { ...prior.told };
  for (const fingerprint of toldNow.keys()) {
    told[fingerprint] = date;
  }
  return { id: input.id, date, slot, window: { since, until }, sections, memory: { told, sent }, empty: sections.length === 0 };
}

/** The lead image (front matter) and the body's images; a repeat is dropped where it is told. */
function articleImages(article: Article): ArticleImage[] {
  return article.image === undefined ? article.images : [article.image, ...article.images];
}

/**
 * The media of one article section: those placed under its heading; media with no place at all
 * (a front-matter image) go with the article's first section.
 */
function mediaOf<Media extends { section?: string | null }>(article: Article, section: ArticleSection, media: readonly Media[]): Media[] {
  const first = article.sections[0] === section;
  return media.filter((entry) => (entry.section === undefined ? first : entry.section === section.heading));
}

function imageFingerprint(image: ArticleImage): string {
  return fingerprintText(`image ${image.url ?? ''} ${image.caption ?? image.alt}`);
}

/** Drops what was told (or sent) longer ago than MEMORY_DAYS, so memory stays small. */
function pruneMemory(memory: EditionMemory, slot: Date, zone: string): EditionMemory {
  const horizon = DateTime.fromJSDate(slot, { zone }).minus({ days: MEMORY_DAYS });
  const horizonDate = horizon.toISODate() ?? '';
  const horizonTime = horizon.toJSDate().getTime();
  return {
    told: Object.fromEntries(Object.entries(memory.told).filter(([, date]) => date >= horizonDate)),
    sent: Object.fromEntries(Object.entries(memory.sent).filter(([, version]) => Date.parse(version) >= horizonTime)),
  };
}
