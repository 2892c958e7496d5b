import { createHash } from 'node:crypto';
import type { Article } from '../../src/content/article.js';
import type { FeedSite } from '../../src/feed/feed-site.js';

/** A publication as the feeds and pages see it (the fields of Config they read). */
export const testSite = {
  title: 'Briefing',
  description: 'A daily briefing on the talks.',
  siteUrl: 'https://briefing.example.org/',
  language: 'en',
  direction: 'ltr' as const,
  timeZone: 'Europe/Kyiv',
  author: { name: 'Briefing desk', email: 'desk@briefing.example.org' },
  topics: [
    { id: 'talks', title: 'Peace talks', match: [], minMatches: 1 },
    { id: 'protests', title: 'Protests in Ukraine', match: [], minMatches: 1 },
  ],
  feed: { items: 3, archivePageSize: 2 },
} satisfies FeedSite & Record<string, unknown>;

/** An article with plausible defaults; `contentHash` follows whatever fields are given. */
export function makeArticle(fields: Partial<Article> & { id: string }): Article {
  const title = fields.title ?? `Article ${fields.id}`;
  const html = fields.html ?? `<p>Body of ${fields.id}.</p>`;
  const article: Article = {
    file: `content/${fields.id}.md`,
    title,
    published: new Date('2025-07-23T09:58:11Z'),
    source: 'CBC News',
    topics: ['talks'],
    summary: `Summary of ${fields.id}.`,
    images: [],
    videos: [],
    credits: [],
    body: `Body of ${fields.id}.`,
    html,
    sections: [{ heading: null, blocks: [{ markdown: `Body of ${fields.id}.`, html, text: `Body of ${fields.id}.` }], topics: ['talks'] }],
    contentHash: '',
    ...fields,
  };
  return { ...article, contentHash: fields.contentHash ?? createHash('sha256').update(JSON.stringify({ ...article, contentHash: '' })).digest('hex') };
}

/** `count` articles published an hour apart from 2025-07-01, ids `a-001`…, oldest first. */
export function makeArticles(count: number): Article[] {
  return Array.from({ length: count }, (_, index) =>
    makeArticle({
      id: `a-${String(index + 1).padStart(3, '0')}`,
      published: new Date(Date.UTC(2025, 6, 1, index)),
    }),
  );
}

/** The article after an edit of its record: new fields, and so a new content hash. */
export function editArticle(article: Article, changes: Partial<Article>): Article {
  return makeArticle({ ...article, ...changes, contentHash: undefined });
}
