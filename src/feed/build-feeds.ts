import type { Article } from '../content/article.js';
import { FEED_FORMATS, absoluteUrl, archiveFeedPath, currentFeedPath, type FeedFormat } from './feed-links.js';
import { renderAtom } from './atom-document.js';
import type { FeedDocument } from './feed-document.js';
import { toFeedEntry } from './feed-entry.js';
import { feedPagePath, planFeedPages, type FeedPage } from './feed-pages.js';
import type { FeedSite } from './feed-site.js';
import { renderJsonFeed } from './json-feed-document.js';
import { renderRss } from './rss-document.js';

/** The feed files of a build (UTF-8 bytes), by path relative to output/. */
export interface FeedFiles {
  files: Map<string, Buffer>;
}

const EPOCH = new Date(0);

/** Renders one feed page (subscription feed or archive page) in the three formats, by path. */
export function renderFeedPage(page: FeedPage, site: FeedSite): Map<string, Buffer> {
  const entries = page.articles.map((article) => toFeedEntry(article, site));
  const newest = entries.reduce((latest, entry) => Math.max(latest, entry.updated.getTime()), EPOCH.getTime());
  const url = (relative: string): string => absoluteUrl(site.siteUrl, relative);
  const documentIn = (format: FeedFormat): FeedDocument => ({
    entries,
    updated: new Date(newest),
    self: url(feedPagePath(format, page)),
    current: url(currentFeedPath(format)),
    prevArchive: page.prevArchive === undefined ? undefined : url(archiveFeedPath(format, page.prevArchive)),
    nextArchive: page.nextArchive === undefined ? undefined : url(archiveFeedPath(format, page.nextArchive)),
    archive: page.kind === 'archive',
  });
  // One Atom id for the whole logical feed: archive pages are parts of it (RFC 5005).
  const atomFeedId = url(currentFeedPath('atom'));
  const renderers: Record<FeedFormat, (document: FeedDocument) => Buffer> = {
    rss: (document) => renderRss(document, site),
    atom: (document) => renderAtom(document, site, atomFeedId),
    json: (document) => renderJsonFeed(document, site),
  };
  return new Map(FEED_FORMATS.map((format) => [feedPagePath(format, page), renderers[format](documentIn(format))]));
}

/**
 * Builds every feed file: `feed.xml` (RSS 2.0), `atom.xml` (Atom 1.0) and `feed.json` (JSON Feed 1.1)
 * with the newest articles, and the archive pages that hold the rest. Pure: the same articles and
 * site give the same bytes.
 */
export function buildFeeds(articles: readonly Article[], site: FeedSite): FeedFiles {
  const files = new Map<string, Buffer>();
  for (const page of planFeedPages(articles, site.feed)) {
    for (const [path, text] of renderFeedPage(page, site)) files.set(path, text);
  }
  return { files };
}
