import Handlebars from 'handlebars';
import { stripXmlIllegal } from '../content/plain-text.js';
import { FEED_FORMATS, absoluteUrl, editionHref, editionsFeedPath, type FeedFormat } from './feed-links.js';
import { renderAtom } from './atom-document.js';
import type { FeedDocument } from './feed-document.js';
import type { FeedEntry } from './feed-entry.js';
import type { FeedSite } from './feed-site.js';
import { renderJsonFeed } from './json-feed-document.js';
import { renderRss } from './rss-document.js';

/** What an editions feed item shows of a sent edition (output/'s published record has these and more). */
export interface FeedEdition {
  id: string;
  /** The scheduled time, ISO: the item's date, so a rebuild writes the same bytes. */
  slot: string;
  subject: string;
  preheader: string;
}

/** An edition's item content: its preheader and a link to its web version, escaped. */
const renderContent = Handlebars.create().compile<{ preheader: string; url: string }>('<p>{{preheader}}</p>\n<p><a href="{{url}}">Read this edition</a></p>', {
  knownHelpersOnly: true,
});

/** An edition as a feed entry: its web version is both its id and its link; it never changes once sent. */
function editionEntry(edition: FeedEdition, siteUrl: string): FeedEntry {
  const url = absoluteUrl(siteUrl, editionHref(edition.id));
  const slot = new Date(edition.slot);
  return {
    id: url,
    link: url,
    title: stripXmlIllegal(edition.subject),
    summary: stripXmlIllegal(edition.preheader),
    contentHtml: stripXmlIllegal(renderContent({ preheader: edition.preheader, url })),
    published: slot,
    updated: slot,
    categories: [],
    imageUrl: undefined,
    authors: [],
    images: [],
  };
}

/** Newest edition first (by slot, then id): the order of the editions feeds and index. */
export function newestEditionFirst(a: Pick<FeedEdition, 'slot' | 'id'>, b: Pick<FeedEdition, 'slot' | 'id'>): number {
  return b.slot.localeCompare(a.slot) || b.id.localeCompare(a.id);
}

/**
 * The editions feeds (`editions/feed.xml`, `editions/atom.xml`, `editions/feed.json`): the
 * briefing itself, newest edition first, so a reader can follow it in a feed reader. Pure: the same
 * records give the same bytes.
 */
export function renderEditionFeeds(editions: readonly FeedEdition[], site: FeedSite): Map<string, Buffer> {
  const newestFirst = [...editions].sort(newestEditionFirst);
  const entries = newestFirst.map((edition) => editionEntry(edition, site.siteUrl));
  const editionsSite: FeedSite = { ...site, title: `${site.title}: editions` };
  const url = (format: FeedFormat): string => absoluteUrl(site.siteUrl, editionsFeedPath(format));
  const documentIn = (format: FeedFormat): FeedDocument => ({
    entries,
    updated: entries[0]?.updated ?? new Date(0),
    self: url(format),
    current: url(format),
    prevArchive: undefined,
    nextArchive: undefined,
    archive: false,
  });
  const renderers: Record<FeedFormat, (document: FeedDocument) => Buffer> = {
    rss: (document) => renderRss(document, editionsSite),
    atom: (document) => renderAtom(document, editionsSite, url('atom')),
    json: (document) => renderJsonFeed(document, editionsSite),
  };
  return new Map(FEED_FORMATS.map((format) => [editionsFeedPath(format), renderers[format](documentIn(format))]));
}
