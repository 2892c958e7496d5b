import { Feed } from 'feed';
import { FEED_MEDIA_TYPES } from './feed-links.js';
import { FEED_HISTORY_NAMESPACE, archiveLinks, type FeedDocument } from './feed-document.js';
import { asFeedHtmlText, asFeedText, completeFeedDocument, holdContents, rssItemExtensions } from './feed-package-adapter.js';
import type { FeedSite } from './feed-site.js';

const NAMESPACES = {
  'xmlns:dc': 'http://purl.org/dc/elements/1.1/',
  'xmlns:content': 'http://purl.org/rss/1.0/modules/content/',
  'xmlns:atom': 'http://www.w3.org/2005/Atom',
  'xmlns:media': 'http://search.yahoo.com/mrss/',
};

/**
 * Serialises a feed document as RSS 2.0 with content:encoded, dc:creator (the record's source), the
 * RFC 5005 archive links, `atom:updated` (the GUID stays while an updated story changes, so readers
 * keep their read state and can still see the change) and the pictures: the first as `<enclosure>`
 * (RSS allows one; its length is unknown without fetching it, and RSS readers accept 0 for that), each
 * as `media:content` with its alt text.
 */
export function renderRss(document: FeedDocument, site: FeedSite): Buffer {
  const feed = new Feed({
    title: asFeedText(site.title),
    description: asFeedText(site.description),
    link: site.siteUrl,
    language: asFeedText(site.language),
    feedLinks: { rss: document.self },
    updated: document.updated,
    generator: false,
  });
  const contents = holdContents('cdata');
  for (const entry of document.entries) {
    feed.addItem({
      title: entry.title,
      id: asFeedText(entry.id),
      link: entry.link,
      date: entry.updated,
      published: entry.published,
      description: asFeedHtmlText(entry.summary),
      content: contents.hold(entry.contentHtml),
      category: entry.categories.map((category) => ({ name: asFeedText(category.label) })),
      extensions: rssItemExtensions([
        // Replaces the CDATA title feed writes (xml-js would split only its first `]]>`) with escaped text.
        { name: 'title', attributes: {}, text: entry.title },
        { name: 'dc:creator', attributes: {}, text: entry.authors[0] ?? site.author.name },
        { name: 'atom:updated', attributes: {}, text: entry.updated.toISOString() },
        ...entry.images.slice(0, 1).map((image) => ({ name: 'enclosure', attributes: { url: image.url, length: '0', type: image.type } })),
        ...entry.images.map((image) => ({
          name: 'media:content',
          attributes: { url: image.url, type: image.type, medium: 'image' },
          children: image.alt === '' ? [] : [{ name: 'media:description', text: image.alt }],
        })),
      ]),
    });
  }
  // The contents go in last: completing the document then reads only what feed wrote around them.
  return contents.place(
    completeFeedDocument(
      feed.rss2(),
      { container: 'channel', entry: 'item' },
      {
        rootAttributes: { ...NAMESPACES, ...(document.archive ? { 'xmlns:fh': FEED_HISTORY_NAMESPACE } : {}) },
        head: [
          ...archiveLinks(document).map((link) => ({ name: 'atom:link', attributes: { rel: link.rel, type: FEED_MEDIA_TYPES.rss, href: link.href } })),
          ...(document.archive ? [{ name: 'fh:archive', attributes: {} }] : []),
        ],
      },
    ),
  );
}
