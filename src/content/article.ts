/** An illustration of an article; `url` may be absent for imported photos known only by caption. */
export interface ArticleImage {
  url?: string;
  alt: string;
  caption?: string;
  credit?: string;
  /** Heading of the section the image sits in (null: before the first subheading). */
  section?: string | null;
}

/** A video the source article embedded (`WATCH` blocks). */
export interface ArticleVideo {
  title: string;
  intro?: string;
  age?: string;
  duration?: string;
  description?: string;
  url?: string;
  section?: string | null;
}

/** One paragraph (or list, quote…) of a section, as Markdown, sanitised HTML and plain text. */
export interface ArticleBlock {
  markdown: string;
  html: string;
  text: string;
}

/** A run of the body under one `## Subheading` (or before the first one, heading null). */
export interface ArticleSection {
  heading: string | null;
  blocks: ArticleBlock[];
  /** Topic ids of this section: from the record's front matter when given, else the topic rules. */
  topics: string[];
}

/** One news record from `content/`, validated and rendered. */
export interface Article {
  /** From the file name; never changes. */
  id: string;
  /** Path of the record as shown in errors (relative to the working directory). */
  file: string;
  title: string;
  published: Date;
  updated?: Date;
  source: string;
  url?: string;
  /** Link to the original story the record was written from (imported records). */
  sourceUrl?: string;
  /** The source's section label above its headline (e.g. "World"), kept by the importer. */
  kicker?: string;
  /** Topic ids of the whole article (front matter, or the union of the sections' topics). */
  topics: string[];
  summary: string;
  image?: ArticleImage;
  images: ArticleImage[];
  videos: ArticleVideo[];
  /** Trailers such as "With files from CBC News". */
  credits: string[];
  /** Markdown body as written. */
  body: string;
  /** Sanitised HTML of the whole body. */
  html: string;
  sections: ArticleSection[];
  /** Hash of the record's bytes: changes whenever the file does. */
  contentHash: string;
}

/** A section as the site shows it: of each block, only its HTML. */
export type SiteSection = Omit<ArticleSection, 'blocks'> & { blocks: Array<Pick<ArticleBlock, 'html'>> };

/**
 * An article as the site's pages and feeds show it: all of it but its Markdown and, of each block,
 * all but its HTML. A build keeps what it parsed in this form until the pages are written.
 */
export type SiteArticle = Omit<Article, 'body' | 'sections'> & { sections: SiteSection[] };

/** The time an article last changed: `updated` when present, else `published`. */
export function lastChanged(article: Pick<Article, 'published' | 'updated'>): Date {
  return article.updated ?? article.published;
}
