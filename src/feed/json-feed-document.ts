import { Feed, type Author } from 'feed';
import { BriefingError } from '../errors.js';
import type { FeedDocument } from './feed-document.js';
import type { FeedSite } from './feed-site.js';

type JsonObject = Record<string, unknown>;
interface JsonAuthor {
  name?: string;
  url?: string;
}

/** What `feed` writes as JSON Feed 1.0 and this module turns into 1.1. */
interface JsonFeed10 extends JsonObject {
  author?: JsonAuthor;
  items: Array<JsonObject & { author?: JsonAuthor }>;
}

function isJsonFeed10(value: unknown): value is JsonFeed10 {
  return typeof value === 'object' && value !== null && Array.isArray((value as JsonObject).items);
}

/** `author` (1.0) becomes `authors` (1.1); the rest of the object keeps its fields and order. */
function withAuthors<T extends { author?: JsonAuthor }>(object: T): Omit<T, 'author'> & { authors?: JsonAuthor[] } {
  const { author, ...rest } = object;
  return author === undefined ? rest : { ...rest, authors: [author] };
}

/**
 * Serialises a feed document as JSON Feed 1.1: `feed` writes 1.0, so its output is parsed and given
 * the 1.1 version, `authors` instead of `author`, `language`, and `next_url` to the older archive page.
 */
export function renderJsonFeed(document: FeedDocument, site: FeedSite): string {
  const author: Author = { name: site.author.name, ...(site.author.url === undefined ? {} : { link: site.author.url }) };
  const feed = new Feed({
    title: site.title,
    description: site.description,
    link: site.siteUrl,
    feedLinks: { json: document.self },
    updated: document.updated,
    generator: false,
    author,
  });
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
      author: [author],
    });
  }
  const parsed: unknown = JSON.parse(feed.json1());
  if (!isJsonFeed10(parsed)) {
    throw new BriefingError('feed', 'unexpected-feed-document', 'the feed package wrote a JSON feed without items');
  }
  const { items, ...head } = parsed;
  const upgraded = {
    ...withAuthors(head),
    version: 'https://jsonfeed.org/version/1.1',
    language: site.language,
    ...(document.prevArchive === undefined ? {} : { next_url: document.prevArchive }),
    items: items.map((item) => withAuthors(item)),
  };
  return `${JSON.stringify(upgraded, null, 2)}\n`;
}
