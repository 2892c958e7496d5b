import type { ArticleBlock, ArticleImage, ArticleVideo } from '../content/article.js';

/** The time an edition covers: articles published or updated after `since`, up to and including `until`. */
export interface EditionWindow {
  since: Date;
  until: Date;
}

/** `new`: told for the first time; `updated`: a story told before (or earlier in this edition) that has moved on. */
export type EditionItemStatus = 'new' | 'updated';

/** The untold paragraphs of one article section, as one entry of an edition section. */
export interface EditionItem {
  articleId: string;
  title: string;
  /** Absolute: the article's canonical URL, else its archive page on the site. */
  url: string;
  source: string;
  published: Date;
  updated?: Date;
  status: EditionItemStatus;
  /** True when an earlier version of the story went out in an earlier edition (not just earlier in this one). */
  toldBefore: boolean;
  /** The article section's heading (null: the part before the first subheading). */
  heading: string | null;
  blocks: ArticleBlock[];
  images: ArticleImage[];
  videos: ArticleVideo[];
}

/** One topic of the edition (or the general section), in the order of the configured topics. */
export interface EditionSection {
  /** A topic id, or `general` for sections that match no topic. */
  id: string;
  title: string;
  items: EditionItem[];
}

/**
 * What the editions so far have told, so the next one does not repeat it. JSON-serialisable: it is
 * stored with the edition record and handed to the next planning.
 */
export interface EditionMemory {
  /** Paragraph (and image, video) fingerprint → date (`YYYY-MM-DD`) of the edition that told it. */
  told: Record<string, string>;
  /** Article id → version sent (ISO time of its last change). */
  sent: Record<string, string>;
}

/** One dated briefing's content: its window and its sections by topic. */
export interface Edition {
  /** `YYYY-MM-DD`, or a slot id when several editions a day are scheduled. */
  id: string;
  /** The slot's date in the publication time zone. */
  date: string;
  /** The scheduled time the edition belongs to. */
  slot: Date;
  window: EditionWindow;
  sections: EditionSection[];
  /** The previous memory plus what this edition tells. */
  memory: EditionMemory;
  /** True when nothing new is in the window. */
  empty: boolean;
}

/** The shape of an edition without its content: what status lines and stored records show. */
export interface EditionOutline {
  sections: Array<{ id: string; title: string; stories: number; paragraphs: number }>;
}

/** Counts the stories (distinct articles) and paragraphs of each section. */
export function outlineEdition(edition: Pick<Edition, 'sections'>): EditionOutline {
  return {
    sections: edition.sections.map((section) => ({
      id: section.id,
      title: section.title,
      stories: new Set(section.items.map((item) => item.articleId)).size,
      paragraphs: section.items.reduce((sum, item) => sum + item.blocks.length, 0),
    })),
  };
}
