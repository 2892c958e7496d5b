import { Feed, type Author } from 'feed';
import { feedExtension, holdContents } from './feed-package-adapter.js';
import type { FeedDocument } from './feed-document.js';
import type { FeedSite } from './feed-site.js';

const JSON_FEED_1_1 = 'https://jsonfeed.org/version/1.1';

/**
 * Serialises a feed document as JSON Feed 1.1: `feed` writes 1.0, so the version, `authors`,
 * `language` and `next_url` (the older archive page) are given as members. The 1.0 `author` stays,
 * as JSON Feed 1.1 allows for older readers.
 */
export function renderJsonFeed(document: FeedDocument, site: FeedSite): Buffer {
  const author: Author = { name: site.author.name, ...(site.author.url === undefined ? {} : { link: site.author.url }) };
  const authors = [{ name: site.author.name, ...(site.author.url === undefined ? {} : { url: site.author.url }) }];
  const feed = new Feed({
    title: site.title,
    description: site.description,
    link: site.siteUrl,
    feedLinks: { json: document.self },
    updated: document.updated,
    generator: false,
    author,
  });
  const contents = holdContents('json');
  feed.addExtension(feedExtension('version', JSON_FEED_1_1));
  feed.addExtension(feedExtension('language', site.language));
  feed.addExtension(feedExtension('authors', authors));
  if (document.prevArchive !== undefined) feed.addExtension(feedExtension('next_url', document.prevArchive));
  for (const entry of document.entries) {
    feed.addItem({
      title: entry.title,
      id: entry.id,
      link: entry.link,
      date: entry.updated,
      published: entry.published,
      description: entry.summary,
      content: contents.hold(entry.contentHtml),
      ...(entry.imageUrl === undefined ? {} : { image: entry.imageUrl }),
      category: entry.categories.map((category) => ({ name: category.label })),
      // The record's source is who the item is by; the publication's desk when it has none.
      author: entry.authors.length > 0 ? [{ name: entry.authors[0] as string }] : [author],
      extensions: [
        feedExtension('authors', entry.authors.length > 0 ? entry.authors.map((name) => ({ name })) : authors),
        // Every picture, with its type and alt text as title; its size is unknown without fetching it, so left out (optional).
        ...(entry.images.length === 0 ? [] : [feedExtension('attachments', entry.images.map((image) => ({ url: image.url, mime_type: image.type, title: image.alt })))]),
      ],
    });
  }
  return contents.place(`${feed.json1()}\n`);
}
