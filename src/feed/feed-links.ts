/**
 * Where the feeds live and what they link to, relative to the site root. The feeds need these to
 * write their own links, and output/site-paths.ts builds the rest of the site's map on them, so a
 * feed's links and the files the build writes agree.
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

/** Folder of the archive feeds and pages. */
export const ARCHIVE_FOLDER = 'archive';

/** Folder of the article pages. */
export const ARTICLES_FOLDER = 'articles';

/** Folder of the editions' web versions, their index and the editions feeds. */
export const EDITIONS_FOLDER = 'editions';

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

/** Path of the editions feed of a format: the briefing itself, to follow in a feed reader. */
export function editionsFeedPath(format: FeedFormat): string {
  return `${EDITIONS_FOLDER}/${CURRENT_FEED_PATHS[format]}`;
}

/** URL path (percent-encoded, relative to the site root) of an article's page. */
export function articlePageHref(articleId: string): string {
  return `${ARTICLES_FOLDER}/${encodeURIComponent(articleId)}.html`;
}

/** URL path (relative to the site root) of an edition's web version. */
export function editionHref(editionId: string): string {
  return `${EDITIONS_FOLDER}/${encodeURIComponent(editionId)}/`;
}

/** Absolute URL of a path relative to the site root; `siteUrl` ends with a slash (config makes sure). */
export function absoluteUrl(siteUrl: string, relativeHref: string): string {
  return new URL(relativeHref, siteUrl).href;
}
