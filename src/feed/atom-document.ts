import { Feed, type Author } from 'feed';
import { FEED_MEDIA_TYPES } from './feed-links.js';
import { FEED_HISTORY_NAMESPACE, archiveLinks, type FeedDocument } from './feed-document.js';
import { asFeedHtmlText, asFeedText, completeFeedDocument, holdContents } from './feed-package-adapter.js';
import type { FeedSite } from './feed-site.js';

function author(site: Pick<FeedSite, 'author'>): Author {
  return {
    name: asFeedText(site.author.name),
    ...(site.author.email === undefined ? {} : { email: asFeedText(site.author.email) }),
    ...(site.author.url === undefined ? {} : { link: site.author.url }),
  };
}

/** Serialises a feed document as Atom 1.0 (RFC 4287) with `xml:lang` and the RFC 5005 archive links. */
export function renderAtom(document: FeedDocument, site: FeedSite, feedId: string): Buffer {
  const feed = new Feed({
    id: asFeedText(feedId),
    title: asFeedText(site.title),
    description: asFeedText(site.description),
    link: site.siteUrl,
    feedLinks: { atom: document.self },
    updated: document.updated,
    generator: false,
    author: author(site),
  });
  const contents = holdContents('cdata');
  for (const entry of document.entries) {
    feed.addItem({
      // feed writes titles and summaries as type="html": escaped text is exactly the plain text.
      title: asFeedHtmlText(entry.title),
      id: entry.id,
      link: entry.link,
      date: entry.updated,
      published: entry.published,
      description: asFeedHtmlText(entry.summary),
      content: contents.hold(entry.contentHtml),
      // The record's source is who the entry is by; the publication's desk when it has none.
      author: entry.authors.length > 0 ? entry.authors.map((name) => ({ name: asFeedText(name) })) : [author(site)],
    });
  }
  // The contents go in last: completing the document then reads only what feed wrote around them.
  return contents.place(
    completeFeedDocument(
      feed.atom1(),
      { container: 'feed', entry: 'entry' },
      {
        rootAttributes: { 'xml:lang': site.language, ...(document.archive ? { 'xmlns:fh': FEED_HISTORY_NAMESPACE } : {}) },
        head: [
          ...archiveLinks(document).map((link) => ({ name: 'link', attributes: { rel: link.rel, type: FEED_MEDIA_TYPES.atom, href: link.href } })),
          ...(document.archive ? [{ name: 'fh:archive', attributes: {} }] : []),
        ],
        // Categories (feed would write the label with `<` unescaped) and every picture as an enclosure
        // (feed takes one and guesses its type): Atom entries take no extensions.
        entries: document.entries.map((entry) => [
          ...entry.categories.map((category) => ({ name: 'category', attributes: { term: category.term, label: category.label } })),
          ...entry.images.map((image) => ({ name: 'link', attributes: { rel: 'enclosure', type: image.type, href: image.url, title: image.alt } })),
        ]),
      },
    ),
  );
}
