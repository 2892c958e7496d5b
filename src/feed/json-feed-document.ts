import { Feed, type Author, type Extension } from 'feed';
import type { FeedDocument } from './feed-document.js';
import type { FeedSite } from './feed-site.js';

const JSON_FEED_1_1 = 'https://jsonfeed.org/version/1.1';

/**
 * A JSON Feed member `feed` has no option for. `feed` assigns an extension's `objects` as the member's
 * value after its own members (so `version` replaces its 1.0 one), whatever the value's type; its type
 * declaration is narrower than that. Going through its object keeps JSON.stringify the only serialiser,
 * and costs nothing, where parsing and re-serialising its output doubled the JSON feed's time.
 */
function member(name: string, value: unknown): Extension {
  return { name, objects: value as Extension['objects'] };
}

/**
 * Serialises a feed document as JSON Feed 1.1: `feed` writes 1.0, so the version, `authors`,
 * `language` and `next_url` (the older archive page) are given as members. The 1.0 `author` stays,
 * as JSON Feed 1.1 allows for older readers.
 */
export function renderJsonFeed(document: FeedDocument, site: FeedSite): string {
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
  feed.addExtension(member('version', JSON_FEED_1_1));
  feed.addExtension(member('language', site.language));
  feed.addExtension(member('authors', authors));
  if (document.prevArchive !== undefined) feed.addExtension(member('next_url', document.prevArchive));
  for (const entry of document.entries) {
    feed.addItem({
      title: entry.title,
      id: entry.id,
      link: entry.link,
      date: entry.updated,
      published: entry.published,
      description: entry.summary,
      content: entry.contentHtml,
      ...(entry.imageUrl === undefined ? {} : { image: entry.imageUrl }),
      category: entry.categories.map((category) => ({ name: category.label })),
      // The record's source is who the item is by; the publication's desk when it has none.
      author: entry.authors.length > 0 ? [{ name: entry.authors[0] as string }] : [author],
      extensions: [
        member('authors', entry.authors.length > 0 ? entry.authors.map((name) => ({ name })) : authors),
        // Every picture, with its type and alt text as title; its size is unknown without fetching it, so left out (optional).
        ...(entry.images.length === 0 ? [] : [member('attachments', entry.images.map((image) => ({ url: image.url, mime_type: image.type, title: image.alt })))]),
      ],
    });
  }
  return `${feed.json1()}\n`;
}
