/**
 * The views the site templates are rendered with: site-pages.ts builds them, site-templates.ts types
 * its render functions with them, so neither has to import the other.
 */

/** The publication as every page shows it: names, direction, feed links. */
export interface SiteView {
  title: string;
  description: string;
  language: string;
  direction: 'ltr' | 'rtl';
  /** Relative path from the page to the site root (`./` or `../`), so pages work wherever they are served. */
  base: string;
  /** Absolute URL of the home page. */
  url: string;
  /** Feed autodiscovery and feed links, relative to the page (absolute links would leave a local `serve`). */
  feeds: FeedLinkView[];
  /** The editions' index and the feeds of the briefing itself. */
  editions: { href: string; feeds: FeedLinkView[] };
  /** The configured topics, which the subscribe form offers as boxes when there are two or more. */
  topics: Array<{ id: string; title: string }>;
}

/** One feed link of a page (autodiscovery and visible link). */
export interface FeedLinkView {
  type: string;
  title: string;
  label: string;
  href: string;
}

/**
 * One entry of an archive page's list of archive pages: a link, the page itself (`current`), or a
 * gap (`gap`) where a run of pages is left out.
 */
export interface ArchivePageLink {
  number: number;
  href: string;
  current: boolean;
  gap: boolean;
}

/** A time as the pages show it. */
export interface TimeView {
  /** ISO 8601 with the publication zone's offset, for `<time datetime>`. */
  iso: string;
  /** Date and time as readers of the publication's language write them, in its zone, with the zone's abbreviation. */
  text: string;
  /** The date alone, e.g. "23 Jul 2025". */
  date: string;
}

/** A picture with its caption and credit. */
export interface FigureView {
  url: string | undefined;
  alt: string;
  caption: string | undefined;
  credit: string | undefined;
}

/** A video: its age as the source wrote it ("10 days ago") is left out, it would be frozen in a static page. */
export interface VideoView {
  title: string;
  intro: string | undefined;
  duration: string | undefined;
  description: string | undefined;
  url: string | undefined;
}

/** The view the index template gets, for the home page and for each archive page. */
export interface IndexPageView {
  site: SiteView;
  /** Absolute URL of this page. */
  canonical: string;
  /** Set on an archive page (`archive/page-N.html`), absent on the home page: its number, the dates it spans and every page. */
  archive: { number: number; from: TimeView | undefined; to: TimeView | undefined; sameDay: boolean; pages: ArchivePageLink[] } | undefined;
  /** Links (relative to this page) to the pages with the next newer and the next older articles, if any. */
  pages: { newer: string | undefined; older: string | undefined } | undefined;
  articles: Array<{ title: string; href: string; published: TimeView; source: string; summary: string; topics: string[] }>;
}

/** The view the editions template gets: the sent editions, newest first. */
export interface EditionsPageView {
  site: SiteView;
  canonical: string;
  editions: Array<{ href: string; subject: string; preheader: string; date: TimeView }>;
}

/** The view the article template gets; `blocks[].html` is the loader's sanitised HTML. */
export interface ArticlePageView {
  site: SiteView;
  article: {
    title: string;
    kicker: string | undefined;
    summary: string;
    canonical: string;
    published: TimeView;
    updated: TimeView | undefined;
    source: string;
    sourceUrl: string | undefined;
    /** False when a credit already names the source ("With files from CBC News"). */
    showSource: boolean;
    topics: string[];
    leadImage: FigureView | undefined;
    sections: Array<{ heading: string | null; blocks: Array<{ html: string }>; images: FigureView[]; videos: VideoView[] }>;
    credits: string[];
  };
}
