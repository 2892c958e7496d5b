/**
 * Where every generated file lives in output/ and at which absolute URL it is published. The feeds,
 * the pages and the incremental build all take their paths from here (the feeds' own from
 * feed/feed-links.ts, re-exported so the site's map stays in one place), so links and files agree.
 */

import { ARCHIVE_FOLDER, ARTICLES_FOLDER, EDITIONS_FOLDER } from '../feed/feed-links.js';

export {
  ARCHIVE_FOLDER,
  ARTICLES_FOLDER,
  EDITIONS_FOLDER,
  FEED_FORMATS,
  FEED_MEDIA_TYPES,
  absoluteUrl,
  archiveFeedPath,
  articlePageHref,
  currentFeedPath,
  editionHref,
  editionsFeedPath,
  type FeedFormat,
} from '../feed/feed-links.js';

/**
 * Path of the site's archive page `page`: the HTML twin of archive feed page `page`, with the same
 * articles, so a page keeps its articles (and its bytes) when newer ones arrive.
 */
export function archivePagePath(page: number): string {
  return `${ARCHIVE_FOLDER}/page-${page}.html`;
}

/** Path of an article's page: the file name is the article id, which never changes. */
export function articlePagePath(articleId: string): string {
  return `${ARTICLES_FOLDER}/${articleId}.html`;
}

/** The article id whose page is at `path` (the inverse of articlePagePath), if it is an article page's path. */
export function articleIdOfPagePath(path: string): string | undefined {
  const prefix = `${ARTICLES_FOLDER}/`;
  return path.startsWith(prefix) && path.endsWith('.html') && !path.includes('/', prefix.length) ? path.slice(prefix.length, -'.html'.length) : undefined;
}

/** The list of editions, newest first. */
export const EDITIONS_INDEX_PATH = `${EDITIONS_FOLDER}/index.html`;

/** Path of the record a sent edition leaves beside its web version, from which the index and feeds are made. */
export function editionRecordPath(editionId: string): string {
  return `${EDITIONS_FOLDER}/${editionId}/edition.json`;
}

/** The site's home page. */
export const INDEX_PATH = 'index.html';

/** The one style sheet of the pages (no inline styles, so a strict CSP holds). */
export const STYLESHEET_PATH = 'style.css';
