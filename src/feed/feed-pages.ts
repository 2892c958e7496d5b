import type { SiteArticle } from '../content/article.js';
import { archiveFeedPath, currentFeedPath, type FeedFormat } from './feed-links.js';

/** What places an article among the others: when it was published, and its id for ties. */
export type DatedArticle = Pick<SiteArticle, 'id' | 'published'>;

/**
 * One feed document: the subscription feed or one archive page (RFC 5005), in every format. Its
 * articles are whole ones to render, or only their dates and ids (with whatever else) to plan with.
 */
export interface FeedPage<A extends DatedArticle = SiteArticle> {
  kind: 'current' | 'archive';
  /** Archive page number, 1 for the oldest articles; 0 for the subscription feed. */
  number: number;
  /** The page's articles, newest first. */
  articles: readonly A[];
  /** The archive page with the articles just older than these (`prev-archive`), if any. */
  prevArchive: number | undefined;
  /** The archive page with the articles just newer than these (`next-archive`), if any. */
  nextArchive: number | undefined;
}

/** Newest first by publication; the id breaks ties so the order never depends on the input's. */
export function compareNewestFirst(a: DatedArticle, b: DatedArticle): number {
  const byDate = b.published.getTime() - a.published.getTime();
  if (byDate !== 0) return byDate;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Splits the articles into the subscription feed (the newest `items`) and archive pages of
 * `archivePageSize`. Pages are counted from the oldest article, so a full page keeps its number and
 * its articles when new ones arrive; only the newest archive page fills up. Returns the subscription
 * feed first, then the archive pages from the newest to the oldest.
 */
export function planFeedPages<A extends DatedArticle>(articles: readonly A[], settings: { items: number; archivePageSize: number }): Array<FeedPage<A>> {
  const newestFirst = [...articles].sort(compareNewestFirst);
  const current = newestFirst.slice(0, settings.items);
  const archivedOldestFirst = newestFirst.slice(settings.items).reverse();
  const pageCount = Math.ceil(archivedOldestFirst.length / settings.archivePageSize);
  const pages: Array<FeedPage<A>> = [
    { kind: 'current', number: 0, articles: current, prevArchive: pageCount > 0 ? pageCount : undefined, nextArchive: undefined },
  ];
  for (let number = pageCount; number >= 1; number -= 1) {
    const start = (number - 1) * settings.archivePageSize;
    pages.push({
      kind: 'archive',
      number,
      articles: archivedOldestFirst.slice(start, start + settings.archivePageSize).reverse(),
      prevArchive: number > 1 ? number - 1 : undefined,
      nextArchive: number < pageCount ? number + 1 : undefined,
    });
  }
  return pages;
}

/** Path (relative to output/ and to the site root) of a feed page in one format. */
export function feedPagePath(format: FeedFormat, page: Pick<FeedPage<DatedArticle>, 'kind' | 'number'>): string {
  return page.kind === 'current' ? currentFeedPath(format) : archiveFeedPath(format, page.number);
}
