/**
 * Where every generated file lives in output/ and at which absolute URL it is published. The feeds,
 * the pages and the incremental build all take their paths from here, so links and files agree.
 */

/** The three feed formats the site publishes. */
export type FeedFormat = 'rss' | 'atom' | 'json';

/** Feed formats in the order they are written and listed. */
export const FEED_FORMATS: readonly FeedFormat[] = ['rss', 'atom', 'json'];

/** Media type of each feed format, for `<link rel="alternate">` and `atom:link`. */
export const FEED_MEDIA_TYPES: Readonly<Record<FeedFormat, string>> = {
  rss: 'application/rss+xml',
  atom: 'application/atom+xml',
  json: 'application/feed+json',
};

const CURRENT_FEED_PATHS: Readonly<Record<FeedFormat, string>> = {
  rss: 'feed.xml',
  atom: 'atom.xml',
  json: 'feed.json',
};

/** Path of the subscription feed of a format, relative to output/. */
export function currentFeedPath(format: FeedFormat): string {
  return CURRENT_FEED_PATHS[format];
}

/**
 * Path of archive page `page` (1 = the oldest articles) of a format. All archive pages sit in one
 * folder so an incremental build learns which exist with a single directory listing.
 */
export function archiveFeedPath(format: FeedFormat, page: number): string {
  const [stem, extension] = CURRENT_FEED_PATHS[format].split('.') as [string, string];
  return `${ARCHIVE_FOLDER}/${stem}-${page}.${extension}`;
}

/**
 * Path of the site's archive page `page`: the HTML twin of archive feed page `page`, with the same
 * articles, so a page keeps its articles (and its bytes) when newer ones arrive.
 */
export function archivePagePath(page: number): string {
  return `${ARCHIVE_FOLDER}/page-${page}.html`;
}

/** Folder of the archive feeds and pages. */
export const ARCHIVE_FOLDER = 'archive';

/** Folder of the article pages. */
export const ARTICLES_FOLDER = 'articles';

/** Path of an article's page: the file name is the article id, which never changes. */
export function articlePagePath(articleId: string): string {
  return `${ARTICLES_FOLDER}/${articleId}.html`;
}

/** URL path (percent-encoded, relative to the site root) of an article's page. */
export function articlePageHref(articleId: string): string {
  return `${ARTICLES_FOLDER}/${encodeURIComponent(articleId)}.html`;
}

/** Folder of the editions' web versions, their index and the editions feeds. */
export const EDITIONS_FOLDER = 'editions';

/** The list of editions, newest first. */
export const EDITIONS_INDEX_PATH = `${EDITIONS_FOLDER}/index.html`;

/** Path of the editions feed of a format: the briefing itself, to follow in a feed reader. */
export function editionsFeedPath(format: FeedFormat): string {
  return `${EDITIONS_FOLDER}/${CURRENT_FEED_PATHS[format]}`;
}

/** Path of the record a sent edition leaves beside its web version, from which the index and feeds are made. */
export function editionRecordPath(editionId: string): string {
  return `${EDITIONS_FOLDER}/${editionId}/edition.json`;
}

/** URL path (relative to the site root) of an edition's web version. */
export function editionHref(editionId: string): string {
  return `${EDITIONS_FOLDER}/${encodeURIComponent(editionId)}/`;
}

/** The site's home page. */
export const INDEX_PATH = 'index.html';

/** The one style sheet of the pages (no inline styles, so a strict CSP holds). */
export const STYLESHEET_PATH = 'style.css';

/** Absolute URL of a path relative to the site root; `siteUrl` ends with a slash (config makes sure). */
export function absoluteUrl(siteUrl: string, relativeHref: string): string {
  return new URL(relativeHref, siteUrl).href;
}
